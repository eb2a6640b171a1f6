"""me/ and me/entries/: who I am, and for a resident the card, balance, points this quarter
and statement."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from points.models import Account
from points.services import claims as claims_services
from points.services import ledger as ledger_services
from tests import factories as f
from tests.api_helpers import client, points_rules, token_client

ME = "/api/v1/me/"
MY_ENTRIES = "/api/v1/me/entries/"


@pytest.fixture
def ledger(world):
    """Resident 1 this quarter: +7 (idea), -5 (fine), a redemption of 2, and 4 points from a
    quarter long past. Resident 2 has +2 of their own."""
    rules = points_rules(world)

    def approve(rule, resident=world.resident1, user=world.worker1.user, **kw):
        claim = claims_services.submit_claim(user=user, resident=resident, rule=rules[rule], **kw)
        return claims_services.approve_claim(claim=claim, approver=world.committee1)

    approve("idea", points=7)
    approve("fine")
    account = ledger_services.account_for(world.resident1)
    ledger_services.post_entry(
        account=account,
        amount=4,
        kind="award",
        key="old",
        period=ledger_services.period_for(dt.date(2020, 5, 1)),
    )
    ledger_services.debit(account=account, points=2, key="order:1")
    approve("hazard", resident=world.resident2, user=world.worker2.user)
    account.refresh_from_db()
    return account


def test_a_resident_sees_their_card_balance_and_points_this_quarter(world, ledger):
    r = client(world.resident_user).get(ME)
    assert r.status_code == 200
    assert r.json() == {
        "username": "resident",
        "name": "赵爱国",
        "roles": ["resident"],
        "resident": world.resident1.id,
        "grid": world.grid1.id,
        "community": world.community1.id,
        "balance": 7 - 5 + 4 - 2,
        # Honour: every award and deduction, the old quarter's too; never the redemption.
        "honour": 7 - 5 + 4,
        # Earned: the award and the deduction of this quarter; not the redemption, not the
        # old quarter's award.
        "earned_this_quarter": 2,
        "card_number": ledger.card_number,
        "account_unit": "resident",
        "holder_name": "赵爱国",
    }


def test_a_resident_with_no_account_yet_has_nothing_and_no_card(world):
    data = client(world.resident_user).get(ME).json()
    assert (data["resident"], data["balance"], data["earned_this_quarter"]) == (
        world.resident1.id,
        0,
        0,
    )
    assert data["card_number"] is None
    assert not Account.objects.exists()  # reading opens nothing


def test_a_grid_worker_sees_their_name_and_roles_and_no_resident_fields(world, ledger):
    world.worker1.name = "张网格"
    world.worker1.save(update_fields=["name"])
    r = client(world.worker1).get(ME)
    assert r.json() == {
        "username": "worker",
        "name": "张网格",
        "roles": ["grid_worker"],
        "resident": None,
        "grid": None,
        "community": None,
        "balance": None,
        "honour": None,
        "earned_this_quarter": None,
        "card_number": None,
        "account_unit": None,
        "holder_name": None,
    }


@pytest.mark.parametrize("persona", ["committee1", "admin1", "stranger", "superuser"])
def test_any_logged_in_user_may_ask_who_they_are(world, persona):
    user = getattr(world, persona)
    r = client(user).get(ME)
    assert r.status_code == 200
    assert r.json()["username"] == user.username
    assert r.json()["resident"] is None


def test_a_user_with_two_roles_sees_both(world):
    user = f.UserFactory(username="both", groups=["committee", "resident"])
    assert client(user).get(ME).json()["roles"] == ["committee", "resident"]


def test_an_anonymous_caller_is_refused(world):
    r = APIClient().get(ME)
    assert r.status_code == 401
    assert "detail" in r.json()
    assert APIClient().get(MY_ENTRIES).status_code == 401


def test_my_statement_is_paginated_newest_first_and_only_mine(world, ledger):
    r = client(world.resident_user).get(MY_ENTRIES, {"page_size": 3})
    assert r.status_code == 200
    data = r.json()
    assert data["count"] == 4 and data["next"]
    assert [e["seq"] for e in data["results"]] == [4, 3, 2]
    assert [e["amount"] for e in data["results"]] == [-2, 4, -5]
    assert {e["account"] for e in data["results"]} == {ledger.id}
    assert data["results"][1]["period"] == "2020Q2"


def test_my_statement_is_empty_before_my_account_opens(world):
    r = client(world.resident_user).get(MY_ENTRIES)
    assert (r.status_code, r.json()["count"]) == (200, 0)


@pytest.mark.parametrize("persona", ["worker1", "committee1", "stranger"])
def test_my_statement_is_a_json_404_for_someone_who_is_not_a_resident(world, persona):
    r = client(getattr(world, persona)).get(MY_ENTRIES)
    assert r.status_code == 404
    assert r["Content-Type"].startswith("application/json")
    assert "detail" in r.json()


def test_me_and_my_statement_run_the_same_queries_for_3_and_30_entries(world):
    account = ledger_services.account_for(world.resident1)
    n = itertools.count(1)
    c = token_client(world.resident_user)

    def add(k: int) -> None:
        for _ in range(k):
            ledger_services.post_entry(account=account, amount=1, kind="award", key=f"k{next(n)}")

    def queries(path: str) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert c.get(path, {"page_size": 100}).status_code == 200
        return len(ctx.captured_queries)

    add(3)
    c.get(MY_ENTRIES)
    few = (queries(ME), queries(MY_ENTRIES))
    add(27)
    assert (queries(ME), queries(MY_ENTRIES)) == few
    assert len(c.get(MY_ENTRIES, {"page_size": 100}).json()["results"]) == 30
