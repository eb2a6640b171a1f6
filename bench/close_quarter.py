#!/usr/bin/env python
"""The close of a quarter at scale (issue 4, item 8): service against a raw-SQL floor.

Over 600 lines on purpose: a self-contained benchmark script (setup, runs and report in one
file), run on its own and imported by nothing.

The district: 1,000,000 residents (demo.scale.build_scale, street code "benchclose"), an
account for each, 10,000,000 ledger entries over the last four quarters (2025Q4 … 2026Q3,
awards with every seventh entry a deduction, and the redemption entries of the orders), the
seven catalog items of the demo in every community, a redemption window of 2026Q3 that has
ended, 300,000 placed orders of 2026Q3 with one to three lines each (each debited by a
redemption entry, part of the 10,000,000), and a policy expiring points after two quarters in
every other community (so expiry runs). Built set-based (COPY and INSERT … SELECT with window
functions for seq and balance_after), then VACUUM ANALYZE; kept in `gp_bench_close` and reused
(`--rebuild` starts over).

Each timed run gets its own identical copy: `CREATE DATABASE … TEMPLATE gp_bench_close
STRATEGY FILE_COPY`, a CHECKPOINT, then:

  - service: the period set to closing and the Closing created (what start_close does before
    queueing the job; not timed), then `points.services.close.close_period(period_id)` — the close
    job, every community in its own transaction — timed, commits included; each step inside
    close_community is timed too (the bench wraps the service's helpers with timers);
  - floor: the same work as plain SQL in one transaction: freeze the orders; INSERT … SELECT
    the purchase lines; INSERT … SELECT the distribution lines (string_agg for the items
    text); INSERT … SELECT the expiry entries and UPDATE their accounts; INSERT … SELECT the
    notice lines (earned per resident, masked names); the closed-community markers, the
    close done and the quarter closed. Timed, commit included.

The variants alternate over `--rounds` (default 1) and the medians are compared: goal service
/ floor <= 2.0 (exit status 1 otherwise). Both must produce the same row counts (purchase
lines, distribution lines, expiry entries, notice lines) and the same sums; they are printed.

Usage (from the project root; needs a PostgreSQL server; not part of the test suite):

    .venv/bin/python bench/close_quarter.py
    .venv/bin/python bench/close_quarter.py --residents 100000 --entries 1000000 \\
        --orders 30000 --database gp_bench_close_small            # a quick run
    .venv/bin/python bench/close_quarter.py --rebuild
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
STREET_CODE = "benchclose"
GOAL = 2.0
CLOSED_CODE = "2026Q3"
QUARTERS = ("2025Q4", "2026Q1", "2026Q2", "2026Q3")
EXPIRE_AFTER = 2
RUN_DB = "gp_bench_close_run"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def admin(server: str):  # noqa: ANN201
    import psycopg

    return psycopg.connect(server + "postgres", autocommit=True)


def database_exists(server: str, name: str) -> bool:
    with admin(server) as conn:
        return bool(conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone())


def drop_database(server: str, name: str) -> None:
    with admin(server) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def use_database(name: str) -> None:
    from django.db import connection

    connection.close()
    connection.settings_dict["NAME"] = name


# ============================================================================ the district


def build(args: argparse.Namespace) -> None:
    from django.core.management import call_command
    from django.db import connection, transaction

    from demo.parts.points import CATALOG
    from demo.scale import build_scale
    from grids.models import Community, GridWorker, Street
    from points.models import CatalogItem, Policy, RedemptionWindow
    from points.services import ledger as ledger_services

    call_command("migrate", verbosity=0)
    if Street.objects.filter(code=STREET_CODE).exists():
        raise SystemExit("a half-built database: run with --rebuild")
    started = time.perf_counter()
    log(f"building {args.residents:,} residents (demo.scale.build_scale) …")
    report = build_scale(
        residents=args.residents,
        street_code=STREET_CODE,
        seed=1,
        progress=lambda m: log(f"  … {m}"),
    )
    for line in report.lines():
        log(f"  {line}")
    street = Street.objects.get(code=STREET_CODE)
    communities = list(Community.objects.filter(street=street).order_by("id"))
    periods = {}
    for code in QUARTERS:
        year, q = int(code[:4]), int(code[5])
        periods[code] = ledger_services.period_for(dt.date(year, 3 * q - 1, 15))
    closed = periods[CLOSED_CODE]
    placer = GridWorker.objects.filter(community__street=street).order_by("id")[0].user_id
    with transaction.atomic():
        for community in communities:
            CatalogItem.objects.bulk_create(
                CatalogItem(community=community, name=name, points=points, unit=unit)
                for name, points, unit in CATALOG
            )
            RedemptionWindow.objects.create(
                period=closed,
                community=community,
                opens_on=closed.ends_on + dt.timedelta(days=1),
                closes_on=closed.ends_on + dt.timedelta(days=7),
            )
        Policy.objects.bulk_create(
            Policy(community=c, expire_after_quarters=EXPIRE_AFTER if i % 2 == 0 else None)
            for i, c in enumerate(communities)
        )
        closed.status = closed.Status.REDEEMING
        closed.save(update_fields=["status"])
        with connection.cursor() as cur:
            cur.execute("SET LOCAL work_mem = '1GB'")
            cur.execute("SET LOCAL maintenance_work_mem = '2GB'")
            log("accounts …")
            cur.execute(
                """
                SELECT r.id FROM residents_resident r
                JOIN residents_household h ON h.id = r.household_id
                JOIN grids_grid g ON g.id = h.grid_id
                JOIN grids_community c ON c.id = g.community_id
                WHERE c.street_id = %s ORDER BY r.id
                """,
                [street.pk],
            )
            ids = [row[0] for row in cur.fetchall()]
            with cur.cursor.copy(
                "COPY points_account (resident_id, card_number, balance, last_seq) FROM STDIN"
            ) as copy:
                for rid in ids:
                    copy.write_row((rid, ledger_services.card_number_for(rid), 0, 0))
            log("orders …")
            # Order o goes to the resident of rank o * R / O (one order each), with 1 + o % 3
            # lines: items (o + 2j) % 7, quantity 1 + (o + j) % 2.
            cur.execute(
                """
                CREATE TEMP TABLE bench_res AS
                SELECT r.id AS resident_id, a.id AS account_id, g.community_id,
                       ROW_NUMBER() OVER (ORDER BY r.id) - 1 AS rn
                FROM residents_resident r
                JOIN residents_household h ON h.id = r.household_id
                JOIN grids_grid g ON g.id = h.grid_id
                JOIN grids_community c ON c.id = g.community_id
                JOIN points_account a ON a.resident_id = r.id
                WHERE c.street_id = %s
                """,
                [street.pk],
            )
            cur.execute("CREATE INDEX ON bench_res (rn)")
            cur.execute(
                """
                CREATE TEMP TABLE bench_lines AS
                SELECT s.o, j.j, br.resident_id, br.account_id, br.community_id,
                       i.id AS item_id, i.points, 1 + (s.o + j.j) %% 2 AS quantity
                FROM generate_series(0, %(orders)s - 1) AS s(o)
                JOIN bench_res br ON br.rn = s.o::bigint * %(residents)s / %(orders)s
                CROSS JOIN LATERAL generate_series(0, s.o %% 3) AS j(j)
                JOIN LATERAL (
                    SELECT ci.id, ci.points,
                           ROW_NUMBER() OVER (ORDER BY ci.id) - 1 AS k
                    FROM points_catalogitem ci WHERE ci.community_id = br.community_id
                ) i ON i.k = (s.o + 2 * j.j) %% 7
                """,
                {"orders": args.orders, "residents": len(ids)},
            )
            cur.execute(
                """
                CREATE TEMP TABLE bench_orders AS
                SELECT o, resident_id, account_id, community_id,
                       SUM(points * quantity) AS total,
                       nextval(pg_get_serial_sequence('points_order', 'id')) AS id
                FROM (SELECT * FROM bench_lines ORDER BY o, j) l
                GROUP BY o, resident_id, account_id, community_id
                ORDER BY o
                """
            )
            cur.execute(
                """
                INSERT INTO points_order (id, resident_id, community_id, period_id, status,
                                          total_points, placed_by_id, placed_at)
                SELECT id, resident_id, community_id, %s, 'placed', total, %s,
                       %s::timestamptz
                FROM bench_orders ORDER BY id
                """,
                [closed.pk, placer, dt.datetime(2026, 10, 3, 10, tzinfo=dt.UTC)],
            )
            cur.execute(
                """
                INSERT INTO points_orderline (order_id, item_id, quantity, points)
                SELECT bo.id, l.item_id, l.quantity, l.points
                FROM bench_lines l JOIN bench_orders bo ON bo.o = l.o ORDER BY l.o, l.j
                """
            )
            log("entries …")
            # Non-redemption entries: E - O spread over the accounts (n or n + 1 each), entry s
            # of n in quarter (s - 1) * 4 / n; every seventh a deduction, the rest awards.
            n_other = args.entries - args.orders
            base, extra = divmod(n_other, len(ids))
            cur.execute(
                """
                INSERT INTO points_entry (account_id, seq, amount, kind, period_id,
                                          balance_after, source_type, source_id, key, note,
                                          created_by_id, created_at)
                SELECT account_id,
                       ROW_NUMBER() OVER w, amount, kind, period_id, SUM(amount) OVER w,
                       source_type, source_id, key, '', NULL, now()
                FROM (
                    SELECT br.account_id, s.s AS ord,
                           CASE WHEN (br.account_id + s.s) %% 7 = 0
                                THEN -(1 + (br.account_id + s.s) %% 5)
                                ELSE 5 + (br.account_id * 7 + s.s * 13) %% 26 END AS amount,
                           CASE WHEN (br.account_id + s.s) %% 7 = 0
                                THEN 'deduction' ELSE 'award' END AS kind,
                           (%(periods)s::bigint[])[1 + (s.s - 1) * 4
                               / (%(base)s + (br.rn < %(extra)s)::int)] AS period_id,
                           '' AS source_type, NULL::bigint AS source_id,
                           'bench:' || s.s AS key
                    FROM bench_res br
                    CROSS JOIN LATERAL generate_series(1, %(base)s + (br.rn < %(extra)s)::int)
                        AS s(s)
                    UNION ALL
                    SELECT bo.account_id, 1000, -bo.total, 'redemption', %(closed)s,
                           'order', bo.id, 'order:' || bo.id
                    FROM bench_orders bo
                ) x
                WINDOW w AS (PARTITION BY account_id ORDER BY ord)
                """,
                {
                    "periods": [periods[c].pk for c in QUARTERS],
                    "base": base,
                    "extra": extra,
                    "closed": closed.pk,
                },
            )
            log(f"  {cur.rowcount:,} entries")
            cur.execute(
                """
                UPDATE points_account a SET balance = s.balance, last_seq = s.n
                FROM (SELECT account_id, SUM(amount) AS balance, COUNT(*) AS n
                      FROM points_entry GROUP BY account_id) s
                WHERE a.id = s.account_id
                """
            )
    with connection.cursor() as cur:
        log("VACUUM ANALYZE …")
        cur.execute("VACUUM ANALYZE")
    log(f"built in {time.perf_counter() - started:.0f} s")


def ensure_built(args: argparse.Namespace) -> None:
    import psycopg

    if args.rebuild:
        drop_database(args.server, args.database)
    if database_exists(args.server, args.database):
        # Built completely? (the marker: the accounts' last_seq set)
        with psycopg.connect(args.server + args.database) as conn:
            try:
                n = conn.execute(
                    "SELECT COUNT(*) FROM points_account WHERE last_seq > 0"
                ).fetchone()
                ok = n[0] > 0
            except psycopg.Error:
                ok = False
        if ok:
            return
        log(f"[{args.database}] incomplete: rebuilding")
        drop_database(args.server, args.database)
    with admin(args.server) as conn:
        conn.execute(f'CREATE DATABASE "{args.database}"')
    use_database(args.database)
    build(args)
    from django.db import connection

    connection.close()


def fresh_copy(args: argparse.Namespace) -> None:
    from django.db import connection

    connection.close()
    drop_database(args.server, RUN_DB)
    started = time.perf_counter()
    with admin(args.server) as conn:
        conn.execute(f'CREATE DATABASE "{RUN_DB}" TEMPLATE "{args.database}" STRATEGY FILE_COPY')
        conn.execute("CHECKPOINT")
    log(f"  fresh copy in {time.perf_counter() - started:.1f} s")
    use_database(RUN_DB)


# ============================================================================ the runs


def closed_period():  # noqa: ANN201
    from points.models import Period

    return Period.objects.get(code=CLOSED_CODE)


def prepare_closing() -> int:
    """What start_close does before it queues the job (not timed)."""
    from django.db import transaction

    from points.models import Closing, Period
    from points.services.close import communities_to_close

    with transaction.atomic():
        period = closed_period()
        period.status = Period.Status.CLOSING
        period.save(update_fields=["status"])
        Closing.objects.create(
            period=period, communities_total=communities_to_close(period).count()
        )
    return period.pk


class StepTimers:
    """Wraps the helpers close_community calls, summing the time of each."""

    def __init__(self) -> None:
        self.times: dict[str, float] = {}
        self._undo: list[Callable[[], None]] = []

    def _wrap(self, owner: Any, attr: str, name: str) -> None:
        original = getattr(owner, attr)

        def timed(*a: Any, **kw: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*a, **kw)
            finally:
                self.times[name] = self.times.get(name, 0.0) + time.perf_counter() - started

        setattr(owner, attr, timed)
        self._undo.append(lambda: setattr(owner, attr, original))

    def __enter__(self) -> StepTimers:
        from points.services import close as close_services

        for name in ("_rebuild_lists", "post_expiry", "_store_notice"):
            self._wrap(close_services, name, name)
        return self

    def __exit__(self, *exc: object) -> None:
        for undo in reversed(self._undo):
            undo()


def run_service() -> dict[str, Any]:
    from points.services.close import close_period

    period_id = prepare_closing()
    with StepTimers() as steps:
        started = time.perf_counter()
        closing = close_period(period_id)
        elapsed = time.perf_counter() - started
    assert closing.status == closing.Status.DONE
    times = dict(steps.times)
    times["rest (markers, freezing, policy, loop, commits)"] = elapsed - sum(steps.times.values())
    return {"seconds": elapsed, "steps": times}


FLOOR = [
    (
        "freeze the orders",
        """UPDATE points_order SET status = 'frozen'
           WHERE period_id = %(period)s AND status = 'placed'""",
    ),
    (
        "purchase lines",
        """INSERT INTO points_purchaseline (period_id, community_id, item_id, quantity,
                                            points_total)
           SELECT o.period_id, o.community_id, l.item_id, SUM(l.quantity),
                  SUM(l.quantity * l.points)
           FROM points_orderline l JOIN points_order o ON o.id = l.order_id
           WHERE o.period_id = %(period)s AND o.status IN ('frozen', 'handed_over')
           GROUP BY o.period_id, o.community_id, l.item_id""",
    ),
    (
        "distribution lines",
        """INSERT INTO points_distributionline (period_id, community_id, grid_id, household_id,
                                                resident_id, order_id, items, total_points)
           SELECT o.period_id, o.community_id, h.grid_id, r.household_id, o.resident_id, o.id,
                  t.items, o.total_points
           FROM points_order o
           JOIN residents_resident r ON r.id = o.resident_id
           JOIN residents_household h ON h.id = r.household_id
           JOIN (SELECT l.order_id,
                        string_agg(i.name || '×' || l.quantity, '、' ORDER BY l.id) AS items
                 FROM points_orderline l
                 JOIN points_order o2 ON o2.id = l.order_id
                 JOIN points_catalogitem i ON i.id = l.item_id
                 WHERE o2.period_id = %(period)s AND o2.status = 'frozen'
                 GROUP BY l.order_id) t ON t.order_id = o.id
           WHERE o.period_id = %(period)s AND o.status = 'frozen'""",
    ),
    (
        "expiry entries + accounts",
        """WITH acc AS (
               SELECT a.id, a.balance, a.last_seq
               FROM points_account a
               JOIN residents_resident r ON r.id = a.resident_id
               JOIN residents_household h ON h.id = r.household_id
               JOIN grids_grid g ON g.id = h.grid_id
               JOIN points_policy p ON p.community_id = g.community_id
               WHERE p.expire_after_quarters = %(quarters)s
           ), recent AS (
               SELECT e.account_id, SUM(e.amount) AS earned
               FROM points_entry e
               WHERE e.period_id = ANY(%(recent)s) AND e.amount > 0
               GROUP BY e.account_id
           ), ins AS (
               INSERT INTO points_entry (account_id, seq, amount, kind, period_id,
                                         balance_after, source_type, source_id, key, note,
                                         created_by_id, created_at)
               SELECT acc.id, acc.last_seq + 1, -(acc.balance - COALESCE(recent.earned, 0)),
                      'expiry', %(period)s, COALESCE(recent.earned, 0), 'period', %(period)s,
                      %(key)s, '', NULL, now()
               FROM acc LEFT JOIN recent ON recent.account_id = acc.id
               WHERE acc.balance - COALESCE(recent.earned, 0) > 0
               RETURNING account_id, seq, balance_after
           )
           UPDATE points_account a SET balance = ins.balance_after, last_seq = ins.seq
           FROM ins WHERE a.id = ins.account_id""",
    ),
    (
        "notice lines",
        """INSERT INTO points_noticeline (period_id, grid_id, resident_id, masked_name, earned,
                                          balance)
           SELECT %(period)s, h.grid_id, r.id,
                  CASE WHEN char_length(btrim(r.name)) <= 1 THEN btrim(r.name)
                       WHEN char_length(btrim(r.name)) = 2 THEN left(btrim(r.name), 1) || '*'
                       ELSE left(btrim(r.name), 1)
                            || repeat('*', char_length(btrim(r.name)) - 2)
                            || right(btrim(r.name), 1) END,
                  COALESCE(e.earned, 0), COALESCE(a.balance, 0)
           FROM residents_resident r
           JOIN residents_household h ON h.id = r.household_id
           JOIN grids_grid g ON g.id = h.grid_id
           LEFT JOIN points_account a ON a.resident_id = r.id
           LEFT JOIN (SELECT e.account_id, SUM(e.amount) AS earned
                      FROM points_entry e LEFT JOIN points_entry rv ON rv.id = e.reverses_id
                      WHERE e.period_id = %(period)s
                        AND (e.kind IN ('award', 'deduction', 'adjustment')
                             OR (e.kind = 'reversal'
                                 AND rv.kind IN ('award', 'deduction', 'adjustment')))
                      GROUP BY e.account_id) e ON e.account_id = a.id
           WHERE g.community_id IN (SELECT community_id FROM closing_communities)""",
    ),
    (
        "markers, close done, quarter closed",
        """WITH m AS (
               INSERT INTO points_closedcommunity (closing_id, community_id, closed_at)
               SELECT %(closing)s, community_id, now() FROM closing_communities
               RETURNING 1
           ), c AS (
               UPDATE points_closing SET status = 'done', finished_at = now(),
                      communities_done = (SELECT COUNT(*) FROM m)
               WHERE id = %(closing)s RETURNING 1
           )
           UPDATE points_period SET status = 'closed' WHERE id = %(period)s""",
    ),
]


def run_floor() -> dict[str, Any]:
    from django.db import connection, transaction

    from points.models import Closing
    from points.services.close import _recent_period_ids, communities_to_close

    period_id = prepare_closing()
    period = closed_period()
    closing = Closing.objects.get(period_id=period_id)
    params = {
        "period": period_id,
        "closing": closing.pk,
        "quarters": EXPIRE_AFTER,
        "recent": _recent_period_ids(period, EXPIRE_AFTER),
        "key": f"expiry:{period.code}",
    }
    steps: dict[str, float] = {}
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cur:
        t = time.perf_counter()
        # The communities the close goes through (the same query as the service's).
        sql, sql_params = communities_to_close(period).values("id").query.sql_with_params()
        cur.execute(
            f"CREATE TEMP TABLE closing_communities ON COMMIT DROP AS "
            f"SELECT id AS community_id FROM ({sql}) c",
            sql_params,
        )
        steps["communities to close"] = time.perf_counter() - t
        for name, statement in FLOOR:
            t = time.perf_counter()
            cur.execute(statement, params)
            steps[name] = time.perf_counter() - t
        committing = time.perf_counter()
    done = time.perf_counter()
    steps["COMMIT"] = done - committing
    return {"seconds": done - started, "steps": steps}


def outcome() -> dict[str, Any]:
    from django.db import connection

    period = closed_period()
    with connection.cursor() as cur:
        out: dict[str, Any] = {}
        for name, sql in (
            (
                "purchase lines",
                "SELECT COUNT(*), SUM(quantity), SUM(points_total) "
                "FROM points_purchaseline WHERE period_id = %s",
            ),
            (
                "distribution lines",
                "SELECT COUNT(*), SUM(total_points), "
                "SUM(length(items)) FROM points_distributionline WHERE period_id = %s",
            ),
            (
                "expiry entries",
                "SELECT COUNT(*), SUM(amount), SUM(balance_after) "
                "FROM points_entry WHERE kind = 'expiry' AND period_id = %s",
            ),
            (
                "notice lines",
                "SELECT COUNT(*), SUM(earned), SUM(balance) "
                "FROM points_noticeline WHERE period_id = %s",
            ),
            (
                "frozen orders",
                "SELECT COUNT(*), SUM(total_points), 0 FROM points_order "
                "WHERE period_id = %s AND status = 'frozen'",
            ),
        ):
            cur.execute(sql, [period.pk])
            out[name] = tuple(int(v or 0) for v in cur.fetchone())
        cur.execute("SELECT SUM(balance), SUM(last_seq) FROM points_account")
        out["accounts (sum balance, sum last_seq)"] = tuple(int(v) for v in cur.fetchone())
        cur.execute("SELECT status FROM points_period WHERE id = %s", [period.pk])
        out["quarter status"] = cur.fetchone()[0]
    return out


# ============================================================================ main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="gp_bench_close")
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432/")
    parser.add_argument("--rebuild", action="store_true", help="drop and rebuild the database")
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--entries", type=int, default=10_000_000)
    parser.add_argument("--orders", type=int, default=300_000)
    parser.add_argument("--rounds", type=int, default=1, help="timed runs per variant")
    args = parser.parse_args()
    if not args.server.endswith("/"):
        args.server += "/"

    os.environ["DATABASE_URL"] = args.server + args.database
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection

    ensure_built(args)
    variants = {"service": run_service, "floor": run_floor}
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in variants}
    results: dict[str, dict[str, Any]] = {}
    for i in range(args.rounds):
        order = list(variants) if i % 2 == 0 else list(variants)[::-1]
        for name in order:
            log(f"round {i + 1}: {name} …")
            fresh_copy(args)
            run = variants[name]()
            results[name] = outcome()
            runs[name].append(run)
            log(f"  round {i + 1}: {name:<8}{run['seconds']:9.2f} s")
    with connection.cursor() as cur:
        cur.execute("SHOW server_version")
        version = cur.fetchone()[0]
        cur.execute("SELECT COUNT(*) FROM points_entry")
        entries = cur.fetchone()[0]
        cur.execute("SELECT COUNT(*) FROM points_order")
        orders = cur.fetchone()[0]
        cur.execute("SELECT COUNT(*) FROM residents_resident")
        residents = cur.fetchone()[0]
        cur.execute("SELECT COUNT(*) FROM grids_community")
        communities = cur.fetchone()[0]
    connection.close()
    drop_database(args.server, RUN_DB)

    med = {name: statistics.median(r["seconds"] for r in runs[name]) for name in variants}
    ratio = med["service"] / med["floor"]
    ok = ratio <= GOAL
    same = results["service"] == results["floor"]
    print()
    print(
        f"Close of {CLOSED_CODE}, PostgreSQL {version}, template {args.database}: "
        f"{residents:,} residents in {communities} communities, {orders:,} orders, "
        f"{entries:,} entries after the last close (rounds: {args.rounds})"
    )
    print(
        f"  points.services.close_period   {med['service']:9.2f} s"
        f"   runs {', '.join(format(r['seconds'], '.2f') for r in runs['service'])}"
    )
    print(
        f"  raw-SQL floor (1 transaction)  {med['floor']:9.2f} s"
        f"   runs {', '.join(format(r['seconds'], '.2f') for r in runs['floor'])}"
    )
    print(f"  ratio service / floor: {ratio:.2f}  (goal <= {GOAL}: {'PASS' if ok else 'FAIL'})")
    for name in variants:
        print(f"  {name} steps (last run, seconds):")
        for step, seconds in runs[name][-1]["steps"].items():
            print(f"    {seconds:9.2f}  {step}")
    print("  results (count, sums)            service                      floor")
    for key in results["service"]:
        s, f = results["service"][key], results["floor"][key]
        print(f"    {key:<38} {s!s:<28} {f!s:<28}{'' if s == f else '  DIFFER'}")
    print(f"  same results: {'yes' if same else 'NO'}")
    sys.exit(0 if ok and same else 1)


if __name__ == "__main__":
    main()
