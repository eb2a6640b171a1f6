"""Admin for rule books (with the copy of a street's default book), claims (the committee's
approval queue) and the points policies."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from core.admin import ScopedModelAdmin, ScopedRelatedFilter
from core.types import AnyUser, acting_user
from grids.models import Community, Street
from points import access
from points.admin.common import REFUSALS, refusal_text, signed
from points.admin.units import AccountUnitAdminMixin
from points.models import (
    Claim,
    Policy,
    Rule,
    RuleBook,
)
from points.models.governance import adopted_rule_message
from points.selectors import claims as claims_selectors
from points.selectors.rulebooks import in_force_q
from points.services import claims as claims_services
from points.services import rulebooks as rulebooks_services
from residents.models import Resident

# ---------------------------------------------------------------------------- rule books


class RuleForm(forms.ModelForm):
    class Meta:
        model = Rule
        fields = [
            "community", "street", "code", "name", "category", "points", "up_to",
            "cap_per_quarter", "active",
        ]  # fmt: skip

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        street = cleaned.get("street") if "street" in self.fields else self.instance.street_id
        community = cleaned.get("community")
        if bool(street) == bool(community):
            raise ValidationError(
                _(
                    "A rule belongs to one community, or (as the street's default book) to "
                    "one street: choose exactly one."
                )
            )
        # Versioned rule books (issue 15): a rule of an adopted version never changes; a new
        # rule goes to its book's draft (refused when the book is adopted with no draft).
        try:
            if self.instance.pk is not None:
                rulebooks_services.ensure_rule_changeable(self.instance)
            else:
                self.instance.book = rulebooks_services.book_for_new_rule(
                    community=community, street=street if isinstance(street, Street) else None
                )
        except ValidationError as exc:
            raise ValidationError(exc.messages) from None
        book = self.instance.book
        if book is not None and book.rules.filter(code=cleaned.get("code")).exists():
            self.add_error("code", _("This rule book already has a rule with this code."))
        return cleaned


class CopyDefaultRulesForm(forms.Form):
    communities = forms.ModelMultipleChoiceField(
        queryset=Community.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        label=_("communities"),
    )

    def __init__(self, *args: Any, user: AnyUser, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only communities whose street has a default book to copy.
        with_book = Rule.objects.filter(street__isnull=False).values("street_id")
        communities = self.fields["communities"]
        assert isinstance(communities, forms.ModelMultipleChoiceField)
        communities.queryset = (
            Community.objects.for_user(user)
            .filter(street_id__in=with_book)
            .select_related("street")
        )


class RuleVersionFilter(admin.SimpleListFilter):
    """Which versions' rules (issue 15): those in force today, drafts', past versions'."""

    title = _("version")
    parameter_name = "version"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> Any:
        return [
            ("in_force", _("in force today")),
            ("draft", _("drafts")),
            ("other", _("other versions")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Rule]) -> QuerySet[Rule]:
        in_force = in_force_q(timezone.localdate())
        if self.value() == "in_force":
            return queryset.filter(in_force)
        if self.value() == "draft":
            return queryset.filter(book__status=RuleBook.Status.DRAFT)
        if self.value() == "other":
            return queryset.exclude(in_force).exclude(book__status=RuleBook.Status.DRAFT)
        return queryset


