"""Redemption orders under real concurrent writers (PostgreSQL, committed transactions, one
connection per thread): against a balance that covers exactly k orders, exactly k go through,
the balance never goes below zero, and the ledger stays whole."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from points.models import Account, CatalogItem, Entry, Order, OrderLine
from points.services import ledger as ledger_services
from points.services import redemption as redemption_services
from tests.reliability.test_ledger_concurrency import assert_chain_unbroken, race, user

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 10
AFFORDABLE = 3


def test_ten_orders_against_a_balance_for_three_let_exactly_three_through(world):
    today = timezone.localdate()
    period = ledger_services.period_for(today - dt.timedelta(days=120))
    redemption_services.open_redemption(
        period=period, community=world.community1, opens_on=today - dt.timedelta(days=1),
        closes_on=today + dt.timedelta(days=1), user=world.admin1,
    )  # fmt: skip
    towel = CatalogItem.objects.create(community=world.community1, name="毛巾", points=20)
    account = ledger_services.account_for(world.resident1)
    ledger_services.post_entry(
        account=account, amount=20 * AFFORDABLE + 10, kind="award", key="seed", period=period
    )
    resident_user, worker_user = world.resident_user.pk, world.worker1.user.pk

    def place(i: int) -> Order:
        who = user(resident_user if i % 2 else worker_user)
        return redemption_services.place_order(
            user=who, resident=world.resident1, lines=[(towel, 1)]
        )

    results, errors = race(place, threads=THREADS)
    assert len(results) == AFFORDABLE
    assert len(errors) == THREADS - AFFORDABLE
    assert all(isinstance(e, ledger_services.InsufficientPoints) for e in errors), errors
    assert all(isinstance(e, ValidationError) for e in errors)
    account = Account.objects.get(pk=account.pk)
    assert account.balance == 10
    assert Order.objects.count() == OrderLine.objects.count() == AFFORDABLE
    assert Entry.objects.filter(kind="redemption").count() == AFFORDABLE
    assert_chain_unbroken(account)
    assert ledger_services.verify_ledger().ok


def test_concurrent_orders_cannot_pass_the_limit_per_quarter(world):
    today = timezone.localdate()
    period = ledger_services.period_for(today - dt.timedelta(days=120))
    redemption_services.open_redemption(
        period=period, community=world.community1, opens_on=today, closes_on=today,
        user=world.admin1,
    )  # fmt: skip
    soap = CatalogItem.objects.create(
        community=world.community1, name="香皂", points=10, limit_per_quarter=2
    )
    ledger_services.post_entry(
        account=ledger_services.account_for(world.resident1), amount=500, kind="award", key="seed",
        period=period,
    )  # fmt: skip
    resident_user = world.resident_user.pk

    def place(i: int) -> Order:
        # Each thread starts in the default language (zh-hans); the message is checked in English.
        with translation.override("en"):
            return redemption_services.place_order(
                user=user(resident_user), resident=world.resident1, lines=[(soap, 1)]
            )

    results, errors = race(place, threads=THREADS)
    assert len(results) == 2
    assert all("limited to 2" in str(e) for e in errors), errors
    assert ledger_services.verify_ledger().ok
