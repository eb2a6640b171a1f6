"""Set-based steps of the needs loop: the admin's bulk actions and the daily jobs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from core.types import User
from grids.models import GridWorker, PartnerUnit
from residents.models import Need, NeedEvent
from residents.services.needs import STEPS, S, _check_due_on, _one_assignee, _staff_scope

# Set-based steps: the admin's bulk actions and the daily jobs. However many needs they touch,
# each is a locking SELECT of ids, one UPDATE and one INSERT of events per batch of ids.

BATCH = 500


@dataclass(frozen=True)
class BulkResult:
    done: int
    skipped: int


def _locked_rows(needs: QuerySet[Need]) -> list[tuple[int, str]]:
    """(id, status) of `needs`, locked in id order (two bulk steps over overlapping needs queue
    instead of deadlocking)."""
    return list(needs.order_by("pk").select_for_update(of=("self",)).values_list("pk", "status"))


def _apply(
    rows: list[tuple[int, str]],
    *,
    kind: str,
    actor: User | None,
    to_status: str | None = None,
    data: dict[str, Any] | None = None,
    **fields: Any,
) -> int:
    """Update the needs of `rows` (to `to_status`, and `fields`) and log one event each."""
    now = timezone.now()
    if to_status is not None:
        fields["status"] = to_status
    actor = actor if getattr(actor, "is_authenticated", False) else None
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        Need.objects.filter(pk__in=[pk for pk, _status in batch]).update(**fields)
        NeedEvent.objects.bulk_create(
            NeedEvent(
                need_id=pk,
                kind=kind,
                from_status=status if to_status else "",
                to_status=to_status or "",
                actor=actor,
                at=now,
                data=data or {},
            )
            for pk, status in batch
        )
    return len(rows)


def _handled_by(user: User, needs: QuerySet[Need]) -> QuerySet[Need]:
    """The needs among `needs` that `user` handles (as _ensure_handles)."""
    return Need.objects.for_scope(_staff_scope(user)).filter(pk__in=needs.values("pk"))


@transaction.atomic
def bulk_accept_needs(*, user: User, needs: QuerySet[Need]) -> BulkResult:
    """Accept the new needs among `needs` that the user handles; skip the rest."""
    requested = needs.count()
    rows = _locked_rows(_handled_by(user, needs).filter(status__in=STEPS["accept"].allowed_from))
    done = _apply(rows, kind=NeedEvent.Kind.ACCEPTED, actor=user, to_status=S.ACCEPTED)
    return BulkResult(done=done, skipped=requested - done)


@transaction.atomic
def bulk_assign_needs(
    *,
    user: User,
    needs: QuerySet[Need],
    due_on: dt.date,
    worker: GridWorker | None = None,
    department: str = "",
    partner_unit: PartnerUnit | None = None,
) -> BulkResult:
    """Assign many needs at once to one worker, department or partner unit with one due date
    (the admin's needs board). Needs the user does not handle, in a status that cannot be
    assigned, or outside the assignee's community (or the partner unit's communities) are
    skipped."""
    requested = needs.count()
    _check_due_on(due_on)
    assignee = _one_assignee(worker, department, partner_unit)
    candidates = _handled_by(user, needs).filter(status__in=STEPS["assign"].allowed_from)
    if worker is not None:
        candidates = candidates.filter(grid__community_id=worker.community_id)
    elif partner_unit is not None:
        signed = partner_unit.agreements.values("community_id")
        candidates = candidates.filter(grid__community_id__in=signed)
    rows = _locked_rows(candidates)
    ids = [pk for pk, _status in rows]
    for start in range(0, len(ids), BATCH):
        Need.offered_to.through.objects.filter(need_id__in=ids[start : start + BATCH]).delete()
    done = _apply(
        rows,
        kind=NeedEvent.Kind.ASSIGNED,
        actor=user,
        to_status=S.ASSIGNED,
        data={**assignee.data(), "due_on": due_on.isoformat()},
        assigned_worker=assignee.worker,
        assigned_department=assignee.department,
        assigned_partner=assignee.partner_unit,
        due_on=due_on,
        assigned_at=timezone.now(),
    )
    return BulkResult(done=done, skipped=requested - done)


@transaction.atomic
def escalate_overdue_needs(*, today: dt.date | None = None) -> int:
    """The daily job: an open need past its due date goes up to the community; once it is
    NEED_STREET_ESCALATION_DAYS overdue, to the street. Idempotent: a need is escalated to a
    level once. Returns how many needs went up."""
    today = today or timezone.localdate()
    overdue = Need.objects.overdue(today)
    street_by = today - dt.timedelta(days=settings.NEED_STREET_ESCALATION_DAYS)
    to_street = _locked_rows(
        overdue.filter(due_on__lte=street_by, escalation__lt=Need.Escalation.STREET)
    )
    done = _apply(
        to_street,
        kind=NeedEvent.Kind.ESCALATED,
        actor=None,
        data={"escalation": Need.Escalation.STREET},
        escalation=Need.Escalation.STREET,
    )
    to_community = _locked_rows(overdue.filter(escalation=Need.Escalation.NONE))
    return done + _apply(
        to_community,
        kind=NeedEvent.Kind.ESCALATED,
        actor=None,
        data={"escalation": Need.Escalation.COMMUNITY},
        escalation=Need.Escalation.COMMUNITY,
    )


@transaction.atomic
def close_unrated_needs(*, now: dt.datetime | None = None) -> int:
    """The daily job: resolved needs nobody rated within NEED_RATING_DAYS are closed unrated.
    Returns how many."""
    now = now or timezone.now()
    rows = _locked_rows(
        Need.objects.filter(
            status=S.RESOLVED,
            rating__isnull=True,
            resolved_at__lt=now - dt.timedelta(days=settings.NEED_RATING_DAYS),
        )
    )
    return _apply(
        rows,
        kind=NeedEvent.Kind.CLOSED,
        actor=None,
        to_status=S.CLOSED,
        data={"unrated": True},
        closed_at=now,
    )
