"""Households in bulk for the field bundle's tests and benchmark: a grid filled with N
households of two residents each, tagged, with an account, a visit, and some needs and claims."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from core.validators import make_id_number
from points.models import Account, Claim, Rule
from points.services.ledger import card_number_for, period_for
from residents.models import Household, Need, Resident, Tag, Visit


def fill_grid(grid: Any, worker: Any, n: int, *, tag: Tag, rule: Rule, prefix: str) -> None:
    """N households in `grid`, visited by `worker` (a GridWorker)."""
    today = timezone.localdate()
    households = Household.objects.bulk_create(
        Household(grid=grid, village_group=f"{prefix}组", house_number=str(i + 1)) for i in range(n)
    )
    born = dt.date(1950, 1, 1)
    residents = Resident.objects.bulk_create(
        Resident(
            household=h,
            name=f"{prefix}居民{i}{j}",
            gender="M",
            birth_date=born + dt.timedelta(days=i),
            id_number=make_id_number(f"41{grid.pk:04d}", born + dt.timedelta(days=i), 2 * j + 1),
            phone=f"138{i:08d}",
        )
        for i, h in enumerate(households)
        for j in range(2)
    )
    Resident.tags.through.objects.bulk_create(
        Resident.tags.through(resident_id=r.pk, tag_id=tag.pk) for r in residents
    )
    Account.objects.bulk_create(
        Account(
            resident=r,
            household_id=r.household_id,
            card_number=card_number_for(r.pk),
            balance=i % 7,
        )
        for i, r in enumerate(residents)
    )
    now = timezone.now()
    Visit.objects.bulk_create(
        Visit(
            worker=worker,
            household=h,
            visited_at=now - dt.timedelta(days=i % 20, hours=1),
            follow_up_on=today if i % 5 == 0 else None,
        )
        for i, h in enumerate(households)
    )
    Need.objects.bulk_create(
        Need(
            grid=grid,
            household=h,
            source="visit",
            category="infrastructure",
            title=f"路灯不亮 {i}",
            reported_by=worker.user,
            status="assigned",
            assigned_worker=worker,
            due_on=today - dt.timedelta(days=1),
        )
        for i, h in enumerate(households)
        if i % 10 == 0
    )
    period = period_for(today)
    Claim.objects.bulk_create(
        Claim(
            resident=r,
            rule=rule,
            points=rule.points,
            occurred_on=today,
            period=period,
            submitted_by=worker.user,
            status="rejected" if i % 4 == 0 else "submitted",
            reject_reason="重复申报" if i % 4 == 0 else "",
            decided_at=now if i % 4 == 0 else None,
        )
        for i, r in enumerate(residents[::3])
    )
