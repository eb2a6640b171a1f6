"""Reads for the redemption: catalogs, windows and orders (scoped), and the resident's shop."""

from __future__ import annotations

import datetime as dt

from django.db.models import Prefetch, Q, QuerySet, Sum

from core.scope import scope_for
from core.types import AnyUser
from points.models import CatalogItem, Order, OrderLine, Period, RedemptionWindow
from residents.models import Resident


def _resident_community_q(user: AnyUser, path: str) -> Q | None:
    """A resident also sees their own community's catalog and windows."""
    resident_id = scope_for(user).resident_id
    if not resident_id:
        return None
    community_ids = Resident.objects.filter(pk=resident_id).values("household__grid__community_id")
    return Q(**{f"{path}__in": community_ids})


def catalog_items_for(user: AnyUser) -> QuerySet[CatalogItem]:
    scope = scope_for(user)
    if scope.everything:
        return CatalogItem.objects.all()
    q = CatalogItem.objects.scope_q(scope) or Q(pk__in=[])
    if (own := _resident_community_q(user, "community_id")) is not None:
        q |= own
    return CatalogItem.objects.filter(q)


def redemption_windows_for(user: AnyUser) -> QuerySet[RedemptionWindow]:
    scope = scope_for(user)
    windows = RedemptionWindow.objects.select_related("period")
    if scope.everything:
        return windows
    q = RedemptionWindow.objects.scope_q(scope) or Q(pk__in=[])
    if (own := _resident_community_q(user, "community_id")) is not None:
        q |= own
    return windows.filter(q)


def orders_for(user: AnyUser) -> QuerySet[Order]:
    return (
        Order.objects.for_user(user)
        .select_related("period", "resident")
        .prefetch_related(Prefetch("lines", OrderLine.objects.select_related("item")))
    )


# ----------------------------------------------------------------------------- the resident's shop


def shop_items(*, community_id: int) -> QuerySet[CatalogItem]:
    """The items a resident of the community can order: its active catalog, cheapest first."""
    return CatalogItem.objects.filter(community_id=community_id, active=True).order_by(
        "points", "name", "id"
    )


def ordered_quantities(*, resident_id: int, period: Period) -> dict[int, int]:
    """Per item, how many the resident has ordered in the quarter (what counts against a
    limit per quarter: every order not cancelled or refunded), in one grouped query."""
    rows = (
        OrderLine.objects.filter(order__resident_id=resident_id, order__period=period)
        .exclude(order__status__in=[Order.Status.CANCELLED, Order.Status.REFUNDED])
        .values("item_id")
        .annotate(total=Sum("quantity"))
        .values_list("item_id", "total")
    )
    return dict(rows)


def resident_orders(*, resident_id: int, period: Period) -> QuerySet[Order]:
    """A resident's orders of a quarter with their lines and items, newest first."""
    return (
        Order.objects.filter(resident_id=resident_id, period=period)
        .prefetch_related(Prefetch("lines", OrderLine.objects.select_related("item")))
        .order_by("-id")
    )


def latest_window(*, community_id: int, today: dt.date) -> RedemptionWindow | None:
    """The community's window that opened most recently (on or before `today`)."""
    return (
        RedemptionWindow.objects.filter(community_id=community_id, opens_on__lte=today)
        .select_related("period")
        .order_by("-opens_on")
        .first()
    )


def next_window(*, community_id: int, today: dt.date) -> RedemptionWindow | None:
    """The community's next window still to open after `today`, if one is set."""
    return (
        RedemptionWindow.objects.filter(community_id=community_id, opens_on__gt=today)
        .select_related("period")
        .order_by("opens_on")
        .first()
    )
