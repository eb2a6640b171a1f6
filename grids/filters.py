import django_filters as filters
from django.db.models import Q, QuerySet
from django.utils import timezone

from core.filters import IdFilter
from grids.models import (
    AgendaItem,
    Community,
    Council,
    Grid,
    GridWorker,
    PartnerUnit,
    Project,
    Resource,
)


class CommunityFilter(filters.FilterSet):
    class Meta:
        model = Community
        fields = ["street", "kind"]


class GridFilter(filters.FilterSet):
    street = IdFilter(field_name="community__street")

    class Meta:
        model = Grid
        fields = ["community", "kind", "leader", "street"]


class GridWorkerFilter(filters.FilterSet):
    grid = IdFilter(field_name="assignments__grid", distinct=True)

    class Meta:
        model = GridWorker
        fields = ["community", "kind", "is_party_member", "grid"]


class PartnerUnitFilter(filters.FilterSet):
    community = IdFilter(field_name="agreements__community", distinct=True)

    class Meta:
        model = PartnerUnit
        fields = ["community"]


class ResourceFilter(filters.FilterSet):
    class Meta:
        model = Resource
        fields = ["community", "kind", "partner_unit", "active"]


class ProjectFilter(filters.FilterSet):
    overdue = filters.BooleanFilter(method="filter_overdue", label="Past its due date and not done")

    class Meta:
        model = Project
        fields = ["community", "status", "overdue"]

    def filter_overdue(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        late = Q(due_on__lt=timezone.localdate()) & ~Q(status=Project.Status.DONE)
        return queryset.filter(late) if value else queryset.exclude(late)


class CouncilFilter(filters.FilterSet):
    held_on = filters.DateFromToRangeFilter()

    class Meta:
        model = Council
        fields = ["community", "status", "held_on"]


class AgendaItemFilter(filters.FilterSet):
    community = IdFilter(field_name="council__community")

    class Meta:
        model = AgendaItem
        fields = ["council", "community", "outcome", "need", "project", "responsible"]
