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
from points.models import CatalogItem, Claim, Rule
from points.services import claims as claims_services
from points.services import ledger as ledger_services
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


# The street's default book; each community gets a copy (points.services.claims.copy_default_rules).
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


def seed_points(*, street: Street, today: dt.date, committee_usernames: dict[str, str]) -> Counter:
    """Rules, accounts and claims; idempotent (a second run creates nothing)."""
    created: Counter[str] = Counter()
    for spec in RULES:
        _rule, made = Rule.objects.update_or_create(
            street=street,
            community=None,
            code=spec.code,
            defaults={
                "name": spec.name,
                "category": spec.category,
                "points": spec.points,
                "up_to": spec.up_to,
                "cap_per_quarter": spec.cap_per_quarter,
            },
        )
        created[Rule._meta.label] += made
    for community in Community.objects.filter(street=street):
        created[Rule._meta.label] += claims_services.copy_default_rules(community=community)
    created["points.Account"] += ledger_services.ensure_accounts(
        Resident.objects.filter(household__grid__community__street=street)
    )
    ledger_services.current_period()
    created[CatalogItem._meta.label] += seed_catalog(street=street)
    # Names repeat in a village: find the named people by name and birth date.
    born = {(h.community, p.name): p.born for h in NAMED_HOUSEHOLDS for p in h.members}
    users = get_user_model().objects
    for claimed in CLAIMS:
        resident = Resident.objects.select_related("household").get(
            name=claimed.resident,
            birth_date=born[(claimed.community, claimed.resident)],
            household__grid__community__code=claimed.community,
        )
        rule = Rule.objects.get(community__code=claimed.community, code=claimed.rule)
        if Claim.objects.filter(resident=resident, rule=rule, note=claimed.note).exists():
            continue
        claim = claims_services.submit_claim(
            user=_worker_user_for(resident),
            resident=resident,
            rule=rule,
            points=claimed.points,
            occurred_on=today - dt.timedelta(days=claimed.days_ago),
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
