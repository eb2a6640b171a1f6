"""Queue a Celery task once the current transaction commits, without importing it.

Services never import tasks (tasks import services): a service names the task by its dotted
path, which is resolved only when the transaction has committed. So the job never runs against
rows it cannot see yet, and a rolled-back write queues nothing.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.module_loading import import_string


def enqueue_on_commit(task_path: str, *args: object, **kwargs: object) -> None:
    """`import_string(task_path).delay(*args, **kwargs)` after the commit (at once outside a
    transaction)."""

    def send() -> None:
        import_string(task_path).delay(*args, **kwargs)

    transaction.on_commit(send)
