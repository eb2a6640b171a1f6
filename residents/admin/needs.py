"""Admin for needs (需求): the needs board, the need's timeline and photos, rectifications."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied
from rest_framework.exceptions import ValidationError as ApiValidationError

from core.admin import ScopedModelAdmin, ScopedRelatedFilter, field_names
from core.types import AnyUser, acting_user
from grids.models import Grid, GridWorker, PartnerUnit
from residents.models import (
    Household,
    Need,
    NeedEvent,
    NeedPhoto,
    Rating,
    Rectification,
    Resident,
    overdue_q,
)
from residents.services import bulk as bulk_services
from residents.services import needs as needs_services
from residents.services import ratings as ratings_services

if TYPE_CHECKING:
    pass


# ---------------------------------------------------------------------------- needs (需求)
#
# The needs board: the committee's and the street's list of needs with filters (status,
# overdue, community, grid, category) and bulk accept and assign. Writes go through
# residents.services like the API's: a need is recorded on a form of its own (record_need),
# its details changed through update_need, and the steps run as set-based bulk actions; the
# timeline and photos are read-only.


def _refusal_messages(exc: Exception) -> list[str]:
    """The messages of a service's refusal (DRF's or Django's), flattened."""
    detail = getattr(exc, "detail", None)
    if detail is None:
        return list(getattr(exc, "messages", [str(exc)]))
    if isinstance(detail, dict):
        return [str(m) for messages in detail.values() for m in _as_list(messages)]
    return [str(m) for m in _as_list(detail)]


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [m for v in value.values() for m in _as_list(v)]
    return list(value) if isinstance(value, list | tuple) else [value]


REFUSALS = (ApiValidationError, ApiPermissionDenied, ValidationError, PermissionDenied)


class OverdueFilter(admin.SimpleListFilter):
    title = _("overdue")
    parameter_name = "overdue"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> Any:
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Need]) -> QuerySet[Need]:
        if self.value() == "yes":
            return queryset.filter(overdue_q())
        if self.value() == "no":
            return queryset.filter(~overdue_q())
        return queryset


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class NeedEventInline(ReadOnlyInline):
    model = NeedEvent
    fields = ["at", "kind", "from_label", "to_label", "actor", "note"]
    readonly_fields = field_names(fields)
    verbose_name_plural = _("timeline")

    # The statuses in words (待受理, 已解决), not their codes.
    @admin.display(description=_("from"))
    def from_label(self, obj: NeedEvent) -> str:
        return obj.from_status_label

    @admin.display(description=_("to"))
    def to_label(self, obj: NeedEvent) -> str:
        return obj.to_status_label


class NeedPhotoInline(ReadOnlyInline):
    model = NeedPhoto
    fields = ["photo", "uploaded_by", "uploaded_at"]
    readonly_fields = field_names(fields)

    @admin.display(description=_("photo"))
    def photo(self, obj: NeedPhoto) -> str:
        # Through the scoped API route: the media folder is not served to anyone.
        link = reverse("need-photo", kwargs={"pk": obj.need_id, "photo_id": obj.pk})
        return format_html('<a href="{}" target="_blank">{}</a>', link, _("view photo"))


class NeedRecordForm(forms.Form):
    """Recording a need in the admin: the fields record_need takes."""

    grid = forms.ModelChoiceField(queryset=Grid.objects.none(), label=_("grid"), required=False)
    household = forms.ModelChoiceField(
        queryset=Household.objects.none(), label=_("household"), required=False
    )
    resident = forms.ModelChoiceField(
        queryset=Resident.objects.none(), label=_("resident"), required=False
    )
    source = forms.ChoiceField(choices=Need.Source.choices, label=_("source"))
    category = forms.ChoiceField(choices=Need.Category.choices, label=_("category"))
    title = forms.CharField(max_length=200, label=pgettext_lazy("need", "title"))
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), required=False, label=_("description")
    )
    priority = forms.TypedChoiceField(
        choices=Need.Priority.choices,
        coerce=int,
        initial=Need.Priority.NORMAL,
        label=_("priority"),
    )
    for_council = forms.BooleanField(required=False, label=_("for the council"))

    def __init__(
        self, *args: Any, user: AnyUser, admin_site: admin.AdminSite, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        grid = cast(forms.ModelChoiceField, self.fields["grid"])
        grid.queryset = Grid.objects.for_user(user).select_related("community")
        self.fields["grid"].help_text = _("Taken from the household or resident if left empty.")
        # Households and residents are many: picked by typing (their admins' search, scoped).
        for name, model in (("household", Household), ("resident", Resident)):
            self.fields[name] = forms.ModelChoiceField(
                queryset=model.objects.for_user(user),
                required=False,
                label=self.fields[name].label,
                widget=AutocompleteSelect(Need._meta.get_field(name), admin_site),
            )


class WorkerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: GridWorker) -> str:
        return f"{obj.community.name} · {obj.name}"


