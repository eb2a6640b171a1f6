"""Where each role lands after the login (issue 16): a partner contact on /partner/, a team
leader on their team, a resident on /me/, staff in the admin; a user with several of these
pages sees links between them."""

from __future__ import annotations

from django.http import HttpResponse
from django.test import Client
from django.urls import reverse

from core.landing import role_pages
from tests import factories as f

PASSWORD = "pw"  # tests.factories.UserFactory's


def login(username: str) -> tuple[Client, HttpResponse]:
    """Log in through the phone login form, as a person does, and follow to the landing."""
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    r = client.post(reverse("login"), {"username": username, "password": PASSWORD}, follow=True)
    assert r.status_code in (200, 302), r.content
    return client, r


def landing(username: str) -> str:
    _client, r = login(username)
    return r.redirect_chain[-1][0]


def leader(world):
    team = f.VolunteerTeamFactory(community=world.community2, name="银龄调解队")
    user = f.UserFactory(username="leader", groups=["team_leader"])
    f.VolunteerMembershipFactory(
        team=team, resident=f.ResidentFactory(household=world.household3), user=user, role="leader"
    )
    return team, user


def test_a_partner_contact_lands_on_the_partner_page(world):
    assert landing("partner") == reverse("partners:home")


def test_a_team_leader_lands_on_their_team(world):
    team, _user = leader(world)
    # /volunteers/lead/ sends a leader of one team on to it.
    assert landing("leader") == reverse("volunteers:leader_team", args=[team.pk])


def test_a_resident_still_lands_on_me(world):
    assert landing("resident") == reverse("points:me")


def test_staff_still_land_in_the_admin(world):
    world.committee1.is_staff = True
    world.committee1.save(update_fields=["is_staff"])
    assert landing("committee").startswith(reverse("admin:index"))


def test_a_resident_who_leads_a_team_has_links_between_their_pages(world):
    team = f.VolunteerTeamFactory(community=world.community1, name="巾帼学堂")
    f.VolunteerMembershipFactory(team=team, resident=world.resident1, role="leader")
    pages = [p.url for p in role_pages(world.resident_user)]
    assert pages == [reverse("volunteers:leader_home"), reverse("points:me")]
    client, r = login("resident")
    page = client.get(reverse("points:me")).content.decode()
    assert 'class="roles"' in page
    assert reverse("volunteers:leader_home") in page and "我的队伍" in page


def test_a_user_with_one_page_sees_no_links_bar(world):
    client, r = login("partner")
    assert 'class="roles"' not in r.content.decode()


def test_the_home_page_for_visitors_links_the_partner_and_leader_login(world):
    page = Client(HTTP_ACCEPT_LANGUAGE="zh-hans").get("/").content.decode()
    assert "共建单位" in page and "志愿服务队队长" in page
    assert 'data-test="home-partner"' in page


def test_no_page_for_nobody(world):
    assert role_pages(world.stranger) == []
