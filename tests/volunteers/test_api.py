"""The volunteers API for each persona: alice (in scope: the team's leader, the community's
committee, the street admin), bob (a colleague elsewhere: another team's leader, another
community's committee, the other street's admin) and charlie (an outsider: a stranger, a grid
worker of another community, a resident who is no member)."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from points.models import Claim
from tests.api_helpers import client, ids, url
from tests.volunteers.conftest import new_activity
from volunteers.models import Activity, Attendance, Membership, PartnerOrganisation, Signup
from volunteers.services import activities as activities_services

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def post(user, path, body=None, **headers):
    return client(user).post(path, body or {}, format="json", **headers)


def action(endpoint, pk, name):
    return f"{url(endpoint, pk)}{name}/"


def persona(world, vol, name):
    return {
        "leader_a": vol.leader_a,
        "leader_b": vol.leader_b,
        "leader_c": vol.leader_c,
        "committee2": vol.committee2,
        "committee1": world.committee1,
        "committee3": world.committee3,
        "admin1": world.admin1,
        "admin2": world.admin2,
        "worker3": world.worker3,
        "worker1": world.worker1,
        "member": vol.member_user,
        "resident": world.resident_user,
        "stranger": world.stranger,
    }[name]


# ---------------------------------------------------------------------------- teams


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("leader_a", {"a"}),
        ("leader_b", {"b"}),
        ("leader_c", {"c"}),
        ("committee2", {"a", "b"}),
        ("committee3", {"c"}),
        ("committee1", set()),
        ("admin1", {"a", "b"}),
        ("admin2", {"c"}),
        ("worker3", {"a", "b"}),  # the teams of the community of their grid
        ("worker1", set()),
        ("member", {"a"}),
        ("resident", set()),
    ],
)
def test_each_persona_lists_the_teams_in_their_scope(world, vol, who, sees):
    teams = {"a": vol.team_a.id, "b": vol.team_b.id, "c": vol.team_c.id}
    r = client(persona(world, vol, who)).get(url("volunteer-teams"))
    assert ids(r) == sorted(teams[k] for k in sees)


def test_a_stranger_may_not_list_teams(world, vol):
    assert client(world.stranger).get(url("volunteer-teams")).status_code == 403
    assert client(None).get(url("volunteer-teams")).status_code == 401


def test_a_team_shows_its_leader_and_member_count(world, vol):
    r = client(vol.leader_a).get(url("volunteer-teams", vol.team_a.id))
    assert r.status_code == 200
    body = r.json()
    assert body["leader"] == vol.leader_a_membership.id
    assert body["leader_name"] == vol.leader_a_membership.resident.name
    assert body["member_count"] == 5
    assert body["hours_rule"] == vol.hour_rule.id


@pytest.mark.parametrize(
    ("who", "expected"),
    [("committee2", 201), ("admin1", 201), ("committee3", 403), ("leader_a", 403)],
)
def test_the_committee_and_street_admin_create_teams(world, vol, who, expected):
    body = {"community": world.community2.id, "name": "巾帼学堂", "kind": "women"}
    r = post(persona(world, vol, who), url("volunteer-teams"), body)
    assert r.status_code == expected, r.content


def test_a_team_name_is_unique_in_its_community(world, vol):
    body = {"community": world.community2.id, "name": "银龄调解队"}
    r = post(vol.committee2, url("volunteer-teams"), body)
    assert r.status_code == 400 and "name" in r.json()


def test_a_leader_edits_their_own_team_but_not_another(world, vol):
    path = url("volunteer-teams", vol.team_a.id)
    r = client(vol.leader_a).patch(path, {"description": "调解邻里纠纷"}, format="json")
    assert r.status_code == 200, r.content
    r = client(vol.leader_a).patch(
        url("volunteer-teams", vol.team_b.id), {"description": "x"}, format="json"
    )
    assert r.status_code == 404
    assert client(vol.leader_a).delete(path).status_code == 403


# ---------------------------------------------------------------------------- members


def test_the_roster_lists_the_leader_first(world, vol):
    r = client(vol.leader_a).get(action("volunteer-teams", vol.team_a.id, "members"))
    assert r.status_code == 200
    rows = r.json()["results"]
    assert rows[0]["role"] == "leader" and len(rows) == 5


def test_a_member_sees_only_their_own_membership(world, vol):
    r = client(vol.member_user).get(action("volunteer-teams", vol.team_a.id, "members"))
    assert [row["id"] for row in r.json()["results"]] == [vol.member.id]


def test_a_leader_adds_a_resident_of_the_community(world, vol):
    from tests import factories as f

    newcomer = f.ResidentFactory(household=world.household3)
    path = action("volunteer-teams", vol.team_a.id, "members")
    r = post(vol.leader_a, path, {"resident": newcomer.id, "joined_on": "2025-06-01"})
    assert r.status_code == 201, r.content
    assert r.json()["role"] == "member"
    r = post(vol.leader_a, path, {"resident": world.resident1.id})
    assert r.status_code == 400 and "resident" in r.json()


@pytest.mark.parametrize(
    ("who", "expected"), [("leader_b", 404), ("leader_c", 404), ("member", 403)]
)
def test_others_cannot_add_members_to_team_a(world, vol, who, expected):
    from tests import factories as f

    newcomer = f.ResidentFactory(household=world.household3)
    path = action("volunteer-teams", vol.team_a.id, "members")
    r = post(persona(world, vol, who), path, {"resident": newcomer.id})
    assert r.status_code == expected, r.content


def test_a_leader_ends_a_membership(world, vol):
    path = f"{action('volunteer-teams', vol.team_a.id, 'members')}{vol.others[0].id}/"
    r = client(vol.leader_a).patch(path, {"active": False}, format="json")
    assert r.status_code == 200, r.content
    assert not Membership.objects.get(pk=vol.others[0].id).active
    other_team = f"{action('volunteer-teams', vol.team_b.id, 'members')}{vol.others[1].id}/"
    assert client(vol.leader_b).patch(other_team, {"active": False}).status_code == 404


# ---------------------------------------------------------------------------- activities


def activity_body(vol, **kw):
    starts = timezone.now() + dt.timedelta(days=3)
    return {
        "team": vol.team_a.id,
        "title": "重阳节敬老",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + dt.timedelta(hours=2)).isoformat(),
        "place": "社区党群服务中心",
        "capacity": 5,
        **kw,
    }


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("leader_a", 201),
        ("committee2", 201),
        ("admin1", 201),
        ("leader_b", 403),
        ("committee3", 403),
        ("admin2", 403),
        ("member", 403),
        ("worker3", 403),
        ("stranger", 403),
    ],
)
def test_who_may_schedule_an_activity_of_team_a(world, vol, who, expected):
    r = post(persona(world, vol, who), url("activities"), activity_body(vol))
    assert r.status_code == expected, r.content


def test_an_activity_must_end_after_it_starts_and_have_a_place(world, vol):
    body = activity_body(vol)
    body["ends_at"] = body["starts_at"]
    r = post(vol.leader_a, url("activities"), body)
    assert r.status_code == 400 and "ends_at" in r.json()
    r = post(vol.leader_a, url("activities"), activity_body(vol, capacity=0))
    assert r.status_code == 400 and "capacity" in r.json()


def test_an_activity_is_created_once_per_idempotency_key(world, vol):
    headers = {"HTTP_IDEMPOTENCY_KEY": "act-1"}
    body = activity_body(vol)
    first = post(vol.leader_a, url("activities"), body, **headers)
    second = post(vol.leader_a, url("activities"), body, **headers)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert Activity.objects.count() == 1


@pytest.mark.parametrize(
    ("who", "sees"),
    [("leader_a", True), ("member", True), ("committee2", True), ("leader_b", False),
     ("committee3", False), ("resident", False)],
)  # fmt: skip
def test_an_activity_is_seen_within_scope_only(world, vol, who, sees):
    activity = new_activity(vol)
    r = client(persona(world, vol, who)).get(url("activities", activity.id))
    assert r.status_code == (200 if sees else 404)


def test_sign_up_and_withdraw_through_the_api(world, vol):
    activity = new_activity(vol, capacity=1)
    first = post(vol.member_user, action("activities", activity.id, "signup"))
    assert first.status_code == 200 and first.json()["status"] == "confirmed"
    second = post(
        vol.leader_a, action("activities", activity.id, "signup"), {"membership": vol.others[0].id}
    )
    assert second.json()["status"] == "waitlisted"
    r = client(vol.leader_a).get(url("activities", activity.id))
    assert (r.json()["confirmed"], r.json()["waitlisted"]) == (1, 1)
    out = post(vol.member_user, action("activities", activity.id, "withdraw"))
    assert out.status_code == 200 and out.json()["status"] == "withdrawn"
    assert Signup.objects.get(membership=vol.others[0]).status == "confirmed"


def test_withdrawing_without_a_sign_up_is_a_400(world, vol):
    activity = new_activity(vol)
    r = post(vol.member_user, action("activities", activity.id, "withdraw"), **EN)
    assert r.status_code == 400
    assert "no sign-up" in str(r.json())


def test_a_leader_cannot_sign_up_a_member_of_another_team(world, vol):
    activity = new_activity(vol)
    r = post(
        vol.leader_a,
        action("activities", activity.id, "signup"),
        {"membership": vol.leader_b_membership.id},
    )
    assert r.status_code == 400 and "membership" in r.json()


def test_check_in_with_the_qr_token_and_check_out(world, vol):
    activity = new_activity(vol, starts_in=-dt.timedelta(minutes=10), hours=2)
    r = post(vol.member_user, action("activities", activity.id, "check-in"), {"token": "nope"})
    assert r.status_code == 403
    r = post(
        vol.member_user,
        action("activities", activity.id, "check-in"),
        {"token": activity.check_in_token},
    )
    assert r.status_code == 200, r.content
    r = post(vol.member_user, action("activities", activity.id, "check-out"))
    assert r.status_code == 200 and r.json()["hours"] is not None


def test_the_leader_records_attendance_across_midnight(world, vol):
    tz = timezone.get_current_timezone()
    night = dt.datetime.combine(timezone.localdate() - dt.timedelta(days=2), dt.time(22), tz)
    activity = new_activity(vol, starts_in=night - timezone.now(), hours=4)
    member = {"membership": vol.others[0].id}
    r = post(
        vol.leader_a,
        action("activities", activity.id, "check-in"),
        {**member, "at": night.isoformat()},
    )
    assert r.status_code == 200, r.content
    r = post(
        vol.leader_a,
        action("activities", activity.id, "check-out"),
        {**member, "at": (night + dt.timedelta(hours=3, minutes=30)).isoformat()},
    )
    assert r.status_code == 200, r.content
    assert Decimal(r.json()["hours"]) == Decimal("3.5")


def test_a_leader_of_another_team_cannot_record_attendance(world, vol):
    activity = new_activity(vol, starts_in=-dt.timedelta(hours=1))
    r = post(
        vol.leader_b, action("activities", activity.id, "check-in"), {"membership": vol.member.id}
    )
    assert r.status_code == 404


def test_complete_through_the_api_is_idempotent(world, vol):
    activity = new_activity(vol, starts_in=-dt.timedelta(days=1), hours=3)
    activities_services.check_in(
        user=vol.leader_a, activity=activity, membership=vol.member, at=activity.starts_at
    )
    activities_services.check_out(
        user=vol.leader_a, activity=activity, membership=vol.member, at=activity.ends_at
    )
    path = action("activities", activity.id, "complete")
    first = post(vol.leader_a, path)
    assert first.status_code == 200 and first.json()["status"] == "done"
    assert post(vol.leader_a, path).status_code == 200
    assert post(vol.committee2, path).status_code == 200
    assert Claim.objects.count() == 1
    assert Claim.objects.get().points == 6
    r = client(vol.leader_a).get(action("activities", activity.id, "attendance"))
    assert r.json()["results"][0]["claim_status"] == "submitted"


@pytest.mark.parametrize(
    ("who", "expected"),
    [("leader_b", 404), ("member", 403), ("committee3", 404), ("worker3", 403)],
)
def test_others_cannot_complete_an_activity_of_team_a(world, vol, who, expected):
    activity = new_activity(vol, starts_in=-dt.timedelta(days=1))
    r = post(persona(world, vol, who), action("activities", activity.id, "complete"))
    assert r.status_code == expected, r.content
    activity.refresh_from_db()
    assert activity.status == "planned"


def test_cancelling_then_completing_names_the_allowed_states(world, vol):
    activity = new_activity(vol, starts_in=-dt.timedelta(days=1))
    assert post(vol.leader_a, action("activities", activity.id, "cancel")).status_code == 200
    r = post(vol.leader_a, action("activities", activity.id, "complete"), **EN)
    assert r.status_code == 400
    assert "planned → done | cancelled" in str(r.json())


def test_an_activity_with_sign_ups_is_cancelled_not_deleted(world, vol):
    activity = new_activity(vol)
    activities_services.sign_up(user=vol.member_user, activity=activity)
    assert client(vol.leader_a).delete(url("activities", activity.id)).status_code == 400
    empty = new_activity(vol)
    assert client(vol.leader_a).delete(url("activities", empty.id)).status_code == 204


def test_a_done_activity_cannot_be_edited(world, vol):
    activity = new_activity(vol, starts_in=-dt.timedelta(days=1))
    activities_services.complete_activity(user=vol.leader_a, activity=activity)
    r = client(vol.leader_a).patch(url("activities", activity.id), {"title": "x"}, format="json")
    assert r.status_code == 400


# ---------------------------------------------------------------------------- partners


@pytest.fixture
def partners(world):
    return {
        "law": PartnerOrganisation.objects.create(
            community=world.community2, name="孙东晓律师事务所", service="免费法律咨询"
        ),
        "wai": PartnerOrganisation.objects.create(
            community=world.community3, name="外村诊所", service="免费义诊"
        ),
    }


@pytest.mark.parametrize(
    ("who", "sees"),
    [("committee2", {"law"}), ("admin1", {"law"}), ("admin2", {"wai"}), ("leader_a", {"law"}),
     ("member", {"law"}), ("committee1", set()), ("resident", set())],
)  # fmt: skip
def test_partner_organisations_by_persona(world, vol, partners, who, sees):
    r = client(persona(world, vol, who)).get(url("partner-organisations"))
    assert ids(r) == sorted(partners[k].id for k in sees)


@pytest.mark.parametrize(
    ("who", "expected"), [("committee2", 201), ("committee3", 403), ("leader_a", 403)]
)
def test_the_committee_lists_partner_organisations(world, vol, who, expected):
    body = {
        "community": world.community2.id,
        "name": '"拥抱幸福"心理工作室',
        "service": "心理疏导",
        "contact_phone": "13912345678",
    }
    r = post(persona(world, vol, who), url("partner-organisations"), body)
    assert r.status_code == expected, r.content


def test_a_partner_organisations_phone_is_checked(world, vol):
    body = {"community": world.community2.id, "name": "x", "service": "y", "contact_phone": "12"}
    r = post(vol.committee2, url("partner-organisations"), body)
    assert r.status_code == 400 and "contact_phone" in r.json()


# ---------------------------------------------------------------------------- reports


@pytest.fixture
def done_activities(world, vol):
    """Two activities of team A done last year: the member served 3.5 + 2 hours."""
    tz = timezone.get_current_timezone()
    year = timezone.localdate().year - 1
    made = []
    for month, hours in ((2, 3.5), (11, 2)):
        start = dt.datetime(year, month, 10, 22, tzinfo=tz)
        activity = new_activity(vol, starts_in=start - timezone.now(), hours=4)
        for member in (vol.member, vol.others[0]):
            activities_services.check_in(
                user=vol.leader_a, activity=activity, membership=member, at=activity.starts_at
            )
            activities_services.check_out(
                user=vol.leader_a,
                activity=activity,
                membership=member,
                at=activity.starts_at + dt.timedelta(hours=hours),
            )
        activities_services.complete_activity(user=vol.leader_a, activity=activity)
        made.append(activity)
    return year, made


def test_the_report_gives_hours_per_member_for_a_year_and_a_quarter(world, vol, done_activities):
    year, _ = done_activities
    r = client(vol.leader_a).get(url("reports/volunteer-hours"), {"year": year})
    assert r.status_code == 200, r.content
    member = next(m for m in r.json()["members"] if m["membership"] == vol.member.id)
    assert (Decimal(member["hours"]), member["activities"]) == (Decimal("5.5"), 2)
    team = next(t for t in r.json()["teams"] if t["team"] == vol.team_a.id)
    assert (team["activities"], team["attendances"], Decimal(team["hours"])) == (2, 4, 11)
    r = client(vol.leader_a).get(url("reports/volunteer-hours"), {"period": f"{year}Q4"})
    member = next(m for m in r.json()["members"] if m["membership"] == vol.member.id)
    assert Decimal(member["hours"]) == 2


def test_the_report_is_scoped(world, vol, done_activities):
    year, _ = done_activities
    r = client(vol.leader_b).get(url("reports/volunteer-hours"), {"year": year})
    assert r.json()["members"] == []
    r = client(vol.member_user).get(url("reports/volunteer-hours"), {"year": year})
    assert [m["membership"] for m in r.json()["members"]] == [vol.member.id]
    assert (
        client(world.stranger).get(url("reports/volunteer-hours"), {"year": year}).status_code
        == 403
    )


def test_the_report_needs_a_quarter_or_a_year(world, vol):
    r = client(vol.leader_a).get(url("reports/volunteer-hours"))
    assert r.status_code == 400 and "period" in r.json()
    r = client(vol.leader_a).get(url("reports/volunteer-hours"), {"period": "2026Q5"})
    assert r.status_code == 400


def test_the_report_as_xlsx_has_the_hours(world, vol, done_activities):
    year, _ = done_activities
    r = client(vol.committee2).get(
        url("reports/volunteer-hours"), {"year": year, "format": "xlsx", "team": vol.team_a.id}
    )
    assert r.status_code == 200
    assert r["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(r.content))
    members = list(book["志愿服务时长"].iter_rows(min_row=2, values_only=True))
    assert sorted((row[1], row[3], row[4]) for row in members) == sorted(
        [
            (world.resident3.name, 2, 5.5),
            (vol.others[0].resident.name, 2, 5.5),
        ]
    )
    teams = list(book["服务队活动"].iter_rows(min_row=2, values_only=True))
    assert teams == [(1, "银龄调解队", 2, 4, 11.0)]


def test_attendance_rows_hold_their_claim(world, vol, done_activities):
    assert Attendance.objects.filter(claim__isnull=False).count() == 4
