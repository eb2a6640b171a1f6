"""/healthz (the process answers) and /readyz (database, migrations, broker, Celery heartbeat)
for load balancers: JSON, 200 or 503."""

from __future__ import annotations

import datetime as dt
import time

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.db.utils import OperationalError
from django.test import Client
from django.utils import timezone

from core import tasks
from core.models import Heartbeat


@pytest.fixture
def with_broker(settings):
    """A configured broker (the in-memory transport: it always answers)."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "memory://"
    settings.HEALTH_BROKER_TIMEOUT = 0.5
    return settings


def test_healthz_answers_without_touching_the_database(db, django_assert_num_queries):
    with django_assert_num_queries(0):
        r = Client().get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}
    assert r["Cache-Control"] == "no-store"


def test_the_probes_answer_a_load_balancer_that_asks_by_ip_over_plain_http(
    db, settings, tasks_in_process
):
    settings.ALLOWED_HOSTS = ["grid.example.org"]
    settings.SECURE_SSL_REDIRECT = True
    c = Client(HTTP_HOST="10.0.0.5:8000", raise_request_exception=False)
    assert c.get("/healthz").status_code == 200
    assert c.get("/readyz").status_code == 200
    # Any other page still gets the host check.
    assert c.get("/accounts/login/").status_code == 400


def test_readyz_is_200_with_every_check_when_all_is_well(db, tasks_in_process):
    r = Client().get("/readyz")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["migrations"] == {"ok": True, "pending": []}
    # Without a broker tasks run in-process: the heartbeat is reported, never required.
    assert body["checks"]["heartbeat"]["ok"] is True
    assert body["checks"]["heartbeat"]["age_seconds"] is None
    assert "broker" not in body["checks"]


def test_readyz_is_503_naming_a_migration_not_applied(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM django_migrations WHERE app = 'core' AND name = %s",
            ["0002_heartbeat_loginlockout"],
        )
    r = Client().get("/readyz")
    assert r.status_code == 503
    body = r.json()
    assert body["status"] == "fail"
    assert body["checks"]["migrations"]["ok"] is False
    assert "core.0002_heartbeat_loginlockout" in body["checks"]["migrations"]["pending"]


def test_readyz_is_503_when_the_database_does_not_answer(db, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    with monkeypatch.context() as patched:  # undone before the test database is torn down
        patched.setattr(connection, "cursor", refuse)
        r = Client().get("/readyz")
    assert r.status_code == 503
    body = r.json()
    assert body["checks"]["database"]["ok"] is False
    assert "connection refused" in body["checks"]["database"]["error"]


def test_with_a_broker_readyz_needs_a_recent_heartbeat(db, with_broker):
    r = Client().get("/readyz")
    assert r.status_code == 503
    assert r.json()["checks"]["broker"] == {"ok": True}
    assert r.json()["checks"]["heartbeat"]["ok"] is False  # never beaten yet

    with time_machine.travel(timezone.now(), tick=False) as traveller:
        tasks.heartbeat()
        traveller.shift(dt.timedelta(seconds=90))
        r = Client().get("/readyz")
        assert r.status_code == 200, r.content
        heartbeat = r.json()["checks"]["heartbeat"]
        assert heartbeat["age_seconds"] == 90.0
        assert heartbeat["max_age_seconds"] == settings.HEALTH_HEARTBEAT_MAX_AGE

        traveller.shift(dt.timedelta(seconds=settings.HEALTH_HEARTBEAT_MAX_AGE))
        r = Client().get("/readyz")
        assert r.status_code == 503
        assert r.json()["checks"]["heartbeat"]["ok"] is False


def test_an_unreachable_broker_fails_readyz_within_its_timeout(db, with_broker):
    tasks.heartbeat()
    # Nothing listens on port 1 of the loopback: the connection is refused at once.
    with_broker.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    started = time.monotonic()
    r = Client().get("/readyz")
    assert time.monotonic() - started < 10
    assert r.status_code == 503
    broker = r.json()["checks"]["broker"]
    assert broker["ok"] is False
    assert broker["error"]


def test_the_heartbeat_task_writes_one_row_and_beat_runs_it_every_minute(db, tasks_in_process):
    tasks.heartbeat.delay()
    tasks.heartbeat.delay()
    assert Heartbeat.objects.count() == 1
    entry = settings.CELERY_BEAT_SCHEDULE["heartbeat"]
    assert entry["task"] == "core.tasks.heartbeat"
    assert entry["schedule"] == 60.0
