import django_filters as filters
from django.db.models import Q, QuerySet
from django.utils import timezone

from core.filters import IdFilter
from core.validators import normalize_id_number
from residents.models import Absence, Household, Need, Rectification, Resident, Visit, overdue_q


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
    card_number = filters.CharFilter(
        method="filter_card_number",
        help_text="The number on the points card: a resident's own, or their household's "
        "(以户为单位: every member).",
    )

    class Meta:
        model = Resident
        fields = ["household", "grid", "community", "tag", "gender", "is_party_member"]

    def filter_id_number(
        self, queryset: QuerySet[Resident], name: str, value: str
    ) -> QuerySet[Resident]:
        return queryset.filter(id_number=normalize_id_number(value))

    def filter_card_number(
        self, queryset: QuerySet[Resident], name: str, value: str
    ) -> QuerySet[Resident]:
        return queryset.filter(
            Q(point_account__card_number=value) | Q(household__point_account__card_number=value)
        )


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


class NeedFilter(filters.FilterSet):
    grid = IdFilter(field_name="grid")
    community = IdFilter(field_name="grid__community")
    household = IdFilter(field_name="household")
    resident = IdFilter(field_name="resident")
    visit = IdFilter(field_name="visit")
    project = IdFilter(field_name="project")
    assigned_worker = IdFilter(field_name="assigned_worker")
    assigned_partner = IdFilter(field_name="assigned_partner")
    offered_to = IdFilter(field_name="offered_to", distinct=True)
    status = filters.MultipleChoiceFilter(
        choices=Need.Status.choices, help_text="One or more: ?status=new&status=accepted"
    )
    open = filters.BooleanFilter(
        method="filter_open", help_text="Still being handled (new to in progress)."
    )
    overdue = filters.BooleanFilter(
        method="filter_overdue", help_text="Open and past the due date of its assignment."
    )
    created = filters.DateFromToRangeFilter(
        field_name="created_at__date",
        help_text="created_after / created_before: recorded on these days, both included.",
    )
    due_on = filters.DateFromToRangeFilter(help_text="due_on_after / due_on_before.")

    class Meta:
        model = Need
        fields = [
            "status",
            "grid",
            "community",
            "category",
            "source",
            "priority",
            "escalation",
            "for_council",
            "household",
            "resident",
            "visit",
            "project",
            "assigned_worker",
            "assigned_partner",
            "offered_to",
        ]

    def filter_open(self, queryset: QuerySet[Need], name: str, value: bool) -> QuerySet[Need]:
        q = Q(status__in=Need.OPEN_STATUSES)
        return queryset.filter(q if value else ~q)

    def filter_overdue(self, queryset: QuerySet[Need], name: str, value: bool) -> QuerySet[Need]:
        return queryset.filter(overdue_q() if value else ~overdue_q())


class RectificationFilter(filters.FilterSet):
    need = IdFilter(field_name="need")
    grid = IdFilter(field_name="need__grid")
    community = IdFilter(field_name="need__grid__community")
    overdue = filters.BooleanFilter(
        method="filter_overdue", help_text="Not yet accepted, and past its due date."
    )

    class Meta:
        model = Rectification
        fields = ["status", "need", "grid", "community"]

    def filter_overdue(
        self, queryset: QuerySet[Rectification], name: str, value: bool
    ) -> QuerySet[Rectification]:
        q = ~Q(status=Rectification.Status.ACCEPTED) & Q(due_on__lt=timezone.localdate())
        return queryset.filter(q if value else ~q)


class AbsenceFilter(filters.FilterSet):
    grid = IdFilter(field_name="resident__household__grid")
    community = IdFilter(field_name="resident__household__grid__community")
    household = IdFilter(field_name="resident__household")
    on = filters.DateFilter(
        method="filter_on", help_text="Absences that cover this day (the resident away then)."
    )

    class Meta:
        model = Absence
        fields = ["resident", "household", "grid", "community", "reason"]

    def filter_on(self, queryset: QuerySet[Absence], name: str, value: object) -> QuerySet[Absence]:
        return queryset.filter(
            Q(starts_on__lte=value), Q(ends_on__isnull=True) | Q(ends_on__gte=value)
        )
