"""Reads for points: scoped, with the joins each list needs, sums done in the database."""

from __future__ import annotations

from typing import Any

from django.db.models import (
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    Window,
)
from django.db.models.functions import Coalesce, Rank

from core.scope import scope_for
from points.models import (
    Account,
    CatalogItem,
    Claim,
    Entry,
    Objection,
    Order,
    OrderLine,
    Period,
    RedemptionWindow,
    Rule,
)
from residents.models import Resident

# Points earned: awards and deductions, adjustments, and reversals of those. Redemptions,
# refunds and expiry move a balance but are not earning.
EARNING_KINDS = (Entry.Kind.AWARD, Entry.Kind.DEDUCTION, Entry.Kind.ADJUSTMENT)
EARNED = Q(kind__in=EARNING_KINDS) | Q(kind=Entry.Kind.REVERSAL, reverses__kind__in=EARNING_KINDS)


def rules_for(user: Any) -> QuerySet[Rule]:
    """The rule books of the user's communities and, for a street admin, the street's default
    book (rules with a street and no community, which the scope paths cannot reach)."""
    scope = scope_for(user)
    if scope.everything:
        return Rule.objects.select_related("community")
    q = Rule.objects.scope_q(scope) or Q(pk__in=[])
    if scope.street_ids:
        q |= Q(street_id__in=scope.street_ids)
    return Rule.objects.filter(q).select_related("community")


def claims_for(user: Any) -> QuerySet[Claim]:
    return Claim.objects.for_user(user).select_related("rule", "resident", "period")


def accounts_for(user: Any) -> QuerySet[Account]:
    return Account.objects.for_user(user).select_related("resident")


def entries_for(user: Any) -> QuerySet[Entry]:
    return Entry.objects.for_user(user).select_related("period")


def objections_for(user: Any) -> QuerySet[Objection]:
    return Objection.objects.for_user(user).select_related("entry__period")


def account_statement(*, account: Account, period: Period | None = None) -> QuerySet[Entry]:
    """An account's entries, newest first (one index range scan on (account, seq))."""
    qs = Entry.objects.filter(account=account).select_related("period")
    if period is not None:
        qs = qs.filter(period=period)
    return qs.order_by("-seq")


def earned(*, account: Account, periods: QuerySet[Period] | list[Period]) -> int:
    """Points the account earned in `periods` (EARNED), in two sums. One query with EARNED
    needs a LEFT JOIN from every entry to the entry it reverses; for an account with many
    entries PostgreSQL answers that with a hash join over the whole ledger (a sequential scan
    of every account's entries, on each me/ page). Apart, the earning kinds are a filter on the
    account's own entries, and only its reversals look up what they reverse."""
    # The quarters' ids, not a subquery: the planner then knows which quarter it reads and
    # keeps to this account's range of entry_account_period.
    if isinstance(periods, QuerySet):
        period_ids = list(periods.values_list("pk", flat=True))
    else:
        period_ids = [p.pk for p in periods]
    entries = Entry.objects.filter(account=account, period_id__in=period_ids)
    direct = entries.filter(kind__in=EARNING_KINDS).aggregate(total=Sum("amount"))["total"]
    undone = entries.filter(kind=Entry.Kind.REVERSAL, reverses__kind__in=EARNING_KINDS).aggregate(
        total=Sum("amount")
    )["total"]
    return (direct or 0) + (undone or 0)


def _earned_subquery(periods: QuerySet[Period]) -> Subquery:
    per_resident = (
        Entry.objects.filter(EARNED, account__resident=OuterRef("pk"), period__in=periods)
        .order_by()
        .values("account__resident")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return Coalesce(Subquery(per_resident, output_field=IntegerField()), Value(0))


def notice_rows(*, period: Period, grid_id: int) -> QuerySet[Resident]:
    """The quarter's public notice (季度公示) of one grid: every resident with the points earned
    in the quarter and their balance. Names are masked by the serializer or the page."""
    return (
        Resident.objects.filter(household__grid_id=grid_id)
        .annotate(
            earned=_earned_subquery(Period.objects.filter(pk=period.pk)),
            balance=Coalesce("point_account__balance", Value(0)),
        )
        .select_related("household")
        .order_by("household_id", "id")
    )


def ranking(*, community_id: int, year: int, party_only: bool = False) -> QuerySet[Resident]:
    """Residents of a community by points earned in the year, ranked (ties share a rank)."""
    periods = Period.objects.filter(code__startswith=f"{year}Q")
    qs = Resident.objects.filter(household__grid__community_id=community_id)
    if party_only:
        qs = qs.filter(is_party_member=True)
    return (
        qs.annotate(earned=_earned_subquery(periods))
        .annotate(rank=Window(expression=Rank(), order_by=F("earned").desc()))
        .select_related("household__grid")
        .order_by("rank", "id")
    )


def claims_of_entries(entries: list[Entry]) -> dict[int, Claim]:
    """The claim behind each entry posted for one (entry id → claim, with its rule), in one
    query: a statement line names the rule ("cleaning one's section") rather than a kind."""
    claim_ids = {e.source_id: e.pk for e in entries if e.source_type == "claim" and e.source_id}
    claims = Claim.objects.filter(pk__in=claim_ids).select_related("rule")
    return {claim_ids[c.pk]: c for c in claims}


# ----------------------------------------------------------------------------- redemption


def _resident_community_q(user: Any, path: str) -> Q | None:
    """A resident also sees their own community's catalog and windows."""
    resident_id = scope_for(user).resident_id
    if not resident_id:
        return None
    community_ids = Resident.objects.filter(pk=resident_id).values("household__grid__community_id")
    return Q(**{f"{path}__in": community_ids})


def catalog_items_for(user: Any) -> QuerySet[CatalogItem]:
    scope = scope_for(user)
    if scope.everything:
        return CatalogItem.objects.all()
    q = CatalogItem.objects.scope_q(scope) or Q(pk__in=[])
    if (own := _resident_community_q(user, "community_id")) is not None:
        q |= own
    return CatalogItem.objects.filter(q)


def redemption_windows_for(user: Any) -> QuerySet[RedemptionWindow]:
    scope = scope_for(user)
    windows = RedemptionWindow.objects.select_related("period")
    if scope.everything:
        return windows
    q = RedemptionWindow.objects.scope_q(scope) or Q(pk__in=[])
    if (own := _resident_community_q(user, "community_id")) is not None:
        q |= own
    return windows.filter(q)


def orders_for(user: Any) -> QuerySet[Order]:
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


def latest_window(*, community_id: int, today: Any) -> RedemptionWindow | None:
    """The community's window that opened most recently (on or before `today`)."""
    return (
        RedemptionWindow.objects.filter(community_id=community_id, opens_on__lte=today)
        .select_related("period")
        .order_by("-opens_on")
        .first()
    )


def next_window(*, community_id: int, today: Any) -> RedemptionWindow | None:
    """The community's next window still to open after `today`, if one is set."""
    return (
        RedemptionWindow.objects.filter(community_id=community_id, opens_on__gt=today)
        .select_related("period")
        .order_by("opens_on")
        .first()
    )
