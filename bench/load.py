#!/usr/bin/env python
"""A bounded load (issue 13, item 9): gunicorn on PostgreSQL, driven for --seconds by a
threaded client on the loopback, then the ledger checked.

Three kinds of client threads, with API tokens:

- grid workers submit points claims (`POST /api/v1/point-claims/`), each with an
  `Idempotency-Key`, and retry every one with the same key (half of the retries at once from
  a second thread, as a phone that timed out and sent again): the retries must replay, never
  make a second claim;
- committee members read the submitted claims of their community and approve them in bulk
  (`POST /api/v1/point-claims/bulk-approve/`, with a key, retried too);
- residents read their points page (`GET /api/v1/me/`).

Prints the throughput, p50/p95/p99 per kind of request, the errors (any status >= 500, any
unexpected 4xx, connection errors), then `verify_ledger` and the number of duplicated claims
(claims that share an Idempotency-Key: must be 0). Exit status 1 on errors, a ledger mismatch
or a duplicate.

    .venv/bin/python bench/load.py                      # 60 s, 16 client threads
    .venv/bin/python bench/load.py --seconds 30 --threads 8 --gunicorn-workers 2

Data: `gp_load` on `postgres://postgres@127.0.0.1:5432/` (`--server`, `--database`), rebuilt
by every run: migrated, 5,000 residents in two communities (demo.scale.build_scale, street
code `load`), a rule per community, a committee member per community, 40 resident logins.
Loopback only: gunicorn binds 127.0.0.1 and the client refuses any other host.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
STREET_CODE = "load"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ============================================================================ the data


def build(args: argparse.Namespace) -> dict[str, Any]:
    """Migrate and fill the database; tokens for the three kinds of client."""
    import psycopg
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connection
    from rest_framework.authtoken.models import Token

    from demo.scale import build_scale
    from grids.models import CommitteeMember, Community, GridWorker
    from points.models import Rule
    from residents.models import Resident

    with psycopg.connect(args.server + "postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{args.database}"')
    connection.close()
    call_command("migrate", verbosity=0)
    build_scale(residents=args.residents, grid_size=(450, 550), grids_per_community=5,
                street_code=STREET_CODE)  # fmt: skip
    User = get_user_model()
    communities = list(Community.objects.filter(street__code=STREET_CODE).order_by("id"))
    rules, committee = {}, []
    for i, community in enumerate(communities):
        rules[community.pk] = Rule.objects.create(
            community=community, code="load", name="负载测试", category="reward", points=5
        ).pk
        user = User.objects.create_user(f"load-committee{i}")
        user.groups.add(Group.objects.get(name="committee"))
        CommitteeMember.objects.create(user=user, community=community, title="委员")
        committee.append(Token.objects.create(user=user).key)
    workers = []
    for worker in GridWorker.objects.filter(community__in=communities).select_related("user"):
        grid_id = (
            worker.assignments.filter(end_date__isnull=True)
            .values_list("grid_id", flat=True)
            .first()
        )
        residents = list(
            Resident.objects.filter(household__grid_id=grid_id).values_list("pk", flat=True)[:300]
        )
        workers.append(
            {
                "token": Token.objects.get_or_create(user=worker.user)[0].key,
                "rule": rules[worker.community_id],
                "residents": residents,
            }
        )
    resident_tokens = []
    resident_group = Group.objects.get(name="resident")
    for n, resident in enumerate(
        Resident.objects.filter(household__grid__community__in=communities).order_by("id")[:40]
    ):
        user = User.objects.create_user(f"load-resident{n}")
        user.groups.add(resident_group)
        resident.user = user
        resident.save(update_fields=["user"])
        resident_tokens.append(Token.objects.create(user=user).key)
    connection.close()
    return {"committee": committee, "workers": workers, "residents": resident_tokens}


# ============================================================================ the client


class Client:
    """One keep-alive HTTP connection to the loopback server."""

    def __init__(self, port: int, token: str) -> None:
        self.port, self.token = port, token
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def call(
        self, method: str, path: str, body: Any = None, key: str | None = None
    ) -> tuple[int, Any, dict[str, str]]:
        headers = {"Authorization": f"Token {self.token}", "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if key:
            headers["Idempotency-Key"] = key
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=data, headers=headers)
                response = self.conn.getresponse()
                raw = response.read()
                break
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                if attempt == 2:
                    raise
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = raw[:200]
        return response.status, payload, {k.lower(): v for k, v in response.getheaders()}


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.samples: list[str] = []
        self.counts: dict[str, int] = defaultdict(int)

    def timed(self, name: str, expect: tuple[int, ...], fn: Any, *args: Any) -> Any:
        started = time.perf_counter()
        try:
            status, payload, headers = fn(*args)
        except Exception as exc:  # a refused or broken connection is an error of the run
            with self.lock:
                self.errors[f"{name}: {type(exc).__name__}"] += 1
            return None
        elapsed = time.perf_counter() - started
        with self.lock:
            self.times[name].append(elapsed)
            if status not in expect:
                self.errors[f"{name}: HTTP {status}"] += 1
                if len(self.samples) < 5:
                    self.samples.append(f"{name} {status} {str(payload)[:200]}")
        return status, payload, headers

    def count(self, name: str, n: int = 1) -> None:
        with self.lock:
            self.counts[name] += n


def worker_loop(port: int, spec: dict[str, Any], stop: float, stats: Stats, seed: int) -> None:
    """Claims, each sent twice with one key: half the time both at once from two connections
    (a phone that timed out and resent while the first was still on its way), else one after
    the other. Exactly one claim per key must exist at the end."""
    rng = random.Random(seed)
    client, twin = Client(port, spec["token"]), Client(port, spec["token"])
    path = "/api/v1/point-claims/"
    while time.monotonic() < stop:
        key = f"load-{uuid.uuid4()}"
        body = {"resident": rng.choice(spec["residents"]), "rule": spec["rule"], "note": key}
        stats.count("claim keys")
        if rng.random() < 0.5:
            results: list[Any] = []
            other = threading.Thread(
                target=lambda out, *a: out.append(stats.timed(*a)),
                args=(results, "claim (twin)", (201,), twin.call, "POST", path, body, key),
            )
            other.start()
            mine = stats.timed("claim", (201,), client.call, "POST", path, body, key)
            other.join()
            answers = [r for r in (mine, *results) if r]
        else:
            first = stats.timed("claim", (201,), client.call, "POST", path, body, key)
            again = stats.timed("claim retry", (201,), client.call, "POST", path, body, key)
            answers = [r for r in (first, again) if r]
        replayed = sum(r[2].get("idempotent-replayed") == "true" for r in answers)
        stats.count("retries replayed", replayed)
        ids = {r[1].get("id") for r in answers if isinstance(r[1], dict)}
        if len(ids) > 1:
            stats.count("one key, two claim ids", 1)


def committee_loop(port: int, token: str, stop: float, stats: Stats) -> None:
    client = Client(port, token)
    while time.monotonic() < stop:
        got = stats.timed(
            "claims list",
            (200,),
            client.call,
            "GET",
            "/api/v1/point-claims/?status=submitted&page_size=100",
        )
        ids = [c["id"] for c in (got[1] or {}).get("results", [])] if got else []
        if not ids:
            time.sleep(0.2)
            continue
        key = f"load-bulk-{uuid.uuid4()}"
        for name in ("bulk approve", "bulk approve retry"):
            done = stats.timed(
                name,
                (200,),
                client.call,
                "POST",
                "/api/v1/point-claims/bulk-approve/",
                {"ids": ids},
                key,
            )
            if done and name == "bulk approve" and isinstance(done[1], dict):
                stats.count("claims approved", done[1].get("approved", 0))


def resident_loop(port: int, token: str, stop: float, stats: Stats) -> None:
    client = Client(port, token)
    while time.monotonic() < stop:
        stats.timed("me", (200,), client.call, "GET", "/api/v1/me/")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] * 1000


# ============================================================================ the run


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_up(port: int, proc: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("gunicorn exited at start")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/v1/")
            conn.getresponse().read()
            if proc.poll() is not None:
                raise SystemExit("gunicorn exited at start (is the port taken?)")
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("gunicorn did not answer")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--threads", type=int, default=16, help="client threads in all")
    parser.add_argument("--gunicorn-workers", type=int, default=3)
    parser.add_argument("--gunicorn-threads", type=int, default=4)
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--residents", type=int, default=5000)
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432/")
    parser.add_argument("--database", default="gp_load")
    parser.add_argument("--settings", default="config.settings.production")
    args = parser.parse_args()
    if not args.server.endswith("/"):
        args.server += "/"
    args.port = args.port or free_port()
    with socket.socket() as probe:  # never drive a server that is not ours
        if probe.connect_ex(("127.0.0.1", args.port)) == 0:
            raise SystemExit(f"port {args.port} is in use: pick another --port")
    env = {
        "DATABASE_URL": args.server + args.database,
        "DJANGO_SETTINGS_MODULE": os.environ.get("LOAD_SETTINGS", args.settings),
        "SECRET_KEY": os.environ.get("SECRET_KEY", "load-test-only-" + uuid.uuid4().hex),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "False",
        "CELERY_BROKER_URL": "",  # the load's writes queue no job; tasks (if any) in-process
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    started = time.monotonic()
    data = build(args)
    log(
        f"built {args.residents} residents, {len(data['workers'])} grid workers, "
        f"{len(data['committee'])} committee members, {len(data['residents'])} residents with a "
        f"login in {time.monotonic() - started:.0f} s"
    )

    server_log = (Path(tempfile.gettempdir()) / "gp_load_gunicorn.log").open("wb")
    gunicorn = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")), "config.wsgi:application",
            "--bind", f"127.0.0.1:{args.port}", "--workers", str(args.gunicorn_workers),
            "--threads", str(args.gunicorn_threads), "--log-level", "warning",
        ],
        cwd=ROOT, env={**os.environ, **env},
        # The server's own output (logs, console notifications) apart from the report.
        stdout=server_log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    stats = Stats()
    try:
        wait_up(args.port, gunicorn)
        n_committee = max(1, args.threads // 8)
        n_residents = max(1, args.threads // 4)
        n_workers = max(1, args.threads - n_committee - n_residents)
        stop = time.monotonic() + args.seconds
        workers, committee, residents = data["workers"], data["committee"], data["residents"]
        port = args.port
        threads = (
            [
                threading.Thread(
                    target=worker_loop, args=(port, workers[i % len(workers)], stop, stats, i)
                )
                for i in range(n_workers)
            ]
            + [
                threading.Thread(
                    target=committee_loop, args=(port, committee[i % len(committee)], stop, stats)
                )
                for i in range(n_committee)
            ]
            + [
                threading.Thread(
                    target=resident_loop, args=(port, residents[i % len(residents)], stop, stats)
                )
                for i in range(n_residents)
            ]
        )
        log(
            f"load: {n_workers} claim threads, {n_committee} approval threads, {n_residents} "
            f"me/ threads against gunicorn ({args.gunicorn_workers} workers x "
            f"{args.gunicorn_threads} threads) for {args.seconds:.0f} s …"
        )
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - t0
    finally:
        gunicorn.send_signal(signal.SIGTERM)
        gunicorn.wait(timeout=30)

    total = sum(len(v) for v in stats.times.values())
    errors = sum(stats.errors.values())
    print(f"requests: {total} in {elapsed:.1f} s = {total / elapsed:.1f} req/s; errors: {errors}")
    print(f"{'request':<20}{'count':>8}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}{'mean ms':>10}")
    for name, values in sorted(stats.times.items()):
        print(
            f"{name:<20}{len(values):>8}{pct(values, 0.5):>10.1f}{pct(values, 0.95):>10.1f}"
            f"{pct(values, 0.99):>10.1f}{statistics.mean(values) * 1000:>10.1f}"
        )
    for name, value in sorted(stats.counts.items()):
        print(f"{name}: {value}")
    for name, value in sorted(stats.errors.items()):
        print(f"error {name}: {value}")
    for sample in stats.samples:
        print(f"  e.g. {sample}")

    from django.db import connection
    from django.db.models import Count

    from points.models import Claim
    from points.services.ledger import verify_ledger

    connection.close()
    report = verify_ledger(limit=10)
    print(
        f"verify_ledger: {'ok' if report.ok else 'MISMATCH'} ({report.accounts} accounts, "
        f"{report.entries} entries)"
    )
    for problem in report.problems:
        print(f"  {problem}")
    duplicated = (
        Claim.objects.filter(note__startswith="load-")
        .values("note")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    claims = Claim.objects.filter(note__startswith="load-").count()
    print(
        f"claims: {claims} (keys sent: {stats.counts['claim keys']}); "
        f"duplicated claims: {duplicated}"
    )
    ok = report.ok and duplicated == 0 and errors == 0
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
