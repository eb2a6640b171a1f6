"""Household accounts, honour points and the yearly reset (issue 15): the ledger side.

Honour points (荣誉积分) grow with awards and fall only with deductions and reversals; a
community switches between resident and household accounts at a quarter boundary with
transfer entries; the yearly reset clears exchange points once, keeping honour; verify_ledger
covers all of it.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection, connections

from points.models import (
    Account,
    CatalogItem,
    Claim,
    Entry,
    ExchangeReset,
    Order,
    Period,
    Policy,
    RedemptionWindow,
    Rule,
    UnitSwitch,
)
from points.services import claims as claims_services
from points.services import ledger as ledger_services
from points.services import redemption as redemption_services
from points.services import units
from points.tasks import reset_exchange_points
from tests import factories as f

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = dt.date(2026, 11, 16)  # inside 2026Q4


def at(day: dt.date, hour: int = 10) -> time_machine.travel:
    return time_machine.travel(dt.datetime.combine(day, dt.time(hour), SHANGHAI), tick=False)


@pytest.fixture
def village(world):
    """新庄赵村 with two households: 赵爱国 (head) and his wife 王桂兰 in household1,
    赵秀英 alone in household2; a reward and a deduction rule."""
    w = world
    w.spouse = f.ResidentFactory(household=w.household1, name="王桂兰")
    w.household1.head = w.resident1
    w.household1.save(update_fields=["head"])
    w.clean = Rule.objects.create(
        community=w.community1, code="clean", name="清扫责任区", category="reward", points=5
    )
    w.fine = Rule.objects.create(
        community=w.community1, code="fine", name="违反村规", category="deduction", points=3
    )
    return w


def worker_of(w, resident):
    """The grid worker of the resident's grid (grid1: worker1, grid2: worker2)."""
    return (w.worker1 if resident.household.grid_id == w.grid1.pk else w.worker2).user


def approved(w, resident, rule=None, user=None) -> Claim:
    claim = claims_services.submit_claim(
        user=user or worker_of(w, resident), resident=resident, rule=rule or w.clean
    )
    return claims_services.approve_claim(claim=claim, approver=w.committee1)


def assert_ledger_ok() -> None:
    report = ledger_services.verify_ledger()
    assert report.ok, report.problems


# ----------------------------------------------------------------------------- honour


def test_honour_grows_with_awards_and_falls_only_with_deductions_and_reversals(village):
    w = village
    with at(TODAY):
        approved(w, w.resident1)  # +5
        approved(w, w.resident1)  # +5
        approved(w, w.resident1, rule=w.fine)  # -3
        account = ledger_services.account_for(w.resident1)
        account.refresh_from_db()
        assert (account.balance, account.honour) == (7, 7)
        # Spending (a redemption) moves the balance, not the honour.
        ledger_services.debit(account=account, points=6, key="order:x")
        account.refresh_from_db()
        assert (account.balance, account.honour) == (1, 7)
        # A refund brings the points back, the honour stays where it is.
        ledger_services.post_entry(account=account, amount=6, kind="refund", key="refund:x")
        account.refresh_from_db()
        assert (account.balance, account.honour) == (7, 7)
        # A reversal of an award takes its honour back too.
        award = Entry.objects.filter(account=account, kind="award").first()
        reversal = ledger_services.reverse_entry(entry=award, user=w.committee1, reason="记错了")
        assert (reversal.amount, reversal.honour) == (-5, -5)
        account.refresh_from_db()
        assert (account.balance, account.honour) == (2, 2)
    assert_ledger_ok()


def test_bulk_approval_carries_honour(village):
    w = village
    with at(TODAY):
        claims = [
            claims_services.submit_claim(user=w.worker1.user, resident=w.resident1, rule=rule)
            for rule in (w.clean, w.clean, w.fine)
        ]
        result = claims_services.bulk_approve_claims(
            claims=Claim.objects.filter(pk__in=[c.pk for c in claims]), approver=w.committee1
        )
    assert result.decided == 3
    account = Account.objects.get(resident=w.resident1)
    assert (account.balance, account.honour) == (7, 7)
    honours = list(
        Entry.objects.filter(account=account).order_by("seq").values_list("honour_after")
    )
    assert honours == [(5,), (10,), (7,)]
    assert_ledger_ok()


