"""Who may be put on a team's roster, with which login and as leader — through the API and the
admin alike (volunteers.services: check_resident, check_login, ensure_may_choose_leader).

A membership's login acts as the member (checks in for them) and a leader's login gets the
team's scope: a team's leader links no login or the resident's own; the committee or street
admin may link a login of no one else (no resident, no other resident's membership, no post);
only the committee or street admin chooses who leads."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from core.scope import resolve_scope
from points.models import Rule
from tests import factories as f
from tests.api_helpers import client, fresh, url
from volunteers.models import Membership, Team
from volunteers.services import teams as teams_services

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
LEADER_REFUSED = "Only the committee of the community or the street admin chooses"


def roster() -> list[tuple[Any, ...]]:
    """Every membership as stored, to show that a refusal changed nothing."""
    return list(
        Membership.objects.order_by("id").values_list(
            "id", "team_id", "resident_id", "user_id", "role", "active", "joined_on"
        )
    )


def members_url(team: Team, membership: Membership | None = None) -> str:
    base = f"{url('volunteer-teams', team.id)}members/"
    return f"{base}{membership.id}/" if membership else base


def post(user, path, body):
    return client(user).post(path, body, format="json", **EN)


def patch(user, path, body):
    return client(user).patch(path, body, format="json", **EN)


def logins(world, vol) -> dict[str, Any]:
    """Logins that are not a newcomer's own: officials, other residents, other members."""
    return {
        "admin2": world.admin2,  # the other street's admin
        "admin1": world.admin1,
        "committee3": world.committee3,
        "committee2b": vol.committee2b,
        "worker3": world.worker3.user,
        "partner": world.partner_user,
        "superuser": world.superuser,
        "resident1": world.resident_user,  # another resident's own login
        "member": vol.member_user,  # another resident's (a member's) own login
        "leader_b": vol.leader_b,  # the login another resident's membership uses
    }


@pytest.fixture
def newcomer(world):
    return f.ResidentFactory(household=world.household3, name="新队员")


# ---------------------------------------------------------------------------- the API


@pytest.mark.parametrize(
    "login",
    ["admin2", "admin1", "committee3", "committee2b", "worker3", "partner", "superuser",
     "resident1", "member", "leader_b"],
)  # fmt: skip
@pytest.mark.parametrize("who", ["leader_a", "committee2"])
def test_no_one_links_another_persons_login_to_a_new_member(world, vol, newcomer, who, login):
    user = {"leader_a": vol.leader_a, "committee2": vol.committee2}[who]
    linked = logins(world, vol)[login]
    before = roster()
    r = post(user, members_url(vol.team_a), {"resident": newcomer.id, "login": linked.id})
    assert r.status_code == 400, r.content
    assert "login" in r.json()
    assert roster() == before
    assert vol.team_a.id not in resolve_scope(fresh(linked)).team_ids


@pytest.mark.parametrize("login", ["admin2", "committee3", "member"])
def test_a_leader_cannot_make_another_login_the_leader(world, vol, newcomer, login):
    """The reproduction of the review: 403, the old leader stays, the login gets no scope."""
    linked = logins(world, vol)[login]
    before = roster()
    body = {"resident": newcomer.id, "login": linked.id, "role": "leader"}
    r = post(vol.leader_a, members_url(vol.team_a), body)
    assert r.status_code == 403, r.content
    assert LEADER_REFUSED in r.json()["detail"]
    assert roster() == before
    assert vol.team_a.leader == vol.leader_a_membership
    assert not resolve_scope(fresh(linked)).team_ids


def test_a_leader_cannot_name_a_new_leader_even_without_a_login(world, vol, newcomer):
    before = roster()
    r = post(vol.leader_a, members_url(vol.team_a), {"resident": newcomer.id, "role": "leader"})
    assert r.status_code == 403 and LEADER_REFUSED in r.json()["detail"]
    r = patch(vol.leader_a, members_url(vol.team_a, vol.member), {"role": "leader"})
    assert r.status_code == 403 and LEADER_REFUSED in r.json()["detail"]
    assert roster() == before


@pytest.mark.parametrize("login", ["admin2", "committee3", "resident1", "leader_b"])
@pytest.mark.parametrize("who", ["leader_a", "committee2"])
def test_no_one_links_another_persons_login_to_a_member(world, vol, who, login):
    user = {"leader_a": vol.leader_a, "committee2": vol.committee2}[who]
    before = roster()
    linked = logins(world, vol)[login]
    r = patch(user, members_url(vol.team_a, vol.others[0]), {"login": linked.id})
    assert r.status_code == 400 and "login" in r.json(), r.content
    assert roster() == before


