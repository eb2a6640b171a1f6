"""The embedded SQLite must hold up under the threaded dev server: concurrent writers wait for
the lock (IMMEDIATE transactions and a busy timeout) instead of failing with 'database is locked'.
Runs in a subprocess on a file database, as `make run` does."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import json, threading
import django
django.setup()
from django.core.management import call_command
from django.db import connection, transaction
call_command("migrate", verbosity=0)
from grids.models import Street

errors, done = [], []
barrier = threading.Barrier(8)

def writer(n):
    try:
        barrier.wait()
        for i in range(25):
            # Read, then write, in one transaction: the pattern that fails at once in SQLite's
            # default DEFERRED mode when another thread wrote in between.
            with transaction.atomic():
                count = Street.objects.count()
                Street.objects.create(name=f"s{n}-{i}-{count}", code=f"s{n}x{i}")
            done.append(1)
    except Exception as exc:
        errors.append(repr(exc))
    finally:
        connection.close()

threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
[t.start() for t in threads]
[t.join() for t in threads]
print(json.dumps({"errors": errors, "done": len(done), "rows": Street.objects.count()}))
"""


@pytest.mark.skipif(
    not settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"), reason="SQLite only"
)
def test_eight_threads_writing_at_once_all_succeed(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL")}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["errors"] == []
    assert result["done"] == 8 * 25
    assert result["rows"] == 8 * 25
