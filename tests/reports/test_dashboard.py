"""The dashboard (reports/dashboard/ and reports/dashboard/map/, issue 12) on the hand-computed
quarter of tests/reports/conftest.py, with points, claims, orders and volunteer hours added
below. "Today" is 2026-12-20 10:00 Beijing time throughout (time_machine).

Added to the conftest's quarter (street1 = community1 {grid1, grid2} + community2 {grid3}):

- tags: resident1 (household1, last visited 11-08) 独居老人 every 7 days → overdue; resident2
  (household2, last 11-11) every 30 days → due 12-11, overdue; resident3 (household3, last
  10-15) every 90 days → due 2027-01-13, not overdue; a new resident in h1d (last visited
  09-30) every 7 days → overdue. key_overdue: grid1 2, grid2 1, grid3 0.
- ledger (all posted 12-20): resident1 +10, +5, −3 (deduction), −5 (reversal of the +5);
  resident2 +20; resident3 +7; resident4 (street2) +100. Orders in community1's window:
  resident1 2 × 皂 (2 points) = 4, resident2 1 × 皂 = 2.
  December for street1: earned 10 + 5 − 5 + 20 + 7 = 37, deducted 3, redeemed 6.
  Balances: resident1 3, resident2 18, resident3 7 → liability 28 (community1: 21).
  Ranking 2026, street1: resident2 20; resident1 7 and resident3 7 share rank 2.
- claims waiting (submitted): 12-10 09:00 (10 days: 7天以上), 12-15 10:00 (5 days: 3–7天),
  12-19 12:00 (22 hours: 1天内); one submitted 12-18 and rejected (not waiting).
- volunteer hours of community1's team: 11-05 2.5 h; 12-02 1.5 h + 3.0 h; a team of
  community3 (street2) 9 h in December.
"""

from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace
from typing import Any

import pytest
import time_machine
from django.test import Client

from grids.models import Grid
from points.models import CatalogItem, Entry, Rule
from points.services import claims as claim_services
from points.services import ledger, redemption
from reports import dashboard
from reports.selectors import quarter
from residents.models import Household, Resident
from tests import factories as f
from tests.reports.conftest import bj, d
from volunteers import selectors as volunteer_selectors
from volunteers.models import Activity, Attendance

URL = "/api/v1/reports/dashboard/"
MAP = "/api/v1/reports/dashboard/map/"
TODAY = bj(12, 20, 10)
MONTHS = [f"2026-{m:02d}" for m in range(1, 13)]


@pytest.fixture
def travel() -> Any:
    with time_machine.travel(TODAY, tick=False) as traveller:
        yield traveller


