#!/usr/bin/env python
"""Scoped reads stay flat as the district grows (design §10).

A grid worker's two daily reads, through the whole stack (URL routing, middleware, DRF token
authentication, scope resolution, filters, pagination, serializers), timed on a district of
10,000 residents and on one of 1,000,000, in one run:

    GET /api/v1/households/     first page of the worker's households
    GET /api/v1/visits/due/     residents of the worker's grid due (or overdue) for a visit

It prints the median per-request time at both sizes and the ratio large/small; the goal is a
ratio <= 1.2 (a worker's grid holds ~1,000 residents whatever the size of the district).

Each size lives in its own PostgreSQL database (gp_bench_10k, gp_bench_1m by default), migrated
and filled by demo.scale.build_scale (what `manage.py seed_scale` runs; street code "bench")
on first use, then VACUUM ANALYZEd, and reused on later runs (`--rebuild` drops and rebuilds
them). Building 1,000,000 residents takes well under a minute on a laptop-sized server.

How it measures: one process opens both databases (aliases "small" and "large") and a database
router sends every ORM query of a request to the size being timed. Requests alternate between
the sizes (small, large, large, small, …), so a machine that gets busier or quieter during the
run slows both sizes alike instead of skewing the ratio. Each size is exercised by the workers
of the five grids closest to 950 residents, in turn, with a real token (no force_authenticate:
the token lookup and the scope resolution are part of every request). Timings are the median
of `--runs` requests per size after `--warmup` untimed ones; the per-query SQL times (each
query of one request run again, alone) are printed too, and `--explain` prints
EXPLAIN (ANALYZE, BUFFERS) of every query at both sizes.

Usage (from the project root; needs a PostgreSQL server; not part of the test suite):

    .venv/bin/python bench/scoped_reads.py
    .venv/bin/python bench/scoped_reads.py --residents-small 10000 --residents-large 1000000
    .venv/bin/python bench/scoped_reads.py --rebuild          # drop and rebuild both databases
    .venv/bin/python bench/scoped_reads.py --explain          # EXPLAIN ANALYZE every query
    .venv/bin/python bench/scoped_reads.py --server postgres://user:pw@host:5432/

Settings: config.settings.test (DEBUG off) with DATABASE_URL set to each database in turn;
building runs in a child process per size (`--child build`), measuring in one more
(`--child measure`). Exit status 0 when every ratio is within the goal, 1 otherwise.
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
ENDPOINTS = {
    "households": "/api/v1/households/",
    "due": "/api/v1/visits/due/",
}
SIZES = ("small", "large")
GOAL = 1.2
TARGET_GRID = 950  # residents in each timed worker's grid


def database_name(residents: int) -> str:
    if residents % 1_000_000 == 0:
        return f"gp_bench_{residents // 1_000_000}m"
    if residents % 1_000 == 0:
        return f"gp_bench_{residents // 1_000}k"
    return f"gp_bench_{residents}"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ============================================================================ child: build


def ensure_database(server: str, name: str, rebuild: bool) -> None:
    """Create the database if missing (dropping it first with --rebuild)."""
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


def child_build(args: argparse.Namespace) -> dict[str, Any]:
    """Migrate and fill one database unless it already holds the bench street."""
    name = database_name(args.residents)
    ensure_database(args.server, name, args.rebuild)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from demo.scale import build_scale
    from grids.models import Street
    from residents.models import Resident

    call_command("migrate", verbosity=0)
    street = Street.objects.filter(code=STREET_CODE).first()
    if street is not None:
        have = Resident.objects.filter(household__grid__community__street=street).count()
        if have != args.residents:
            raise SystemExit(
                f"[{name}] holds {have:,} bench residents, not {args.residents:,}: "
                "run with --rebuild"
            )
        log(f"[{name}] reusing {have:,} residents")
        return {"build_seconds": None}
    log(f"[{name}] building {args.residents:,} residents (demo.scale.build_scale) …")
    report = build_scale(
        residents=args.residents,
        street_code=STREET_CODE,
        seed=1,
        progress=lambda m: log(f"  … {m}"),
    )
    for line in report.lines():
        log(f"  {line}")
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # the visibility map, as autovacuum would leave it
    log(f"  VACUUM ANALYZE in {time.monotonic() - started:.1f} s")
    return {"build_seconds": report.seconds}


# ============================================================================ child: measure


class SizeRouter:
    """Sends every ORM query to the size being timed."""

    alias = "small"

    def db_for_read(self, model: Any, **hints: Any) -> str:
        return self.alias

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return self.alias

    def allow_relation(self, *args: Any, **hints: Any) -> bool:
        return True


def child_measure(args: argparse.Namespace) -> dict[str, Any]:
    from django.conf import settings

    router = SizeRouter()
    default = settings.DATABASES["default"]
    names = {
        "small": database_name(args.residents_small),
        "large": database_name(args.residents_large),
    }
    settings.DATABASES.update({size: {**default, "NAME": names[size]} for size in SIZES})
    settings.DATABASE_ROUTERS = [router]
    import django

    django.setup()
    from django.db import connections, reset_queries
    from django.db.models import Count
    from django.test.utils import CaptureQueriesContext, setup_test_environment
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    from grids.models import Grid
    from residents.models import Household, Resident

    setup_test_environment()  # lets the test client's host "testserver" in
    result: dict[str, Any] = {"sizes": {}, "endpoints": {}}
    clients: dict[str, list[APIClient]] = {}
    for size in SIZES:
        router.alias = size
        # The workers of the grids closest to TARGET_GRID residents (grid sizes are drawn at
        # random), so both sizes time grids of the same size.
        per_grid = (
            Resident.objects.filter(household__grid__community__street__code=STREET_CODE)
            .values("household__grid")
            .annotate(n=Count("id"))
            .values_list("household__grid", "n")
        )
        chosen = sorted(per_grid, key=lambda gn: (abs(gn[1] - TARGET_GRID), gn[0]))[: args.grids]
        grids = list(
            Grid.objects.filter(pk__in=[g for g, _ in chosen]).select_related("leader__user")
        )
        clients[size] = []
        for grid in grids:
            token, _ = Token.objects.get_or_create(user=grid.leader.user)
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
            clients[size].append(client)
        result["sizes"][size] = {
            "database": names[size],
            "residents": Resident.objects.count(),
            "grids": [g.pk for g in grids],
            "grid_residents": [n for _, n in chosen],
            "grid_households": [Household.objects.filter(grid=g).count() for g in grids],
        }

    for key, url in ENDPOINTS.items():
        times: dict[str, list[float]] = {size: [] for size in SIZES}
        counts: dict[str, list[int]] = {size: [] for size in SIZES}
        for i in range(args.warmup + args.runs):
            # small, large, large, small, …: drift in the machine's load hits both sizes alike
            for size in SIZES if i % 2 == 0 else SIZES[::-1]:
                router.alias = size
                client = clients[size][i % len(clients[size])]
                started = time.perf_counter()
                response = client.get(url)
                elapsed = time.perf_counter() - started
                assert response.status_code == 200, (url, size, response.content)
                if i >= args.warmup:
                    times[size].append(elapsed)
                    counts[size].append(response.json()["count"])
        stats: dict[str, Any] = {}
        for size in SIZES:
            router.alias = size
            connection = connections[size]
            reset_queries()  # every request clears the log as it starts; begin from empty
            with CaptureQueriesContext(connection) as queries:
                clients[size][0].get(url)
            captured = [q["sql"] for q in queries.captured_queries]
            sql_ms = []
            with connection.cursor() as cursor:
                for sql in captured:
                    started = time.perf_counter()
                    cursor.execute(sql)
                    cursor.fetchall()
                    sql_ms.append(round((time.perf_counter() - started) * 1000, 2))
                if args.explain:
                    for sql in captured:
                        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                        plan = "\n".join(row[0] for row in cursor.fetchall())
                        log(f"\n[{names[size]}] {url}\n{sql}\n{plan}")
            stats[size] = {
                "median_ms": statistics.median(times[size]) * 1000,
                "p90_ms": statistics.quantiles(times[size], n=10)[-1] * 1000,
                "mean_count": statistics.mean(counts[size]),
                "queries": len(captured),
                "sql_ms": sql_ms,
            }
        result["endpoints"][key] = stats
    return result


# ============================================================================ the parent


def run_child(args: argparse.Namespace, what: str, database: str, extra: list[str]) -> Any:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": args.server + database,
        "PYTHONPATH": str(ROOT),
    }
    command = [sys.executable, __file__, "--child", what, "--server", args.server, *extra]
    done = subprocess.run(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    if done.returncode:
        raise SystemExit(done.returncode)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--residents-small", type=int, default=10_000)
    parser.add_argument("--residents-large", type=int, default=1_000_000)
    parser.add_argument("--rebuild", action="store_true", help="drop and rebuild the databases")
    parser.add_argument("--runs", type=int, default=300, help="timed requests per endpoint/size")
    parser.add_argument("--warmup", type=int, default=30, help="untimed requests first")
    parser.add_argument("--grids", type=int, default=5, help="workers (grids) taking turns")
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

    built = {}
    for size, residents in (("small", args.residents_small), ("large", args.residents_large)):
        extra = ["--residents", str(residents)] + ["--rebuild"] * args.rebuild
        built[size] = run_child(args, "build", database_name(residents), extra)["build_seconds"]
    extra = [
        "--residents-small", str(args.residents_small),
        "--residents-large", str(args.residents_large),
        "--runs", str(args.runs), "--warmup", str(args.warmup), "--grids", str(args.grids),
    ] + ["--explain"] * args.explain  # fmt: skip
    result = run_child(args, "measure", database_name(args.residents_small), extra)

    sizes = result["sizes"]
    print()
    print(
        f"Scoped reads of a grid worker (token auth, full DRF stack), PostgreSQL; median of"
        f" {args.runs} requests per size after {args.warmup} warm-up, sizes alternating,"
        f" {args.grids} workers taking turns"
    )
    for size in SIZES:
        s = sizes[size]
        note = f", built in {built[size]:.1f} s" if built[size] else ""
        print(
            f"  {s['database']}: {s['residents']:,} residents{note}; grids {s['grids']}:"
            f" {s['grid_households']} households, {s['grid_residents']} residents"
        )
    print()
    small_n, large_n = sizes["small"]["residents"], sizes["large"]["residents"]
    print(
        f"{'endpoint':<26}{small_n:>12,}{large_n:>12,}{'ratio':>8}"
        "   p90 small / large; SQL queries per request; mean rows (count)"
    )
    ok = True
    for key, url in ENDPOINTS.items():
        s, la = result["endpoints"][key]["small"], result["endpoints"][key]["large"]
        ratio = la["median_ms"] / s["median_ms"]
        ok &= ratio <= GOAL
        print(
            f"GET {url:<22}{s['median_ms']:>9.2f} ms{la['median_ms']:>9.2f} ms{ratio:>8.2f}"
            f"   {s['p90_ms']:.2f} / {la['p90_ms']:.2f} ms; {s['queries']} / {la['queries']};"
            f" {s['mean_count']:.1f} / {la['mean_count']:.1f}"
        )
        print(f"    SQL ms per query, small: {s['sql_ms']}")
        print(f"    SQL ms per query, large: {la['sql_ms']}")
    print()
    print(f"goal: ratio <= {GOAL} for every endpoint: {'PASS' if ok else 'FAIL'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
