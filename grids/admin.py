"""Admin for the territory and its people, and the scoping every admin of the product shares.

Every changelist, change form, inline, list filter and foreign-key choice goes through
`Model.objects.for_user(user)` (see core.scope): a committee member sees, picks and saves only
inside their community, a street admin inside their street, a grid worker inside their grids.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db import models
from django.db.models import Prefetch, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

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


def scoped_queryset(model: type[models.Model], user: Any) -> QuerySet:
    """The rows of `model` the user may see (all rows of an unscoped model such as Tag)."""
    qs = model._default_manager.all()
    if getattr(model, "scope_paths", None):
        qs = qs.for_user(user)
    if model is Grid:
        qs = qs.select_related("community")  # str(grid) names its community
    return qs


class ScopedAdminMixin:
    """For ModelAdmin and inlines: rows, foreign-key choices and filters limited to the scope.

    Because the form field's queryset is scoped, a parent outside the scope is not a valid
    choice: the form refuses it, whatever the widget (select, autocomplete or raw id).
    """

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        qs = super().get_queryset(request)  # type: ignore[misc]
        if getattr(self.model, "scope_paths", None):  # type: ignore[attr-defined]
            qs = qs.for_user(request.user)
        return qs

    def formfield_for_foreignkey(
        self, db_field: models.ForeignKey, request: HttpRequest, **kwargs: Any
    ) -> Any:
        if "queryset" not in kwargs:
            kwargs["queryset"] = scoped_queryset(db_field.related_model, request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]

    def formfield_for_manytomany(
        self, db_field: models.ManyToManyField, request: HttpRequest, **kwargs: Any
    ) -> Any:
        if "queryset" not in kwargs:
            kwargs["queryset"] = scoped_queryset(db_field.related_model, request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)  # type: ignore[misc]


class ScopedModelAdmin(ScopedAdminMixin, admin.ModelAdmin):
    pass


class ScopedRelatedFilter(admin.RelatedFieldListFilter):
    """A related-object filter offering only the objects in the user's scope.

    Django's own lists every row of the related table: a committee member would see the
    names of every community and grid of the district in the sidebar.
    """

    def field_choices(
        self, field: Any, request: HttpRequest, model_admin: admin.ModelAdmin
    ) -> list[tuple[Any, str]]:
        qs = scoped_queryset(field.related_model, request.user)
        ordering = self.field_admin_ordering(field, request, model_admin)
        if ordering:
            qs = qs.order_by(*ordering)
        return [(obj.pk, str(obj)) for obj in qs]


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


def _end_assignments_today(queryset: QuerySet[GridAssignment]) -> tuple[int, int]:
    """End the given assignments today, in one UPDATE. Returns (ended, left alone).

    An assignment that starts after today cannot end today (the end may not precede the
    start), and one that has already ended keeps its date.
    """
    today = timezone.localdate()
    open_ = queryset.filter(Q(end_date__isnull=True) | Q(end_date__gt=today))
    ended = open_.filter(start_date__lte=today).update(end_date=today)
    future = open_.filter(start_date__gt=today).count()
    return ended, future


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
        ended, future = _end_assignments_today(queryset)
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
