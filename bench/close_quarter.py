#!/usr/bin/env python
"""The close of a quarter at scale (issue 4, item 8): service against a raw-SQL floor.

Over 600 lines on purpose: a self-contained benchmark script (setup, runs and report in one
file), run on its own and imported by nothing.

The district: 1,000,000 residents (demo.scale.build_scale, street code "benchclose"), an
account for each, 10,000,000 ledger entries over the last four quarters (2025Q4 … 2026Q3,
awards with every seventh entry a deduction, and the redemption entries of the orders; honour
points with them: an award or deduction adds its amount, a redemption nothing), the seven
catalog items of the demo in every community, a redemption window of 2026Q3 that has ended,
300,000 placed orders of 2026Q3 with one to three lines each (each debited by a redemption
entry, part of the 10,000,000, on the account the order names), and a policy expiring points
after two quarters in every other community (the even ones, so expiry runs). Built set-based
(COPY and INSERT … SELECT with window functions for seq, balance_after and honour_after),
checked by points.services.ledger.verify_ledger, then VACUUM ANALYZE; kept in `gp_bench_close`
and reused (`--rebuild` starts over).

`--households` (issue 15): the same district, but the odd communities count points per
household (Policy.account_unit = household): one shared account per household (card number
household_card_number_for), its members' entries and their orders' debits on it, no resident
accounts there; the even ones keep resident accounts and the expiry policy. Kept in its own
database, `gp_bench_close_h`, so both builds can coexist. Its notice has one line per
household in those communities (on its head, or its member with the smallest id; the masked
name and 户; the household account's points earned in the quarter and its balance).

Each timed run gets its own identical copy: `CREATE DATABASE <database>_run TEMPLATE
<database> STRATEGY FILE_COPY`, a CHECKPOINT, then:

  - service: the period set to closing and the Closing created (what start_close does before
    queueing the job; not timed), then `points.services.close.close_period(period_id)` — the close
    job, every community in its own transaction — timed, commits included; each step inside
    close_community is timed too (the bench wraps the service's helpers with timers); the
    tasks it queues (each community's notifications, after its commit) go to an in-memory
    broker, as they would go to Redis, and are not run;
  - floor: the same work as plain SQL in one transaction: freeze the orders; INSERT … SELECT
    the purchase lines; INSERT … SELECT the distribution lines (string_agg for the items
    text); INSERT … SELECT the expiry entries and UPDATE their accounts; INSERT … SELECT the
    notice lines (earned per account, masked names; per resident, and with --households per
    household in the communities that count so); the closed-community markers, the close
    done and the quarter closed. Timed, commit included.

The variants alternate over `--rounds` (default 1) and the medians are compared: goal service
/ floor <= 2.0 (exit status 1 otherwise). Both must produce the same row counts (purchase
lines, distribution lines, expiry entries, notice lines) and the same sums (the notice's
masked names by their total length); they are printed, with verify_ledger on the last run of
each.

Usage (from the project root; needs a PostgreSQL server; not part of the test suite):

    .venv/bin/python bench/close_quarter.py
    .venv/bin/python bench/close_quarter.py --residents 100000 --entries 1000000 \\
        --orders 30000 --database gp_bench_close_small            # a quick run
    .venv/bin/python bench/close_quarter.py --households         # household accounts
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
DATABASE = "gp_bench_close"
DATABASE_HOUSEHOLDS = "gp_bench_close_h"


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
        # The even communities expire points after two quarters; with --households the odd
        # ones count points per household (以户为单位).
        Policy.objects.bulk_create(
            Policy(
                community=c,
                expire_after_quarters=EXPIRE_AFTER if i % 2 == 0 else None,
                account_unit=Policy.AccountUnit.HOUSEHOLD
                if args.households and i % 2 == 1
                else Policy.AccountUnit.RESIDENT,
            )
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
                SELECT r.id, r.household_id, p.account_unit = 'household'
                FROM residents_resident r
                JOIN residents_household h ON h.id = r.household_id
                JOIN grids_grid g ON g.id = h.grid_id
                JOIN grids_community c ON c.id = g.community_id
                JOIN points_policy p ON p.community_id = c.id
                WHERE c.street_id = %s ORDER BY r.id
                """,
                [street.pk],
            )
            rows = cur.fetchall()
            # A resident's own account where the community counts per resident; one shared
            # account per household (with residents) where it counts per household.
            shared = sorted({hid for _rid, hid, per_household in rows if per_household})
            with cur.cursor.copy(
                "COPY points_account (resident_id, household_id, shared_household_id, "
                "card_number, balance, honour, last_seq) FROM STDIN"
            ) as copy:
                for rid, hid, per_household in rows:
                    if not per_household:
                        copy.write_row(
                            (rid, hid, None, ledger_services.card_number_for(rid), 0, 0, 0)
                        )
                for hid in shared:
                    copy.write_row(
                        (None, hid, hid, ledger_services.household_card_number_for(hid), 0, 0, 0)
                    )
            log(
                f"  {len(rows) - sum(1 for r in rows if r[2]):,} resident accounts, "
                f"{len(shared):,} household accounts"
            )
            log("orders …")
            # Order o goes to the resident of rank o * R / O (one order each), with 1 + o % 3
            # lines: items (o + 2j) % 7, quantity 1 + (o + j) % 2; it debits the account the
            # resident's points post to (their own, or their household's).
            cur.execute(
                """
                CREATE TEMP TABLE bench_res AS
                SELECT r.id AS resident_id, COALESCE(own.id, hh.id) AS account_id,
                       g.community_id, ROW_NUMBER() OVER (ORDER BY r.id) - 1 AS rn
                FROM residents_resident r
                JOIN residents_household h ON h.id = r.household_id
                JOIN grids_grid g ON g.id = h.grid_id
                JOIN grids_community c ON c.id = g.community_id
                LEFT JOIN points_account own ON own.resident_id = r.id
                LEFT JOIN points_account hh ON hh.shared_household_id = r.household_id
                WHERE c.street_id = %s
                """,
                [street.pk],
            )
            cur.execute("CREATE INDEX ON bench_res (rn)")
            cur.execute("SELECT COUNT(*) FROM bench_res WHERE account_id IS NULL")
            assert cur.fetchone()[0] == 0, "a resident without an account"
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
                {"orders": args.orders, "residents": len(rows)},
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
                INSERT INTO points_order (id, resident_id, account_id, community_id, period_id,
                                          status, total_points, placed_by_id, placed_at)
                SELECT id, resident_id, account_id, community_id, %s, 'placed', total, %s,
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
            # Non-redemption entries: E - O spread over the residents (n or n + 1 each), entry
            # s of n in quarter (s - 1) * 4 / n; every seventh a deduction, the rest awards;
            # each on the resident's posting account. Per account in time order (quarter,
            # then entry number, then resident: a household's members' entries interleave),
            # the redemptions of the orders last; honour: awards and deductions their amount,
            # redemptions 0.
            n_other = args.entries - args.orders
            base, extra = divmod(n_other, len(rows))
            cur.execute(
                """
                INSERT INTO points_entry (account_id, seq, amount, kind, period_id,
                                          balance_after, honour, honour_after,
                                          source_type, source_id, key, note,
                                          created_by_id, created_at)
                SELECT account_id,
                       ROW_NUMBER() OVER w, amount, kind, (%(periods)s::bigint[])[1 + q],
                       SUM(amount) OVER w, honour, SUM(honour) OVER w,
                       source_type, source_id, key, '', NULL, now()
                FROM (
                    SELECT y.*, CASE WHEN y.kind = 'redemption' THEN 0 ELSE y.amount END
                                    AS honour
                    FROM (
                        SELECT br.account_id, br.resident_id, s.s AS ord,
                               CASE WHEN (br.resident_id + s.s) %% 7 = 0
                                    THEN -(1 + (br.resident_id + s.s) %% 5)
                                    ELSE 5 + (br.resident_id * 7 + s.s * 13) %% 26 END
                                   AS amount,
                               CASE WHEN (br.resident_id + s.s) %% 7 = 0
                                    THEN 'deduction' ELSE 'award' END AS kind,
                               (s.s - 1) * 4 / (%(base)s + (br.rn < %(extra)s)::int) AS q,
                               '' AS source_type, NULL::bigint AS source_id,
                               'bench:' || br.resident_id || ':' || s.s AS key
                        FROM bench_res br
                        CROSS JOIN LATERAL
                            generate_series(1, %(base)s + (br.rn < %(extra)s)::int) AS s(s)
                        UNION ALL
                        SELECT bo.account_id, bo.resident_id, 1000000 + bo.o, -bo.total,
                               'redemption', 3, 'order', bo.id, 'order:' || bo.id
                        FROM bench_orders bo
                    ) y
                ) x
                WINDOW w AS (PARTITION BY account_id ORDER BY q, ord, resident_id
                             ROWS UNBOUNDED PRECEDING)
                """,
                {
                    "periods": [periods[c].pk for c in QUARTERS],
                    "base": base,
                    "extra": extra,
                },
            )
            log(f"  {cur.rowcount:,} entries")
            cur.execute(
                """
                UPDATE points_account a
                SET balance = s.balance, honour = s.honour, last_seq = s.n
                FROM (SELECT account_id, SUM(amount) AS balance, SUM(honour) AS honour,
                             COUNT(*) AS n
                      FROM points_entry GROUP BY account_id) s
                WHERE a.id = s.account_id
                """
            )
        # In the build's transaction: a ledger that does not verify is not kept.
        check_ledger("the build")
    with connection.cursor() as cur:
        log("VACUUM ANALYZE …")
        cur.execute("VACUUM ANALYZE")
    log(f"built in {time.perf_counter() - started:.0f} s")


