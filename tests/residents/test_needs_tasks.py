"""The needs' daily jobs: scheduled by beat, thin over their services, safe to run twice."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.conf import settings
from django.utils import timezone

from config.celery import app
from residents import tasks
from residents.models import Need
from tests.residents.needs_helpers import need_in


def test_beat_runs_the_escalation_and_the_unrated_close_daily():
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {
        "residents.tasks.escalate_overdue_needs",
        "residents.tasks.close_unrated_needs",
    } <= scheduled
    assert {"residents.tasks.escalate_overdue_needs", "residents.tasks.close_unrated_needs"} <= set(
        app.tasks
    )


def test_the_jobs_escalate_and_close_through_their_services_once(world):
    late = need_in(world, "assigned")
    resolved = need_in(world, "resolved")
    with time_machine.travel(timezone.now() + dt.timedelta(days=30)):
        assert tasks.escalate_overdue_needs.apply().get() == 1
        assert tasks.escalate_overdue_needs.apply().get() == 0
        assert tasks.close_unrated_needs.apply().get() == 1
        assert tasks.close_unrated_needs.apply().get() == 0
    late.refresh_from_db()
    resolved.refresh_from_db()
    assert late.escalation == Need.Escalation.STREET
    assert resolved.status == "closed"
