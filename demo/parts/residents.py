"""The demo street's people: the key-population tags, and every household, resident and visit
of the plan.

The plan (`build_plan`) is a pure function of demo.tables: it never looks at the database or the
clock, so every run asks for exactly the same rows. `seed_residents` then writes it with
get_or_create / update_or_create on natural keys (ID numbers, addresses), so running it again
creates nothing new; it only resets what drifted (the dates of the demo visits, which are kept
relative to today so the "due for a visit" list always shows overdue, due and never-visited
people, and 赵银名's `resident` login's password).
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from core import roles
from core.validators import id_birth_date, id_gender, make_id_number
from demo.context import DemoContext, DemoLogin
from demo.tables import (
    AGE_REFERENCE_YEAR,
    COMMON_SURNAMES,
    COMMUNITIES,
    GIVEN_NAMES,
    GRIDS,
    MOBILE_PREFIXES,
    NAMED_HOUSEHOLDS,
    RANDOM_SEED,
    RESIDENT_LOGIN_SEES,
    STAFF,
    SURNAMES,
    TAGS,
    VILLAGE_SURNAME,
    VISIT_METHOD_WEIGHTS,
    VISIT_NOTES,
    VISITED_SHARE,
    GridSpec,
    PersonSpec,
    VisitSpec,
)
from residents.models import Absence, Household, Resident, Tag, Visit

_OP = Visit.Method.OFF_PEAK

# ================================================================================ the plan


@dataclass(frozen=True)
class PlannedResident:
    name: str
    gender: str
    born: dt.date
    id_number: str
    phone: str
    party_member: bool
    tags: tuple[str, ...]
    login: str = ""


@dataclass(frozen=True)
class PlannedHousehold:
    community: str
    grid: str
    complex: str
    building: str
    unit: str
    room: str
    village_group: str
    house_number: str
    residents: tuple[PlannedResident, ...]
    visits: tuple[VisitSpec, ...]


def _generation(born_year: int) -> str:
    if born_year < 1960:
        return "old"
    if born_year < 1985:
        return "mid"
    if born_year < 2005:
        return "young"
    return "child"


class _Generator:
    """Draws people and addresses from the name tables with a fixed seed."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.surnames = list(SURNAMES) + list(COMMON_SURNAMES) * 2

    def born(self, age_from: int, age_to: int) -> dt.date:
        year = AGE_REFERENCE_YEAR - self.rng.randint(age_from, age_to)
        return dt.date(year, 1, 1) + dt.timedelta(days=self.rng.randrange(365))

    def surname(self, village: bool) -> str:
        if village and self.rng.random() < 0.6:
            return VILLAGE_SURNAME
        return self.rng.choice(self.surnames)

    def given(self, gender: str, born: dt.date) -> str:
        return self.rng.choice(GIVEN_NAMES[(gender, _generation(born.year))])

    def phone(self) -> str:
        return self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"

    def person(
        self, *, surname: str, gender: str, age: tuple[int, int]
    ) -> tuple[str, str, dt.date]:
        born = self.born(*age)
        return surname + self.given(gender, born), gender, born

    def family(self, village: bool) -> list[tuple[str, str, dt.date]]:
        """One household's members, head first: a realistic mix of sizes (about 2.8)."""
        rng = self.rng
        kind = rng.choices(
            ("elder_alone", "elder_couple", "couple", "family", "three_generations", "single"),
            weights=(12, 16, 14, 32, 18, 8),
        )[0]
        surname = self.surname(village)
        head_gender = "M" if rng.random() < 0.8 else "F"
        other = "F" if head_gender == "M" else "M"
        if kind == "elder_alone":
            return [self.person(surname=surname, gender=rng.choice("MF"), age=(68, 92))]
        if kind == "single":
            return [self.person(surname=surname, gender=head_gender, age=(22, 45))]
        if kind == "elder_couple":
            age = rng.randint(62, 88)
            return [
                self.person(surname=surname, gender="M", age=(age, age)),
                self.person(surname=self.surname(village), gender="F", age=(age - 5, age)),
            ]
        head_age = rng.randint(28, 56)
        members = [
            self.person(surname=surname, gender=head_gender, age=(head_age, head_age)),
            self.person(
                surname=self.surname(village), gender=other, age=(head_age - 3, head_age + 2)
            ),
        ]
        if kind == "couple":
            return members
        for _ in range(rng.choice((1, 1, 1, 2, 2))):
            child_age = max(0, head_age - rng.randint(23, 36))
            members.append(
                self.person(surname=surname, gender=rng.choice("MF"), age=(child_age, child_age))
            )
        if kind == "three_generations":
            old_age = min(95, head_age + rng.randint(22, 32))
            members.insert(0, self.person(surname=surname, gender="M", age=(old_age, old_age)))
            if rng.random() < 0.5:
                members.insert(
                    1,
                    self.person(
                        surname=self.surname(village), gender="F", age=(old_age - 4, old_age)
                    ),
                )
        return members


