"""Planning councils under real concurrent writers (PostgreSQL): the monthly beat and a
committee member planning by hand for another day of the same month leave one council."""

from __future__ import annotations

import datetime as dt

import pytest

from grids import services
from grids.models import Council
from tests.reliability.test_ledger_concurrency import race, user

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

MONTH = dt.date(2027, 3, 1)


@pytest.mark.parametrize("rounds", range(3))
def test_the_beat_and_a_hand_planned_council_leave_one_council_a_month(world, rounds):
    committee = world.committee1.pk

    def job(i: int) -> object:
        if i % 2:
            return services.plan_councils(month=MONTH)
        return services.plan_council(
            community=world.community1,
            month=MONTH,
            user=user(committee),
            held_on=dt.date(2027, 3, 15),
        )

    results, errors = race(job, threads=6)
    assert not errors, errors
    march = Council.objects.filter(held_on__year=2027, held_on__month=3)
    assert march.filter(community=world.community1).count() == 1
    assert march.filter(community=world.community2).count() == 1
    assert march.filter(community=world.community3).count() == 1
