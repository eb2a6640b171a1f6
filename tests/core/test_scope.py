"""core.scope: each post gives a scope, and `for_user()` turns it into one filter per model."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from core.scope import Scope, resolve_scope, scope_for
from grids.models import (
    Community,
    Grid,
    GridAssignment,
    GridWorker,
    PartnerUnit,
    Street,
)
from residents.models import Household, Resident, Visit
from residents.services.visits import record_visit
from tests import factories as f
from tests.api_helpers import fresh


def test_a_grid_worker_is_scoped_to_the_grids_assigned_today(world):
    scope = resolve_scope(world.worker1.user)
    assert scope.grid_ids == {world.grid1.id}
    assert not (scope.everything or scope.street_ids or scope.community_ids)
    assert scope.user_id == world.worker1.user.id


def test_a_committee_member_is_scoped_to_their_community(world):
    assert resolve_scope(world.committee1).community_ids == {world.community1.id}


def test_a_street_admin_is_scoped_to_their_street(world):
    assert resolve_scope(world.admin2).street_ids == {world.street2.id}


def test_a_resident_is_scoped_to_themselves(world):
    scope = resolve_scope(world.resident_user)
    assert scope.resident_id == world.resident1.id
    assert not scope.grid_ids


def test_a_partner_contact_is_scoped_to_their_unit(world):
    assert resolve_scope(world.partner_user).partner_unit_ids == {world.partner.id}


def test_a_superuser_sees_everything(world):
    assert resolve_scope(world.superuser).everything


@pytest.mark.parametrize("who", ["stranger", "anonymous", "inactive", "none"])
def test_strangers_anonymous_and_inactive_users_have_an_empty_scope(world, who):
    user = {
        "stranger": world.stranger,
        "anonymous": AnonymousUser(),
        "inactive": world.committee1,
        "none": None,
    }[who]
    if who == "inactive":
        user.is_active = False
        user.save()
    assert resolve_scope(user).is_empty


def test_a_user_with_several_posts_gets_their_union(world):
    from grids.models import CommitteeMember

    CommitteeMember.objects.create(user=world.worker1.user, community=world.community3)
    scope = resolve_scope(world.worker1.user)
    assert (scope.grid_ids, scope.community_ids) == ({world.grid1.id}, {world.community3.id})
    assert set(Household.objects.for_user(world.worker1.user)) == {
        world.household1,
        world.household4,
    }


@pytest.mark.parametrize(
    ("start", "end", "assigned"),
    [
        (-10, None, True),
        (-10, 0, True),  # the last day still counts
        (-10, -1, False),  # ended yesterday
        (1, None, False),  # starts tomorrow
        (0, None, True),  # starts today
    ],
)
def test_only_assignments_in_force_today_give_a_grid(world, start, end, assigned):
    today = timezone.localdate()
    user = f.UserFactory(username="newworker", groups=["grid_worker"])
    wk = f.GridWorkerFactory(user=user, community=world.community1)
    GridAssignment.objects.create(
        worker=wk,
        grid=world.grid2,
        start_date=today + dt.timedelta(days=start),
        end_date=None if end is None else today + dt.timedelta(days=end),
    )
    assert (world.grid2.id in resolve_scope(user).grid_ids) is assigned


def test_scope_is_computed_once_per_user_object(world, django_assert_num_queries):
    user = fresh(world.worker1.user)
    first = scope_for(user)
    with django_assert_num_queries(0):
        assert scope_for(user) is first


@pytest.mark.parametrize(
    ("model", "persona", "expected"),
    [
        (Street, "worker1", ["street1"]),
        (Community, "worker1", ["community1"]),
        (Grid, "worker1", ["grid1"]),
        (Household, "worker1", ["household1"]),
        (Resident, "worker1", ["resident1"]),
        (Street, "committee3", ["street2"]),
        (Grid, "committee1", ["grid1", "grid2"]),
        (GridWorker, "committee1", ["worker1", "worker2"]),
        (Resident, "admin1", ["resident1", "resident2", "resident3"]),
        (Household, "resident_user", ["household1"]),
        (Resident, "resident_user", ["resident1"]),
        (PartnerUnit, "partner_user", ["partner"]),
        (Household, "partner_user", []),
        (Resident, "stranger", []),
        (Street, "stranger", []),
    ],
)
def test_for_user_filters_each_model_to_the_scope(world, model, persona, expected):
    got = model.objects.for_user(fresh(getattr(world, persona)))
    assert sorted(o.pk for o in got) == sorted(getattr(world, name).pk for name in expected)


def test_a_worker_sees_their_own_worker_record_and_those_of_their_grids(world):
    colleague = f.GridWorkerFactory(community=world.community1)
    GridAssignment.objects.create(
        worker=colleague, grid=world.grid1, start_date=dt.date(2024, 1, 1)
    )
    got = set(GridWorker.objects.for_user(fresh(world.worker1.user)))
    assert got == {world.worker1, colleague}


def test_visits_follow_the_household_not_the_worker(world):
    visit = record_visit(user=world.worker1.user, household=world.household1)
    # Worker 1 moves to grid 2: the visit stays with grid 1.
    GridAssignment.objects.filter(worker=world.worker1).update(grid=world.grid2)
    assert list(Visit.objects.for_user(fresh(world.worker1.user))) == []
    assert list(Visit.objects.for_user(fresh(world.committee1))) == [visit]


def test_a_to_many_scope_path_does_not_duplicate_rows(world):
    world.partner.agreements.create(community=world.community1, signed_on=dt.date(2025, 1, 1))
    qs = Street.objects.for_user(fresh(world.admin1))
    assert list(qs) == [world.street1]
    assert PartnerUnit.objects.for_user(fresh(world.admin1)).count() == 1


def test_an_empty_scope_matches_nothing(world):
    assert not Household.objects.for_scope(Scope()).exists()
    assert Household.objects.for_scope(Scope(everything=True)).count() == 4


def test_a_write_refused_outside_the_area_does_not_reveal_the_parents_address(world):
    from tests.api_helpers import client

    r = client(world.worker1).post(
        "/api/v1/visits/", {"household": world.household4.pk}, format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )  # fmt: skip
    assert r.status_code == 403
    assert str(world.household4) not in r.json()["detail"]
    assert f"household {world.household4.pk}" in r.json()["detail"]


def test_paths_through_a_parent_reach_each_of_the_parents_paths_through_it():
    from core.scope import paths_through, paths_through_community

    assert paths_through_community("team__community") == {
        "street": "team__community__street_id",
        "community": "team__community_id",
        "grid": "team__community__grids",
    }
    parent = {"grid": "grid_id", "team": "id", "partner": ("offered_to", "unit_id")}
    assert paths_through("need", parent) == {
        "grid": "need__grid_id",
        "team": "need_id",
        "partner": ("need__offered_to", "need__unit_id"),
    }
