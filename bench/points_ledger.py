#!/usr/bin/env python
"""The points ledger at scale (design §10): bulk approval is set-based, a balance read is flat.

Over 600 lines on purpose: a self-contained benchmark script (setup, runs and report in one
file), run on its own and imported by nothing.

1. Bulk approval. `points.services.claims.bulk_approve_claims` approves 100,000 submitted claims of
   50,000 residents (two per resident; every fifth claim a deduction of 1, the rest awards of
   2), and
   is timed against a raw-SQL floor of the same ledger work on an identical fresh state, in the
   same run: one INSERT … SELECT of the entries (each account's seq, balance_after and
   honour_after computed by window functions) and one UPDATE of the balances and honour
   points. The claims name their accounts, as submit_claim leaves them. The goal is service /
   floor <= 2.0.
   For information the floor is also timed with a third statement, the UPDATE that marks the
   claims approved, which the service must do too and the two-statement floor leaves out.

   State for every timed run: entries and claims truncated, every account back to balance 0
   and last_seq 0, 100,000 fresh submitted claims inserted with one INSERT … SELECT, then
   VACUUM ANALYZE of the three tables (so no run pays for the previous one's dead rows) and a
   CHECKPOINT (so every run pays the same full-page writes and none meets a checkpoint). The
   variants alternate (service, floor, floor+claims; then the next round in another order), and
   each time printed is the median of `--rounds` runs. Each run is one transaction, commit
   included (and also printed alone). The service's time is broken down per SQL statement (an
   execute wrapper times each one); `--explain` prints EXPLAIN (ANALYZE, BUFFERS) of every
   statement of one more service run, rolled back.

2. Balance read. A ledger of ten entries per account (500,000), but for two residents with a
   login: one account with 10 entries, one with 10,000 (by default all in the current quarter,
   the worst case for anything that reads the quarter; `--quarters N` spreads them over the
   last N). Timed alternately (small, large, large, small, …), median of `--reads` reads
   after `--warmup` untimed ones (a fifth of each for the HTTP paths):
     - the ORM read the API's me/ makes for the balance:
       `Account.objects.filter(resident=…).first().balance` (one row, by the unique index on
       resident_id);
     - `GET /api/v1/point-accounts/<id>/` by the resident (token authentication, full stack);
     - `GET /api/v1/me/` by the resident (full stack; besides the balance it sums the points
       earned this quarter: points.selectors.ledger.earned).
   The goal is large / small <= 1.2 for every path.

Data: the PostgreSQL database `gp_bench_points` (`--database`), created, migrated and given
50,000 residents by demo.scale.build_scale (street code "benchpts") on first use, then reused;
`--rebuild` drops it first. Claims and entries are rebuilt by every run.

Usage (from the project root; needs a PostgreSQL server; not part of the test suite):

    .venv/bin/python bench/points_ledger.py
    .venv/bin/python bench/points_ledger.py --rounds 5 --reads 3000
    .venv/bin/python bench/points_ledger.py --rebuild        # drop and rebuild the database
    .venv/bin/python bench/points_ledger.py --explain        # EXPLAIN ANALYZE the service
    .venv/bin/python bench/points_ledger.py --reads-only --quarters 40
    .venv/bin/python bench/points_ledger.py --server postgres://user:pw@host:5432/

Settings: config.settings.test (DEBUG off) with DATABASE_URL pointing at the database.
Exit status 0 when every ratio is within its goal, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
STREET_CODE = "benchpts"
BULK_GOAL = 2.0
READ_GOAL = 1.2
APPROVER = "bench-approver"
READERS = {"small": ("bench-reader-small", 10), "large": ("bench-reader-large", 10_000)}


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


# ============================================================================ the district


def build(args: argparse.Namespace) -> dict[str, Any]:
    """Residents (reused if present), accounts, two rules per community, the approver and the
    submitter. Returns what the measurements need."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connection, transaction

    from demo.scale import build_scale
    from grids.models import CommitteeMember, Community, GridWorker, Street
    from points.models import Rule
    from points.services import ledger as ledger_services
    from residents.models import Resident

    call_command("migrate", verbosity=0)
    street = Street.objects.filter(code=STREET_CODE).first()
    if street is None:
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
    residents = Resident.objects.filter(household__grid__community__street=street)
    have = residents.count()
    if have != args.residents:
        raise SystemExit(
            f"the database holds {have:,} bench residents, not {args.residents:,}: "
            "run with --rebuild"
        )
    User = get_user_model()
    with transaction.atomic():
        ledger_services.ensure_accounts(residents)
        communities = list(Community.objects.filter(street=street))
        for community in communities:
            Rule.objects.get_or_create(
                community=community,
                code="bench-award",
                defaults={"name": "打扫责任区", "category": "reward", "points": 2},
            )
            Rule.objects.get_or_create(
                community=community,
                code="bench-deduct",
                defaults={"name": "违反村规", "category": "deduction", "points": 1},
            )
        approver, _ = User.objects.get_or_create(username=APPROVER)
        approver.groups.add(Group.objects.get(name="committee"))
        for community in communities:
            CommitteeMember.objects.get_or_create(user=approver, community=community)
        submitter = GridWorker.objects.filter(community__street=street).order_by("id")[0].user
        readers = {}
        for size, (username, _n) in READERS.items():
            reader, _ = User.objects.get_or_create(username=username)
            reader.groups.add(Group.objects.get(name="resident"))
            resident = Resident.objects.filter(user=reader).first()
            if resident is None:
                resident = residents.filter(user__isnull=True).order_by("id")[0]
                resident.user = reader
                resident.save(update_fields=["user"])
            readers[size] = {"user": reader.pk, "resident": resident.pk}
        period = ledger_services.current_period()
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
    return {
        "street": street.pk,
        "approver": approver.pk,
        "submitter": submitter.pk,
        "period": period.pk,
        "residents": have,
        "readers": readers,
    }


