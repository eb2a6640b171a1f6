"""Import of households and residents from a spreadsheet (xlsx or csv), and the resident export.

Over 600 lines on purpose: one file format in one module, its columns, the checks of a row and
the import-export resource that applies them, which are read and changed together.

One row is one resident, with the address of their household. The headers are Chinese, as in
the committees' own registers, and are a file format: they do not change with the language of
the admin. `residents/samples/import_sample.xlsx` (and `.csv`) shows every column.

    社区编号  community code (required)
    网格编号  grid code, unique within its community (required)
    小区 楼栋 单元 房号  urban address: housing complex, building, unit, room
    村民组 门牌号        village address: village group, house number
                         (a row gives a 小区 or a 门牌号, or both)
    姓名      name (required)
    性别      男 or 女; left empty, it is read from the ID number
    出生日期  1990-01-31 (or 1990/01/31, 1990.01.31, 19900131, 1990年01月31日);
              left empty, it is read from the ID number
    身份证号  the 18-character ID number, check digit verified (required)
    电话      mobile or landline (optional)
    党员      是 or 否 (empty: 否)
    标签      tag names separated by , ， 、 or ; — existing tags only: an unknown name is an
              error, because tags carry visit schedules and are kept by the street admin; a
              typo must not make a new key population
    户主      是 or 否: this resident is the head of the household

The household is found by its grid and full address, or created. The import only creates:
an ID number that is already registered is an error, as is one given twice in the file.
The grid must be inside the importing user's area (`Grid.objects.for_user(user)`).

All or nothing: every row is checked before anything is written, the preview lists every
bad row with its errors, and a file with any bad row imports nothing. The lookups are a few
set-based queries for the whole file, and the writes are bulk inserts, so a village of a few
thousand residents imports in seconds.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _
from import_export import fields, resources, widgets
from import_export.formats import base_formats
from import_export.resources import Diff
from import_export.results import Result

from audit import services as audit
from audit.models import AuditEvent
from core.masking import id_number_for
from core.types import AnyUser
from core.validators import id_birth_date, id_gender, normalize_id_number, validate_id_number
from grids.models import Community, Grid
from residents.models import Household, Resident, Tag

COMMUNITY = "社区编号"
GRID = "网格编号"
COMPLEX = "小区"
BUILDING = "楼栋"
UNIT = "单元"
ROOM = "房号"
VILLAGE_GROUP = "村民组"
HOUSE_NUMBER = "门牌号"
NAME = "姓名"
GENDER = "性别"
BIRTH_DATE = "出生日期"
ID_NUMBER = "身份证号"
PHONE = "电话"
PARTY = "党员"
TAGS = "标签"
HEAD = "户主"

REQUIRED_COLUMNS = (COMMUNITY, GRID, NAME, ID_NUMBER)
ADDRESS = f"{COMPLEX}/{HOUSE_NUMBER}"  # where an error about the address as a whole goes
# Household field → column, in address order.
ADDRESS_COLUMNS = {
    "complex": COMPLEX,
    "building": BUILDING,
    "unit": UNIT,
    "room": ROOM,
    "village_group": VILLAGE_GROUP,
    "house_number": HOUSE_NUMBER,
}
# Resident field → column.
RESIDENT_COLUMNS = {
    "name": NAME,
    "gender": GENDER,
    "birth_date": BIRTH_DATE,
    "id_number": ID_NUMBER,
    "phone": PHONE,
    "is_party_member": PARTY,
}

GENDERS = {"男": Resident.Gender.MALE, "女": Resident.Gender.FEMALE}
GENDER_LABELS: dict[str, str] = {value: label for label, value in GENDERS.items()}
YES_NO = {"是": True, "否": False, "": False}
TAG_SEPARATORS = re.compile(r"[,，、;；]")
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日")
IN_BATCH = 500  # values per `__in` lookup: SQLite and PostgreSQL both take this comfortably


class FileRejected(ValueError):
    """The file as a whole cannot be imported (a required column is missing, or a row is bad)."""


# ---------------------------------------------------------------------------- reading cells


def cell_text(value: Any) -> str:
    """A cell as text. Spreadsheets hand over numbers for rooms and phones (101, 13800000000.0)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def parse_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = cell_text(value)
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def _batches(values: Iterable[Any], size: int = IN_BATCH) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for value in values:
        batch.append(value)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


