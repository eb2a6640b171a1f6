"""The grid workers' quarterly assessment (reports/workers/) on the hand-computed quarter of
tests/reports/conftest.py, with the default weights coverage 30, on time 30, rating 20,
council 20."""

from __future__ import annotations

import datetime as dt
import io
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from reports import selectors
from tests import factories as f
from tests.api_helpers import fresh
from tests.reports.conftest import bj, d

URL = "/api/v1/reports/workers/"
FIGURES = (
    "grids",
    "visits",
    "households",
    "households_visited",
    "coverage",
    "needs_due",
    "needs_closed_on_time",
    "on_time_rate",
    "ratings",
    "average_rating",
    "evaluations",
    "council_score",
    "components",
    "score",
)


def expected(w: SimpleNamespace) -> dict[str, dict[str, Any]]:
    """Worked out by hand (see conftest):
    worker1: 15 + 10 + 13.33 + 15 = 53.33; worker2: 0 + 30 + 2.5 + 5 = 37.5;
    worker3: coverage only, so 100; worker4: no council score, (0 + 30 + 20) / 80 = 62.5."""
    return {
        "worker": dict(
            grids=[w.grid1.pk],
            visits=4,
            households=4,
            households_visited=2,
            coverage=0.5,
            needs_due=3,
            needs_closed_on_time=1,
            on_time_rate=0.3333,
            ratings=3,
            average_rating=3.67,
            evaluations=3,
            council_score=4.0,
            components={"coverage": 0.5, "on_time": 0.3333, "rating": 0.6667, "council": 0.75},
            score=53.33,
        ),
        "worker2": dict(
            grids=[w.grid2.pk],
            visits=0,
            households=1,
            households_visited=0,
            coverage=0.0,
            needs_due=1,
            needs_closed_on_time=1,
            on_time_rate=1.0,
            ratings=2,
            average_rating=1.5,
            evaluations=1,
            council_score=2.0,
            components={"coverage": 0.0, "on_time": 1.0, "rating": 0.125, "council": 0.25},
            score=37.5,
        ),
        "worker3": dict(
            grids=[w.grid3.pk],
            visits=1,
            households=1,
            households_visited=1,
            coverage=1.0,
            needs_due=0,
            needs_closed_on_time=0,
            on_time_rate=None,
            ratings=0,
            average_rating=None,
            evaluations=0,
            council_score=None,
            components={"coverage": 1.0, "on_time": None, "rating": None, "council": None},
            score=100.0,
        ),
        "worker4": dict(
            grids=[w.grid4.pk],
            visits=0,
            households=1,
            households_visited=0,
            coverage=0.0,
            needs_due=1,
            needs_closed_on_time=1,
            on_time_rate=1.0,
            ratings=1,
            average_rating=5.0,
            evaluations=0,
            council_score=None,
            components={"coverage": 0.0, "on_time": 1.0, "rating": 1.0, "council": None},
            score=62.5,
        ),
    }


def report(client_for: Any, user: Any, **params: Any) -> Any:
    params.setdefault("period", "2026Q4")
    return client_for(fresh(user)).get(URL, params)


def by_username(w: SimpleNamespace, response: Any) -> dict[str, dict[str, Any]]:
    assert response.status_code == 200, response.content
    usernames = {wk.pk: wk.user.username for wk in (w.worker1, w.worker2, w.worker3, w.worker4)}
    return {
        usernames.get(row["id"], row["name"]): {k: row[k] for k in FIGURES}
        for row in response.json()["rows"]
    }


def test_every_worker_is_assessed_as_worked_out_by_hand(q4: SimpleNamespace, client_for) -> None:
    assert by_username(q4, report(client_for, q4.superuser)) == expected(q4)