def reset_ledger(ctx: dict[str, Any], claims: int) -> None:
    """No entries, no claims, every account at zero; then `claims` fresh submitted claims."""
    from django.db import connection

    with connection.cursor() as cur:
        # TRUNCATE is not a row operation: the append-only trigger lets it through. CASCADE:
        # needs reference claims (the bench database has none, but the foreign key is there).
        cur.execute("TRUNCATE points_entry, points_claim, points_objection CASCADE")
        cur.execute(
            "UPDATE points_account SET balance = 0, honour = 0, last_seq = 0 "
            "WHERE balance <> 0 OR honour <> 0 OR last_seq <> 0"
        )
        # Claim g goes to resident g mod R; every fifth claim is a deduction (-1), the rest
        # awards (+2); each under its community's rule, naming the account it posts to (the
        # resident's: submit_claim sets it, issue 15).
        cur.execute(
            """
            WITH r AS (
                SELECT res.id, a.id AS account_id, g.community_id,
                       ROW_NUMBER() OVER (ORDER BY res.id) - 1 AS rn
                FROM residents_resident res
                JOIN residents_household h ON h.id = res.household_id
                JOIN grids_grid g ON g.id = h.grid_id
                JOIN grids_community c ON c.id = g.community_id
                JOIN points_account a ON a.resident_id = res.id
                WHERE c.street_id = %(street)s
            )
            INSERT INTO points_claim (resident_id, account_id, rule_id, points, occurred_on,
                                      period_id, note, status, likely_duplicate,
                                      submitted_by_id, submitted_at, reject_reason)
            SELECT r.id, r.account_id, rule.id, rule.points, CURRENT_DATE, %(period)s, '',
                   'submitted', FALSE, %(submitter)s, now(), ''
            FROM generate_series(0, %(claims)s - 1) AS s(g)
            JOIN r ON r.rn = s.g %% %(residents)s
            JOIN points_rule rule ON rule.community_id = r.community_id
                 AND rule.code = CASE WHEN s.g %% 5 = 4 THEN 'bench-deduct' ELSE 'bench-award' END
            ORDER BY s.g
            """,
            {**ctx, "claims": claims},
        )
        assert cur.rowcount == claims, cur.rowcount
        cur.execute("VACUUM ANALYZE points_account, points_claim, points_entry")
        # Every timed run starts right after a checkpoint, so each pays the same full-page
        # writes and none meets a checkpoint half-way.
        cur.execute("CHECKPOINT")


# ============================================================================ bulk approval