def test_a_leader_links_no_login_or_the_residents_own(world, vol, newcomer):
    newcomer.user = f.UserFactory(username="newcomer")
    newcomer.save(update_fields=["user"])
    r = post(vol.leader_a, members_url(vol.team_a), {"resident": newcomer.id})
    assert r.status_code == 201, r.content
    r = patch(vol.leader_a, members_url(vol.team_a, Membership.objects.get(pk=r.json()["id"])),
              {"login": newcomer.user.id})  # fmt: skip
    assert r.status_code == 200, r.content
    assert r.json()["login"] == newcomer.user.id
    r = patch(vol.leader_a, members_url(vol.team_a, vol.member), {"login": vol.member_user.id})
    assert r.status_code == 200, r.content
    r = patch(vol.leader_a, members_url(vol.team_a, vol.member), {"login": None})
    assert r.status_code == 200 and r.json()["login"] is None


def test_a_leader_cannot_link_a_fresh_login_the_committee_can(world, vol, newcomer):
    fresh_login = f.UserFactory(username="volunteer_phone")
    body = {"resident": newcomer.id, "login": fresh_login.id}
    r = post(vol.leader_a, members_url(vol.team_a), body)
    assert r.status_code == 400 and "login" in r.json()
    r = post(vol.committee2, members_url(vol.team_a), body)
    assert r.status_code == 201, r.content
    assert r.json()["login"] == fresh_login.id


def test_the_committee_or_street_admin_names_a_leader_with_a_fresh_login(world, vol, newcomer):
    fresh_login = f.UserFactory(username="new_leader")
    body = {"resident": newcomer.id, "login": fresh_login.id, "role": "leader"}
    r = post(world.admin1, members_url(vol.team_a), body)
    assert r.status_code == 201, r.content
    vol.leader_a_membership.refresh_from_db()
    assert vol.leader_a_membership.role == "member"
    assert resolve_scope(fresh_login).team_ids == {vol.team_a.id}
    assert not resolve_scope(fresh(vol.leader_a)).team_ids


def test_a_leader_may_step_down_and_keep_their_login(world, vol):
    r = patch(vol.leader_a, members_url(vol.team_a, vol.leader_a_membership),
              {"role": "member", "login": vol.leader_a.id})  # fmt: skip
    assert r.status_code == 200, r.content
    assert vol.team_a.leader is None


def test_a_former_leader_is_brought_back_as_leader_by_the_committee_only(world, vol):
    teams_services.update_member(
        user=vol.committee2, membership=vol.leader_a_membership, active=False
    )
    teams_services.update_member(user=vol.committee2, membership=vol.member, role="leader")
    vol.member_user.groups.add(Group.objects.get(name="team_leader"))
    path = members_url(vol.team_a, vol.leader_a_membership)
    body = {"active": True, "role": "leader"}
    r = patch(vol.member_user, path, body)
    assert r.status_code == 403 and LEADER_REFUSED in r.json()["detail"]
    r = patch(vol.committee2, path, body)
    assert r.status_code == 200, r.content
    assert vol.team_a.leader == vol.leader_a_membership
    vol.member.refresh_from_db()
    assert vol.member.role == "member"


# ---------------------------------------------------------------------------- the admin


def admin_url(team: Team) -> str:
    return reverse("admin:volunteers_team_change", args=[team.pk])


def team_body(team: Team, changes: dict[int, dict] | None = None, new: tuple = (), **fields):
    """The team's change form as the admin posts it: its roster as stored, with `changes`
    (by membership id) and `new` rows."""
    body: dict[str, Any] = {
        "name": team.name, "kind": team.kind, "description": team.description,
        "hours_rule": team.hours_rule_id or "", **fields,
    }  # fmt: skip
    rows = []
    for m in Membership.objects.filter(team=team).order_by("id"):
        row = {"id": m.pk, "resident": m.resident_id, "user": m.user_id or "",
               "joined_on": m.joined_on.isoformat(), "role": m.role,
               "active": m.active}  # fmt: skip
        rows.append({**row, **(changes or {}).get(m.pk, {})})
    initial = len(rows)
    for extra in new:
        rows.append({"id": "", "user": "", "joined_on": "2025-06-01", "role": "member",
                     "active": True, **extra})  # fmt: skip
    for i, row in enumerate(rows):
        for key, value in row.items():
            if key == "active":
                if value:
                    body[f"memberships-{i}-active"] = "on"
            else:
                body[f"memberships-{i}-{key}"] = "" if value is None else value
        body[f"memberships-{i}-team"] = team.pk
    body.update({"memberships-TOTAL_FORMS": len(rows), "memberships-INITIAL_FORMS": initial,
                 "memberships-MIN_NUM_FORMS": 0, "memberships-MAX_NUM_FORMS": 1000,
                 "activities-TOTAL_FORMS": 0, "activities-INITIAL_FORMS": 0,
                 "activities-MIN_NUM_FORMS": 0, "activities-MAX_NUM_FORMS": 1000})  # fmt: skip
    return body


