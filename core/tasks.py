from celery import shared_task

from core.services import purge_idempotency_records


@shared_task
def purge_idempotency_keys() -> int:
    return purge_idempotency_records()


@shared_task
def ping() -> str:
    """Answers 'pong': lets a deploy (and CI) check that a worker takes tasks from the broker."""
    return "pong"