@admin.register(Rule)
class RuleAdmin(ScopedModelAdmin):
    form = RuleForm
    list_display = [
        "name",
        "code",
        "book",
        "category",
        "signed_points",
        "cap_per_quarter",
        "active",
    ]
    list_filter = [("community", ScopedRelatedFilter), RuleVersionFilter, "category", "active"]
    list_select_related = ["community", "street", "book"]
    search_fields = ["name", "code"]
    change_list_template = "admin/points/rule/change_list.html"

    @staticmethod
    def _edits_default_books(request: HttpRequest) -> bool:
        return access.may_write_default_rules(request.user)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Rule]:
        # Besides the rules of the communities in scope, a street admin sees (and keeps) the
        # street's default book, which belongs to no community.
        return claims_selectors.rules_for(request.user).select_related("street")

    def get_fields(self, request: HttpRequest, obj: Rule | None = None) -> list[Any]:
        fields = list(super().get_fields(request, obj))
        if not self._edits_default_books(request):
            fields.remove("street")
        return fields

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "street":
            streets = Street.objects.all()
            ids = access.default_book_streets_for(request.user)
            kwargs["queryset"] = streets if ids is None else streets.filter(id__in=ids)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    # Deletes go through the service (its access check; a rule with claims is protected).
    def delete_model(self, request: HttpRequest, obj: Rule) -> None:
        claims_services.delete_rule(user=acting_user(request), rule=obj)

    @transaction.atomic
    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Rule]) -> None:
        for rule in queryset:
            claims_services.delete_rule(user=acting_user(request), rule=rule)

    @admin.display(description=_("rule book"), ordering="community")
    def book(self, obj: Rule) -> str:
        if obj.community is not None:
            owner = obj.community.name
        else:
            assert obj.street is not None  # a rule belongs to a community or to a street
            owner = gettext("%(street)s (default book)") % {"street": obj.street.name}
        if obj.book is None:
            return owner
        return f"{owner} v{obj.book.version} ({obj.book.get_status_display()})"

    # -- a rule of an adopted rule book version is shown, never changed (issue 15)

    def has_change_permission(self, request: HttpRequest, obj: Rule | None = None) -> bool:
        if obj is not None and rulebooks_services.frozen_book(obj) is not None:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Rule | None = None) -> bool:
        if obj is not None and rulebooks_services.frozen_book(obj) is not None:
            return False
        return super().has_delete_permission(request, obj)

    def _refuse_if_frozen(self, request: HttpRequest, object_id: str) -> HttpResponse | None:
        """A POST to an adopted version's rule: refused with the reason, back to its page."""
        rule = self.get_object(request, unquote(object_id))
        frozen = rulebooks_services.frozen_book(rule) if rule is not None else None
        if frozen is None:
            return None
        self.message_user(request, adopted_rule_message(frozen), messages.ERROR)
        return HttpResponseRedirect(reverse("admin:points_rule_change", args=[object_id]))

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        if request.method == "POST" and (refused := self._refuse_if_frozen(request, object_id)):
            return refused
        return super().change_view(request, object_id, form_url, extra_context)

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict | None = None
    ) -> HttpResponse:
        if refused := self._refuse_if_frozen(request, object_id):
            return refused
        return super().delete_view(request, object_id, extra_context)

    @admin.display(description=_("points"), ordering="points")
    def signed_points(self, obj: Rule) -> str:
        return f"{'-' if obj.sign < 0 else '+'}{'≤' if obj.up_to else ''}{obj.points}"

    # -- copying the street's default book (积分细则) into communities

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view(self.copy_defaults_view)
        return [
            path("copy-defaults/", view, name="points_rule_copy_defaults"),
            *super().get_urls(),
        ]

    def copy_defaults_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = CopyDefaultRulesForm(request.POST or None, user=acting_user(request))
        if request.method == "POST" and form.is_valid():
            communities = form.cleaned_data["communities"]
            copied = sum(claims_services.copy_default_rules(community=c) for c in communities)
            self.message_user(
                request,
                ngettext(
                    "%(count)d rule copied into %(communities)s.",
                    "%(count)d rules copied into %(communities)s.",
                    copied,
                )
                % {"count": copied, "communities": "、".join(c.name for c in communities)},
                messages.SUCCESS,
            )
            return HttpResponseRedirect(reverse("admin:points_rule_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Copy the street's default rule book into communities"),
            "opts": self.model._meta,
            "form": form,
        }
        return TemplateResponse(request, "admin/points/rule/copy_defaults.html", context)


# ---------------------------------------------------------------------------- claims


class ClaimStatusFilter(admin.SimpleListFilter):
    """Status, showing the queue (submitted claims) until another choice is made."""

    title = _("status")
    parameter_name = "status"
    ALL = "all"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> Any:
        return Claim.Status.choices

    def value(self) -> str:
        return super().value() or Claim.Status.SUBMITTED

    def queryset(self, request: HttpRequest, queryset: QuerySet[Claim]) -> QuerySet[Claim]:
        if self.value() == self.ALL:
            return queryset
        return queryset.filter(status=self.value())

    def choices(self, changelist: Any) -> Any:
        yield {
            "selected": self.value() == self.ALL,
            "query_string": changelist.get_query_string({self.parameter_name: self.ALL}),
            "display": _("All"),
        }
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }


