"""Demo points for seed_demo (demo.seed): 新庄赵村's 积分增减细则12条 and a quarter of claims.

The source (local press on the demo community and village): cleaning one's section +1, reporting
a hazard +2, an adopted suggestion or a brave deed up to +10, base points for village activities
and policy outreach, reward points for mediating disputes and urgent tasks, deductions for
breaking the village rules or refusing grid work. 赵银名 helped an old woman living alone carry
heavy things and cleaned the garbage of the west park: 5 points."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from django.contrib.auth import get_user_model

from core.types import User
from demo.tables import NAMED_HOUSEHOLDS
from grids.models import Community, GridAssignment, Street
from points.models import CatalogItem, Claim, Rule, RuleBook
from points.selectors.rulebooks import in_force_q
from points.services import claims as claims_services
from points.services import ledger as ledger_services
from points.services import rulebooks as rulebooks_services
from residents.models import Resident

_B, _R, _D = Rule.Category.BASE, Rule.Category.REWARD, Rule.Category.DEDUCTION


@dataclass(frozen=True)
class RuleSpec:
    code: str
    name: str
    category: str
    points: int
    up_to: bool = False
    cap_per_quarter: int | None = None


# The street's default book; each community gets a copy (points.services.claims.copy_default_rules),
# 新庄赵村 as version 1 of its own book (STREET_BOOK, VILLAGE_BOOK below).
RULES = (
    RuleSpec("B01", "参加村委会组织的活动", _B, 2, cap_per_quarter=8),
    RuleSpec("B02", "参与政策宣传", _B, 1, cap_per_quarter=6),
    RuleSpec("R01", "参与网格内卫生清扫", _R, 1, cap_per_quarter=30),
    RuleSpec("R02", "协助排查安全隐患", _R, 2),
    RuleSpec("R03", "为村里发展出谋划策被采用", _R, 10, up_to=True),
    RuleSpec("R04", "见义勇为", _R, 10, up_to=True),
    RuleSpec("R05", "化解邻里纠纷", _R, 3),
    RuleSpec("R06", "带头完成抗旱防汛等急难任务", _R, 5),
    RuleSpec("R07", "帮扶独居老人、困难群众", _R, 3),
    RuleSpec("R08", "红白事简办、移风易俗", _R, 3),
    RuleSpec("D01", "违反村规民约", _D, 5),
    RuleSpec("D02", "拒不配合网格工作", _D, 3),
)


# Versioned rule books (issue 15). The street's default book, adopted by the street, and
# 新庄赵村's own: v1 the 12 rules as its 村民代表大会 adopted them (积分制管理细则), v2 the next
# version, raising cleaning one's section (R01) from +1 to +2 from the next quarter.
@dataclass(frozen=True)
class Adoption:  # the approval record of a version
    adopted_on: dt.date
    adopted_by: str
    effective_from: dt.date
    note: str


STREET_BOOK_BY = "admin"  # the demo's street admin
STREET_BOOK_TITLE = "沙北街道积分增减细则（参考本）"
STREET_BOOK = Adoption(
    adopted_on=dt.date(2020, 12, 18),
    adopted_by="沙北街道党工委会议",
    effective_from=dt.date(2021, 1, 1),
    note="街道参考本：各社区、村据此制定本社区（村）积分细则。",
)
VILLAGE = "xzz"
VILLAGE_BOOK_TITLE = "新庄赵村积分制管理细则"
VILLAGE_V1 = Adoption(
    adopted_on=dt.date(2020, 12, 26),
    adopted_by="新庄赵村村民代表大会",
    effective_from=dt.date(2021, 1, 1),
    note="积分增减细则12条：参照街道参考本，经村民代表大会讨论通过，张榜公示后施行。",
)
# v2: R01 +1 → +2, adopted at the 村民代表大会 five days ago, in force from the next quarter.
VILLAGE_V2_CHANGE = ("R01", 2)
VILLAGE_V2_MEETING_DAYS_AGO = 5
VILLAGE_V2_NOTE = "参与网格内卫生清扫由每次+1分调整为+2分，其余细则不变。"


APPROVE, REJECT, PENDING = "approve", "reject", "pending"

# The 积分云超市 catalog from the source: (name, points, unit), for these communities.
CATALOG = (
    ("香皂", 10, "块"),
    ("拖鞋", 10, "双"),
    ("牙膏", 20, "支"),
    ("毛巾", 20, "条"),
    ("洗衣粉", 20, "袋"),
    ("洗发水", 30, "瓶"),
    ("沐浴露", 30, "瓶"),
)
CATALOG_COMMUNITIES = ("xzz", "taishan")


@dataclass(frozen=True)
class ClaimSpec:
    community: str
    resident: str  # a named resident of demo.tables.NAMED_HOUSEHOLDS
    rule: str
    days_ago: int
    note: str  # with resident and rule, what makes a claim unique across runs
    decision: str = APPROVE
    points: int | None = None


CLAIMS = (
    ClaimSpec("xzz", "赵银名", "R07", 9, "帮独居老人赵桂英搬运重物"),
    ClaimSpec("xzz", "赵银名", "R01", 6, "清理村西头游园垃圾"),
    ClaimSpec("xzz", "赵银名", "R01", 2, "清扫一组主路"),
    ClaimSpec("xzz", "赵磊", "R02", 12, "发现村东头电线老化, 报告网格长"),
    ClaimSpec("xzz", "赵磊", "R03", 20, "建议游园加装太阳能路灯, 村委采纳", points=8),
    ClaimSpec("xzz", "王秀芝", "R08", 15, "儿子婚事简办"),
    ClaimSpec("xzz", "赵守义", "R05", 11, "调解邻里宅基地纠纷"),
    ClaimSpec("xzz", "赵春生", "R06", 25, "带头参加防汛值守"),
    ClaimSpec("xzz", "赵春生", "D01", 4, "秸秆露天焚烧, 违反村规民约"),
    ClaimSpec("xzz", "李保国", "B01", 18, "参加村委会组织的义务植树"),
    ClaimSpec("xzz", "赵国强", "R04", 30, "跳水救起落水儿童", points=10),
    ClaimSpec("xzz", "孟秀梅", "R01", 1, "清扫五组主路", decision=PENDING),
    ClaimSpec("xzz", "赵翠花", "B02", 1, "向邻居宣传医保缴费政策", decision=PENDING),
    ClaimSpec("xzz", "赵磊", "R02", 0, "再次报告电线老化", decision=PENDING),
    ClaimSpec("xzz", "周兰英", "R01", 3, "清扫三组主路"),
    # The same resident, rule and day again: flagged as a likely duplicate, and rejected.
    ClaimSpec("xzz", "周兰英", "R01", 3, "清扫三组主路（重复申报）", decision=REJECT),
)


def _worker_user_for(resident: Resident) -> User:
    assignment = (
        GridAssignment.objects.current()
        .filter(grid_id=resident.household.grid_id)
        .select_related("worker__user")
        .order_by("id")
        .first()
    )
    assert assignment is not None, f"no worker on the grid of {resident}"
    return assignment.worker.user


def seed_catalog(*, street: Street) -> int:
    """The 积分云超市 catalog of the street's demo communities; idempotent."""
    made_count = 0
    for community in Community.objects.filter(street=street, code__in=CATALOG_COMMUNITIES):
        for name, points, unit in CATALOG:
            _item, made = CatalogItem.objects.get_or_create(
                community=community, name=name, defaults={"points": points, "unit": unit}
            )
            made_count += made
    return made_count


