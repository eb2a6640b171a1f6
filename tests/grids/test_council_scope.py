"""Who may read and run a council, per persona: the committee of the community and its
street admin run it; its grid workers read it; another street's committee finds nothing;
partners, residents and strangers are refused."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from grids import services
from grids.models import AgendaItem, Council
from tests.api_helpers import client, ids
from tests.grids.council_helpers import at

API = "/api/v1/"
JAN = dt.date(2027, 1, 1)


@pytest.fixture
def councils(world):
    """January's council of each community, community 1's with an item."""
    made = {
        name: services.plan_council(community=getattr(world, name), month=JAN)
        for name in ("community1", "community2", "community3")
    }
    services.add_agenda_item(council=made["community1"], user=world.committee1, title="村道泥泞")
    return made


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("committee1", ["community1"]),
        ("committee3", ["community3"]),
        ("admin1", ["community1", "community2"]),
        ("admin2", ["community3"]),
        ("worker1", ["community1"]),
        ("worker3", ["community2"]),
        ("superuser", ["community1", "community2", "community3"]),
    ],
)
def test_each_persona_lists_only_the_councils_of_their_scope(world, councils, persona, expected):
    r = client(getattr(world, persona)).get(f"{API}councils/")
    assert ids(r) == sorted(councils[name].pk for name in expected)


@pytest.mark.parametrize("persona", ["partner_user", "resident_user", "stranger"])
def test_partners_residents_and_strangers_see_no_council(world, councils, persona):
    user = getattr(world, persona)
    assert client(user).get(f"{API}councils/").status_code == 403
    assert client(user).get(f"{API}agenda-items/").status_code == 403
    page = Client()
    page.force_login(user)  # the minutes are a page: a session, not the API's authentication
    assert page.get(f"/councils/{councils['community2'].pk}/minutes/").status_code == 404


def test_a_committee_of_another_street_finds_nothing_of_the_council(world, councils):
    council = councils["community1"]
    item = council.items.get()
    other = client(world.committee3)
    assert other.get(f"{API}councils/{council.pk}/").status_code == 404
    assert other.get(f"{API}councils/{council.pk}/agenda-items/").status_code == 404
    assert (
        other.post(f"{API}councils/{council.pk}/agenda-items/", {"title": "x"}).status_code == 404
    )
    with at(dt.date(2027, 1, 8)):
        assert other.post(f"{API}councils/{council.pk}/fix-agenda/").status_code == 404
    assert other.patch(f"{API}councils/{council.pk}/", {"place": "x"}).status_code == 404
    assert other.patch(f"{API}agenda-items/{item.pk}/", {"decision": "x"}).status_code == 404
    assert other.delete(f"{API}agenda-items/{item.pk}/").status_code == 404


def test_a_committee_cannot_plan_another_communitys_council(world):
    r = client(world.committee3).post(
        f"{API}councils/", {"community": world.community1.id, "month": "2027-02-01"}
    )
    assert r.status_code == 403
    assert not Council.objects.exists()


def test_a_grid_worker_reads_the_council_but_cannot_run_it(world, councils):
    council = councils["community1"]
    worker = client(world.worker1)
    r = worker.get(f"{API}councils/{council.pk}/agenda-items/")
    assert [i["title"] for i in r.json()["results"]] == ["村道泥泞"]
    assert worker.get(f"{API}councils/{council.pk}/pending-evaluation/").status_code == 200
    assert ids(worker.get(f"{API}agenda-items/")) == [council.items.get().pk]
    assert (
        worker.post(f"{API}councils/{council.pk}/agenda-items/", {"title": "x"}).status_code == 403
    )
    assert worker.patch(f"{API}councils/{council.pk}/", {"place": "x"}).status_code == 403
    with at(dt.date(2027, 1, 8)):
        assert worker.post(f"{API}councils/{council.pk}/fix-agenda/").status_code == 403
        assert worker.post(f"{API}councils/{council.pk}/hold/").status_code == 403
    assert worker.post(f"{API}councils/{council.pk}/evaluate/").status_code == 403
    item = council.items.get()
    assert worker.patch(f"{API}agenda-items/{item.pk}/", {"decision": "x"}).status_code == 403
    assert (
        worker.post(
            f"{API}councils/", {"community": world.community1.id, "month": "2027-02-01"}
        ).status_code
        == 403
    )


def test_a_grid_worker_of_another_community_finds_nothing(world, councils):
    council = councils["community1"]
    assert client(world.worker3).get(f"{API}councils/{council.pk}/").status_code == 404


def test_the_street_admin_runs_a_council_of_its_street(world, councils):
    admin = client(world.admin1)
    council = councils["community2"]
    r = admin.post(f"{API}councils/{council.pk}/agenda-items/", {"title": "路灯不亮"})
    assert r.status_code == 201, r.content
    with at(dt.date(2027, 1, 8)):
        assert admin.post(f"{API}councils/{council.pk}/fix-agenda/").status_code == 200
    r = admin.post(f"{API}councils/", {"community": world.community2.id, "month": "2027-02-01"})
    assert r.status_code == 201
    assert client(world.admin2).get(f"{API}councils/{council.pk}/").status_code == 404


def test_the_minutes_page_is_scoped_like_the_api(world, councils, staff_client):
    council = councils["community1"]
    url = f"/councils/{council.pk}/minutes/"
    assert staff_client(world.committee1).get(url).status_code == 200
    assert staff_client(world.worker1).get(url).status_code == 200
    assert staff_client(world.committee3).get(url).status_code == 404
    assert staff_client(world.worker3).get(url).status_code == 404


def test_agenda_items_list_filters_by_council_and_outcome(world, councils):
    council = councils["community1"]
    other = services.plan_council(community=world.community1, month=dt.date(2027, 2, 1))
    services.add_agenda_item(council=other, user=world.committee1, title="二月事项")
    committee = client(world.committee1)
    r = committee.get(f"{API}agenda-items/", {"council": council.pk, "outcome": "open"})
    assert ids(r) == list(council.items.values_list("pk", flat=True))
    assert AgendaItem.objects.count() == 2
