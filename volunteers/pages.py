"""The server-rendered volunteer pages: an activity's printable QR code (for its managers) and
the page that code opens, where a logged-in member checks in and out; and the team leader's
pages (issue 16): their teams, each team's members and activities, an activity's sign-ups and
waitlist, recording attendance for members without a phone, completing the activity.

Thin views: reads through volunteers.selectors, who may through volunteers.access, writes
through volunteers.services; templates under templates/volunteers/ (the QR code extends
print_base.html, the check-in page base.html)."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.types import acting_user
from points.pages import qr_svg
from volunteers import access, selectors
from volunteers.models import Activity, Membership, Team
from volunteers.services import activities as activities_services
from volunteers.services import teams as teams_services


def check_in_url(request: HttpRequest, activity: Activity) -> str:
    return request.build_absolute_uri(
        reverse("volunteers:check_in", args=[activity.check_in_token])
    )


@login_required
def activity_qr(request: HttpRequest, activity_id: int) -> HttpResponse:
    """The activity's QR code, to print or show on a screen at the place (managers only)."""
    activity = selectors.printable_activity(request.user, activity_id)
    if activity is None or not access.may_manage_team(request.user, activity.team):
        raise Http404
    url = check_in_url(request, activity)
    return render(
        request,
        "volunteers/activity_qr.html",
        {"activity": activity, "url": url, "qr": qr_svg(url, title=activity.title)},
    )


@login_required
def check_in(request: HttpRequest, token: str) -> HttpResponse:
    """What scanning an activity's QR code opens: GET shows the activity and a button, POST
    checks the member in (or, once in, out)."""
    activity = activities_services.activity_for_token(token)
    if activity is None:
        raise Http404
    membership = teams_services.own_membership(request.user, activity.team)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "out":
                activities_services.check_out(user=acting_user(request), activity=activity)
                messages.success(request, _("Checked out. Thank you for your service!"))
            else:
                activities_services.check_in(
                    user=acting_user(request), activity=activity, token=token
                )
                messages.success(request, _("Checked in."))
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        return HttpResponseRedirect(request.path)
    attendance = selectors.attendance_of(activity, membership)
    return render(
        request,
        "volunteers/check_in.html",
        {"activity": activity, "membership": membership, "attendance": attendance},
    )


# ---------------------------------------------------------------------------- the team leader
# Reads through volunteers.selectors; who may through access.may_manage_team (a team outside
# the user's management answers 404); writes through volunteers.services.activities, the
# same functions the API's check-in, check-out and complete actions call.

UPCOMING_SHOWN = 10
PAST_SHOWN = 10


def _not_a_leader(request: HttpRequest) -> HttpResponse:
    return render(request, "volunteers/not_a_leader.html", status=403)


def _managed_team(request: HttpRequest, team_id: int) -> Team:
    team = selectors.managed_team(request.user, team_id)
    if team is None or not access.may_manage_team(request.user, team):
        raise Http404
    return team


def _managed_activity(request: HttpRequest, activity_id: int) -> Activity:
    activity = selectors.printable_activity(request.user, activity_id)
    if activity is None or not access.may_manage_team(request.user, activity.team):
        raise Http404
    return activity


@login_required
def leader_home(request: HttpRequest) -> HttpResponse:
    """The teams the user leads; with one team, that team's page."""
    teams = list(selectors.led_teams(request.user))
    if not teams:
        return _not_a_leader(request)
    if len(teams) == 1:
        return HttpResponseRedirect(reverse("volunteers:leader_team", args=[teams[0].pk]))
    return render(request, "volunteers/leader_home.html", {"teams": teams})


@login_required
def leader_team(request: HttpRequest, team_id: int) -> HttpResponse:
    """A team's members (who has a login to check in by phone) and its activities."""
    team = _managed_team(request, team_id)
    now = timezone.now()
    activities = selectors.team_activities_list(team)
    return render(
        request,
        "volunteers/leader_team.html",
        {
            "team": team,
            "members": list(selectors.roster(team)),
            "upcoming": list(
                activities.filter(ends_at__gte=now, status=Activity.Status.PLANNED).order_by(
                    "starts_at", "id"
                )[:UPCOMING_SHOWN]
            ),
            "past": list(
                activities.exclude(ends_at__gte=now, status=Activity.Status.PLANNED).order_by(
                    "-starts_at", "-id"
                )[:PAST_SHOWN]
            ),
        },
    )


def _has_phone(membership: Membership) -> bool:
    return bool(membership.user_id or membership.resident.user_id)


