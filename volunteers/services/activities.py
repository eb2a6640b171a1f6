"""Writes for volunteer activities: the only code that saves an Activity, Signup or Attendance
(the admin's plain forms aside, which call these for anything with a rule): activities, sign-up
with capacity and waitlist, attendance (check-in and check-out) and completion, which claims
the points of the hours worked."""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import ROUND_DOWN, Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.types import User
from points.services import claims as claims_services
from points.services import rulebooks as rulebooks_services
from volunteers.access import access_manage_team
from volunteers.models import Activity, Attendance, Membership, Signup, Team
from volunteers.services.teams import _acting_for, own_membership

# A member may check in this long before the activity starts.
CHECK_IN_OPENS_BEFORE = dt.timedelta(hours=1)
HOURS = Decimal("0.01")
# The most Attendance.hours holds (max_digits=6, decimal_places=2).
MAX_HOURS = Decimal("9999.99")

# ----------------------------------------------------------------------------- activities


def _lock(activity: Activity) -> Activity:
    """The activity, locked for the transaction: sign-ups, withdrawals, check-ins and the
    completion of one activity queue up behind each other."""
    return (
        Activity.objects.select_for_update(of=("self",)).select_related("team").get(pk=activity.pk)
    )


def _ensure_planned(activity: Activity) -> None:
    if activity.status != Activity.Status.PLANNED:
        raise ValidationError(
            _(
                "This activity is %(status)s: only a planned activity takes sign-ups and "
                "attendance (planned → done | cancelled)."
            )
            % {"status": activity.get_status_display()},
            code="activity_not_planned",
        )


def _check_times(starts_at: dt.datetime, ends_at: dt.datetime) -> None:
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": [_("The activity must end after it starts.")]})


@transaction.atomic
def create_activity(
    *,
    user: User,
    team: Team,
    title: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    place: str,
    capacity: int,
    description: str = "",
) -> Activity:
    access_manage_team(user, team)
    _check_times(starts_at, ends_at)
    if capacity < 1:
        raise ValidationError({"capacity": [_("At least one place.")]})
    return Activity.objects.create(
        team=team,
        title=title,
        starts_at=starts_at,
        ends_at=ends_at,
        place=place,
        capacity=capacity,
        description=description,
    )


def _confirmed(activity: Activity) -> int:
    return Signup.objects.filter(activity=activity, status=Signup.Status.CONFIRMED).count()


def _promote(activity: Activity) -> int:
    """Fill free places from the waitlist, first come first served. Call under the lock."""
    free = activity.capacity - _confirmed(activity)
    if free <= 0:
        return 0
    first = Signup.objects.filter(activity=activity, status=Signup.Status.WAITLISTED).order_by(
        "created_at", "id"
    )
    ids = list(first.values_list("id", flat=True)[:free])
    return Signup.objects.filter(id__in=ids).update(status=Signup.Status.CONFIRMED)


@transaction.atomic
def update_activity(*, user: User, activity: Activity, **fields: Any) -> Activity:
    """Change a planned activity. Fewer places than are confirmed is refused; more places
    move the waitlist up."""
    activity = _lock(activity)
    access_manage_team(user, activity.team)
    _ensure_planned(activity)
    team = fields.pop("team", activity.team)
    if team.pk != activity.team_id:
        raise ValidationError({"team": [_("An activity stays with the team that holds it.")]})
    _check_times(
        fields.get("starts_at", activity.starts_at), fields.get("ends_at", activity.ends_at)
    )
    capacity = fields.get("capacity", activity.capacity)
    confirmed = _confirmed(activity)
    if capacity < confirmed:
        raise ValidationError(
            {
                "capacity": [
                    _("%(count)d members are confirmed: the capacity cannot go below that.")
                    % {"count": confirmed}
                ]
            }
        )
    for key, value in fields.items():
        setattr(activity, key, value)
    activity.save()
    _promote(activity)
    return activity


@transaction.atomic
def cancel_activity(*, user: User, activity: Activity) -> Activity:
    """Cancel a planned activity; cancelling it again changes nothing."""
    activity = _lock(activity)
    access_manage_team(user, activity.team)
    if activity.status == Activity.Status.CANCELLED:
        return activity
    _ensure_planned(activity)
    activity.status = Activity.Status.CANCELLED
    activity.save(update_fields=["status"])
    return activity


@transaction.atomic
def delete_activity(*, user: User, activity: Activity) -> None:
    activity = _lock(activity)
    access_manage_team(user, activity.team)
    if activity.status != Activity.Status.PLANNED or activity.signups.exists():
        raise ValidationError(
            _("Members have signed up for this activity, or it took place: cancel it instead.")
        )
    activity.delete()


# ----------------------------------------------------------------------------- sign-up