def _urban_address(gen: _Generator, spec: GridSpec, used: set[tuple[str, ...]]) -> tuple[str, ...]:
    lo, hi = spec.buildings
    while True:
        floor, door = gen.rng.randint(1, 6), gen.rng.randint(1, 2)
        address = (str(gen.rng.randint(lo, hi)), str(gen.rng.randint(1, 3)), f"{floor}0{door}")
        if address not in used:
            used.add(address)
            return address


def build_plan(seed: int = RANDOM_SEED) -> list[PlannedHousehold]:
    """Every household and resident of the demo, as a pure function of the tables."""
    gen = _Generator(seed)
    regions = {c.code: c.region for c in COMMUNITIES}
    counters: Counter[str] = Counter()  # per region: people numbered so far
    ids: set[str] = set()
    workers_of = {
        (s.community, g): s.username for s in STAFF if s.role == roles.GRID_WORKER for g in s.grids
    }

    def resident(community: str, spec: PersonSpec) -> PlannedResident:
        region = regions[community]
        n = counters[region]
        counters[region] += 1
        # 000–999 sequence: odd for men, even for women; unique per region for < 500 people.
        sequence = 2 * (n % 500) + (1 if spec.gender == "M" else 0)
        id_number = make_id_number(region, spec.born, sequence)
        if id_number in ids or n >= 500:
            raise ValueError(f"demo ID number space exhausted in region {region}")
        ids.add(id_number)
        age = AGE_REFERENCE_YEAR - spec.born.year
        if spec.phone is not None:
            phone = spec.phone
        else:
            phone = gen.phone() if age >= 16 and (age < 75 or gen.rng.random() < 0.5) else ""
        tags = tuple(dict.fromkeys(spec.tags + (("党员",) if spec.party_member else ())))
        return PlannedResident(
            name=spec.name,
            gender=spec.gender,
            born=spec.born,
            id_number=id_number,
            phone=phone,
            party_member=spec.party_member,
            tags=tags,
            login=spec.login,
        )

    plan: list[PlannedHousehold] = []
    for h in NAMED_HOUSEHOLDS:
        plan.append(
            PlannedHousehold(
                community=h.community,
                grid=h.grid,
                complex=h.complex,
                building=h.building,
                unit=h.unit,
                room=h.room,
                village_group=h.village_group,
                house_number=h.house_number,
                residents=tuple(resident(h.community, m) for m in h.members),
                visits=h.visits,
            )
        )

    for spec in GRIDS:
        if not spec.households:
            continue
        village = bool(spec.village_group)
        used_urban: set[tuple[str, ...]] = {
            (h.building, h.unit, h.room)
            for h in NAMED_HOUSEHOLDS
            if (h.community, h.grid) == (spec.community, spec.code)
        }
        used_numbers = {
            h.house_number
            for h in NAMED_HOUSEHOLDS
            if (h.community, h.grid) == (spec.community, spec.code)
        }
        next_number = 1
        for _ in range(spec.households):
            members = []
            for name, gender, born in gen.family(village):
                age = AGE_REFERENCE_YEAR - born.year
                party = age >= 25 and gen.rng.random() < 0.08
                tags: list[str] = []
                if age >= 40 and gender == "M" and gen.rng.random() < 0.05:
                    tags.append("退役军人")
                if gen.rng.random() < 0.03:
                    tags.append("残疾人")
                members.append(PersonSpec(name, gender, born, tags=tuple(tags), party_member=party))
            head_age = AGE_REFERENCE_YEAR - members[0].born.year
            if len(members) == 1 and head_age >= 68 and gen.rng.random() < 0.7:
                members[0] = _with_tag(members[0], "独居老人")
            if gen.rng.random() < 0.06:
                members[0] = _with_tag(members[0], "困难家庭")
            if village and gen.rng.random() < 0.08:
                members[0] = _with_tag(members[0], "脱贫户")

            if village:
                while str(next_number) in used_numbers:
                    next_number += 1
                used_numbers.add(str(next_number))
                address = {"village_group": spec.village_group, "house_number": str(next_number)}
                next_number += gen.rng.randint(1, 3)
            else:
                building, unit, room = _urban_address(gen, spec, used_urban)
                address = {
                    "complex": spec.complex,
                    "building": building,
                    "unit": unit,
                    "room": room,
                }

            visits: tuple[VisitSpec, ...] = ()
            if gen.rng.random() < VISITED_SHARE:
                method = gen.rng.choices(
                    [m for m, _ in VISIT_METHOD_WEIGHTS], [w for _, w in VISIT_METHOD_WEIGHTS]
                )[0]
                visits = (
                    VisitSpec(
                        workers_of[(spec.community, spec.code)],
                        gen.rng.randint(1, 60),
                        method,
                        gen.rng.choice(VISIT_NOTES[method]),
                        hour=gen.rng.choice((19, 20)) if method == _OP else gen.rng.randint(9, 17),
                    ),
                )
            plan.append(
                PlannedHousehold(
                    community=spec.community,
                    grid=spec.code,
                    complex=address.get("complex", ""),
                    building=address.get("building", ""),
                    unit=address.get("unit", ""),
                    room=address.get("room", ""),
                    village_group=address.get("village_group", ""),
                    house_number=address.get("house_number", ""),
                    residents=tuple(resident(spec.community, m) for m in members),
                    visits=visits,
                )
            )
    return plan


