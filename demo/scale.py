"""A synthetic district at scale (design §10: 1,000,000 residents in ~1,100 grids), set-based.

Over 600 lines on purpose: a self-contained generator (word pools, the bulk writer, build_scale)
used only by the scale command and the benchmarks, read top to bottom.

`build_scale(residents=N)` makes a new street of communities of (by default) ten grids of
900–1,000 residents, households of about 2.8 people, key-population tags on about 5% of the
residents, one grid worker (with a login and a current assignment) per grid, and one visit in
the last 60 days to about half of the households, so that "visits due" has realistic work.

Nothing is saved row by row. The small tables (street, communities, users, workers, grids,
assignments) go in with `bulk_create`. The big ones (households, residents, their tags, visits)
are generated in Python in chunks of `chunk_residents` and written with one statement per table
per chunk: on PostgreSQL `COPY … FROM STDIN`, elsewhere one `executemany` INSERT. Their primary
keys are reserved up front (PostgreSQL: `nextval` over `generate_series`; SQLite: after the
current maximum, under the write lock), so households can point at their head and residents at
their household without reading anything back. The whole build is one transaction.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.utils import timezone

from core import roles
from core.validators import make_id_number
from demo.parts.residents import ensure_tags
from demo.tables import (
    COMMON_SURNAMES,
    GIVEN_NAMES,
    MOBILE_PREFIXES,
    SURNAMES,
    VISIT_METHOD_WEIGHTS,
    VISIT_NOTES,
)
from grids.models import Community, Grid, GridAssignment, GridWorker, Street
from residents.models import Household, Resident, Visit

# County-level region codes (Henan: 漯河, 周口) for the generated ID numbers. 411103 and 411104
# are left to the demo data and the test factories. A build uses the first codes that no
# resident has yet, so two scale streets in one database never collide.
REGION_POOL = (
    "411102",
    "411121",
    "411122",
    "411602",
    "411603",
    "411621",
    "411622",
    "411623",
    "411624",
    "411625",
    "411627",
    "411628",
    "411681",
    "410102",
    "410103",
    "410104",
    "410105",
    "410108",
)
PER_BIRTH_DATE = 500  # sequence numbers per (region, birth date, gender): 000–999, odd for men

COMMUNITY_WORDS = (
    "幸福",
    "和平",
    "建设",
    "人民",
    "光明",
    "东风",
    "新华",
    "胜利",
    "文化",
    "团结",
    "繁荣",
    "振兴",
    "黄河",
    "嵩山",
    "淮河",
    "沙河",
    "澧河",
    "金山",
    "银杏",
    "丹桂",
    "翠竹",
    "松林",
    "桃园",
    "柳荫",
)
COMPLEX_WORDS = (
    "黄山",
    "天山",
    "泰山",
    "华山",
    "衡山",
    "恒山",
    "庐山",
    "峨眉",
    "昆仑",
    "祁连",
    "太行",
    "燕山",
    "锦绣",
    "阳光",
    "书香",
    "御景",
    "翰林",
    "滨河",
    "名都",
    "花园",
    "雅苑",
    "康城",
    "盛世",
    "龙湖",
)
VILLAGE_GROUPS = ("一组", "二组", "三组", "四组", "五组", "六组", "七组", "八组", "九组", "十组")

HOUSEHOLD_SIZES = ((1, 14), (2, 29), (3, 30), (4, 16), (5, 11))  # mean ≈ 2.8
VILLAGE_EVERY = 4  # every fourth community is a village (村), the rest urban (社区)
VISITED_SHARE = 0.5  # households with one visit in the last 60 days
ALONE_VISITED_SHARE = 0.9  # … and of elderly people living alone, visited in the last 14 days


class ScaleError(Exception):
    """The build cannot start (bad options, or the street code is taken)."""


@dataclass
class ScaleReport:
    street_code: str
    street_id: int = 0
    communities: int = 0
    grids: int = 0
    workers: int = 0
    households: int = 0
    residents: int = 0
    tagged_residents: int = 0
    resident_tags: int = 0
    visits: int = 0
    regions: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def lines(self) -> list[str]:
        return [
            f"street {self.street_code!r} (id {self.street_id}): {self.communities:,} communities,"
            f" {self.grids:,} grids, {self.workers:,} grid workers",
            f"{self.households:,} households, {self.residents:,} residents"
            f" ({self.residents / max(self.households, 1):.2f} per household)",
            f"{self.tagged_residents:,} tagged residents"
            f" ({100 * self.tagged_residents / max(self.residents, 1):.1f}%),"
            f" {self.resident_tags:,} tags, {self.visits:,} visits",
            f"ID number regions: {', '.join(self.regions)}",
            f"built in {self.seconds:.1f} s",
        ]


def _column(field: object) -> str:
    """A concrete field's database column (the stubs allow None, as a reverse relation has)."""
    column = getattr(field, "column", None)
    if not isinstance(column, str):
        raise TypeError(f"{field} has no column")
    return column


