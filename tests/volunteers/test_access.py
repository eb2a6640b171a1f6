"""volunteers.access, per persona: who manages a team and who runs a community's volunteer
matters; and the deletes that go through volunteers.services (API and admin), which refuse
an unauthorised user themselves."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from tests import factories as f
from tests.api_helpers import client, fresh
from tests.volunteers.conftest import new_activity
from volunteers import access
from volunteers.models import Activity, Membership, PartnerOrganisation, Team
from volunteers.services import activities as activities_services
from volunteers.services import teams as teams_services


def persona(world: Any, vol: Any, who: str) -> Any:
    """owner: runs team A's community (committee2, admin1) or leads it (leader_a); colleague:
    the same post elsewhere (committee1, committee3, admin2, leader_b, leader_c); outsider:
    a member of the team, a resident, a stranger."""
    if who == "nobody":
        return f.UserFactory(username="nobody")
    return getattr(vol, who, None) or getattr(world, who)


# owner, colleague with another scope, outsider
TEAM_A = [
    ("committee2", True),
    ("admin1", True),
    ("leader_a", True),
    ("superuser", True),
    ("committee1", False),  # another community of the same street
    ("committee3", False),
    ("admin2", False),  # another street
    ("leader_b", False),  # another team of the same community
    ("leader_c", False),
    ("member_user", False),  # a member, not its leader
    ("resident_user", False),
    ("nobody", False),
]


@pytest.mark.parametrize(("who", "allowed"), TEAM_A)
def test_who_manages_team_a(world, vol, who, allowed):
    user = fresh(persona(world, vol, who))
    assert access.may_manage_team(user, vol.team_a) is allowed
    if allowed:
        access.access_manage_team(user, vol.team_a)
    else:
        with pytest.raises(PermissionDenied):
            access.access_manage_team(user, vol.team_a)


@pytest.mark.parametrize(
    ("who", "allowed"),
    # A team's leader manages the team, not its community's volunteer matters.
    [(who, allowed and who != "leader_a") for who, allowed in TEAM_A],
)
def test_who_runs_the_volunteer_matters_of_community_2(world, vol, who, allowed):
    user = fresh(persona(world, vol, who))
    assert access.may_manage_community(user, world.community2) is allowed
    if allowed:
        access.access_manage_community(user, world.community2)
    else:
        with pytest.raises(PermissionDenied):
            access.access_manage_community(user, world.community2)


def test_an_anonymous_visitor_manages_nothing(world, vol):
    assert not access.may_manage_team(None, vol.team_a)
    assert not access.may_manage_community(None, world.community2)


# ---------------------------------------------------------------------------- deletes


@pytest.mark.parametrize(
    ("who", "allowed"), [("committee2", True), ("leader_a", False), ("committee3", False)]
)
def test_deleting_a_team_is_for_those_who_run_its_community(world, vol, who, allowed):
    team = f.VolunteerTeamFactory(community=world.community2, name="新队")
    user = fresh(persona(world, vol, who))
    if allowed:
        teams_services.delete_team(user=user, team=team)
        assert not Team.objects.filter(pk=team.pk).exists()
    else:
        with pytest.raises(PermissionDenied):
            teams_services.delete_team(user=user, team=team)
        assert Team.objects.filter(pk=team.pk).exists()


def test_the_api_deletes_a_team_through_the_service(world, vol):
    team = f.VolunteerTeamFactory(community=world.community2, name="新队")
    path = f"/api/v1/volunteer-teams/{team.pk}/"
    assert client(vol.leader_a).delete(path).status_code == 403  # a leader deletes no team
    assert client(world.committee3).delete(path).status_code == 404
    assert client(vol.committee2).delete(path).status_code == 204
    assert not Team.objects.filter(pk=team.pk).exists()


@pytest.mark.parametrize(
    ("who", "allowed"), [("admin1", True), ("leader_a", False), ("admin2", False)]
)
def test_deleting_a_partner_organisation_is_for_those_who_run_its_community(
    world, vol, who, allowed
):
    organisation = teams_services.save_partner_organisation(
        user=vol.committee2, community=world.community2, name="律所", service="免费法律咨询"
    )
    user = fresh(persona(world, vol, who))
    if allowed:
        teams_services.delete_partner_organisation(user=user, organisation=organisation)
        assert not PartnerOrganisation.objects.filter(pk=organisation.pk).exists()
    else:
        with pytest.raises(PermissionDenied):
            teams_services.delete_partner_organisation(user=user, organisation=organisation)
        assert PartnerOrganisation.objects.filter(pk=organisation.pk).exists()


@pytest.mark.parametrize(
    ("who", "allowed"), [("leader_a", True), ("committee2", True), ("leader_b", False)]
)
def test_removing_a_member_is_for_those_who_manage_the_team(world, vol, who, allowed):
    row = vol.others[0]
    user = fresh(persona(world, vol, who))
    if allowed:
        teams_services.remove_member(user=user, membership=row)
        assert not Membership.objects.filter(pk=row.pk).exists()
    else:
        with pytest.raises(PermissionDenied):
            teams_services.remove_member(user=user, membership=row)
        assert Membership.objects.filter(pk=row.pk).exists()


def admin_delete(model: str, pk: int) -> str:
    return reverse(f"admin:volunteers_{model}_delete", args=[pk])


def test_the_admin_deletes_an_empty_activity_through_the_service(world, vol, staff_client):
    activity = new_activity(vol)
    admin = staff_client(vol.leader_a, "view_activity", "delete_activity")
    response = admin.post(admin_delete("activity", activity.pk), {"post": "yes"})
    assert response.status_code == 302
    assert response.url == reverse("admin:volunteers_activity_changelist")
    assert not Activity.objects.filter(pk=activity.pk).exists()


def test_the_admin_keeps_an_activity_members_signed_up_for(world, vol, staff_client):
    activity = new_activity(vol)
    activities_services.sign_up(user=vol.member_user, activity=activity)
    admin = staff_client(vol.leader_a, "view_activity", "delete_activity")
    path = admin_delete("activity", activity.pk)
    response = admin.post(path, {"post": "yes"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302
    assert response.url == path  # back to the confirmation, with the reason
    page = admin.get(path).content.decode()
    assert "cancel it instead" in page
    assert Activity.objects.filter(pk=activity.pk).exists()


def test_the_admins_delete_selected_skips_what_the_service_refuses(world, vol, staff_client):
    kept, dropped = new_activity(vol, title="有人报名"), new_activity(vol, title="无人报名")
    activities_services.sign_up(user=vol.member_user, activity=kept)
    admin = staff_client(vol.leader_a, "view_activity", "delete_activity")
    response = admin.post(
        reverse("admin:volunteers_activity_changelist"),
        {"action": "delete_selected", "_selected_action": [kept.pk, dropped.pk], "post": "yes"},
        follow=True,
    )
    assert response.status_code == 200
    notes = [str(m) for m in response.context["messages"]]
    assert notes == [
        f"{kept}: Members have signed up for this activity, or it took place: cancel it instead.",
        "Successfully deleted 1 volunteer activity.",
    ]
    assert list(Activity.objects.values_list("pk", flat=True)) == [kept.pk]
