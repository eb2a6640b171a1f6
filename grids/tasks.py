"""Council beats (thin: each calls a service)."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from grids import services


@shared_task
def plan_next_month_councils() -> int:
    """Plan next month's council (the 10th, cut-off the 7th) for every community."""
    return services.plan_councils(month=services.next_month(timezone.localdate()))


@shared_task
def fix_due_agendas() -> int:
    """Fix the agendas whose cut-off day is over (daily); returns the items added."""
    return services.fix_due_agendas()
