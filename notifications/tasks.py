"""Celery tasks of notifications: thin, each calls a service.

- deliver_batch: queued by notify() after the commit; one send_delivery per delivery;
- send_delivery: one try, retried with exponential backoff (NOTIFICATIONS_MAX_RETRIES);
  the last failure is recorded on the Delivery;
- send_held (beat, every 10 minutes): the SMS held for the quiet hours or the rate limit;
- send_worker_digests (beat, 07:30): the grid workers' daily digest;
- remind_activities_tomorrow (beat, 10:00): volunteers signed up for tomorrow's activities.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from notifications import digest, hooks, services


@shared_task
def deliver_batch(batch: str) -> int:
    ids = services.queued_in_batch(batch)
    for delivery_id in ids:
        send_delivery.delay(delivery_id)
    return len(ids)


@shared_task(bind=True, max_retries=settings.NOTIFICATIONS_MAX_RETRIES)
def send_delivery(self: Any, delivery_id: int) -> str:
    final = self.request.retries >= self.max_retries
    outcome = services.attempt_delivery(delivery_id=delivery_id, final=final)
    if outcome.status == "retry":
        countdown = get_exponential_backoff_interval(
            factor=settings.NOTIFICATIONS_RETRY_BACKOFF,
            retries=self.request.retries,
            maximum=settings.NOTIFICATIONS_RETRY_BACKOFF_MAX,
            full_jitter=True,
        )
        if self.request.is_eager:  # no broker (the embedded set-up, tests): retry at once
            return str(
                send_delivery.apply(args=(delivery_id,), retries=self.request.retries + 1).result
            )
        raise self.retry(countdown=countdown)
    return outcome.status


@shared_task
def tell_claims_decided(approver_id: int, decided_at: str) -> None:
    with transaction.atomic():
        hooks.claims_decided_by(approver_id=approver_id, decided_at=decided_at)


@shared_task
def tell_community_closed(period_id: int, community_id: int, deadline: str) -> None:
    with transaction.atomic():
        hooks.community_closed(period_id=period_id, community_id=community_id, deadline=deadline)


@shared_task
def send_held() -> int:
    ids = services.held_due(timezone.now())
    for delivery_id in ids:
        send_delivery.delay(delivery_id)
    return len(ids)


@shared_task
def send_worker_digests() -> int:
    return digest.send_worker_digests(today=timezone.localdate())


@shared_task
def remind_activities_tomorrow() -> int:
    return hooks.activities_tomorrow(today=timezone.localdate())