def _quarter_after(day: dt.date) -> dt.date:
    """The first day of the quarter after `day`'s."""
    month = (day.month - 1) // 3 * 3 + 4
    return dt.date(day.year + (month > 12), (month - 1) % 12 + 1, 1)


def seed_street_book(*, street: Street, admin: User) -> Counter:
    """The street's default book (积分增减细则, the 12 rules), as version 1 adopted by the
    street; idempotent: a street that has a book is left as it is."""
    created: Counter[str] = Counter()
    if RuleBook.objects.filter(street=street).exists():
        return created
    book = rulebooks_services.start_book(user=admin, street=street, title=STREET_BOOK_TITLE)
    for spec in RULES:
        rulebooks_services.save_rule(user=admin, rule=_rule(spec, street=street, book=book))
    rulebooks_services.adopt(draft=book, by=admin, **vars(STREET_BOOK))
    created[RuleBook._meta.label] += 1
    created[Rule._meta.label] += len(RULES)
    return created


def seed_village_books(*, community: Community, today: dt.date, committee: User) -> Counter:
    """新庄赵村's rule book: v1, the street's 12 rules adopted by the 村民代表大会, and v2, which
    raises cleaning one's section from +1 to +2 and takes effect at the start of the next
    quarter (so the quarter's claims, and 赵银名's five points, stay under v1). Idempotent: v1
    is made when the village has no book, v2 when it has one version only."""
    created: Counter[str] = Counter()
    if not RuleBook.objects.filter(community=community).exists():
        v1 = rulebooks_services.start_book(
            user=committee, community=community, title=VILLAGE_BOOK_TITLE
        )
        created[Rule._meta.label] += claims_services.copy_default_rules(community=community)
        rulebooks_services.adopt(draft=v1, by=committee, **vars(VILLAGE_V1))
        created[RuleBook._meta.label] += 1
    books = RuleBook.objects.filter(community=community)
    if books.count() == 1 and (v1 := books.get()).status == RuleBook.Status.ADOPTED:
        v2 = rulebooks_services.new_version(book=v1, by=committee)
        created[RuleBook._meta.label] += 1
        created[Rule._meta.label] += v2.rules.count()
        code, points = VILLAGE_V2_CHANGE
        cleaning = v2.rules.get(code=code)
        cleaning.points = points
        rulebooks_services.save_rule(user=committee, rule=cleaning)
        rulebooks_services.adopt(
            draft=v2,
            by=committee,
            adopted_on=today - dt.timedelta(days=VILLAGE_V2_MEETING_DAYS_AGO),
            adopted_by=VILLAGE_V1.adopted_by,
            effective_from=_quarter_after(today),
            note=VILLAGE_V2_NOTE,
        )
    return created


