"""The account unit of a community's points policy (issue 15), in the policy's admin.

`Policy.account_unit` (points counted per resident, or per household: 以户为单位) is never
edited on the form: a change moves every balance with transfer entries, which only
points.services.units.switch_account_unit does, at a quarter boundary. The policy's page shows
the unit read-only with a button that calls the switch (its refusal, e.g. "close 2026Q3
first", shown as the message), and the changelist has the same as two actions. The dates of
the yearly reset of exchange points (reset_month, reset_day) stay editable on the form.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.types import acting_user
from points.admin.common import REFUSALS, refusal_text
from points.models import Policy, UnitSwitch
from points.services import units as units_services

if TYPE_CHECKING:
    ModelAdminBase = admin.ModelAdmin[Policy]
else:
    ModelAdminBase = object

UNITS = (Policy.AccountUnit.RESIDENT, Policy.AccountUnit.HOUSEHOLD)


class AccountUnitAdminMixin(ModelAdminBase):
    """For the policy's admin: account_unit read-only, switched by a button or an action."""

    change_form_template = "admin/points/policy/change_form.html"
    actions = ["switch_to_households", "switch_to_residents"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [*super().get_readonly_fields(request, obj), "account_unit", "unit_switches"]

    def has_switch_permission(self, request: HttpRequest, obj: Policy | None = None) -> bool:
        return self.has_change_permission(request, obj)

    @admin.display(description=_("switches of the account unit"))
    def unit_switches(self, obj: Policy) -> str:
        if obj.pk is None:
            return "—"
        switches = UnitSwitch.objects.filter(community_id=obj.community_id).order_by(
            "-switched_at"
        )[:5]
        lines = [
            gettext("%(when)s: %(from)s → %(to)s, %(points)d points moved")
            % {
                "when": s.switched_at.strftime("%Y-%m-%d"),
                "from": Policy.AccountUnit(s.from_unit).label,
                "to": Policy.AccountUnit(s.to_unit).label,
                "points": s.points_moved,
            }
            for s in switches
        ]
        return "; ".join(lines) or "—"

    # ------------------------------------------------------------------ the switch

    def _switch(self, request: HttpRequest, policy: Policy, to_unit: str) -> bool:
        """Call the switch; its refusal (not at a quarter boundary, …) becomes the message."""
        try:
            switch = units_services.switch_account_unit(
                community=policy.community, to_unit=to_unit, by=acting_user(request)
            )
        except REFUSALS as exc:
            self.message_user(request, f"{policy.community}: {refusal_text(exc)}", messages.ERROR)
            return False
        self.log_change(request, policy, [{"changed": {"fields": ["account_unit"]}}])
        self.message_user(
            request,
            gettext(
                "%(community)s now counts points for %(unit)s: %(accounts)d accounts moved "
                "%(points)d points and %(honour)d honour points with transfer entries."
            )
            % {
                "community": policy.community,
                "unit": Policy.AccountUnit(to_unit).label,
                "accounts": switch.accounts_closed,
                "points": switch.points_moved,
                "honour": switch.honour_moved,
            },
            messages.SUCCESS,
        )
        return True

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view(self.switch_view)
        return [
            path("<path:object_id>/switch-unit/", view, name="points_policy_switch_unit"),
            *super().get_urls(),
        ]

    def switch_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        policy = self.get_object(request, unquote(object_id))
        if policy is None:
            raise Http404
        if not self.has_switch_permission(request, policy):
            raise PermissionDenied
        to_unit = request.POST.get("to_unit", "")
        if to_unit not in UNITS:
            return HttpResponseNotAllowed(["POST"])
        self._switch(request, policy, to_unit)
        return HttpResponseRedirect(reverse("admin:points_policy_change", args=[policy.pk]))

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        extra = dict(extra_context or {})
        policy = self.get_object(request, unquote(object_id))
        if policy is not None and self.has_switch_permission(request, policy):
            other = next(u for u in UNITS if u != policy.account_unit)
            extra["switch_url"] = reverse("admin:points_policy_switch_unit", args=[policy.pk])
            extra["switch_to"] = other
            extra["switch_label"] = Policy.AccountUnit(other).label
            extra["switch_note"] = format_html(
                "{}",
                gettext(
                    "Points are counted for %(unit)s. Switching moves every balance and honour "
                    "total to the new unit's accounts with transfer entries; it is done at a "
                    "quarter boundary (the quarters before closed, no redemption window open)."
                )
                % {"unit": policy.get_account_unit_display()},
            )
        return super().change_view(request, object_id, form_url, extra)

    # ------------------------------------------------------------------ the actions

    def _switch_selected(self, request: HttpRequest, queryset: QuerySet[Policy], to: str) -> None:
        if not self.has_switch_permission(request):
            raise PermissionDenied
        done = 0
        for policy in queryset.select_related("community").order_by("community_id"):
            if policy.account_unit == to:
                continue
            done += self._switch(request, policy, to)
        if not done:
            self.message_user(request, gettext("No community was switched."), messages.WARNING)

    @admin.action(description=_("Switch to household accounts (以户为单位)"))
    def switch_to_households(self, request: HttpRequest, queryset: QuerySet[Policy]) -> None:
        self._switch_selected(request, queryset, Policy.AccountUnit.HOUSEHOLD)

    @admin.action(description=_("Switch to resident accounts"))
    def switch_to_residents(self, request: HttpRequest, queryset: QuerySet[Policy]) -> None:
        self._switch_selected(request, queryset, Policy.AccountUnit.RESIDENT)
