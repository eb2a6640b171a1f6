"""Reads for the ledger: accounts, entries, an account's statement and the points it earned.

Knows nothing of claims, shops or the close.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet, Sum

from core.types import AnyUser
from points.models.ledger import Account, Entry, Period

# Points earned: awards and deductions, adjustments, and reversals of those. Redemptions,
# refunds and expiry move a balance but are not earning.
EARNING_KINDS = (Entry.Kind.AWARD, Entry.Kind.DEDUCTION, Entry.Kind.ADJUSTMENT)
EARNED = Q(kind__in=EARNING_KINDS) | Q(kind=Entry.Kind.REVERSAL, reverses__kind__in=EARNING_KINDS)


def accounts_for(user: AnyUser) -> QuerySet[Account]:
    # holder_name reads a household account's head (以户为单位).
    return Account.objects.for_user(user).select_related("resident", "household__head")


def entries_for(user: AnyUser) -> QuerySet[Entry]:
    return Entry.objects.for_user(user).select_related("period")


def account_statement(*, account: Account, period: Period | None = None) -> QuerySet[Entry]:
    """An account's entries, newest first (one index range scan on (account, seq))."""
    qs = Entry.objects.filter(account=account).select_related("period")
    if period is not None:
        qs = qs.filter(period=period)
    return qs.order_by("-seq")


def accounts_statement(*, accounts: QuerySet[Account], period: Period) -> QuerySet[Entry]:
    """The entries of a quarter on any of `accounts` (a resident's own account and their
    household's, as the objections page lists them), newest first."""
    return (
        Entry.objects.filter(account__in=accounts, period=period)
        .select_related("period")
        .order_by("-created_at", "-id")
    )


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