# ----------------------------------------------------------------------------- switching


def test_switch_to_household_moves_balances_and_honour_with_transfers(village):
    w = village
    with at(TODAY):
        approved(w, w.resident1)  # 赵爱国 +5
        approved(w, w.spouse)  # 王桂兰 +5
        approved(w, w.spouse, rule=w.fine)  # 王桂兰 -3
        approved(w, w.resident2)  # 赵秀英 +5
        spent = ledger_services.account_for(w.resident1)
        ledger_services.debit(account=spent, points=4, key="order:1")  # 赵爱国 1 left
        switch = units.switch_account_unit(community=w.community1, to_unit="household", by=w.admin1)
    assert Policy.objects.get(community=w.community1).account_unit == "household"
    hh1 = Account.objects.get(shared_household=w.household1)
    hh2 = Account.objects.get(shared_household=w.household2)
    # Household 1: 1 (赵爱国) + 2 (王桂兰) points; honour 5 + 2.
    assert (hh1.balance, hh1.honour) == (3, 7)
    assert (hh2.balance, hh2.honour) == (5, 5)
    for resident in (w.resident1, w.spouse, w.resident2):
        old = Account.objects.get(resident=resident)
        assert (old.balance, old.honour) == (0, 0)
        last = Entry.objects.filter(account=old).order_by("-seq").first()
        assert last.kind == "transfer" and last.key == f"switch:{switch.pk}"
    transfers = Entry.objects.filter(kind="transfer", source_id=switch.pk)
    assert transfers.count() == 5  # three out, two in
    assert sum(e.amount for e in transfers) == 0
    assert sum(e.honour for e in transfers) == 0
    assert (switch.accounts_closed, switch.points_moved, switch.honour_moved) == (3, 8, 12)
    assert switch.from_unit == "resident" and switch.to_unit == "household"
    # Another community's accounts are untouched.
    assert not Account.objects.filter(shared_household=w.household3).exists()
    assert_ledger_ok()


def test_after_the_switch_claims_orders_and_refunds_use_the_household_account(village):
    w = village
    with at(TODAY):
        waiting = claims_services.submit_claim(user=w.worker1.user, resident=w.spouse, rule=w.clean)
        approved(w, w.resident1)
        units.switch_account_unit(community=w.community1, to_unit="household", by=w.admin1)
        hh1 = Account.objects.get(shared_household=w.household1)
        # The claim submitted before the switch was re-pointed; approved now, it lands there.
        waiting.refresh_from_db()
        assert waiting.account_id == hh1.pk
        claims_services.approve_claim(claim=waiting, approver=w.committee1)
        # A new claim for either member posts to the household too (in bulk as well).
        fresh = claims_services.submit_claim(
            user=w.worker1.user, resident=w.resident1, rule=w.clean
        )
        claims_services.bulk_approve_claims(
            claims=Claim.objects.filter(pk=fresh.pk), approver=w.committee1
        )
        hh1.refresh_from_db()
        assert (hh1.balance, hh1.honour) == (15, 15)
        assert ledger_services.account_for(w.spouse) == hh1
        # An order by a member debits the household; cancelling it refunds the household.
        period = ledger_services.current_period()
        item = CatalogItem.objects.create(community=w.community1, name="洗衣粉", points=10)
        RedemptionWindow.objects.create(
            period=period, community=w.community1, opens_on=TODAY, closes_on=TODAY + dt.timedelta(1)
        )
        order = redemption_services.place_order(
            user=w.worker1.user, resident=w.spouse, lines=[(item, 1)]
        )
        assert order.account_id == hh1.pk
        hh1.refresh_from_db()
        assert (hh1.balance, hh1.honour) == (5, 15)
        redemption_services.cancel_order(user=w.worker1.user, order=order)
        hh1.refresh_from_db()
        assert (hh1.balance, hh1.honour) == (15, 15)
    assert Account.objects.get(resident=w.spouse).balance == 0
    assert_ledger_ok()


