#!/usr/bin/env python
"""A real kill (issue 13, item 6): the quarterly close of a few thousand residents run by a
real Celery worker on Redis, SIGKILLed at three moments, finished by the next worker by itself
(late acknowledgement: the unacknowledged task goes back to the queue after the broker's
visibility timeout), with lists, entries and balances identical to an uninterrupted close of
the same data.

Run alone (it starts and kills its own workers), on PostgreSQL with Redis; CI runs it through
tests/reliability/test_real_kill.py (`pytest -m kill`):

    .venv/bin/python tests/reliability/kill_close.py                 # ~3,000 residents
    .venv/bin/python tests/reliability/kill_close.py --residents 5000 --keep

The steps:

1. Build the data once in `gp_kill_base` (bench/close_quarter.py's district: accounts,
   four quarters of entries, placed orders, catalogs, an ended redemption window, expiry in
   every other community), made of many small communities (one grid of ~30 residents each) so
   the close has many chunks to be killed between; then two copies of it.
2. `gp_kill_ref`: the close uninterrupted (start_close, the job in-process).
3. `gp_kill_run`: start_close queues the job on Redis (its own db number); a worker takes it and
   is SIGKILLed when the close's state rows (Closing.communities_done) pass about 15%, 50% and
   85%; each time a new worker is started once the task is due back on the queue (after the
   --visibility timeout); the last one finishes the job.
4. Compare the two databases: purchase, distribution and notice lines, ledger entries, account
   balances, orders; the close done in both and the quarter closed; verify_ledger.

Each worker runs with the solo pool (the task in the process that is killed) and sleeps
--delay seconds inside each community's transaction, so that the kills land inside a chunk and
at predictable moments; the sleep is the only thing this script adds to the job.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BASE, REF, RUN = "gp_kill_base", "gp_kill_ref", "gp_kill_run"
KILL_AT = (0.15, 0.50, 0.85)
ADMIN = "kill-test-admin"
# Rows the close changes but does not create keep their ids (the same in both copies).
ACCOUNT_LIKE = ("points_account", "points_order")


def log(message: str) -> None:
    print(message, flush=True)


# ============================================================================ the worker


def worker_main() -> None:
    """A Celery worker (solo pool) whose close sleeps inside each community's transaction."""
    import django

    django.setup()
    from django.db import transaction

    from config.celery import app
    from points.services import close

    delay = float(os.environ.get("KILL_CLOSE_DELAY", "0.05"))
    original = close.close_community

    def slow_close_community(**kwargs: Any) -> bool:
        with transaction.atomic():
            done = original(**kwargs)
            time.sleep(delay)  # still inside the chunk's transaction: a kill here rolls it back
            return done

    close.close_community = slow_close_community  # type: ignore[assignment]
    app.worker_main(
        ["worker", "--pool=solo", "--loglevel=INFO", "--without-gossip", "--without-mingle"]
    )


# ============================================================================ the parent


