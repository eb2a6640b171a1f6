"""The grid workers' daily digest (每日待办), sent by beat at 07:30: for each worker on duty,
one message with today's due and overdue visits and needs, instead of one per item; nothing
for a worker with nothing due.

The lists are the residents app's own reads (residents.selectors.residents_due_for_visit,
visit_due, needs_for), scoped to each worker as their pages are. This module is the one part
of notifications that reads another app's selectors; nothing imports it but the tasks.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model

from grids.models import GridAssignment, GridWorker
from notifications.events import Event
from notifications.services import Message, notify_many
from residents.models import Need
from residents.selectors import needs_for, residents_due_for_visit, visit_due

SHOWN = 5  # names and titles listed in the message; the rest are counted


def worker_digest(*, worker: GridWorker, today: dt.date) -> Message | None:
    """The digest of one worker (with a login), or None when nothing is due."""
    user = worker.user
    visits = {"overdue": [], "due": [], "never_visited": []}  # type: dict[str, list[str]]
    for resident in residents_due_for_visit(user, today=today).iterator():
        _due_on, status, _days = visit_due(
            last_visited_at=resident.last_visited_at,  # type: ignore[attr-defined]
            visit_every_days=resident.visit_every_days,  # type: ignore[attr-defined]
            today=today,
        )
        visits[status].append(resident.name)
    needs = list(
        needs_for(user)
        .filter(status__in=Need.OPEN_STATUSES, due_on__lte=today)
        .order_by("due_on", "id")
        .values_list("title", "due_on")
    )
    overdue_needs = [title for title, due_on in needs if due_on is not None and due_on < today]
    due_needs = [title for title, due_on in needs if due_on == today]
    visit_count = sum(len(v) for v in visits.values())
    if not visit_count and not needs:
        return None
    overdue_visits = visits["overdue"] + visits["never_visited"]
    return Message(
        event=Event.DAILY_DIGEST,
        about=f"digest:{today.isoformat()}",
        context={
            "name": worker.name,
            "date": today.isoformat(),
            "visits_overdue": len(overdue_visits),
            "visits_due": len(visits["due"]),
            "visit_names": "、".join((overdue_visits + visits["due"])[:SHOWN]),
            "visits_more": max(visit_count - SHOWN, 0),
            "needs_overdue": len(overdue_needs),
            "needs_due": len(due_needs),
            "need_titles": "、".join((overdue_needs + due_needs)[:SHOWN]),
            "needs_more": max(len(needs) - SHOWN, 0),
        },
        recipient_id=user.pk,
        email=user.email or "",
        community_id=worker.community_id,
        link="/m/",  # the field app's today list
    )


def send_worker_digests(*, today: dt.date) -> int:
    """One digest per grid worker with a login and a current assignment; the number sent.
    Run twice the same day, it tells nobody twice (the dedupe key names the day)."""
    on_duty = GridAssignment.objects.current(today).values("worker_id")
    workers = GridWorker.objects.filter(
        pk__in=on_duty, user__isnull=False, user__is_active=True
    ).order_by("id")
    messages: list[Message] = []
    told = 0
    for worker in workers.iterator():
        # A fresh user object per worker: the scope is cached on it (core.scope.scope_for).
        worker.user = get_user_model().objects.get(pk=worker.user_id)
        message = worker_digest(worker=worker, today=today)
        if message is not None:
            messages.append(message)
        if len(messages) >= 500:
            notify_many(messages)
            told, messages = told + len(messages), []
    notify_many(messages)
    return told + len(messages)