@pytest.fixture
def dash(q4: SimpleNamespace, travel: Any) -> SimpleNamespace:
    w = q4
    # --- key populations
    weekly = f.TagFactory(name="独居老人", visit_every_days=7)
    monthly = f.TagFactory(name="困难家庭", visit_every_days=30)
    seldom = f.TagFactory(name="残疾人", visit_every_days=90)
    w.resident1.tags.add(weekly)
    w.resident2.tags.add(monthly)
    w.resident3.tags.add(seldom)
    h1d = Household.objects.get(grid=w.grid1, house_number="23")
    w.lonely = f.ResidentFactory(household=h1d, name="赵老汉")
    w.lonely.tags.add(weekly)

    # --- the ledger
    def post(resident: Resident, amount: int, kind: str, key: str, **kw: Any) -> Entry:
        return ledger.post_entry(
            account=ledger.account_for(resident), amount=amount, kind=kind, key=key, **kw
        )

    post(w.resident1, 10, Entry.Kind.AWARD, "a1")
    five = post(w.resident1, 5, Entry.Kind.AWARD, "a2")
    post(w.resident1, -3, Entry.Kind.DEDUCTION, "d1")
    post(w.resident1, -5, Entry.Kind.REVERSAL, "r1", reverses=five)
    post(w.resident2, 20, Entry.Kind.AWARD, "a3")
    post(w.resident3, 7, Entry.Kind.AWARD, "a4")
    post(w.resident4, 100, Entry.Kind.AWARD, "a5")

    period = ledger.current_period()
    redemption.open_redemption(
        period=period,
        community=w.community1,
        opens_on=d(12, 1),
        closes_on=d(12, 31),
        user=w.admin1,
    )
    soap = CatalogItem.objects.create(community=w.community1, name="皂", points=2)
    redemption.place_order(user=w.worker1.user, resident=w.resident1, lines=[(soap, 2)])
    redemption.place_order(user=w.worker2.user, resident=w.resident2, lines=[(soap, 1)])

    # --- claims
    rule = Rule.objects.create(
        community=w.community1, code="clean", name="清扫责任区", category="base", points=1
    )
    for at in (bj(12, 10, 9), bj(12, 15, 10), bj(12, 19, 12), bj(12, 18, 9)):
        with time_machine.travel(at, tick=False):
            claim = claim_services.submit_claim(
                user=w.worker1.user, resident=w.resident1, rule=rule, occurred_on=at.date()
            )
    claim_services.reject_claim(claim=claim, approver=w.committee1, reason="重复申报")

    # --- volunteer hours
    team = f.VolunteerTeamFactory(community=w.community1, name="银龄调解队")
    other = f.VolunteerTeamFactory(community=w.community3, name="外村志愿队")
    m1 = f.VolunteerMembershipFactory(team=team, resident=w.resident1)
    m2 = f.VolunteerMembershipFactory(team=team, resident=w.resident2)
    m4 = f.VolunteerMembershipFactory(team=other, resident=w.resident4)

    def activity(team: Any, start: dt.datetime, *attendances: tuple[Any, str]) -> None:
        a = Activity.objects.create(
            team=team,
            title="调解",
            starts_at=start,
            ends_at=start + dt.timedelta(hours=3),
            place="村委会",
            capacity=10,
            status=Activity.Status.DONE,
            check_in_token=f"t{start:%m%d}{team.pk}",
        )
        for membership, hours in attendances:
            Attendance.objects.create(
                activity=a, membership=membership, checked_in_at=start, hours=hours
            )

    activity(team, bj(11, 5), (m1, "2.5"))
    activity(team, bj(12, 2), (m1, "1.5"), (m2, "3.0"))
    activity(other, bj(12, 3), (m4, "9.0"))
    w.team = team
    return w


def get(client_for: Any, user: Any, url: str = URL, **params: Any) -> Any:
    return client_for(user).get(url, params)


# ---------------------------------------------------------------------------- who sees it


@pytest.mark.django_db
def test_street_admin_sees_their_street_with_its_communities(dash: Any, client_for: Any) -> None:
    r = get(client_for, dash.admin1)
    assert r.status_code == 200, r.content
    scope = r.json()["scope"]
    assert (scope["level"], scope["id"], scope["name"]) == ("street", dash.street1.pk, "沙北街道")
    assert [c["id"] for c in scope["children"]] == [dash.community1.pk, dash.community2.pk]
    assert r.json()["period"]["quarter"] == "2026Q4"
    assert r.json()["period"]["months"] == MONTHS


@pytest.mark.django_db
def test_committee_member_sees_their_community_and_drills_down_to_a_grid(
    dash: Any, client_for: Any
) -> None:
    r = get(client_for, dash.committee1)
    assert r.status_code == 200
    assert (r.json()["scope"]["level"], r.json()["scope"]["id"]) == (
        "community",
        dash.community1.pk,
    )
    assert [g["id"] for g in r.json()["scope"]["children"]] == [dash.grid1.pk, dash.grid2.pk]
    r = get(client_for, dash.committee1, grid=dash.grid2.pk)
    assert r.status_code == 200
    assert [c["level"] for c in r.json()["scope"]["breadcrumbs"]] == [
        "street",
        "community",
        "grid",
    ]
    assert [g["grid_id"] for g in r.json()["needs_by_grid"]] == [dash.grid2.pk]


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["worker1", "resident_user", "partner_user", "stranger"])
def test_other_roles_get_no_dashboard(dash: Any, client_for: Any, who: str) -> None:
    user = getattr(dash, who)
    user = getattr(user, "user", user)
    assert get(client_for, user).status_code == 403
    assert get(client_for, user, MAP).status_code == 403
    assert client_for(None).get(URL).status_code in (401, 403)


