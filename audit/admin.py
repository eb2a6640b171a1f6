"""The audit log in the admin: read-only, scoped to the street admin's street, with filters,
search and an export for an inspector (CSV, opened by Excel)."""

from __future__ import annotations

import csv
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit import services
from audit.models import AuditEvent
from core.admin import ScopedModelAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(ScopedModelAdmin):
    list_display = ["at", "username", "ip", "action", "object_type", "object_id", "description"]
    list_filter = ["action", "object_type", ("at", admin.DateFieldListFilter), "street"]
    search_fields = ["username", "ip", "object_id", "description", "path"]
    search_help_text = _("Username, IP address, object id, description or path.")
    date_hierarchy = "at"
    actions = ["export_csv"]
    show_full_result_count = False
    list_per_page = 100

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("Export the selected events (CSV)"), permissions=["view"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet[AuditEvent]) -> HttpResponse:
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="audit-log-{stamp}.csv"'
        response.write("\ufeff")  # Excel reads UTF-8 with the byte-order mark
        writer = csv.writer(response)
        fields = [
            "at",
            "username",
            "ip",
            "action",
            "object_type",
            "object_id",
            "description",
            "path",
        ]
        writer.writerow(
            [str(getattr(AuditEvent._meta.get_field(f), "verbose_name", f)) for f in fields]
        )
        count = 0
        for row in queryset.order_by("at", "id").iterator(chunk_size=2000):
            count += 1
            writer.writerow(
                [
                    timezone.localtime(row.at).isoformat(timespec="seconds"),
                    row.username,
                    row.ip or "",
                    row.get_action_display(),
                    row.object_type,
                    row.object_id,
                    row.description,
                    row.path,
                ]
            )
        # Exporting the log is itself an export of names: it goes into the log too.
        services.record_export(
            what=str(_("Audit log")), object_type="audit.auditevent", count=count, request=request
        )
        return response
