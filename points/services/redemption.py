"""Writes for the quarterly redemption (积分云超市, no shelves): redemption windows, orders,
cancelling, the hand-over, the refund of what was not collected, and the catalog's deletes.

After a quarter ends, each community opens a redemption window; residents (or their grid
worker) order goods from the community's catalog and the points are debited at once;
cancelling inside the window refunds them. After the window the committee buys what was ordered
and hands it out; what is not collected by the collection deadline is refunded by a beat task.
The refund of an order, by cancellation or for not being collected, always has the key
'order-refund:<id>': never twice.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import OuterRef, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.quarters import quarter_of
from core.types import User
from grids.models import Community
from notifications import hooks as notifications
from points import access
from points.models import (
    Account,
    CatalogItem,
    Entry,
    Order,
    OrderLine,
    Period,
    Policy,
    RedemptionWindow,
)
from points.services.ledger import account_for, debit, period_for, post_entry
from residents.models import Resident


def _open_window(
    *,
    period: Period,
    community: Community,
    opens_on: dt.date,
    closes_on: dt.date,
    user: User | None,
    pickup: dict[str, str] | None = None,
) -> RedemptionWindow:
    if closes_on < opens_on:
        raise ValidationError({"closes_on": [_("The window cannot close before it opens.")]})
    period = Period.objects.select_for_update().get(pk=period.pk)
    if period.status in (Period.Status.CLOSING, Period.Status.CLOSED):
        raise ValidationError(
            _("The quarter %(period)s is %(status)s: its redemption window cannot be opened.")
            % {"period": period.code, "status": period.get_status_display()}
        )
    window, _created = RedemptionWindow.objects.update_or_create(
        period=period,
        community=community,
        defaults={
            "opens_on": opens_on,
            "closes_on": closes_on,
            "opened_by": user,
            **(pickup or {}),
        },
    )
    if period.status == Period.Status.OPEN:
        period.status = Period.Status.REDEEMING
        period.save(update_fields=["status"])
    return window


@transaction.atomic
def open_redemption(
    *,
    period: Period,
    community: Community,
    opens_on: dt.date,
    closes_on: dt.date,
    user: User,
    pickup_place: str | None = None,
    pickup_time: str | None = None,
) -> RedemptionWindow:
    """A street admin opens (or moves the dates of) a community's redemption window for a
    quarter; the quarter goes from open to redeeming. Refused once the quarter is closing.
    `pickup_place` and `pickup_time` (where and when the goods are handed out, shown to the
    residents who order) are set when given, and kept as they were when left out."""
    access.access_open_redemption(user, community)
    pickup = {
        name: value.strip()
        for name, value in (("pickup_place", pickup_place), ("pickup_time", pickup_time))
        if value is not None
    }
    return _open_window(
        period=period,
        community=community,
        opens_on=opens_on,
        closes_on=closes_on,
        user=user,
        pickup=pickup,
    )


def open_due_redemptions(*, today: dt.date | None = None) -> int:
    """For every community whose policy asks for it, open the window of the quarter that just
    ended: from the day after its end, for the policy's redemption_days. Once: a community that
    has a window for that quarter (opened by hand or earlier) is left alone, and so is a window
    whose days have already passed (beat was down). The number of windows opened."""
    today = today or timezone.localdate()
    _code, this_start, _end = quarter_of(today)
    ended = period_for(this_start - dt.timedelta(days=1))
    opens_on = ended.ends_on + dt.timedelta(days=1)
    opened = 0
    policies = Policy.objects.filter(auto_open_redemption=True).select_related("community")
    for policy in policies:
        closes_on = opens_on + dt.timedelta(days=max(policy.redemption_days, 1) - 1)
        if today > closes_on:
            continue
        if RedemptionWindow.objects.filter(period=ended, community=policy.community).exists():
            continue
        with transaction.atomic():
            ended.refresh_from_db(fields=["status"])
            if ended.status in (Period.Status.CLOSING, Period.Status.CLOSED):
                break
            _open_window(
                period=ended,
                community=policy.community,
                opens_on=opens_on,
                closes_on=closes_on,
                user=None,
            )
            opened += 1
    return opened


def _window_refusal(window: RedemptionWindow | None) -> ValidationError:
    if window is None:
        return ValidationError(
            _("The redemption window of your community is not open."), code="window_closed"
        )
    return ValidationError(
        _("The redemption window for %(period)s is open from %(opens)s to %(closes)s.")
        % {
            "period": window.period.code,
            "opens": window.opens_on.isoformat(),
            "closes": window.closes_on.isoformat(),
        },
        code="window_closed",
    )


def open_window_for(
    *, community_id: int, today: dt.date, period: Period | None = None
) -> RedemptionWindow:
    """The community's window open on `today` (of `period`, if given); refused with the
    window's dates when there is one but it is not open."""
    windows = RedemptionWindow.objects.filter(community_id=community_id).select_related("period")
    if period is not None:
        windows = windows.filter(period=period)
    window = windows.filter(opens_on__lte=today, closes_on__gte=today).first()
    if window is None:
        raise _window_refusal(windows.order_by("-opens_on").first())
    if window.period.status in (Period.Status.CLOSING, Period.Status.CLOSED):
        # The close has started: the orders are being frozen into the purchase list.
        raise ValidationError(
            _("The quarter %(period)s is being closed: orders can no longer change.")
            % {"period": window.period.code},
            code="window_closed",
        )
    return window