def test_switching_back_moves_a_household_balance_to_its_head(village):
    w = village
    with at(TODAY):
        units.switch_account_unit(community=w.community1, to_unit="household", by=w.admin1)
        approved(w, w.spouse)  # +5 to household 1
        approved(w, w.resident2)  # +5 to household 2 (no head: to its only member)
        back = units.switch_account_unit(community=w.community1, to_unit="resident", by=w.admin1)
    assert Account.objects.get(resident=w.resident1).balance == 5  # the head, 赵爱国
    assert not Account.objects.filter(resident=w.spouse).exclude(balance=0).exists()
    assert Account.objects.get(resident=w.resident2).honour == 5
    assert Account.objects.get(shared_household=w.household1).balance == 0
    assert (back.accounts_closed, back.points_moved) == (2, 10)
    assert_ledger_ok()


def test_a_switch_is_refused_away_from_a_quarter_boundary(village):
    w = village
    with at(dt.date(2026, 9, 20)):
        approved(w, w.resident1)  # an entry in 2026Q3
    with at(TODAY):
        # 2026Q3 is not closed yet: its notice and lists count per resident.
        with pytest.raises(ValidationError, match="2026Q3"):
            units.switch_account_unit(community=w.community1, to_unit="household", by=w.admin1)
        Period.objects.filter(code="2026Q3").update(status="closed")
        # An open redemption window, then an order waiting to be handed over.
        window = RedemptionWindow.objects.create(
            period=ledger_services.current_period(),
            community=w.community1,
            opens_on=TODAY - dt.timedelta(days=2),
            closes_on=TODAY + dt.timedelta(days=2),
        )
        item = CatalogItem.objects.create(community=w.community1, name="肥皂", points=1)
        redemption_services.place_order(
            user=w.worker1.user, resident=w.resident1, lines=[(item, 1)]
        )
        with pytest.raises(ValidationError, match="兑换窗口"):
            units.switch_account_unit(community=w.community1, to_unit="household", by=w.admin1)
        RedemptionWindow.objects.filter(pk=window.pk).update(closes_on=TODAY - dt.timedelta(1))
        window.refresh_from_db()
        with pytest.raises(ValidationError, match="订单"):
            units.switch_account_unit(community=w.community1, to_unit="household", by=w.admin1)
        Order.objects.update(status=Order.Status.CANCELLED)
        units.switch_account_unit(community=w.community1, to_unit="household", by=w.admin1)
        # Counting per household already: refused, nothing posted twice.
        with pytest.raises(ValidationError):
            units.switch_account_unit(community=w.community1, to_unit="household", by=w.admin1)
    assert UnitSwitch.objects.count() == 1
    assert_ledger_ok()


def test_a_refused_switch_leaves_nothing_behind(village):
    w = village
    with at(TODAY):
        approved(w, w.resident1)
        RedemptionWindow.objects.create(
            period=ledger_services.current_period(),
            community=w.community1,
            opens_on=TODAY,
            closes_on=TODAY + dt.timedelta(1),
        )
        before = Entry.objects.count()
        with pytest.raises(ValidationError):
            units.switch_account_unit(community=w.community1, to_unit="household", by=w.admin1)
    assert Entry.objects.count() == before
    assert not UnitSwitch.objects.exists()
    assert not Policy.objects.filter(community=w.community1, account_unit="household").exists()


def test_verify_ledger_covers_both_units(village):
    w = village
    with at(TODAY):
        approved(w, w.resident1)
        units.switch_account_unit(community=w.community1, to_unit="household", by=w.admin1)
    assert_ledger_ok()
    old = Account.objects.get(resident=w.resident1)
    # A resident's account holding points in a community that counts per household.
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE points_account SET balance = 4 WHERE id = %s", [old.pk]
        )  # (balance off its entries too)
    problems = ledger_services.verify_ledger().problems
    assert any("a resident account holding 4 points" in p for p in problems), problems
    Account.objects.filter(pk=old.pk).update(balance=0)
    # A resident's account filed under a household the resident does not live in.
    Account.objects.filter(pk=old.pk).update(household=w.household2)
    problems = ledger_services.verify_ledger().problems
    assert problems == [
        f"account {old.pk}: belongs to household {w.household2.pk} "
        f"but its resident lives in {w.household1.pk}"
    ]


