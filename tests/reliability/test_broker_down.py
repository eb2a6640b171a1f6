"""The broker down when a close is requested: a clear error (503 in the API, a message in the
admin) and nothing half-started — the quarter still open, no close row, no job, no key kept."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from core.idempotency import IdempotencyRecord
from points.models import Closing, Period
from points.services import ledger as ledger_services

DEAD_BROKER = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def ended_quarter():
    """The quarter before this one: over, so nothing but the broker stands in the way."""
    return ledger_services.period_for(timezone.localdate() - dt.timedelta(days=100))


@pytest.fixture
def broker_down(monkeypatch):
    from config.celery import app

    # Celery prefers the environment's CELERY_BROKER_URL (set in CI's broker pass) to its conf.
    monkeypatch.setenv("CELERY_BROKER_URL", DEAD_BROKER)

    def fresh_pool() -> None:
        # A closed pool stays closed ("Acquire on closed pool" for every later task, eager ones
        # too): drop it, and the app makes a new one for the broker configured now.
        from kombu import pools

        app.pool.force_close_all()
        pools.reset()  # kombu keeps one pool per broker address, closed ones included
        # What Celery itself drops after a fork: its connection pool and the producer pool
        # cached on app.amqp (which an eager task acquires from too).
        app._pool = None
        app.amqp._producer_pool = None

    before = {k: app.conf[k] for k in ("task_always_eager", "broker_url")}
    app.conf.update(task_always_eager=False, broker_url=DEAD_BROKER)
    fresh_pool()
    yield
    app.conf.update(before)
    fresh_pool()


def test_closing_with_the_broker_down_answers_503_and_starts_nothing(
    world, client_for, broker_down
):
    period = ended_quarter()
    response = client_for(world.admin1).post(
        f"/api/v1/periods/{period.code}/close/", HTTP_IDEMPOTENCY_KEY="close-1"
    )
    assert response.status_code == 503, response.content
    assert "任务队列" in response.json()["detail"]
    period.refresh_from_db()
    assert period.status == Period.Status.OPEN
    assert not Closing.objects.exists()
    assert not IdempotencyRecord.objects.exists()


def test_the_admin_action_reports_the_broker_down_and_starts_nothing(
    world, staff_client, broker_down
):
    period = ended_quarter()
    client = staff_client(world.admin1, "view_period")
    response = client.post(
        reverse("admin:points_period_changelist"),
        {"action": "close_quarters", "_selected_action": [period.pk]},
        follow=True,
    )
    assert response.status_code == 200
    texts = [str(m) for m in response.context["messages"]]
    assert any("broker" in t for t in texts), texts
    period.refresh_from_db()
    assert period.status == Period.Status.OPEN and not Closing.objects.exists()
