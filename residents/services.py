"""Writes for the residents app."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.exceptions import PermissionDenied, ValidationError

from core.permissions import ensure_in_scope
from core.scope import scope_for
from grids.models import GridWorker
from residents.models import Household, Visit


@transaction.atomic
def record_visit(
    *,
    user: Any,
    household: Household,
    worker: GridWorker | None = None,
    visited_at: dt.datetime | None = None,
    method: str = Visit.Method.IN_PERSON,
    notes: str = "",
    follow_up_on: dt.date | None = None,
) -> Visit:
    """Log a visit (走访) to a household in the user's area.

    A grid worker logs their own visits; a committee member or street admin may log one for a
    worker of their area. Raises PermissionDenied outside the area.
    """
    ensure_in_scope(user, household)
    if worker is None:
        worker = GridWorker.objects.filter(user=user).first()
        if worker is None:
            raise ValidationError({"worker": [_("Say which grid worker made the visit.")]})
    else:
        ensure_may_log_for(user=user, worker=worker)
    return Visit.objects.create(
        worker=worker,
        household=household,
        visited_at=visited_at or timezone.now(),
        method=method,
        notes=notes,
        follow_up_on=follow_up_on,
    )


def ensure_may_log_for(*, user: Any, worker: GridWorker) -> None:
    """A grid worker logs only their own visits; a committee member or street admin may name
    any worker of their area. Raises PermissionDenied otherwise."""
    if worker.user_id == user.pk:
        return
    scope = scope_for(user)
    if not (scope.everything or scope.community_ids or scope.street_ids):
        raise PermissionDenied(_("A grid worker logs only their own visits."))
    ensure_in_scope(user, worker)