def bench_module() -> Any:
    spec = importlib.util.spec_from_file_location("close_quarter", ROOT / "bench/close_quarter.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build(args: argparse.Namespace, bench: Any) -> None:
    """The district of bench/close_quarter.py, in communities of one small grid each."""
    import functools

    from django.contrib.auth import get_user_model

    import demo.scale

    bench.drop_database(args.server, BASE)
    with bench.admin(args.server) as conn:
        conn.execute(f'CREATE DATABASE "{BASE}"')
    bench.use_database(BASE)
    original = demo.scale.build_scale
    demo.scale.build_scale = functools.partial(  # type: ignore[assignment]
        original, grid_size=(args.grid_size, args.grid_size + 5), grids_per_community=1
    )
    try:
        bench.log = lambda message: None  # quiet
        bench.build(
            argparse.Namespace(
                residents=args.residents,
                entries=args.residents * 4,
                orders=args.residents // 3,
                households=False,
            )
        )
    finally:
        demo.scale.build_scale = original
    get_user_model().objects.create_superuser(ADMIN, password=None)
    bench.use_database("postgres")  # leave BASE: it is the template of the copies
    from django.db import connection

    connection.close()
    for name in (REF, RUN):
        bench.drop_database(args.server, name)
        with bench.admin(args.server) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{BASE}"')


def start_close(*, eager: bool) -> int:
    from django.contrib.auth import get_user_model

    from config.celery import app
    from points.models import Period
    from points.services import close

    app.conf.task_always_eager = eager
    period = Period.objects.get(code="2026Q3")
    close.start_close(period=period, user=get_user_model().objects.get(username=ADMIN))
    return period.pk


def progress() -> tuple[int, int, str]:
    from points.models import Closing

    closing = Closing.objects.get()
    return closing.communities_done, closing.communities_total, closing.status


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """What the close produced and moved, without surrogate ids and timestamps (a rolled-back
    chunk uses up sequence numbers, so the ids of the lines may differ)."""
    from django.db import connection

    tables = {
        "purchase lines": "points_purchaseline",
        "distribution lines": "points_distributionline",
        "notice lines": "points_noticeline",
        "entries": "points_entry",
        "balances": "points_account",
        "orders": "points_order",
        "closed communities": "points_closedcommunity",
    }
    result = {}
    with connection.cursor() as cur:
        for name, table in tables.items():
            cur.execute(f"SELECT * FROM {table}")  # noqa: S608 (our own table names)
            columns = [c.name for c in cur.description]
            keep = [
                i
                for i, c in enumerate(columns)
                if not (c.endswith("_at") or (c == "id" and table not in ACCOUNT_LIKE))
                and c != "closing_id"
            ]
            result[name] = sorted((tuple(r[i] for i in keep) for r in cur.fetchall()), key=repr)
        cur.execute(
            "SELECT c.status, c.communities_done, c.communities_total, p.status"
            " FROM points_closing c JOIN points_period p ON p.id = c.period_id"
        )
        result["close"] = cur.fetchall()
    return result


def spawn_worker(args: argparse.Namespace, n: int) -> tuple[subprocess.Popen[bytes], Path]:
    env = {
        **os.environ,
        "DATABASE_URL": args.server + RUN,
        "CELERY_BROKER_URL": args.redis,
        "CELERY_VISIBILITY_TIMEOUT": str(args.visibility),
        "KILL_CLOSE_DELAY": str(args.delay),
    }
    env.pop("CELERY_RESULT_BACKEND", None)
    logfile = Path(args.logdir) / f"kill-worker-{n}.log"
    with logfile.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, __file__, "--worker"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    return proc, logfile


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432/")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--residents", type=int, default=3000)
    parser.add_argument("--grid-size", type=int, default=30, help="residents per community")
    parser.add_argument("--delay", type=float, default=0.05, help="seconds slept per community")
    parser.add_argument("--visibility", type=int, default=3, help="Redis visibility timeout (s)")
    parser.add_argument("--timeout", type=float, default=150, help="give up after (s)")
    parser.add_argument("--logdir", default="/tmp")
    parser.add_argument("--keep", action="store_true", help="keep the databases")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    if args.worker:
        worker_main()
        return 0
    if not args.server.endswith("/"):
        args.server += "/"
    os.environ["DATABASE_URL"] = args.server + "postgres"
    os.environ["CELERY_BROKER_URL"] = args.redis
    os.environ["CELERY_VISIBILITY_TIMEOUT"] = str(args.visibility)
    os.environ.pop("CELERY_RESULT_BACKEND", None)
    import django

    django.setup()
    import redis
    from django.db import connection

    from points.services.ledger import verify_ledger

    bench = bench_module()
    started = time.monotonic()
    build(args, bench)
    log(
        f"built {args.residents} residents, copied to {REF} and {RUN} "
        f"({time.monotonic() - started:.1f} s)"
    )

    bench.use_database(REF)
    t = time.monotonic()
    start_close(eager=True)
    reference = snapshot()
    log(f"reference close (uninterrupted): {reference['close']} in {time.monotonic() - t:.1f} s")

    bench.use_database(RUN)
    redis.Redis.from_url(args.redis).flushdb()
    start_close(eager=False)
    log("close queued on Redis; worker 1 started")
    workers: list[tuple[subprocess.Popen[bytes], Path]] = [spawn_worker(args, 1)]
    kills: list[str] = []
    deadline = time.monotonic() + args.timeout
    failed = ""
    try:
        while True:
            done, total, status = progress()
            if status == "done":
                break
            if time.monotonic() > deadline:
                failed = f"timed out at {done}/{total}"
                break
            if len(kills) < len(KILL_AT) and done >= KILL_AT[len(kills)] * total:
                proc = workers[-1][0]
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                kills.append(f"{done}/{total}")
                log(
                    f"SIGKILL worker {len(workers)} (pid {proc.pid}) at {done}/{total} "
                    f"communities, {time.monotonic() - started:.1f} s"
                )
                # The killed worker's task goes back to the queue once it has been unacknowledged
                # for the visibility timeout. A starting worker looks for such tasks at once, and
                # after that only every ~100 s (kombu's unacked_restore_interval x _throttle): the
                # next worker starts when the task is due back, as it would after a restart that
                # takes that long, so that it finds the task when it starts.
                time.sleep(args.visibility)
                workers.append(spawn_worker(args, len(workers) + 1))
                log(f"worker {len(workers)} started")
            time.sleep(0.05)
    finally:
        for proc, _ in workers:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
    if failed:
        log(f"FAILED: {failed}")
        for _proc, logfile in workers:
            log(f"--- {logfile}\n" + logfile.read_text(errors="replace")[-3000:])
        return 1
    log(
        f"close finished by worker {len(workers)} after {len(kills)} kills "
        f"(at {', '.join(kills)}), {time.monotonic() - started:.1f} s in all"
    )
    killed = snapshot()
    report = verify_ledger(limit=10)
    connection.close()
    problems = []
    if len(kills) != len(KILL_AT):
        problems.append(f"only {len(kills)} kills: the close ran too fast (raise --delay)")
    for name, rows in reference.items():
        same = rows == killed[name]
        log(f"  {name:<20}{len(rows):>7} rows  {'identical' if same else 'DIFFERENT'}")
        if not same:
            problems.append(name)
    log(
        f"  verify_ledger: {'ok' if report.ok else report.problems} "
        f"({report.accounts} accounts, {report.entries} entries)"
    )
    if not report.ok:
        problems.append("verify_ledger")
    if not args.keep:
        for name in (BASE, REF, RUN):
            bench.drop_database(args.server, name)
        redis.Redis.from_url(args.redis).flushdb()
    if problems:
        log(f"FAILED: {', '.join(problems)}")
        return 1
    log("OK: the killed close finished by itself, identical to the uninterrupted one")
    return 0


if __name__ == "__main__":
    sys.exit(main())
