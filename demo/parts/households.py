"""Demo household accounts (issue 15) for seed_demo (demo.seed), after demo.parts.points.

泰山社区 counts points per household (以户为单位): a few claims for its residents are approved
while it still counts per resident, then points.services.units switches it, so the demo's
ledger shows a switch's transfer entries and its households' accounts (朱德荣 and 孙秀兰 share
one: the statement names the member each claim was for). Its exchange points are also cleared
once a year (RESET, month and day; honour points stay). 新庄赵村 keeps counting per resident
(赵银名's own five points, demo.parts.points).

Why 泰山社区: the source articles name no village that counts per household, and the demo's
village is the one whose per-resident story (赵银名's card) the demo and its tests tell.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from demo.parts.points import APPROVE, ClaimSpec, _worker_user_for
from demo.tables import NAMED_HOUSEHOLDS
from grids.models import Community, Street
from points.models import Claim, Period, Policy, Rule, UnitSwitch
from points.selectors.rulebooks import in_force_q
from points.services import claims as claims_services
from points.services import units as units_services
from residents.models import Resident

HOUSEHOLD_COMMUNITY = "taishan"
RESET = (12, 28)  # the yearly reset of exchange points: month, day (the model allows 1-28)
SWITCHED_BY = "admin"  # the demo's street admin

# Claims dated in this quarter (no earlier than its first day): the switch needs the quarters
# before it closed, for the quarters the community took part in.
CLAIMS = (
    ClaimSpec("taishan", "朱德荣", "R05", 8, "调解黄山小区25号楼楼上漏水纠纷"),
    ClaimSpec("taishan", "孙秀兰", "R01", 5, "清扫黄山小区25号楼楼道"),
    ClaimSpec("taishan", "刘长山", "R02", 6, "报告天山小区3号楼消防通道堵塞"),
    ClaimSpec("taishan", "陈国栋", "R03", 4, "建议小区加装电动车充电桩, 社区采纳", points=6),
    ClaimSpec("taishan", "杨丽", "R07", 3, "帮独居老人张桂兰代买药品"),
)


def _claims(*, community: Community, today: dt.date, approver_username: str) -> Counter:
    created: Counter[str] = Counter()
    users = get_user_model().objects
    born = {(h.community, p.name): p.born for h in NAMED_HOUSEHOLDS for p in h.members}
    first_day = Period.bounds(today)[1]
    for claimed in CLAIMS:
        resident = Resident.objects.select_related("household").get(
            name=claimed.resident,
            birth_date=born[(claimed.community, claimed.resident)],
            household__grid__community=community,
        )
        if Claim.objects.filter(
            resident=resident, rule__code=claimed.rule, note=claimed.note
        ).exists():
            continue
        occurred_on = max(today - dt.timedelta(days=claimed.days_ago), first_day)
        rule = Rule.objects.filter(in_force_q(occurred_on)).get(
            community=community, code=claimed.rule
        )
        claim = claims_services.submit_claim(
            user=_worker_user_for(resident),
            resident=resident,
            rule=rule,
            points=claimed.points,
            occurred_on=occurred_on,
            note=claimed.note,
        )
        created[Claim._meta.label] += 1
        if claimed.decision == APPROVE:
            claims_services.approve_claim(
                claim=claim, approver=users.get(username=approver_username)
            )
            created["points.Entry"] += 1
    return created


def seed_household_accounts(
    *, street: Street, today: dt.date, committee_usernames: dict[str, str]
) -> Counter:
    """HOUSEHOLD_COMMUNITY's claims, its switch to household accounts (once, by the service)
    and its yearly reset date. Idempotent: claims already made are skipped, a community that
    counts per household already is not switched again, a reset date already set (by hand,
    too) is kept."""
    created: Counter[str] = Counter()
    community = Community.objects.filter(street=street, code=HOUSEHOLD_COMMUNITY).first()
    if community is None:
        return created
    policy, made = Policy.objects.get_or_create(community=community)
    created[Policy._meta.label] += made
    if policy.account_unit != Policy.AccountUnit.HOUSEHOLD:
        # Made while the community counts per resident: the switch moves them.
        created.update(
            _claims(
                community=community,
                today=today,
                approver_username=committee_usernames[community.code],
            )
        )
        try:
            units_services.switch_account_unit(
                community=community,
                to_unit=Policy.AccountUnit.HOUSEHOLD,
                by=get_user_model().objects.filter(username=SWITCHED_BY).first(),
            )
        except ValidationError:
            # Not at a quarter boundary (a database seeded before, with points of a quarter
            # not yet closed): it keeps counting per resident until a run after the close.
            pass
        else:
            created[UnitSwitch._meta.label] += 1
    policy.refresh_from_db()
    if policy.reset_month is None and policy.reset_day is None:
        policy.reset_month, policy.reset_day = RESET
        policy.save(update_fields=["reset_month", "reset_day"])
    return created
