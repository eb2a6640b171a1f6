"""The grids admin: every changelist scoped and without N+1, scoped choices, bulk actions."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from grids.models import Community, GridAssignment
from tests import factories as f

MODELS = [
    "street",
    "community",
    "grid",
    "gridworker",
    "gridassignment",
    "committeemember",
    "streetadmin",
    "partnerunit",
]
# Street admins are managed by the superuser only.
NOT_SUPERUSER_MODELS = [m for m in MODELS if m != "streetadmin"]


SERIAL = itertools.count()


def url(model: str, action: str = "changelist", *args: Any) -> str:
    return reverse(f"admin:grids_{model}_{action}", args=args)


def add_rows(world: Any, n: int) -> None:
    """More of everything, inside community 1 (the committee's) and outside it."""
    for i in range(n):
        for community in (world.community1, world.community2):
            grid = f.GridFactory(community=community)
            worker = f.GridWorkerFactory(community=community)
            f.GridAssignmentFactory(worker=worker, grid=grid)
            f.GridAssignmentFactory(worker=worker, grid=world.grid1 if i % 2 else grid)
            grid.leader = worker
            grid.save(update_fields=["leader"])
            f.committee_member(community, f"member{next(SERIAL)}")
            unit = f.PartnerUnitFactory()
            unit.agreements.create(community=community, signed_on=dt.date(2025, 1, 1))
        street = f.StreetFactory()
        f.CommunityFactory(street=street)
        f.CommunityFactory(street=world.street1)
        f.street_admin(street, f"admin_of_{street.code}")


@pytest.mark.parametrize(
    ("who", "model"),
    [("superuser", m) for m in MODELS]
    + [("committee1", m) for m in NOT_SUPERUSER_MODELS]
    + [("admin1", m) for m in NOT_SUPERUSER_MODELS],
)
def test_changelist_loads_with_the_same_number_of_queries_for_more_rows(
    world, staff_client, who, model
):
    client = staff_client(getattr(world, who))
    add_rows(world, 1)  # at least one row everywhere, so that every per-page query runs
    assert client.get(url(model)).status_code == 200  # warm the caches (content types)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url(model))
        assert response.status_code == 200
        return len(queries)

    before = count()
    add_rows(world, 3)
    assert count() == before


@pytest.mark.parametrize("who", ["committee1", "admin1"])
def test_only_the_superuser_has_the_street_admin_list(world, staff_client, who):
    assert staff_client(getattr(world, who)).get(url("streetadmin")).status_code == 403


@pytest.mark.parametrize("model", MODELS)
def test_add_and_change_pages_load_for_the_superuser(world, staff_client, model):
    client = staff_client(world.superuser)
    obj = {
        "street": world.street1,
        "community": world.community1,
        "grid": world.grid1,
        "gridworker": world.worker1,
        "gridassignment": world.worker1.assignments.get(),
        "committeemember": world.committee1.committee_seats.get(),
        "streetadmin": world.admin1.street_posts.get(),
        "partnerunit": world.partner,
    }[model]
    assert client.get(url(model, "add")).status_code == 200
    assert client.get(url(model, "change", obj.pk)).status_code == 200


def test_committee_member_lists_only_the_grids_of_their_community(world, staff_client):
    response = staff_client(world.committee1).get(url("grid"))
    assert set(response.context["cl"].result_list) == {world.grid1, world.grid2}
    page = response.content.decode()
    assert "新庄赵村" in page and "泰山社区" not in page  # neither in rows nor in the filter


def test_committee_member_is_turned_away_from_another_communitys_grid(world, staff_client):
    response = staff_client(world.committee1).get(url("grid", "change", world.grid3.pk))
    # The admin answers an object outside the queryset as missing: back to its index (not
    # to the login page, where a logged-out visitor would be sent).
    assert response.status_code == 302
    assert response.url == "/admin/"


def test_street_admin_sees_the_communities_of_their_street_only(world, staff_client):
    response = staff_client(world.admin1).get(url("community"))
    assert set(response.context["cl"].result_list) == {world.community1, world.community2}


def test_street_admin_cannot_put_a_community_in_another_street(world, staff_client):
    client = staff_client(world.admin1)
    data = {"street": world.street2.pk, "name": "新村", "code": "xincun", "kind": "village"}
    response = client.post(url("community", "add"), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["street"]
    assert not Community.objects.filter(code="xincun").exists()

    data["street"] = world.street1.pk
    assert client.post(url("community", "add"), data).status_code == 302
    assert Community.objects.get(code="xincun").street == world.street1


def test_committee_member_cannot_assign_a_worker_to_another_communitys_grid(world, staff_client):
    client = staff_client(world.committee1)
    data = {"worker": world.worker1.pk, "grid": world.grid3.pk, "start_date": "2026-01-01"}
    response = client.post(url("gridassignment", "add"), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["grid"]
    assert not GridAssignment.objects.filter(grid=world.grid3, worker=world.worker1).exists()


def test_committee_member_cannot_assign_another_communitys_worker(world, staff_client):
    data = {"worker": world.worker3.pk, "grid": world.grid1.pk, "start_date": "2026-01-01"}
    response = staff_client(world.committee1).post(url("gridassignment", "add"), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["worker"]


def test_grid_assignments_are_edited_inline_on_the_worker(world, staff_client):
    worker = world.worker1
    assignment = worker.assignments.get()
    prefix = "assignments"
    data = {
        "user": worker.user_id,
        "community": worker.community_id,
        "name": worker.name,
        "kind": worker.kind,
        "phone": worker.phone,
        f"{prefix}-TOTAL_FORMS": "2",
        f"{prefix}-INITIAL_FORMS": "1",
        f"{prefix}-0-id": assignment.pk,
        f"{prefix}-0-worker": worker.pk,
        f"{prefix}-0-grid": world.grid1.pk,
        f"{prefix}-0-start_date": "2024-01-01",
        f"{prefix}-0-end_date": "",
        f"{prefix}-1-worker": worker.pk,
        f"{prefix}-1-grid": world.grid2.pk,
        f"{prefix}-1-start_date": "2026-01-01",
    }
    client = staff_client(world.committee1)
    response = client.post(url("gridworker", "change", worker.pk), data)
    assert response.status_code == 302
    assert set(worker.assignments.values_list("grid", flat=True)) == {
        world.grid1.pk,
        world.grid2.pk,
    }

    data[f"{prefix}-1-grid"] = world.grid3.pk  # another community's grid
    data[f"{prefix}-TOTAL_FORMS"] = "3"
    data |= {f"{prefix}-2-worker": worker.pk, f"{prefix}-2-grid": world.grid3.pk}
    data[f"{prefix}-2-start_date"] = "2026-01-01"
    response = client.post(url("gridworker", "change", worker.pk), data)
    assert response.status_code == 200
    assert not worker.assignments.filter(grid=world.grid3).exists()


def test_ending_selected_assignments_today_leaves_other_communities_and_future_ones_alone(
    world, staff_client
):
    today = timezone.localdate()
    mine = [world.worker1.assignments.get(), world.worker2.assignments.get()]
    future = f.GridAssignmentFactory(
        worker=world.worker2, grid=world.grid1, start_date=today + dt.timedelta(days=5)
    )
    ended = f.GridAssignmentFactory(
        worker=world.worker2,
        grid=world.grid2,
        start_date=dt.date(2023, 1, 1),
        end_date=dt.date(2023, 6, 30),
    )
    theirs = world.worker3.assignments.get()
    selected = [*mine, future, ended, theirs]
    response = staff_client(world.committee1).post(
        url("gridassignment"),
        {"action": "end_today", "_selected_action": [a.pk for a in selected]},
        follow=True,
    )
    page = response.content.decode()
    assert "2 assignments ended today" in page
    assert "1 assignment starts after today" in page
    for assignment in mine:
        assignment.refresh_from_db()
        assert assignment.end_date == today
    for assignment, end in ((future, None), (ended, dt.date(2023, 6, 30)), (theirs, None)):
        assignment.refresh_from_db()
        assert assignment.end_date == end


def test_ending_assignments_is_one_update_however_many_are_selected(world, staff_client):
    client = staff_client(world.committee1)

    def count(n: int) -> int:
        selected = [
            f.GridAssignmentFactory(worker=world.worker1, grid=world.grid2) for _ in range(n)
        ]
        with CaptureQueriesContext(connection) as queries:
            client.post(
                url("gridassignment"),
                {"action": "end_today", "_selected_action": [a.pk for a in selected]},
            )
        return len(queries)

    assert count(2) == count(25)


def test_partner_unit_is_seen_by_the_street_it_works_in_only(world, staff_client):
    units = staff_client(world.admin1).get(url("partnerunit")).context["cl"].result_list
    assert list(units) == [world.partner]
    units = staff_client(world.admin2).get(url("partnerunit")).context["cl"].result_list
    assert list(units) == []


def test_partner_unit_shows_only_the_agreements_and_communities_in_scope(world, staff_client):
    world.partner.agreements.create(community=world.community3, signed_on=dt.date(2025, 4, 1))
    response = staff_client(world.admin1).get(url("partnerunit", "change", world.partner.pk))
    page = response.content.decode()
    assert "泰山社区" in page and "外村" not in page
    listing = staff_client(world.admin1).get(url("partnerunit")).content.decode()
    assert "泰山社区" in listing and "外村" not in listing


def test_a_community_added_in_the_admin_gets_its_streets_default_rule_book(world, client):
    from points.models import Rule

    Rule.objects.create(
        street=world.street1, code="R01", name="卫生清扫", category="reward", points=1
    )
    client.force_login(world.superuser)
    r = client.post(
        "/admin/grids/community/add/",
        {"street": world.street1.pk, "name": "新村", "code": "xincun", "kind": "village"},
    )
    assert r.status_code == 302, r.content[:500]
    assert list(Rule.objects.filter(community__code="xincun").values_list("code", flat=True)) == [
        "R01"
    ]
