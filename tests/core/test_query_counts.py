"""Every list endpoint runs the same number of queries for 3 rows as for 30: no N+1.

Requests authenticate with a token, as a phone does, so each one loads its user (and so its
scope and permissions) afresh."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from grids.models import GridAssignment, PartnerAgreement
from residents.models import Visit
from tests import factories as f
from tests.api_helpers import LIST_ENDPOINTS, token_client, url

_n = itertools.count(1)


def _grid_for_worker(world, community) -> object:
    """A new grid in `community`, assigned to worker 1 today, so worker 1 sees what is in it."""
    grid = f.GridFactory(community=community, code=f"Q{next(_n)}")
    GridAssignment.objects.create(worker=world.worker1, grid=grid, start_date=dt.date(2024, 1, 1))
    return grid


def add_streets(world, k: int) -> None:
    for _ in range(k):
        _grid_for_worker(world, f.CommunityFactory())


def add_communities(world, k: int) -> None:
    for _ in range(k):
        _grid_for_worker(world, f.CommunityFactory(street=world.street1))


def add_grids(world, k: int) -> None:
    for _ in range(k):
        _grid_for_worker(world, world.community1)


def add_grid_workers(world, k: int) -> None:
    for _ in range(k):
        wk = f.GridWorkerFactory(community=world.community1)
        GridAssignment.objects.create(worker=wk, grid=world.grid1, start_date=dt.date(2024, 1, 1))
        # An ended assignment too: the prefetch must leave it out without a query per row.
        GridAssignment.objects.create(
            worker=wk,
            grid=world.grid2,
            start_date=dt.date(2020, 1, 1),
            end_date=dt.date(2021, 1, 1),
        )


def add_partner_units(world, k: int) -> None:
    for _ in range(k):
        unit = f.PartnerUnitFactory()
        PartnerAgreement.objects.create(
            unit=unit, community=world.community1, signed_on=dt.date(2025, 1, 1)
        )
        PartnerAgreement.objects.create(
            unit=unit, community=world.community3, signed_on=dt.date(2025, 1, 1)
        )


def add_households(world, k: int) -> None:
    for _ in range(k):
        f.HouseholdFactory(grid=world.grid1)


def _tags(world) -> list:
    return [
        f.TagFactory(name="独居老人", visit_every_days=7),
        f.TagFactory(name="困难家庭", visit_every_days=30),
        f.TagFactory(name="党员"),
    ]


def add_residents(world, k: int) -> None:
    tags = _tags(world)
    for _ in range(k):
        f.ResidentFactory(household=f.HouseholdFactory(grid=world.grid1)).tags.add(*tags)


def add_tags(world, k: int) -> None:
    for _ in range(k):
        f.TagFactory(visit_every_days=next(_n) % 40 + 1)


def add_visits(world, k: int) -> None:
    household = f.HouseholdFactory(grid=world.grid1)
    Visit.objects.bulk_create(
        Visit(
            worker=world.worker1,
            household=household,
            visited_at=timezone.now() - dt.timedelta(hours=i + 1),
        )
        for i in range(k)
    )


def add_visits_due(world, k: int) -> None:
    tags = _tags(world)
    for i in range(k):
        resident = f.ResidentFactory(household=f.HouseholdFactory(grid=world.grid1))
        resident.tags.add(*tags)
        if i % 2:  # half never visited, half overdue
            Visit.objects.create(
                worker=world.worker1,
                household=resident.household,
                visited_at=timezone.now() - dt.timedelta(days=40 + i),
            )


ADD: dict[str, Callable] = {
    "streets": add_streets,
    "communities": add_communities,
    "grids": add_grids,
    "grid-workers": add_grid_workers,
    "partner-units": add_partner_units,
    "households": add_households,
    "residents": add_residents,
    "tags": add_tags,
    "visits": add_visits,
    "visits/due": add_visits_due,
}


def test_every_list_endpoint_has_a_row_maker():
    assert set(ADD) == set(LIST_ENDPOINTS)


def count_queries(c, endpoint: str) -> tuple[int, int]:
    """(queries, rows in the answer) for one list request."""
    with CaptureQueriesContext(connection) as ctx:
        r = c.get(url(endpoint), {"page_size": 100})
    assert r.status_code == 200, r.content
    return len(ctx.captured_queries), len(r.json()["results"])


@pytest.mark.parametrize("persona", ["superuser", "worker1"])
@pytest.mark.parametrize("endpoint", LIST_ENDPOINTS)
def test_list_queries_do_not_grow_with_the_rows(world, endpoint, persona):
    user = world.superuser if persona == "superuser" else world.worker1.user
    c = token_client(user)
    ADD[endpoint](world, 3)
    c.get(url(endpoint))  # warm the per-process caches (content types and the like)
    few_queries, few_rows = count_queries(c, endpoint)
    ADD[endpoint](world, 27)
    many_queries, many_rows = count_queries(c, endpoint)
    # The rows were really visible, so the comparison means something.
    assert many_rows >= few_rows + 27
    assert many_queries == few_queries, (
        f"{few_queries} queries for {few_rows} rows, {many_queries} for {many_rows}"
    )
