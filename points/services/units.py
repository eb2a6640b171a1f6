"""Account units and the two tracks of points (issue 15).

- switch_account_unit: a community starts (or stops) counting points per household (以户为单位).
  At a quarter boundary, every balance and honour total moves to the new unit's accounts with
  `transfer` entries, set-based: one INSERT … SELECT for the entries out, one for the entries
  in, one UPDATE of the accounts; the ledger is never edited.
- reset_exchange_points: the optional yearly reset (双轨制): on the community's date the exchange
  points left (the balance) are cleared with `expiry` entries, once a year, set-based; honour
  points are kept.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Exists, Min, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.types import User
from grids.models import Community, Grid
from points.models import (
    Account,
    Claim,
    Closing,
    Entry,
    ExchangeReset,
    Order,
    Period,
    Policy,
    RedemptionWindow,
    UnitSwitch,
)
from points.services.ledger import (
    current_period,
    ensure_accounts,
    ensure_household_accounts,
)
from residents.models import Household, Resident

RESIDENT = Policy.AccountUnit.RESIDENT
HOUSEHOLD = Policy.AccountUnit.HOUSEHOLD


# ----------------------------------------------------------------------------- the switch


def _refuse_unless_at_boundary(community: Community, period: Period) -> None:
    """A switch happens between quarters: the quarters before this one closed (for this
    community: its notice and lists final), no close running, no redemption window open and no
    order waiting to be handed over or refunded (a refund must credit the account it debited)."""
    earlier = Period.objects.filter(ends_on__lt=period.starts_on).exclude(
        status=Period.Status.CLOSED
    )
    # Only quarters this community took part in: with entries or orders of its own.
    in_use = earlier.filter(
        Exists(
            Entry.objects.filter(
                period=OuterRef("pk"), account__household__grid__community=community
            )
        )
        | Exists(Order.objects.filter(period=OuterRef("pk"), community=community))
    ).first()
    if in_use is not None:
        raise ValidationError(
            _(
                "Switch at a quarter boundary: close %(period)s first (its notice and lists "
                "are counted in the present unit)."
            )
            % {"period": in_use.code},
            code="not_at_boundary",
        )
    if Closing.objects.filter(status=Closing.Status.RUNNING).exists():
        raise ValidationError(
            _("A quarter is being closed; switch when the close has finished."),
            code="not_at_boundary",
        )
    today = timezone.localdate()
    if RedemptionWindow.objects.filter(
        community=community, opens_on__lte=today, closes_on__gte=today
    ).exists():
        raise ValidationError(
            _("The redemption window is open; switch after it closes."), code="not_at_boundary"
        )
    if Order.objects.filter(
        community=community, status__in=[Order.Status.PLACED, Order.Status.FROZEN]
    ).exists():
        raise ValidationError(
            _(
                "Orders are waiting to be handed over or refunded; switch once every order of "
                "the last redemption is settled."
            ),
            code="not_at_boundary",
        )


def _mapping_sql(community: Community, to_unit: str) -> tuple[str, list[Any]]:
    """SQL for (from_id, to_id): each account of the old unit in `community` that holds points
    or honour points, and the account of the new unit they move to. Per household: a
    resident's account → their household's. Per resident: a household's account → its head's
    (户主) account, or the member with the smallest id when it has no head."""
    account_t, household_t, grid_t, resident_t = (
        Account._meta.db_table,
        Household._meta.db_table,
        Grid._meta.db_table,
        Resident._meta.db_table,
    )
    if to_unit == HOUSEHOLD:
        return (
            f"""SELECT a.id AS from_id, t.id AS to_id
                FROM {account_t} a
                JOIN {household_t} h ON h.id = a.household_id
                JOIN {grid_t} g ON g.id = h.grid_id
                JOIN {account_t} t ON t.shared_household_id = a.household_id
                WHERE g.community_id = %s AND a.resident_id IS NOT NULL
                  AND (a.balance <> 0 OR a.honour <> 0)""",
            [community.pk],
        )
    return (
        f"""SELECT a.id AS from_id, t.id AS to_id
            FROM {account_t} a
            JOIN {household_t} h ON h.id = a.shared_household_id
            JOIN {grid_t} g ON g.id = h.grid_id
            JOIN {account_t} t ON t.resident_id = COALESCE(
                (SELECT r.id FROM {resident_t} r WHERE r.id = h.head_id AND r.household_id = h.id),
                (SELECT MIN(r.id) FROM {resident_t} r WHERE r.household_id = h.id))
            WHERE g.community_id = %s AND (a.balance <> 0 OR a.honour <> 0)""",
        [community.pk],
    )


def _recipients(community: Community, to_unit: str) -> None:
    """Open the accounts the points move to (set-based)."""
    households = Household.objects.filter(grid__community=community)
    if to_unit == HOUSEHOLD:
        ensure_household_accounts(households)
        return
    heads = Resident.objects.filter(household__in=households, pk__in=households.values("head_id"))
    first = Resident.objects.filter(
        pk__in=Subquery(
            Resident.objects.filter(household__grid__community=community)
            .order_by()
            .values("household_id")
            .annotate(first=Min("id"))
            .values("first")
        )
    )
    ensure_accounts(heads)
    ensure_accounts(first)


@transaction.atomic
def switch_account_unit(*, community: Community, to_unit: str, by: User | None) -> UnitSwitch:
    """Make `community` count points per `to_unit` ("resident" or "household") from now on,
    moving every balance and honour total with transfer entries, set-based:

    1. lock the community's policy (one switch at a time) and its accounts, in id order;
    2. open the accounts of the new unit that are missing;
    3. one INSERT … SELECT posts each receiving account's entry (+ the sum of what moves to it),
       one posts each giving account's entry (− all it holds), key 'switch:<id>';
    4. one UPDATE moves each account to its new entry (balance, honour, last_seq);
    5. submitted claims of the community are re-pointed to their new account.
    The transfers of a switch add up to nothing (verify_ledger checks it). Refused unless at a
    quarter boundary (_refuse_unless_at_boundary) or when the community counts so already.
    """
    if to_unit not in (RESIDENT, HOUSEHOLD):
        raise ValidationError({"to_unit": [_("Choose resident or household.")]})
    policy, _created = Policy.objects.get_or_create(community=community)
    policy = Policy.objects.select_for_update().get(pk=policy.pk)
    if policy.account_unit == to_unit:
        raise ValidationError(
            {"to_unit": [_("The community counts points this way already.")]},
            code="same_unit",
        )
    period = current_period()
    _refuse_unless_at_boundary(community, period)
    # The community's waiting claims first, in id order, as an approval locks them (claims,
    # then accounts): an approval running now finishes first, or waits and then finds its
    # claims re-pointed (step 5), never a deadlock.
    waiting = Claim.objects.filter(
        status=Claim.Status.SUBMITTED, resident__household__grid__community=community
    )
    list(waiting.order_by("id").select_for_update(of=("self",)).values_list("id", flat=True))
    _recipients(community, to_unit)
    switch = UnitSwitch.objects.create(
        community=community,
        period=period,
        from_unit=policy.account_unit,
        to_unit=to_unit,
        switched_by=by,
    )
    entry_t, account_t = Entry._meta.db_table, Account._meta.db_table
    mapping, mparams = _mapping_sql(community, to_unit)
    key = f"switch:{switch.pk}"
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    note = gettext_noop("account unit switched")
    common: list[Any] = [Entry.Kind.TRANSFER, period.pk]
    tail: list[Any] = ["unitswitch", switch.pk, key, note, by.pk if by else None, now]
    touched = f"""SELECT from_id FROM ({mapping}) m1
                  UNION SELECT to_id FROM ({mapping}) m2"""
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(
                f"""SELECT COUNT(*) FROM (SELECT a.id FROM {account_t} a
                    WHERE a.id IN ({touched}) ORDER BY a.id FOR UPDATE) locked""",
                [*mparams, *mparams],
            )
        # What moves, read under the locks before anything moves.
        cur.execute(
            f"""SELECT COUNT(*), COALESCE(SUM(a.balance), 0), COALESCE(SUM(a.honour), 0)
                FROM {account_t} a WHERE a.id IN (SELECT from_id FROM ({mapping}) m)""",
            mparams,
        )
        emptied, points_moved, honour_moved = cur.fetchone()
        # In: each receiving account gets the sum of what moves to it (read before the out
        # entries move anything: the accounts are updated only in step 4).
        cur.execute(
            f"""
            INSERT INTO {entry_t} (account_id, seq, amount, kind, period_id, balance_after,
                                   honour, honour_after, source_type, source_id, key, note,
                                   created_by_id, created_at)
            SELECT t.id, t.last_seq + 1, s.b, %s, %s, t.balance + s.b, s.h, t.honour + s.h,
                   %s, %s, %s, %s, %s, %s
            FROM {account_t} t
            JOIN (SELECT m.to_id, SUM(a.balance) AS b, SUM(a.honour) AS h
                  FROM ({mapping}) m JOIN {account_t} a ON a.id = m.from_id
                  GROUP BY m.to_id) s ON s.to_id = t.id
            """,
            [*common, *tail, *mparams],
        )
        cur.execute(
            f"""
            INSERT INTO {entry_t} (account_id, seq, amount, kind, period_id, balance_after,
                                   honour, honour_after, source_type, source_id, key, note,
                                   created_by_id, created_at)
            SELECT a.id, a.last_seq + 1, -a.balance, %s, %s, 0, -a.honour, 0,
                   %s, %s, %s, %s, %s, %s
            FROM {account_t} a WHERE a.id IN (SELECT from_id FROM ({mapping}) m)
            """,
            [*common, *tail, *mparams],
        )
        # Every account with a new entry (still found by the mapping: no balance has moved).
        cur.execute(
            f"""
            UPDATE {account_t} SET
                balance = (SELECT e.balance_after FROM {entry_t} e
                           WHERE e.account_id = {account_t}.id AND e.key = %s),
                honour = (SELECT e.honour_after FROM {entry_t} e
                          WHERE e.account_id = {account_t}.id AND e.key = %s),
                last_seq = last_seq + 1
            WHERE id IN ({touched})
              AND EXISTS (SELECT 1 FROM {entry_t} e
                          WHERE e.account_id = {account_t}.id AND e.key = %s
                            AND e.seq = {account_t}.last_seq + 1)
            """,
            [key, key, *mparams, *mparams, key],
        )
    switch.accounts_closed = emptied
    switch.points_moved = points_moved
    switch.honour_moved = honour_moved
    switch.save(update_fields=["accounts_closed", "points_moved", "honour_moved"])
    policy.account_unit = to_unit
    policy.save(update_fields=["account_unit"])
    _repoint_submitted_claims(community, to_unit)
    return switch


def _repoint_submitted_claims(community: Community, to_unit: str) -> int:
    """Claims waiting for approval post to the new unit's account once approved."""
    waiting = Claim.objects.filter(
        status=Claim.Status.SUBMITTED, resident__household__grid__community=community
    )
    if to_unit == HOUSEHOLD:  # the households' accounts were opened by _recipients
        target = Account.objects.filter(shared_household__residents=OuterRef("resident_id"))
    else:
        target = Account.objects.filter(resident_id=OuterRef("resident_id"))
        ensure_accounts(Resident.objects.filter(pk__in=waiting.values("resident_id")))
    ids = list(waiting.values_list("pk", flat=True))
    return Claim.objects.filter(pk__in=ids).update(account_id=Subquery(target.values("pk")[:1]))


