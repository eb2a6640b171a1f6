"""Volunteer teams on top of `world`: two teams in 泰山社区 (community 2, street 1), each with
its own leader, and one team in 外村 (community 3, street 2); a points rule for service hours.

Personas: `leader_a` leads team A (alice for team A), `leader_b` leads team B in the same
community (bob), `leader_c` leads team C on the other street; `member` is a resident of
community 2 with their own login, a member of team A.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.utils import timezone

from points.models import Rule
from tests import factories as f
from volunteers.models import Membership
from volunteers.services import activities as activities_services


@pytest.fixture
def vol(world) -> SimpleNamespace:
    v = SimpleNamespace()
    v.committee2 = f.committee_member(world.community2, "committee2").user
    v.committee2b = f.committee_member(world.community2, "committee2b").user
    v.hour_rule = Rule.objects.create(
        community=world.community2, code="volunteer_hour", name="志愿服务(每小时)",
        category="reward", points=2,
    )  # fmt: skip
    v.team_a = f.VolunteerTeamFactory(
        community=world.community2, name="银龄调解队", kind="mediation", hours_rule=v.hour_rule
    )
    v.team_b = f.VolunteerTeamFactory(community=world.community2, name="青年突击队", kind="youth")
    v.team_c = f.VolunteerTeamFactory(community=world.community3, name="外村志愿队")

    def leader(team, username, household) -> Membership:
        user = f.UserFactory(username=username, groups=["team_leader"])
        return f.VolunteerMembershipFactory(
            team=team, resident=f.ResidentFactory(household=household), user=user, role="leader"
        )

    v.leader_a_membership = leader(v.team_a, "leader_a", world.household3)
    v.leader_b_membership = leader(v.team_b, "leader_b", world.household3)
    v.leader_c_membership = leader(v.team_c, "leader_c", world.household4)
    v.leader_a = v.leader_a_membership.user
    v.leader_b = v.leader_b_membership.user
    v.leader_c = v.leader_c_membership.user
    v.member_user = f.UserFactory(username="member", groups=["resident"])
    world.resident3.user = v.member_user
    world.resident3.save(update_fields=["user"])
    v.member = f.VolunteerMembershipFactory(team=v.team_a, resident=world.resident3)
    # Members without a login (the leader records their attendance).
    v.others = [
        f.VolunteerMembershipFactory(
            team=v.team_a, resident=f.ResidentFactory(household=world.household3)
        )
        for _ in range(3)
    ]
    return v


def new_activity(v, *, team=None, user=None, starts_in=dt.timedelta(days=2), hours=2, **kw):
    """An activity of team A (by default), created through the service by its leader;
    a negative `starts_in` makes one that has started (recorded afterwards)."""
    starts = timezone.now() + starts_in
    return activities_services.create_activity(
        user=user or v.leader_a,
        team=team or v.team_a,
        title=kw.pop("title", "调解邻里纠纷"),
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=hours),
        place=kw.pop("place", "社区党群服务中心"),
        capacity=kw.pop("capacity", 5),
        **kw,
    )