# ---------------------------------------------------------------------------- planning


@dataclass
class RowPlan:
    """What one row of the file will create, or why it cannot."""

    number: int
    community_code: str = ""
    grid_code: str = ""
    address: dict[str, str] = field(default_factory=dict)
    resident: dict[str, Any] = field(default_factory=dict)  # Resident field → value
    tag_names: list[str] = field(default_factory=list)
    is_head: bool = False
    grid: Grid | None = None
    household: Household | None = None
    tags: list[Tag] = field(default_factory=list)
    errors: dict[str, list[str]] = field(default_factory=dict)  # column → messages

    def add_error(self, column: str, message: str) -> None:
        self.errors.setdefault(column, []).append(str(message))

    @property
    def address_key(self) -> tuple[Any, ...] | None:
        if self.grid is None:
            return None
        return (self.grid.pk, *(self.address[name] for name in ADDRESS_COLUMNS))


def _is_blank(row: dict[str, Any]) -> bool:
    return not any(cell_text(value) for value in row.values())


def _yes_no(plan: RowPlan, column: str, text: str) -> bool:
    if text in YES_NO:
        return YES_NO[text]
    plan.add_error(column, _("Write 是 or 否."))
    return False


def parse_row(number: int, row: dict[str, Any]) -> RowPlan:
    """Read one row on its own: required cells, formats, and what the ID number implies."""
    text = {column: cell_text(value) for column, value in row.items()}
    plan = RowPlan(number, community_code=text.get(COMMUNITY, ""), grid_code=text.get(GRID, ""))
    for column in REQUIRED_COLUMNS:
        if not text.get(column):
            plan.add_error(column, _("This column is required."))

    plan.address = {name: text.get(column, "") for name, column in ADDRESS_COLUMNS.items()}
    if not (plan.address["complex"] or plan.address["house_number"]):
        plan.add_error(
            ADDRESS, _("Give a housing complex (小区, urban) or a house number (门牌号, village).")
        )

    number_ = normalize_id_number(text.get(ID_NUMBER, ""))
    plan.resident = {"name": text.get(NAME, ""), "id_number": number_, "phone": text.get(PHONE, "")}
    id_is_valid = False
    if number_:
        try:
            validate_id_number(number_)
            id_is_valid = True
        except ValidationError as e:
            for message in e.messages:
                plan.add_error(ID_NUMBER, message)

    # Gender and birth date are inside the ID number: an empty cell takes them from there, a
    # filled one must agree with it (Resident.clean checks that).
    gender = text.get(GENDER, "")
    if gender in GENDERS:
        plan.resident["gender"] = GENDERS[gender]
    elif gender:
        plan.add_error(GENDER, _("Write 男 or 女."))
    elif id_is_valid:
        plan.resident["gender"] = id_gender(number_)
    born = row.get(BIRTH_DATE)
    if cell_text(born):
        try:
            plan.resident["birth_date"] = parse_date(born)
        except ValueError:
            plan.add_error(BIRTH_DATE, _("Write the date as 1990-01-31."))
    elif id_is_valid:
        plan.resident["birth_date"] = id_birth_date(number_)

    plan.resident["is_party_member"] = _yes_no(plan, PARTY, text.get(PARTY, ""))
    plan.is_head = _yes_no(plan, HEAD, text.get(HEAD, ""))
    names = (name.strip() for name in TAG_SEPARATORS.split(text.get(TAGS, "")))
    plan.tag_names = list(dict.fromkeys(name for name in names if name))
    return plan