# ----------------------------------------------------------------------------- yearly reset


def reset_date(policy: Policy, year: int) -> dt.date | None:
    if policy.reset_month is None or policy.reset_day is None:
        return None
    return dt.date(year, policy.reset_month, policy.reset_day)


def communities_due_for_reset(today: dt.date) -> QuerySet[Policy]:
    """Policies whose yearly reset date of this year has come and that have not reset yet."""
    done = ExchangeReset.objects.filter(community=OuterRef("community_id"), year=today.year)
    come = Q(reset_month__lt=today.month) | Q(reset_month=today.month, reset_day__lte=today.day)
    return Policy.objects.filter(come).exclude(Exists(done))


@transaction.atomic
def reset_exchange_points(*, community: Community, year: int) -> ExchangeReset:
    """Clear the exchange points (balance) of every account of `community` that holds some,
    with one `expiry` entry each (key 'reset:<year>'), set-based; honour points stay. Once a
    year: a second call for the same year returns the first record and posts nothing."""
    policy = Policy.objects.select_for_update().get(community=community)
    day = reset_date(policy, year)
    if day is None:
        raise ValidationError(_("This community has no yearly reset date."), code="no_reset")
    done = ExchangeReset.objects.filter(community=community, year=year).first()
    if done is not None:
        return done
    entry_t, account_t, household_t, grid_t = (
        Entry._meta.db_table,
        Account._meta.db_table,
        Household._meta.db_table,
        Grid._meta.db_table,
    )
    accounts = f"""SELECT a.id FROM {account_t} a
                   JOIN {household_t} h ON h.id = a.household_id
                   JOIN {grid_t} g ON g.id = h.grid_id
                   WHERE g.community_id = %s AND a.balance > 0"""
    key = f"reset:{year}"
    # Posted in the quarter it runs in (a reset run late, after its quarter closed, still
    # posts into an open quarter).
    period = current_period()
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(
                f"""SELECT COUNT(*) FROM (SELECT a.id FROM {account_t} a
                    WHERE a.id IN ({accounts}) ORDER BY a.id FOR UPDATE) locked""",
                [community.pk],
            )
        cur.execute(
            f"SELECT COALESCE(SUM(a.balance), 0) FROM {account_t} a WHERE a.id IN ({accounts})",
            [community.pk],
        )
        (cleared,) = cur.fetchone()
        cur.execute(
            f"""
            INSERT INTO {entry_t} (account_id, seq, amount, kind, period_id, balance_after,
                                   honour, honour_after, source_type, source_id, key, note,
                                   created_by_id, created_at)
            SELECT a.id, a.last_seq + 1, -a.balance, %s, %s, 0, 0, a.honour,
                   'community', %s, %s, %s, NULL, %s
            FROM {account_t} a
            WHERE a.id IN ({accounts})
              AND NOT EXISTS (SELECT 1 FROM {entry_t} e
                              WHERE e.account_id = a.id AND e.key = %s)
            """,
            [
                Entry.Kind.EXPIRY,
                period.pk,
                community.pk,
                key,
                gettext_noop("yearly reset of exchange points"),
                connection.ops.adapt_datetimefield_value(timezone.now()),
                community.pk,
                key,
            ],
        )
        posted = cur.rowcount
        cur.execute(
            f"""
            UPDATE {account_t} SET balance = 0, last_seq = last_seq + 1
            WHERE id IN ({accounts})
              AND EXISTS (SELECT 1 FROM {entry_t} e
                          WHERE e.account_id = {account_t}.id AND e.key = %s
                            AND e.seq = {account_t}.last_seq + 1)
            """,
            [community.pk, key],
        )
    return ExchangeReset.objects.create(
        community=community, year=year, reset_on=day, entries=posted, points_cleared=cleared
    )


def run_due_resets(*, today: dt.date | None = None) -> list[ExchangeReset]:
    """The beat task's body: every community whose reset date has come this year, once."""
    today = today or timezone.localdate()
    return [
        reset_exchange_points(community=policy.community, year=today.year)
        for policy in communities_due_for_reset(today).select_related("community")
    ]
