#!/usr/bin/env python
"""The street dashboard's figures at 10,000 vs 1,000,000 residents (issue 12).

Times every chart's selector of reports.dashboard (what GET /api/v1/reports/dashboard/ and
…/map/ run) for the street admin of a whole synthetic street, on PostgreSQL, at two sizes, and
prints each chart's median time at both sizes, the ratio, and the whole dashboard's ratio.
Goals: the whole ≤ 3× for 100× the data, and every chart's query under 1 s at 1,000,000.

Data: demo.scale.build_scale makes the street, grids, households, residents, tags and visits,
but none of what else the dashboard reads, so each size lives in a database of its own
(gp_bench_dash_10k, gp_bench_dash_1m), filled once by build_scale and then, set-based in SQL
(`fill_dashboard`), with a year of needs (one per household in three, over the last 365 days,
most resolved, half of those rated), points accounts with one award each (and a redemption for
one in ten), claims waiting (one resident in a hundred), orders of the current quarter (one
resident in twenty) with their lines, monthly councils with agenda items and evaluations, and a
volunteer team per community with monthly activities and attendances; then VACUUM ANALYZE.
Later runs reuse the databases (`--rebuild` starts over).

Each size is measured in a child process of its own (`--child measure`), one after the other:
every chart `--runs` times after one warm-up, median reported.

    .venv/bin/python bench/dashboard.py
    .venv/bin/python bench/dashboard.py --residents-small 10000 --residents-large 1000000
    .venv/bin/python bench/dashboard.py --rebuild --runs 7

Exit status 0 when both goals are met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
STREET_CODE = "bench"
ADMIN = "bench-dash-admin"
RATIO_GOAL = 3.0
CHART_GOAL_MS = 1000.0
CHARTS = (
    "needs_monthly",
    "needs_open_by_category",
    "needs_by_grid",
    "visits_by_grid",
    "points_monthly",
    "points_liability",
    "ranking_top",
    "claims_waiting",
    "redemption_by_community",
    "council",
    "volunteer_hours",
    "map",
)


def database_name(residents: int) -> str:
    if residents % 1_000_000 == 0:
        return f"gp_bench_dash_{residents // 1_000_000}m"
    if residents % 1_000 == 0:
        return f"gp_bench_dash_{residents // 1_000}k"
    return f"gp_bench_dash_{residents}"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def ensure_database(server: str, name: str, rebuild: bool) -> None:
    import psycopg

    with psycopg.connect(server + "postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and rebuild:
            log(f"[{name}] dropping (--rebuild)")
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            log(f"[{name}] creating database")
            conn.execute(f'CREATE DATABASE "{name}"')


# The dashboard's rows, set-based. %(street)s is the bench street's id, %(user)s the admin's,
# %(period)s the current quarter's id.
FILL = [
    (
        "needs",
        """
        INSERT INTO residents_need (source, category, title, text, priority, status,
            assigned_department, due_on, escalation, for_council, resolution, rejection_reason,
            created_at, resolved_at, closed_at, grid_id, household_id, reported_by_id, updated_at)
        SELECT 'visit',
            (ARRAY['infrastructure','environment','safety','elderly_care','dispute','policy',
                   'micro_wish','other'])[1 + h.id %% 8],
            '需求', '', 2,
            CASE WHEN h.id %% 10 < 7 THEN 'resolved' WHEN h.id %% 10 = 7 THEN 'in_progress'
                 WHEN h.id %% 10 = 8 THEN 'new' ELSE 'closed' END,
            '', (x.t)::date + 7, 0, false, '', '', x.t,
            CASE WHEN h.id %% 10 < 7 OR h.id %% 10 = 9
                 THEN x.t + (h.id %% 11) * interval '1 day' END,
            CASE WHEN h.id %% 10 = 9 THEN x.t + (h.id %% 11) * interval '1 day' END,
            h.grid_id, h.id, %(user)s, now()
        FROM residents_household h
        JOIN grids_grid g ON g.id = h.grid_id
        JOIN grids_community c ON c.id = g.community_id
        CROSS JOIN LATERAL (SELECT now() - ((h.id * 7919) %% 365) * interval '1 day'
                                       - (h.id %% 24) * interval '1 hour' AS t) x
        WHERE c.street_id = %(street)s AND h.id %% 3 = 0
        """,
    ),
    (
        "ratings",
        """
        INSERT INTO residents_rating (level, comment, rated_at, need_id, rated_by_id, source)
        SELECT 1 + n.id %% 5, '', n.resolved_at + interval '1 day', n.id, %(user)s, 'resident'
        FROM residents_need n
        JOIN grids_grid g ON g.id = n.grid_id
        JOIN grids_community c ON c.id = g.community_id
        WHERE c.street_id = %(street)s AND n.resolved_at IS NOT NULL AND n.id %% 2 = 0
        """,
    ),
    (
        "accounts",
        """
        INSERT INTO points_account (card_number, balance, honour, last_seq, resident_id,
            household_id)
        SELECT 'B' || r.id, 0, 0, 0, r.id, r.household_id
        FROM residents_resident r
        JOIN residents_household h ON h.id = r.household_id
        JOIN grids_grid g ON g.id = h.grid_id
        JOIN grids_community c ON c.id = g.community_id
        WHERE c.street_id = %(street)s
        """,
    ),
    (
        "entries (awards)",
        """
        INSERT INTO points_entry (seq, amount, kind, balance_after, honour, honour_after,
            source_type, key, note, created_at, account_id, period_id)
        SELECT 1, 1 + a.id %% 20, 'award', 1 + a.id %% 20, 1 + a.id %% 20, 1 + a.id %% 20,
            '', 'bench:award', '', x.t, a.id, p.id
        FROM points_account a
        JOIN residents_resident r ON r.id = a.resident_id
        JOIN residents_household h ON h.id = r.household_id
        JOIN grids_grid g ON g.id = h.grid_id
        JOIN grids_community c ON c.id = g.community_id
        CROSS JOIN LATERAL (SELECT now() - ((a.id * 7919) %% 360) * interval '1 day' AS t) x
        JOIN points_period p ON (x.t AT TIME ZONE 'Asia/Shanghai')::date
                                BETWEEN p.starts_on AND p.ends_on
        WHERE c.street_id = %(street)s
        """,
    ),
    (
        "entries (redemptions)",
        """
        INSERT INTO points_entry (seq, amount, kind, balance_after, honour, honour_after,
            source_type, key, note, created_at, account_id, period_id)
        SELECT 2, -3, 'redemption', e.amount - 3, 0, e.honour_after, '', 'bench:redeem', '',
            now(), e.account_id, %(period)s
        FROM points_entry e
        JOIN points_account a ON a.id = e.account_id
        JOIN residents_resident r ON r.id = a.resident_id
        JOIN residents_household h ON h.id = r.household_id
        JOIN grids_grid g ON g.id = h.grid_id
        JOIN grids_community c ON c.id = g.community_id
        WHERE c.street_id = %(street)s AND e.key = 'bench:award' AND e.amount >= 3
          AND e.account_id %% 10 = 0
        """,
    ),
    (
        "balances",
        """
        UPDATE points_account a SET balance = s.b, honour = s.h, last_seq = s.n
        FROM (SELECT account_id, sum(amount) AS b, sum(honour) AS h, count(*) AS n
              FROM points_entry
              WHERE key LIKE 'bench:%%' GROUP BY account_id) s
        WHERE s.account_id = a.id
        """,
    ),
    (
        "rules and catalog",
        """
        WITH c AS (SELECT id FROM grids_community WHERE street_id = %(street)s),
        rules AS (
            INSERT INTO points_rule (code, name, category, points, up_to, active, community_id)
            SELECT 'bench', '清扫责任区', 'base', 1, false, true, c.id FROM c RETURNING id
        )
        INSERT INTO points_catalogitem (name, points, unit, active, community_id)
        SELECT '洗衣粉', 20, '袋', true, c.id FROM c
        """,
    ),
    (
        "claims waiting",
        """
        INSERT INTO points_claim (points, occurred_on, note, status, likely_duplicate,
            submitted_at, reject_reason, resident_id, account_id, submitted_by_id, period_id,
            rule_id)
        SELECT 1, current_date, '', 'submitted', false, now() - (r.id %% 240) * interval '1 hour',
            '', r.id, a.id, %(user)s, %(period)s, ru.id
        FROM residents_resident r
        JOIN points_account a ON a.resident_id = r.id
        JOIN residents_household h ON h.id = r.household_id
        JOIN grids_grid g ON g.id = h.grid_id
        JOIN grids_community c ON c.id = g.community_id
        JOIN points_rule ru ON ru.community_id = c.id AND ru.code = 'bench'
        WHERE c.street_id = %(street)s AND r.id %% 100 = 0
        """,
    ),
    (
        "orders",
        """
        INSERT INTO points_order (status, total_points, placed_at, community_id, period_id,
            placed_by_id, resident_id, account_id)
        SELECT CASE WHEN r.id %% 3 = 0 THEN 'frozen' WHEN r.id %% 3 = 1 THEN 'placed'
                    ELSE 'cancelled' END,
            20, now(), c.id, %(period)s, %(user)s, r.id, a.id
        FROM residents_resident r
        JOIN points_account a ON a.resident_id = r.id
        JOIN residents_household h ON h.id = r.household_id
        JOIN grids_grid g ON g.id = h.grid_id
        JOIN grids_community c ON c.id = g.community_id
        WHERE c.street_id = %(street)s AND r.id %% 20 = 0
        """,
    ),
    (
        "order lines",
        """
        INSERT INTO points_orderline (quantity, points, item_id, order_id)
        SELECT 1, 20, i.id, o.id
        FROM points_order o
        JOIN points_catalogitem i ON i.community_id = o.community_id
        JOIN grids_community c ON c.id = o.community_id
        WHERE c.street_id = %(street)s
        """,
    ),
    (
        "councils",
        """
        INSERT INTO grids_council (held_on, agenda_cutoff, place, status, policy_talk,
            affairs_disclosed, needs_raised, solutions_discussed, past_items_evaluated,
            attendees, attendee_count, chaired_by, community_id)
        SELECT m.d + 9, m.d + 6, '', 'held', '', '', '', '', '', '', 0, '', c.id
        FROM grids_community c
        CROSS JOIN generate_series(0, 11) AS k
        CROSS JOIN LATERAL (SELECT (date_trunc('month', current_date)
                                    - k * interval '1 month')::date AS d) m
        WHERE c.street_id = %(street)s
        """,
    ),
    (
        "agenda items",
        """
        INSERT INTO grids_agendaitem (title, decision, position, outcome, council_id)
        SELECT '议事事项', '', k, CASE WHEN k = 0 THEN 'open' ELSE 'struck_off' END, co.id
        FROM grids_council co
        JOIN grids_community c ON c.id = co.community_id
        CROSS JOIN generate_series(0, 2) AS k
        WHERE c.street_id = %(street)s
        """,
    ),
    (
        "evaluations",
        """
        INSERT INTO grids_agendaevaluation (score, struck_off, reason, evaluated_at,
            evaluated_by_id, item_id, council_id)
        SELECT 1 + i.id %% 5, true, '', now(), %(user)s, i.id, i.council_id
        FROM grids_agendaitem i
        JOIN grids_council co ON co.id = i.council_id
        JOIN grids_community c ON c.id = co.community_id
        WHERE c.street_id = %(street)s
        """,
    ),
    (
        "teams",
        """
        INSERT INTO volunteers_team (name, kind, description, created_at, community_id)
        SELECT '志愿服务队', 'other', '', now(), c.id
        FROM grids_community c WHERE c.street_id = %(street)s
        """,
    ),
    (
        "memberships",
        """
        INSERT INTO volunteers_membership (joined_on, role, active, resident_id, team_id)
        SELECT current_date, 'member', true, x.id, x.team_id
        FROM (SELECT r.id, t.id AS team_id,
                     row_number() OVER (PARTITION BY t.id ORDER BY r.id) AS n
              FROM residents_resident r
              JOIN residents_household h ON h.id = r.household_id
              JOIN grids_grid g ON g.id = h.grid_id
              JOIN volunteers_team t ON t.community_id = g.community_id
              JOIN grids_community c ON c.id = g.community_id
              WHERE c.street_id = %(street)s AND r.id %% 97 = 0) x
        WHERE x.n <= 10
        """,
    ),
    (
        "activities",
        """
        INSERT INTO volunteers_activity (title, starts_at, ends_at, place, capacity,
            description, status, check_in_token, created_at, team_id)
        SELECT '志愿服务', m.t, m.t + interval '3 hours', '', 20, '', 'done',
            'bench-' || t.id || '-' || k, now(), t.id
        FROM volunteers_team t
        JOIN grids_community c ON c.id = t.community_id
        CROSS JOIN generate_series(0, 11) AS k
        CROSS JOIN LATERAL (SELECT date_trunc('month', now()) - k * interval '1 month'
                                   + interval '2 days' AS t) m
        WHERE c.street_id = %(street)s
        """,
    ),
    (
        "attendances",
        """
        INSERT INTO volunteers_attendance (checked_in_at, hours, points_note, activity_id,
            membership_id)
        SELECT a.starts_at, 2.5, '', a.id, m.id
        FROM volunteers_activity a
        JOIN volunteers_membership m ON m.team_id = a.team_id
        JOIN volunteers_team t ON t.id = a.team_id
        JOIN grids_community c ON c.id = t.community_id
        WHERE c.street_id = %(street)s
        """,
    ),
]


def child_build(args: argparse.Namespace) -> dict[str, Any]:
    name = database_name(args.residents)
    ensure_database(args.server, name, args.rebuild)
    import django

    django.setup()
    import datetime as dt

    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from demo.scale import build_scale
    from grids.models import Street, StreetAdmin
    from points.services.ledger import period_for
    from residents.models import Resident

    call_command("migrate", verbosity=0)
    street = Street.objects.filter(code=STREET_CODE).first()
    if street is not None:
        have = Resident.objects.filter(household__grid__community__street=street).count()
        if have != args.residents:
            raise SystemExit(
                f"[{name}] holds {have:,} residents, not {args.residents:,}: --rebuild"
            )
        if StreetAdmin.objects.filter(user__username=ADMIN).exists():
            log(f"[{name}] reusing {have:,} residents and their dashboard rows")
            return {"build_seconds": None}
    started = time.monotonic()
    if street is None:
        log(f"[{name}] building {args.residents:,} residents (demo.scale.build_scale) …")
        report = build_scale(
            residents=args.residents,
            street_code=STREET_CODE,
            seed=1,
            progress=lambda m: log(f"  … {m}"),
        )
        street = Street.objects.get(code=STREET_CODE)
        log(f"  built in {report.seconds:.1f} s")
    today = timezone.localdate()
    for back in range(0, 15):  # every quarter the year's entries may fall in
        period_for(today - dt.timedelta(days=30 * back))
    period = period_for(today)
    with transaction.atomic():
        user, _ = get_user_model().objects.get_or_create(username=ADMIN)
        params = {"street": street.pk, "user": user.pk, "period": period.pk}
        with connection.cursor() as cursor:
            for label, sql in FILL:
                t = time.monotonic()
                cursor.execute(sql, params)
                log(f"  {label}: {cursor.rowcount:,} rows in {time.monotonic() - t:.1f} s")
        StreetAdmin.objects.create(user=user, street=street)
    with connection.cursor() as cursor:
        t = time.monotonic()
        cursor.execute("VACUUM ANALYZE")
        log(f"  VACUUM ANALYZE in {time.monotonic() - t:.1f} s")
    return {"build_seconds": time.monotonic() - started}


def _chart_calls(dashboard: Any, user: Any, unit: Any, period: Any) -> dict[str, Any]:
    months = dashboard.months_ending(period)
    year = period.starts_on.year
    return {
        "needs_monthly": lambda: dashboard.needs_monthly(user=user, unit=unit, months=months),
        "needs_open_by_category": lambda: dashboard.needs_open_by_category(user=user, unit=unit),
        "needs_by_grid": lambda: dashboard.needs_by_grid(user=user, unit=unit, period=period),
        "visits_by_grid": lambda: dashboard.visits_by_grid(user=user, unit=unit, period=period),
        "points_monthly": lambda: dashboard.points_monthly(user=user, unit=unit, months=months),
        "points_liability": lambda: dashboard.points_liability(user=user, unit=unit),
        "ranking_top": lambda: dashboard.ranking_top(user=user, unit=unit, year=year),
        "claims_waiting": lambda: dashboard.claims_waiting(user=user, unit=unit),
        "redemption_by_community": lambda: dashboard.redemption_by_community(
            user=user, unit=unit, period=period
        ),
        "council": lambda: dashboard.council(user=user, unit=unit, period=period),
        "volunteer_hours": lambda: dashboard.volunteer_hours(user=user, unit=unit, months=months),
        "map": lambda: dashboard.map_features(user=user, unit=unit, period=period),
    }


def _time_charts(calls: dict[str, Any], runs: int, explain: bool, label: str) -> dict[str, Any]:
    """Each chart: median of `runs` calls after one warm-up, its queries, and the slowest of
    them run again alone."""
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    out = {}
    for name in CHARTS:
        call = calls[name]
        call()  # warm-up
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            call()
            times.append((time.perf_counter() - t) * 1000)
        reset_queries()
        with CaptureQueriesContext(connection) as q:
            call()
        slowest = 0.0
        with connection.cursor() as cursor:
            for captured in q.captured_queries:
                t = time.perf_counter()
                cursor.execute(captured["sql"])
                cursor.fetchall()
                slowest = max(slowest, (time.perf_counter() - t) * 1000)
                if explain:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + captured["sql"])
                    plan = "\n".join(r[0] for r in cursor.fetchall())
                    log(f"\n[{label} {name}]\n{captured['sql']}\n{plan}")
        out[name] = {
            "median_ms": statistics.median(times),
            "queries": len(q.captured_queries),
            "slowest_query_ms": slowest,
        }
    return out


def child_measure(args: argparse.Namespace) -> dict[str, Any]:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.test.utils import setup_test_environment
    from rest_framework.test import APIClient

    from grids.models import Grid
    from reports import dashboard, services
    from reports.selectors import quarter
    from residents.models import Household, Need, Resident

    setup_test_environment()  # lets the test client's host "testserver" in
    user = get_user_model().objects.get(username=ADMIN)
    street = dashboard.resolve_unit(user=user)
    period = quarter()
    community_id = street.children[0]["id"]
    community = dashboard.resolve_unit(user=user, community=community_id)
    grid_id = (
        Grid.objects.filter(community_id=community_id)
        .order_by("code")
        .values_list("pk", flat=True)[0]
    )
    result: dict[str, Any] = {
        "residents": Resident.objects.count(),
        "households": Household.objects.count(),
        "needs": Need.objects.count(),
        "grids": len(dashboard.visits_by_grid(user=user, unit=street, period=period)),
        "community": community.name,
        "community_residents": Resident.objects.filter(
            household__grid__community_id=community_id
        ).count(),
    }
    client = APIClient()
    client.force_authenticate(user=user)
    requests = {
        "street dashboard (snapshot)": ("/api/v1/reports/dashboard/", {}),
        "street map (snapshot)": ("/api/v1/reports/dashboard/map/", {}),
        "community dashboard (live)": ("/api/v1/reports/dashboard/", {"community": community_id}),
        "community map (live)": ("/api/v1/reports/dashboard/map/", {"community": community_id}),
        "grid dashboard (live)": ("/api/v1/reports/dashboard/", {"grid": grid_id}),
    }
    log(f"[{database_name(args.residents)}] timing the API requests …")
    result["api"] = {}
    for label, (url, params) in requests.items():
        times = []
        for i in range(3 + args.runs):
            t = time.perf_counter()
            response = client.get(url, params)
            elapsed = (time.perf_counter() - t) * 1000
            assert response.status_code == 200, (url, response.content[:500])
            if i >= 3:
                times.append(elapsed)
        result["api"][label] = statistics.median(times)
    log(f"[{database_name(args.residents)}] timing the community's charts (live) …")
    result["community_charts"] = _time_charts(
        _chart_calls(dashboard, user, community, period), args.runs, args.explain, "community"
    )
    log(f"[{database_name(args.residents)}] timing the street's charts (the snapshot job) …")
    result["street_charts"] = _time_charts(
        _chart_calls(dashboard, user, street, period), args.live_runs, args.explain, "street"
    )
    t = time.perf_counter()
    services.refresh_snapshot(unit=street)
    result["refresh_ms"] = (time.perf_counter() - t) * 1000

    return result


def run_child(args: argparse.Namespace, what: str, residents: int) -> Any:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": args.server + database_name(residents),
        "PYTHONPATH": str(ROOT),
    }
    command = [
        sys.executable, __file__, "--child", what, "--server", args.server,
        "--residents", str(residents), "--runs", str(args.runs),
        "--live-runs", str(args.live_runs),
    ] + ["--rebuild"] * args.rebuild + ["--explain"] * args.explain  # fmt: skip
    done = subprocess.run(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    if done.returncode:
        raise SystemExit(done.returncode)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--residents-small", type=int, default=10_000)
    parser.add_argument("--residents-large", type=int, default=1_000_000)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--runs", type=int, default=9, help="timed requests / community charts")
    parser.add_argument(
        "--live-runs", type=int, default=1, help="timed calls of each street chart (slow at 1M)"
    )
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE every query")
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432/")
    parser.add_argument("--child", choices=("build", "measure"), help=argparse.SUPPRESS)
    parser.add_argument("--residents", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.server.endswith("/"):
        args.server += "/"
    if args.child == "build":
        print(json.dumps(child_build(args)))
        return
    if args.child == "measure":
        print(json.dumps(child_measure(args)))
        return

    sizes = {"small": args.residents_small, "large": args.residents_large}
    for n in sizes.values():
        run_child(args, "build", n)
    args.rebuild = False
    results = {size: run_child(args, "measure", n) for size, n in sizes.items()}
    s, la = results["small"], results["large"]
    factor = sizes["large"] // sizes["small"]
    print()
    print("Street dashboard (reports.dashboard and its API), PostgreSQL, a street admin of the")
    print(f"whole synthetic street; medians of {args.runs} (street charts: {args.live_runs}).")
    for size in sizes:
        r = results[size]
        print(
            f"  {database_name(sizes[size])}: {r['residents']:,} residents, {r['households']:,}"
            f" households, {r['grids']:,} grids, {r['needs']:,} needs; community"
            f" {r['community']}: {r['community_residents']:,} residents"
        )
    ok = True
    print()
    print(f"{'API request':<32}{'small ms':>10}{'large ms':>10}{'ratio':>8}")
    for label in s["api"]:
        a, b = s["api"][label], la["api"][label]
        ratio = b / a
        good = ratio <= RATIO_GOAL
        ok &= good
        print(f"{label:<32}{a:>10.1f}{b:>10.1f}{ratio:>8.2f}{'' if good else '  MISSED'}")
    for title, key in (
        ("community charts (live, per request)", "community_charts"),
        ("street charts (live: the snapshot job, not per request)", "street_charts"),
    ):
        print()
        print(title)
        print(f"{'chart':<26}{'small ms':>10}{'large ms':>10}{'ratio':>8}  queries  slowest SQL")
        for name in CHARTS:
            a, b = s[key][name], la[key][name]
            ratio = b["median_ms"] / a["median_ms"] if a["median_ms"] else float("inf")
            slow = b["slowest_query_ms"]
            late = key == "community_charts" and slow >= CHART_GOAL_MS
            ok &= not late
            print(
                f"{name:<26}{a['median_ms']:>10.1f}{b['median_ms']:>10.1f}{ratio:>8.1f}"
                f"  {b['queries']:>7}  {slow:.1f} ms{'  > 1 s' if late else ''}"
            )
    print()
    print(
        f"snapshot refresh of the street (Celery beat job): {s['refresh_ms'] / 1000:.1f} s small,"
        f" {la['refresh_ms'] / 1000:.1f} s large"
    )
    print()
    print(f"goals: every API request ≤ {RATIO_GOAL}× for {factor}× the data; every query a request")
    print("       runs < 1 s at the large size (a street's charts: one snapshot row; a community's")
    print("       and a grid's: live):")
    print(f"       {'PASS' if ok else 'FAIL'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
