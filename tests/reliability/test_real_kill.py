"""The close survives real SIGKILLs of its Celery worker (tests/reliability/kill_close.py):
three kills, the job finished by the next worker by itself, the result identical to an
uninterrupted close. Needs PostgreSQL and Redis; CI runs it alone (`pytest -m kill`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings

SCRIPT = Path(__file__).with_name("kill_close.py")
RESIDENTS = 1200  # the script's own default (3,000) is for a run by hand

pytestmark = pytest.mark.kill


def _server() -> str:
    db = settings.DATABASES["default"]
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    at = "@" if user else ""
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{user}{password}{at}{db.get('HOST') or '127.0.0.1'}{port}/"


def _redis() -> str:
    """The broker's Redis, on a db number of its own (the suite's broker tests use theirs)."""
    parts = urlsplit(settings.CELERY_BROKER_URL)
    return urlunsplit((parts.scheme, parts.netloc, "/13", "", ""))


@pytest.mark.skipif(
    not settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    or not settings.CELERY_BROKER_URL.startswith("redis"),
    reason="needs PostgreSQL (DATABASE_URL) and Redis (CELERY_BROKER_URL=redis://…)",
)
def test_the_close_finishes_by_itself_after_three_sigkills_identical_to_an_uninterrupted_one():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ["DJANGO_SETTINGS_MODULE"]}
    # RESIDENTS residents make ~RESIDENTS/31 one-grid communities: enough chunks for the three
    # kills to land mid-way (at ~15%, 50% and 85% of them), small enough to build quickly.
    args = ["--server", _server(), "--redis", _redis(), "--residents", str(RESIDENTS)]
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    print(done.stdout[-5000:])
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-3000:]
    assert done.stdout.count("SIGKILL worker") == 3
    assert "DIFFERENT" not in done.stdout
    assert "OK: the killed close finished by itself" in done.stdout