def test_the_weights_are_in_the_answer(q4: SimpleNamespace, client_for) -> None:
    body = report(client_for, q4.superuser).json()
    assert body["weights"] == {"coverage": 30, "on_time": 30, "rating": 20, "council": 20}
    assert (body["period"], body["starts_on"], body["ends_on"]) == (
        "2026Q4",
        "2026-10-01",
        "2026-12-31",
    )
    assert set(body["definitions"]) >= {"coverage", "on_time_rate", "council_score", "score"}


@override_settings(ASSESSMENT_WEIGHTS={"coverage": 0, "on_time": 50, "rating": 50, "council": 0})
def test_other_weights_change_the_score_and_a_zero_weight_alone_gives_none(
    q4: SimpleNamespace, client_for
) -> None:
    body = report(client_for, q4.superuser).json()
    assert body["weights"] == {"coverage": 0, "on_time": 50, "rating": 50, "council": 0}
    scores = {row["id"]: row["score"] for row in body["rows"]}
    # worker1: (50 × 1/3 + 50 × 2/3) / 100; worker3 has data only for a weightless component.
    assert scores[q4.worker1.pk] == 50.0
    assert scores[q4.worker3.pk] is None
    assert scores[q4.worker4.pk] == 100.0


@override_settings(ASSESSMENT_WEIGHTS={"coverage": 30, "on_time": 30, "rating": 20, "visits": 5})
def test_misnamed_weights_are_a_configuration_error() -> None:
    with pytest.raises(ImproperlyConfigured):
        selectors.assessment_weights()


def test_a_worker_with_no_data_has_no_score(q4: SimpleNamespace, client_for) -> None:
    idle = f.GridWorkerFactory(community=q4.community1, name="新网格员")
    rows = by_username(q4, report(client_for, q4.committee1))
    assert rows["新网格员"]["score"] is None
    assert rows["新网格员"]["grids"] == []
    assert idle.pk not in {q4.worker1.pk, q4.worker2.pk}


def test_grids_held_on_any_day_of_the_quarter_count_for_coverage(
    q4: SimpleNamespace, client_for
) -> None:
    # worker1 also covered grid2 until 10-15 (its household was visited 11-11) and grid3 until
    # 09-30 (before the quarter: not counted).
    f.GridAssignmentFactory(
        worker=q4.worker1, grid=q4.grid2, start_date=d(7, 1), end_date=d(10, 15)
    )
    f.GridAssignmentFactory(worker=q4.worker1, grid=q4.grid3, start_date=d(7, 1), end_date=d(9, 30))
    row = by_username(q4, report(client_for, q4.admin1))["worker"]
    assert row["grids"] == sorted([q4.grid1.pk, q4.grid2.pk])
    assert (row["households"], row["households_visited"], row["coverage"]) == (5, 3, 0.6)


def test_another_quarter_has_its_own_figures(q4: SimpleNamespace, client_for) -> None:
    row = by_username(q4, report(client_for, q4.admin1, period="2027Q1"))["worker"]
    # The 00:10 visit of 2027-01-01 and the council of 2027-01-10 (score 1).
    assert (row["visits"], row["households_visited"], row["council_score"]) == (1, 1, 1.0)
    assert row["needs_due"] == 1  # n4, due 2027-01-05, resolved 01-03
    # (30 × 0.25 + 30 × 1 + 20 × 0) / 80, no rating in Q1.
    assert (row["coverage"], row["average_rating"], row["score"]) == (0.25, None, 46.88)


def test_an_unknown_period_is_a_field_error(q4: SimpleNamespace, client_for) -> None:
    response = report(client_for, q4.admin1, period="2026Q0")
    assert response.status_code == 400
    assert "period" in response.json()


# ---------------------------------------------------------------------------- scope


def test_a_street_admin_sees_the_workers_of_their_street(q4: SimpleNamespace, client_for) -> None:
    assert set(by_username(q4, report(client_for, q4.admin1))) == {"worker", "worker2", "worker3"}
    assert set(by_username(q4, report(client_for, q4.admin2))) == {"worker4"}