def _resolve_grids(plans: Sequence[RowPlan], user: AnyUser | None) -> None:
    codes = {p.community_code for p in plans if p.community_code}
    grid_codes = {p.grid_code for p in plans if p.grid_code}
    known = set(Community.objects.filter(code__in=codes).values_list("code", flat=True))
    grids = {
        (g.community.code, g.code): g
        for g in Grid.objects.filter(community__code__in=codes, code__in=grid_codes).select_related(
            "community"
        )
    }
    in_scope = set(
        Grid.objects.for_user(user)
        .filter(pk__in=[g.pk for g in grids.values()])
        .values_list("pk", flat=True)
    )
    for p in plans:
        if not (p.community_code and p.grid_code):
            continue  # already reported as required
        grid = grids.get((p.community_code, p.grid_code))
        names = {"community": p.community_code, "grid": p.grid_code}
        if p.community_code not in known:
            p.add_error(COMMUNITY, _("No community has the code “%(community)s”.") % names)
        elif grid is None:
            p.add_error(GRID, _("Community “%(community)s” has no grid “%(grid)s”.") % names)
        elif grid.pk not in in_scope:
            p.add_error(
                GRID,
                _("Grid “%(grid)s” of community “%(community)s” is outside your area.") % names,
            )
        else:
            p.grid = grid


def _resolve_tags(plans: Sequence[RowPlan]) -> None:
    names = {name for p in plans for name in p.tag_names}
    known = {tag.name: tag for tag in Tag.objects.filter(name__in=names)}
    for p in plans:
        unknown = [name for name in p.tag_names if name not in known]
        if unknown:
            p.add_error(
                TAGS,
                _("Unknown tag: %(names)s. Only existing tags can be given.")
                % {"names": "、".join(unknown)},
            )
        p.tags = [known[name] for name in p.tag_names if name in known]


def _check_id_numbers(plans: Sequence[RowPlan]) -> None:
    """Each ID number once in the file, and not yet registered (anywhere: it is unique)."""
    rows_of: dict[str, list[RowPlan]] = defaultdict(list)
    for p in plans:
        if p.resident["id_number"]:
            rows_of[p.resident["id_number"]].append(p)
    for same in rows_of.values():
        if len(same) > 1:
            rows = ", ".join(str(p.number) for p in same)
            for p in same:
                p.add_error(
                    ID_NUMBER, _("The same ID number is on rows %(rows)s.") % {"rows": rows}
                )
    registered: set[str] = set()
    for batch in _batches(rows_of):
        registered |= set(
            Resident.objects.filter(id_number__in=batch).values_list("id_number", flat=True)
        )
    for number in registered:
        for p in rows_of[number]:
            p.add_error(ID_NUMBER, _("A resident with this ID number is already registered."))


def _resolve_households(plans: Sequence[RowPlan]) -> None:
    """Find each row's household by grid and address, or prepare a new (unsaved) one; check
    that a household gets at most one head."""
    placed = [p for p in plans if p.address_key is not None and ADDRESS not in p.errors]
    existing: dict[tuple[Any, ...], Household] = {}
    grids = {p.grid.pk: p.grid for p in placed if p.grid}
    complexes = {p.address["complex"] for p in placed if p.address["complex"]}
    house_numbers = {p.address["house_number"] for p in placed if p.address["house_number"]}
    for batch in _batches(grids):
        for household in Household.objects.filter(
            Q(complex__in=complexes) | Q(house_number__in=house_numbers), grid_id__in=batch
        ).only("id", "grid_id", "head_id", *ADDRESS_COLUMNS):
            household.grid = grids[household.grid_id]  # loaded already, with its community
            key = (household.grid_id, *(getattr(household, name) for name in ADDRESS_COLUMNS))
            existing[key] = household

    members: dict[tuple[Any, ...], list[RowPlan]] = defaultdict(list)
    for p in placed:
        where = p.address_key
        assert where is not None
        if where not in existing:
            existing[where] = Household(grid=p.grid, **p.address)
        p.household = existing[where]
        members[where].append(p)

    for key, rows in members.items():
        household = existing[key]
        if household.pk is None:
            try:
                # Lengths and formats; the grid is known, uniqueness was just looked up.
                household.full_clean(
                    exclude=["grid", "head"], validate_unique=False, validate_constraints=False
                )
            except ValidationError as e:
                for name, messages in e.message_dict.items():
                    for p in rows:
                        for message in messages:
                            p.add_error(ADDRESS_COLUMNS.get(name, ADDRESS), message)
        heads = [p for p in rows if p.is_head]
        if heads and household.head_id is not None:
            for p in heads:
                p.add_error(
                    HEAD,
                    _("This household already has a head; change it on the household's page."),
                )
        elif len(heads) > 1:
            numbers = ", ".join(str(p.number) for p in heads)
            for p in heads:
                p.add_error(
                    HEAD,
                    _("Rows %(rows)s all name a head of the same household.") % {"rows": numbers},
                )


