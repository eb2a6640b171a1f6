"""Admin for quarters: their printable notices and card sheets, and the close."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import (
    HttpRequest,
    HttpResponse,
)
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.types import acting_user
from grids.models import Grid
from points import access
from points.admin.common import ReadOnlyAdminMixin, refusal_text
from points.models import (
    Period,
)
from points.services import close as close_services

# ---------------------------------------------------------------------------- quarters


@admin.register(Period)
class PeriodAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Quarters are opened by the services (and their status moved by the quarterly close).
    Each quarter's page links to the printable notice and card sheet of every grid in scope."""

    list_display = ["code", "starts_on", "ends_on", "status", "notices"]
    list_filter = ["status"]
    fields = ["code", "starts_on", "ends_on", "status"]
    change_form_template = "admin/points/period/change_form.html"
    actions = ["close_quarters"]

    @admin.action(description=_("Close the selected quarters"))
    def close_quarters(self, request: HttpRequest, queryset: QuerySet[Period]) -> None:
        """Start the close of each selected quarter (services.close.start_close; the job runs in
        the background). A refusal (a window still open, not a street admin) is reported."""
        for period in queryset.order_by("starts_on"):
            try:
                close_services.start_close(period=period, user=acting_user(request))
            except (ValidationError, PermissionDenied) as exc:
                self.message_user(request, f"{period.code}: {refusal_text(exc)}", messages.ERROR)
                continue
            self.message_user(
                request,
                gettext("The close of %(period)s has started.") % {"period": period.code},
                messages.SUCCESS,
            )

    @admin.display(description=_("public notices"))
    def notices(self, obj: Period) -> str:
        url = reverse("admin:points_period_change", args=[obj.pk])
        return format_html('<a href="{}#notices">{}</a>', url, gettext("Notices and cards"))

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        period = self.get_object(request, unquote(object_id))
        extra = dict(extra_context or {})
        if period is not None:
            grids = list(
                Grid.objects.for_user(request.user)
                .select_related("community")
                .order_by("community__name", "name")
            )
            lists = reverse("period-distribution-list", args=[period.code])
            extra["notice_grids"] = [
                {
                    "grid": grid,
                    "notice_url": reverse("points:notice", args=[period.code, grid.pk]),
                    "sheet_url": reverse("points:card_sheet", args=[grid.pk]),
                    # The paper path (issue 14): this month's statements, today's visit sheet.
                    "statement_url": reverse("points:statement", args=[grid.pk]),
                    "visit_sheet_url": reverse("points:visit_sheet", args=[grid.pk]),
                    "distribution_url": f"{lists}?grid={grid.pk}&format=html",
                    "distribution_xlsx": f"{lists}?grid={grid.pk}&format=xlsx",
                }
                for grid in grids
            ]
            # The purchase lists (采购清单) of the communities the user runs: links, so nobody
            # has to type the API's address.
            purchase = reverse("period-purchase-list", args=[period.code])
            communities = {grid.community_id: grid.community for grid in grids}
            extra["purchase_communities"] = [
                {
                    "community": community,
                    "html": f"{purchase}?community={community.pk}&format=html",
                    "xlsx": f"{purchase}?community={community.pk}&format=xlsx",
                }
                for community in communities.values()
                if access.may_run_community(acting_user(request), community)
            ]
            extra["lists_built"] = period.status == Period.Status.CLOSED
            # The audit export (审计导出, issue 15) of each community the user may export.
            audit_export = reverse("points-audit-export-list")
            extra["audit_exports"] = [
                {
                    "community": community,
                    "xlsx": f"{audit_export}?period={period.code}&community={community.pk}"
                    "&format=xlsx",
                    "zip": f"{audit_export}?period={period.code}&community={community.pk}"
                    "&format=zip",
                }
                for community in communities.values()
                if access.may_audit_export(acting_user(request), community)
            ]
        return super().change_view(request, object_id, form_url, extra)
