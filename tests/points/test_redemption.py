"""The quarterly redemption (积分云超市): the catalog, the redemption window, orders that debit
at once, cancellation and refund, hand-over, the uncollected refund, the beat tasks and the API
with its personas."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied

from demo.parts.points import CATALOG, seed_catalog
from points import tasks
from points.models import CatalogItem, Entry, Order, OrderLine, Period, RedemptionWindow
from points.services import claims as claims_services
from points.services import ledger as ledger_services
from points.services import redemption as redemption_services


@pytest.fixture(autouse=True)
def english(settings):
    """The messages below are compared in English (the suite runs in zh-hans)."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


SHANGHAI = ZoneInfo("Asia/Shanghai")
Q3 = dt.date(2026, 7, 1)
OPENS, CLOSES = dt.date(2026, 10, 1), dt.date(2026, 10, 7)
INSIDE = dt.date(2026, 10, 3)
AFTER = dt.date(2026, 10, 9)  # the window has closed; collection until 10-21 (14 days)
DEADLINE = CLOSES + dt.timedelta(days=14)
REFUSED = (PermissionDenied, ApiPermissionDenied)


def at(day: dt.date, hour: int = 10) -> time_machine.travel:
    return time_machine.travel(dt.datetime.combine(day, dt.time(hour), SHANGHAI), tick=False)


@pytest.fixture
def q3(db) -> Period:
    return ledger_services.period_for(Q3)


@pytest.fixture
def shop(world):
    def item(name, points, community=world.community1, **kw):
        return CatalogItem.objects.create(
            community=community, name=name, points=points, unit="个", **kw
        )

    return {
        "soap": item("香皂", 10, limit_per_quarter=2),
        "towel": item("毛巾", 20),
        "shampoo": item("洗发水", 30),
        "old": item("旧货", 10, active=False),
        "other": item("外村香皂", 10, community=world.community2),
    }


def give(resident, points: int, period: Period) -> None:
    account = ledger_services.account_for(resident)
    ledger_services.post_entry(
        account=account, amount=points, kind="award", key=f"seed:{points}", period=period
    )


@pytest.fixture
def window(world, q3) -> RedemptionWindow:
    with at(dt.date(2026, 9, 30)):
        return redemption_services.open_redemption(
            period=q3, community=world.community1, opens_on=OPENS, closes_on=CLOSES,
            user=world.admin1,
        )  # fmt: skip


@pytest.fixture
def funded(world, q3, window):
    give(world.resident1, 50, q3)
    give(world.resident2, 50, q3)
    return world


def balance(resident) -> int:
    return ledger_services.account_for(resident).balance


def order_for(world, shop, lines=None, user=None, resident=None) -> Order:
    return redemption_services.place_order(
        user=user or world.resident_user,
        resident=resident or world.resident1,
        lines=lines or [(shop["towel"], 1)],
    )


# ---------------------------------------------------------------------------- window


def test_street_admin_opens_the_window_and_the_quarter_starts_redeeming(window, q3):
    q3.refresh_from_db()
    assert q3.status == Period.Status.REDEEMING
    assert (window.opens_on, window.closes_on) == (OPENS, CLOSES)


def test_committee_and_other_street_admin_cannot_open_the_window(world, q3):
    for user in (world.committee1, world.admin2):
        with pytest.raises(REFUSED):
            redemption_services.open_redemption(
                period=q3, community=world.community1, opens_on=OPENS, closes_on=CLOSES, user=user
            )
    assert not RedemptionWindow.objects.exists()


def test_a_closing_quarter_cannot_open_its_window(world, q3):
    Period.objects.filter(pk=q3.pk).update(status=Period.Status.CLOSING)
    with pytest.raises(ValidationError):
        redemption_services.open_redemption(
            period=q3, community=world.community1, opens_on=OPENS, closes_on=CLOSES,
            user=world.admin1,
        )  # fmt: skip


def test_beat_opens_the_window_of_the_quarter_that_ended_once(world, q3):
    policy = claims_services.policy_for(world.community1)
    policy.auto_open_redemption, policy.redemption_days = True, 5
    policy.save()
    claims_services.policy_for(world.community2)  # does not ask for it
    with at(dt.date(2026, 10, 1), hour=0):
        assert tasks.open_due_redemptions() == 1
        assert tasks.open_due_redemptions() == 0
    with at(dt.date(2026, 10, 2)):
        assert tasks.open_due_redemptions() == 0
    window = RedemptionWindow.objects.get()
    assert (window.period, window.community) == (q3, world.community1)
    assert (window.opens_on, window.closes_on) == (OPENS, dt.date(2026, 10, 5))
    assert window.opened_by is None