def plan_rows(
    rows: Iterable[tuple[int, dict[str, Any]]], user: AnyUser | None
) -> dict[int, RowPlan]:
    """Check every row of a file against the others and the database; write nothing.

    `rows` are (row number, {header: cell}); blank rows are left out of the plan.
    """
    plans = {number: parse_row(number, row) for number, row in rows if not _is_blank(row)}
    ordered = list(plans.values())
    _resolve_grids(ordered, user)
    _resolve_tags(ordered)
    _check_id_numbers(ordered)
    _resolve_households(ordered)
    return plans


def create_households(plans: Iterable[RowPlan]) -> None:
    """Insert the new households of the plan, in bulk. Only ever inside the import's
    transaction: a file with a bad row rolls them back with everything else."""
    new: dict[int, Household] = {}
    for p in plans:
        if p.household is not None and p.household.pk is None:
            new[id(p.household)] = p.household
    Household.objects.bulk_create(new.values(), batch_size=1000)


# ---------------------------------------------------------------------------- formats


class CSV(base_formats.CSV):
    """CSV in UTF-8 (with or without a byte-order mark) or in GB18030, which is what Excel on a
    Chinese Windows writes. Exports carry the byte-order mark, so that Excel reads them as
    UTF-8 instead of showing mojibake."""

    def is_binary(self) -> bool:
        return True  # read the bytes, and decide on the encoding in create_dataset

    def get_read_mode(self) -> str:
        return "rb"

    def create_dataset(self, in_stream: Any, **kwargs: Any) -> Any:
        if isinstance(in_stream, bytes):
            try:
                in_stream = in_stream.decode("utf-8-sig")
            except UnicodeDecodeError:
                in_stream = in_stream.decode("gb18030")
        return super().create_dataset(in_stream, **kwargs)

    def export_data(self, dataset: Any, **kwargs: Any) -> str:
        return "\ufeff" + super().export_data(dataset, **kwargs)


XLSX = base_formats.XLSX


# ---------------------------------------------------------------------------- the resource


