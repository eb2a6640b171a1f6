"""Admin for the redemption: the catalog, windows (opened through the service) and orders
(read, with the hand-over recorded)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
)
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from core.admin import ScopedModelAdmin, ScopedRelatedFilter
from core.types import AnyUser, acting_user
from points.admin.common import REFUSALS, ReadOnlyAdminMixin, refusal_text
from points.models import (
    CatalogItem,
    Order,
    OrderLine,
    Period,
    RedemptionWindow,
)
from points.services import redemption as redemption_services
from residents.models import Resident

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
    open_redemption, as the API does); the beat task opens it for communities that ask. Until
    its last day has passed (and while its quarter is not being closed) the street admin can
    correct its dates and pickup place and time, through the same service; after that it is
    read only."""

    list_display = ["period", "community", "opens_on", "closes_on", "opened_by"]
    list_filter = ["period", ("community", ScopedRelatedFilter)]
    list_select_related = ["period", "community", "opened_by"]
    fields = ["period", "community", "opens_on", "closes_on", "pickup_place", "pickup_time"]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return admin.ModelAdmin.has_add_permission(self, request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if not admin.ModelAdmin.has_change_permission(self, request, obj):
            return False
        return obj is None or self.correctable(obj)

    @staticmethod
    def correctable(window: RedemptionWindow) -> bool:
        """Not over yet (Beijing time) and its quarter not closing or closed. Read from the
        database: on a POST the form has already put the new, unsaved dates on `window`."""
        return RedemptionWindow.objects.filter(
            pk=window.pk,
            closes_on__gte=timezone.localdate(),
            period__status__in=(Period.Status.OPEN, Period.Status.REDEEMING),
        ).exists()

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # Which quarter and community a window belongs to is fixed once it exists.
        return ["period", "community"] if obj is not None else []

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> Any:
        try:
            return super().change_view(request, object_id, form_url, extra_context)
        except _WindowRefused as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        try:
            window = redemption_services.open_redemption(
                period=obj.period,
                community=obj.community,
                opens_on=obj.opens_on,
                closes_on=obj.closes_on,
                user=acting_user(request),
                pickup_place=obj.pickup_place,
                pickup_time=obj.pickup_time,
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


ORDER_LINES = 5


class PlaceOrderForm(forms.Form):
    """Ordering for a resident in the admin (a grid worker for someone without a phone): the
    resident and up to five items with their quantities, for redemption_services.place_order."""

    def __init__(
        self, *args: Any, user: AnyUser, admin_site: admin.AdminSite, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["resident"] = forms.ModelChoiceField(
            queryset=Resident.objects.for_user(user),
            label=_("resident"),
            widget=AutocompleteSelect(Order._meta.get_field("resident"), admin_site),
        )
        items = (
            CatalogItem.objects.for_user(user)
            .filter(active=True)
            .select_related("community")
            .order_by("community__name", "points", "name")
        )
        for n in range(1, ORDER_LINES + 1):
            item = forms.ModelChoiceField(
                queryset=items, label=_("item %(n)d") % {"n": n}, required=n == 1
            )
            item.label_from_instance = (  # type: ignore[method-assign]
                lambda obj: f"{obj.community.name} · {obj.name}（{obj.points}{gettext('points')}）"
            )
            self.fields[f"item{n}"] = item
            self.fields[f"quantity{n}"] = forms.IntegerField(
                label=_("quantity"), min_value=1, max_value=99, initial=1, required=False
            )

    def lines(self) -> list[tuple[CatalogItem, int]]:
        data = self.cleaned_data
        return [
            (data[f"item{n}"], data.get(f"quantity{n}") or 1)
            for n in range(1, ORDER_LINES + 1)
            if data.get(f"item{n}")
        ]


@admin.register(Order)
class OrderAdmin(ReadOnlyAdminMixin, ScopedModelAdmin):
    """Orders are placed and cancelled through points.services; here they are read, a grid
    worker or the committee orders for a resident (the same service as the resident's shop),
    and records hand-overs."""

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return admin.ModelAdmin.has_add_permission(self, request)

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        if not self.has_add_permission(request):
            # A clear word instead of a bare 403: who orders, and where.
            self.message_user(
                request,
                gettext(
                    "Orders are placed by the resident on their points page, or for them by "
                    "their grid worker or the committee."
                ),
                messages.ERROR,
            )
            return HttpResponseRedirect(reverse("admin:points_order_changelist"))
        initial = {k: request.GET[k] for k in ("resident",) if k in request.GET}
        form = PlaceOrderForm(
            request.POST or None,
            initial=initial,
            user=acting_user(request),
            admin_site=self.admin_site,
        )
        if request.method == "POST" and form.is_valid():
            try:
                order = redemption_services.place_order(
                    user=acting_user(request),
                    resident=form.cleaned_data["resident"],
                    lines=form.lines(),
                )
            except REFUSALS as exc:
                form.add_error(None, refusal_text(exc))
            else:
                self.log_addition(request, order, [{"added": {}}])
                self.message_user(
                    request,
                    gettext("Order #%(id)d placed for %(resident)s: %(points)d points.")
                    % {"id": order.pk, "resident": order.resident, "points": order.total_points},
                    messages.SUCCESS,
                )
                if "_addanother" in request.POST:
                    return HttpResponseRedirect(request.path)
                return HttpResponseRedirect(reverse("admin:points_order_change", args=[order.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Order for a resident"),
            "opts": self.model._meta,
            "form": form,
            "media": self.media + form.media,
            "submit_label": gettext("Place the order"),
            "another_label": gettext("Place and order for another"),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/points/claim/submit.html", context)

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
