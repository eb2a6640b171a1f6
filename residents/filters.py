import django_filters as filters

from core.filters import IdFilter
from core.validators import normalize_id_number
from residents.models import Household, Resident, Visit


class HouseholdFilter(filters.FilterSet):
    community = IdFilter(field_name="grid__community")
    tag = IdFilter(field_name="residents__tags", distinct=True)

    class Meta:
        model = Household
        fields = ["grid", "community", "complex", "village_group", "tag"]


class ResidentFilter(filters.FilterSet):
    grid = IdFilter(field_name="household__grid")
    community = IdFilter(field_name="household__grid__community")
    tag = IdFilter(field_name="tags", distinct=True)
    id_number = filters.CharFilter(method="filter_id_number", help_text="An exact ID number.")
    born_after = filters.DateFilter(field_name="birth_date", lookup_expr="gte")
    born_before = filters.DateFilter(field_name="birth_date", lookup_expr="lte")

    class Meta:
        model = Resident
        fields = ["household", "grid", "community", "tag", "gender", "is_party_member"]

    def filter_id_number(self, queryset, name, value):  # type: ignore[no-untyped-def]
        return queryset.filter(id_number=normalize_id_number(value))


class VisitFilter(filters.FilterSet):
    grid = IdFilter(field_name="household__grid")
    community = IdFilter(field_name="household__grid__community")
    visited_after = filters.IsoDateTimeFilter(field_name="visited_at", lookup_expr="gte")
    visited_before = filters.IsoDateTimeFilter(field_name="visited_at", lookup_expr="lt")

    class Meta:
        model = Visit
        fields = ["household", "worker", "grid", "community", "method"]


class DueVisitFilter(filters.FilterSet):
    grid = IdFilter(field_name="household__grid")
    community = IdFilter(field_name="household__grid__community")
    tag = IdFilter(field_name="tags", distinct=True)

    class Meta:
        model = Resident
        fields = ["grid", "community", "tag"]