@transaction.atomic
def sign_up(*, user: User, activity: Activity, membership: Membership | None = None) -> Signup:
    """Sign a member up: confirmed while there is a place, else on the waitlist.

    The activity's row is locked before the places are counted, so concurrent sign-ups queue
    up and exactly `capacity` are confirmed. Signing up again returns the sign-up there is.
    """
    activity = _lock(activity)
    member = _acting_for(user, activity, membership)
    _ensure_planned(activity)
    if activity.starts_at <= timezone.now():
        raise ValidationError(_("The activity has started: sign-up is closed."))
    existing = (
        Signup.objects.filter(activity=activity, membership=member)
        .exclude(status=Signup.Status.WITHDRAWN)
        .first()
    )
    if existing is not None:
        return existing
    status = (
        Signup.Status.CONFIRMED
        if _confirmed(activity) < activity.capacity
        else Signup.Status.WAITLISTED
    )
    return Signup.objects.create(activity=activity, membership=member, status=status)


@transaction.atomic
def withdraw(*, user: User, activity: Activity, membership: Membership | None = None) -> Signup:
    """Withdraw a sign-up; a confirmed place goes to the first on the waitlist."""
    activity = _lock(activity)
    member = _acting_for(user, activity, membership)
    _ensure_planned(activity)
    if activity.starts_at <= timezone.now():
        raise ValidationError(_("The activity has started: a sign-up can no longer be withdrawn."))
    signup = (
        Signup.objects.filter(activity=activity, membership=member)
        .exclude(status=Signup.Status.WITHDRAWN)
        .first()
    )
    if signup is None:
        raise ValidationError(_("There is no sign-up to withdraw."), code="not_signed_up")
    signup.status = Signup.Status.WITHDRAWN
    signup.withdrawn_at = timezone.now()
    signup.save(update_fields=["status", "withdrawn_at"])
    _promote(activity)
    return signup


# ----------------------------------------------------------------------------- attendance


def hours_between(start: dt.datetime, end: dt.datetime) -> Decimal:
    """Service hours from check-in to check-out, to the hundredth of an hour (rounded down).
    Both are aware datetimes, so 22:00 to 01:30 the next day is 3.5 hours."""
    seconds = Decimal((end - start).total_seconds())
    return (seconds / Decimal(3600)).quantize(HOURS, rounding=ROUND_DOWN)


def activity_for_token(token: str) -> Activity | None:
    """The activity whose QR code carries `token`."""
    if not token or len(token) > 64:
        return None
    return Activity.objects.select_related("team__community").filter(check_in_token=token).first()


def _set_times(
    attendance: Attendance, checked_in_at: dt.datetime, checked_out_at: dt.datetime | None
) -> None:
    if checked_out_at is not None and checked_out_at <= checked_in_at:
        raise ValidationError({"at": [_("The check-out must come after the check-in.")]})
    hours = hours_between(checked_in_at, checked_out_at) if checked_out_at is not None else None
    if hours is not None and hours > MAX_HOURS:
        raise ValidationError(
            {
                "at": [
                    _("The check-out must come within %(hours)s hours of the check-in.")
                    % {"hours": MAX_HOURS}
                ]
            }
        )
    attendance.checked_in_at = checked_in_at
    attendance.checked_out_at = checked_out_at
    attendance.hours = hours


@transaction.atomic
def check_in(
    *,
    user: User,
    activity: Activity,
    token: str | None = None,
    membership: Membership | None = None,
    at: dt.datetime | None = None,
) -> Attendance:
    """Check a member in.

    A member checks themselves in with the code of the activity's QR code, from an hour
    before it starts until it ends; they need a confirmed sign-up, or are signed up on the
    spot while there is a place. Checking in again changes nothing. A manager records the
    check-in of any member of the team, at any time given (a correction moves it).
    """
    activity = _lock(activity)
    member = _acting_for(user, activity, membership)
    _ensure_planned(activity)
    now = timezone.now()
    existing = Attendance.objects.filter(activity=activity, membership=member).first()
    if own_membership(user, activity.team) == member and at is None:
        # As bytes: compare_digest refuses str with non-ASCII characters (a TypeError).
        if token is None or not secrets.compare_digest(
            token.encode(), activity.check_in_token.encode()
        ):
            raise PermissionDenied(_("Scan the activity's QR code to check in."))
        if existing is not None:
            return existing
        if not activity.starts_at - CHECK_IN_OPENS_BEFORE <= now <= activity.ends_at:
            raise ValidationError(
                _("Check-in opens an hour before the activity starts and closes when it ends.")
            )
        signup = (
            Signup.objects.filter(activity=activity, membership=member)
            .exclude(status=Signup.Status.WITHDRAWN)
            .first()
        )
        if signup is None and _confirmed(activity) < activity.capacity:
            signup = Signup.objects.create(
                activity=activity, membership=member, status=Signup.Status.CONFIRMED
            )
        if signup is None or signup.status != Signup.Status.CONFIRMED:
            raise ValidationError(
                _("The activity is full and you have no confirmed place."), code="no_place"
            )
        return Attendance.objects.create(activity=activity, membership=member, checked_in_at=now)
    # A manager records it (for themselves too, when a time is given).
    access_manage_team(user, activity.team)
    attendance = existing or Attendance(activity=activity, membership=member)
    _set_times(attendance, at or now, attendance.checked_out_at)
    attendance.recorded_by = user
    attendance.save()
    return attendance