class BulkWriter:
    """One statement per table per chunk: COPY on PostgreSQL, an executemany INSERT elsewhere."""

    def __init__(self, using: str = DEFAULT_DB_ALIAS) -> None:
        self.connection = connections[using]
        self.postgres = self.connection.vendor == "postgresql"

    def reserve_ids(self, model: type[models.Model], n: int) -> list[int]:
        if n <= 0:
            return []
        table, pk = model._meta.db_table, _column(model._meta.pk)
        with self.connection.cursor() as cursor:
            if self.postgres:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                    [self.connection.ops.quote_name(table), pk, n],
                )
                return [row[0] for row in cursor.fetchall()]
            qn = self.connection.ops.quote_name
            cursor.execute(f"SELECT COALESCE(MAX({qn(pk)}), 0) FROM {qn(table)}")
            start = cursor.fetchone()[0] + 1
            return list(range(start, start + n))

    def insert(
        self, model: type[models.Model], names: Sequence[str], rows: list[tuple[Any, ...]]
    ) -> None:
        """Insert `rows` (tuples of Python values in the order of the field `names`)."""
        if not rows:
            return
        qn = self.connection.ops.quote_name
        fields = [model._meta.get_field(name) for name in names]
        table = qn(model._meta.db_table)
        columns = ", ".join(qn(_column(f)) for f in fields)
        with self.connection.cursor() as cursor:
            if self.postgres:
                sql = f"COPY {table} ({columns}) FROM STDIN"
                started = time.monotonic()
                with cursor.cursor.copy(sql) as copy:
                    for row in rows:
                        copy.write_row(row)
                # COPY bypasses the cursor wrapper: log it like a query, so that
                # CaptureQueriesContext and debug tooling see the statement.
                if self.connection.queries_logged:
                    self.connection.queries_log.append(
                        {
                            "sql": f"{sql} /* {len(rows)} rows */",
                            "time": f"{time.monotonic() - started:.3f}",
                        }
                    )
            else:
                connection = self.connection

                def prep_for(f: Any) -> Callable[[Any], Any]:
                    return lambda v: f.get_db_prep_save(v, connection=connection)

                preps = [prep_for(f) for f in fields]
                values = [tuple(p(v) for p, v in zip(preps, row, strict=True)) for row in rows]
                placeholders = ", ".join(["%s"] * len(fields))
                cursor.executemany(
                    f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", values
                )

    def analyze(self, models_: Sequence[type[models.Model]]) -> None:
        if not self.postgres:
            return
        qn = self.connection.ops.quote_name
        with self.connection.cursor() as cursor:
            for m in models_:
                cursor.execute(f"ANALYZE {qn(m._meta.db_table)}")


def _grid_sizes(total: int, size: tuple[int, int], rng: random.Random) -> list[int]:
    lo, hi = size
    sizes: list[int] = []
    left = total
    while left > 0:
        n = min(rng.randint(lo, hi), left)
        sizes.append(n)
        left -= n
    return sizes


def _free_regions(count: int) -> list[str]:
    free = [r for r in REGION_POOL if not Resident.objects.filter(id_number__startswith=r).exists()]
    if len(free) < count:
        raise ScaleError(
            f"Need {count} unused ID number regions, only {len(free)} left in REGION_POOL."
        )
    return free[:count]


