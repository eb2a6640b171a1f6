"""Reads for the grids app, scoped to a user, with the joins each list needs."""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet

from core.scope import ScopedQuerySet
from core.types import AnyUser
from grids.models import (
    AgendaEvaluation,
    AgendaItem,
    Community,
    Council,
    Grid,
    GridAssignment,
    GridWorker,
    PartnerUnit,
    Project,
    Resource,
    Street,
)
from residents.models import Need


def streets_for(user: AnyUser) -> QuerySet[Street]:
    return Street.objects.for_user(user)


def communities_for(user: AnyUser) -> QuerySet[Community]:
    return Community.objects.for_user(user)


def grids_for(user: AnyUser) -> QuerySet[Grid]:
    return Grid.objects.for_user(user).select_related("community")


def grid_workers_for(user: AnyUser) -> QuerySet[GridWorker]:
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


def partner_units_for(user: AnyUser) -> QuerySet[PartnerUnit]:
    return PartnerUnit.objects.for_user(user).prefetch_related("agreements")


# ---------------------------------------------------------------------------- lists (design §5)


def resources_for(user: AnyUser) -> QuerySet[Resource]:
    """The resources list (资源清单) the user may read: what partner units offer their
    communities and the free services of partner organisations (公益合伙人), whose rows
    volunteers.services.list_in_resources keeps."""
    return Resource.objects.for_user(user).select_related("community", "partner_unit")


def projects_for(user: AnyUser) -> QuerySet[Project]:
    """The projects list (项目清单), each with how many needs it groups and how many of those
    are resolved or closed (annotated: no query per row)."""
    done = Q(needs__status__in=[Need.Status.RESOLVED, Need.Status.CLOSED])
    return (
        Project.objects.for_user(user)
        .select_related("community")
        .annotate(
            needs_count=Count("needs", distinct=True),
            needs_resolved=Count("needs", filter=done, distinct=True),
        )
        .order_by("-id")  # Meta.ordering does not apply to an aggregating query
    )


# ---------------------------------------------------------------------------- council (议事会)


def _items() -> ScopedQuerySet[AgendaItem]:
    return AgendaItem.objects.select_related("need", "project", "responsible", "council")


def councils_for(user: AnyUser) -> QuerySet[Council]:
    return (
        Council.objects.for_user(user)
        .select_related("community", "recorded_by")
        # One Prefetch per call: the stubs type a call's Prefetch querysets as one type.
        .prefetch_related(Prefetch("items", queryset=_items()))
        .prefetch_related(
            Prefetch(
                "evaluations",
                queryset=AgendaEvaluation.objects.select_related(
                    "item__council", "evaluated_by"
                ).order_by("item__council__held_on", "item__position", "item_id"),
            ),
        )
    )


def agenda_items_for(user: AnyUser) -> QuerySet[AgendaItem]:
    return _items().for_user(user)


def _past_items(council: Council) -> QuerySet[AgendaItem]:
    """Items of the community's councils held before this one."""
    return _items().filter(
        council__community_id=council.community_id,
        council__held_on__lt=council.held_on,
        council__status=Council.Status.HELD,
    )


def items_to_evaluate(*, council: Council) -> QuerySet[AgendaItem]:
    """Past items still open or carried over that this council has not evaluated yet: the
    fifth step is complete when this is empty."""
    evaluated_here = AgendaEvaluation.objects.filter(council=council).values("item_id")
    return (
        _past_items(council)
        .filter(outcome__in=[AgendaItem.Outcome.OPEN, AgendaItem.Outcome.CARRIED])
        .exclude(pk__in=evaluated_here)
        .order_by("council__held_on", "position", "id")
    )


def evaluable_items(*, council: Council) -> QuerySet[AgendaItem]:
    """Past items this council may score: those still open or carried over, and those it
    has already scored (a second evaluation re-scores)."""
    evaluated_here = AgendaEvaluation.objects.filter(council=council).values("item_id")
    return _past_items(council).filter(
        Q(outcome__in=[AgendaItem.Outcome.OPEN, AgendaItem.Outcome.CARRIED])
        | Q(pk__in=evaluated_here)
    )
