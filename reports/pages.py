"""The dashboard page (一图看懂, issue 12): /dashboard/ for street admins, committee members and
the superuser. The page is a shell: its figures come from the reports API
(`/api/v1/reports/dashboard/` and `…/map/`, read by the built front end in frontend/dashboard
with the session cookie), which checks the scope again. Anyone else gets a Chinese 403 page;
an anonymous visitor goes to the login.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from core.quarters import CODE, parse_quarter, quarter_of
from reports.dashboard import may_see_dashboard

# The quarters the picker offers: this one and the ones before it.
QUARTERS_OFFERED = 8
BUNDLE = "dashboard/dashboard.js"


def quarter_choices(today: dt.date, count: int = QUARTERS_OFFERED) -> list[str]:
    """This quarter's code and the `count - 1` before it, newest first (2026Q4, 2026Q3 …)."""
    codes = []
    day = today
    for _step in range(count):
        bounds = quarter_of(day)
        codes.append(bounds.code)
        day = bounds.starts_on - dt.timedelta(days=1)
    return codes


def quarter_label(code: str) -> str:
    """2026Q4 → 2026年第4季度 (zh-hans), Q4 2026 (en)."""
    bounds = parse_quarter(code)
    return _("Q%(number)s %(year)s") % {
        "number": (bounds.starts_on.month + 2) // 3,
        "year": bounds.starts_on.year,
    }


def _built() -> bool:
    """Is the front end's build there (`make dashboard`), for the dev server or collected?"""
    return bool(finders.find(BUNDLE)) or staticfiles_storage.exists(BUNDLE)


@require_safe
@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """`/dashboard/?community=&grid=&quarter=`: the page; the query string goes on to the API."""
    if not may_see_dashboard(request.user):
        return render(request, "reports/dashboard_forbidden.html", status=403)
    if not _built():
        return render(request, "reports/dashboard_not_built.html", status=503)
    quarters = quarter_choices(timezone.localdate())
    asked = request.GET.get("quarter", "")
    current = asked if CODE.match(asked) else quarters[0]
    if current not in quarters:
        quarters.append(current)
    context = {
        "quarters": [(code, quarter_label(code)) for code in quarters],
        "current_quarter": current,
        "community": request.GET.get("community", ""),
        "grid": request.GET.get("grid", ""),
        "api_url": reverse("report-dashboard-list"),
        "map_url": reverse("report-dashboard-map"),
    }
    return render(request, "reports/dashboard.html", context)