class _People:
    """Draws residents: ages, names, ID numbers (unique per region × birth date × sequence)."""

    def __init__(self, rng: random.Random, regions: list[str], today: dt.date) -> None:
        self.rng = rng
        self.regions = regions
        self.today_ordinal = today.toordinal()
        self.surnames = list(SURNAMES) + list(COMMON_SURNAMES) * 2
        self.used: dict[tuple[int, str], int] = {}
        self.names = {key: list(value) for key, value in GIVEN_NAMES.items()}

    def born(self, age: int) -> dt.date:
        ordinal = self.today_ordinal - age * 365 - self.rng.randrange(1, 365)
        return dt.date.fromordinal(ordinal)

    def id_number(self, born: dt.date, gender: str) -> str:
        key = (born.toordinal(), gender)
        k = self.used.get(key, 0)
        self.used[key] = k + 1
        region = k // PER_BIRTH_DATE
        if region >= len(self.regions):
            raise ScaleError("ID number space exhausted: give the build more regions.")
        sequence = 2 * (k % PER_BIRTH_DATE) + (1 if gender == "M" else 0)
        return make_id_number(self.regions[region], born, sequence)

    def name(self, surname: str, gender: str, born: dt.date) -> str:
        year = born.year
        generation = (
            "old" if year < 1960 else "mid" if year < 1985 else "young" if year < 2005 else "child"
        )
        return surname + self.rng.choice(self.names[(gender, generation)])

    def surname(self) -> str:
        return self.rng.choice(self.surnames)

    def phone(self, age: int) -> str:
        if age < 16 or self.rng.random() < (0.5 if age >= 75 else 0.15):
            return ""
        return self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"

    def household(self, size: int) -> list[tuple[str, int]]:
        """(gender, age) of each member, head first."""
        rng = self.rng
        if size == 1:
            age = rng.randint(65, 92) if rng.random() < 0.5 else rng.randint(20, 64)
            return [(rng.choice("MF"), age)]
        head_gender = "M" if rng.random() < 0.8 else "F"
        head_age = rng.randint(26, 80)
        members = [
            (head_gender, head_age),
            ("F" if head_gender == "M" else "M", max(20, head_age + rng.randint(-4, 3))),
        ]
        rest = size - 2
        if rest >= 2 and head_age < 58 and rng.random() < 0.6:
            members.append((rng.choice("MF"), min(95, head_age + rng.randint(22, 32))))
            rest -= 1
        for _ in range(rest):
            members.append((rng.choice("MF"), max(0, head_age - rng.randint(22, 36))))
        return members


