"""Writes for the close of a quarter (季度结算): starting it, the close job (one community per
transaction, resumable), the purchase and distribution lists, expiry, and the stored public
notice.

The close job runs in Celery (points.tasks.close_period); start_close queues it through
core.dispatch, by name: services never import tasks.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core.dispatch import enqueue_on_commit, ensure_broker_reachable
from core.types import User
from grids.models import Community, Grid
from notifications import hooks as notifications
from points import access
from points.models import (
    Account,
    CatalogItem,
    ClosedCommunity,
    Closing,
    DistributionLine,
    Entry,
    NoticeLine,
    Order,
    OrderLine,
    Period,
    Policy,
    PurchaseLine,
    RedemptionWindow,
)
from points.selectors.claims import (
    counts_households,
    household_label_affixes,
    notice_name,
    notice_rows,
)
from points.selectors.ledger import EARNING_KINDS
from points.services.objections import notice_deadline
from residents.models import Household, Resident


def _closes_today_or_later(period: Period, today: dt.date) -> RedemptionWindow | None:
    return (
        RedemptionWindow.objects.filter(period=period, closes_on__gte=today)
        .select_related("community")
        .order_by("closes_on")
        .first()
    )


@transaction.atomic
def start_close(*, period: Period, user: User) -> Closing:
    """A street admin (or the superuser) starts the close of a quarter: the quarter goes to
    closing and the close job (tasks.close_period) is queued once this commits. Refused before
    the quarter's last day has passed (Beijing time), so no claim dated in it arrives after the
    close, and while a redemption window of the quarter is still open (today or later), so no
    order can arrive during the close. Idempotent: a second call returns the close already
    started (and queues the job again, which finishes a close interrupted by a lost worker and
    is otherwise a no-op)."""
    access.access_close_quarter(user)
    # Before any write: with the broker down the close is refused whole (a clear error,
    # the quarter still open), not left "closing" with no job to run it.
    ensure_broker_reachable()
    period = Period.objects.select_for_update().get(pk=period.pk)
    closing = Closing.objects.filter(period=period).first()
    if closing is None:
        if period.status not in (Period.Status.OPEN, Period.Status.REDEEMING):
            raise ValidationError(
                _("The quarter %(period)s is %(status)s and cannot be closed.")
                % {"period": period.code, "status": period.get_status_display()},
                code="cannot_close",
            )
        today = timezone.localdate()  # Beijing time (TIME_ZONE)
        if period.ends_on >= today:
            # Claims dated in the quarter keep arriving until its last day: closing it earlier
            # (as soon as the redemption window ends) would leave them in a closed quarter.
            raise ValidationError(
                _("The quarter %(period)s runs until %(ends)s: it can be closed from %(first)s on.")
                % {
                    "period": period.code,
                    "ends": period.ends_on.isoformat(),
                    "first": (period.ends_on + dt.timedelta(days=1)).isoformat(),
                },
                code="quarter_not_over",
            )
        window = _closes_today_or_later(period, today)
        if window is not None:
            raise ValidationError(
                _(
                    "The redemption window of %(community)s for %(period)s is open until "
                    "%(closes)s: the quarter can be closed after that day."
                )
                % {
                    "community": window.community.name,
                    "period": period.code,
                    "closes": window.closes_on.isoformat(),
                },
                code="window_open",
            )
        period.status = Period.Status.CLOSING
        period.save(update_fields=["status"])
        closing = Closing.objects.create(
            period=period,
            started_by=user,
            communities_total=communities_to_close(period).count(),
        )
    if closing.status == Closing.Status.RUNNING:
        enqueue_on_commit("points.tasks.close_period", period.pk)
    return closing


def communities_to_close(period: Period) -> QuerySet[Community]:
    """The communities the close of `period` goes through: those with orders in the quarter
    or with residents that have an account."""
    with_orders = Order.objects.filter(period=period).values("community_id")
    with_accounts = Account.objects.values("household__grid__community_id")
    return Community.objects.filter(Q(pk__in=with_orders) | Q(pk__in=with_accounts)).order_by("id")


def _recent_period_ids(period: Period, quarters: int) -> list[int]:
    """The ids of the `quarters` quarters up to and including `period`."""
    months = period.starts_on.year * 12 + period.starts_on.month - 1 - 3 * (quarters - 1)
    earliest = dt.date(months // 12, months % 12 + 1, 1)
    return list(
        Period.objects.filter(starts_on__gte=earliest, starts_on__lte=period.starts_on).values_list(
            "pk", flat=True
        )
    )


def _community_accounts_sql(community_id: int) -> tuple[str, list[Any]]:
    account_t, household_t, grid_t = (
        Account._meta.db_table,
        Household._meta.db_table,
        Grid._meta.db_table,
    )
    return (
        f"""SELECT a.id, a.balance, a.honour, a.last_seq FROM {account_t} a
            JOIN {household_t} h ON h.id = a.household_id
            JOIN {grid_t} g ON g.id = h.grid_id
            WHERE g.community_id = %s""",
        [community_id],
    )


def post_expiry(*, period: Period, community: Community, quarters: int) -> int:
    """Expire, for every account of the community, the points it holds beyond those earned
    in the last `quarters` quarters: max(0, balance - positive entries of those quarters), one
    entry each (kind expiry, key 'expiry:<quarter>'), set-based like the bulk approval: the
    accounts are locked in id order (PostgreSQL), the entries numbered on from each account's
    last sequence number, then the accounts moved to their new entry. A second run posts
    nothing (the key). Call inside a transaction. The number of entries posted."""
    entry_t, account_t = Entry._meta.db_table, Account._meta.db_table
    key = f"expiry:{period.code}"
    accounts_sql, accounts_params = _community_accounts_sql(community.pk)
    recent = _recent_period_ids(period, quarters)
    recent_in = ", ".join(["%s"] * len(recent))
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            # Lock the community's accounts in id order (see _bulk_approve_in_one_statement).
            cur.execute(
                f"SELECT COUNT(*) FROM ({accounts_sql} ORDER BY a.id FOR UPDATE OF a) locked",
                accounts_params,
            )
        cur.execute(
            f"""
            INSERT INTO {entry_t} (account_id, seq, amount, kind, period_id, balance_after,
                                   honour, honour_after,
                                   source_type, source_id, key, note, created_by_id,
                                   created_at)
            SELECT x.id, x.last_seq + 1, -x.expired, %s, %s, x.balance - x.expired,
                   0, x.honour,
                   'period', %s, %s, '', NULL, %s
            FROM (
                SELECT a.id, a.balance, a.honour, a.last_seq,
                       a.balance - COALESCE((SELECT SUM(e.amount) FROM {entry_t} e
                                             WHERE e.account_id = a.id AND e.amount > 0
                                               AND e.kind <> 'transfer'
                                               AND e.period_id IN ({recent_in})), 0) AS expired
                FROM ({accounts_sql}) a
            ) x
            WHERE x.expired > 0
              AND NOT EXISTS (SELECT 1 FROM {entry_t} e
                              WHERE e.account_id = x.id AND e.key = %s)
            """,
            [
                Entry.Kind.EXPIRY,
                period.pk,
                period.pk,
                key,
                connection.ops.adapt_datetimefield_value(timezone.now()),
                *recent,
                *accounts_params,
                key,
            ],
        )
        posted: int = cur.rowcount
        if posted:
            cur.execute(
                f"""
                UPDATE {account_t} SET
                    balance = (SELECT e.balance_after FROM {entry_t} e
                               WHERE e.account_id = {account_t}.id AND e.key = %s),
                    last_seq = last_seq + 1
                WHERE id IN (SELECT a.id FROM ({accounts_sql}) a)
                  AND EXISTS (SELECT 1 FROM {entry_t} e
                              WHERE e.account_id = {account_t}.id AND e.key = %s
                                AND e.seq = {account_t}.last_seq + 1)
                """,
                [key, *accounts_params, key],
            )
    return posted


def _items_text(lines: list[tuple[str, int]]) -> str:
    return "、".join(f"{name}×{quantity}" for name, quantity in lines)


def _rebuild_lists(period: Period, community: Community) -> None:
    PurchaseLine.objects.filter(period=period, community=community).delete()
    bought = (
        OrderLine.objects.filter(
            order__period=period,
            order__community=community,
            order__status__in=[Order.Status.FROZEN, Order.Status.HANDED_OVER],
        )
        .order_by()
        .values("item_id")
        .annotate(total_quantity=Sum("quantity"), total_points=Sum(F("quantity") * F("points")))
        .order_by("item_id")
    )
    PurchaseLine.objects.bulk_create(
        PurchaseLine(
            period=period,
            community=community,
            item_id=row["item_id"],
            quantity=row["total_quantity"],
            points_total=row["total_points"],
        )
        for row in bought
    )
    DistributionLine.objects.filter(period=period, community=community).delete()
    if connection.vendor == "postgresql":
        _insert_distribution_lines(period, community)
        return
    frozen = Order.objects.filter(
        period=period, community=community, status=Order.Status.FROZEN
    ).order_by("id")
    items: dict[int, list[tuple[str, int]]] = {}
    for order_id, name, quantity in (
        OrderLine.objects.filter(order__in=frozen)
        .order_by("order_id", "id")
        .values_list("order_id", "item__name", "quantity")
        .iterator()
    ):
        items.setdefault(order_id, []).append((name, quantity))
    DistributionLine.objects.bulk_create(
        (
            DistributionLine(
                period=period,
                community=community,
                grid_id=grid_id,
                household_id=household_id,
                resident_id=resident_id,
                order_id=order_id,
                items=_items_text(items.get(order_id, [])),
                total_points=total,
            )
            for order_id, resident_id, household_id, grid_id, total in frozen.values_list(
                "id",
                "resident_id",
                "resident__household_id",
                "resident__household__grid_id",
                "total_points",
            ).iterator()
        ),
        batch_size=5000,
    )


def _insert_distribution_lines(period: Period, community: Community) -> None:
    """PostgreSQL: the distribution lines of the community's frozen orders in one INSERT …
    SELECT, in order id order, the items text built by string_agg exactly as _items_text
    does ("name×quantity" joined by "、", in line id order)."""
    with connection.cursor() as cur:
        cur.execute(
            f"""
            INSERT INTO {DistributionLine._meta.db_table}
                (period_id, community_id, grid_id, household_id, resident_id, order_id, items,
                 total_points)
            SELECT o.period_id, o.community_id, h.grid_id, r.household_id, o.resident_id, o.id,
                   COALESCE(t.items, ''), o.total_points
            FROM {Order._meta.db_table} o
            JOIN {Resident._meta.db_table} r ON r.id = o.resident_id
            JOIN {Household._meta.db_table} h ON h.id = r.household_id
            LEFT JOIN LATERAL (
                SELECT string_agg(i.name || '×' || l.quantity, '、' ORDER BY l.id) AS items
                FROM {OrderLine._meta.db_table} l
                JOIN {CatalogItem._meta.db_table} i ON i.id = l.item_id
                WHERE l.order_id = o.id
            ) t ON TRUE
            WHERE o.period_id = %s AND o.community_id = %s AND o.status = %s
            ORDER BY o.id
            """,
            [period.pk, community.pk, Order.Status.FROZEN],
        )


# What str.strip() strips (str.isspace), for mask_name's strip in SQL.
_WHITESPACE = "".join(c for c in map(chr, range(0x3001)) if c.isspace())


def _masked_sql(name: str) -> str:
    """SQL masking `name` (already stripped) as core.masking.mask_name does: keep the first
    and last character of three or more, the first of two."""
    return f"""CASE WHEN char_length({name}) <= 1 THEN {name}
                    WHEN char_length({name}) = 2 THEN left({name}, 1) || '*'
                    ELSE left({name}, 1) || repeat('*', char_length({name}) - 2)
                         || right({name}, 1) END"""


def _insert_notice_lines(period: Period, community: Community) -> None:
    """PostgreSQL: the community's notice lines in one INSERT … SELECT, in the order the
    per-grid path writes them (grid, household, resident). Earned as selectors.EARNED (the
    earning kinds, and reversals of those), read per account through entry_account_period;
    the names masked as core.masking.mask_name does (strip, then keep the first and last
    character of three or more, the first of two). A community that counts per household
    (以户为单位): _insert_household_notice_lines."""
    if counts_households(community.pk):
        _insert_household_notice_lines(period, community)
        return
    entry_t = Entry._meta.db_table
    kinds = [str(k) for k in EARNING_KINDS]
    with connection.cursor() as cur:
        cur.execute(
            f"""
            INSERT INTO {NoticeLine._meta.db_table}
                (period_id, grid_id, resident_id, masked_name, earned, balance)
            SELECT %s, x.grid_id, x.id, {_masked_sql("x.name")}, x.earned, x.balance
            FROM (
                SELECT h.grid_id, r.household_id, r.id, btrim(r.name, %s) AS name,
                       COALESCE(a.balance, 0) AS balance,
                       COALESCE((SELECT SUM(e.amount) FROM {entry_t} e
                                 LEFT JOIN {entry_t} rv ON rv.id = e.reverses_id
                                 WHERE e.account_id = a.id AND e.period_id = %s
                                   AND (e.kind = ANY(%s)
                                        OR (e.kind = %s AND rv.kind = ANY(%s)))), 0) AS earned
                FROM {Resident._meta.db_table} r
                JOIN {Household._meta.db_table} h ON h.id = r.household_id
                JOIN {Grid._meta.db_table} g ON g.id = h.grid_id
                LEFT JOIN {Account._meta.db_table} a ON a.resident_id = r.id
                WHERE g.community_id = %s
            ) x
            ORDER BY x.grid_id, x.household_id, x.id
            """,
            [
                period.pk,
                _WHITESPACE,
                period.pk,
                kinds,
                Entry.Kind.REVERSAL,
                kinds,
                community.pk,
            ],
        )


def _insert_household_notice_lines(period: Period, community: Community) -> None:
    """PostgreSQL, a community that counts per household (以户为单位): one line per household
    with residents, as selectors.notice_rows writes it on the per-grid path. The line names
    the household's head (NoticeLine has a resident: the head, or the member with the
    smallest id when the household has none), masked, with 户 (赵*名户); earned is what every
    account of the household earned in the quarter (its shared account, and its members' own
    from before a switch of unit), the balance its shared account's."""
    entry_t, account_t = Entry._meta.db_table, Account._meta.db_table
    resident_t = Resident._meta.db_table
    kinds = [str(k) for k in EARNING_KINDS]
    before, after = household_label_affixes()
    with connection.cursor() as cur:
        cur.execute(
            f"""
            INSERT INTO {NoticeLine._meta.db_table}
                (period_id, grid_id, resident_id, masked_name, earned, balance)
            SELECT %s, y.grid_id, y.rep_id, %s || {_masked_sql("y.name")} || %s,
                   y.earned, y.balance
            FROM (
                SELECT h.grid_id, h.id AS household_id, rep.id AS rep_id, rep.name,
                       COALESCE(sa.balance, 0) AS balance,
                       COALESCE((SELECT SUM(e.amount) FROM {account_t} ha
                                 JOIN {entry_t} e ON e.account_id = ha.id
                                 LEFT JOIN {entry_t} rv ON rv.id = e.reverses_id
                                 WHERE ha.household_id = h.id AND e.period_id = %s
                                   AND (e.kind = ANY(%s)
                                        OR (e.kind = %s AND rv.kind = ANY(%s)))),
                                0) AS earned
                FROM {Household._meta.db_table} h
                JOIN {Grid._meta.db_table} g ON g.id = h.grid_id
                LEFT JOIN {account_t} sa ON sa.shared_household_id = h.id
                -- The head, or the member with the smallest id: one index lookup per
                -- household (a join back to all residents made PostgreSQL scan the
                -- district's residents for every household community; bench/close_quarter).
                CROSS JOIN LATERAL (
                    SELECT m.id, btrim(m.name, %s) AS name FROM {resident_t} m
                    WHERE m.household_id = h.id
                    ORDER BY m.id = h.head_id DESC NULLS LAST, m.id
                    LIMIT 1
                ) rep
                WHERE g.community_id = %s
            ) y
            ORDER BY y.grid_id, y.household_id, y.rep_id
            """,
            [
                period.pk,
                before,
                after,
                period.pk,
                kinds,
                Entry.Kind.REVERSAL,
                kinds,
                _WHITESPACE,
                community.pk,
            ],
        )