def test_a_resident_who_moves_takes_their_account_along(village):
    w = village
    with at(TODAY):
        approved(w, w.spouse)
    w.spouse.household = w.household2
    w.spouse.save()
    assert Account.objects.get(resident=w.spouse).household_id == w.household2.pk
    assert_ledger_ok()


# ----------------------------------------------------------------------------- yearly reset


def test_yearly_reset_clears_exchange_points_once_and_keeps_honour(village):
    w = village
    Policy.objects.update_or_create(
        community=w.community1, defaults={"reset_month": 12, "reset_day": 20}
    )
    with at(TODAY):
        approved(w, w.resident1)
        approved(w, w.resident2)
        ledger_services.debit(
            account=ledger_services.account_for(w.resident2), points=5, key="order:2"
        )
        # Before the date: nothing is due.
        assert units.run_due_resets() == []
    with at(dt.date(2026, 12, 21)):
        assert reset_exchange_points() == 1
        assert reset_exchange_points() == 0  # once a year
        again = units.reset_exchange_points(community=w.community1, year=2026)
    record = ExchangeReset.objects.get()
    assert again == record
    assert (record.entries, record.points_cleared, record.reset_on) == (1, 5, dt.date(2026, 12, 20))
    a1 = Account.objects.get(resident=w.resident1)
    assert (a1.balance, a1.honour) == (0, 5)
    expiry = Entry.objects.get(account=a1, kind="expiry")
    assert (expiry.amount, expiry.honour, expiry.key) == (-5, 0, "reset:2026")
    # Nothing to clear on an empty account; another community (no date) untouched.
    assert not Entry.objects.filter(account__resident=w.resident2, kind="expiry").exists()
    assert_ledger_ok()


def test_a_reset_date_must_be_whole(village):
    policy = Policy(community=village.community1, reset_month=2, reset_day=None)
    with pytest.raises(ValidationError):
        policy.full_clean()


# ----------------------------------------------------------------------------- PostgreSQL


@pytest.mark.django_db(transaction=True)
def test_switch_and_concurrent_approvals_lose_nothing(world, on_postgres):
    """PostgreSQL: a switch and approvals at once. The switch locks the accounts it moves in
    id order, the approvals theirs; whichever goes first, every approved point ends up in the
    community's current unit and the ledger checks out."""
    if not on_postgres:
        pytest.skip("needs PostgreSQL (DATABASE_URL)")
    w = world
    rule = Rule.objects.create(
        community=w.community1, code="clean", name="清扫责任区", category="reward", points=2
    )
    residents = [w.resident1] + [
        f.ResidentFactory(household=w.household1 if i % 2 else w.household2) for i in range(10)
    ]
    with at(TODAY):
        for r in residents:
            approved_claim = claims_services.submit_claim(
                user=worker_of(w, r), resident=r, rule=rule
            )
            claims_services.approve_claim(claim=approved_claim, approver=w.committee1)
        waiting = [
            claims_services.submit_claim(user=worker_of(w, r), resident=r, rule=rule)
            for r in residents
        ]
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def run(fn) -> None:
            try:
                barrier.wait()
                fn()
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                connections.close_all()

        switch = threading.Thread(
            target=run,
            args=(
                lambda: units.switch_account_unit(
                    community=w.community1, to_unit="household", by=w.admin1
                ),
            ),
        )

        def approve_soon_after() -> None:
            # Most often the switch holds the claims' locks by now: the approval's statement
            # then waits, and finds the household accounts the switch made newer than its
            # snapshot (once lost: claims approved with no entry; now it tries again).
            time.sleep(0.05)
            claims_services.bulk_approve_claims(
                claims=Claim.objects.filter(pk__in=[c.pk for c in waiting]),
                approver=w.committee1,
            )

        approve = threading.Thread(target=run, args=(approve_soon_after,))
        for t in (switch, approve):
            t.start()
        for t in (switch, approve):
            t.join()
    assert not errors, errors
    assert Claim.objects.filter(status="approved").count() == 2 * len(residents)
    # Every approved claim has its entry.
    assert Entry.objects.filter(source_type="claim").count() == 2 * len(residents)
    households = Account.objects.filter(shared_household__isnull=False)
    assert sum(a.balance for a in households) == 4 * len(residents)
    assert not Account.objects.filter(resident__isnull=False).exclude(balance=0).exists()
    assert_ledger_ok()
