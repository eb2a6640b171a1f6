"""Admin for households, residents, key-population tags and visits.

Rows are scoped like every admin of the product (grids.admin.ScopedAdminMixin). ID numbers
are personal data: without `residents.view_full_id_number` a user sees them masked
(411103********123X) on the list, the change form, the household's table of residents, the
import preview and the export, and can search only by a whole number. They can still type a
number when adding a resident.
"""

from __future__ import annotations

import contextlib
import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.helpers import ActionForm
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportMixin
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied
from rest_framework.exceptions import ValidationError as ApiValidationError

from core.admin import (
    ModelAdminBase,
    ScopedAdminMixin,
    ScopedModelAdmin,
    ScopedRelatedFilter,
    field_names,
)
from core.masking import can_see_full_id, id_number_for, mask_id_number
from core.types import AnyUser, acting_user
from core.validators import ID_RE, id_birth_date, id_gender, normalize_id_number
from grids.models import Grid, GridWorker, PartnerUnit
from residents import access, services
from residents.models import (
    Household,
    Need,
    NeedEvent,
    NeedPhoto,
    Rating,
    Rectification,
    Resident,
    Tag,
    Visit,
    overdue_q,
)
from residents.resources import CSV, XLSX, ResidentResource
from residents.services import add_tag, release_headship, remove_tag

if TYPE_CHECKING:
    from django.contrib.admin.options import _FieldGroups

SAMPLES = Path(__file__).resolve().parent / "samples"
SAMPLE_FORMATS = ("xlsx", "csv")
ADDRESS_SEARCH = ["complex", "building", "unit", "room", "village_group", "house_number"]


# ---------------------------------------------------------------------------- ID numbers


class MaskedIdNumberMixin(ModelAdminBase):
    """Shows `masked_id_number` (read-only) in place of the `id_number` input where the user
    may not see the full number: the real value never reaches their page."""

    def hides_id_number(self, request: HttpRequest, obj: Any) -> bool:
        return not can_see_full_id(request.user)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> _FieldGroups:
        fields = list(super().get_fields(request, obj))
        if "id_number" in fields and self.hides_id_number(request, obj):
            fields[fields.index("id_number")] = "masked_id_number"
        return fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        readonly = list(super().get_readonly_fields(request, obj))
        if self.hides_id_number(request, obj):
            readonly.append("masked_id_number")
        return readonly

    @admin.display(description=_("ID number"))
    def masked_id_number(self, obj: Resident) -> str:
        return mask_id_number(obj.id_number)


class ResidentAdminForm(forms.ModelForm):
    """Birth date and gender may be left empty: the ID number carries both."""

    class Meta:
        model = Resident
        fields = [
            "household", "name", "id_number", "gender", "birth_date", "phone", "is_party_member",
            "tags", "user",
        ]  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("birth_date", "gender"):
            if name in self.fields:
                self.fields[name].required = False
                self.fields[name].help_text = _("Taken from the ID number when left empty.")

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if "id_number" in cleaned:
            cleaned["id_number"] = normalize_id_number(cleaned["id_number"])
        number = cleaned.get("id_number") or self.instance.id_number or ""
        if ID_RE.match(number):
            try:
                derived = {"birth_date": id_birth_date(number), "gender": id_gender(number)}
            except ValueError:
                return cleaned  # an impossible date: the ID number's validator says so
            for name, value in derived.items():
                if name in self.fields and not cleaned.get(name):
                    cleaned[name] = value
        return cleaned


# ---------------------------------------------------------------------------- admins


@admin.register(Tag)
class TagAdmin(ScopedModelAdmin):
    list_display = ["name", "visit_every_days"]
    search_fields = ["name"]


class ResidentInline(MaskedIdNumberMixin, ScopedAdminMixin, admin.TabularInline):
    model = Resident
    form = ResidentAdminForm
    fields = ["name", "gender", "birth_date", "id_number", "phone", "is_party_member"]
    extra = 0
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A new resident needs their ID number typed in, and this table shows it masked to a
        # user who may not see full numbers: they add residents on the resident page.
        return can_see_full_id(request.user) and super().has_add_permission(request, obj)