TEAM_PERMS = ("view_team", "change_team", "view_membership", "change_membership",
              "add_membership", "delete_membership")  # fmt: skip


@pytest.fixture
def leader_on_grid3(world, vol, staff_client):
    """leader_a, who is also a grid worker of grid 3: they see its residents (so can pick
    them in the admin) but run only their team, not the community."""
    worker = f.GridWorkerFactory(user=vol.leader_a, community=world.community2)
    f.GridAssignmentFactory(worker=worker, grid=world.grid3)
    return staff_client(vol.leader_a, *TEAM_PERMS)


def test_the_hours_rule_is_read_only_in_the_admin_for_a_team_leader(world, vol, staff_client):
    leader = staff_client(vol.leader_a, *TEAM_PERMS)
    assert 'name="hours_rule"' not in leader.get(admin_url(vol.team_a)).content.decode()
    r = leader.post(admin_url(vol.team_a), team_body(vol.team_a, hours_rule="", name="新名"))
    assert r.status_code == 302, r.content.decode()[:3000]
    team = Team.objects.get(pk=vol.team_a.pk)
    assert team.hours_rule == vol.hour_rule and team.name == "新名"


def test_the_committee_changes_the_hours_rule_in_the_admin(world, vol, staff_client):
    committee = staff_client(vol.committee2, *TEAM_PERMS)
    assert 'name="hours_rule"' in committee.get(admin_url(vol.team_a)).content.decode()
    other = Rule.objects.create(
        community=world.community2, code="hour2", name="每小时", category="reward", points=3
    )
    r = committee.post(admin_url(vol.team_a), team_body(vol.team_a, hours_rule=other.pk))
    assert r.status_code == 302, r.content.decode()[:3000]
    assert Team.objects.get(pk=vol.team_a.pk).hours_rule == other


def test_a_grid_worker_who_sees_the_team_cannot_change_it_in_the_admin(world, vol, staff_client):
    worker = staff_client(world.worker3, *TEAM_PERMS)
    before = roster()
    r = worker.post(admin_url(vol.team_a), team_body(vol.team_a, name="改名"))
    assert r.status_code == 200 and "Only the team&#x27;s leader" in r.content.decode()
    assert Team.objects.get(pk=vol.team_a.pk).name == vol.team_a.name and roster() == before


def test_a_leader_adds_a_member_in_the_admin_through_the_service(
    world, vol, newcomer, leader_on_grid3
):
    body = team_body(vol.team_a, new=[{"resident": newcomer.pk}])
    r = leader_on_grid3.post(admin_url(vol.team_a), body)
    assert r.status_code == 302, r.content.decode()[:3000]
    added = Membership.objects.get(team=vol.team_a, resident=newcomer)
    assert added.active and added.role == "member" and added.user is None


@pytest.mark.parametrize(
    ("row", "field_text"),
    [
        ({"role": "leader"}, LEADER_REFUSED),
        ({"user": "admin2"}, "Link no login or the resident"),
        ({"user": "committee3"}, "Link no login or the resident"),
    ],
)
def test_a_leader_is_refused_in_the_admin_what_the_api_refuses(
    world, vol, newcomer, leader_on_grid3, row, field_text
):
    if "user" in row:
        row = {**row, "user": logins(world, vol)[row["user"]].pk}
    before = roster()
    r = leader_on_grid3.post(
        admin_url(vol.team_a), team_body(vol.team_a, new=[{"resident": newcomer.pk, **row}])
    )
    assert r.status_code == 200
    assert field_text in r.content.decode().replace("&#x27;", "'")
    assert roster() == before


def test_a_leader_cannot_promote_a_member_in_the_admin(world, vol, leader_on_grid3):
    before = roster()
    body = team_body(vol.team_a, changes={vol.member.pk: {"role": "leader"}})
    r = leader_on_grid3.post(admin_url(vol.team_a), body)
    assert r.status_code == 200 and LEADER_REFUSED in r.content.decode()
    body = team_body(vol.team_a, changes={vol.others[0].pk: {"user": world.admin2.pk}})
    r = leader_on_grid3.post(admin_url(vol.team_a), body)
    assert r.status_code == 200 and "Link no login or the resident" in r.content.decode().replace(
        "&#x27;", "'"
    )
    assert roster() == before


