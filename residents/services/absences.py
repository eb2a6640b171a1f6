"""Absences (外出登记): a grid worker records that a resident is away (外出务工, 住院, 探亲 …),
so that points claimed for them on those days can be looked at twice (reports.anomalies)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError

from core.permissions import ensure_in_scope
from core.types import User
from residents.models import Absence, Resident


def _check_span(starts_on: dt.date, ends_on: dt.date | None) -> None:
    if ends_on is not None and ends_on < starts_on:
        raise ValidationError({"ends_on": [_("The last day away cannot be before the first.")]})


@transaction.atomic
def record_absence(
    *,
    user: User,
    resident: Resident,
    starts_on: dt.date,
    reason: str,
    ends_on: dt.date | None = None,
    note: str = "",
) -> Absence:
    """Record a resident of the user's area as away from `starts_on` to `ends_on` (the last
    day away; None while still away). Raises PermissionDenied outside the area."""
    ensure_in_scope(user, resident)
    _check_span(starts_on, ends_on)
    return Absence.objects.create(
        resident=resident,
        starts_on=starts_on,
        ends_on=ends_on,
        reason=reason,
        note=note,
        recorded_by=user,
    )


@transaction.atomic
def change_absence(*, user: User, absence: Absence, **changes: object) -> Absence:
    """Change an absence (most often: record the day the resident came back). Moving it to
    another resident needs that resident in the user's area too."""
    ensure_in_scope(user, absence.resident)
    resident = changes.get("resident")
    if isinstance(resident, Resident) and resident.pk != absence.resident_id:
        ensure_in_scope(user, resident)
    for name, value in changes.items():
        setattr(absence, name, value)
    _check_span(absence.starts_on, absence.ends_on)
    absence.save()
    return absence
