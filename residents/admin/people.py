"""Admin for households, residents and key-population tags.

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
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from import_export.admin import ImportExportMixin

from audit import services as audit
from core.admin import ModelAdminBase, ScopedAdminMixin, ScopedModelAdmin, ScopedRelatedFilter
from core.masking import can_see_full_id, id_number_for, mask_id_number
from core.validators import ID_RE, id_birth_date, id_gender, normalize_id_number
from residents.models import Household, Resident, Tag
from residents.resources import CSV, XLSX, ResidentResource
from residents.selectors import search_by_shown_address
from residents.services.people import add_tag, release_headship, remove_tag

if TYPE_CHECKING:
    from django.contrib.admin.options import _FieldGroups

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
SAMPLE_FORMATS = ("xlsx", "csv")
ADDRESS_SEARCH = ["complex", "building", "unit", "room", "village_group", "house_number"]


if TYPE_CHECKING:
    _SearchBase = admin.ModelAdmin[Any]
else:
    _SearchBase = object


class AddressSearchMixin(_SearchBase):
    """The search also finds a household by its address as the lists display it ("一组3号",
    "一组 3号", "3号楼2单元"), which field-by-field search cannot."""

    address_prefix = ""  # the path to the household: "household__" from a resident or a visit

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if search_term.strip():
            results = results | search_by_shown_address(queryset, search_term, self.address_prefix)
        return results, may_have_duplicates


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
class HouseholdAdmin(AddressSearchMixin, ScopedModelAdmin):
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

    def render_change_form(
        self, request: HttpRequest, context: Any, *args: Any, **kwargs: Any
    ) -> Any:
        obj = kwargs.get("obj")
        if obj is not None and can_see_full_id(request.user):
            # The residents' table shows their full ID numbers: noted for the audit log.
            for number in obj.residents.values_list("id_number", flat=True):
                id_number_for(request.user, number)
        return super().render_change_form(request, context, *args, **kwargs)

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
    AddressSearchMixin, MaskedIdNumberMixin, ScopedAdminMixin, ImportExportMixin, admin.ModelAdmin
):
    form = ResidentAdminForm
    address_prefix = "household__"
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

    def get_export_data(
        self, file_format: Any, request: HttpRequest, queryset: Any, **kwargs: Any
    ) -> Any:
        data = super().get_export_data(file_format, request, queryset, **kwargs)
        audit.record_export(
            what=_("Residents (%(format)s)") % {"format": file_format.get_title()},
            object_type=audit.RESIDENT,
            count=queryset.count(),
            request=request,
        )
        return data

    def render_change_form(
        self, request: HttpRequest, context: Any, *args: Any, **kwargs: Any
    ) -> Any:
        obj = kwargs.get("obj")
        if obj is not None and not self.hides_id_number(request, obj):
            id_number_for(request.user, obj.id_number)  # the form shows it: noted for the audit log
        return super().render_change_form(request, context, *args, **kwargs)

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