def test_beat_does_not_open_a_window_whose_days_have_passed(world, q3):
    policy = claims_services.policy_for(world.community1)
    policy.auto_open_redemption = True
    policy.save()
    with at(dt.date(2026, 11, 20)):
        assert redemption_services.open_due_redemptions() == 0
    assert not RedemptionWindow.objects.exists()


# ---------------------------------------------------------------------------- orders


def test_resident_orders_inside_the_window_and_the_points_are_debited(funded, shop, q3):
    world = funded
    with at(INSIDE):
        order = order_for(world, shop, [(shop["towel"], 1), (shop["soap"], 2)])
    assert order.status == Order.Status.PLACED
    assert (order.total_points, order.period, order.community) == (40, q3, world.community1)
    assert sorted(order.lines.values_list("item__name", "quantity", "points")) == [
        ("毛巾", 1, 20),
        ("香皂", 2, 10),
    ]
    assert balance(world.resident1) == 10
    entry = Entry.objects.get(key=f"order:{order.pk}")
    assert (entry.kind, entry.amount, entry.period) == ("redemption", -40, q3)
    assert ledger_services.verify_ledger().ok


def test_grid_worker_orders_for_a_resident_of_their_grid_not_of_another(funded, shop):
    world = funded
    with at(INSIDE):
        order = order_for(world, shop, user=world.worker1.user)
        assert order.placed_by == world.worker1.user
        with pytest.raises(REFUSED):
            order_for(world, shop, user=world.worker2.user)
        with pytest.raises(REFUSED):
            order_for(world, shop, user=world.committee3)
    assert Order.objects.count() == 1


def test_ordering_outside_the_window_is_refused_naming_its_dates(funded, shop):
    for day in (dt.date(2026, 9, 30), AFTER):
        with at(day), pytest.raises(ValidationError) as refused:
            order_for(funded, shop)
        assert "2026-10-01" in str(refused.value) and "2026-10-07" in str(refused.value)
    assert not Order.objects.exists()


def test_ordering_and_cancelling_are_refused_once_the_quarter_is_closing(funded, shop, q3):
    with at(INSIDE):
        order = order_for(funded, shop)
        Period.objects.filter(pk=q3.pk).update(status=Period.Status.CLOSING)
        with pytest.raises(ValidationError, match="being closed"):
            order_for(funded, shop)
        with pytest.raises(ValidationError, match="being closed"):
            redemption_services.cancel_order(user=funded.resident_user, order=order)
    assert Order.objects.count() == 1 and balance(funded.resident1) == 30


def test_ordering_without_any_window_is_refused(world, shop, q3):
    give(world.resident1, 50, q3)
    with at(INSIDE), pytest.raises(ValidationError, match="not open"):
        order_for(world, shop)


def test_overdraw_is_refused_and_nothing_is_written(funded, shop):
    entries = Entry.objects.count()
    with at(INSIDE), pytest.raises(ledger_services.InsufficientPoints) as refused:
        order_for(funded, shop, [(shop["shampoo"], 2)])
    assert "50" in str(refused.value) and "60" in str(refused.value)
    assert (Order.objects.count(), OrderLine.objects.count()) == (0, 0)
    assert Entry.objects.count() == entries
    assert balance(funded.resident1) == 50
    assert ledger_services.verify_ledger().ok


def test_the_limit_per_quarter_counts_earlier_orders_and_says_what_is_left(funded, shop):
    with at(INSIDE):
        order_for(funded, shop, [(shop["soap"], 1)])
        with pytest.raises(ValidationError) as refused:
            order_for(funded, shop, [(shop["soap"], 2)])
    text = str(refused.value)
    assert "香皂" in text and "limited to 2" in text and "at most 1 more" in text
    assert balance(funded.resident1) == 40


def test_a_cancelled_order_does_not_count_against_the_limit(funded, shop):
    with at(INSIDE):
        first = order_for(funded, shop, [(shop["soap"], 2)])
        redemption_services.cancel_order(user=funded.resident_user, order=first)
        order_for(funded, shop, [(shop["soap"], 2)])
    assert balance(funded.resident1) == 30


