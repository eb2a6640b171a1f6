"""Reads for volunteers: scoped lists with their joins, and the service-hours reports."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from core.quarters import parse_quarter
from core.scope import scope_for
from core.types import AnyUser
from volunteers.models import Activity, Attendance, Membership, PartnerOrganisation, Signup, Team


def teams_for(user: AnyUser) -> QuerySet[Team]:
    return Team.objects.for_user(user).select_related("community", "hours_rule")


def memberships_for(user: AnyUser) -> QuerySet[Membership]:
    return Membership.objects.for_user(user).select_related("resident", "team")


def activities_for(user: AnyUser) -> QuerySet[Activity]:
    return (
        Activity.objects.for_user(user)
        .select_related("team")
        .annotate(
            confirmed_count=Count("signups", filter=Q(signups__status=Signup.Status.CONFIRMED)),
            waitlisted_count=Count("signups", filter=Q(signups__status=Signup.Status.WAITLISTED)),
        )
    )


def signups_for(user: AnyUser) -> QuerySet[Signup]:
    return Signup.objects.for_user(user).select_related("membership__resident")


def attendances_for(user: AnyUser) -> QuerySet[Attendance]:
    return Attendance.objects.for_user(user).select_related("membership__resident", "claim")


def partner_organisations_for(user: AnyUser) -> QuerySet[PartnerOrganisation]:
    return PartnerOrganisation.objects.for_user(user).select_related("community")


# ----------------------------------------------------------------------------- reports


def period_bounds(*, period: str | None = None, year: int | None = None) -> tuple[dt.date, dt.date]:
    """The first and last day of a quarter (its code, 2026Q4) or of a year."""
    if period is not None:
        _code, start, end = parse_quarter(period)  # ValueError for anything else
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
    user: AnyUser, start: dt.date, end: dt.date, team: int | None, community: int | None
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
    user: AnyUser,
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
    user: AnyUser,
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
        .annotate(done_activities=Count("activities", filter=done, distinct=True))
    }
    hours = {
        r["activity__team_id"]: r
        for r in _done_attendances(user, start, end, team, community)
        .order_by()
        .values("activity__team_id")
        .annotate(attendances=Count("id"), hours=Sum("hours"))
    }
    rows = []
    for t in sorted(counts.values(), key=lambda t: (t["name"], t["id"])):
        attended = hours.get(t["id"])
        rows.append(
            TeamActivities(
                team=t["id"],
                team_name=t["name"],
                community=t["community_id"],
                activities=t["done_activities"],
                attendances=attended["attendances"] if attended else 0,
                hours=(attended["hours"] if attended else None) or Decimal(0),
            )
        )
    return rows


# ---------------------------------------------------------------------------- pages


def printable_activity(user: AnyUser, activity_id: int) -> Activity | None:
    """An activity in the user's scope, with its team and community, for its QR page."""
    return (
        Activity.objects.for_user(user)
        .select_related("team__community")
        .filter(pk=activity_id)
        .first()
    )


def attendance_of(activity: Activity, membership: Membership | None) -> Attendance | None:
    """The member's attendance of the activity (None without a membership)."""
    if membership is None:
        return None
    return Attendance.objects.filter(activity=activity, membership=membership).first()


# ---------------------------------------------------------------------------- the leader's pages


def led_teams(user: AnyUser) -> QuerySet[Team]:
    """The teams the user leads (core.scope: team_ids), with their community and counts."""
    return (
        Team.objects.filter(pk__in=scope_for(user).team_ids)
        .select_related("community")
        .annotate(member_count=Count("memberships", filter=Q(memberships__active=True)))
        .order_by("name", "id")
    )


def managed_team(user: AnyUser, team_id: int) -> Team | None:
    """A team in the user's scope, with its community (the page then asks may_manage_team)."""
    return Team.objects.for_user(user).select_related("community").filter(pk=team_id).first()


def roster(team: Team) -> QuerySet[Membership]:
    """The team's active members, the leader first, with whether each has a login (a phone)."""
    return (
        Membership.objects.filter(team=team, active=True)
        .select_related("resident__user", "user")
        .order_by("role", "joined_on", "id")
    )


def team_activities_list(team: Team) -> QuerySet[Activity]:
    """The team's activities, newest first, with their confirmed and waitlisted counts."""
    return Activity.objects.filter(team=team).annotate(
        confirmed_count=Count(
            "signups", filter=Q(signups__status=Signup.Status.CONFIRMED), distinct=True
        ),
        waitlisted_count=Count(
            "signups", filter=Q(signups__status=Signup.Status.WAITLISTED), distinct=True
        ),
        attended_count=Count("attendances", distinct=True),
    )


def activity_signups(activity: Activity) -> QuerySet[Signup]:
    """The activity's confirmed and waitlisted sign-ups, in the order the waitlist moves up."""
    return (
        Signup.objects.filter(activity=activity)
        .exclude(status=Signup.Status.WITHDRAWN)
        .select_related("membership__resident")
        .order_by("created_at", "id")
    )


def activity_attendances(activity: Activity) -> QuerySet[Attendance]:
    return (
        Attendance.objects.filter(activity=activity)
        .select_related("membership__resident", "claim")
        .order_by("checked_in_at", "id")
    )