# Honour points (issue 15) move with awards and deductions: honour = amount, honour_after the
# running honour, as the service posts them.
FLOOR_ENTRIES = """
INSERT INTO points_entry (account_id, seq, amount, kind, period_id, balance_after,
                          honour, honour_after,
                          source_type, source_id, key, note, created_by_id, created_at)
SELECT a.id,
       a.last_seq + ROW_NUMBER() OVER w,
       c.signed,
       CASE WHEN c.signed > 0 THEN 'award' ELSE 'deduction' END,
       %(period)s,
       a.balance + SUM(c.signed) OVER w,
       c.signed,
       a.honour + SUM(c.signed) OVER w,
       'claim', c.id, 'claim:' || c.id, '', %(approver)s, now()
FROM (SELECT cl.id, cl.account_id,
             CASE WHEN r.category = 'deduction' THEN -cl.points ELSE cl.points END AS signed
      FROM points_claim cl JOIN points_rule r ON r.id = cl.rule_id
      WHERE cl.status = 'submitted') c
JOIN points_account a ON a.id = c.account_id
WINDOW w AS (PARTITION BY a.id ORDER BY c.id)
"""
FLOOR_BALANCES = """
UPDATE points_account a
SET balance = a.balance + s.total, honour = a.honour + s.total, last_seq = a.last_seq + s.n
FROM (SELECT cl.account_id,
             SUM(CASE WHEN r.category = 'deduction' THEN -cl.points ELSE cl.points END) AS total,
             COUNT(*) AS n
      FROM points_claim cl JOIN points_rule r ON r.id = cl.rule_id
      WHERE cl.status = 'submitted'
      GROUP BY cl.account_id) s
WHERE a.id = s.account_id
"""
FLOOR_CLAIMS = """
UPDATE points_claim SET status = 'approved', decided_by_id = %(approver)s, decided_at = now()
WHERE status = 'submitted'
"""


class StatementTimer:
    """A connection execute wrapper that times every statement."""

    def __init__(self) -> None:
        self.times: list[tuple[str, float]] = []

    def __call__(self, execute: Callable, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.times.append((sql, time.perf_counter() - started))


def label(sql: str) -> str:
    """A short name for one of the service's statements."""
    words = " ".join(sql.split())
    for needle, name in (
        ("WITH approved AS", "mark, lock, post and move balances (one statement, PostgreSQL)"),
        ("SAVEPOINT", "savepoint"),
        ("RELEASE SAVEPOINT", "release savepoint"),
        ('SELECT COUNT(*) AS "__count"', "count the claims"),
        ("UPDATE points_claim", "UPDATE the claims (lock in id order, mark approved)"),
        ('LEFT OUTER JOIN "points_account"', "find residents without an account"),
        ('INSERT INTO "points_account"', "open missing accounts"),
        ('FROM "points_period"', "current period"),
        ("INSERT INTO points_entry", "INSERT … SELECT the entries"),
        ('UPDATE "points_account"', "UPDATE the balances"),
    ):
        if words.startswith(needle) or needle in words[:200]:
            return name
    if words.startswith("SELECT") and ("grids_" in words or "residents_resident" in words):
        return "resolve the approver's scope"
    return words[:60]


def run_service(ctx: dict[str, Any], claims: int, explain: bool = False) -> dict[str, Any]:
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from points.models import Claim
    from points.services.claims import bulk_approve_claims

    approver = get_user_model().objects.get(pk=ctx["approver"])  # scope resolved inside
    timer = StatementTimer()
    with connection.execute_wrapper(timer):
        started = time.perf_counter()
        # The outer atomic only lets the commit be timed on its own (the service's own atomic
        # becomes a savepoint: two cheap statements more).
        with transaction.atomic():
            result = bulk_approve_claims(
                claims=Claim.objects.filter(status=Claim.Status.SUBMITTED), approver=approver
            )
            committing = time.perf_counter()
        elapsed = time.perf_counter() - started
    assert (result.decided, result.skipped) == (claims, 0), result
    statements = [(label(s), t) for s, t in timer.times]
    statements.append(("COMMIT", started + elapsed - committing))
    return {"seconds": elapsed, "statements": statements}


def run_floor(ctx: dict[str, Any], claims: int, with_claims: bool) -> dict[str, Any]:
    from django.db import connection, transaction

    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(FLOOR_ENTRIES, ctx)
        assert cur.rowcount == claims
        cur.execute(FLOOR_BALANCES, ctx)
        if with_claims:
            cur.execute(FLOOR_CLAIMS, ctx)
            assert cur.rowcount == claims
        committing = time.perf_counter()
    done = time.perf_counter()
    return {"seconds": done - started, "commit": done - committing}


def check_ledger(claims: int) -> None:
    from points.models import Entry
    from points.services.ledger import verify_ledger

    report = verify_ledger()
    assert report.ok, report.problems[:5]
    assert Entry.objects.count() == claims


def explain_service(ctx: dict[str, Any], claims: int) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) every statement of one service run, in order, in one
    transaction rolled back at the end."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from points.models import Claim
    from points.services.claims import bulk_approve_claims

    reset_ledger(ctx, claims)
    approver = get_user_model().objects.get(pk=ctx["approver"])
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        bulk_approve_claims(
            claims=Claim.objects.filter(status=Claim.Status.SUBMITTED), approver=approver
        )
        transaction.set_rollback(True)
    statements = [q["sql"] for q in queries.captured_queries]
    with transaction.atomic(), connection.cursor() as cur:
        for sql in statements:
            if not sql.lstrip().startswith(("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")):
                continue  # BEGIN, SAVEPOINT, RELEASE …
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            plan = "\n".join(row[0] for row in cur.fetchall())
            log(f"\n--- {label(sql)}\n{sql[:400]}\n{plan}")
        transaction.set_rollback(True)