@pytest.mark.django_db
def test_units_outside_the_area_are_not_found(dash: Any, client_for: Any) -> None:
    assert get(client_for, dash.admin2, community=dash.community1.pk).status_code == 404
    assert get(client_for, dash.committee1, grid=dash.grid3.pk).status_code == 404
    assert get(client_for, dash.committee1, community=dash.community2.pk).status_code == 404
    assert (
        get(client_for, dash.admin1, community=dash.community1.pk, grid=dash.grid3.pk).status_code
        == 404
    )
    assert get(client_for, dash.admin1, MAP, grid=dash.grid4.pk).status_code == 404
    assert get(client_for, dash.admin1, quarter="2026Q5").status_code == 400
    assert get(client_for, dash.admin1, community="x").status_code == 400


@pytest.mark.django_db
def test_the_dashboard_page_can_read_it_with_the_session_cookie(dash: Any) -> None:
    client = Client()
    client.force_login(dash.committee1)
    r = client.get(URL, {"quarter": "2026Q4"})
    assert r.status_code == 200
    assert r.json()["scope"]["level"] == "community"
    assert client.get(MAP).status_code == 200


# ---------------------------------------------------------------------------- the figures


@pytest.mark.django_db
def test_needs_figures_are_the_hand_computed_ones_and_the_reports_api_s(
    dash: Any, client_for: Any
) -> None:
    data = get(client_for, dash.admin1, quarter="2026Q4").json()
    monthly = {m["month"]: m for m in data["needs_monthly"]}
    assert [m["month"] for m in data["needs_monthly"]] == MONTHS
    # n3 was recorded 11-01 00:30 Beijing (10-31 in UTC): November's.
    assert [
        (monthly[m]["received"], monthly[m]["resolved"], monthly[m]["resolved_on_time"])
        for m in ("2026-09", "2026-10", "2026-11", "2026-12")
    ] == [  # fmt: skip
        (1, 0, 0),
        (3, 3, 2),
        (3, 2, 1),
        (2, 1, 1),
    ]
    report = get(
        client_for, dash.admin1, "/api/v1/reports/needs/", period="2026Q4", level="street"
    ).json()
    total = report["rows"][0]
    quarter_months = [monthly[m] for m in ("2026-10", "2026-11", "2026-12")]
    for key in ("received", "resolved", "resolved_on_time"):
        assert sum(m[key] for m in quarter_months) == total[key]

    by_grid = {g["grid_id"]: g for g in data["needs_by_grid"]}
    assert list(by_grid) == [dash.grid1.pk, dash.grid2.pk, dash.grid3.pk]
    # Open now: n0, n5, n6 in grid1; overdue: n5 (in progress, due 12-10).
    assert (by_grid[dash.grid1.pk]["open"], by_grid[dash.grid1.pk]["overdue"]) == (3, 1)
    assert (by_grid[dash.grid2.pk]["open"], by_grid[dash.grid2.pk]["overdue"]) == (0, 0)
    grids_report = get(
        client_for, dash.admin1, "/api/v1/reports/needs/", period="2026Q4", level="grid"
    ).json()
    for row in grids_report["rows"]:
        mine = by_grid[row["id"]]
        for key in ("resolved", "rated", "satisfied", "satisfaction_rate", "rating_rate"):
            assert mine[key] == row[key], (row["name"], key)
    assert by_grid[dash.grid1.pk]["satisfaction_rate"] == 0.6667
    assert by_grid[dash.grid2.pk]["rating_rate"] == 1.0
    # The factory's needs are all "infrastructure"; open now: n0, n5, n6.
    assert [(c["category"], c["count"]) for c in data["needs_open_by_category"]] == [
        ("infrastructure", 3)
    ]


@pytest.mark.django_db
def test_visit_coverage_and_key_populations_overdue_per_grid(dash: Any, client_for: Any) -> None:
    data = get(client_for, dash.admin1, quarter="2026Q4").json()
    rows = {r["grid_id"]: r for r in data["visits_by_grid"]}
    assert rows[dash.grid1.pk] == {
        "grid_id": dash.grid1.pk,
        "grid": "第一网格",
        "households": 4,
        "visited": 2,
        "coverage": 0.5,
        "key_overdue": 2,
    }
    assert (rows[dash.grid2.pk]["coverage"], rows[dash.grid2.pk]["key_overdue"]) == (1.0, 1)
    assert (rows[dash.grid3.pk]["coverage"], rows[dash.grid3.pk]["key_overdue"]) == (1.0, 0)