def _rule(spec: RuleSpec, **owner: object) -> Rule:
    return Rule(
        code=spec.code,
        name=spec.name,
        category=spec.category,
        points=spec.points,
        up_to=spec.up_to,
        cap_per_quarter=spec.cap_per_quarter,
        **owner,
    )


def seed_points(*, street: Street, today: dt.date, committee_usernames: dict[str, str]) -> Counter:
    """Rules, accounts and claims; idempotent (a second run creates nothing)."""
    created: Counter[str] = Counter()
    users = get_user_model().objects
    created.update(seed_street_book(street=street, admin=users.get(username=STREET_BOOK_BY)))
    village = Community.objects.get(street=street, code=VILLAGE)
    created.update(
        seed_village_books(
            community=village,
            today=today,
            committee=users.get(username=committee_usernames[village.code]),
        )
    )
    # The other communities get the street's book as it is (rules of no version yet).
    for community in Community.objects.filter(street=street).exclude(pk=village.pk):
        created[Rule._meta.label] += claims_services.copy_default_rules(community=community)
    created["points.Account"] += ledger_services.ensure_accounts(
        Resident.objects.filter(household__grid__community__street=street)
    )
    ledger_services.current_period()
    created[CatalogItem._meta.label] += seed_catalog(street=street)
    # Names repeat in a village: find the named people by name and birth date.
    born = {(h.community, p.name): p.born for h in NAMED_HOUSEHOLDS for p in h.members}
    for claimed in CLAIMS:
        resident = Resident.objects.select_related("household").get(
            name=claimed.resident,
            birth_date=born[(claimed.community, claimed.resident)],
            household__grid__community__code=claimed.community,
        )
        occurred_on = today - dt.timedelta(days=claimed.days_ago)
        # The rule of the version in force on the day (新庄赵村 has two versions).
        rule = Rule.objects.filter(in_force_q(occurred_on)).get(
            community__code=claimed.community, code=claimed.rule
        )
        if Claim.objects.filter(
            resident=resident, rule__code=rule.code, note=claimed.note
        ).exists():
            continue
        claim = claims_services.submit_claim(
            user=_worker_user_for(resident),
            resident=resident,
            rule=rule,
            points=claimed.points,
            occurred_on=occurred_on,
            note=claimed.note,
        )
        created[Claim._meta.label] += 1
        approver = users.get(username=committee_usernames[claimed.community])
        if claimed.decision == APPROVE:
            claims_services.approve_claim(claim=claim, approver=approver)
            created["points.Entry"] += 1
        elif claimed.decision == REJECT:
            claims_services.reject_claim(
                claim=claim, approver=approver, reason="同日已有同类申报, 重复"
            )
    return created