def measure_bulk(ctx: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    variants: dict[str, Callable[[], dict[str, Any]]] = {
        "service": lambda: run_service(ctx, args.claims),
        "floor": lambda: run_floor(ctx, args.claims, with_claims=False),
        "floor+claims": lambda: run_floor(ctx, args.claims, with_claims=True),
    }
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in variants}
    names = list(variants)
    for i in range(args.rounds):
        order = names[i % len(names) :] + names[: i % len(names)]  # rotate who goes first
        for name in order:
            reset_ledger(ctx, args.claims)
            run = variants[name]()
            check_ledger(args.claims)
            runs[name].append(run)
            log(f"  round {i + 1}: {name:<13}{run['seconds']:8.3f} s")
    if args.explain:
        explain_service(ctx, args.claims)
    result: dict[str, Any] = {
        name: statistics.median(r["seconds"] for r in runs[name]) for name in variants
    }
    # The service's statements, each the median over the rounds.
    per_statement: dict[str, list[float]] = {}
    for run in runs["service"]:
        for name, seconds in run["statements"]:
            per_statement.setdefault(name, []).append(seconds)
    result["statements"] = {
        name: statistics.median(times) * len(times) / args.rounds
        for name, times in per_statement.items()
    }
    result["all"] = {name: [r["seconds"] for r in runs[name]] for name in variants}
    result["commit"] = {
        name: statistics.median(
            r["commit"] if "commit" in r else dict(r["statements"])["COMMIT"] for r in runs[name]
        )
        for name in variants
    }
    return result


# ============================================================================ balance reads


