"""Admin for absences (外出登记): residents recorded away, scoped like every residents admin.
Saved through residents.services.absences, which stamps who recorded it."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from core.admin import ScopedModelAdmin, ScopedRelatedFilter
from core.types import acting_user
from residents.models import Absence
from residents.services import absences as absences_services


@admin.register(Absence)
class AbsenceAdmin(ScopedModelAdmin):
    list_display = ["resident", "grid", "reason", "starts_on", "ends_on", "recorded_by"]
    list_filter = [
        "reason",
        ("resident__household__grid__community", ScopedRelatedFilter),
        ("resident__household__grid", ScopedRelatedFilter),
    ]
    list_select_related = ["resident__household__grid", "recorded_by"]
    date_hierarchy = "starts_on"
    search_fields = ["resident__name", "note"]
    autocomplete_fields = ["resident"]
    fields = ["resident", "reason", "starts_on", "ends_on", "note", "recorded_by", "created_at"]
    readonly_fields = ["recorded_by", "created_at"]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    @admin.display(description=_("grid"), ordering="resident__household__grid")
    def grid(self, obj: Absence) -> str:
        return str(obj.resident.household.grid)

    def save_model(self, request: HttpRequest, obj: Absence, form: Any, change: bool) -> None:
        data = {name: form.cleaned_data[name] for name in form.changed_data}
        if change:
            # The resident as it was (the form has already set the new one on `obj`).
            original = Absence.objects.select_related("resident").get(pk=obj.pk)
            absences_services.change_absence(user=acting_user(request), absence=original, **data)
        else:
            saved = absences_services.record_absence(
                user=acting_user(request),
                resident=form.cleaned_data["resident"],
                starts_on=form.cleaned_data["starts_on"],
                ends_on=form.cleaned_data.get("ends_on"),
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data.get("note", ""),
            )
            obj.pk = saved.pk
            obj.recorded_by = saved.recorded_by
            obj.created_at = saved.created_at