def _merge_lines(lines: list[tuple[CatalogItem, int]]) -> dict[int, tuple[CatalogItem, int]]:
    merged: dict[int, tuple[CatalogItem, int]] = {}
    for item, quantity in lines:
        if quantity <= 0:
            raise ValidationError({"lines": [_("Each quantity must be at least 1.")]})
        before = merged.get(item.pk, (item, 0))[1]
        merged[item.pk] = (item, before + quantity)
    return merged


@transaction.atomic
def place_order(
    *,
    user: User,
    resident: Resident,
    lines: list[tuple[CatalogItem, int]],
    period: Period | None = None,
) -> Order:
    """Order goods from the community's catalog while its redemption window is open, and debit
    the points at once (key 'order:<id>'). Refused, with nothing written, when an item is not
    an active item of the resident's community, when a limit per quarter would be passed, or
    when the balance does not cover the order."""
    access.access_order_for(user, resident)
    if not lines:
        raise ValidationError({"lines": [_("Order at least one item.")]})
    community_id = access.community_id_of(resident)
    window = open_window_for(community_id=community_id, today=timezone.localdate(), period=period)
    period = window.period
    merged = _merge_lines(lines)
    # The account's lock serialises one resident's orders: the limits and the balance below are
    # read under it, so two concurrent orders cannot both pass a limit or overdraw.
    account = Account.objects.select_for_update().get(pk=account_for(resident).pk)
    items = {
        i.pk: i for i in CatalogItem.objects.filter(pk__in=merged.keys())
    }  # fresh: points and active as they are now
    for item_id, (_given, quantity) in merged.items():
        item = items[item_id]
        if item.community_id != community_id or not item.active:
            raise ValidationError(
                {
                    "lines": [
                        _("%(item)s is not an active item of the resident's community.")
                        % {"item": item.name}
                    ]
                }
            )
        if item.limit_per_quarter is not None:
            ordered = (
                OrderLine.objects.filter(item=item, order__resident=resident, order__period=period)
                .exclude(order__status__in=[Order.Status.CANCELLED, Order.Status.REFUNDED])
                .aggregate(total=Sum("quantity"))["total"]
                or 0
            )
            if ordered + quantity > item.limit_per_quarter:
                raise ValidationError(
                    {
                        "lines": [
                            _(
                                "%(item)s is limited to %(limit)d per resident in %(period)s; "
                                "%(ordered)d already ordered, so at most %(left)d more."
                            )
                            % {
                                "item": item.name,
                                "limit": item.limit_per_quarter,
                                "period": period.code,
                                "ordered": ordered,
                                "left": max(item.limit_per_quarter - ordered, 0),
                            }
                        ]
                    },
                )
    total = sum(items[i].points * q for i, (_g, q) in merged.items())
    order = Order.objects.create(
        resident=resident,
        community_id=community_id,
        period=period,
        total_points=total,
        placed_by=user,
        account=account,
    )
    OrderLine.objects.bulk_create(
        [
            OrderLine(order=order, item=items[i], quantity=q, points=items[i].points)
            for i, (_g, q) in merged.items()
        ]
    )
    # InsufficientPoints (a ValidationError) rolls the order and its lines back with it.
    debit(
        account=account,
        points=total,
        key=f"order:{order.pk}",
        kind=Entry.Kind.REDEMPTION,
        source=order,
        created_by=user,
        period=period,
    )
    notifications.order_changed(order)
    return order


