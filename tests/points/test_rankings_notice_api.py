"""The quarter's public notice (季度公示) per grid, and the annual ranking per community."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from points.models import Entry, Period, Policy
from points.services import claims as claims_services
from points.services import ledger as ledger_services
from tests import factories as f
from tests.api_helpers import client, points_rules, token_client

RANKINGS = "/api/v1/rankings/"


def notice_url(code: str) -> str:
    return f"/api/v1/periods/{code}/notice/"


def this_quarter() -> str:
    return Period.bounds(timezone.localdate())[0]


@pytest.fixture
def rules(world):
    return points_rules(world)


@pytest.fixture
def approve(world, rules):
    """Claim (as committee member 1) and approve (as a colleague) in one step."""
    colleague = f.committee_member(world.community1, "committee1b").user

    def approve(rule, resident, points=None):
        claim = claims_services.submit_claim(
            user=world.committee1, resident=resident, rule=rules[rule], points=points
        )
        return claims_services.approve_claim(claim=claim, approver=colleague)

    return approve


# ---------------------------------------------------------------------------- notice


@pytest.fixture
def grid1(world, approve):
    """Grid 1 this quarter.

    赵爱国: +1 +7 -5, the +1 reversed, 2 redeemed       → earned 2, balance 0
    王小明: +2, and 4 from a quarter long past            → earned 2, balance 6
    欧阳小明 (another household): nothing, no account    → earned 0, balance 0
    """
    w = world
    w.resident5 = f.ResidentFactory(household=w.household1, name="王小明")
    w.household6 = f.HouseholdFactory(
        grid=w.grid1, village=True, village_group="三组", house_number="12"
    )
    w.resident6 = f.ResidentFactory(household=w.household6, name="欧阳小明")
    clean = approve("clean", w.resident1)
    approve("idea", w.resident1, points=7)
    approve("fine", w.resident1)
    entry = Entry.objects.get(source_type="claim", source_id=clean.pk)
    ledger_services.reverse_entry(entry=entry, user=w.committee1, reason="记错了")
    ledger_services.debit(account=ledger_services.account_for(w.resident1), points=2, key="order:1")
    approve("hazard", w.resident5)
    ledger_services.post_entry(
        account=ledger_services.account_for(w.resident5),
        amount=4,
        kind="award",
        key="old",
        period=ledger_services.period_for(dt.date(2020, 5, 1)),
    )
    approve("idea", w.resident2, points=9)  # grid 2: not on grid 1's notice
    return w


def test_the_notice_lists_each_resident_of_the_grid_with_masked_names(world, grid1):
    r = client(world.worker1).get(notice_url(this_quarter()), {"grid": world.grid1.id})
    assert r.status_code == 200, r.content
    data = r.json()
    period = Period.objects.get(code=this_quarter())
    assert data["period"] == period.code and data["grid"] == world.grid1.id
    assert data["objection_deadline"] == (period.ends_on + dt.timedelta(days=7)).isoformat()
    assert data["count"] == 3
    assert data["results"] == [
        {
            "resident": world.resident1.id,
            "household": world.household1.id,
            "per_household": False,
            "name": "赵*国",
            "address": "一组8号",
            "earned": 2,
            "balance": 0,
        },
        {
            "resident": grid1.resident5.id,
            "household": grid1.resident5.household_id,
            "per_household": False,
            "name": "王*明",
            "address": "一组8号",
            "earned": 2,
            "balance": 6,
        },
        {
            "resident": grid1.resident6.id,
            "household": grid1.resident6.household_id,
            "per_household": False,
            "name": "欧**明",
            "address": "三组12号",
            "earned": 0,
            "balance": 0,
        },
    ]


def test_the_notice_deadline_follows_the_communitys_objection_window(world, grid1):
    Policy.objects.create(community=world.community1, objection_days=15)
    data = client(world.committee1).get(notice_url(this_quarter()), {"grid": world.grid1.id}).json()
    ends_on = Period.objects.get(code=this_quarter()).ends_on
    assert data["objection_deadline"] == (ends_on + dt.timedelta(days=15)).isoformat()


def test_reading_the_notice_opens_no_policy(world, grid1):
    client(world.committee1).get(notice_url(this_quarter()), {"grid": world.grid1.id})
    assert not Policy.objects.exists()


def test_the_notice_of_an_earlier_quarter_shows_what_was_earned_then(world, grid1):
    r = client(world.committee1).get(notice_url("2020Q2"), {"grid": world.grid1.id})
    earned = {row["resident"]: row["earned"] for row in r.json()["results"]}
    assert earned == {world.resident1.id: 0, grid1.resident5.id: 4, grid1.resident6.id: 0}


def test_the_notice_is_paginated(world, grid1):
    c = client(world.committee1)
    r = c.get(notice_url(this_quarter()), {"grid": world.grid1.id, "page_size": 2})
    assert (r.json()["count"], len(r.json()["results"])) == (3, 2)
    second = c.get(r.json()["next"]).json()
    assert [row["resident"] for row in second["results"]] == [grid1.resident6.id]
    assert second["objection_deadline"] == r.json()["objection_deadline"]


@pytest.mark.parametrize("grid", [None, "abc", "0", "1.5"])
def test_the_notice_needs_a_grid(world, grid1, grid):
    params = {} if grid is None else {"grid": grid}
    r = client(world.committee1).get(notice_url(this_quarter()), params)
    assert r.status_code == 400
    assert "grid" in r.json()


@pytest.mark.parametrize(
    ("persona", "grid"),
    [
        ("worker1", "grid2"),
        ("worker2", "grid1"),
        ("committee3", "grid1"),
        ("admin2", "grid1"),
        ("resident_user", "grid2"),
    ],
)
def test_the_notice_of_a_grid_outside_ones_area_is_not_found(world, grid1, persona, grid):
    r = client(getattr(world, persona)).get(
        notice_url(this_quarter()), {"grid": getattr(world, grid).id}
    )
    assert r.status_code == 404
    assert "detail" in r.json()


def test_the_notice_of_an_unknown_grid_or_quarter_is_not_found(world, grid1):
    c = client(world.committee1)
    assert c.get(notice_url(this_quarter()), {"grid": 999_999}).status_code == 404
    assert c.get(notice_url("1999Q1"), {"grid": world.grid1.id}).status_code == 404


@pytest.mark.parametrize("persona", ["worker1", "committee1", "admin1", "resident_user"])
def test_the_grid_team_and_its_residents_read_the_notice(world, grid1, persona):
    r = client(getattr(world, persona)).get(notice_url(this_quarter()), {"grid": world.grid1.id})
    assert r.status_code == 200
    assert [row["name"] for row in r.json()["results"]][0] == "赵*国"


@pytest.mark.parametrize("persona", ["stranger", "partner_user"])
def test_strangers_and_partners_cannot_read_the_notice(world, grid1, persona):
    r = client(getattr(world, persona)).get(notice_url(this_quarter()), {"grid": world.grid1.id})
    assert r.status_code == 403


def test_the_notice_runs_the_same_queries_for_3_and_30_residents(world, rules, approve):
    c = token_client(world.worker1.user)
    path = notice_url(ledger_services.current_period().code)

    def add(k: int) -> None:
        for _ in range(k):
            approve("hazard", f.ResidentFactory(household=f.HouseholdFactory(grid=world.grid1)))

    def count() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as ctx:
            r = c.get(path, {"grid": world.grid1.id, "page_size": 100})
        return len(ctx.captured_queries), len(r.json()["results"])

    add(3)
    c.get(path, {"grid": world.grid1.id})
    few_queries, few_rows = count()
    add(27)
    many_queries, many_rows = count()
    assert many_rows == few_rows + 27
    assert many_queries == few_queries


# ---------------------------------------------------------------------------- ranking


@pytest.fixture
def community1(world, approve):
    """Community 1 this year (party members marked ★).

    赵秀英 ★ 10 · 赵爱国 7 · 王小明 7 · 孙红 ★ 2 · 钱军 ★ 0 (9 last year)
    """
    w = world
    w.resident2.is_party_member = True
    w.resident2.save(update_fields=["is_party_member"])
    w.resident5 = f.ResidentFactory(household=w.household1, name="王小明")
    w.resident7 = f.ResidentFactory(household=w.household2, name="孙红", is_party_member=True)
    w.resident8 = f.ResidentFactory(household=w.household2, name="钱军", is_party_member=True)
    approve("idea", w.resident2, points=10)
    approve("idea", w.resident1, points=7)
    approve("idea", w.resident5, points=7)
    approve("hazard", w.resident7)
    last_year = timezone.localdate().year - 1
    ledger_services.post_entry(
        account=ledger_services.account_for(w.resident8),
        amount=9,
        kind="award",
        key="last-year",
        period=ledger_services.period_for(dt.date(last_year, 6, 1)),
    )
    return w


def ranked(r) -> list[tuple]:
    assert r.status_code == 200, r.content
    return [
        (row["name"], row["rank"], row["top_three"], row["earned"]) for row in r.json()["results"]
    ]


def test_the_committee_sees_the_ranking_of_its_community_in_full_names(world, community1):
    r = client(world.committee1).get(RANKINGS)
    assert ranked(r) == [
        ("赵秀英", 1, True, 10),
        ("赵爱国", 2, True, 7),
        ("王小明", 2, True, 7),
        ("孙红", 4, False, 2),
        ("钱军", 5, False, 0),
    ]
    row = r.json()["results"][0]
    assert (row["resident"], row["grid"], row["is_party_member"]) == (
        world.resident2.id,
        world.grid2.id,
        True,
    )


def test_the_party_ranking_ranks_party_members_among_themselves(world, community1):
    r = client(world.committee1).get(RANKINGS, {"party_only": "true"})
    # Third, but with nothing earned this year: not among the recommended three.
    assert ranked(r) == [("赵秀英", 1, True, 10), ("孙红", 2, True, 2), ("钱军", 3, False, 0)]


def test_the_ranking_of_another_year_counts_that_years_points(world, community1):
    r = client(world.committee1).get(RANKINGS, {"year": timezone.localdate().year - 1})
    assert ranked(r)[0] == ("钱军", 1, True, 9)
    assert all(row[3] == 0 for row in ranked(r)[1:])


@pytest.mark.parametrize("persona", ["worker1", "resident_user"])
def test_workers_and_residents_see_the_ranking_with_masked_names(world, community1, persona):
    r = client(getattr(world, persona)).get(RANKINGS)
    assert [row[0] for row in ranked(r)] == ["赵*英", "赵*国", "王*明", "孙*", "钱*"]


def test_a_street_admin_names_the_community_and_sees_full_names(world, community1):
    r = client(world.admin1).get(RANKINGS)
    assert r.status_code == 400
    assert "community" in r.json()
    r = client(world.admin1).get(RANKINGS, {"community": world.community1.id})
    assert ranked(r)[0] == ("赵秀英", 1, True, 10)


@pytest.mark.parametrize(
    ("persona", "community"), [("committee3", "community1"), ("worker1", "community3")]
)
def test_the_ranking_of_a_community_outside_ones_area_is_not_found(
    world, community1, persona, community
):
    r = client(getattr(world, persona)).get(RANKINGS, {"community": getattr(world, community).id})
    assert r.status_code == 404


@pytest.mark.parametrize("persona", ["stranger", "partner_user"])
def test_strangers_and_partners_cannot_read_rankings(world, community1, persona):
    assert client(getattr(world, persona)).get(RANKINGS).status_code == 403


@pytest.mark.parametrize(
    "params",
    [
        {"year": "abc"},
        {"year": "99999"},
        {"community": "x"},
        {"community": "0"},
        {"party_only": "maybe"},
    ],
)
def test_bad_ranking_parameters_are_a_400_naming_the_parameter(world, community1, params):
    r = client(world.committee1).get(RANKINGS, params)
    assert r.status_code == 400
    assert set(params) <= set(r.json())


def test_the_ranking_is_paginated_and_ranks_across_pages(world, community1):
    r = client(world.committee1).get(RANKINGS, {"page_size": 2, "page": 2})
    assert [(row["rank"], row["earned"]) for row in r.json()["results"]] == [(2, 7), (4, 2)]
    assert r.json()["count"] == 5


def test_the_ranking_runs_the_same_queries_for_3_and_30_residents(world, approve):
    c = token_client(world.committee1)
    n = itertools.count(1)

    def add(k: int) -> None:
        for _ in range(k):
            resident = f.ResidentFactory(household=f.HouseholdFactory(grid=world.grid1))
            approve("idea", resident, points=next(n) % 10 + 1)

    def count() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as ctx:
            r = c.get(RANKINGS, {"page_size": 100})
        return len(ctx.captured_queries), len(r.json()["results"])

    add(3)
    c.get(RANKINGS)
    few_queries, few_rows = count()
    add(27)
    many_queries, many_rows = count()
    assert many_rows == few_rows + 27
    assert many_queries == few_queries
