"""Admin for the territory and its people. Scoping comes from core.admin."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, TypedDict

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core import geo
from core.admin import ScopedAdminMixin, ScopedModelAdmin, ScopedRelatedFilter, field_names
from core.admin_delete import DeleteThroughServiceMixin
from core.types import acting_user
from grids import services as grid_services
from grids.models import (
    AgendaEvaluation,
    AgendaItem,
    CommitteeMember,
    Community,
    Council,
    Grid,
    GridAssignment,
    GridWorker,
    PartnerAgreement,
    PartnerUnit,
    Project,
    Resource,
    Street,
    StreetAdmin,
)
from grids.services import end_assignments_today

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    class _NeedCounts(TypedDict):  # ProjectAdmin.get_queryset's annotations
        needs_count: int
        needs_resolved: int


# ---------------------------------------------------------------------------- territory


@admin.register(Street)
class StreetModelAdmin(ScopedModelAdmin):
    list_display = ["name", "code"]
    search_fields = ["name", "code"]


@admin.register(Community)
class CommunityAdmin(ScopedModelAdmin):
    list_display = ["name", "code", "street", "kind", "public_page"]
    list_filter = [("street", ScopedRelatedFilter), "kind"]
    list_select_related = ["street"]
    search_fields = ["name", "code"]

    def save_model(self, request: HttpRequest, obj: Community, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
        else:
            # Through the service: a new community is set up by the apps above (its rule
            # book, 积分细则).
            grid_services.create_community(obj)


class BoundaryField(forms.JSONField):
    """The boundary as GeoJSON text in a textarea; checked with the coordinate system by the
    form's clean(), through core.geo (the one place boundaries are checked)."""

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, dict):
            return json.dumps(value, ensure_ascii=False)
        return super().prepare_value(value)