def _with_tag(person: PersonSpec, tag: str) -> PersonSpec:
    return PersonSpec(
        person.name,
        person.gender,
        person.born,
        person.tags + (tag,),
        person.party_member,
        person.phone,
        person.login,
    )


# ================================================================================ writing it


def ensure_tags(*, reset: bool = True) -> dict[str, Tag]:
    """The key-population tags with their visit frequency (also used by the scale builder).

    With `reset`, a frequency changed since is set back to the table's; without, only the
    missing tags are made."""
    tags = {}
    for name, every in TAGS.items():
        if reset:
            tags[name], _ = Tag.objects.update_or_create(
                name=name, defaults={"visit_every_days": every}
            )
        else:
            tags[name], _ = Tag.objects.get_or_create(
                name=name, defaults={"visit_every_days": every}
            )
    return tags


def seed_tags(ctx: DemoContext) -> None:
    """The tags of the table, their frequencies reset; fills ctx.tags."""
    before = Tag.objects.count()
    ctx.tags = ensure_tags()
    ctx.report.created[Tag._meta.label] += Tag.objects.count() - before


def seed_residents(ctx: DemoContext) -> None:
    """Every household, resident and visit of the plan, in the grids of ctx (demo.parts.grids
    runs first), with 赵银名's `resident` login."""
    tz = timezone.get_current_timezone()
    resident_group = ctx.groups[roles.RESIDENT]
    for h in build_plan(ctx.seed):
        household, created = Household.objects.get_or_create(
            grid=ctx.grids[(h.community, h.grid)],
            complex=h.complex,
            building=h.building,
            unit=h.unit,
            room=h.room,
            village_group=h.village_group,
            house_number=h.house_number,
        )
        ctx.count(household, created)
        head: Resident | None = None
        for p in h.residents:
            assert id_birth_date(p.id_number) == p.born and id_gender(p.id_number) == p.gender
            resident, created = Resident.objects.update_or_create(
                id_number=p.id_number,
                defaults={
                    "household": household,
                    "name": p.name,
                    "gender": p.gender,
                    "birth_date": p.born,
                    "phone": p.phone,
                    "is_party_member": p.party_member,
                },
            )
            ctx.count(resident, created)
            resident.tags.set([ctx.tags[t] for t in p.tags])
            if p.login:
                user = ctx.user(username=p.login, name=p.name, group=resident_group)
                Resident.objects.filter(user=user).exclude(pk=resident.pk).update(user=None)
                if resident.user_id != user.pk:
                    resident.user = user
                    resident.save(update_fields=["user"])
                ctx.report.logins.append(
                    DemoLogin(p.login, roles.RESIDENT, settings.DEMO_PASSWORD, RESIDENT_LOGIN_SEES)
                )
            head = head or resident
        assert head is not None  # every household has members
        if household.head_id != head.pk:
            household.head = head
            household.save(update_fields=["head"])
        for v in h.visits:
            day = ctx.today - dt.timedelta(days=v.days_ago)
            visit, created = Visit.objects.update_or_create(
                household=household,
                notes=v.notes,
                defaults={
                    "worker": ctx.workers[v.worker],
                    "method": v.method,
                    "visited_at": dt.datetime.combine(day, dt.time(v.hour, 30), tzinfo=tz),
                    "follow_up_on": (
                        day + dt.timedelta(days=v.follow_up_in_days)
                        if v.follow_up_in_days
                        else None
                    ),
                },
            )
            ctx.count(visit, created)


# Residents recorded away (外出登记, issue 15): (community, village group or complex, house
# number or room, name, reason, days ago it began, days ago it ended (None: still away), note,
# the worker who recorded it). The points anomaly check flags claims dated inside them.
ABSENCES = (
    ("xzz", "一组", "12", "赵磊", Absence.Reason.MIGRANT_WORK, 75, None,
     "在苏州电子厂打工, 春节回村", "worker"),
    ("xzz", "三组", "5", "赵春生", Absence.Reason.HOSPITAL, 20, 12, "县人民医院住院治疗", "xzz.g3"),
    ("taishan", "泰山小区", "501", "陈思雨", Absence.Reason.STUDY, 100, None,
     "外地读大学, 寒暑假回家", "taishan.wangjianhua"),
)  # fmt: skip


def seed_absences(ctx: DemoContext) -> None:
    """A few residents away (the absences of ABSENCES, kept relative to today), one row each
    whatever the number of runs."""
    for community, place, number, name, reason, began, ended, note, worker in ABSENCES:
        resident = Resident.objects.get(
            Q(household__village_group=place, household__house_number=number)
            | Q(household__complex=place, household__room=number),
            household__grid__community__code=community,
            name=name,
        )
        absence, created = Absence.objects.update_or_create(
            resident=resident,
            reason=reason,
            defaults={
                "starts_on": ctx.today - dt.timedelta(days=began),
                "ends_on": None if ended is None else ctx.today - dt.timedelta(days=ended),
                "note": note,
                "recorded_by": ctx.workers[worker].user,
            },
        )
        ctx.count(absence, created)
