"""Needs in any state of the loop, made the way users make them: through residents.services."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

from django.utils import timezone

from residents.models import Need
from residents.services import needs as needs_services
from residents.services import ratings as ratings_services

# The order of the loop; rejected branches off new.
PATH = ["new", "accepted", "assigned", "in_progress", "resolved", "closed"]


def due(days: int = 7) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=days)


def record(w: SimpleNamespace, **kw: Any) -> Need:
    """A need of grid 1 about resident 1 (the resident with a login), recorded by worker 1."""
    kw.setdefault("title", "路灯不亮")
    kw.setdefault("category", Need.Category.INFRASTRUCTURE)
    kw.setdefault("source", Need.Source.PATROL)
    if "grid" not in kw and "household" not in kw:
        kw.setdefault("resident", w.resident1)
    return needs_services.record_need(user=w.worker1.user, **kw)


def need_in(w: SimpleNamespace, status: str, **kw: Any) -> Need:
    """A need of grid 1 walked to `status` by worker 1, committee 1 and resident 1."""
    need = record(w, **kw)
    if status == "rejected":
        return needs_services.reject_need(user=w.committee1, need=need, reason="不属于社区职责")
    for step in PATH[1 : PATH.index(status) + 1]:
        if step == "accepted":
            need = needs_services.accept_need(user=w.committee1, need=need)
        elif step == "assigned":
            need = needs_services.assign_need(
                user=w.committee1, need=need, worker=w.worker1, due_on=due()
            )
        elif step == "in_progress":
            need = needs_services.start_need(user=w.worker1.user, need=need)
        elif step == "resolved":
            need = needs_services.resolve_need(user=w.worker1.user, need=need, resolution="已修好")
        elif step == "closed":
            need = ratings_services.rate_need(user=w.resident_user, need=need, level=5)
    need.refresh_from_db()
    assert need.status == status
    return need