class GridForm(forms.ModelForm):
    boundary = BoundaryField(
        label=_("boundary (GeoJSON)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "cols": 80, "spellcheck": "false"}),
        help_text=_(
            "Paste a GeoJSON Polygon (or a Feature holding one), [longitude, latitude] "
            "positions, the ring closed; or upload a .geojson file below. Empty: no boundary."
        ),
    )
    boundary_file = forms.FileField(
        label=_("or upload a .geojson file"),
        required=False,
        help_text=_("Replaces the text above."),
    )

    class Meta:
        model = Grid
        fields = ["community", "code", "name", "kind", "leader", "boundary_crs", "boundary"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        upload = data.get("boundary_file")
        value = data.get("boundary")
        try:
            if upload:
                if upload.size > geo.MAX_UPLOAD_BYTES:
                    raise ValidationError(_("The file is too large for one grid's boundary."))
                value = geo.parse_geojson(upload.read())
            if value not in (None, "", {}):
                data["boundary"] = geo.clean_polygon(
                    value, crs=data.get("boundary_crs") or geo.WGS84
                )
            else:
                data["boundary"] = None
        except ValidationError as e:
            self.add_error("boundary_file" if upload else "boundary", e)
        return data


@admin.register(Grid)
class GridAdmin(ScopedModelAdmin):
    form = GridForm
    list_display = ["code", "name", "community", "kind", "leader", "has_boundary"]
    list_filter = [("community", ScopedRelatedFilter), "kind"]
    list_select_related = ["community", "leader"]
    search_fields = ["code", "name", "community__name", "community__code"]
    autocomplete_fields = ["leader"]

    @admin.display(boolean=True, description=_("on the map"))
    def has_boundary(self, obj: Grid) -> bool:
        return obj.boundary is not None

    def get_queryset(self, request: HttpRequest) -> QuerySet[Grid]:
        # The autocomplete of other forms lists grids through here, and str(grid) names the
        # community: join it always. (The changelist then skips list_select_related, which
        # it applies only to a queryset without select_related: keep both lists the same.)
        return super().get_queryset(request).select_related(*self.list_select_related)


# ---------------------------------------------------------------------------- people


class CurrentAssignmentFilter(admin.SimpleListFilter):
    title = _("in force")
    parameter_name = "current"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> Any:
        return [("yes", _("in force today")), ("no", _("ended or not yet started"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        current = GridAssignment.objects.current().values("pk")
        if self.value() == "yes":
            return queryset.filter(pk__in=current)
        if self.value() == "no":
            return queryset.exclude(pk__in=current)
        return queryset


class GridAssignmentInline(ScopedAdminMixin, admin.TabularInline):
    model = GridAssignment
    fields = ["grid", "start_date", "end_date"]
    autocomplete_fields = ["grid"]
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[GridAssignment]:
        return super().get_queryset(request).select_related("grid__community")


@admin.register(GridWorker)
class GridWorkerAdmin(ScopedModelAdmin):
    list_display = ["name", "community", "kind", "phone", "is_party_member", "user"]
    list_filter = [("community", ScopedRelatedFilter), "kind", "is_party_member"]
    list_select_related = ["community", "user"]
    search_fields = ["name", "phone", "user__username"]
    raw_id_fields = ["user"]
    inlines = [GridAssignmentInline]


@admin.register(GridAssignment)
class GridAssignmentAdmin(ScopedModelAdmin):
    list_display = ["worker", "grid", "start_date", "end_date", "in_force"]
    list_filter = [
        CurrentAssignmentFilter,
        ("grid__community", ScopedRelatedFilter),
        ("grid", ScopedRelatedFilter),
    ]
    list_select_related = ["worker", "grid__community"]
    search_fields = ["worker__name", "grid__name", "grid__code"]
    autocomplete_fields = ["worker", "grid"]
    actions = ["end_today"]

    @admin.display(boolean=True, description=_("in force"))
    def in_force(self, obj: GridAssignment) -> bool:
        today = timezone.localdate()
        return obj.start_date <= today and (obj.end_date is None or obj.end_date >= today)

    @admin.action(description=_("End the selected assignments today"), permissions=["change"])
    def end_today(self, request: HttpRequest, queryset: QuerySet[GridAssignment]) -> None:
        ended, future = end_assignments_today(assignments=queryset)
        self.message_user(
            request,
            ngettext(
                "%(count)d assignment ended today.",
                "%(count)d assignments ended today.",
                ended,
            )
            % {"count": ended},
            messages.SUCCESS,
        )
        if future:
            self.message_user(
                request,
                ngettext(
                    "%(count)d assignment starts after today and was left unchanged.",
                    "%(count)d assignments start after today and were left unchanged.",
                    future,
                )
                % {"count": future},
                messages.WARNING,
            )


@admin.register(CommitteeMember)
class CommitteeMemberAdmin(ScopedModelAdmin):
    list_display = ["user", "community", "title", "inspector"]
    list_filter = [("community", ScopedRelatedFilter), "inspector"]
    list_select_related = ["user", "community"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "title"]
    raw_id_fields = ["user"]


@admin.register(StreetAdmin)
class StreetAdminModelAdmin(ScopedModelAdmin):
    list_display = ["user", "street"]
    list_filter = [("street", ScopedRelatedFilter)]
    list_select_related = ["user", "street"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    raw_id_fields = ["user"]


# ---------------------------------------------------------------------------- partner units


class PartnerAgreementInline(ScopedAdminMixin, admin.TabularInline):
    model = PartnerAgreement
    fields = ["community", "signed_on"]
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[PartnerAgreement]:
        # A unit may have agreements in several streets: show and edit only those in scope,
        # or a street admin could not save a unit that also works for another street.
        communities = Community.objects.for_user(request.user).values("pk")
        return (
            super()
            .get_queryset(request)
            .filter(community__in=communities)
            .select_related("community")
        )


@admin.register(PartnerUnit)
class PartnerUnitAdmin(ScopedModelAdmin):
    list_display = ["name", "contact_name", "contact_phone", "community_names"]
    search_fields = ["name", "contact_name", "contact_phone"]
    raw_id_fields = ["contacts"]
    inlines = [PartnerAgreementInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[PartnerUnit]:
        # Only the communities in scope: a committee member does not learn where else a unit
        # works.
        communities = Community.objects.for_user(request.user)
        return super().get_queryset(request).prefetch_related(Prefetch("communities", communities))

    @admin.display(description=_("communities"))
    def community_names(self, obj: PartnerUnit) -> str:
        return "、".join(c.name for c in obj.communities.all())


# ---------------------------------------------------------------------------- lists (design §5)


@admin.register(Resource)
class ResourceAdmin(ScopedModelAdmin):
    list_display = ["name", "kind", "provider", "partner_unit", "community", "contact", "active"]
    list_filter = [
        ("community", ScopedRelatedFilter),
        "kind",
        ("partner_unit", ScopedRelatedFilter),
        "active",
    ]
    list_select_related = ["community", "partner_unit"]
    search_fields = ["name", "provider", "description", "contact"]

    def has_change_permission(self, request: HttpRequest, obj: Resource | None = None) -> bool:
        # A partner organisation's row follows the organisation; it is changed there.
        if obj is not None and obj.partner_organisation_id:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Resource | None = None) -> bool:
        if obj is not None and obj.partner_organisation_id:
            return False
        return super().has_delete_permission(request, obj)


@admin.register(Project)
class ProjectAdmin(ScopedModelAdmin):
    list_display = [
        "name",
        "community",
        "owner",
        "budget",
        "progress",
        "status",
        "due_on",
        "needs_resolved_of_total",
    ]
    list_filter = [("community", ScopedRelatedFilter), "status"]
    list_select_related = ["community"]
    search_fields = ["name", "owner", "description"]
    date_hierarchy = "due_on"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Project]:
        done = Q(needs__status__in=["resolved", "closed"])
        projects: QuerySet[Project] = super().get_queryset(request)
        return projects.annotate(
            needs_count=Count("needs", distinct=True),
            needs_resolved=Count("needs", filter=done, distinct=True),
        )

    @admin.display(description=_("needs resolved"))
    def needs_resolved_of_total(self, obj: WithAnnotations[Project, _NeedCounts]) -> str:
        return f"{obj.needs_resolved}/{obj.needs_count}"


# ---------------------------------------------------------------------------- council (议事会)


class AgendaItemForm(forms.ModelForm):
    class Meta:
        model = AgendaItem
        fields = ["position", "title", "decision", "need", "project", "responsible"]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        council = self.instance.council if self.instance.council_id else None
        if council is not None:
            try:
                grid_services.validate_agenda_links(
                    community_id=council.community_id,
                    need=data.get("need"),
                    project=data.get("project"),
                    responsible=data.get("responsible"),
                )
            except ValidationError as error:
                raise forms.ValidationError(error.message_dict) from None
        return data


class AgendaItemInline(ScopedAdminMixin, admin.TabularInline):
    """The agenda. Saved through the services (a need put on it gets its timeline event);
    read-only once the council is held."""

    model = AgendaItem
    form = AgendaItemForm
    fields = ["position", "title", "decision", "need", "project", "responsible", "outcome"]
    readonly_fields = ["outcome"]
    raw_id_fields = ["need"]
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[AgendaItem]:
        return super().get_queryset(request).select_related("need", "project", "responsible")

    def _open(self, obj: Council | None) -> bool:
        return obj is not None and obj.status != Council.Status.HELD

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._open(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._open(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._open(obj) and super().has_delete_permission(request, obj)


class AgendaEvaluationInline(ScopedAdminMixin, admin.TabularInline):
    """Past items evaluated at this council (scored through the API's evaluate action)."""

    model = AgendaEvaluation
    fk_name = "council"
    fields = ["item", "score", "struck_off", "reason", "evaluated_by", "evaluated_at"]
    readonly_fields = field_names(fields)
    extra = 0
    can_delete = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[AgendaEvaluation]:
        return super().get_queryset(request).select_related("item", "evaluated_by")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Council)
class CouncilAdmin(DeleteThroughServiceMixin, ScopedModelAdmin):
    list_display = [
        "held_on",
        "community",
        "agenda_cutoff",
        "status",
        "place",
        "attendee_count",
        "minutes_link",
    ]
    list_filter = [("community", ScopedRelatedFilter), "status"]
    list_select_related = ["community"]
    search_fields = ["community__name", "place", "chaired_by"]
    date_hierarchy = "held_on"
    inlines = [AgendaItemInline, AgendaEvaluationInline]
    actions = ["fix_agendas"]
    fieldsets = [
        (None, {"fields": ["community", "held_on", "agenda_cutoff", "status", "place"]}),
        (
            _("Minutes"),
            {
                "fields": [
                    "policy_talk",
                    "affairs_disclosed",
                    "needs_raised",
                    "solutions_discussed",
                    "past_items_evaluated",
                ]
            },
        ),
        (
            _("Attendance"),
            {"fields": ["attendees", "attendee_count", "chaired_by", "recorded_by"]},
        ),
    ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return ["status", "recorded_by"]
        if obj.status == Council.Status.HELD:
            return field_names(f for _, opts in self.fieldsets for f in opts["fields"])
        # The day is fixed when planned; the status moves through the actions and the API.
        return ["community", "held_on", "agenda_cutoff", "status", "recorded_by"]

    @admin.display(description=_("minutes"))
    def minutes_link(self, obj: Council) -> str:
        return format_html(
            '<a href="{}" target="_blank">{}</a>',
            reverse("grids:council_minutes", args=[obj.pk]),
            _("print"),
        )

    def delete_through_service(self, request: HttpRequest, obj: Council) -> None:
        # Only a council planned by mistake, before its agenda is fixed.
        grid_services.delete_council(council=obj, user=acting_user(request))

    def save_model(self, request: HttpRequest, obj: Council, form: Any, change: bool) -> None:
        if not change:
            council = grid_services.plan_council(
                community=obj.community,
                month=obj.held_on,
                user=acting_user(request),
                held_on=obj.held_on,
                agenda_cutoff=obj.agenda_cutoff,
            )
            if council.held_on != obj.held_on:
                self.message_user(
                    request,
                    _("%(community)s already has a council that month, on %(date)s.")
                    % {"community": council.community.name, "date": council.held_on.isoformat()},
                    messages.WARNING,
                )
            obj.pk, obj.status, obj._state.adding = council.pk, council.status, False
            obj.held_on, obj.agenda_cutoff = council.held_on, council.agenda_cutoff
            return
        changed = {
            f: form.cleaned_data[f] for f in form.changed_data if f in grid_services.MINUTES_FIELDS
        }
        if changed:
            grid_services.record_minutes(council=obj, user=acting_user(request), **changed)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not AgendaItem:
            return super().save_formset(request, form, formset, change)
        council = form.instance
        formset.save(commit=False)
        for item in formset.deleted_objects:
            grid_services.delete_agenda_item(item=item, user=acting_user(request))
        for item, changed in formset.changed_objects:
            fields = {f: getattr(item, f) for f in changed if f in grid_services.AGENDA_ITEM_FIELDS}
            grid_services.update_agenda_item(item=item, user=acting_user(request), **fields)
        for item in formset.new_objects:
            grid_services.add_agenda_item(
                council=council,
                user=acting_user(request),
                **{f: getattr(item, f) for f in grid_services.AGENDA_ITEM_FIELDS},
            )
        return None

    @admin.action(description=_("Fix the agenda of the selected councils"), permissions=["change"])
    def fix_agendas(self, request: HttpRequest, queryset: QuerySet[Council]) -> None:
        added = fixed = 0
        for council in queryset.select_related("community"):
            try:
                added += grid_services.fix_agenda(council=council, user=acting_user(request))
                fixed += 1
            except (ValidationError, PermissionDenied) as error:
                for message in getattr(error, "messages", [str(error)]):
                    self.message_user(request, f"{council}: {message}", messages.ERROR)
        if fixed:
            self.message_user(
                request,
                ngettext(
                    "%(count)d agenda fixed, %(items)d items added.",
                    "%(count)d agendas fixed, %(items)d items added.",
                    fixed,
                )
                % {"count": fixed, "items": added},
                messages.SUCCESS,
            )