def _store_notice(period: Period, community: Community) -> None:
    grids = list(
        Grid.objects.filter(community=community).order_by("id").values_list("id", flat=True)
    )
    NoticeLine.objects.filter(period=period, grid_id__in=grids).delete()
    if connection.vendor == "postgresql":
        _insert_notice_lines(period, community)
        return
    for grid_id in grids:
        NoticeLine.objects.bulk_create(
            (
                NoticeLine(
                    period=period,
                    grid_id=grid_id,
                    resident_id=row.pk,
                    masked_name=notice_name(row),  # 赵*名户 for a household's line
                    earned=row.earned,  # type: ignore[attr-defined]  # annotated by notice_rows
                    balance=row.balance,  # type: ignore[attr-defined]
                )
                for row in notice_rows(period=period, grid_id=grid_id).iterator()
            ),
            batch_size=5000,
        )


@transaction.atomic
def close_community(*, closing: Closing, community: Community) -> bool:
    """The close of one community, in one transaction (the chunk): freeze its placed orders,
    rebuild its purchase and distribution lists, post expiry where its policy asks, store its
    public notice, and mark it closed. A chunk interrupted anywhere rolls back entirely; a
    community already closed is left alone. True when this call closed it."""
    _marker, created = ClosedCommunity.objects.get_or_create(closing=closing, community=community)
    if not created:
        return False
    # The marker's row (uncommitted, unique on closing+community) makes a concurrent run of
    # the same community wait here, then find it closed.
    period = closing.period
    Order.objects.filter(period=period, community=community, status=Order.Status.PLACED).update(
        status=Order.Status.FROZEN
    )
    _rebuild_lists(period, community)
    quarters = (
        Policy.objects.filter(community=community)
        .values_list("expire_after_quarters", flat=True)
        .first()
    )
    if quarters:
        post_expiry(period=period, community=community, quarters=quarters)
    _store_notice(period, community)
    deadline = notice_deadline(period=period, community=community)
    notifications.community_closed_later(period=period, community=community, deadline=deadline)
    return True


