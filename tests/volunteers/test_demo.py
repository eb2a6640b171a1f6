"""The demo volunteers of 泰山社区 (seed_demo): the three teams, activities, partners."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from demo import seed as demo
from points.models import Claim
from tests import demo_snapshot
from volunteers.models import Activity, Attendance, Membership, PartnerOrganisation, Signup, Team

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded() -> demo.SeedReport:
    """seed_demo()'s data: built once per test process, copied in after that."""
    return demo_snapshot.seed_demo()


def test_taishan_has_its_three_teams_with_six_members_each(seeded):
    teams = Team.objects.filter(community__code="taishan")
    assert set(teams.values_list("name", flat=True)) == {"银龄调解队", "青年突击队", "巾帼学堂"}
    for team in teams:
        assert team.memberships.filter(active=True).count() == 6
        assert team.leader is not None
    silver = teams.get(name="银龄调解队")
    assert silver.leader.resident.name == "朱德荣"
    assert silver.leader.user.username == "leader"
    # Every retired party member of the demo population; the eldest residents fill the rest.
    party = silver.memberships.filter(resident__is_party_member=True)
    assert party.count() >= 3


def test_the_demo_has_done_and_planned_activities(seeded):
    night = Activity.objects.get(title="夜间防汛巡逻")
    assert night.status == "done"
    assert set(Attendance.objects.filter(activity=night).values_list("hours", flat=True)) == {
        Decimal("3.50")
    }
    planned = Activity.objects.get(title="为独居老人测量血压")
    statuses = list(Signup.objects.filter(activity=planned).values_list("status", flat=True))
    assert statuses.count("confirmed") == 4 and statuses.count("waitlisted") == 2
    approved = Claim.objects.filter(volunteer_attendance__activity__title="调解25号楼邻里纠纷")
    assert approved.count() == 4 and set(approved.values_list("status", flat=True)) == {"approved"}
    pending = Claim.objects.filter(volunteer_attendance__activity=night)
    assert set(pending.values_list("status", flat=True)) == {"submitted"}


def test_the_partner_organisations_are_there(seeded):
    names = set(PartnerOrganisation.objects.values_list("name", flat=True))
    assert {"孙东晓律师事务所", '"拥抱幸福"心理工作室'} <= names


def test_a_second_seed_creates_no_volunteer_rows(seeded):
    counts = [m.objects.count() for m in (Team, Membership, Activity, Signup, Attendance, Claim)]
    second = demo.seed_demo()
    assert not second.created_anything, second.created
    assert counts == [
        m.objects.count() for m in (Team, Membership, Activity, Signup, Attendance, Claim)
    ]


def test_the_leader_login_sees_and_runs_only_their_team(seeded):
    client = APIClient()
    r = client.post(
        "/api/v1/auth/token/", {"username": "leader", "password": settings.DEMO_PASSWORD}
    )
    client.credentials(HTTP_AUTHORIZATION=f"Token {r.json()['token']}")
    teams = client.get("/api/v1/volunteer-teams/").json()["results"]
    assert [t["name"] for t in teams] == ["银龄调解队"]
    activities = client.get("/api/v1/activities/").json()["results"]
    assert {a["team_name"] for a in activities} == {"银龄调解队"}
