"""Admin for the territory and its people. Scoping comes from core.admin."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.admin import ScopedAdminMixin, ScopedModelAdmin, ScopedRelatedFilter
from grids.models import (
    CommitteeMember,
    Community,
    Grid,
    GridAssignment,
    GridWorker,
    PartnerAgreement,
    PartnerUnit,
    Street,
    StreetAdmin,
)
from grids.services import end_assignments_today
from points.services import copy_default_rules

# ---------------------------------------------------------------------------- territory


@admin.register(Street)
class StreetModelAdmin(ScopedModelAdmin):
    list_display = ["name", "code"]
    search_fields = ["name", "code"]


@admin.register(Community)
class CommunityAdmin(ScopedModelAdmin):
    list_display = ["name", "code", "street", "kind"]
    list_filter = [("street", ScopedRelatedFilter), "kind"]
    list_select_related = ["street"]
    search_fields = ["name", "code"]

    @transaction.atomic
    def save_model(self, request: HttpRequest, obj: Community, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if not change:
            # A new community starts with its street's default rule book (积分细则).
            copy_default_rules(community=obj)


@admin.register(Grid)
class GridAdmin(ScopedModelAdmin):
    list_display = ["code", "name", "community", "kind", "leader"]
    list_filter = [("community", ScopedRelatedFilter), "kind"]
    list_select_related = ["community", "leader"]
    search_fields = ["code", "name", "community__name", "community__code"]
    autocomplete_fields = ["leader"]

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
    list_display = ["user", "community", "title"]
    list_filter = [("community", ScopedRelatedFilter)]
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