def _lock_order(order: Order) -> Order:
    return Order.objects.select_for_update(of=("self",)).select_related("period").get(pk=order.pk)


def _refund(order: Order, user: User, note: str) -> Entry:
    # The account the order debited (a household's, with household accounts).
    return post_entry(
        account=order.account or account_for(order.resident),
        amount=order.total_points,
        kind=Entry.Kind.REFUND,
        key=f"order-refund:{order.pk}",
        source=order,
        created_by=user,
        note=note,
        period=order.period,
    )


@transaction.atomic
def cancel_order(*, user: User, order: Order) -> Order:
    """Cancel a placed order inside the window and refund its points, once."""
    access.access_order_for(user, order.resident)
    order = _lock_order(order)
    if order.status == Order.Status.CANCELLED:
        raise ValidationError(_("This order is already cancelled."), code="already_cancelled")
    if order.status != Order.Status.PLACED:
        raise ValidationError(
            _("This order is %(status)s and can no longer be cancelled.")
            % {"status": order.get_status_display()}
        )
    if order.period.status in (Period.Status.CLOSING, Period.Status.CLOSED):
        raise ValidationError(
            _("The quarter %(period)s is being closed: orders can no longer change.")
            % {"period": order.period.code}
        )
    window = RedemptionWindow.objects.filter(
        period_id=order.period_id, community_id=order.community_id
    ).first()
    if window is None or not window.is_open_on(timezone.localdate()):
        raise ValidationError(
            _("Orders can be cancelled only while the redemption window is open.")
        )
    order.status = Order.Status.CANCELLED
    order.cancelled_at = timezone.now()
    order.save(update_fields=["status", "cancelled_at"])
    _refund(order, user, note=gettext_noop("order cancelled"))
    notifications.order_changed(order)
    return order


@transaction.atomic
def hand_over(*, user: User, order: Order) -> Order:
    """A grid worker of the order's grid (or the committee) records that the goods were
    handed over. Allowed for a frozen order (frozen by the close of the quarter) and, until the
    close job exists, for a placed order once its window has closed."""
    access.access_hand_over(user, order)
    order = _lock_order(order)
    if order.status == Order.Status.HANDED_OVER:
        raise ValidationError(_("This order has already been handed over."))
    window = RedemptionWindow.objects.filter(
        period_id=order.period_id, community_id=order.community_id
    ).first()
    window_closed = window is None or timezone.localdate() > window.closes_on
    if not (
        order.status == Order.Status.FROZEN
        or (order.status == Order.Status.PLACED and window_closed)
    ):
        if order.status == Order.Status.PLACED:
            assert window is not None  # placed with its window still open
            raise ValidationError(
                _("Orders are handed over after the redemption window closes (%(date)s).")
                % {"date": window.closes_on.isoformat()}
            )
        raise ValidationError(
            _("This order is %(status)s and cannot be handed over.")
            % {"status": order.get_status_display()}
        )
    order.status = Order.Status.HANDED_OVER
    order.handed_over_at = timezone.now()
    order.handed_over_by = user
    order.save(update_fields=["status", "handed_over_at", "handed_over_by"])
    return order


def collection_deadline(window: RedemptionWindow) -> dt.date:
    """The last day a community's orders of a quarter can be collected."""
    days = (
        Policy.objects.filter(community_id=window.community_id)
        .values_list("collection_days", flat=True)
        .first()
    )
    if days is None:
        days = Policy._meta.get_field("collection_days").get_default()
    return window.closes_on + dt.timedelta(days=days)