@pytest.mark.django_db
def test_points_series_liability_and_ranking(dash: Any, client_for: Any) -> None:
    data = get(client_for, dash.admin1, quarter="2026Q4").json()
    december = data["points_monthly"][-1]
    assert december == {"month": "2026-12", "earned": 37, "deducted": 3, "redeemed": 6}
    assert all(m["earned"] == 0 for m in data["points_monthly"][:-1])
    assert data["points_liability"] == 28
    assert data["ranking_top"] == [
        {"rank": 1, "name": "赵*英", "grid": "第二网格", "points": 20},
        {"rank": 2, "name": "赵*国", "grid": "第一网格", "points": 7},
        {"rank": 2, "name": "陈*国", "grid": "黄山小区网格", "points": 7},
    ]
    community = get(client_for, dash.committee1).json()
    assert community["points_liability"] == 21
    # The same order and points as the annual ranking (rankings/) of community1.
    ranking = get(client_for, dash.committee1, "/api/v1/rankings/", year=2026).json()
    api_rows = ranking.get("results", ranking)
    top = [(r["rank"], r["points"]) for r in community["ranking_top"]]
    assert top == [(r["rank"], r["earned"]) for r in api_rows if r["earned"] > 0]


@pytest.mark.django_db
def test_claims_waiting_by_age_redemption_council_and_hours(dash: Any, client_for: Any) -> None:
    data = get(client_for, dash.admin1, quarter="2026Q4").json()
    assert data["claims_waiting"] == {
        "count": 3,
        "oldest_days": 10,
        "by_age": [
            {"label": "1天内", "count": 1},
            {"label": "1–3天", "count": 0},
            {"label": "3–7天", "count": 1},
            {"label": "7天以上", "count": 1},
        ],
    }
    assert data["redemption_by_community"] == [
        {
            "community_id": dash.community1.pk,
            "community": "新庄赵村",
            "orders": 2,
            "items": 3,
            "uncollected": 0,
        },
        {
            "community_id": dash.community2.pk,
            "community": "泰山社区",
            "orders": 0,
            "items": 0,
            "uncollected": 0,
        },
    ]
    # Councils held in Q4: 10-10's agenda has item B (open); evaluations at councils held in
    # Q4 scored 4, 5, 2, 3.
    assert data["council"] == {"open": 1, "struck_off": 0, "avg_score": 3.5}
    assert data["volunteer_hours"] == [
        {"team_id": dash.team.pk, "team": "银龄调解队", "month": "2026-11", "hours": 2.5},
        {"team_id": dash.team.pk, "team": "银龄调解队", "month": "2026-12", "hours": 4.5},
    ]
    teams = volunteer_selectors.team_activities(
        user=dash.admin1, start=d(10, 1), end=d(12, 31), community=dash.community1.pk
    )
    assert sum(float(t.hours) for t in teams) == 7.0


@pytest.mark.django_db
def test_an_empty_quarter_has_every_key_with_zeros(dash: Any, client_for: Any) -> None:
    data = get(client_for, dash.admin1, quarter="2025Q1").json()
    assert data["period"]["months"][0] == "2024-04"
    assert all(m["received"] == 0 for m in data["needs_monthly"])
    assert all(v["visited"] == 0 for v in data["visits_by_grid"])
    assert data["council"] == {"open": 0, "struck_off": 0, "avg_score": None}
    assert data["volunteer_hours"] == []


@pytest.mark.django_db
def test_each_chart_costs_a_fixed_number_of_queries(
    dash: Any, django_assert_max_num_queries: Any
) -> None:
    unit = dashboard.resolve_unit(user=dash.admin1)
    with django_assert_max_num_queries(30):
        dashboard.dashboard(user=dash.admin1, unit=unit, period=quarter("2026Q4"))
    for n in range(5):  # more grids: not one query more
        f.GridFactory(community=dash.community2, code=f"X{n}")
    unit = dashboard.resolve_unit(user=dash.admin1)
    with django_assert_max_num_queries(30):
        dashboard.dashboard(user=dash.admin1, unit=unit, period=quarter("2026Q4"))