@admin.register(Household)
class HouseholdAdmin(ScopedModelAdmin):
    list_display = ["address", "grid", "community", "head"]
    list_filter = [("grid__community", ScopedRelatedFilter), ("grid", ScopedRelatedFilter)]
    list_select_related = ["grid__community", "head"]
    search_fields = [*ADDRESS_SEARCH, "head__name"]
    search_help_text = _("Address parts (housing complex, building, room, group, house number).")
    autocomplete_fields = ["grid"]
    fields = ["grid", *ADDRESS_SEARCH, "head", "add_resident"]
    readonly_fields = ["add_resident"]
    inlines = [ResidentInline]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    def get_fields(self, request: HttpRequest, obj: Household | None = None) -> _FieldGroups:
        fields = list(super().get_fields(request, obj))
        if obj is None:  # no residents yet: no head to choose, none to add
            fields = [f for f in fields if f not in ("head", "add_resident")]
        return fields

    def get_form(
        self,
        request: HttpRequest,
        obj: Household | None = None,
        change: bool = False,
        **kwargs: Any,
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        if "head" in form.base_fields:
            # The head is one of the household's own residents.
            head = cast(forms.ModelChoiceField, form.base_fields["head"])
            head.queryset = Resident.objects.filter(household=obj)
        return form

    @admin.display(description=_("address"))
    def address(self, obj: Household) -> str:
        return obj.address

    @admin.display(description=_("community"), ordering="grid__community")
    def community(self, obj: Household) -> str:
        return obj.grid.community.name

    @admin.display(description=_("add a resident"))
    def add_resident(self, obj: Household) -> str:
        url = reverse("admin:residents_resident_add") + f"?household={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, _("Add a resident to this household"))


class TagActionForm(ActionForm):
    """The action bar with a tag to choose, for the add/remove tag actions."""

    tag = forms.ModelChoiceField(
        queryset=Tag.objects.all(), required=False, label=_("tag"), empty_label="---------"
    )


@admin.register(Resident)
# The import-export stubs declare `model` and `change_list_template` unlike Django's.
class ResidentAdmin(  # type: ignore[misc]
    MaskedIdNumberMixin, ScopedAdminMixin, ImportExportMixin, admin.ModelAdmin
):
    form = ResidentAdminForm
    list_filter = [
        ("household__grid__community", ScopedRelatedFilter),
        ("household__grid", ScopedRelatedFilter),
        "tags",
        "is_party_member",
        "gender",
    ]
    list_select_related = ["household__grid__community"]
    search_fields = ["name", "phone", *(f"household__{f}" for f in ADDRESS_SEARCH)]
    search_help_text = _("Name, phone, address parts, or a whole ID number.")
    autocomplete_fields = ["household"]
    raw_id_fields = ["user"]
    fields = [*ResidentAdminForm.Meta.fields]
    actions = ["add_tag_action", "remove_tag_action"]
    action_form = TagActionForm
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    # import / export (django-import-export)
    resource_classes = [ResidentResource]
    import_formats = [XLSX, CSV]
    export_formats = [XLSX, CSV]
    import_template_name = "admin/residents/resident/import.html"

    def save_model(self, request: HttpRequest, obj: Resident, form: Any, change: bool) -> None:
        old_household_id = form.initial.get("household") if change else None
        super().save_model(request, obj, form, change)
        if old_household_id is not None:
            release_headship(resident=obj, old_household_id=old_household_id)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Resident]:
        return super().get_queryset(request).prefetch_related("tags")

    def hides_id_number(self, request: HttpRequest, obj: Resident | None) -> bool:
        # On the add form the user types the number in; afterwards they see it masked.
        return obj is not None and not can_see_full_id(request.user)

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "tags":
            kwargs["widget"] = forms.CheckboxSelectMultiple
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    # -- the list

    def get_list_display(self, request: HttpRequest) -> list[Any]:
        show = functools.partial(id_number_for, request.user)

        @admin.display(description=_("ID number"))
        def id_number(obj: Resident) -> str:
            return show(obj.id_number)

        return [
            "name", "gender", "birth_date", id_number, "phone", "address", "grid",
            "is_party_member", "tag_names",
        ]  # fmt: skip

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Resident], search_term: str
    ) -> tuple[QuerySet[Resident], bool]:
        """Besides names, phones and addresses, a whole ID number finds its resident. Parts
        of one do not: searching digit by digit would unmask the hidden middle."""
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        number = normalize_id_number(search_term)
        if ID_RE.match(number):
            results = results | queryset.filter(id_number=number)
        return results, may_have_duplicates

    @admin.display(description=_("address"))
    def address(self, obj: Resident) -> str:
        return obj.household.address

    @admin.display(description=_("grid"), ordering="household__grid")
    def grid(self, obj: Resident) -> str:
        return str(obj.household.grid)

    @admin.display(description=_("tags"))
    def tag_names(self, obj: Resident) -> str:
        return "、".join(tag.name for tag in obj.tags.all())

    # -- bulk actions

    def _chosen_tag(self, request: HttpRequest) -> Tag | None:
        tag_id = request.POST.get("tag", "")
        tag = Tag.objects.filter(pk=tag_id).first() if tag_id.isdigit() else None
        if tag is None:
            self.message_user(request, _("Choose a tag next to the action."), messages.WARNING)
        return tag

    @admin.action(
        description=_("Add the chosen tag to the selected residents"), permissions=["change"]
    )
    def add_tag_action(self, request: HttpRequest, queryset: QuerySet[Resident]) -> None:
        tag = self._chosen_tag(request)
        if tag is not None:
            count = add_tag(residents=queryset, tag=tag)
            message = ngettext(
                "Tag “%(tag)s” added to %(count)d resident.",
                "Tag “%(tag)s” added to %(count)d residents.",
                count,
            )
            self.message_user(request, message % {"tag": tag, "count": count}, messages.SUCCESS)

    @admin.action(
        description=_("Remove the chosen tag from the selected residents"), permissions=["change"]
    )
    def remove_tag_action(self, request: HttpRequest, queryset: QuerySet[Resident]) -> None:
        tag = self._chosen_tag(request)
        if tag is not None:
            count = remove_tag(residents=queryset, tag=tag)
            message = ngettext(
                "Tag “%(tag)s” removed from %(count)d resident.",
                "Tag “%(tag)s” removed from %(count)d residents.",
                count,
            )
            self.message_user(request, message % {"tag": tag, "count": count}, messages.SUCCESS)

    # -- import

    def has_import_permission(self, request: HttpRequest) -> bool:
        # The import creates households and residents and names heads of household.
        return request.user.has_perms(
            ["residents.add_resident", "residents.add_household", "residents.change_household"]
        )

    def has_export_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def get_resource_kwargs(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        return {"user": request.user}  # the scope of the grids, and who sees full ID numbers

    # The stub says TemplateResponse; it also answers with process_result's redirect.
    def import_action(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:  # type: ignore[override]
        response = super().import_action(request, **kwargs)
        # The upload waits in temporary storage for the confirmation. A file with errors is
        # never confirmed: delete it now rather than leave ID numbers lying there.
        context = getattr(response, "context_data", None) or {}
        cleaned = getattr(context.get("form"), "cleaned_data", None)
        if "confirm_form" not in context and cleaned:
            name = getattr(cleaned.get("import_file"), "tmp_storage_name", None)
            if name:
                storage = self.get_tmp_storage_class()
                with contextlib.suppress(OSError):
                    storage(name=name, **self.get_tmp_storage_class_kwargs()).remove()
        return response

    def process_result(self, result: Any, request: HttpRequest) -> HttpResponse:
        if result.has_errors() or result.has_validation_errors():
            # The data changed between the preview and the confirmation; the import was
            # rolled back as a whole.
            self.message_user(
                request,
                _("Nothing was imported: the file has errors now. Upload it again to see them."),
                messages.ERROR,
            )
            return HttpResponseRedirect(reverse("admin:residents_resident_import"))
        return super().process_result(result, request)

    def get_urls(self) -> list[Any]:
        sample = path(
            "import/sample.<str:fmt>",
            self.admin_site.admin_view(self.import_sample_view),
            name="residents_resident_import_sample",
        )
        return [sample, *super().get_urls()]

    def import_sample_view(self, request: HttpRequest, fmt: str) -> FileResponse:
        """Download the sample import file: every column, realistic rows."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        if fmt not in SAMPLE_FORMATS:
            raise Http404
        return FileResponse(
            (SAMPLES / f"import_sample.{fmt}").open("rb"),
            as_attachment=True,
            filename=f"import_sample.{fmt}",
        )


@admin.register(Visit)
class VisitAdmin(ScopedModelAdmin):
    list_display = ["visited_at", "household", "grid", "worker", "method", "follow_up_on"]
    list_filter = [
        "method",
        ("household__grid__community", ScopedRelatedFilter),
        ("household__grid", ScopedRelatedFilter),
    ]
    list_select_related = ["household__grid__community", "worker"]
    date_hierarchy = "visited_at"
    search_fields = [*(f"household__{f}" for f in ADDRESS_SEARCH), "worker__name", "notes"]
    autocomplete_fields = ["household", "worker"]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    @admin.display(description=_("grid"), ordering="household__grid")
    def grid(self, obj: Visit) -> str:
        return str(obj.household.grid)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "worker" and not access.may_log_visits_for_others(request.user):
            # A grid worker logs only their own visits (residents.access, as the service).
            kwargs["queryset"] = GridWorker.objects.filter(user=acting_user(request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


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
    fields = ["at", "kind", "from_status", "to_status", "actor", "note"]
    readonly_fields = field_names(fields)
    verbose_name_plural = _("timeline")


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
    due_on = forms.DateField(label=_("due on"), widget=forms.DateInput(attrs={"type": "date"}))

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
        return [f for f in field_names(self.fields) if f not in services.UPDATABLE]

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
        changes = {k: form.cleaned_data[k] for k in form.changed_data if k in services.UPDATABLE}
        services.update_need(user=acting_user(request), need=obj, **changes)

    @admin.display(description=_("assigned to"))
    def assignee(self, obj: Need) -> str:
        return str(obj.assigned_worker or obj.assigned_partner or obj.assigned_department or "")

    @admin.display(description=_("overdue"), boolean=True)
    def is_overdue(self, obj: Need) -> bool:
        return obj.is_overdue

    @admin.display(description=_("rating"))
    def rating(self, obj: Need) -> str:
        rating = Rating.objects.filter(need=obj).first()
        return rating.get_level_display() if rating else "-"

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
                need = services.record_need(user=acting_user(request), **form.cleaned_data)
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

    def _report(self, request: HttpRequest, result: services.BulkResult, done: str) -> None:
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
        result = services.bulk_accept_needs(user=acting_user(request), needs=queryset)
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
                result = services.bulk_assign_needs(
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
                services.accept_rectification(
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