def build_scale(
    *,
    residents: int,
    grid_size: tuple[int, int] = (900, 1000),
    grids_per_community: int = 10,
    street_code: str = "scale",
    seed: int = 1,
    chunk_residents: int = 100_000,
    analyze: bool = True,
    using: str = DEFAULT_DB_ALIAS,
    progress: Callable[[str], None] | None = None,
) -> ScaleReport:
    """Build the synthetic street `street_code` with `residents` residents. See the module doc."""
    started = time.monotonic()
    lo, hi = grid_size
    if residents < 1:
        raise ScaleError("--residents must be at least 1.")
    if not 1 <= lo <= hi:
        raise ScaleError("--grid-size must be N or MIN-MAX with 1 <= MIN <= MAX.")
    if grids_per_community < 1:
        raise ScaleError("--grids-per-community must be at least 1.")
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,20}", street_code):
        raise ScaleError("--street-code: up to 20 letters, digits, '-' or '_'.")
    street_name = f"规模测试街道 ({street_code})"
    User = get_user_model()
    worker_prefix, community_prefix = f"{street_code}-w", f"{street_code}-c"
    if (
        Street.objects.filter(code=street_code).exists()
        or Street.objects.filter(name=street_name).exists()
        or Community.objects.filter(code__startswith=community_prefix).exists()
        or User.objects.filter(username__startswith=worker_prefix).exists()
    ):
        raise ScaleError(
            f"Street code {street_code!r} is already used (a street, its communities or its "
            f"workers exist): pick another --street-code."
        )

    rng = random.Random(seed)
    today = timezone.localdate()
    now = timezone.now()
    report = ScaleReport(street_code=street_code)
    say = progress or (lambda message: None)
    writer = BulkWriter(using)
    sizes = _grid_sizes(residents, (lo, hi), rng)
    n_grids = len(sizes)
    n_communities = math.ceil(n_grids / grids_per_community)
    # About 40 people share a (birth date, gender) at 1,000,000: one region is plenty; more
    # regions only for very large builds.
    regions = _free_regions(max(1, math.ceil(residents / 5_000_000)))
    report.regions = regions

    with transaction.atomic(using=using):
        tags = ensure_tags(reset=False)
        street = Street.objects.create(code=street_code, name=street_name)
        communities = Community.objects.bulk_create(
            [
                Community(
                    street=street,
                    code=f"{community_prefix}{i + 1:04d}",
                    name=(
                        f"{COMMUNITY_WORDS[i % len(COMMUNITY_WORDS)]}"
                        f"{'' if i < len(COMMUNITY_WORDS) else i // len(COMMUNITY_WORDS) + 1}"
                        f"{'村' if i % VILLAGE_EVERY == VILLAGE_EVERY - 1 else '社区'}"
                    ),
                    kind=(
                        Community.Kind.VILLAGE
                        if i % VILLAGE_EVERY == VILLAGE_EVERY - 1
                        else Community.Kind.URBAN
                    ),
                )
                for i in range(n_communities)
            ]
        )
        community_of = [communities[g // grids_per_community] for g in range(n_grids)]

        # One grid worker per grid: a login (no usable password), the role group, the worker.
        people = _People(rng, regions, today)
        worker_names = [
            people.name(people.surname(), g, people.born(rng.randint(25, 50)))
            for g in rng.choices("MF", k=n_grids)
        ]
        users = User.objects.bulk_create(
            [
                User(
                    username=f"{worker_prefix}{g + 1:05d}",
                    first_name=worker_names[g],
                    password=make_password(None),
                    is_staff=True,
                )
                for g in range(n_grids)
            ]
        )
        group = Group.objects.get(name=roles.GRID_WORKER)
        Through = User.groups.through
        Through.objects.bulk_create([Through(user_id=u.pk, group_id=group.pk) for u in users])
        workers = GridWorker.objects.bulk_create(
            [
                GridWorker(
                    user=users[g],
                    community=community_of[g],
                    name=worker_names[g],
                    kind=GridWorker.Kind.FULL_TIME,
                    phone=rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}",
                    is_party_member=rng.random() < 0.6,
                )
                for g in range(n_grids)
            ]
        )
        grids = Grid.objects.bulk_create(
            [
                Grid(
                    community=community_of[g],
                    code=f"G{g % grids_per_community + 1:02d}",
                    name=f"第{g % grids_per_community + 1}网格",
                    kind=Grid.Kind.RESIDENTIAL,
                    leader=workers[g],
                )
                for g in range(n_grids)
            ]
        )
        GridAssignment.objects.bulk_create(
            [
                GridAssignment(worker=workers[g], grid=grids[g], start_date=dt.date(2024, 1, 1))
                for g in range(n_grids)
            ]
        )
        report.street_id = street.pk
        report.communities, report.grids, report.workers = n_communities, n_grids, n_grids
        say(f"{n_communities:,} communities, {n_grids:,} grids and workers")

        chunk: list[int] = []
        chunk_size = 0
        for g in range(n_grids):
            chunk.append(g)
            chunk_size += sizes[g]
            if chunk_size >= chunk_residents or g == n_grids - 1:
                _write_chunk(
                    chunk,
                    sizes,
                    grids,
                    workers,
                    community_of,
                    people,
                    tags,
                    writer,
                    rng,
                    now,
                    report,
                )
                say(
                    f"{report.residents:,} residents in {report.households:,} households"
                    f" ({time.monotonic() - started:.0f} s)"
                )
                chunk, chunk_size = [], 0

    if analyze:
        writer.analyze([Household, Resident, Resident.tags.through, Visit])
    report.seconds = time.monotonic() - started
    return report


def _write_chunk(
    chunk: list[int],
    sizes: list[int],
    grids: list[Grid],
    workers: list[GridWorker],
    community_of: list[Community],
    people: _People,
    tags: dict[str, Any],
    writer: BulkWriter,
    rng: random.Random,
    now: dt.datetime,
    report: ScaleReport,
) -> None:
    """Generate and write the households, residents, tags and visits of the grids in `chunk`."""
    size_values = [s for s, _ in HOUSEHOLD_SIZES]
    size_weights = [w for _, w in HOUSEHOLD_SIZES]
    layout: list[tuple[int, list[int]]] = []  # (grid index, household sizes)
    for g in chunk:
        left, household_sizes = sizes[g], []
        while left > 0:
            n = min(rng.choices(size_values, size_weights)[0], left)
            household_sizes.append(n)
            left -= n
        layout.append((g, household_sizes))
    n_households = sum(len(hs) for _, hs in layout)
    n_residents = sum(sizes[g] for g in chunk)
    household_ids = iter(writer.reserve_ids(Household, n_households))
    resident_ids = iter(writer.reserve_ids(Resident, n_residents))

    tag = {name: t.pk for name, t in tags.items()}
    methods = [m for m, _ in VISIT_METHOD_WEIGHTS]
    method_weights = [w for _, w in VISIT_METHOD_WEIGHTS]
    household_rows: list[tuple[Any, ...]] = []
    resident_rows: list[tuple[Any, ...]] = []
    tag_rows: list[tuple[int, int]] = []
    visit_rows: list[tuple[Any, ...]] = []
    tagged = 0
    for g, household_sizes in layout:
        grid, worker = grids[g], workers[g]
        village = community_of[g].kind == Community.Kind.VILLAGE
        complex_name = f"{COMPLEX_WORDS[g % len(COMPLEX_WORDS)]}小区"
        for h, size in enumerate(household_sizes):
            household_id = next(household_ids)
            if village:
                group = VILLAGE_GROUPS[min(h // 60, len(VILLAGE_GROUPS) - 1)]
                address = ("", "", "", "", group, str(h + 1))
            else:
                address = (
                    complex_name,
                    str(h // 36 + 1),
                    str(h // 12 % 3 + 1),
                    f"{h % 12 // 2 + 1}0{h % 2 + 1}",
                    "",
                    "",
                )
            surname = people.surname()
            head_id = 0
            alone_elder = False
            for i, (gender, age) in enumerate(people.household(size)):
                resident_id = next(resident_ids)
                head_id = head_id or resident_id
                born = people.born(age)
                own = surname if i != 1 else people.surname()  # the spouse keeps their name
                party = age >= 25 and rng.random() < 0.07
                resident_rows.append(
                    (
                        resident_id,
                        household_id,
                        people.name(own, gender, born),
                        gender,
                        born,
                        people.id_number(born, gender),
                        people.phone(age),
                        party,
                    )
                )
                names: list[str] = []
                if size == 1 and age >= 65 and rng.random() < 0.8:
                    names.append("独居老人")
                    alone_elder = True
                if rng.random() < 0.012:
                    names.append("残疾人")
                if i == 0 and rng.random() < 0.025:
                    names.append("困难家庭")
                if i == 0 and village and rng.random() < 0.04:
                    names.append("脱贫户")
                if gender == "M" and age >= 35 and rng.random() < 0.02:
                    names.append("退役军人")
                if names:
                    tagged += 1
                    tag_rows.extend((resident_id, tag[n]) for n in names)
            household_rows.append((household_id, grid.pk, *address, head_id))
            if rng.random() < (ALONE_VISITED_SHARE if alone_elder else VISITED_SHARE):
                method = rng.choices(methods, method_weights)[0]
                ago = rng.uniform(0, 14 if alone_elder else 60)
                visit_rows.append(
                    (
                        worker.pk,
                        household_id,
                        now - dt.timedelta(days=ago),
                        method,
                        rng.choice(VISIT_NOTES[method]),
                        None,
                    )
                )

    writer.insert(
        Household,
        (
            "id",
            "grid",
            "complex",
            "building",
            "unit",
            "room",
            "village_group",
            "house_number",
            "head",
        ),
        household_rows,
    )
    writer.insert(
        Resident,
        (
            "id",
            "household",
            "name",
            "gender",
            "birth_date",
            "id_number",
            "phone",
            "is_party_member",
        ),
        resident_rows,
    )
    writer.insert(Resident.tags.through, ("resident", "tag"), tag_rows)
    writer.insert(
        Visit, ("worker", "household", "visited_at", "method", "notes", "follow_up_on"), visit_rows
    )
    report.households += len(household_rows)
    report.residents += len(resident_rows)
    report.tagged_residents += tagged
    report.resident_tags += len(tag_rows)
    report.visits += len(visit_rows)