def prepare_readers(ctx: dict[str, Any], quarters: int) -> dict[str, int]:
    """A ledger of ten entries per account in the current quarter (500,000 for 50,000
    residents), but for the two readers: one account with 10 entries, one with 10,000 spread
    evenly over the last `quarters` quarters (1: all in the current one)."""
    import datetime as dt

    from django.db import connection
    from django.utils import timezone

    from points.models import Account
    from points.services import ledger as ledger_services

    day = timezone.localdate()
    periods = []
    for _ in range(quarters):
        period = ledger_services.period_for(day)
        periods.append(period.pk)
        day = period.starts_on - dt.timedelta(days=1)
    readers = {
        size: Account.objects.get(resident_id=ctx["readers"][size]["resident"]).pk
        for size in READERS
    }
    with connection.cursor() as cur:
        cur.execute("TRUNCATE points_entry, points_claim, points_objection CASCADE")
        cur.execute("UPDATE points_account SET balance = 0, honour = 0, last_seq = 0")
        # Awards of 1: honour 1 each, honour_after the running count like balance_after.
        cur.execute(
            """
            INSERT INTO points_entry (account_id, seq, amount, kind, period_id, balance_after,
                                      honour, honour_after,
                                      source_type, source_id, key, note, created_at)
            SELECT a.id, s, 1, 'award', %s, s, 1, s, '', NULL, 'bench:' || s, '', now()
            FROM points_account a CROSS JOIN generate_series(1, 10) AS s
            WHERE a.id <> ALL(%s)
            """,
            [ctx["period"], list(readers.values())],
        )
        cur.execute(
            "UPDATE points_account SET balance = 10, honour = 10, last_seq = 10 "
            "WHERE id <> ALL(%s)",
            [list(readers.values())],
        )
        for size, (_username, n) in READERS.items():
            # Entry s falls in periods[(s - 1) * len(periods) // n]: the oldest entries in the
            # oldest quarter.
            cur.execute(
                """
                INSERT INTO points_entry (account_id, seq, amount, kind, period_id, balance_after,
                                          honour, honour_after,
                                          source_type, source_id, key, note, created_at)
                SELECT %s, s, 1, 'award',
                       (%s::bigint[])[%s - (s - 1) * %s / %s], s, 1, s, '', NULL, 'bench:' || s,
                       '', now()
                FROM generate_series(1, %s) AS s
                """,
                [readers[size], periods, len(periods), len(periods), n, n]
                if size == "large"
                else [readers[size], [ctx["period"]], 1, 0, n, n],
            )
            cur.execute(
                "UPDATE points_account SET balance = %s, honour = %s, last_seq = %s WHERE id = %s",
                [n, n, n, readers[size]],
            )
        cur.execute("VACUUM ANALYZE points_account, points_entry")
    return readers


