"""Visits (走访): a grid worker's visit to a household, with the needs heard on it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError

from core.permissions import ensure_in_scope
from core.types import User
from grids.models import GridWorker
from residents.access import access_log_visit_for
from residents.models import Household, Visit
from residents.services.needs import record_need


@transaction.atomic
def record_visit(
    *,
    user: User,
    household: Household,
    worker: GridWorker | None = None,
    visited_at: dt.datetime | None = None,
    method: str = Visit.Method.IN_PERSON,
    notes: str = "",
    follow_up_on: dt.date | None = None,
    needs: list[dict[str, Any]] | None = None,
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
) -> Visit:
    """Log a visit (走访) to a household in the user's area, with the needs heard on it.

    A grid worker logs their own visits; a committee member or street admin may log one for a
    worker of their area. Raises PermissionDenied outside the area. Each of `needs` (the
    arguments of record_need but grid, household and visit) is recorded in the same
    transaction, as found on this visit: the visit and its needs are saved together or not at
    all, so a phone that retries never leaves half of them.

    `latitude`/`longitude` (the phone's position, checked by the serializer with
    core.geo.clean_point) become the household's location on the map when it has none: the
    first visit places the household, later ones never move it.
    """
    ensure_in_scope(user, household)
    if worker is None:
        worker = GridWorker.objects.filter(user=user).first()
        if worker is None:
            raise ValidationError({"worker": [_("Say which grid worker made the visit.")]})
    else:
        access_log_visit_for(user, worker)
    visit = Visit.objects.create(
        worker=worker,
        household=household,
        visited_at=visited_at or timezone.now(),
        method=method,
        notes=notes,
        follow_up_on=follow_up_on,
    )
    if latitude is not None and longitude is not None and household.latitude is None:
        # One conditional UPDATE: two first visits at once place the household once.
        Household.objects.filter(pk=household.pk, latitude__isnull=True).update(
            latitude=latitude, longitude=longitude
        )
    needs = needs or []
    for i, need in enumerate(needs):
        try:
            record_need(user=user, visit=visit, **need)
        except ValidationError as exc:
            # Said of the i-th need, as DRF says errors of a nested list ({"0": {...}}).
            # An int key, as DRF's own nested-list errors have (the stubs allow str keys only).
            raise ValidationError({"needs": {i: exc.detail}}) from None  # type: ignore[dict-item]
    return visit