def test_the_admin_refuses_a_resident_of_another_community(world, vol, staff_client):
    admin = staff_client(world.admin1, *TEAM_PERMS)  # sees communities 1 and 2
    before = roster()
    r = admin.post(
        admin_url(vol.team_a), team_body(vol.team_a, new=[{"resident": world.resident1.pk}])
    )
    assert r.status_code == 200
    assert "A team&#x27;s members are residents of the team&#x27;s community" in r.content.decode()
    assert roster() == before


def test_the_committee_names_a_new_leader_in_the_admin(world, vol, newcomer, staff_client):
    committee = staff_client(vol.committee2, *TEAM_PERMS)
    body = team_body(vol.team_a, new=[{"resident": newcomer.pk, "role": "leader"}])
    r = committee.post(admin_url(vol.team_a), body)
    assert r.status_code == 302, r.content.decode()[:3000]
    assert vol.team_a.leader.resident == newcomer
    vol.leader_a_membership.refresh_from_db()
    assert vol.leader_a_membership.role == "member"
    # Promoting a member on the roster steps the new leader down in turn.
    body = team_body(vol.team_a, changes={vol.member.pk: {"role": "leader"}})
    assert committee.post(admin_url(vol.team_a), body).status_code == 302
    assert vol.team_a.leader == vol.member


def test_the_committee_names_one_leader_at_a_time_in_the_admin(world, vol, newcomer, staff_client):
    committee = staff_client(vol.committee2, *TEAM_PERMS)
    before = roster()
    body = team_body(vol.team_a, changes={vol.member.pk: {"role": "leader"}},
                     new=[{"resident": newcomer.pk, "role": "leader"}])  # fmt: skip
    r = committee.post(admin_url(vol.team_a), body)
    assert r.status_code == 200 and "A team has one leader" in r.content.decode()
    assert roster() == before


def test_the_committee_links_only_a_login_of_no_one_else_in_the_admin(
    world, vol, newcomer, staff_client
):
    committee = staff_client(vol.committee2, *TEAM_PERMS)
    before = roster()
    body = team_body(vol.team_a, new=[{"resident": newcomer.pk, "user": world.admin2.pk}])
    r = committee.post(admin_url(vol.team_a), body)
    assert r.status_code == 200 and "This login belongs to another resident" in r.content.decode()
    assert roster() == before
    fresh_login = f.UserFactory(username="phone_of_newcomer")
    body = team_body(vol.team_a, new=[{"resident": newcomer.pk, "user": fresh_login.pk}])
    assert committee.post(admin_url(vol.team_a), body).status_code == 302
    assert Membership.objects.get(team=vol.team_a, resident=newcomer).user == fresh_login


def test_a_membership_stays_with_its_resident_in_the_admin(world, vol, newcomer, staff_client):
    committee = staff_client(vol.committee2, *TEAM_PERMS)
    before = roster()
    body = team_body(vol.team_a, changes={vol.others[0].pk: {"resident": newcomer.pk}})
    r = committee.post(admin_url(vol.team_a), body)
    assert r.status_code == 200 and "A membership stays with its resident" in r.content.decode()
    assert roster() == before


def test_ending_a_membership_in_the_admin_goes_through_the_service(world, vol, staff_client):
    committee = staff_client(vol.committee2, *TEAM_PERMS)
    change = {"active": False, "joined_on": "2024-05-01"}
    body = team_body(vol.team_a, changes={vol.others[0].pk: change})
    assert committee.post(admin_url(vol.team_a), body).status_code == 302
    vol.others[0].refresh_from_db()
    assert not vol.others[0].active and vol.others[0].joined_on == dt.date(2024, 5, 1)


def test_a_team_is_added_in_the_admin_through_the_service(world, vol, staff_client):
    body = {
        "community": world.community2.pk, "name": "巾帼志愿队", "kind": "women",
        "description": "", "hours_rule": vol.hour_rule.pk,
        **{f"{p}-{k}": n for p in ("memberships", "activities")
           for k, n in (("TOTAL_FORMS", 0), ("INITIAL_FORMS", 0))},
    }  # fmt: skip
    client = staff_client(vol.committee2, "add_team")
    r = client.post(reverse("admin:volunteers_team_add"), body)
    assert r.status_code == 302, r.content.decode()[:3000]
    assert Team.objects.get(name="巾帼志愿队").hours_rule == vol.hour_rule