def measure_reads(ctx: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    from django.test.utils import setup_test_environment
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    from points.models import Account
    from points.services.ledger import verify_ledger

    accounts = prepare_readers(ctx, args.quarters)
    assert verify_ledger().ok
    setup_test_environment()  # lets the test client's host "testserver" in
    clients = {}
    for size in READERS:
        token, _ = Token.objects.get_or_create(user_id=ctx["readers"][size]["user"])
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        clients[size] = client

    def orm(size: str) -> int:
        # What me/ runs for the balance: one row by the unique index on resident_id.
        account = Account.objects.filter(resident_id=ctx["readers"][size]["resident"]).first()
        return account.balance

    def api(path: str) -> Callable[[str], int]:
        def read(size: str) -> int:
            response = clients[size].get(path.format(account=accounts[size]))
            if response.status_code != 200:
                raise LookupError(f"{path}: {response.status_code}")
            return response.json()["balance"]

        return read

    paths: dict[str, Callable[[str], int]] = {
        "ORM: Account.objects.filter(resident=…).first().balance": orm,
        "GET /api/v1/point-accounts/<id>/": api("/api/v1/point-accounts/{account}/"),
        "GET /api/v1/me/": api("/api/v1/me/"),
    }
    result: dict[str, Any] = {}
    for name, read in paths.items():
        runs = args.reads if name.startswith("ORM") else max(args.reads // 5, 100)
        warmup = args.warmup if name.startswith("ORM") else max(args.warmup // 5, 20)
        times: dict[str, list[float]] = {size: [] for size in READERS}
        try:
            for i in range(warmup + runs):
                for size in READERS if i % 2 == 0 else list(READERS)[::-1]:
                    started = time.perf_counter()
                    balance = read(size)
                    elapsed = time.perf_counter() - started
                    assert balance == READERS[size][1], (name, size, balance)
                    if i >= warmup:
                        times[size].append(elapsed)
        except LookupError as exc:
            result[name] = {"unavailable": str(exc)}
            continue
        result[name] = {
            "runs": runs,
            **{size: statistics.median(times[size]) * 1000 for size in READERS},
        }
    return result


# ============================================================================ main


def print_bulk(bulk: dict[str, Any], args: argparse.Namespace) -> bool:
    print()
    print(
        f"Bulk approval, median of {args.rounds} runs each, each on a fresh identical state,"
        " commit included"
    )
    ratio = bulk["service"] / bulk["floor"]
    ratio3 = bulk["service"] / bulk["floor+claims"]
    print(
        f"  points.services.bulk_approve_claims         {bulk['service']:8.3f} s"
        f"   runs {', '.join(f'{s:.3f}' for s in bulk['all']['service'])}"
    )
    print(
        f"  raw-SQL floor (INSERT…SELECT + UPDATE)      {bulk['floor']:8.3f} s"
        f"   runs {', '.join(f'{s:.3f}' for s in bulk['all']['floor'])}"
    )
    print(
        f"  floor + UPDATE marking the claims approved  {bulk['floor+claims']:8.3f} s"
        f"   runs {', '.join(f'{s:.3f}' for s in bulk['all']['floor+claims'])}"
    )
    bulk_ok = ratio <= BULK_GOAL
    print(
        f"  ratio service / floor: {ratio:.2f}  (goal <= {BULK_GOAL}: "
        f"{'PASS' if bulk_ok else 'FAIL'});  service / (floor + claims): {ratio3:.2f}"
    )
    commits = bulk["commit"]
    print(
        f"  of which COMMIT: service {commits['service']:.3f} s, floor {commits['floor']:.3f} s,"
        f" floor + claims {commits['floor+claims']:.3f} s"
    )
    print("  the service's statements (median seconds):")
    for name, seconds in bulk["statements"].items():
        print(f"    {seconds:8.4f}  {name}")
    return bulk_ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="gp_bench_points")
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432/")
    parser.add_argument("--rebuild", action="store_true", help="drop and rebuild the database")
    parser.add_argument("--residents", type=int, default=50_000)
    parser.add_argument("--claims", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3, help="timed runs per bulk variant")
    parser.add_argument("--reads", type=int, default=2000, help="timed ORM reads per size")
    parser.add_argument("--warmup", type=int, default=200, help="untimed ORM reads first")
    parser.add_argument(
        "--quarters",
        type=int,
        default=1,
        help="quarters the 10,000 entries of the large account are spread over",
    )
    parser.add_argument("--reads-only", action="store_true", help="skip the bulk approval")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the service")
    args = parser.parse_args()
    if not args.server.endswith("/"):
        args.server += "/"

    ensure_database(args.server, args.database, args.rebuild)
    os.environ["DATABASE_URL"] = args.server + args.database
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    # Tasks are queued, not run in-process: a bulk approval queues the residents'
    # notifications after its commit (notifications.hooks.claims_decided_later), which a worker
    # sends later; with no broker configured they would run eagerly inside the timed commit.
    # An in-memory broker takes the messages as Redis would (the publish is timed).
    os.environ["CELERY_BROKER_URL"] = "memory://"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection

    ctx = build(args)
    bulk = None
    if not args.reads_only:
        log(f"bulk approval of {args.claims:,} claims, {args.rounds} rounds …")
        bulk = measure_bulk(ctx, args)
    log("balance reads …")
    reads = measure_reads(ctx, args)
    with connection.cursor() as cur:
        cur.execute("SHOW server_version")
        version = cur.fetchone()[0]

    print()
    print(
        f"Points ledger, PostgreSQL {version}, database {args.database}: {args.residents:,}"
        f" residents, {args.claims:,} submitted claims ({args.claims // args.residents} per"
        " resident, every fifth a deduction)"
    )
    bulk_ok = True
    if bulk is not None:
        bulk_ok = print_bulk(bulk, args)
    print()
    print(
        f"Balance read, 10 vs 10,000 entries in the account (over {args.quarters} quarter(s)),"
        f" sizes alternating, median of {args.reads} (ORM) / {max(args.reads // 5, 100)} (HTTP)"
        " reads"
    )
    reads_ok = True
    for name, r in reads.items():
        if "unavailable" in r:
            print(f"  {name:<58} unavailable ({r['unavailable']})")
            continue
        read_ratio = r["large"] / r["small"]
        ok = read_ratio <= READ_GOAL
        reads_ok &= ok
        print(
            f"  {name:<58}{r['small']:8.3f} ms{r['large']:8.3f} ms   ratio {read_ratio:.2f}"
            f"  {'PASS' if ok else 'FAIL'}"
        )
    print()
    print(
        f"goals: bulk ratio <= {BULK_GOAL}, read ratios <= {READ_GOAL}: "
        f"{'PASS' if bulk_ok and reads_ok else 'FAIL'}"
    )
    sys.exit(0 if bulk_ok and reads_ok else 1)


if __name__ == "__main__":
    main()
