"""Celery tasks of points: thin wrappers over the services (tasks import services, never the
other way round; a service queues a task by name through core.dispatch)."""

from celery import shared_task

from points.services import close, ledger, redemption, units


@shared_task
def ensure_current_period() -> str:
    """Create the quarter as time passes (beat runs it daily), so it exists before it is needed."""
    return ledger.current_period().code


@shared_task
def open_due_redemptions() -> int:
    """Open the redemption windows that communities asked to have opened at quarter end."""
    return redemption.open_due_redemptions()


@shared_task
def refund_uncollected() -> int:
    """Refund the orders not collected by their community's collection deadline."""
    return redemption.refund_uncollected()


@shared_task
def close_period(period_id: int) -> str:
    """The close of a quarter (chunked per community, resumable; see
    services.close.close_period)."""
    closing = close.close_period(period_id)
    return f"{closing.communities_done}/{closing.communities_total}"


@shared_task
def reset_exchange_points() -> int:
    """The yearly reset of exchange points of the communities whose date has come (once a
    year each; services.units.run_due_resets)."""
    return len(units.run_due_resets())
