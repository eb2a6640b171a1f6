"""Sign-up and completion under real concurrent requests (PostgreSQL, committed transactions,
one connection per thread): N sign-ups for k places confirm exactly k; withdrawals racing
sign-ups never overfill; completing an activity from many threads claims once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import Count

from points.models import Claim
from tests import factories as f
from tests.reliability.test_ledger_concurrency import race, user
from tests.volunteers.conftest import new_activity
from volunteers.models import Attendance, Signup
from volunteers.services import activities as activities_services

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 20
CAPACITY = 5


def members(world, vol, n):
    return [
        f.VolunteerMembershipFactory(
            team=vol.team_a, resident=f.ResidentFactory(household=world.household3)
        )
        for _ in range(n)
    ]


def test_twenty_concurrent_sign_ups_for_five_places_confirm_exactly_five(world, vol):
    activity = new_activity(vol, capacity=CAPACITY)
    crowd = members(world, vol, THREADS)
    leader = vol.leader_a.pk

    def sign_up(i: int) -> Signup:
        return activities_services.sign_up(
            user=user(leader), activity=activity, membership=crowd[i]
        )

    results, errors = race(sign_up, threads=THREADS)
    assert errors == []
    statuses = Signup.objects.filter(activity=activity).values("status").annotate(n=Count("id"))
    assert {row["status"]: row["n"] for row in statuses} == {
        "confirmed": CAPACITY,
        "waitlisted": THREADS - CAPACITY,
    }


def test_withdrawals_racing_sign_ups_never_overfill(world, vol):
    activity = new_activity(vol, capacity=CAPACITY)
    crowd = members(world, vol, THREADS)
    leader = vol.leader_a.pk
    for m in crowd[:CAPACITY]:
        activities_services.sign_up(user=vol.leader_a, activity=activity, membership=m)

    def job(i: int) -> Signup:
        act = activities_services.withdraw if i < CAPACITY else activities_services.sign_up
        return act(user=user(leader), activity=activity, membership=crowd[i])

    results, errors = race(job, threads=THREADS)
    assert errors == []
    confirmed = Signup.objects.filter(activity=activity, status="confirmed").count()
    assert confirmed == CAPACITY
    assert Signup.objects.filter(activity=activity, status="waitlisted").count() == (
        THREADS - 2 * CAPACITY
    )


def test_the_same_member_signing_up_from_many_threads_signs_up_once(world, vol):
    activity = new_activity(vol)
    member = vol.member_user.pk

    def sign_up(i: int) -> Signup:
        return activities_services.sign_up(user=user(member), activity=activity)

    results, errors = race(sign_up, threads=10)
    assert errors == []
    assert len({s.pk for s in results}) == 1
    assert Signup.objects.filter(activity=activity).count() == 1


def test_completing_from_many_threads_claims_once(world, vol):
    activity = new_activity(vol, starts_in=-dt.timedelta(days=1), hours=3)
    for m in (vol.member, *vol.others):
        activities_services.check_in(
            user=vol.leader_a, activity=activity, membership=m, at=activity.starts_at
        )
    leader, committee = vol.leader_a.pk, vol.committee2.pk

    def complete(i: int) -> object:
        return activities_services.complete_activity(
            user=user(leader if i % 2 else committee), activity=activity
        )

    results, errors = race(complete, threads=10)
    assert errors == []
    assert Claim.objects.count() == 4
    assert Attendance.objects.filter(claim__isnull=False).count() == 4