@pytest.mark.parametrize("name", ["old", "other"])
def test_inactive_or_other_community_items_are_refused(funded, shop, name):
    with at(INSIDE), pytest.raises(ValidationError, match="not an active item"):
        order_for(funded, shop, [(shop[name], 1)])
    assert not Order.objects.exists()


def test_cancel_inside_the_window_refunds_once(funded, shop, q3):
    with at(INSIDE):
        order = order_for(funded, shop)
        redemption_services.cancel_order(user=funded.worker1.user, order=order)
        with pytest.raises(ValidationError, match="already cancelled"):
            redemption_services.cancel_order(user=funded.resident_user, order=order)
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED and order.cancelled_at
    refund = Entry.objects.get(key=f"order-refund:{order.pk}")
    assert (refund.kind, refund.amount, refund.period) == ("refund", 20, q3)
    assert balance(funded.resident1) == 50
    assert ledger_services.verify_ledger().ok


def test_cancel_after_the_window_is_refused(funded, shop):
    with at(INSIDE):
        order = order_for(funded, shop)
    with at(AFTER), pytest.raises(ValidationError):
        redemption_services.cancel_order(user=funded.resident_user, order=order)
    assert balance(funded.resident1) == 30


# ---------------------------------------------------------------------------- hand-over, refund


def test_grid_worker_hands_over_after_the_window_and_worker2_cannot(funded, shop):
    with at(INSIDE):
        order = order_for(funded, shop)
        with pytest.raises(ValidationError, match="after the redemption window"):
            redemption_services.hand_over(user=funded.worker1.user, order=order)
    with at(AFTER):
        with pytest.raises(REFUSED):
            redemption_services.hand_over(user=funded.worker2.user, order=order)
        redemption_services.hand_over(user=funded.worker1.user, order=order)
        with pytest.raises(ValidationError, match="already"):
            redemption_services.hand_over(user=funded.worker1.user, order=order)
    order.refresh_from_db()
    assert order.status == Order.Status.HANDED_OVER
    assert order.handed_over_by == funded.worker1.user and order.handed_over_at


def test_a_frozen_order_can_be_handed_over(funded, shop):
    with at(INSIDE):
        order = order_for(funded, shop)
        Order.objects.filter(pk=order.pk).update(status=Order.Status.FROZEN)
        redemption_services.hand_over(user=funded.committee1, order=order)
    assert Order.objects.get(pk=order.pk).status == Order.Status.HANDED_OVER


def test_uncollected_orders_are_refunded_after_the_deadline_once(funded, shop):
    world = funded
    with at(INSIDE):
        collected = order_for(world, shop)
        forgotten = order_for(world, shop, user=world.worker2.user, resident=world.resident2)
        cancelled = order_for(world, shop, [(shop["soap"], 1)])
        redemption_services.cancel_order(user=world.resident_user, order=cancelled)
    with at(AFTER):
        redemption_services.hand_over(user=world.worker1.user, order=collected)
    with at(DEADLINE):
        assert tasks.refund_uncollected() == 0
    assert balance(world.resident2) == 30
    with at(DEADLINE + dt.timedelta(days=1)):
        assert tasks.refund_uncollected() == 1
        assert tasks.refund_uncollected() == 0
        with pytest.raises(ValidationError):
            redemption_services.hand_over(user=world.worker2.user, order=forgotten)
    forgotten.refresh_from_db()
    assert forgotten.status == Order.Status.REFUNDED and forgotten.refunded_at
    assert Entry.objects.filter(key=f"order-refund:{forgotten.pk}").count() == 1
    assert Entry.objects.filter(kind="refund").count() == 2  # the cancel's and this one
    assert balance(world.resident2) == 50
    assert balance(world.resident1) == 30
    assert Order.objects.get(pk=collected.pk).status == Order.Status.HANDED_OVER
    assert ledger_services.verify_ledger().ok


def _uncollected_orders(world, shop, count: int) -> list[Order]:
    give(world.resident1, 20 * count, Period.objects.get(code="2026Q3"))
    with at(INSIDE):
        return [order_for(world, shop) for _ in range(count)]


