"""The one write of the reports app: the dashboard snapshots (reports.models)."""

from __future__ import annotations

import json
import time
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from core.types import AnyUser
from grids.models import Street
from reports import dashboard
from reports.models import DashboardSnapshot
from reports.selectors import Quarter, quarter
from reports.serializers import DashboardSerializer


def refresh_snapshot(*, unit: dashboard.Unit) -> DashboardSnapshot:
    """Compute the unit's dashboard for the current quarter, as anyone who sees the unit whole
    would see it, and store it (replacing the last one)."""
    period = quarter()
    started = time.monotonic()
    data = dashboard.dashboard(user=dashboard.system_reader(), unit=unit, period=period)
    seconds = time.monotonic() - started
    # Stored as the API answers it, so a snapshot reads back exactly as the live figures.
    body = JSONRenderer().render(DashboardSerializer(data).data).decode()
    with transaction.atomic():
        snapshot, _ = DashboardSnapshot.objects.update_or_create(
            level=unit.level,
            unit_id=unit.id,
            quarter=period.code,
            defaults={"body": body, "computed_at": data["as_of"], "seconds": seconds},
        )
    return snapshot


def refresh_dashboard_snapshots() -> int:
    """Refresh the snapshot of every street (the beat task); returns how many. One street at
    a time, each in its own short transaction."""
    done = 0
    for street_id in Street.objects.order_by("id").values_list("id", flat=True):
        unit = dashboard.resolve_unit(user=dashboard.system_reader(), street=street_id)
        refresh_snapshot(unit=unit)
        done += 1
    # Snapshots of past quarters are never read (a past quarter is computed live).
    DashboardSnapshot.objects.exclude(quarter=quarter().code).delete()
    return done


def map_for(*, user: AnyUser, unit: dashboard.Unit, period: Quarter) -> dict[str, Any]:
    """The map of the unit: a street's grids coloured by the figures of its snapshot (the
    same numbers as its dashboard), anything else live."""
    figures = None
    if dashboard.snapshot_applies(unit, period):
        figures = json.loads(snapshot_body(unit=unit, period=period))
    return dashboard.map_features(user=user, unit=unit, period=period, figures=figures)


def snapshot_body(*, unit: dashboard.Unit, period: Quarter) -> str:
    """The unit's snapshot as JSON text, while younger than DASHBOARD_SNAPSHOT_MAX_AGE;
    computed and stored now if there is none that fresh."""
    fresh_since = timezone.now() - settings.DASHBOARD_SNAPSHOT_MAX_AGE
    body = (
        DashboardSnapshot.objects.filter(
            level=unit.level, unit_id=unit.id, quarter=period.code, computed_at__gte=fresh_since
        )
        .values_list("body", flat=True)
        .first()
    )
    return body if body is not None else refresh_snapshot(unit=unit).body


def dashboard_for(*, user: AnyUser, unit: dashboard.Unit, period: Quarter) -> dict[str, Any] | str:
    """The dashboard as the API answers it: a street's current quarter as the JSON text of
    its snapshot (snapshot_body), anything else the live figures (a dict for the serializer).
    The caller has checked that the user sees the unit whole (resolve_unit)."""
    if dashboard.snapshot_applies(unit, period):
        return snapshot_body(unit=unit, period=period)
    return dashboard.dashboard(user=user, unit=unit, period=period)
