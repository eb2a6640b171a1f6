"""Reads for volunteers: scoped lists with their joins, and the service-hours reports."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from volunteers.models import Activity, Attendance, Membership, PartnerOrganisation, Signup, Team

PERIOD_CODE = re.compile(r"^(\d{4})Q([1-4])$")


def teams_for(user: Any) -> QuerySet[Team]:
    return Team.objects.for_user(user).select_related("community", "hours_rule")


def memberships_for(user: Any) -> QuerySet[Membership]:
    return Membership.objects.for_user(user).select_related("resident", "team")


def activities_for(user: Any) -> QuerySet[Activity]:
    return (
        Activity.objects.for_user(user)
        .select_related("team")
        .annotate(
            confirmed_count=Count("signups", filter=Q(signups__status=Signup.Status.CONFIRMED)),
            waitlisted_count=Count("signups", filter=Q(signups__status=Signup.Status.WAITLISTED)),
        )
    )


def signups_for(user: Any) -> QuerySet[Signup]:
    return Signup.objects.for_user(user).select_related("membership__resident")


def attendances_for(user: Any) -> QuerySet[Attendance]:
    return Attendance.objects.for_user(user).select_related("membership__resident", "claim")


def partner_organisations_for(user: Any) -> QuerySet[PartnerOrganisation]:
    return PartnerOrganisation.objects.for_user(user).select_related("community")


# ----------------------------------------------------------------------------- reports


def period_bounds(*, period: str | None = None, year: int | None = None) -> tuple[dt.date, dt.date]:
    """The first and last day of a quarter (its code, 2026Q4) or of a year."""
    if period is not None:
        match = PERIOD_CODE.match(period)
        if match is None:
            raise ValueError(period)
        y, q = int(match[1]), int(match[2])
        start = dt.date(y, 3 * q - 2, 1)
        end = dt.date(y + (q == 4), (3 * q) % 12 + 1, 1) - dt.timedelta(days=1)
        return start, end
    assert year is not None
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def _between(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    return (
        dt.datetime.combine(start, dt.time.min, tzinfo=tz),
        dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz),
    )


@dataclass(frozen=True)
class MemberHours:
    membership: int
    resident: int
    name: str
    team: int
    team_name: str
    activities: int
    hours: Decimal


@dataclass(frozen=True)
class TeamActivities:
    team: int
    team_name: str
    community: int
    activities: int
    attendances: int
    hours: Decimal


def _done_attendances(
    user: Any, start: dt.date, end: dt.date, team: int | None, community: int | None
) -> QuerySet[Attendance]:
    since, until = _between(start, end)
    qs = Attendance.objects.for_user(user).filter(
        activity__status=Activity.Status.DONE,
        activity__starts_at__gte=since,
        activity__starts_at__lt=until,
    )
    if team is not None:
        qs = qs.filter(activity__team_id=team)
    if community is not None:
        qs = qs.filter(activity__team__community_id=community)
    return qs


def member_hours(
    *,
    user: Any,
    start: dt.date,
    end: dt.date,
    team: int | None = None,
    community: int | None = None,
) -> list[MemberHours]:
    """Service hours per member of the activities done (by their start) from `start` to
    `end`, both included; the members the user may see, most hours first."""
    rows = (
        _done_attendances(user, start, end, team, community)
        .order_by()
        .values(
            "membership_id",
            "membership__resident_id",
            "membership__resident__name",
            "membership__team_id",
            "membership__team__name",
        )
        .annotate(activities=Count("activity_id", distinct=True), hours=Sum("hours"))
        .order_by("-hours", "membership_id")
    )
    return [
        MemberHours(
            membership=r["membership_id"],
            resident=r["membership__resident_id"],
            name=r["membership__resident__name"],
            team=r["membership__team_id"],
            team_name=r["membership__team__name"],
            activities=r["activities"],
            hours=r["hours"] or Decimal(0),
        )
        for r in rows
    ]


def team_activities(
    *,
    user: Any,
    start: dt.date,
    end: dt.date,
    team: int | None = None,
    community: int | None = None,
) -> list[TeamActivities]:
    """Activities done per team from `start` to `end` (by their start), with attendances and
    hours; the teams the user may see, in name order."""
    since, until = _between(start, end)
    done = Q(
        activities__status=Activity.Status.DONE,
        activities__starts_at__gte=since,
        activities__starts_at__lt=until,
    )
    teams = Team.objects.for_user(user)
    if team is not None:
        teams = teams.filter(pk=team)
    if community is not None:
        teams = teams.filter(community_id=community)
    counts = {
        t["id"]: t
        for t in teams.order_by()
        .values("id", "name", "community_id")
        .annotate(activities=Count("activities", filter=done, distinct=True))
    }
    hours = {
        r["activity__team_id"]: r
        for r in _done_attendances(user, start, end, team, community)
        .order_by()
        .values("activity__team_id")
        .annotate(attendances=Count("id"), hours=Sum("hours"))
    }
    return [
        TeamActivities(
            team=t["id"],
            team_name=t["name"],
            community=t["community_id"],
            activities=t["activities"],
            attendances=hours.get(t["id"], {}).get("attendances", 0),
            hours=hours.get(t["id"], {}).get("hours") or Decimal(0),
        )
        for t in sorted(counts.values(), key=lambda t: (t["name"], t["id"]))
    ]
