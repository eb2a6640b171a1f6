from celery import shared_task

from residents.services import bulk as bulk_services


@shared_task
def escalate_overdue_needs() -> int:
    """Escalate overdue needs to the community, then the street (beat runs it daily)."""
    return bulk_services.escalate_overdue_needs()


@shared_task
def close_unrated_needs() -> int:
    """Close resolved needs nobody rated in time (beat runs it daily)."""
    return bulk_services.close_unrated_needs()
