"""The volunteers admin: scoped changelists, the team with its roster and activities inline,
the activity with its sign-ups and attendance, the "mark done" action through the service."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse

from points.models import Claim
from tests.volunteers.conftest import new_activity
from volunteers.models import Activity
from volunteers.services import activities as activities_services

MODELS = ["team", "activity", "partnerorganisation"]


def no_inline_rows(*prefixes: str) -> dict[str, int]:
    """The management forms of inlines posted without rows."""
    counts = {"TOTAL_FORMS": 0, "INITIAL_FORMS": 0, "MIN_NUM_FORMS": 0, "MAX_NUM_FORMS": 1000}
    return {f"{p}-{k}": v for p in prefixes for k, v in counts.items()}


def url(model: str, action: str = "changelist", *args: Any) -> str:
    return reverse(f"admin:volunteers_{model}_{action}", args=args)


@pytest.mark.parametrize("model", MODELS)
def test_changelist_and_add_pages_load_for_the_superuser(world, vol, staff_client, model):
    new_activity(vol)
    client = staff_client(world.superuser)
    assert client.get(url(model)).status_code == 200
    assert client.get(url(model, "add")).status_code == 200


def test_the_team_page_shows_its_members_and_activities_inline(world, vol, staff_client):
    activity = new_activity(vol, title="重阳节敬老")
    client = staff_client(vol.committee2, "view_team", "change_team", "view_membership",
                          "change_membership", "add_membership", "view_activity")  # fmt: skip
    r = client.get(url("team", "change", vol.team_a.pk))
    assert r.status_code == 200
    text = r.content.decode()
    assert vol.leader_a_membership.resident.name in text and activity.title in text


def test_the_committee_lists_only_the_teams_of_their_community(world, vol, staff_client):
    client = staff_client(vol.committee2, "view_team")
    text = client.get(url("team")).content.decode()
    assert "银龄调解队" in text and "外村志愿队" not in text
    response = client.get(url("team", "change", vol.team_c.pk))
    assert response.status_code == 302
    assert response.url == "/admin/"  # the admin's "does not exist", not the login page


def test_the_activity_page_shows_sign_ups_and_attendance(world, vol, staff_client):
    activity = new_activity(vol, starts_in=dt.timedelta(hours=2))
    activities_services.sign_up(user=vol.member_user, activity=activity)
    client = staff_client(vol.committee2, "view_activity", "change_activity")
    r = client.get(url("activity", "change", activity.pk))
    assert r.status_code == 200
    assert vol.member.resident.name in r.content.decode()


def test_mark_done_completes_through_the_service_once(world, vol, staff_client):
    activity = new_activity(vol, starts_in=-dt.timedelta(days=1), hours=2)
    activities_services.check_in(
        user=vol.leader_a, activity=activity, membership=vol.member, at=activity.starts_at
    )
    client = staff_client(vol.committee2, "view_activity", "change_activity")
    body = {"action": "mark_done", "_selected_action": [activity.pk]}
    assert client.post(url("activity"), body).status_code == 302
    assert client.post(url("activity"), body).status_code == 302
    activity.refresh_from_db()
    assert activity.status == "done" and activity.completed_by == vol.committee2
    assert Claim.objects.count() == 1 and Claim.objects.get().points == 4


def test_raising_the_capacity_in_the_admin_moves_the_waitlist_up(world, vol, staff_client):
    activity = new_activity(vol, capacity=1)
    activities_services.sign_up(user=vol.member_user, activity=activity)
    waiting = activities_services.sign_up(
        user=vol.leader_a, activity=activity, membership=vol.others[0]
    )
    client = staff_client(vol.committee2, "view_activity", "change_activity")
    tz_start = activity.starts_at.astimezone()
    body = {
        "team": vol.team_a.pk,
        "title": activity.title,
        "starts_at_0": tz_start.strftime("%Y-%m-%d"),
        "starts_at_1": tz_start.strftime("%H:%M:%S"),
        "ends_at_0": activity.ends_at.astimezone().strftime("%Y-%m-%d"),
        "ends_at_1": activity.ends_at.astimezone().strftime("%H:%M:%S"),
        "place": activity.place,
        "capacity": 2,
        "description": "",
        **no_inline_rows("signups", "attendances"),
    }  # fmt: skip
    r = client.post(url("activity", "change", activity.pk), body)
    assert r.status_code == 302, r.content.decode()[:3000]
    waiting.refresh_from_db()
    assert waiting.status == "confirmed"
    assert Activity.objects.get(pk=activity.pk).capacity == 2


def test_the_team_form_refuses_a_deduction_as_the_hours_rule(world, vol, staff_client):
    from points.models import Rule

    fine = Rule.objects.create(
        community=world.community2, code="fine", name="罚", category="deduction", points=1
    )
    body = {
        "community": world.community2.pk, "name": "新队", "kind": "other", "description": "",
        "hours_rule": fine.pk,
        **no_inline_rows("memberships", "activities"),
    }  # fmt: skip
    client = staff_client(vol.committee2, "add_team")
    r = client.post(url("team", "add"), body)
    assert r.status_code == 200 and "hours_rule" in r.content.decode()
