"""Admin for visits (走访): scoped, and a grid worker logs only their own."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from core.admin import ScopedModelAdmin, ScopedRelatedFilter
from core.types import acting_user
from grids.models import GridWorker
from residents import access
from residents.models import Visit

if TYPE_CHECKING:
    pass
from residents.admin.people import ADDRESS_SEARCH, AddressSearchMixin


@admin.register(Visit)
class VisitAdmin(AddressSearchMixin, ScopedModelAdmin):
    address_prefix = "household__"

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