def test_uncollected_refund_is_set_based_numbered_per_account(funded, shop):
    world = funded
    first, second = _uncollected_orders(world, shop, 2)
    with at(INSIDE):
        other = order_for(world, shop, user=world.worker2.user, resident=world.resident2)
    account = ledger_services.account_for(world.resident1)
    seq_before, balance_before = account.last_seq, account.balance  # 50 + 40 - 40 = 50
    with at(DEADLINE + dt.timedelta(days=1)):
        assert redemption_services.refund_uncollected() == 3
        assert redemption_services.refund_uncollected() == 0
    refunds = list(Entry.objects.filter(account=account, kind="refund").order_by("seq"))
    assert [(e.key, e.seq, e.amount, e.balance_after) for e in refunds] == [
        (f"order-refund:{first.pk}", seq_before + 1, 20, balance_before + 20),
        (f"order-refund:{second.pk}", seq_before + 2, 20, balance_before + 40),
    ]
    assert all(
        (e.source_type, e.source_id, e.period.code, e.note)
        == ("order", o.pk, "2026Q3", "not collected by the deadline")
        for e, o in zip(refunds, (first, second), strict=True)
    )
    account.refresh_from_db()
    assert (account.last_seq, account.balance) == (seq_before + 2, balance_before + 40)
    assert balance(world.resident2) == 50
    assert Entry.objects.get(key=f"order-refund:{other.pk}").balance_after == 50
    assert set(Order.objects.values_list("status", flat=True)) == {Order.Status.REFUNDED}
    assert ledger_services.verify_ledger().ok


def test_uncollected_refund_queries_do_not_grow_with_the_orders(funded, shop):
    orders = _uncollected_orders(funded, shop, 30)
    counts = {}
    for n in (3, 30):
        with transaction.atomic():  # each measurement is rolled back
            Order.objects.filter(pk__in=[o.pk for o in orders[n:]]).update(
                status=Order.Status.HANDED_OVER,
                handed_over_at=timezone.now(),
                handed_over_by=funded.worker1.user,
            )
            with at(DEADLINE + dt.timedelta(days=1)), CaptureQueriesContext(connection) as q:
                assert redemption_services.refund_uncollected() == n
            assert Entry.objects.filter(kind="refund").count() == n
            assert ledger_services.verify_ledger().ok
            counts[n] = len(q)
            transaction.set_rollback(True)
    assert counts[3] == counts[30], counts


# ---------------------------------------------------------------------------- API


def test_api_resident_places_and_lists_their_own_orders(funded, shop, client_for):
    api = client_for(funded.resident_user)
    body = {"lines": [{"item": shop["towel"].pk, "quantity": 2}]}
    with at(INSIDE):
        made = api.post("/api/v1/me/orders/", body, format="json")
        assert made.status_code == 201, made.data
        assert made.data["total_points"] == 40 and made.data["period"] == "2026Q3"
        assert made.data["lines"][0]["item_name"] == "毛巾"
        mine = api.get("/api/v1/me/orders/")
        assert [o["id"] for o in mine.data["results"]] == [made.data["id"]]
        too_much = api.post("/api/v1/me/orders/", body, format="json")
        assert too_much.status_code == 400
        assert api.get("/api/v1/catalog-items/").data["count"] == 4  # community 1's
        assert client_for(funded.worker1.user).get("/api/v1/me/orders/").status_code == 404


def test_api_worker_orders_for_own_grid_and_others_are_refused(funded, shop, client_for):
    body = {"resident": funded.resident1.pk, "lines": [{"item": shop["soap"].pk, "quantity": 1}]}
    with at(INSIDE):
        made = client_for(funded.worker1.user).post(
            "/api/v1/redemption-orders/", body, format="json"
        )
        assert made.status_code == 201, made.data
        for outsider in (funded.worker2.user, funded.committee3):
            refused = client_for(outsider).post("/api/v1/redemption-orders/", body, format="json")
            assert refused.status_code == 403
            detail = client_for(outsider).get(f"/api/v1/redemption-orders/{made.data['id']}/")
            assert detail.status_code == 404
        assert client_for(funded.admin1).post(
            "/api/v1/redemption-orders/", body, format="json"
        ).status_code == 403  # fmt: skip
    assert Order.objects.count() == 1


def test_api_order_create_replays_with_the_idempotency_key(funded, shop, client_for):
    api = client_for(funded.worker1.user)
    body = {"resident": funded.resident1.pk, "lines": [{"item": shop["towel"].pk, "quantity": 1}]}
    with at(INSIDE):
        first = api.post(
            "/api/v1/redemption-orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="k1"
        )
        again = api.post(
            "/api/v1/redemption-orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="k1"
        )
    assert first.status_code == again.status_code == 201
    assert first.data["id"] == again.data["id"]
    assert Order.objects.count() == 1 and balance(funded.resident1) == 30