# ---------------------------------------------------------------------------- the map


SQUARE = {
    "type": "Polygon",
    "coordinates": [
        [[114.0, 33.5], [114.01, 33.5], [114.01, 33.51], [114.0, 33.51], [114.0, 33.5]]
    ],
}


@pytest.mark.django_db
def test_map_has_the_grids_with_a_boundary_and_households_without_anything_personal(
    dash: Any, client_for: Any
) -> None:
    Grid.objects.filter(pk=dash.grid1.pk).update(boundary=SQUARE, boundary_crs="GCJ-02")
    Household.objects.filter(pk=dash.household1.pk).update(latitude="33.505", longitude="114.005")
    r = get(client_for, dash.committee1, MAP)
    assert r.status_code == 200
    data = r.json()
    assert data["type"] == "FeatureCollection"
    assert (data["crs_note"], data["tile_url"]) == ("GCJ-02", "")
    grids = [x for x in data["features"] if x["properties"]["kind"] == "grid"]
    points = [x for x in data["features"] if x["properties"]["kind"] == "household"]
    assert [g["properties"]["grid_id"] for g in grids] == [dash.grid1.pk]
    assert grids[0]["geometry"] == SQUARE
    assert grids[0]["properties"]["overdue"] == 1
    assert grids[0]["properties"]["households"] == 4
    assert points == [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [114.005, 33.505]},
            "properties": {
                "kind": "household",
                "household_id": dash.household1.pk,
                "grid_id": dash.grid1.pk,
            },
        }
    ]
    text = r.content.decode()
    for resident in Resident.objects.all():
        assert resident.name not in text
    assert dash.household1.address not in text


# ---------------------------------------------------------------------------- snapshots


def without_time(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != "as_of"}


@pytest.mark.django_db
def test_a_street_s_snapshot_equals_the_live_figures(dash: Any, client_for: Any) -> None:
    from reports import tasks
    from reports.models import DashboardSnapshot
    from reports.serializers import DashboardSerializer

    assert tasks.refresh_dashboard_snapshots() == 2  # both streets
    snapshot = DashboardSnapshot.objects.get(level="street", unit_id=dash.street1.pk)
    assert snapshot.quarter == "2026Q4"
    unit = dashboard.resolve_unit(user=dash.admin1)
    live = DashboardSerializer(
        dashboard.dashboard(user=dash.admin1, unit=unit, period=quarter("2026Q4"))
    ).data
    served = get(client_for, dash.admin1).json()
    assert without_time(served) == without_time(dict(live))
    assert served["as_of"] == "2026-12-20T10:00:00+08:00"
    assert json.loads(snapshot.body) == served


@pytest.mark.django_db
def test_the_street_dashboard_is_read_from_its_snapshot_until_it_is_too_old(
    dash: Any, client_for: Any, travel: Any
) -> None:
    from django.conf import settings

    first = get(client_for, dash.admin1).json()  # computes and stores the snapshot
    f.NeedFactory(grid=dash.grid3, created_at=bj(12, 20, 9), reported_by=dash.admin1)

    def received_in_december(data: dict[str, Any]) -> int:
        return data["needs_monthly"][-1]["received"]

    assert received_in_december(get(client_for, dash.admin1).json()) == 2  # the snapshot's
    # A community's dashboard is live: the new need of grid3 (community2) is there at once.
    community2 = get(client_for, dash.admin1, community=dash.community2.pk).json()
    assert received_in_december(community2) == 1
    travel.shift(settings.DASHBOARD_SNAPSHOT_MAX_AGE + dt.timedelta(minutes=1))
    again = get(client_for, dash.admin1).json()
    assert received_in_december(again) == 3
    assert again["as_of"] > first["as_of"]
    # A past quarter of a street is computed live, never from a snapshot.
    from reports.models import DashboardSnapshot

    get(client_for, dash.admin1, quarter="2026Q3")
    assert list(DashboardSnapshot.objects.values_list("quarter", flat=True)) == ["2026Q4"]
