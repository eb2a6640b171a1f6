"""Writes for the grids app."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils import timezone

from grids.models import GridAssignment


def end_assignments_today(*, assignments: QuerySet[GridAssignment]) -> tuple[int, int]:
    """End the given assignments today, in one UPDATE. Returns (ended, left alone).

    An assignment that starts after today cannot end today (the end may not precede the
    start), and one that has already ended keeps its date.
    """
    today = timezone.localdate()
    open_ = assignments.filter(Q(end_date__isnull=True) | Q(end_date__gt=today))
    ended = open_.filter(start_date__lte=today).update(end_date=today)
    future = open_.filter(start_date__gt=today).count()
    return ended, future
