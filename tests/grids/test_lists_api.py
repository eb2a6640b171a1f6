"""The resources list (资源清单) and the projects list (项目清单), per persona."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from grids.models import Project, Resource
from residents.models import Need
from tests import factories as f
from tests.api_helpers import client, ids
from tests.grids.council_helpers import flagged_need

API = "/api/v1/"


# ---------------------------------------------------------------------------- resources


@pytest.fixture
def resources(world):
    other_unit = f.PartnerUnitFactory(name="市人大")
    other_unit.agreements.create(community=world.community2, signed_on=dt.date(2025, 3, 1))
    return {
        "law": Resource.objects.create(
            community=world.community2,
            name="法律咨询",
            kind="expertise",
            provider="市委办",
            partner_unit=world.partner,
        ),
        "hall": Resource.objects.create(
            community=world.community2,
            name="活动场地",
            kind="venue",
            provider="市人大",
            partner_unit=other_unit,
        ),
        "doctor": Resource.objects.create(
            community=world.community1, name="义诊", provider="镇卫生院", active=False
        ),
        "far": Resource.objects.create(community=world.community3, name="农技", provider="农技站"),
    }


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("committee1", ["doctor"]),
        ("committee3", ["far"]),
        ("admin1", ["law", "hall", "doctor"]),
        ("admin2", ["far"]),
        ("worker1", ["doctor"]),
        ("worker3", ["law", "hall"]),
        ("partner_user", ["law"]),  # its own unit's rows only
    ],
)
def test_each_persona_lists_only_the_resources_of_their_scope(world, resources, persona, expected):
    r = client(getattr(world, persona)).get(f"{API}resources/")
    assert ids(r) == sorted(resources[name].pk for name in expected)


@pytest.mark.parametrize("persona", ["resident_user", "stranger"])
def test_residents_and_strangers_see_no_resources(world, resources, persona):
    assert client(getattr(world, persona)).get(f"{API}resources/").status_code == 403


def test_resources_filter_by_kind_unit_activity_and_search(world, resources):
    admin = client(world.admin1)
    get = lambda **q: ids(admin.get(f"{API}resources/", q))  # noqa: E731
    assert get(kind="venue") == [resources["hall"].pk]
    assert get(partner_unit=world.partner.pk) == [resources["law"].pk]
    assert get(active="false") == [resources["doctor"].pk]
    assert get(community=world.community1.pk) == [resources["doctor"].pk]
    assert get(search="法律") == [resources["law"].pk]


def test_the_committee_adds_a_resource_of_a_partner_unit_named_after_it(world):
    world.partner.agreements.create(community=world.community1, signed_on=dt.date(2025, 6, 1))
    r = client(world.committee1).post(
        f"{API}resources/",
        {"community": world.community1.pk, "name": "法律咨询", "partner_unit": world.partner.pk},
    )
    assert r.status_code == 201, r.content
    assert (r.json()["provider"], r.json()["partner_unit_name"]) == ("市委办", "市委办")


def test_a_resource_of_a_unit_without_an_agreement_is_refused(world):
    r = client(world.committee1).post(
        f"{API}resources/",
        {"community": world.community1.pk, "name": "法律咨询", "partner_unit": world.partner.pk},
    )
    assert r.status_code == 400
    assert "partner_unit" in r.json()


def test_a_resource_needs_a_provider(world):
    r = client(world.committee1).post(
        f"{API}resources/", {"community": world.community1.pk, "name": "场地"}
    )
    assert r.status_code == 400
    assert "provider" in r.json()


@pytest.mark.parametrize(
    ("persona", "refused"),
    # Another community's committee does not see the row (404); the community's grid worker
    # and the partner unit's contact read it but may not write it (403).
    [("committee3", 404), ("worker1", 403), ("partner_user", 403)],
)
def test_others_cannot_write_a_communitys_resources(world, resources, persona, refused):
    user = getattr(world, persona)
    body = {"community": world.community1.pk, "name": "场地", "provider": "村委会"}
    assert client(user).post(f"{API}resources/", body).status_code == 403
    pk = resources["doctor"].pk
    assert client(user).patch(f"{API}resources/{pk}/", {"active": True}).status_code == refused
    assert client(user).delete(f"{API}resources/{pk}/").status_code == refused
    assert Resource.objects.filter(pk=pk, active=False).exists()


def test_a_partner_reads_but_cannot_change_its_own_resource(world, resources):
    partner = client(world.partner_user)
    pk = resources["law"].pk
    assert partner.get(f"{API}resources/{pk}/").status_code == 200
    assert partner.patch(f"{API}resources/{pk}/", {"name": "x"}).status_code == 403


def test_a_committee_of_another_street_finds_no_resource_of_the_community(world, resources):
    pk = resources["doctor"].pk
    assert client(world.committee3).get(f"{API}resources/{pk}/").status_code == 404


# ---------------------------------------------------------------------------- projects


@pytest.fixture
def projects(world):
    today = timezone.localdate()
    road = Project.objects.create(
        community=world.community1,
        name="村内道路硬化",
        owner="樊良",
        budget=350000,
        progress=30,
        status="in_progress",
        due_on=today - dt.timedelta(days=3),
    )
    lamps = Project.objects.create(
        community=world.community2,
        name="老旧小区路灯改造",
        owner="赵辉",
        budget=86000,
        progress=60,
        status="in_progress",
        due_on=today + dt.timedelta(days=30),
    )
    square = Project.objects.create(
        community=world.community1,
        name="文化广场",
        owner="村委会",
        progress=100,
        status="done",
        due_on=today - dt.timedelta(days=30),
    )
    far = Project.objects.create(community=world.community3, name="外村项目", owner="外村")
    for i, status in enumerate(["resolved", "closed", "in_progress"]):
        flagged_need(world.grid1, f"路段{i}", today, for_council=False, project=road, status=status)
    return {"road": road, "lamps": lamps, "square": square, "far": far}


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("committee1", ["road", "square"]),
        ("committee3", ["far"]),
        ("admin1", ["road", "lamps", "square"]),
        ("worker1", ["road", "square"]),
        ("worker3", ["lamps"]),
    ],
)
def test_each_persona_lists_only_the_projects_of_their_scope(world, projects, persona, expected):
    r = client(getattr(world, persona)).get(f"{API}projects/")
    assert ids(r) == sorted(projects[name].pk for name in expected)


@pytest.mark.parametrize("persona", ["partner_user", "resident_user", "stranger"])
def test_partners_residents_and_strangers_see_no_projects(world, projects, persona):
    assert client(getattr(world, persona)).get(f"{API}projects/").status_code == 403


def test_a_project_counts_its_needs_and_the_resolved_ones(world, projects):
    r = client(world.committee1).get(f"{API}projects/{projects['road'].pk}/")
    body = r.json()
    assert (body["needs_count"], body["needs_resolved"], body["overdue"]) == (3, 2, True)
    assert Need.objects.filter(project=projects["road"]).count() == 3


def test_projects_filter_by_overdue_status_and_community(world, projects):
    admin = client(world.admin1)
    get = lambda **q: ids(admin.get(f"{API}projects/", q))  # noqa: E731
    assert get(overdue="true") == [projects["road"].pk]  # the done one is not overdue
    assert get(overdue="false") == sorted([projects["lamps"].pk, projects["square"].pk])
    assert get(status="done") == [projects["square"].pk]
    assert get(community=world.community2.pk) == [projects["lamps"].pk]


def test_the_committee_creates_and_updates_a_project(world):
    committee = client(world.committee1)
    r = committee.post(
        f"{API}projects/",
        {"community": world.community1.pk, "name": "村道路灯", "owner": "赵振东", "budget": "8600"},
    )
    assert r.status_code == 201, r.content
    assert (r.json()["needs_count"], r.json()["progress"], r.json()["status"]) == (
        0,
        0,
        "planned",
    )
    r = committee.patch(
        f"{API}projects/{r.json()['id']}/", {"progress": 60, "status": "in_progress"}
    )
    assert r.status_code == 200 and r.json()["progress"] == 60


@pytest.mark.parametrize("progress", [-1, 101])
def test_progress_outside_zero_to_a_hundred_is_refused(world, projects, progress):
    r = client(world.committee1).patch(
        f"{API}projects/{projects['road'].pk}/", {"progress": progress}
    )
    assert r.status_code == 400
    assert "progress" in r.json()


def test_a_grid_worker_reads_projects_but_cannot_write(world, projects):
    worker = client(world.worker1)
    pk = projects["road"].pk
    assert worker.get(f"{API}projects/{pk}/").status_code == 200
    assert worker.patch(f"{API}projects/{pk}/", {"progress": 90}).status_code == 403
    body = {"community": world.community1.pk, "name": "x", "owner": "y"}
    assert worker.post(f"{API}projects/", body).status_code == 403


def test_a_committee_of_another_street_cannot_reach_the_project(world, projects):
    other = client(world.committee3)
    pk = projects["road"].pk
    assert other.get(f"{API}projects/{pk}/").status_code == 404
    assert other.patch(f"{API}projects/{pk}/", {"progress": 90}).status_code == 404
    body = {"community": world.community1.pk, "name": "x", "owner": "y"}
    assert other.post(f"{API}projects/", body).status_code == 403
