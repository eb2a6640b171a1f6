"""Reads for the residents app, scoped to a user, with the joins each list needs."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.db.models import (
    Case,
    CharField,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Concat
from django.utils import timezone

from core.types import AnyUser
from residents.models import (
    Absence,
    Household,
    Need,
    NeedEvent,
    Rectification,
    Resident,
    Tag,
    Visit,
)


def households_for(user: AnyUser) -> QuerySet[Household]:
    return Household.objects.for_user(user)


def _suffixed(field: str, suffix: str) -> Case:
    """`field` + `suffix` when the field is filled, nothing otherwise (as Household.address)."""
    return Case(
        When(**{field: ""}, then=Value("")),
        default=Concat(F(field), Value(suffix)),
        output_field=CharField(),
    )


def shown_address(prefix: str = "") -> Case:
    """Household.address as an SQL expression: 幸福小区3号楼2单元301, 一组3号. `prefix` is
    the path to the household ("household__" from a resident or a visit)."""
    p = prefix
    return Case(
        When(
            **{f"{p}complex": ""},
            then=Concat(F(f"{p}village_group"), _suffixed(f"{p}house_number", "号")),
        ),
        default=Concat(
            F(f"{p}complex"),
            _suffixed(f"{p}building", "号楼"),
            _suffixed(f"{p}unit", "单元"),
            F(f"{p}room"),
            output_field=CharField(),
        ),
        output_field=CharField(),
    )


def search_by_shown_address(queryset: QuerySet[Any], text: str, prefix: str = "") -> QuerySet[Any]:
    """The rows of `queryset` whose household's address, as it is displayed, contains `text`
    with its spaces taken out: "一组3号", "一组 3号" and "3号楼2单元" all find what the lists
    show. (Searching field by field cannot: no field holds "3号".)"""
    text = re.sub(r"\s+", "", text or "")
    if not text:
        return queryset.none()
    matching = queryset.annotate(_shown_address=shown_address(prefix)).filter(
        _shown_address__contains=text
    )
    return queryset.filter(pk__in=matching.values("pk"))


def residents_for(user: AnyUser) -> QuerySet[Resident]:
    return Resident.objects.for_user(user).select_related("household").prefetch_related("tags")


def visits_for(user: AnyUser) -> QuerySet[Visit]:
    return Visit.objects.for_user(user).prefetch_related("needs")


def tags_for(user: AnyUser) -> QuerySet[Tag]:
    return Tag.objects.all()


def residents_due_for_visit(
    user: AnyUser, *, today: dt.date | None = None, within_days: int = 0
) -> QuerySet[Resident]:
    """Residents in the user's scope whose tags call for a visit by `today + within_days`.

    A resident's schedule is the most frequent of their tags (the smallest `visit_every_days`);
    the last visit is the latest to their household. Never visited counts as due. The test is
    one SQL filter per distinct frequency (there are a handful), so it stays in the database.
    """
    today = today or timezone.localdate()
    horizon = today + dt.timedelta(days=within_days)
    tz = timezone.get_current_timezone()
    every = Tag.objects.filter(residents=OuterRef("pk"), visit_every_days__isnull=False)
    last = Visit.objects.filter(household=OuterRef("household_id")).order_by("-visited_at")
    qs = (
        Resident.objects.for_user(user)
        .annotate(
            visit_every_days=Subquery(
                every.order_by("visit_every_days").values("visit_every_days")[:1]
            ),
            last_visited_at=Subquery(last.values("visited_at")[:1]),
        )
        .filter(visit_every_days__isnull=False)
    )
    due = Q(last_visited_at__isnull=True)
    # order_by() on the frequency itself: Tag's default ordering (id) would otherwise join the
    # DISTINCT and give one filter per tag instead of one per frequency.
    frequencies = (
        Tag.objects.filter(visit_every_days__isnull=False)
        .order_by("visit_every_days")
        .values_list("visit_every_days", flat=True)
        .distinct()
    )
    # On SQLite nothing bounds a tag's frequency; a schedule reaching back before the first
    # representable day would overflow the cutoff, and can only make never-visited residents due.
    longest = (horizon - (dt.date.min + dt.timedelta(days=1))).days
    for days in frequencies:
        if days is None or days > longest:  # (None is filtered out above)
            continue
        # Due when date(last) + days <= horizon, i.e. last < the start of (horizon - days + 1).
        cutoff_day = horizon - dt.timedelta(days=days - 1)
        cutoff = dt.datetime.combine(cutoff_day, dt.time.min, tzinfo=tz)
        due |= Q(visit_every_days=days, last_visited_at__lt=cutoff)
    return (
        qs.filter(due)
        .select_related("household")
        .order_by(F("last_visited_at").asc(nulls_first=True), "id")
    )


# ---------------------------------------------------------------------------- needs


def visit_due(
    *, last_visited_at: dt.datetime | None, visit_every_days: int, today: dt.date
) -> tuple[dt.date | None, str, int | None]:
    """When a resident is due for a visit, and how it stands today: (due_on, status,
    days_overdue), status being never_visited, overdue or due. The one place this is worked
    out, for visits/due/ and the field app's bundle alike."""
    if last_visited_at is None:
        return None, "never_visited", None
    due_on = timezone.localtime(last_visited_at).date() + dt.timedelta(days=visit_every_days)
    return due_on, "overdue" if due_on < today else "due", (today - due_on).days


def needs_for(user: AnyUser) -> QuerySet[Need]:
    """The needs the user may see, with what the needs list shows of each."""
    return (
        Need.objects.for_user(user)
        .select_related(
            "grid",
            "household",
            "resident",
            "assigned_worker",
            "assigned_partner",
            "rating",
            "rectification",
            "reported_by",
        )
        .prefetch_related("offered_to", "photos")
    )


def need_timeline(*, need: Need) -> QuerySet[NeedEvent]:
    """A need's events, oldest first."""
    return NeedEvent.objects.filter(need=need).select_related("actor").order_by("at", "id")


def rectifications_for(user: AnyUser) -> QuerySet[Rectification]:
    return Rectification.objects.for_user(user).select_related("need", "rating", "accepted_by")


def absences_for(user: AnyUser) -> QuerySet[Absence]:
    """The absences (外出登记) of the residents the user may see."""
    return Absence.objects.for_user(user).select_related("resident", "recorded_by")


# ---------------------------------------------------------------------------- partner units


def partner_needs(*, unit_ids: frozenset[int] | set[int]) -> QuerySet[Need]:
    """The needs and micro-wishes offered or assigned to these partner units (a contact's
    units, core.scope: partner_unit_ids), for the partner's page: a subquery for the offers,
    so a need offered to two of the units is listed once."""
    offered = Need.offered_to.through.objects.filter(partnerunit_id__in=unit_ids)
    return (
        Need.objects.filter(
            Q(assigned_partner_id__in=unit_ids) | Q(pk__in=offered.values("need_id"))
        )
        .select_related("grid__community", "assigned_partner", "rating")
        .prefetch_related("offered_to", "photos")
    )
