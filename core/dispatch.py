"""Queue a Celery task once the current transaction commits, without importing it.

Services never import tasks (tasks import services): a service names the task by its dotted
path, which is resolved only when the transaction has committed. So the job never runs against
rows it cannot see yet, and a rolled-back write queues nothing.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _


def enqueue_on_commit(task_path: str, *args: object, **kwargs: object) -> None:
    """`import_string(task_path).delay(*args, **kwargs)` after the commit (at once outside a
    transaction)."""

    def send() -> None:
        import_string(task_path).delay(*args, **kwargs)

    transaction.on_commit(send)


class BrokerUnavailable(ValidationError):
    """The task broker cannot be reached: work that needs a background job is refused before
    anything is written (the API answers 503, the admin shows the message)."""


def ensure_broker_reachable(*, timeout: int = 3) -> None:
    """Raise BrokerUnavailable unless the broker answers a connection now. A no-op when tasks
    run in-process (no broker configured). Call it before the writes that queue a job, so a
    broker that is down refuses the request instead of leaving it half-started."""
    from celery import current_app

    if current_app.conf.task_always_eager:
        return
    try:
        with current_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=timeout)
    except Exception as exc:  # kombu's OperationalError, socket errors, redis's errors …
        raise BrokerUnavailable(
            _(
                "The task queue (broker) cannot be reached, so nothing was started. "
                "Please try again later or tell the system administrator."
            ),
            code="broker_unavailable",
        ) from exc