def _local_time(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%H:%M")


def _render_activity(
    request: HttpRequest,
    activity: Activity,
    *,
    errors: list[str] | None = None,
    checked: set[int] | None = None,
    times: tuple[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    signups = list(selectors.activity_signups(activity))
    attendances = list(selectors.activity_attendances(activity))
    attended = {a.membership_id for a in attendances}
    confirmed = {s.membership_id for s in signups if s.status == s.Status.CONFIRMED}
    not_yet = [m for m in selectors.roster(activity.team) if m.pk not in attended]
    # Those with a confirmed place first, then the rest of the team.
    not_yet.sort(key=lambda m: (m.pk not in confirmed, m.role != m.Role.LEADER, m.pk))
    return render(
        request,
        "volunteers/leader_activity.html",
        {
            "activity": activity,
            "team": activity.team,
            "confirmed": [s for s in signups if s.status == s.Status.CONFIRMED],
            "waitlist": [s for s in signups if s.status == s.Status.WAITLISTED],
            "attendances": attendances,
            "to_record": [(m, _has_phone(m), m.pk in confirmed) for m in not_yet],
            "checked": checked or set(),
            "time_in": times[0] if times else _local_time(activity.starts_at),
            "time_out": times[1] if times else _local_time(activity.ends_at),
            "errors": errors or [],
            "started": activity.starts_at <= timezone.now(),
        },
        status=status,
    )


@login_required
def leader_activity(request: HttpRequest, activity_id: int) -> HttpResponse:
    """An activity: its sign-ups and waitlist, who attended, the QR code, the attendance form
    for members without a phone, and completing it."""
    return _render_activity(request, _managed_activity(request, activity_id))


def _at(day: dt.date, raw: str) -> dt.datetime:
    try:
        clock = dt.time.fromisoformat(raw.strip())
    except ValueError:
        raise ValidationError(_("Enter the times as hours and minutes, e.g. 09:30.")) from None
    return timezone.make_aware(dt.datetime.combine(day, clock.replace(second=0, microsecond=0)))


@login_required
@require_POST
def leader_attendance(request: HttpRequest, activity_id: int) -> HttpResponse:
    """Record the ticked members as attending from `time_in` to `time_out` (by default the
    activity's hours), through check_in and check_out as a manager: all of them or, refused,
    none, and the form comes back as it was ticked."""
    activity = _managed_activity(request, activity_id)
    raw_ids = request.POST.getlist("member")
    ids = {int(i) for i in raw_ids if i.isdigit()}
    times = (request.POST.get("time_in", ""), request.POST.get("time_out", ""))
    members = list(Membership.objects.filter(team=activity.team, active=True, pk__in=ids))
    user = acting_user(request)
    try:
        if not members:
            raise ValidationError(_("Tick at least one member."))
        starts_on = timezone.localdate(activity.starts_at)
        ends_on = timezone.localdate(activity.ends_at)
        time_in, time_out = _at(starts_on, times[0]), _at(ends_on, times[1])
        with transaction.atomic():
            for membership in members:
                activities_services.check_in(
                    user=user, activity=activity, membership=membership, at=time_in
                )
                activities_services.check_out(
                    user=user, activity=activity, membership=membership, at=time_out
                )
    except (ValidationError, PermissionDenied) as exc:
        errors = [str(m) for m in getattr(exc, "messages", [str(exc)])]
        activity.refresh_from_db()
        if activity.status != Activity.Status.PLANNED:
            # No form to come back to (done or cancelled meanwhile): the messages, on its page.
            for message in errors:
                messages.error(request, message)
            return HttpResponseRedirect(reverse("volunteers:leader_activity", args=[activity.pk]))
        return _render_activity(
            request, activity, errors=errors, checked=ids, times=times, status=400
        )
    messages.success(
        request,
        _("Attendance recorded for %(count)d members.") % {"count": len(members)},
    )
    return HttpResponseRedirect(reverse("volunteers:leader_activity", args=[activity.pk]))


@login_required
@require_POST
def leader_complete(request: HttpRequest, activity_id: int) -> HttpResponse:
    """Mark the activity done: the service claims the points of the hours, once."""
    activity = _managed_activity(request, activity_id)
    try:
        activity = activities_services.complete_activity(
            user=acting_user(request), activity=activity
        )
    except (ValidationError, PermissionDenied) as exc:
        for message in getattr(exc, "messages", [str(exc)]):
            messages.error(request, message)
    else:
        claims = activity.attendances.filter(claim__isnull=False).count()
        messages.success(
            request,
            _("The activity is done: %(count)d points claims go to the committee for approval.")
            % {"count": claims},
        )
    return HttpResponseRedirect(reverse("volunteers:leader_activity", args=[activity.pk]))
