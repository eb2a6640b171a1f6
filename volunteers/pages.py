"""The server-rendered volunteer pages: an activity's printable QR code (for its managers) and
the page that code opens, where a logged-in member checks in and out.

Thin views: reads through volunteers.selectors, who may through volunteers.access, writes
through volunteers.services; templates under templates/volunteers/ (the QR code extends
print_base.html, the check-in page base.html)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from core.types import acting_user
from points.pages import qr_svg
from volunteers import access, selectors
from volunteers.models import Activity
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
