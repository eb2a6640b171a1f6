"""Admin for points: the rule books, the committee's approval queue, the read-only ledger and
balances, quarters (with their printable notices and card sheets), policies and objections.

Scoping comes from core.admin like every admin of the product. Writes go through
points.services, never through a ModelForm's save():

- a claim is added on a form of its own that calls `submit_claim` (the same checks as the
  API: rule of the resident's community, points fitting the rule, the cap per quarter), and is
  never edited afterwards: it is approved or rejected (`approve_claim`, `reject_claim`, or the
  set-based bulk actions), and kept, so the change page is read-only;
- the ledger (Entry) and the balances (Account) have no add, change or delete permission at
  all: a mistake is corrected by a reversal, through an objection;
- an objection is upheld or dismissed from its (read-only) page.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied, ValidationError
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
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied

from core.admin import ScopedModelAdmin, ScopedRelatedFilter
from core.scope import scope_for
from grids.models import Community, Grid, Street
from points import selectors, services
from points.models import (
    Account,
    CatalogItem,
    Claim,
    Entry,
    Objection,
    Order,
    OrderLine,
    Period,
    Policy,
    RedemptionWindow,
    Rule,
)
from residents.models import Resident

REFUSALS = (ValidationError, PermissionDenied, ApiPermissionDenied)


def _refusal_text(exc: Exception) -> str:
    """The messages of a service's refusal, for the admin's message bar."""
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(getattr(exc, "detail", "") or exc) or gettext("Permission denied.")


class ReadOnlyAdminMixin:
    """No add, change or delete for anyone, the superuser included: rows are written only by
    points.services."""

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _signed(points: int) -> str:
    return f"{points:+d}"


# ---------------------------------------------------------------------------- rule books


class RuleForm(forms.ModelForm):
    class Meta:
        model = Rule
        fields = [
            "community", "street", "code", "name", "category", "points", "up_to",
            "cap_per_quarter", "active",
        ]  # fmt: skip

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        street = cleaned.get("street") if "street" in self.fields else self.instance.street_id
        community = cleaned.get("community")
        if bool(street) == bool(community):
            raise ValidationError(
                _(
                    "A rule belongs to one community, or (as the street's default book) to "
                    "one street: choose exactly one."
                )
            )
        return cleaned


class CopyDefaultRulesForm(forms.Form):
    communities = forms.ModelMultipleChoiceField(
        queryset=Community.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        label=_("communities"),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only communities whose street has a default book to copy.
        with_book = Rule.objects.filter(street__isnull=False).values("street_id")
        self.fields["communities"].queryset = (
            Community.objects.for_user(user)
            .filter(street_id__in=with_book)
            .select_related("street")
        )


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
    list_filter = [("community", ScopedRelatedFilter), "category", "active"]
    list_select_related = ["community", "street"]
    search_fields = ["name", "code"]
    change_list_template = "admin/points/rule/change_list.html"

    @staticmethod
    def _edits_default_books(request: HttpRequest) -> bool:
        scope = scope_for(request.user)
        return scope.everything or bool(scope.street_ids)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Rule]:
        # Besides the rules of the communities in scope, a street admin sees (and keeps) the
        # street's default book, which belongs to no community.
        return selectors.rules_for(request.user).select_related("street")

    def get_fields(self, request: HttpRequest, obj: Rule | None = None) -> list[str]:
        fields = list(super().get_fields(request, obj))
        if not self._edits_default_books(request):
            fields.remove("street")
        return fields

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "street":
            scope = scope_for(request.user)
            streets = Street.objects.all()
            kwargs["queryset"] = (
                streets if scope.everything else streets.filter(id__in=scope.street_ids)
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("rule book"), ordering="community")
    def book(self, obj: Rule) -> str:
        if obj.community_id:
            return obj.community.name
        return gettext("%(street)s (default book)") % {"street": obj.street.name}

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
        form = CopyDefaultRulesForm(request.POST or None, user=request.user)
        if request.method == "POST" and form.is_valid():
            communities = form.cleaned_data["communities"]
            copied = sum(services.copy_default_rules(community=c) for c in communities)
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
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    note = forms.CharField(
        label=_("note"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )

    def __init__(self, *args: Any, user: Any, admin_site: admin.AdminSite, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Residents are many: picked by typing a name (the residents admin's search, scoped).
        self.fields["resident"] = forms.ModelChoiceField(
            queryset=Resident.objects.for_user(user),
            label=_("resident"),
            widget=AutocompleteSelect(Claim._meta.get_field("resident"), admin_site),
        )
        rule = self.fields["rule"]
        rule.queryset = (
            Rule.objects.for_user(user)
            .filter(active=True, community__isnull=False)
            .select_related("community")
            .order_by("community_id", "category", "code")
        )
        rule.label_from_instance = lambda r: f"{r.community.name} · {r}"


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
        return request.user.has_perm("points.change_claim")

    def _may_decide(self, request: HttpRequest, claim: Claim) -> bool:
        return (
            claim.status == Claim.Status.SUBMITTED
            and claim.submitted_by_id != request.user.pk
            and claim.resident.household.grid.community_id in scope_for(request.user).community_ids
            and self.has_decide_permission(request)
        )

    @admin.display(description=_("grid"), ordering="resident__household__grid")
    def grid(self, obj: Claim) -> str:
        return str(obj.resident.household.grid)

    @admin.display(description=_("points"), ordering="points")
    def signed_points(self, obj: Claim) -> str:
        return _signed(obj.rule.sign * obj.points)

    # -- bulk decisions

    def _report(self, request: HttpRequest, result: services.BulkDecision, done: str) -> None:
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
        result = services.bulk_approve_claims(claims=queryset, approver=request.user)
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
            result = services.bulk_reject_claims(
                claims=queryset, approver=request.user, reason=form.cleaned_data["reason"]
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
            request.POST or None, initial=initial, user=request.user, admin_site=self.admin_site
        )
        if request.method == "POST" and form.is_valid():
            try:
                claim = services.submit_claim(user=request.user, **form.cleaned_data)
            except REFUSALS as exc:
                if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
                    form.add_error(None, exc)
                else:
                    form.add_error(None, _refusal_text(exc))
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
                services.approve_claim(claim=claim, approver=request.user)
                done = gettext("Claim “%(claim)s” approved.")
            elif decision == "reject":
                reason = request.POST.get("reason", "")
                services.reject_claim(claim=claim, approver=request.user, reason=reason)
                done = gettext("Claim “%(claim)s” rejected.")
            else:
                return HttpResponseNotAllowed(["POST"])
        except REFUSALS as exc:
            self.message_user(request, _refusal_text(exc), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:points_claim_change", args=[claim.pk]))
        self.log_change(request, claim, [{"changed": {"fields": ["status"]}}])
        self.message_user(request, done % {"claim": claim}, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:points_claim_changelist"))


# ---------------------------------------------------------------------------- the ledger


@admin.register(Entry)
class EntryAdmin(ReadOnlyAdminMixin, ScopedModelAdmin):
    list_display = [
        "created_at", "resident", "card_number", "kind", "signed_amount", "balance_after",
        "period", "note", "created_by",
    ]  # fmt: skip
    list_filter = [
        "kind",
        "period",
        ("account__resident__household__grid__community", ScopedRelatedFilter),
        ("account__resident__household__grid", ScopedRelatedFilter),
    ]
    list_select_related = ["account__resident", "period", "created_by"]
    search_fields = ["account__resident__name", "=account__card_number"]
    search_help_text = _("A resident's name, or a whole card number.")
    date_hierarchy = "created_at"
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    def get_queryset(self, request: HttpRequest) -> QuerySet[Entry]:
        # The change page names the entry's account (resident and balance) and what it
        # reverses. (The changelist skips list_select_related for a queryset that already has
        # a select_related: this list includes it.)
        related = [*self.list_select_related, "reverses"]
        return super().get_queryset(request).select_related(*related)

    @admin.display(description=_("resident"), ordering="account__resident__name")
    def resident(self, obj: Entry) -> str:
        return obj.account.resident.name

    @admin.display(description=_("card number"), ordering="account__card_number")
    def card_number(self, obj: Entry) -> str:
        return obj.account.card_number

    @admin.display(description=_("amount"), ordering="amount")
    def signed_amount(self, obj: Entry) -> str:
        return _signed(obj.amount)


@admin.register(Account)
class AccountAdmin(ReadOnlyAdminMixin, ScopedModelAdmin):
    list_display = ["resident", "card_number", "grid", "balance", "entries"]
    list_filter = [
        ("resident__household__grid__community", ScopedRelatedFilter),
        ("resident__household__grid", ScopedRelatedFilter),
    ]
    list_select_related = ["resident__household__grid__community"]
    search_fields = ["resident__name", "=card_number"]
    search_help_text = _("A resident's name, or a whole card number.")
    fields = ["resident", "card_number", "grid", "balance", "entries"]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    def get_queryset(self, request: HttpRequest) -> QuerySet[Account]:
        return super().get_queryset(request).select_related(*self.list_select_related)

    @admin.display(description=_("grid"), ordering="resident__household__grid")
    def grid(self, obj: Account) -> str:
        return str(obj.resident.household.grid)

    @admin.display(description=_("entries"), ordering="last_seq")
    def entries(self, obj: Account) -> str:
        url = reverse("admin:points_entry_changelist") + f"?account__id__exact={obj.pk}"
        label = ngettext("%(count)d entry", "%(count)d entries", obj.last_seq) % {
            "count": obj.last_seq
        }
        return format_html('<a href="{}">{}</a>', url, label)


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
        """Start the close of each selected quarter (services.start_close; the job runs in
        the background). A refusal (a window still open, not a street admin) is reported."""
        for period in queryset.order_by("starts_on"):
            try:
                services.start_close(period=period, user=request.user)
            except (ValidationError, PermissionDenied) as exc:
                self.message_user(request, f"{period.code}: {_refusal_text(exc)}", messages.ERROR)
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
            grids = Grid.objects.for_user(request.user).select_related("community")
            extra["notice_grids"] = [
                {
                    "grid": grid,
                    "notice_url": reverse("points:notice", args=[period.code, grid.pk]),
                    "sheet_url": reverse("points:card_sheet", args=[grid.pk]),
                }
                for grid in grids
            ]
        return super().change_view(request, object_id, form_url, extra)


@admin.register(Policy)
class PolicyAdmin(ScopedModelAdmin):
    list_display = [
        "community", "objection_days", "auto_open_redemption", "redemption_days",
        "collection_days",
    ]  # fmt: skip
    list_select_related = ["community"]
    search_fields = ["community__name"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Policy]:
        # Policy names no scope path of its own: it is seen through its community.
        communities = Community.objects.for_user(request.user).values("pk")
        return super().get_queryset(request).filter(community__in=communities)


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
    list_display = ["created_at", "resident", "entry", "reason", "status", "decided_by"]
    list_filter = [
        "status",
        ("entry__account__resident__household__grid__community", ScopedRelatedFilter),
        ("entry__account__resident__household__grid", ScopedRelatedFilter),
    ]
    list_select_related = ["entry__account__resident", "decided_by"]
    search_fields = ["entry__account__resident__name", "reason"]
    fields = [
        "entry", "raised_by", "created_at", "reason", "status", "decided_by", "decided_at",
        "decision_note", "correction",
    ]  # fmt: skip
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
        return request.user.has_perm("points.change_objection")

    @admin.display(description=_("resident"), ordering="entry__account__resident__name")
    def resident(self, obj: Objection) -> str:
        return obj.entry.account.resident.name

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
                services.uphold_objection(
                    objection=objection, user=request.user, note=note, amount=amount
                )
                done = gettext("Objection upheld; the correction is posted to the ledger.")
            elif request.POST.get("decision") == "dismiss":
                services.dismiss_objection(objection=objection, user=request.user, note=note)
                done = gettext("Objection dismissed.")
            else:
                return HttpResponseNotAllowed(["POST"])
        except REFUSALS as exc:
            self.message_user(request, _refusal_text(exc), messages.ERROR)
            return back
        self.log_change(request, objection, [{"changed": {"fields": ["status"]}}])
        self.message_user(request, done, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:points_objection_changelist"))


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
            window = services.open_redemption(
                period=obj.period,
                community=obj.community,
                opens_on=obj.opens_on,
                closes_on=obj.closes_on,
                user=request.user,
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
    readonly_fields = fields
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
                services.hand_over(user=request.user, order=order)
                done += 1
            except REFUSALS as exc:
                self.message_user(request, f"#{order.pk}: {_refusal_text(exc)}", messages.ERROR)
        if done:
            self.message_user(
                request,
                ngettext("%(count)d order handed over.", "%(count)d orders handed over.", done)
                % {"count": done},
                messages.SUCCESS,
            )