def test_a_committee_sees_the_workers_of_its_community(q4: SimpleNamespace, client_for) -> None:
    rows = by_username(q4, report(client_for, q4.committee1))
    assert rows == {k: v for k, v in expected(q4).items() if k in ("worker", "worker2")}


def test_a_grid_worker_sees_only_their_own_row(q4: SimpleNamespace, client_for) -> None:
    assert by_username(q4, report(client_for, q4.worker1.user)) == {
        "worker": expected(q4)["worker"]
    }


def test_filters_narrow_the_workers(q4: SimpleNamespace, client_for) -> None:
    assert set(by_username(q4, report(client_for, q4.admin1, community=q4.community2.pk))) == {
        "worker3"
    }
    assert set(by_username(q4, report(client_for, q4.admin1, grid=q4.grid2.pk))) == {"worker2"}
    assert by_username(q4, report(client_for, q4.admin1, grid=q4.grid4.pk)) == {}


@pytest.mark.parametrize("persona", ["partner_user", "resident_user", "stranger"])
def test_people_without_an_area_are_refused(q4: SimpleNamespace, client_for, persona) -> None:
    assert report(client_for, getattr(q4, persona)).status_code == 403
    assert report(client_for, getattr(q4, persona), format="xlsx").status_code == 403


# ---------------------------------------------------------------------------- xlsx


def test_the_workbook_has_the_same_numbers_and_the_weights(q4: SimpleNamespace, client_for) -> None:
    response = report(client_for, q4.admin1, format="xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert 'filename="worker-assessment-2026Q4.xlsx"' in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.content))
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert len(rows) == 1 + 3  # the header, then worker1, worker2, worker3
    assert rows[1] == (
        1,
        q4.worker1.name,
        "新庄赵村",
        4,
        4,
        2,
        0.5,
        3,
        1,
        0.3333,
        3,
        3.67,
        3,
        4.0,
        53.33,
    )
    assert rows[3][-1] == 100.0 and rows[3][9] is None  # worker3: no need due
    about = list(book.worksheets[1].iter_rows(values_only=True))
    assert about[0][1] == "2026Q4"
    weights = [row[1] for row in about[5:9]]
    assert weights == [30, 30, 20, 20]
    assert any(row and row[0] == "score" for row in about)


def test_the_workbook_of_a_grid_worker_holds_their_row_only(
    q4: SimpleNamespace, client_for
) -> None:
    response = report(client_for, q4.worker1.user, format="xlsx")
    rows = list(load_workbook(io.BytesIO(response.content)).worksheets[0].iter_rows())
    assert len(rows) == 2


# ---------------------------------------------------------------------------- cost


def test_the_query_count_does_not_grow_with_the_number_of_workers(
    world: SimpleNamespace, client_for
) -> None:
    council = f.CouncilFactory(community=world.community2, held_on=dt.date(2026, 11, 10))

    def add_worker() -> None:
        grid = f.GridFactory(community=world.community2)
        worker = f.GridWorkerFactory(community=world.community2)
        f.GridAssignmentFactory(worker=worker, grid=grid, start_date=dt.date(2026, 1, 1))
        household = f.HouseholdFactory(grid=grid)
        f.VisitFactory(worker=worker, household=household, visited_at=bj(10, 9))
        need = f.NeedFactory(
            grid=grid,
            status="resolved",
            created_at=bj(10, 5),
            resolved_at=bj(10, 6),
            due_on=dt.date(2026, 10, 8),
            assigned_worker=worker,
            reported_by=world.admin1,
        )
        f.RatingFactory(need=need, level=4, rated_at=bj(10, 7), rated_by=world.resident_user)
        item = f.AgendaItemFactory(council=council, responsible=worker)
        f.AgendaEvaluationFactory(item=item, council=council, score=4, evaluated_by=world.admin1)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = report(client_for, world.admin1, community=world.community2.pk)
        assert response.status_code == 200
        return len(ctx.captured_queries)

    add_worker()
    one = queries()
    for _ in range(19):
        add_worker()
    assert queries() == one
    assert one <= 15
