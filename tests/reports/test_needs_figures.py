"""The needs figures (reports/needs/) on the hand-computed quarter of tests/reports/conftest.py."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from points.models import Period
from reports import selectors
from tests import factories as f
from tests.api_helpers import fresh
from tests.reports.conftest import bj

URL = "/api/v1/reports/needs/"
COUNTS = (
    "received",
    "rejected",
    "resolved",
    "resolved_on_time",
    "rated",
    "satisfied",
    "rectifications",
    "rectified_on_time",
)
RATES = (
    "resolution_rate",
    "on_time_rate",
    "satisfaction_rate",
    "rating_rate",
    "rectified_on_time_rate",
)

GRID1 = dict(
    zip(COUNTS, (5, 0, 4, 3, 3, 2, 1, 1), strict=True),
    resolution_rate=0.8,
    on_time_rate=0.75,
    satisfaction_rate=0.6667,
    rating_rate=0.75,
    rectified_on_time_rate=1.0,
)
GRID2 = dict(
    zip(COUNTS, (3, 1, 2, 1, 2, 0, 2, 0), strict=True),
    resolution_rate=0.6667,
    on_time_rate=0.5,
    satisfaction_rate=0.0,
    rating_rate=1.0,
    rectified_on_time_rate=0.0,
)
EMPTY = dict(dict.fromkeys(COUNTS, 0), **dict.fromkeys(RATES))
GRID4 = dict(
    zip(COUNTS, (1, 0, 1, 1, 1, 1, 0, 0), strict=True),
    resolution_rate=1.0,
    on_time_rate=1.0,
    satisfaction_rate=1.0,
    rating_rate=1.0,
    rectified_on_time_rate=None,
)
COMMUNITY1 = dict(
    zip(COUNTS, (8, 1, 6, 4, 5, 2, 3, 1), strict=True),
    resolution_rate=0.75,
    on_time_rate=0.6667,
    satisfaction_rate=0.4,
    rating_rate=0.8333,
    rectified_on_time_rate=0.3333,
)


def figures(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in COUNTS + RATES}


EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def report(client_for: Any, user: Any, headers: dict[str, str] | None = None, **params: Any) -> Any:
    params.setdefault("period", "2026Q4")
    return client_for(fresh(user)).get(URL, params, **(headers or {}))


def by_name(response: Any) -> dict[str, dict[str, Any]]:
    assert response.status_code == 200, response.content
    return {row["name"]: figures(row) for row in response.json()["rows"]}


def test_grid_figures_match_the_hand_computed_quarter(q4: SimpleNamespace, client_for) -> None:
    rows = by_name(report(client_for, q4.superuser, level="grid"))
    assert rows == {"第一网格": GRID1, "第二网格": GRID2, "黄山小区网格": EMPTY, "外村网格": GRID4}


def test_community_figures_add_up_their_grids(q4: SimpleNamespace, client_for) -> None:
    rows = by_name(report(client_for, q4.superuser, level="community"))
    assert rows == {"新庄赵村": COMMUNITY1, "泰山社区": EMPTY, "外村": GRID4}


def test_street_figures_and_the_total(q4: SimpleNamespace, client_for) -> None:
    response = report(client_for, q4.superuser, level="street")
    assert by_name(response) == {"沙北街道": COMMUNITY1, "万金镇": GRID4}
    total = response.json()["total"]
    assert figures(total) == dict(
        zip(COUNTS, (9, 1, 7, 5, 6, 3, 3, 1), strict=True),
        resolution_rate=0.7778,
        on_time_rate=0.7143,
        satisfaction_rate=0.5,
        rating_rate=0.8571,
        rectified_on_time_rate=0.3333,
    )
    assert total["id"] is None


def test_grid_rows_name_their_community_and_street(q4: SimpleNamespace, client_for) -> None:
    body = report(client_for, q4.admin1, level="grid").json()
    first = body["rows"][0]
    assert (first["id"], first["community"], first["community_name"]) == (
        q4.grid1.pk,
        q4.community1.pk,
        "新庄赵村",
    )
    assert (first["street"], first["street_name"]) == (q4.street1.pk, "沙北街道")
    assert (body["period"], body["starts_on"], body["ends_on"], body["level"]) == (
        "2026Q4",
        "2026-10-01",
        "2026-12-31",
        "grid",
    )


def test_a_need_recorded_at_2330_on_the_last_day_counts_in_that_quarter(
    q4: SimpleNamespace, client_for
) -> None:
    # n4 (12-31 23:30 Beijing) is among grid1's 5 received in Q4; n6 (01-01 00:10) is not.
    assert by_name(report(client_for, q4.admin1, grid=q4.grid1.pk))["第一网格"]["received"] == 5
    q1 = by_name(report(client_for, q4.admin1, grid=q4.grid1.pk, period="2027Q1"))
    assert (q1["第一网格"]["received"], q1["第一网格"]["resolved"]) == (1, 0)
    q3 = by_name(report(client_for, q4.admin1, grid=q4.grid1.pk, period="2026Q3"))
    assert q3["第一网格"]["received"] == 1  # n0, 09-30 23:59 Beijing


def test_empty_denominators_give_null_rates_not_errors(q4: SimpleNamespace, client_for) -> None:
    rows = by_name(report(client_for, q4.admin1, period="2020Q1"))
    assert set(rows) == {"第一网格", "第二网格", "黄山小区网格"}
    assert all(row == EMPTY for row in rows.values())
    assert selectors.rate(0, 0) is None
    assert selectors.rate(2, 3) == 0.6667


def test_the_period_defaults_to_the_current_quarter(q4: SimpleNamespace, client_for) -> None:
    response = client_for(fresh(q4.admin1)).get(URL)
    assert response.status_code == 200
    assert response.json()["period"] == Period.bounds(timezone.localdate())[0]


@pytest.mark.parametrize("period", ["2026Q5", "2026-Q4", "Q4", "abcdef", "2026Q4" * 100])
def test_an_unknown_period_is_a_field_error(q4: SimpleNamespace, client_for, period) -> None:
    response = report(client_for, q4.admin1, EN, period=period)
    assert response.status_code == 400
    assert response.json()["period"] == ["Give a quarter's code, such as 2026Q4."]


def test_an_unknown_level_is_a_field_error(q4: SimpleNamespace, client_for) -> None:
    response = report(client_for, q4.admin1, level="village")
    assert response.status_code == 400
    assert "level" in response.json()


def test_the_answer_carries_the_definitions(q4: SimpleNamespace, client_for) -> None:
    definitions = report(client_for, q4.admin1, EN).json()["definitions"]
    assert "within 7 days" in definitions["resolved_on_time"]
    assert set(definitions) >= {"received", "resolved", "satisfaction_rate", "rating_rate"}


# ---------------------------------------------------------------------------- scope


def test_a_street_admin_sees_the_units_of_their_street_only(
    q4: SimpleNamespace, client_for
) -> None:
    assert set(by_name(report(client_for, q4.admin1))) == {"第一网格", "第二网格", "黄山小区网格"}
    assert by_name(report(client_for, q4.admin1, level="street")) == {"沙北街道": COMMUNITY1}
    assert set(by_name(report(client_for, q4.admin2, level="community"))) == {"外村"}


def test_a_committee_sees_its_community_and_its_grids(q4: SimpleNamespace, client_for) -> None:
    assert by_name(report(client_for, q4.committee1)) == {"第一网格": GRID1, "第二网格": GRID2}
    assert by_name(report(client_for, q4.committee1, level="community")) == {"新庄赵村": COMMUNITY1}


def test_a_committee_sees_no_whole_street_and_is_refused_the_street_level(
    q4: SimpleNamespace, client_for
) -> None:
    assert report(client_for, q4.committee1, level="street").status_code == 403


def test_a_grid_worker_sees_their_own_grid_only(q4: SimpleNamespace, client_for) -> None:
    assert by_name(report(client_for, q4.worker1.user)) == {"第一网格": GRID1}
    assert report(client_for, q4.worker1.user, level="community").status_code == 403


def test_filters_narrow_the_rows_within_the_area(q4: SimpleNamespace, client_for) -> None:
    assert set(by_name(report(client_for, q4.admin1, community=q4.community1.pk))) == {
        "第一网格",
        "第二网格",
    }
    assert by_name(report(client_for, q4.admin1, level="community", grid=q4.grid2.pk)) == {
        "新庄赵村": COMMUNITY1
    }
    # Outside the area: nothing, not the other street's figures.
    assert by_name(report(client_for, q4.admin1, grid=q4.grid4.pk)) == {}


@pytest.mark.parametrize("persona", ["partner_user", "resident_user", "stranger"])
def test_people_without_an_area_are_refused(q4: SimpleNamespace, client_for, persona) -> None:
    assert report(client_for, getattr(q4, persona)).status_code == 403


def test_anonymous_callers_are_refused(q4: SimpleNamespace, client_for) -> None:
    assert client_for(None).get(URL).status_code == 401


# ---------------------------------------------------------------------------- cost


def _queries(client_for: Any, user: Any, **params: Any) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = report(client_for, user, **params)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("level", ["grid", "community", "street"])
def test_the_query_count_does_not_grow_with_the_number_of_units(
    world: SimpleNamespace, client_for, level
) -> None:
    def add_grid_with_needs() -> None:
        community = f.CommunityFactory(street=world.street1)
        grid = f.GridFactory(community=community)
        done = f.NeedFactory(
            grid=grid,
            status="resolved",
            created_at=bj(10, 5),
            resolved_at=bj(10, 6),
            reported_by=world.admin1,
        )
        f.RectificationFactory(
            rating=f.RatingFactory(need=done, level=1, rated_by=world.resident_user),
            need=done,
            due_on=bj(10, 20).date(),
        )

    add_grid_with_needs()
    one = _queries(client_for, world.admin1, level=level)
    for _ in range(19):
        add_grid_with_needs()
    twenty = _queries(client_for, world.admin1, level=level)
    assert one == twenty
    assert one <= 12