def _refund_window(window: RedemptionWindow, now: dt.datetime) -> int:
    """Refund a window's uncollected orders, set-based, in the caller's transaction.

    1. (PostgreSQL) lock the accounts of the residents with uncollected orders, in id order
       (as the bulk approval and post_expiry do, so concurrent writers queue, never deadlock);
    2. one UPDATE marks the orders refunded, all with the same `refunded_at` (this run);
    3. one INSERT … SELECT posts their refund entries (key 'order-refund:<id>', never twice),
       numbered on from each account's last sequence number with a running balance;
    4. one UPDATE moves each of those accounts to its newest entry.
    The number of orders refunded."""
    order_t, entry_t, account_t = (
        Order._meta.db_table,
        Entry._meta.db_table,
        Account._meta.db_table,
    )
    uncollected = Order.objects.filter(
        period_id=window.period_id,
        community_id=window.community_id,
        status__in=[Order.Status.FROZEN, Order.Status.PLACED],
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute(
                f"""SELECT COUNT(*) FROM (
                        SELECT a.id FROM {account_t} a
                        WHERE a.id IN (
                            SELECT o.account_id FROM {order_t} o
                            WHERE o.period_id = %s AND o.community_id = %s
                              AND o.status IN (%s, %s))
                        ORDER BY a.id FOR UPDATE
                    ) locked""",
                [
                    window.period_id,
                    window.community_id,
                    Order.Status.FROZEN,
                    Order.Status.PLACED,
                ],
            )
    # Under READ COMMITTED an order handed over meanwhile is re-checked and left alone.
    refunded = uncollected.update(status=Order.Status.REFUNDED, refunded_at=now)
    if refunded == 0:
        return 0
    with connection.cursor() as cur:
        cur.execute(
            f"""
            INSERT INTO {entry_t} (account_id, seq, amount, kind, period_id, balance_after,
                                   honour, honour_after,
                                   source_type, source_id, key, note, created_by_id,
                                   created_at)
            SELECT a.id,
                   a.last_seq + ROW_NUMBER() OVER w,
                   o.total_points,
                   %s,
                   o.period_id,
                   a.balance + SUM(o.total_points) OVER w,
                   0, a.honour,
                   'order', o.id, 'order-refund:' || o.id, %s, NULL, %s
            FROM {order_t} o JOIN {account_t} a ON a.id = o.account_id
            WHERE o.period_id = %s AND o.community_id = %s AND o.status = %s
              AND o.refunded_at = %s
              AND NOT EXISTS (SELECT 1 FROM {entry_t} e
                              WHERE e.account_id = a.id AND e.key = 'order-refund:' || o.id)
            WINDOW w AS (PARTITION BY a.id ORDER BY o.id)
            """,
            [
                Entry.Kind.REFUND,
                gettext_noop("not collected by the deadline"),
                connection.ops.adapt_datetimefield_value(now),
                window.period_id,
                window.community_id,
                Order.Status.REFUNDED,
                connection.ops.adapt_datetimefield_value(now),
            ],
        )
    this_run = Order.objects.filter(
        period_id=window.period_id,
        community_id=window.community_id,
        status=Order.Status.REFUNDED,
        refunded_at=now,
    )
    notifications.orders_changed(this_run)
    newest = Entry.objects.filter(account=OuterRef("pk")).order_by("-seq")
    Account.objects.filter(id__in=this_run.values("account_id")).update(
        balance=Subquery(newest.values("balance_after")[:1]),
        last_seq=Subquery(newest.values("seq")[:1]),
    )
    return refunded


def refund_uncollected(*, today: dt.date | None = None) -> int:
    """After a community's collection deadline, refund every order (frozen or placed) that was
    not handed over: status refunded and a refund entry. Set-based: a fixed handful of
    statements per window, whatever its number of orders (_refund_window), one transaction per
    window; the key 'order-refund:<id>' makes a second run (or a cancelled order) post nothing.
    The number of orders refunded."""
    today = today or timezone.localdate()
    refunded = 0
    for window in RedemptionWindow.objects.all().iterator():
        if today <= collection_deadline(window):
            continue
        with transaction.atomic():
            refunded += _refund_window(window, timezone.now())
    return refunded


@transaction.atomic
def delete_catalog_item(*, user: User, item: CatalogItem) -> None:
    """Delete an item of the community's catalog (its committee). An item that has been ordered
    stays (the order lines name it): it is made inactive instead."""
    access.access_delete_catalog_item(user, item)
    if item.order_lines.exists():
        raise ValidationError(
            {"detail": [_("This item has been ordered: make it inactive instead.")]}
        )
    item.delete()