def test_api_cancel_and_hand_over(funded, shop, client_for):
    with at(INSIDE):
        kept = order_for(funded, shop)
        dropped = order_for(funded, shop, [(shop["soap"], 1)])
        resident = client_for(funded.resident_user)
        cancelled = resident.post(f"/api/v1/redemption-orders/{dropped.pk}/cancel/")
        assert cancelled.status_code == 200 and cancelled.data["status"] == "cancelled"
        assert resident.post(f"/api/v1/redemption-orders/{dropped.pk}/cancel/").status_code == 400
    with at(AFTER):
        path = f"/api/v1/redemption-orders/{kept.pk}/hand-over/"
        assert client_for(funded.resident_user).post(path).status_code == 403
        assert client_for(funded.worker2.user).post(path).status_code == 404
        handed = client_for(funded.worker1.user).post(path)
        assert handed.status_code == 200 and handed.data["status"] == "handed_over"


def test_api_catalog_is_written_by_the_committee_only(world, shop, client_for):
    body = {"community": world.community1.pk, "name": "牙膏", "points": 20, "unit": "支"}
    made = client_for(world.committee1).post("/api/v1/catalog-items/", body, format="json")
    assert made.status_code == 201, made.data
    dup = client_for(world.committee1).post("/api/v1/catalog-items/", body, format="json")
    assert dup.status_code == 400
    for outsider in (world.committee3, world.worker1.user, world.resident_user):
        body["name"] = "牙刷"
        assert (
            client_for(outsider).post("/api/v1/catalog-items/", body, format="json").status_code
            == 403
        )
    item = f"/api/v1/catalog-items/{shop['soap'].pk}/"
    assert client_for(world.committee3).get(item).status_code == 404
    assert client_for(world.worker1.user).get(item).status_code == 200
    edited = client_for(world.committee1).patch(item, {"active": False}, format="json")
    assert edited.status_code == 200 and edited.data["active"] is False


def test_api_street_admin_opens_a_window(world, q3, client_for):
    body = {"period": "2026Q3", "community": world.community1.pk,
            "opens_on": "2026-10-01", "closes_on": "2026-10-07"}  # fmt: skip
    made = client_for(world.admin1).post("/api/v1/redemption-windows/", body, format="json")
    assert made.status_code == 201, made.data
    assert client_for(world.admin2).post(
        "/api/v1/redemption-windows/", body, format="json"
    ).status_code == 403  # fmt: skip
    assert client_for(world.committee1).post(
        "/api/v1/redemption-windows/", body, format="json"
    ).status_code == 403  # fmt: skip
    bad = client_for(world.admin1).post(
        "/api/v1/redemption-windows/", {**body, "closes_on": "2026-09-01"}, format="json"
    )
    assert bad.status_code == 400
    seen = client_for(world.resident_user).get("/api/v1/redemption-windows/")
    assert seen.data["count"] == 1


# ---------------------------------------------------------------------------- demo


def test_demo_catalog_is_the_source_catalog_and_idempotent(world):
    assert seed_catalog(street=world.street1) == 2 * len(CATALOG)
    assert seed_catalog(street=world.street1) == 0
    xzz = CatalogItem.objects.filter(community=world.community1)
    assert sorted(xzz.values_list("name", "points", "unit")) == sorted(CATALOG)
    assert CatalogItem.objects.filter(community=world.community2).count() == len(CATALOG)


def test_admin_lists_orders_and_catalog(funded, shop, client):
    with at(INSIDE):
        order = order_for(funded, shop)
    client.force_login(funded.superuser)
    assert client.get("/admin/points/order/").status_code == 200
    assert client.get(f"/admin/points/order/{order.pk}/change/").status_code == 200
    assert client.get("/admin/points/catalogitem/").status_code == 200
    assert client.get("/admin/points/redemptionwindow/").status_code == 200
    with at(AFTER):
        done = client.post(
            "/admin/points/order/",
            {"action": "hand_over_selected", "_selected_action": [order.pk]},
        )
    assert done.status_code == 302
    assert Order.objects.get(pk=order.pk).status == Order.Status.HANDED_OVER