class ClaimSubmitForm(forms.Form):
    """Adding a claim in the admin: the fields submit_claim takes, and nothing else."""

    resident = forms.ModelChoiceField(queryset=Resident.objects.none(), label=_("resident"))
    rule = forms.ModelChoiceField(queryset=Rule.objects.none(), label=_("rule"))
    points = forms.IntegerField(
        label=_("points"),
        min_value=1,
        required=False,
        help_text=_("Leave empty for the rule's points; needed for an 'up to' rule."),
    )
    occurred_on = forms.DateField(
        label=_("occurred on"),
        initial=timezone.localdate,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),  # what type=date reads
    )
    note = forms.CharField(
        label=_("note"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )

    def __init__(
        self, *args: Any, user: AnyUser, admin_site: admin.AdminSite, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        # Residents are many: picked by typing a name (the residents admin's search, scoped).
        self.fields["resident"] = forms.ModelChoiceField(
            queryset=Resident.objects.for_user(user),
            label=_("resident"),
            widget=AutocompleteSelect(Claim._meta.get_field("resident"), admin_site),
        )
        rule = self.fields["rule"]
        assert isinstance(rule, forms.ModelChoiceField)
        rule.queryset = (
            Rule.objects.for_user(user)
            .filter(in_force_q(timezone.localdate()), active=True, community__isnull=False)
            .select_related("community")
            .order_by("community_id", "category", "code")
        )
        rule.label_from_instance = lambda r: f"{r.community.name} · {r}"  # type: ignore[method-assign,assignment]


class DecideClaimForm(forms.Form):
    reason = forms.CharField(
        label=_("reason for rejection"), widget=forms.Textarea(attrs={"rows": 3, "cols": 60})
    )


@admin.register(Claim)
class ClaimAdmin(ScopedModelAdmin):
    list_display = [
        "resident", "grid", "rule", "signed_points", "occurred_on", "submitted_by", "status",
        "likely_duplicate",
    ]  # fmt: skip
    list_filter = [
        ClaimStatusFilter,
        ("resident__household__grid__community", ScopedRelatedFilter),
        ("resident__household__grid", ScopedRelatedFilter),
        ("rule", ScopedRelatedFilter),
        "likely_duplicate",
    ]
    list_select_related = ["resident__household__grid__community", "rule", "submitted_by"]
    date_hierarchy = "occurred_on"
    search_fields = ["resident__name"]
    fields = [
        "resident", "rule", "points", "occurred_on", "period", "note", "status",
        "likely_duplicate", "submitted_by", "submitted_at", "decided_by", "decided_at",
        "reject_reason",
    ]  # fmt: skip
    actions = ["approve_selected", "reject_selected"]
    change_form_template = "admin/points/claim/change_form.html"
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    # Claims are decided, never edited or deleted: the change page is read-only.
    def has_change_permission(self, request: HttpRequest, obj: Claim | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Claim | None = None) -> bool:
        return False

    def has_decide_permission(self, request: HttpRequest) -> bool:
        """May approve or reject (the service also checks the committee seat and the
        submitter)."""
        return access.may_decide_claims(request.user)

    def _may_decide(self, request: HttpRequest, claim: Claim) -> bool:
        return claim.status == Claim.Status.SUBMITTED and access.may_decide_claim(
            request.user, claim
        )

    @admin.display(description=_("grid"), ordering="resident__household__grid")
    def grid(self, obj: Claim) -> str:
        return str(obj.resident.household.grid)

    @admin.display(description=_("points"), ordering="points")
    def signed_points(self, obj: Claim) -> str:
        return signed(obj.rule.sign * obj.points)

    # -- bulk decisions

    def _report(
        self, request: HttpRequest, result: claims_services.BulkDecision, done: str
    ) -> None:
        self.message_user(request, done, messages.SUCCESS if result.decided else messages.INFO)
        if result.skipped:
            self.message_user(
                request,
                ngettext(
                    "%(count)d claim skipped: already decided, submitted by you, or outside "
                    "your community.",
                    "%(count)d claims skipped: already decided, submitted by you, or outside "
                    "your community.",
                    result.skipped,
                )
                % {"count": result.skipped},
                messages.WARNING,
            )

    @admin.action(description=_("Approve the selected claims"), permissions=["decide"])
    def approve_selected(self, request: HttpRequest, queryset: QuerySet[Claim]) -> None:
        result = claims_services.bulk_approve_claims(claims=queryset, approver=acting_user(request))
        done = ngettext(
            "%(count)d claim approved and posted to the ledger.",
            "%(count)d claims approved and posted to the ledger.",
            result.decided,
        ) % {"count": result.decided}
        self._report(request, result, done)

    @admin.action(
        description=_("Reject the selected claims (with a reason)"), permissions=["decide"]
    )
    def reject_selected(
        self, request: HttpRequest, queryset: QuerySet[Claim]
    ) -> TemplateResponse | None:
        form = DecideClaimForm(request.POST if "confirm" in request.POST else None)
        if form.is_bound and form.is_valid():
            result = claims_services.bulk_reject_claims(
                claims=queryset, approver=acting_user(request), reason=form.cleaned_data["reason"]
            )
            done = ngettext(
                "%(count)d claim rejected.", "%(count)d claims rejected.", result.decided
            ) % {"count": result.decided}
            self._report(request, result, done)
            return None
        # Ask for the reason first: the same selection is posted back with it.
        context = {
            **self.admin_site.each_context(request),
            "title": _("Reject claims"),
            "opts": self.model._meta,
            "form": form,
            "claims": queryset[:100],
            "count": queryset.count(),
            "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across", "0"),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media,
        }
        return TemplateResponse(request, "admin/points/claim/reject_selected.html", context)

    # -- one claim: added through submit_claim, decided from its page

    def get_urls(self) -> list[Any]:
        decide = self.admin_site.admin_view(self.decide_view)
        return [
            path("<path:object_id>/decide/", decide, name="points_claim_decide"),
            *super().get_urls(),
        ]

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        initial = {k: request.GET[k] for k in ("resident", "rule") if k in request.GET}
        form = ClaimSubmitForm(
            request.POST or None,
            initial=initial,
            user=acting_user(request),
            admin_site=self.admin_site,
        )
        if request.method == "POST" and form.is_valid():
            try:
                claim = claims_services.submit_claim(user=acting_user(request), **form.cleaned_data)
            except REFUSALS as exc:
                if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
                    form.add_error(None, exc)
                else:
                    form.add_error(None, refusal_text(exc))
            else:
                self.log_addition(request, claim, [{"added": {}}])
                self.message_user(
                    request,
                    gettext("Claim “%(claim)s” submitted for approval.") % {"claim": claim},
                    messages.SUCCESS,
                )
                if "_addanother" in request.POST:
                    return HttpResponseRedirect(request.path)
                return HttpResponseRedirect(reverse("admin:points_claim_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Submit a points claim"),
            "opts": self.model._meta,
            "form": form,
            "media": self.media + form.media,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/points/claim/submit.html", context)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        claim = self.get_object(request, unquote(object_id))
        extra = dict(extra_context or {})
        if claim is not None:
            extra["may_decide"] = self._may_decide(request, claim)
            extra["own_claim"] = claim.submitted_by_id == request.user.pk
            extra["decide_url"] = reverse("admin:points_claim_decide", args=[claim.pk])
            extra["decide_form"] = DecideClaimForm()
        return super().change_view(request, object_id, form_url, extra)

    def decide_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_decide_permission(request):
            raise PermissionDenied
        claim = self.get_object(request, unquote(object_id))
        if claim is None:
            raise Http404
        decision = request.POST.get("decision")
        try:
            if decision == "approve":
                claims_services.approve_claim(claim=claim, approver=acting_user(request))
                done = gettext("Claim “%(claim)s” approved.")
            elif decision == "reject":
                reason = request.POST.get("reason", "")
                claims_services.reject_claim(
                    claim=claim, approver=acting_user(request), reason=reason
                )
                done = gettext("Claim “%(claim)s” rejected.")
            else:
                return HttpResponseNotAllowed(["POST"])
        except REFUSALS as exc:
            self.message_user(request, refusal_text(exc), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:points_claim_change", args=[claim.pk]))
        self.log_change(request, claim, [{"changed": {"fields": ["status"]}}])
        self.message_user(request, done % {"claim": claim}, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:points_claim_changelist"))


@admin.register(Policy)
class PolicyAdmin(AccountUnitAdminMixin, ScopedModelAdmin):
    # account_unit is read-only, changed by the switch (points.admin.units, issue 15).
    list_display = [
        "community", "account_unit", "objection_days", "auto_open_redemption",
        "redemption_days", "collection_days", "reset_month", "reset_day",
    ]  # fmt: skip
    list_select_related = ["community"]
    search_fields = ["community__name"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Policy]:
        # Policy names no scope path of its own: it is seen through its community.
        communities = Community.objects.for_user(request.user).values("pk")
        return super().get_queryset(request).filter(community__in=communities)

    def delete_model(self, request: HttpRequest, obj: Policy) -> None:
        claims_services.delete_policy(user=acting_user(request), policy=obj)

    @transaction.atomic
    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Policy]) -> None:
        for policy in queryset:
            claims_services.delete_policy(user=acting_user(request), policy=policy)
