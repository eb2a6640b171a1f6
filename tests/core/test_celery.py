"""The Celery wiring: eager without a broker, a real round trip through one when there is one."""

import pytest
from django.conf import settings

from core.tasks import ping


def test_tasks_run_in_process_when_no_broker_is_configured(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    assert ping.apply().get() == "pong"


def test_long_jobs_are_acknowledged_late_and_within_the_visibility_timeout():
    assert settings.CELERY_TASK_ACKS_LATE is True
    assert settings.CELERY_TASK_REJECT_ON_WORKER_LOST is True
    assert settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert visibility > settings.CELERY_TASK_TIME_LIMIT


@pytest.mark.broker
def test_a_worker_takes_a_task_from_the_real_broker_and_answers():
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    if not app.conf.result_backend:
        pytest.skip("needs CELERY_RESULT_BACKEND to read the answer")
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        assert ping.delay().get(timeout=20) == "pong"
