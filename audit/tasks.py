from celery import shared_task

from audit.services import prune_audit_log


@shared_task
def prune_audit_events() -> int:
    """Delete the audit rows older than AUDIT_RETENTION_DAYS (beat, daily)."""
    return prune_audit_log()
