"""Writes for the residents app."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.exceptions import PermissionDenied, ValidationError

from core.permissions import ensure_in_scope
from core.scope import scope_for
from grids.models import GridWorker
from residents.models import Household, Resident, Tag, Visit


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


# Set-based: one statement for the whole selection, however many residents it holds.


@transaction.atomic
def add_tag(*, residents: QuerySet[Resident], tag: Tag) -> int:
    """Give `tag` to every resident of `residents` who lacks it. Returns how many got it."""
    through = Resident.tags.through
    missing = list(
        residents.exclude(pk__in=through.objects.filter(tag=tag).values("resident_id"))
        .order_by()
        .values_list("pk", flat=True)
    )
    through.objects.bulk_create(
        [through(resident_id=pk, tag_id=tag.pk) for pk in missing],
        batch_size=1000,
        ignore_conflicts=True,  # a colleague tagging the same resident at the same moment
    )
    return len(missing)


@transaction.atomic
def remove_tag(*, residents: QuerySet[Resident], tag: Tag) -> int:
    """Take `tag` away from every resident of `residents`. Returns how many lost it."""
    through = Resident.tags.through
    pks = residents.order_by().values("pk")
    removed, _detail = through.objects.filter(tag=tag, resident_id__in=pks).delete()
    return removed


def release_headship(*, resident: Resident, old_household_id: int) -> None:
    """A resident who moved out no longer heads the household they left."""
    if resident.household_id != old_household_id:
        Household.objects.filter(pk=old_household_id, head=resident).update(head=None)