def close_period(period_id: int) -> Closing:
    """The close job: every community not yet closed, each in its own transaction, then the
    close done and the quarter closed. Resumable and idempotent: a run killed in the middle
    loses at most the community it was in (rolled back), and a run after the end changes
    nothing."""
    closing = Closing.objects.select_related("period").get(period_id=period_id)
    if closing.status == Closing.Status.DONE:
        return closing
    closed = ClosedCommunity.objects.filter(closing=closing).values("community_id")
    for community in communities_to_close(closing.period).exclude(pk__in=closed).iterator():
        if close_community(closing=closing, community=community):
            Closing.objects.filter(pk=closing.pk).update(
                communities_done=ClosedCommunity.objects.filter(closing=closing).count()
            )
    with transaction.atomic():
        closing = Closing.objects.select_for_update().select_related("period").get(pk=closing.pk)
        if closing.status == Closing.Status.DONE:
            return closing
        done = ClosedCommunity.objects.filter(closing=closing).count()
        closing.status = Closing.Status.DONE
        closing.finished_at = timezone.now()
        closing.communities_done = done
        closing.communities_total = max(closing.communities_total, done)
        closing.save(
            update_fields=["status", "finished_at", "communities_done", "communities_total"]
        )
        Period.objects.filter(pk=closing.period_id).update(status=Period.Status.CLOSED)
        closing.period.status = Period.Status.CLOSED
    return closing