def check_ledger(what: str, *, fatal: bool = True) -> int:
    """verify_ledger over the whole database (balances, honour, chains, units); exits on a
    problem when `fatal`. The number of problems found (at most verify_ledger's limit)."""
    from points.services.ledger import verify_ledger

    started = time.perf_counter()
    report = verify_ledger()
    log(
        f"  verify_ledger after {what}: {'ok' if report.ok else 'PROBLEMS'} "
        f"({report.accounts:,} accounts, {report.entries:,} entries, "
        f"{time.perf_counter() - started:.1f} s)"
    )
    if not report.ok:
        for problem in report.problems[:10]:
            log(f"    {problem}")
        if fatal:
            raise SystemExit(f"verify_ledger failed after {what}")
    return len(report.problems)


def ensure_built(args: argparse.Namespace) -> None:
    import psycopg

    if args.rebuild:
        drop_database(args.server, args.database)
    if database_exists(args.server, args.database):
        # Built completely? (the marker: the accounts' last_seq set) And for this mode?
        with psycopg.connect(args.server + args.database) as conn:
            try:
                row = conn.execute(
                    "SELECT (SELECT COUNT(*) FROM points_account WHERE last_seq > 0) > 0, "
                    "(SELECT COUNT(*) FROM residents_resident), "
                    "EXISTS (SELECT 1 FROM points_policy WHERE account_unit = 'household')"
                ).fetchone()
                ok, residents, per_household = row or (False, 0, False)
            except psycopg.Error:
                ok = per_household = False
                residents = 0
        if ok:
            if residents != args.residents:
                raise SystemExit(
                    f"[{args.database}] holds {residents:,} residents, not {args.residents:,}: "
                    "use another --database, or --rebuild"
                )
            if per_household != args.households:
                raise SystemExit(
                    f"[{args.database}] was built {'with' if per_household else 'without'} "
                    "--households: use another --database, or --rebuild"
                )
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
    drop_database(args.server, run_database(args))
    started = time.perf_counter()
    with admin(args.server) as conn:
        conn.execute(
            f'CREATE DATABASE "{run_database(args)}" TEMPLATE "{args.database}" STRATEGY FILE_COPY'
        )
        conn.execute("CHECKPOINT")
    log(f"  fresh copy in {time.perf_counter() - started:.1f} s")
    use_database(run_database(args))


