"""Demo lists and councils for seed_demo (demo.seed): 泰山社区's resources (资源清单) and
projects (项目清单), 新庄赵村's projects, and its 民需我解议事会 — two past councils with
minutes of all five steps, decisions, and the evaluation of the earlier one's items (struck off,
or carried over with a reason), and the next council planned.

Everything goes through grids.services (the councils) or update_or_create on natural keys (the
lists), so a second run with the same `today` creates nothing. The councils' days are relative
to `today`: the two latest 10ths before it are the past councils, the next 10th the planned one.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction

from core.types import User
from grids import selectors, services
from grids.models import (
    AgendaEvaluation,
    AgendaItem,
    Community,
    Council,
    GridWorker,
    PartnerUnit,
    Project,
    Resource,
)
from residents.models import Need, NeedEvent

_S, _V, _F, _E = (
    Resource.Kind.SERVICE,
    Resource.Kind.VENUE,
    Resource.Kind.FUNDS,
    Resource.Kind.EXPERTISE,
)

# (community, partner unit, name, kind, description, contact)
RESOURCES = (
    ("taishan", "市委办", "法律咨询", _E,
     "每月第一个周六上午在社区党群服务中心坐诊，解答婚姻家庭、劳动争议问题。", "张伟"),
    ("taishan", "市人大", "活动场地", _V,
     "机关二楼会议室周末可借用，容纳80人，提前三天预约。", "王丽娟"),
    ("taishan", "市政协", "微心愿资金", _F,
     "每季度认领困难群众微心愿，每个不超过200元。", "李国华"),
    ("taishan", "市第二人民医院", "义诊服务", _S,
     "每月10日上午在社区卫生服务站义诊，测血压血糖。", "刘芳"),
    ("xzz", "市住房和城乡建设局", "危房鉴定", _E, "农村危房安全鉴定与改造政策咨询。", "孟永生"),
)  # fmt: skip


@dataclass(frozen=True)
class ProjectSpec:
    community: str
    name: str
    owner: str
    budget: int
    progress: int
    status: str
    due_in_days: int  # from `today`
    description: str


PROJECTS = (
    ProjectSpec("taishan", "老旧小区路灯改造", "社区居委会 赵辉", 86_000, 60,
                Project.Status.IN_PROGRESS, 45, "黄山、天山小区更换LED路灯62盏，新增楼道感应灯。"),
    ProjectSpec("taishan", "华山小区雨污分流", "市住房和城乡建设局", 120_000, 0,
                Project.Status.PLANNED, 150, "华山小区雨水、污水管网分流改造。"),
    ProjectSpec("xzz", "村内道路硬化", "驻村第一书记 樊良", 350_000, 30,
                Project.Status.IN_PROGRESS, 60, "三组、四组段村道硬化2.4公里。"),
    ProjectSpec("xzz", "文化广场健身器材", "村委会", 24_000, 100,
                Project.Status.DONE, -20, "文化广场新装健身器材12件。"),
)  # fmt: skip


@dataclass(frozen=True)
class ItemSpec:
    title: str
    decision: str
    responsible: str  # the worker's username
    project: str = ""
    # How the next council evaluates it: (score, struck off, reason)
    evaluation: tuple[int, bool, str] | None = None


MINUTES_EARLIER = {
    "policy_talk": "樊良书记宣讲秋季秸秆禁烧和农村人居环境整治政策。",
    "affairs_disclosed": "公开上季度村集体收支：收入4.2万元，支出3.1万元，明细已张贴公示栏。",
    "needs_raised": "村民提出三组、四组村道泥泞，二组坑塘护栏破损，一组独居老人吃饭难。",
    "solutions_discussed": "道路硬化申报一事一议项目；护栏由村集体出资更换；"
    "独居老人由银龄志愿队送餐。",
    "past_items_evaluated": "首次议事会，无上月事项。",
    "attendees": "樊良 驻村第一书记\n赵振东 村委会委员\n赵建军 网格员\n赵红梅 网格员\n"
    "赵国庆 网格员\n李文涛 网格员\n村民代表 赵银名\n村民代表 赵秀英",
    "chaired_by": "樊良",
    "place": "新庄赵村党群服务中心",
}  # fmt: skip
ITEMS_EARLIER = (
    ItemSpec("三组、四组村道硬化", "申报一事一议项目，樊良牵头，两个月内完工。", "xzz.g3",
             project="村内道路硬化",
             evaluation=(3, False, "四组段受雨季影响，路基未干，延至下月完工。")),
    ItemSpec("二组坑塘护栏破损", "村集体出资更换护栏，赵红梅督办，十日内完成。", "worker2",
             evaluation=(5, True, "")),
    ItemSpec("一组独居老人吃饭难", "联系银龄志愿队每日中午送餐，赵建军每周回访。", "worker",
             evaluation=(4, True, "")),
)  # fmt: skip

MINUTES_LATER = {
    "policy_talk": "宣讲城乡居民医保缴费政策和积分制管理办法。",
    "affairs_disclosed": "公开护栏更换费用3600元、道路硬化项目进度（已完成三组段）。",
    "needs_raised": "村民提出村西公园垃圾清运不及时，五组路口缺少反光镜。",
    "solutions_discussed": "保洁员增加一次清运；路口反光镜由村委会采购安装。",
    "past_items_evaluated": "评议上月三件事项：护栏、送餐两件销号；道路硬化挂账，说明原因。",
    "attendees": "樊良 驻村第一书记\n赵振东 村委会委员\n赵建军 网格员\n赵红梅 网格员\n"
    "赵志刚 网格员\n村民代表 赵银名\n村民代表 赵秀英",
    "chaired_by": "樊良",
    "place": "新庄赵村党群服务中心",
}  # fmt: skip
ITEMS_LATER = (
    ItemSpec("村西公园垃圾清运不及时", "保洁员每日增加下午一次清运，赵建军监督。", "worker"),
    ItemSpec("五组路口缺少反光镜", "村委会采购安装两面反光镜，赵志刚负责。", "xzz.g5"),
)  # fmt: skip

# A past item the demo did not write (e.g. a need flagged for the council by the needs demo)
# is evaluated with this: struck off once its need is settled, else carried over.
DEFAULT_CARRIED_REASON = "仍在办理中，下月继续跟踪。"
COUNCIL_COMMUNITY = "xzz"
COUNCIL_CHAIR_LOGIN = "committee"


def _past_and_next_days(today: dt.date) -> tuple[list[dt.date], dt.date]:
    """The two latest 10ths before `today`, oldest first, and the first 10th from today on."""
    first = today.replace(day=1)
    this_month = first.replace(day=services.COUNCIL_DAY)
    prev = (first - dt.timedelta(days=1)).replace(day=services.COUNCIL_DAY)
    before_prev = (prev.replace(day=1) - dt.timedelta(days=1)).replace(day=services.COUNCIL_DAY)
    if this_month < today:
        return [prev, this_month], services.next_month(today).replace(day=services.COUNCIL_DAY)
    return [before_prev, prev], this_month


def _run_council(
    community: Community,
    day: dt.date,
    user: User,
    minutes: dict[str, str],
    items: tuple[ItemSpec, ...],
    evaluations: dict[str, tuple[int, bool, str]],
) -> None:
    """Plan, fix, add the items, evaluate the past ones, write the minutes and hold one
    council, each step skipped when already done."""
    council = services.plan_council(community=community, month=day, user=user, held_on=day)
    if council.status == Council.Status.HELD:
        return
    services.fix_agenda(council=council, user=user)
    workers = {w.user.username: w for w in GridWorker.objects.select_related("user")}
    projects = {p.name: p for p in Project.objects.filter(community=community)}
    present = set(council.items.values_list("title", flat=True))
    for spec in items:
        if spec.title not in present:
            services.add_agenda_item(
                council=council,
                user=user,
                title=spec.title,
                decision=spec.decision,
                project=projects.get(spec.project),
                responsible=workers.get(spec.responsible),
            )
    pending = list(selectors.items_to_evaluate(council=council))
    if pending:
        rows = []
        for item in pending:
            settled = item.need is not None and item.need.status in (
                Need.Status.RESOLVED,
                Need.Status.CLOSED,
            )
            score, struck_off, reason = evaluations.get(
                item.title, (4, True, "") if settled else (3, False, DEFAULT_CARRIED_REASON)
            )
            rows.append({"item": item, "score": score, "struck_off": struck_off, "reason": reason})
        services.evaluate_items(council=council, user=user, evaluations=rows)
    services.record_minutes(council=council, user=user, **minutes)
    services.hold_council(council=council, user=user)


@transaction.atomic
def seed_lists_and_councils(*, today: dt.date) -> Counter[str]:
    """Create or refresh the demo lists and councils. Returns what was created, per model."""
    created: Counter[str] = Counter()
    communities = {c.code: c for c in Community.objects.filter(code__in=["taishan", "xzz"])}
    units = {u.name: u for u in PartnerUnit.objects.all()}
    for code, unit, name, kind, description, contact in RESOURCES:
        if code not in communities or unit not in units:
            continue
        _obj, new = Resource.objects.update_or_create(
            community=communities[code],
            name=name,
            partner_unit=units[unit],
            defaults={
                "kind": kind,
                "description": description,
                "provider": unit,
                "contact": contact,
                "active": True,
            },
        )
        created[Resource._meta.label] += new
    for p in PROJECTS:
        if p.community not in communities:
            continue
        _project, new = Project.objects.update_or_create(
            community=communities[p.community],
            name=p.name,
            defaults={
                "owner": p.owner,
                "budget": Decimal(p.budget),
                "progress": p.progress,
                "status": p.status,
                "due_on": today + dt.timedelta(days=p.due_in_days),
                "description": p.description,
            },
        )
        created[Project._meta.label] += new

    village = communities.get(COUNCIL_COMMUNITY)
    chair = get_user_model().objects.filter(username=COUNCIL_CHAIR_LOGIN).first()
    if village is None or chair is None:
        return created
    # Fixing an agenda writes an event on each need it takes up: counted here too, so the
    # report is true whatever the date (after the 7th the needs flagged for the council go on).
    counted = (Council, AgendaItem, AgendaEvaluation, NeedEvent)
    before = {m: m.objects.count() for m in counted}
    (earlier, later), upcoming = _past_and_next_days(today)
    evaluations = {s.title: s.evaluation for s in ITEMS_EARLIER if s.evaluation}
    _run_council(village, earlier, chair, MINUTES_EARLIER, ITEMS_EARLIER, {})
    _run_council(village, later, chair, MINUTES_LATER, ITEMS_LATER, evaluations)
    for community in communities.values():
        # As the monthly beat does (no user): the chair is of the village only.
        council = services.plan_council(community=community, month=upcoming)
        if council.status == Council.Status.PLANNED and today >= council.agenda_cutoff:
            # Picks up the needs flagged for the council by then (the needs demo's, if any).
            services.fix_agenda(council=council)
    for model in counted:
        created[model._meta.label] += model.objects.count() - before[model]
    return created
