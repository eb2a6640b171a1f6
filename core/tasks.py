from celery import shared_task

from core.services import purge_idempotency_records


@shared_task
def purge_idempotency_keys() -> int:
    return purge_idempotency_records()


@shared_task
def ping() -> str:
    """Answers 'pong': lets a deploy (and CI) check that a worker takes tasks from the broker."""
    return "pong"


@shared_task
def heartbeat() -> str:
    """Every minute from beat: the time a worker last ran a task, which /readyz reports."""
    from django.utils import timezone

    from core.health import HEARTBEAT
    from core.models import Heartbeat

    at = timezone.now()
    Heartbeat.objects.update_or_create(name=HEARTBEAT, defaults={"at": at})
    return at.isoformat()