class AssignNeedsForm(forms.Form):
    worker = WorkerChoiceField(
        queryset=GridWorker.objects.none(), required=False, label=_("grid worker")
    )
    department = forms.CharField(max_length=100, required=False, label=_("department"))
    partner_unit = forms.ModelChoiceField(
        queryset=PartnerUnit.objects.none(), required=False, label=_("partner unit")
    )
    due_on = forms.DateField(
        label=_("due on"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def __init__(self, *args: Any, user: AnyUser, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        worker = cast(forms.ModelChoiceField, self.fields["worker"])
        worker.queryset = GridWorker.objects.for_user(user).select_related("community")
        partner_unit = cast(forms.ModelChoiceField, self.fields["partner_unit"])
        partner_unit.queryset = PartnerUnit.objects.for_user(user)

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if sum(bool(cleaned.get(k)) for k in ("worker", "department", "partner_unit")) != 1:
            raise ValidationError(
                _("Assign to one of: a grid worker, a department or a partner unit.")
            )
        return cleaned


@admin.register(Need)
class NeedAdmin(ScopedModelAdmin):
    list_display = [
        "title", "grid", "category", "status", "priority", "assignee", "due_on", "is_overdue",
        "escalation", "created_at",
    ]  # fmt: skip
    list_filter = [
        "status",
        OverdueFilter,
        ("grid__community", ScopedRelatedFilter),
        ("grid", ScopedRelatedFilter),
        "category",
        "source",
        "escalation",
        "priority",
        "for_council",
    ]
    list_select_related = ["grid__community", "assigned_worker", "assigned_partner"]
    search_fields = ["title", "text", "resident__name"]
    date_hierarchy = "created_at"
    fields = [
        "title", "text", "category", "priority", "for_council", "project", "grid", "household",
        "resident", "visit", "source", "status", "escalation", "assigned_worker",
        "assigned_department", "assigned_partner", "due_on", "offered_to", "resolution",
        "rejection_reason", "claim", "rating", "reported_by", "created_at", "assigned_at",
        "resolved_at", "closed_at",
    ]  # fmt: skip
    inlines = [NeedPhotoInline, NeedEventInline]
    actions = ["accept_selected", "assign_selected"]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    def get_readonly_fields(self, request: HttpRequest, obj: Need | None = None) -> list[str]:
        return [f for f in field_names(self.fields) if f not in needs_services.UPDATABLE]

    def has_delete_permission(self, request: HttpRequest, obj: Need | None = None) -> bool:
        return False  # needs are kept: a mistaken one is rejected with an explanation

    def has_change_permission(self, request: HttpRequest, obj: Need | None = None) -> bool:
        if obj is not None and obj.status in (Need.Status.CLOSED, Need.Status.REJECTED):
            return False
        return super().has_change_permission(request, obj)

    def has_accept_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("residents.accept_need")

    def has_assign_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("residents.assign_need")

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        need = getattr(request, "_need_being_changed", None)
        if db_field.name == "project" and need is not None:
            field.queryset = field.queryset.filter(community_id=need.grid.community_id)
        return field

    def get_form(
        self, request: HttpRequest, obj: Need | None = None, change: bool = False, **kwargs: Any
    ) -> Any:
        request._need_being_changed = obj  # type: ignore[attr-defined]
        return super().get_form(request, obj, change=change, **kwargs)

    def save_model(self, request: HttpRequest, obj: Need, form: Any, change: bool) -> None:
        # Only the change form saves here (recording has add_view below); the choices are
        # scoped and a closed need has no change form, so update_need has nothing to refuse.
        changes = {
            k: form.cleaned_data[k] for k in form.changed_data if k in needs_services.UPDATABLE
        }
        needs_services.update_need(user=acting_user(request), need=obj, **changes)

    @admin.display(description=_("assigned to"))
    def assignee(self, obj: Need) -> str:
        return str(obj.assigned_worker or obj.assigned_partner or obj.assigned_department or "")

    @admin.display(description=_("overdue"), boolean=True)
    def is_overdue(self, obj: Need) -> bool:
        return obj.is_overdue

    @admin.display(description=_("rating"))
    def rating(self, obj: Need) -> str:
        rating = Rating.objects.filter(need=obj).first()
        if rating is None:
            return "-"
        if rating.source == Rating.Source.PHONE:
            return f"{rating.get_level_display()} ({rating.get_source_display()})"
        return rating.get_level_display()

    # -- recording a need (record_need)

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = NeedRecordForm(
            request.POST or None, user=acting_user(request), admin_site=self.admin_site
        )
        if request.method == "POST" and form.is_valid():
            try:
                need = needs_services.record_need(user=acting_user(request), **form.cleaned_data)
            except REFUSALS as exc:
                detail = getattr(exc, "detail", None)
                if isinstance(detail, dict) and set(detail) <= set(form.fields):
                    for name, texts in detail.items():
                        form.add_error(name, [str(m) for m in _as_list(texts)])
                else:
                    form.add_error(None, _refusal_messages(exc))
            else:
                self.log_addition(request, need, [{"added": {}}])
                self.message_user(
                    request,
                    gettext("Need “%(need)s” recorded.") % {"need": need},
                    messages.SUCCESS,
                )
                if "_addanother" in request.POST:
                    return HttpResponseRedirect(request.path)
                return HttpResponseRedirect(reverse("admin:residents_need_change", args=[need.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Record a need"),
            "opts": self.model._meta,
            "form": form,
            "media": self.media + form.media,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/residents/need/record.html", context)

    # -- bulk steps

    def _report(self, request: HttpRequest, result: bulk_services.BulkResult, done: str) -> None:
        self.message_user(request, done, messages.SUCCESS if result.done else messages.INFO)
        if result.skipped:
            self.message_user(
                request,
                ngettext(
                    "%(count)d need skipped: outside your area, in a status that does not "
                    "allow it, or outside the assignee's community.",
                    "%(count)d needs skipped: outside your area, in a status that does not "
                    "allow it, or outside the assignee's community.",
                    result.skipped,
                )
                % {"count": result.skipped},
                messages.WARNING,
            )

    @admin.action(description=_("Accept the selected needs"), permissions=["accept"])
    def accept_selected(self, request: HttpRequest, queryset: QuerySet[Need]) -> None:
        result = bulk_services.bulk_accept_needs(user=acting_user(request), needs=queryset)
        done = ngettext("%(count)d need accepted.", "%(count)d needs accepted.", result.done) % {
            "count": result.done
        }
        self._report(request, result, done)

    @admin.action(
        description=_("Assign the selected needs (with a due date)"), permissions=["assign"]
    )
    def assign_selected(
        self, request: HttpRequest, queryset: QuerySet[Need]
    ) -> TemplateResponse | None:
        form = AssignNeedsForm(
            request.POST if "confirm" in request.POST else None, user=acting_user(request)
        )
        if form.is_bound and form.is_valid():
            try:
                result = bulk_services.bulk_assign_needs(
                    user=acting_user(request), needs=queryset, **form.cleaned_data
                )
            except REFUSALS as exc:
                form.add_error(None, _refusal_messages(exc))
            else:
                done = ngettext(
                    "%(count)d need assigned.", "%(count)d needs assigned.", result.done
                ) % {"count": result.done}
                self._report(request, result, done)
                return None
        # Ask for the assignee and the due date: the same selection is posted back with them.
        context = {
            **self.admin_site.each_context(request),
            "title": _("Assign needs"),
            "opts": self.model._meta,
            "form": form,
            "needs": queryset.select_related("grid")[:100],
            "count": queryset.count(),
            "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across", "0"),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media,
        }
        return TemplateResponse(request, "admin/residents/need/assign_selected.html", context)


@admin.register(Rectification)
class RectificationAdmin(ScopedModelAdmin):
    """Rectifications (整改) opened by low ratings; the committee accepts those reported done."""

    list_display = ["need", "grid", "status", "due_on", "done_at", "accepted_at", "on_time"]
    list_filter = ["status", ("need__grid__community", ScopedRelatedFilter)]
    list_select_related = ["need__grid__community"]
    search_fields = ["need__title", "done_note"]
    fields = [
        "need", "rating", "status", "due_on", "opened_at", "done_at", "done_note",
        "accepted_at", "accepted_by",
    ]  # fmt: skip
    readonly_fields = field_names(fields)
    actions = ["accept_selected"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # opened by a rating

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_accept_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("residents.accept_rectification")

    @admin.display(description=_("grid"))
    def grid(self, obj: Rectification) -> str:
        return str(obj.need.grid)

    @admin.display(description=_("on time"), boolean=True)
    def on_time(self, obj: Rectification) -> bool | None:
        return obj.on_time

    @admin.action(description=_("Accept the selected rectifications"), permissions=["accept"])
    def accept_selected(self, request: HttpRequest, queryset: QuerySet[Rectification]) -> None:
        # One by one through the service: each closes its need. Rectifications are few (a
        # handful of bad ratings), so this is not a bulk path worth its own SQL.
        accepted, refused = 0, []
        for rectification in queryset.filter(status=Rectification.Status.DONE):
            try:
                ratings_services.accept_rectification(
                    user=acting_user(request), rectification=rectification
                )
                accepted += 1
            except REFUSALS as exc:
                refused += _refusal_messages(exc)
        self.message_user(
            request,
            ngettext(
                "%(count)d rectification accepted.", "%(count)d rectifications accepted.", accepted
            )
            % {"count": accepted},
            messages.SUCCESS if accepted else messages.INFO,
        )
        for text in sorted(set(refused)):
            self.message_user(request, text, messages.WARNING)
