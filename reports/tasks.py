"""Report beats (thin: each calls a service)."""

from __future__ import annotations

from celery import shared_task

from reports import services


@shared_task
def refresh_dashboard_snapshots() -> int:
    """Recompute every street's dashboard snapshot (every DASHBOARD_SNAPSHOT_MINUTES)."""
    return services.refresh_dashboard_snapshots()
