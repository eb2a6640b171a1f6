"""Reads for the grids app, scoped to a user, with the joins each list needs."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from grids.models import Community, Grid, GridAssignment, GridWorker, PartnerUnit, Street


def streets_for(user: Any) -> QuerySet[Street]:
    return Street.objects.for_user(user)


def communities_for(user: Any) -> QuerySet[Community]:
    return Community.objects.for_user(user)


def grids_for(user: Any) -> QuerySet[Grid]:
    return Grid.objects.for_user(user).select_related("community")


def grid_workers_for(user: Any) -> QuerySet[GridWorker]:
    return (
        GridWorker.objects.for_user(user)
        .select_related("user")
        .prefetch_related(
            Prefetch(
                "assignments",
                queryset=GridAssignment.objects.current().only(
                    "id", "worker_id", "grid_id", "start_date", "end_date"
                ),
            )
        )
    )


def partner_units_for(user: Any) -> QuerySet[PartnerUnit]:
    return PartnerUnit.objects.for_user(user).prefetch_related("agreements")
