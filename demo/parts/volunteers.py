"""Demo volunteers for seed_demo (demo.seed): 泰山社区's teams, a few activities, its 公益合伙人.

The source describes 12 volunteer teams in 泰山社区, among them 银龄调解队 (six retired party
members who mediate neighbours' disputes), 青年突击队 and 巾帼学堂, and 10 公益合伙人 such as
孙东晓律师事务所 (free legal advice) and the "拥抱幸福" counselling studio. 朱德荣, the demo
`leader` login, leads 银龄调解队. The demo population has fewer than six party members past
sixty, so the team takes all of them and the eldest other residents fill its six places.

Idempotent: teams, members and partners by their natural keys; an activity (by team and title)
is created, attended and completed only the first time, through volunteers.services.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils import timezone

from core.types import User
from grids.models import Community
from points.models import Claim, Rule
from points.services import claims as claims_services
from residents.models import Resident
from volunteers.models import Activity, Membership, PartnerOrganisation, Team
from volunteers.services import activities as activities_services
from volunteers.services import teams as teams_services

COMMUNITY = "taishan"
HOURS_RULE = {
    "code": "volunteer_hour",
    "name": "参加志愿服务(每小时)",
    "category": Rule.Category.REWARD,
    "points": 1,
    "cap_per_quarter": 30,
}


@dataclass(frozen=True)
class TeamSpec:
    name: str
    kind: str
    description: str


TEAMS = (
    TeamSpec("银龄调解队", Team.Kind.MEDIATION, "六名退休老党员, 调解邻里纠纷、家庭矛盾。"),
    TeamSpec("青年突击队", Team.Kind.YOUTH, "社区青年, 承担防汛、巡逻等急难险重任务。"),
    TeamSpec("巾帼学堂", Team.Kind.WOMEN, "社区妇女, 关爱独居老人、留守儿童。"),
)


@dataclass(frozen=True)
class ActivitySpec:
    team: str
    title: str
    place: str
    days_from_today: int  # negative: in the past, attended and done
    start: dt.time
    hours: float
    capacity: int
    attendees: int = 0  # past ones: the first N members attend for the whole activity
    signups: int = 0  # planned ones: the first N members sign up
    approve: bool = False  # the committee approves the hours' claims


ACTIVITIES = (
    ActivitySpec("银龄调解队", "调解25号楼邻里纠纷", "黄山小区25号楼", -10, dt.time(9), 2.5, 8,
                 attendees=4, approve=True),
    ActivitySpec("青年突击队", "夜间防汛巡逻", "沙河沿岸", -5, dt.time(22), 3.5, 10, attendees=4),
    ActivitySpec("巾帼学堂", "为独居老人测量血压", "黄山小区", 3, dt.time(9), 2, 4, signups=6),
    ActivitySpec("银龄调解队", "重阳节敬老茶话会", "社区党群服务中心", 7, dt.time(15), 2, 10,
                 signups=3),
)  # fmt: skip

PARTNERS = (
    ("孙东晓律师事务所", "免费法律咨询: 每月第一个周六上午在社区党群服务中心坐班。", "孙东晓"),
    ('"拥抱幸福"心理工作室', "免费心理疏导: 独居老人、困难家庭和青少年的心理咨询。", "王芳"),
)


def _residents(community: Community) -> QuerySet[Resident]:
    return Resident.objects.filter(household__grid__community=community).order_by("id_number")


def _members_for(spec: TeamSpec, community: Community, today: dt.date) -> list[Resident]:
    """Six residents for the team, chosen by a rule of the table (the same on every run)."""
    residents = _residents(community)
    born_before = today.replace(year=today.year - 60)
    if spec.kind == Team.Kind.MEDIATION:
        leader = residents.get(name="朱德荣", birth_date=dt.date(1953, 8, 1))
        party = residents.filter(is_party_member=True, birth_date__lte=born_before)
        others = list(party.exclude(pk=leader.pk)[:5])
        if len(others) < 5:
            elderly = (
                residents.filter(birth_date__lte=born_before)
                .exclude(pk=leader.pk)
                .order_by("birth_date", "id_number")
            )
            others += list(elderly.exclude(pk__in=[r.pk for r in others])[: 5 - len(others)])
        return [leader, *others]
    if spec.kind == Team.Kind.YOUTH:
        young = residents.filter(
            birth_date__lte=today.replace(year=today.year - 18),
            birth_date__gt=today.replace(year=today.year - 40),
        )
        return list(young[:6])
    women = residents.filter(
        gender=Resident.Gender.FEMALE,
        birth_date__lte=today.replace(year=today.year - 30),
        birth_date__gt=born_before,
    )
    return list(women[:6])


def _seed_activity(
    spec: ActivitySpec, team: Team, *, today: dt.date, manager: User, approver: User
) -> Counter:
    created: Counter[str] = Counter()
    if Activity.objects.filter(team=team, title=spec.title).exists():
        return created
    tz = timezone.get_current_timezone()
    starts = dt.datetime.combine(today + dt.timedelta(days=spec.days_from_today), spec.start, tz)
    ends = starts + dt.timedelta(hours=spec.hours)
    activity = activities_services.create_activity(
        user=manager, team=team, title=spec.title, starts_at=starts, ends_at=ends,
        place=spec.place, capacity=spec.capacity,
    )  # fmt: skip
    created[Activity._meta.label] += 1
    members = list(team.memberships.filter(active=True).order_by("role", "id"))
    for m in members[: spec.signups]:
        activities_services.sign_up(user=manager, activity=activity, membership=m)
        created["volunteers.Signup"] += 1
    if spec.attendees:
        for m in members[: spec.attendees]:
            activities_services.check_in(user=manager, activity=activity, membership=m, at=starts)
            activities_services.check_out(user=manager, activity=activity, membership=m, at=ends)
            created["volunteers.Attendance"] += 1
        activities_services.complete_activity(user=manager, activity=activity)
        claims = Claim.objects.filter(volunteer_attendance__activity=activity)
        created[Claim._meta.label] += claims.count()
        if spec.approve:
            for claim in claims:
                claims_services.approve_claim(claim=claim, approver=approver)
                created["points.Entry"] += 1
    return created


def seed_volunteers(*, today: dt.date, leader_username: str, manager_username: str,
                    approver_username: str) -> Counter:  # fmt: skip
    """泰山社区's teams with their members, the hours rule, activities and partners.

    `leader_username` leads 银龄调解队 and runs its activities; `manager_username` (a street
    admin) runs the other teams' (their leaders have no login); `approver_username`, a
    committee member of 泰山社区, approves the hours of one activity. Idempotent."""
    created: Counter[str] = Counter()
    community = Community.objects.get(code=COMMUNITY)
    users = get_user_model().objects
    leader_user = users.get(username=leader_username)
    manager = users.get(username=manager_username)
    approver = users.get(username=approver_username)
    rule, made = Rule.objects.update_or_create(
        community=community,
        code=HOURS_RULE["code"],
        defaults={k: v for k, v in HOURS_RULE.items() if k != "code"},
    )
    created[Rule._meta.label] += made
    teams: dict[str, Team] = {}
    for spec in TEAMS:
        team, made = Team.objects.update_or_create(
            community=community,
            name=spec.name,
            defaults={"kind": spec.kind, "description": spec.description, "hours_rule": rule},
        )
        created[Team._meta.label] += made
        teams[spec.name] = team
        for i, resident in enumerate(_members_for(spec, community, today)):
            role = Membership.Role.LEADER if i == 0 else Membership.Role.MEMBER
            login = leader_user if spec.kind == Team.Kind.MEDIATION and i == 0 else None
            _m, made = Membership.objects.get_or_create(
                team=team,
                resident=resident,
                defaults={"role": role, "user": login, "joined_on": dt.date(2024, 3, 5)},
            )
            created[Membership._meta.label] += made
    for activity in ACTIVITIES:
        team = teams[activity.team]
        runner = leader_user if team.kind == Team.Kind.MEDIATION else manager
        created.update(
            _seed_activity(activity, team, today=today, manager=runner, approver=approver)
        )
    for name, service, contact in PARTNERS:
        organisation, made = PartnerOrganisation.objects.update_or_create(
            community=community, name=name, defaults={"service": service, "contact_name": contact}
        )
        created[PartnerOrganisation._meta.label] += made
        teams_services.list_in_resources(organisation=organisation)
    return created
