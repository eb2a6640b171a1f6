"""The anomaly check in the admin (积分异常核查, issue 15): /admin/points/anomalies/, linked from
the claims list and from each quarter's page. The flags of reports.anomalies grouped by kind,
each claim linking to its page in the admin; a quarter and a community to choose. For
committee members (their community) and street admins (their street); the admin's login and
staff check come from AdminSite.admin_view, which wraps it in config/urls.py.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from core.quarters import CODE
from reports import anomalies
from reports.anomalies import KIND_LABELS, KINDS, Thresholds
from reports.pages import quarter_choices, quarter_label
from reports.selectors import quarter


@require_safe
def points_anomalies(request: HttpRequest) -> HttpResponse:
    """`?period=2026Q4&community=<id>`: the flags of the quarter, grouped by kind."""
    if not anomalies.may_see_anomalies(request.user):
        raise PermissionDenied
    codes = quarter_choices(timezone.localdate())
    asked = request.GET.get("period", "")
    code = asked if CODE.match(asked) else codes[0]
    if code not in codes:
        codes.append(code)
    period = quarter(code)

    communities = list(
        anomalies.communities_for(request.user).select_related("street").order_by("street", "name")
    )
    chosen = next((c for c in communities if str(c.pk) == request.GET.get("community")), None)
    flags = anomalies.points_anomalies(request.user, period, chosen)

    groups: list[dict[str, Any]] = []
    for kind in KINDS:
        rows = [
            {
                "flag": flag,
                "claims": [
                    (pk, reverse("admin:points_claim_change", args=[pk])) for pk in flag.claims
                ],
                "entry_url": (
                    reverse("admin:points_entry_change", args=[flag.entry]) if flag.entry else ""
                ),
            }
            for flag in flags
            if flag.kind == kind
        ]
        groups.append({"kind": kind, "label": KIND_LABELS[kind], "rows": rows})

    query = {"period": code, "format": "xlsx"}
    if chosen is not None:
        query["community"] = str(chosen.pk)
    context = {
        **admin.site.each_context(request),
        "title": _("Points anomaly check"),
        "subtitle": quarter_label(code),
        "quarters": [(c, quarter_label(c)) for c in codes],
        "current_quarter": code,
        "communities": communities,
        "community": chosen,
        "groups": groups,
        "count": len(flags),
        "thresholds": Thresholds.from_settings(),
        "xlsx_url": f"{reverse('report-points-anomalies-list')}?{urlencode(query)}",
    }
    return TemplateResponse(request, "admin/reports/points_anomalies.html", context)
