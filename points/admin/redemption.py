"""Admin for the redemption: the catalog, windows (opened through the service) and orders
(read, with the hand-over recorded)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import (
    HttpRequest,
    HttpResponseRedirect,
)
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.admin import ScopedModelAdmin, ScopedRelatedFilter
from core.types import acting_user
from points.admin.common import REFUSALS, ReadOnlyAdminMixin, refusal_text
from points.models import (
    CatalogItem,
    Order,
    OrderLine,
    RedemptionWindow,
)
from points.services import redemption as redemption_services

# ---------------------------------------------------------------------------- redemption


@admin.register(CatalogItem)
class CatalogItemAdmin(ScopedModelAdmin):
    """The community's catalog (积分云超市). An item that has been ordered is made inactive,
    not deleted (the order lines protect it)."""

    list_display = ["name", "community", "points", "unit", "limit_per_quarter", "active"]
    list_editable = ["points", "active"]
    list_filter = ["active", ("community", ScopedRelatedFilter)]
    list_select_related = ["community"]
    search_fields = ["name"]

    def delete_model(self, request: HttpRequest, obj: CatalogItem) -> None:
        redemption_services.delete_catalog_item(user=acting_user(request), item=obj)

    @transaction.atomic
    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[CatalogItem]) -> None:
        for item in queryset:
            redemption_services.delete_catalog_item(user=acting_user(request), item=item)


class _WindowRefused(Exception):
    """open_redemption refused: shown as a message on the add form."""


@admin.register(RedemptionWindow)
class RedemptionWindowAdmin(ReadOnlyAdminMixin, ScopedModelAdmin):
    """A street admin opens a community's window here (through points.services.
    open_redemption, as the API does); the beat task opens it for communities that ask. Once
    open, a window is read only."""

    list_display = ["period", "community", "opens_on", "closes_on", "opened_by"]
    list_filter = ["period", ("community", ScopedRelatedFilter)]
    list_select_related = ["period", "community", "opened_by"]
    fields = ["period", "community", "opens_on", "closes_on"]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return admin.ModelAdmin.has_add_permission(self, request)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        try:
            window = redemption_services.open_redemption(
                period=obj.period,
                community=obj.community,
                opens_on=obj.opens_on,
                closes_on=obj.closes_on,
                user=acting_user(request),
            )
        except (ValidationError, PermissionDenied) as exc:
            raise _WindowRefused("; ".join(getattr(exc, "messages", None) or [str(exc)])) from exc
        obj.pk = window.pk  # the admin's log entry and redirect name the window opened

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: Any = None) -> Any:
        # The service's refusals (not a street admin of that street, the quarter already
        # closing) come back as a message on the form, not as an error page.
        try:
            return super().add_view(request, form_url, extra_context)
        except _WindowRefused as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


class OrderLineInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = OrderLine
    fields = ["item", "quantity", "points"]
    readonly_fields = ["item", "quantity", "points"]
    extra = 0


@admin.register(Order)
class OrderAdmin(ReadOnlyAdminMixin, ScopedModelAdmin):
    """Orders are placed and cancelled through points.services; here they are read, and a
    grid worker or the committee may record hand-overs."""

    list_display = [
        "id", "resident", "community", "period", "status", "total_points", "placed_at",
        "handed_over_at",
    ]  # fmt: skip
    list_filter = ["status", "period", ("community", ScopedRelatedFilter)]
    list_select_related = ["resident", "community", "period"]
    search_fields = ["resident__name"]
    inlines = [OrderLineInline]
    actions = ["hand_over_selected"]

    @admin.action(description=_("Record the hand-over of the selected orders"))
    def hand_over_selected(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        done = 0
        for order in queryset:
            try:
                redemption_services.hand_over(user=acting_user(request), order=order)
                done += 1
            except REFUSALS as exc:
                self.message_user(request, f"#{order.pk}: {refusal_text(exc)}", messages.ERROR)
        if done:
            self.message_user(
                request,
                ngettext("%(count)d order handed over.", "%(count)d orders handed over.", done)
                % {"count": done},
                messages.SUCCESS,
            )
