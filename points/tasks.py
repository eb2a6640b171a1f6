from celery import shared_task

from points import services
from points.services import current_period


@shared_task
def ensure_current_period() -> str:
    """Create the quarter as time passes (beat runs it daily), so it exists before it is needed."""
    return current_period().code


@shared_task
def open_due_redemptions() -> int:
    """Open the redemption windows that communities asked to have opened at quarter end."""
    return services.open_due_redemptions()


@shared_task
def refund_uncollected() -> int:
    """Refund the orders not collected by their community's collection deadline."""
    return services.refund_uncollected()


@shared_task
def close_period(period_id: int) -> str:
    """The close of a quarter (chunked per community, resumable; see services.close_period)."""
    closing = services.close_period(period_id)
    return f"{closing.communities_done}/{closing.communities_total}"