@transaction.atomic
def check_out(
    *,
    user: User,
    activity: Activity,
    membership: Membership | None = None,
    at: dt.datetime | None = None,
) -> Attendance:
    """Check a member out; the hours are counted from the check-in.

    A member's own check-out counts until now, at most until the activity's end (a forgotten
    check-out does not run on through the night); checking out again changes nothing. A
    manager records any time given.
    """
    activity = _lock(activity)
    member = _acting_for(user, activity, membership)
    _ensure_planned(activity)
    attendance = Attendance.objects.filter(activity=activity, membership=member).first()
    if attendance is None:
        raise ValidationError(_("Check in before checking out."), code="not_checked_in")
    if own_membership(user, activity.team) == member and at is None:
        if attendance.checked_out_at is not None:
            return attendance
        out = min(timezone.now(), activity.ends_at)
        if out <= attendance.checked_in_at:
            raise ValidationError({"at": [_("The check-out must come after the check-in.")]})
        _set_times(attendance, attendance.checked_in_at, out)
    else:
        access_manage_team(user, activity.team)
        _set_times(attendance, attendance.checked_in_at, at or timezone.now())
        attendance.recorded_by = user
    attendance.save()
    return attendance


# ----------------------------------------------------------------------------- completion


def points_for(hours: Decimal, per_hour: int) -> int:
    """Whole points for `hours` at `per_hour` points an hour, rounded down."""
    return int((hours * per_hour).to_integral_value(rounding=ROUND_DOWN))


@transaction.atomic
def complete_activity(*, user: User, activity: Activity) -> Activity:
    """Mark a planned activity done and claim points for its attendees' hours, once.

    Under the activity's lock: an activity already done is returned as it is (nothing more is
    claimed, also when two requests race); a cancelled one is refused. An attendee who did not
    check out is counted until the activity's end. With the team's hours rule, each attendee's
    hours × the rule's points per hour (rounded down) become one claim (submitted by the
    caller, approved by the committee like any claim); past the rule's cap per quarter the
    claim is cut to what is left. The attendance keeps its claim, or says why there is none.
    """
    activity = _lock(activity)
    access_manage_team(user, activity.team)
    if activity.status == Activity.Status.DONE:
        return activity
    _ensure_planned(activity)
    now = timezone.now()
    if activity.starts_at > now:
        raise ValidationError(_("The activity has not started yet: it cannot be done."))
    activity.status = Activity.Status.DONE
    activity.completed_at = now
    activity.completed_by = user
    activity.save(update_fields=["status", "completed_at", "completed_by"])

    rule = activity.team.hours_rule
    occurred_on = timezone.localdate(activity.starts_at)
    if rule is not None:  # its code in the rule book version in force that day (issue 15)
        rule = rulebooks_services.rule_in_force(rule, activity.team.community_id, occurred_on)
    attendances = Attendance.objects.filter(activity=activity, claim__isnull=True).select_related(
        "membership__resident"
    )
    for attendance in attendances.order_by("id"):
        if attendance.checked_out_at is None:
            out = min(activity.ends_at, now)
            if out > attendance.checked_in_at:
                _set_times(attendance, attendance.checked_in_at, out)
        note = ""
        hours = attendance.hours or Decimal(0)
        points = points_for(hours, rule.points) if rule is not None else 0
        if rule is None or not rule.active:
            note = _("The team has no active points rule for service hours.")
        elif points < 1:
            note = _("Less than one point's worth of hours.")
        else:
            claim = claims_services.submit_hours_claim(
                user=user,
                resident=attendance.membership.resident,
                rule=rule,
                points=points,
                occurred_on=occurred_on,
                note=_("%(hours)s hours of volunteer service: %(activity)s")
                % {"hours": hours, "activity": activity.title},
            )
            attendance.claim = claim
            if claim is None:
                note = _("The rule's cap for the quarter is reached: no points.")
            elif claim.points < points:
                note = _("Cut to %(points)d of %(earned)d points by the rule's cap.") % {
                    "points": claim.points,
                    "earned": points,
                }
        attendance.points_note = note[:200]
        attendance.save()
    return activity
