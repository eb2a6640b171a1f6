"""Admin for objections (公示异议): upheld or dismissed from their (read-only) page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.admin import ScopedModelAdmin, ScopedRelatedFilter
from core.types import acting_user
from points import access
from points.admin.common import REFUSALS, refusal_text, signed
from points.models import (
    Claim,
    Objection,
)
from points.selectors.claims import claims_of_entries
from points.services import objections as objections_services

# ---------------------------------------------------------------------------- objections


class DecideObjectionForm(forms.Form):
    note = forms.CharField(
        label=_("decision"), widget=forms.Textarea(attrs={"rows": 3, "cols": 60})
    )
    amount = forms.IntegerField(
        label=_("adjustment"),
        required=False,
        help_text=_(
            "Upholding: leave empty to reverse the entry, or give the points to post as an "
            "adjustment instead (negative to take points off)."
        ),
    )


@admin.register(Objection)
class ObjectionAdmin(ScopedModelAdmin):
    list_display = ["created_at", "holder", "entry", "reason", "status", "decided_by"]
    list_filter = [
        "status",
        ("entry__account__household__grid__community", ScopedRelatedFilter),
        ("entry__account__household__grid", ScopedRelatedFilter),
    ]
    # holder_name reads the household's head for a household's account.
    list_select_related = [
        "entry__account__resident", "entry__account__household__head", "decided_by",
    ]  # fmt: skip
    search_fields = [
        "entry__account__resident__name", "entry__account__household__head__name", "reason",
    ]  # fmt: skip
    fields = [
        "entry", "entry_rule", "entry_date", "entry_points", "raised_by", "created_at", "reason",
        "status", "decided_by", "decided_at", "decision_note", "correction",
    ]  # fmt: skip
    readonly_fields = ["entry_rule", "entry_date", "entry_points"]
    change_form_template = "admin/points/objection/change_form.html"
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    # Residents raise objections (API); the committee decides them from the page.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Objection | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Objection | None = None) -> bool:
        return False

    def has_decide_permission(self, request: HttpRequest) -> bool:
        return access.may_decide_objections(request.user)

    @admin.display(description=_("account holder"))
    def holder(self, obj: Objection) -> str:
        return obj.entry.account.holder_name

    # What the objection is about, in the committee's words: the rule, the day and the points
    # of the entry (from the claim behind it; an entry without one shows its kind and note).
    def _claim(self, obj: Objection) -> Claim | None:
        return claims_of_entries([obj.entry]).get(obj.entry.pk)

    @admin.display(description=_("rule"))
    def entry_rule(self, obj: Objection) -> str:
        claim = self._claim(obj)
        if claim is not None and obj.entry.account.is_household:
            # A household's account: name the member the claim was for.
            return f"{claim.rule.name} · {claim.resident.name}"
        if claim is not None:
            return str(claim.rule.name)
        return " ".join(p for p in (str(obj.entry.get_kind_display()), obj.entry.note) if p)

    @admin.display(description=_("occurred on"))
    def entry_date(self, obj: Objection) -> Any:
        claim = self._claim(obj)
        return claim.occurred_on if claim is not None else timezone.localdate(obj.entry.created_at)

    @admin.display(description=_("points"))
    def entry_points(self, obj: Objection) -> str:
        return signed(obj.entry.amount)

    def get_urls(self) -> list[Any]:
        decide = self.admin_site.admin_view(self.decide_view)
        return [
            path("<path:object_id>/decide/", decide, name="points_objection_decide"),
            *super().get_urls(),
        ]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        objection = self.get_object(request, unquote(object_id))
        extra = dict(extra_context or {})
        if objection is not None:
            extra["may_decide"] = (
                objection.status == Objection.Status.OPEN and self.has_decide_permission(request)
            )
            extra["decide_url"] = reverse("admin:points_objection_decide", args=[objection.pk])
            extra["decide_form"] = DecideObjectionForm()
        return super().change_view(request, object_id, form_url, extra)

    def decide_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_decide_permission(request):
            raise PermissionDenied
        objection = self.get_object(request, unquote(object_id))
        if objection is None:
            raise Http404
        back = HttpResponseRedirect(reverse("admin:points_objection_change", args=[objection.pk]))
        form = DecideObjectionForm(request.POST)
        if not form.is_valid():
            self.message_user(request, gettext("Say what was decided."), messages.ERROR)
            return back
        note, amount = form.cleaned_data["note"], form.cleaned_data["amount"]
        try:
            if request.POST.get("decision") == "uphold":
                objections_services.uphold_objection(
                    objection=objection, user=acting_user(request), note=note, amount=amount
                )
                done = gettext("Objection upheld; the correction is posted to the ledger.")
            elif request.POST.get("decision") == "dismiss":
                objections_services.dismiss_objection(
                    objection=objection, user=acting_user(request), note=note
                )
                done = gettext("Objection dismissed.")
            else:
                return HttpResponseNotAllowed(["POST"])
        except REFUSALS as exc:
            self.message_user(request, refusal_text(exc), messages.ERROR)
            return back
        self.log_change(request, objection, [{"changed": {"fields": ["status"]}}])
        self.message_user(request, done, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:points_objection_changelist"))