class MaskedResult(Result):
    """The table of bad rows repeats the cells of the file: mask the ID number there too."""

    def __init__(self, *args: Any, show_id: Callable[[str], str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.show_id = show_id

    def append_invalid_row(self, number: int, row: dict[str, Any], validation_error: Any) -> None:
        if ID_NUMBER in row:
            row = {**row, ID_NUMBER: self.show_id(cell_text(row[ID_NUMBER]))}
        super().append_invalid_row(number, row, validation_error)


class ExportedValuesDiff(Diff):
    """The preview shows each value as the export writes it (男/女, 是/否, masked ID number),
    not as the model stores it."""

    def __init__(self, resource: Any, instance: Any, new: bool) -> None:
        super().__init__(resource, instance, new)
        self.left = self._values(resource, instance)

    def compare_with(self, resource: Any, instance: Any, dry_run: bool = False) -> None:
        self.right = self._values(resource, instance)

    @staticmethod
    def _values(resource: Any, instance: Any) -> list[Any]:
        return [resource.export_field(f, instance) for f in resource.get_import_fields()]


def _column(column: str, attribute: str | None = None, **kwargs: Any) -> fields.Field:
    # readonly: the library never sets attributes from cells itself; plan_rows reads the row
    # as a whole, because one row holds a household, a resident, tags and a head flag.
    return fields.Field(attribute=attribute, column_name=column, readonly=True, **kwargs)


class ResidentResource(resources.ModelResource):
    """One row = one resident with their household's address. See the module docstring."""

    community = _column(COMMUNITY, "household__grid__community__code")
    grid = _column(GRID, "household__grid__code")
    complex = _column(COMPLEX, "household__complex")
    building = _column(BUILDING, "household__building")
    unit = _column(UNIT, "household__unit")
    room = _column(ROOM, "household__room")
    village_group = _column(VILLAGE_GROUP, "household__village_group")
    house_number = _column(HOUSE_NUMBER, "household__house_number")
    name = _column(NAME, "name")
    gender = _column(GENDER, "gender")
    birth_date = _column(BIRTH_DATE, "birth_date", widget=widgets.DateWidget("%Y-%m-%d"))
    id_number = _column(ID_NUMBER, "id_number")
    phone = _column(PHONE, "phone")
    is_party_member = _column(PARTY, "is_party_member")
    tags = _column(TAGS)
    head = _column(HEAD)

    class Meta:
        model = Resident
        fields = (
            "community", "grid", "complex", "building", "unit", "room", "village_group",
            "house_number", "name", "gender", "birth_date", "id_number", "phone",
            "is_party_member", "tags", "head",
        )  # fmt: skip
        import_order = export_order = fields
        force_init_instance = True  # the import creates; it never updates
        use_bulk = True
        report_skipped = False  # blank lines

    def __init__(self, user: AnyUser | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.user = user
        self.plans: dict[int, RowPlan] = {}
        self.saved: list[tuple[Resident, RowPlan]] = []

    def show_id(self, value: str | None) -> str:
        return id_number_for(self.user, value)

    # Per instance (the importing user's masking), where import-export has a classmethod that
    # returns a class: a partial that makes one does the same job.
    def get_result_class(self) -> Any:  # type: ignore[override]
        return functools.partial(MaskedResult, show_id=self.show_id)

    @classmethod
    def get_diff_class(cls) -> type[Diff]:
        return ExportedValuesDiff

    @classmethod
    def get_display_name(cls) -> str:
        return _("Residents with their households")

    # -- import

    def before_import(self, dataset: Any, **kwargs: Any) -> None:
        # The admin passes the importing user; the scope of the grids is theirs.
        user = kwargs.get("user", self.user)
        dataset.headers = [cell_text(h) for h in dataset.headers or []]
        missing = [c for c in REQUIRED_COLUMNS if c not in dataset.headers]
        if COMPLEX not in dataset.headers and HOUSE_NUMBER not in dataset.headers:
            missing.append(ADDRESS)
        if missing:
            raise FileRejected(
                _("The file has no column %(columns)s. The first row must hold the headers.")
                % {"columns": "、".join(missing)}
            )
        rows = (
            (number, dict(zip(dataset.headers, values, strict=False)))
            for number, values in enumerate(dataset, 1)
        )
        self.plans = plan_rows(rows, user)
        self.saved = []
        create_households(self.plans.values())

    def import_instance(self, instance: Resident, row: Any, **kwargs: Any) -> None:
        plan = self.plans.get(kwargs.get("row_number", 0))
        if plan is None:
            return  # a blank line (skip_row skips it)
        for name, value in plan.resident.items():
            setattr(instance, name, value)
        # None only on a row with errors, raised just below.
        instance.household = plan.household  # type: ignore[assignment]
        instance._import_plan = plan  # type: ignore[attr-defined]
        if plan.errors:
            raise ValidationError(plan.errors)

    def skip_row(self, instance: Resident, original: Any, row: Any, *args: Any, **kw: Any) -> bool:
        return getattr(instance, "_import_plan", None) is None

    def validate_instance(
        self, instance: Resident, import_validation_errors: Any = None, validate_unique: Any = True
    ) -> None:
        """The model's own checks (lengths, phone format, birth date and gender against the ID
        number), reported under the file's column names."""
        errors: dict[str, list[Any]] = {
            column: list(messages) for column, messages in (import_validation_errors or {}).items()
        }
        exclude = {"household", "user"}
        exclude |= {name for name, column in RESIDENT_COLUMNS.items() if column in errors}
        if ID_NUMBER in errors:
            exclude |= {"birth_date", "gender"}  # unknown: they come from the ID number
        try:
            # Uniqueness was checked for the whole file at once in plan_rows.
            instance.full_clean(exclude=exclude, validate_unique=False)
        except ValidationError as e:
            for name, messages in e.message_dict.items():
                column = RESIDENT_COLUMNS.get(name, NON_FIELD_ERRORS)
                errors.setdefault(column, []).extend(messages)
        if errors:
            raise ValidationError(errors)

    def after_save_instance(self, instance: Resident, row: Any, **kwargs: Any) -> None:
        self.saved.append((instance, instance._import_plan))  # type: ignore[attr-defined]

    def after_import(self, dataset: Any, result: Result, **kwargs: Any) -> None:
        """Tags and heads of household for the inserted residents, in bulk.

        ModelResource resets the id sequences here; ids are never imported, so there is
        nothing to reset.
        """
        if result.has_validation_errors() and not kwargs.get("dry_run"):
            # The admin never confirms a file with bad rows; any other caller gets the same
            # rule: raising here rolls back the whole import.
            raise FileRejected(
                _("Nothing was imported: %(count)d rows have errors.")
                % {"count": len(result.invalid_rows)}
            )
        if result.has_errors() or result.has_validation_errors():
            return
        through = Resident.tags.through
        through.objects.bulk_create(
            [
                through(resident_id=resident.pk, tag_id=tag.pk)
                for resident, plan in self.saved
                for tag in plan.tags
            ],
            batch_size=1000,
        )
        heads = []
        for resident, plan in self.saved:
            if plan.is_head and plan.household is not None:
                plan.household.head_id = resident.pk
                heads.append(plan.household)
        Household.objects.bulk_update(heads, ["head"], batch_size=1000)
        if not kwargs.get("dry_run") and self.saved:
            # Bulk inserts send no signal: the import is one row of the audit log.
            audit.record(
                action=AuditEvent.Action.IMPORT,
                object_type=audit.RESIDENT,
                description=_("Imported %(count)d residents from a spreadsheet")
                % {"count": len(self.saved)},
                user=self.user,
            )

    # -- export (and the preview)

    def filter_export(self, queryset: Any, **kwargs: Any) -> Any:
        return queryset.select_related("household__grid__community").prefetch_related("tags")

    def dehydrate_gender(self, resident: Resident) -> str:
        return GENDER_LABELS.get(resident.gender, "")

    def dehydrate_id_number(self, resident: Resident) -> str:
        return self.show_id(resident.id_number)

    def dehydrate_is_party_member(self, resident: Resident) -> str:
        return "是" if resident.is_party_member else "否"

    def dehydrate_tags(self, resident: Resident) -> str:
        plan = getattr(resident, "_import_plan", None)
        if plan is not None:
            return "、".join(plan.tag_names)
        if resident.pk is None:
            return ""
        return "、".join(tag.name for tag in resident.tags.all())

    def dehydrate_head(self, resident: Resident) -> str:
        plan = getattr(resident, "_import_plan", None)
        if plan is not None:
            return "是" if plan.is_head else "否"
        if resident.household_id is None:
            return ""
        return "是" if resident.household.head_id == resident.pk else "否"