def run_database(args: argparse.Namespace) -> str:
    """The copy a timed run works on (one per template, so two builds can be run at once)."""
    return f"{args.database}_run"


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
            if hasattr(close_services, name):  # the helpers of the day
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
               SELECT a.id, a.balance, a.honour, a.last_seq
               FROM points_account a
               JOIN residents_household h ON h.id = a.household_id
               JOIN grids_grid g ON g.id = h.grid_id
               JOIN points_policy p ON p.community_id = g.community_id
               WHERE p.expire_after_quarters = %(quarters)s
           ), recent AS (
               SELECT e.account_id, SUM(e.amount) AS earned
               FROM points_entry e
               WHERE e.period_id = ANY(%(recent)s) AND e.amount > 0 AND e.kind <> 'transfer'
               GROUP BY e.account_id
           ), ins AS (
               INSERT INTO points_entry (account_id, seq, amount, kind, period_id,
                                         balance_after, honour, honour_after,
                                         source_type, source_id, key, note,
                                         created_by_id, created_at)
               SELECT acc.id, acc.last_seq + 1, -(acc.balance - COALESCE(recent.earned, 0)),
                      'expiry', %(period)s, COALESCE(recent.earned, 0), 0, acc.honour,
                      'period', %(period)s, %(key)s, '', NULL, now()
               FROM acc LEFT JOIN recent ON recent.account_id = acc.id
               WHERE acc.balance - COALESCE(recent.earned, 0) > 0
               RETURNING account_id, seq, balance_after
           )
           UPDATE points_account a SET balance = ins.balance_after, last_seq = ins.seq
           FROM ins WHERE a.id = ins.account_id""",
    ),
    (
        # One line per resident where the community counts per resident; one per household
        # (on its head, else its member with the smallest id; its shared account; the masked
        # name with 户) where it counts per household. Earned per account, computed once.
        "notice lines",
        """WITH earned AS (
               SELECT e.account_id, SUM(e.amount) AS earned
               FROM points_entry e LEFT JOIN points_entry rv ON rv.id = e.reverses_id
               WHERE e.period_id = %(period)s
                 AND (e.kind IN ('award', 'deduction', 'adjustment')
                      OR (e.kind = 'reversal'
                          AND rv.kind IN ('award', 'deduction', 'adjustment')))
               GROUP BY e.account_id
           ), people AS (
               SELECT h.grid_id, r.id, btrim(r.name) AS name, NULL::text AS before,
                      NULL::text AS after,
                      a.id AS account_id, a.balance
               FROM residents_resident r
               JOIN residents_household h ON h.id = r.household_id
               JOIN grids_grid g ON g.id = h.grid_id
               LEFT JOIN points_policy p ON p.community_id = g.community_id
               LEFT JOIN points_account a ON a.resident_id = r.id
               WHERE g.community_id IN (SELECT community_id FROM closing_communities)
                 AND COALESCE(p.account_unit, 'resident') = 'resident'
           ), heads AS (
               SELECT DISTINCT ON (r.household_id) r.household_id, h.grid_id, r.id,
                      btrim(r.name) AS name
               FROM residents_resident r
               JOIN residents_household h ON h.id = r.household_id
               JOIN grids_grid g ON g.id = h.grid_id
               JOIN points_policy p ON p.community_id = g.community_id
               WHERE g.community_id IN (SELECT community_id FROM closing_communities)
                 AND p.account_unit = 'household'
               ORDER BY r.household_id, (r.id = h.head_id) IS TRUE DESC, r.id
           ), household_earned AS (
               -- A household earns what every account of it earned: its shared account and
               -- its members' own from before a switch of unit (none in this district).
               SELECT ha.household_id, SUM(e.earned) AS earned
               FROM heads x
               JOIN points_account ha ON ha.household_id = x.household_id
               JOIN earned e ON e.account_id = ha.id
               GROUP BY ha.household_id
           ), rows AS (
               SELECT p.grid_id, p.id, p.name, p.before, p.after, e.earned, p.balance
               FROM people p LEFT JOIN earned e ON e.account_id = p.account_id
               UNION ALL
               SELECT x.grid_id, x.id, x.name, %(label_before)s, %(label_after)s, he.earned,
                      a.balance
               FROM heads x
               LEFT JOIN household_earned he ON he.household_id = x.household_id
               LEFT JOIN points_account a ON a.shared_household_id = x.household_id
           )
           INSERT INTO points_noticeline (period_id, grid_id, resident_id, masked_name, earned,
                                          balance)
           SELECT %(period)s, x.grid_id, x.id,
                  COALESCE(x.before, '')
                  || CASE WHEN char_length(x.name) <= 1 THEN x.name
                          WHEN char_length(x.name) = 2 THEN left(x.name, 1) || '*'
                          ELSE left(x.name, 1) || repeat('*', char_length(x.name) - 2)
                               || right(x.name, 1) END
                  || COALESCE(x.after, ''),
                  COALESCE(x.earned, 0), COALESCE(x.balance, 0)
           FROM rows x""",
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
    from points.selectors.claims import household_label_affixes
    from points.services.close import _recent_period_ids, communities_to_close

    period_id = prepare_closing()
    period = closed_period()
    closing = Closing.objects.get(period_id=period_id)
    label = household_label_affixes()
    params: dict[str, Any] = {
        "period": period_id,
        "closing": closing.pk,
        "quarters": EXPIRE_AFTER,
        "recent": _recent_period_ids(period, EXPIRE_AFTER),
        "key": f"expiry:{period.code}",
        # What the notice puts around a household's masked name (赵*名户), as the service
        # words it.
        "label_before": label[0],
        "label_after": label[1],
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


def outcome(verify: bool = False) -> dict[str, Any]:
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
                "SELECT COUNT(*), SUM(amount), SUM(balance_after), SUM(honour_after) "
                "FROM points_entry WHERE kind = 'expiry' AND period_id = %s",
            ),
            (
                "notice lines (count, earned, balance, name length)",
                "SELECT COUNT(*), SUM(earned), SUM(balance), SUM(char_length(masked_name)) "
                "FROM points_noticeline WHERE period_id = %s",
            ),
            (
                "notice lines of households",
                "SELECT COUNT(*), SUM(n.earned), SUM(n.balance) FROM points_noticeline n "
                "JOIN grids_grid g ON g.id = n.grid_id "
                "JOIN points_policy p ON p.community_id = g.community_id "
                "WHERE n.period_id = %s AND p.account_unit = 'household'",
            ),
            (
                "frozen orders (count, points, on an account)",
                "SELECT COUNT(*), SUM(total_points), COUNT(account_id) FROM points_order "
                "WHERE period_id = %s AND status = 'frozen'",
            ),
        ):
            cur.execute(sql, [period.pk])
            out[name] = tuple(int(v or 0) for v in cur.fetchone())
        cur.execute(
            "SELECT SUM(balance), SUM(honour), SUM(last_seq), COUNT(shared_household_id) "
            "FROM points_account"
        )
        out["accounts (balance, honour, seq, shared)"] = tuple(int(v) for v in cur.fetchone())
        cur.execute("SELECT status FROM points_period WHERE id = %s", [period.pk])
        out["quarter status"] = cur.fetchone()[0]
    if verify:
        out["verify_ledger problems"] = check_ledger("the close", fatal=False)
    return out


# ============================================================================ main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database",
        help=f"the template database (default {DATABASE}; with --households {DATABASE_HOUSEHOLDS})",
    )
    parser.add_argument(
        "--households",
        action="store_true",
        help="the odd communities count points per household (Policy.account_unit)",
    )
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432/")
    parser.add_argument("--rebuild", action="store_true", help="drop and rebuild the database")
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--entries", type=int, default=10_000_000)
    parser.add_argument("--orders", type=int, default=300_000)
    parser.add_argument("--rounds", type=int, default=1, help="timed runs per variant")
    args = parser.parse_args()
    if not args.server.endswith("/"):
        args.server += "/"
    if args.database is None:
        args.database = DATABASE_HOUSEHOLDS if args.households else DATABASE

    os.environ["DATABASE_URL"] = args.server + args.database
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    # Tasks are queued, not run in-process: the close queues the notifications of each
    # community after its commit (notifications.hooks.community_closed_later), which a worker
    # sends later; with no broker configured they would run eagerly inside the timed close.
    # An in-memory broker takes the messages as Redis would (the publish is timed).
    os.environ["CELERY_BROKER_URL"] = "memory://"
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
            results[name] = outcome(verify=i == args.rounds - 1)
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
        cur.execute(
            "SELECT COUNT(*), COALESCE(SUM((SELECT COUNT(*) FROM residents_household h "
            "JOIN grids_grid g ON g.id = h.grid_id WHERE g.community_id = p.community_id)), 0) "
            "FROM points_policy p WHERE p.account_unit = 'household'"
        )
        per_household, households = cur.fetchone()
    connection.close()
    drop_database(args.server, run_database(args))

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
        f"  accounts: per household in {per_household} of {communities} communities "
        f"({households:,} households), per resident in the others"
        if per_household
        else "  accounts: per resident in every community"
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
    print(f"  {'results (count, sums)':<52} {'service':<36} floor")
    for key in results["service"]:
        s, f = results["service"][key], results["floor"][key]
        line = f"    {key:<50} {s!s:<36} {f!s:<36}{'' if s == f else '  DIFFER'}"
        print(line.rstrip())
    print(f"  same results: {'yes' if same else 'NO'}")
    sys.exit(0 if ok and same else 1)


if __name__ == "__main__":
    main()
