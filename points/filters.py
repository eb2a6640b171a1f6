from typing import Any

import django_filters as filters
from django import forms
from django.db.models import QuerySet

from core.filters import IdFilter
from points.models import (
    Account,
    CatalogItem,
    Claim,
    Entry,
    Objection,
    Order,
    Period,
    RedemptionWindow,
    Rule,
    RuleBook,
)
from points.selectors.rulebooks import covering, in_force_q


class PeriodCodeFilter(filters.CharFilter):
    """A quarter by its code (`?period=2026Q4`), as clients and the notice name it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", "A quarter's code, such as 2026Q4.")
        kwargs.setdefault("max_length", 6)
        super().__init__(*args, **kwargs)


class YearFilter(filters.NumberFilter):
    field_class = forms.IntegerField  # type: ignore[assignment]  # whole years


class RuleFilter(filters.FilterSet):
    community = IdFilter(field_name="community")
    street = IdFilter(field_name="street", help_text="A street's default rule book.")
    book = IdFilter(field_name="book", help_text="One version of a rule book (point-rule-books).")
    in_force_on = filters.DateFilter(
        method="filter_in_force_on",
        help_text="Only the rules in force on this day: of the version in force then (issue 15).",
    )

    class Meta:
        model = Rule
        fields = ["community", "street", "book", "category", "up_to", "active", "code"]

    def filter_in_force_on(self, queryset: QuerySet[Rule], name: str, value: Any) -> QuerySet[Rule]:
        return queryset.filter(in_force_q(value)) if value else queryset


class RuleBookFilter(filters.FilterSet):
    """Versions of rule books (issue 15)."""

    community = IdFilter(field_name="community")
    street = IdFilter(field_name="street", help_text="A street's default rule book.")
    in_force_on = filters.DateFilter(
        method="filter_in_force_on", help_text="Only the versions in force on this day."
    )

    class Meta:
        model = RuleBook
        fields = ["community", "street", "status", "version"]

    def filter_in_force_on(
        self, queryset: QuerySet[RuleBook], name: str, value: Any
    ) -> QuerySet[RuleBook]:
        return queryset.filter(pk__in=covering(value).values("pk")) if value else queryset


class ClaimFilter(filters.FilterSet):
    rule = IdFilter(field_name="rule")
    resident = IdFilter(field_name="resident")
    grid = IdFilter(field_name="resident__household__grid")
    community = IdFilter(field_name="resident__household__grid__community")
    submitted_by = IdFilter(field_name="submitted_by")
    period = PeriodCodeFilter(field_name="period__code")
    occurred_on = filters.DateFromToRangeFilter(
        help_text="occurred_on_after / occurred_on_before: a range of dates, both included."
    )

    class Meta:
        model = Claim
        fields = [
            "status",
            "rule",
            "resident",
            "grid",
            "community",
            "period",
            "likely_duplicate",
            "submitted_by",
            "occurred_on",
        ]


class AccountFilter(filters.FilterSet):
    resident = IdFilter(field_name="resident")
    household = IdFilter(
        field_name="household",
        help_text="The household's accounts: its shared one and its residents' own.",
    )
    grid = IdFilter(field_name="household__grid")
    community = IdFilter(field_name="household__grid__community")
    card_number = filters.CharFilter(max_length=16)
    unit = filters.ChoiceFilter(
        choices=[("resident", "resident"), ("household", "household")],
        method="filter_unit",
        help_text="resident: residents' own accounts; household: households' shared accounts.",
    )

    class Meta:
        model = Account
        fields = ["resident", "household", "grid", "community", "card_number", "unit"]

    def filter_unit(self, queryset: QuerySet[Account], name: str, value: str) -> QuerySet[Account]:
        return queryset.filter(shared_household__isnull=value != "household")


class EntryFilter(filters.FilterSet):
    account = IdFilter(field_name="account")
    resident = IdFilter(field_name="account__resident")
    household = IdFilter(field_name="account__household")
    grid = IdFilter(field_name="account__household__grid")
    community = IdFilter(field_name="account__household__grid__community")
    period = PeriodCodeFilter(field_name="period__code")

    class Meta:
        model = Entry
        fields = ["account", "resident", "household", "kind", "period", "grid", "community"]


class PeriodFilter(filters.FilterSet):
    year = YearFilter(field_name="code", method="filter_year", min_value=1000, max_value=9999)

    class Meta:
        model = Period
        fields = ["status", "code", "year"]

    def filter_year(self, queryset: QuerySet[Period], name: str, value: int) -> QuerySet[Period]:
        return queryset.filter(code__startswith=f"{value}Q")


class ObjectionFilter(filters.FilterSet):
    entry = IdFilter(field_name="entry")
    account = IdFilter(field_name="entry__account")
    resident = IdFilter(field_name="entry__account__resident")
    grid = IdFilter(field_name="entry__account__household__grid")
    community = IdFilter(field_name="entry__account__household__grid__community")
    period = PeriodCodeFilter(field_name="entry__period__code")

    class Meta:
        model = Objection
        fields = ["status", "entry", "account", "resident", "grid", "community", "period"]


class CatalogItemFilter(filters.FilterSet):
    community = IdFilter(field_name="community")

    class Meta:
        model = CatalogItem
        fields = ["community", "active"]


class RedemptionWindowFilter(filters.FilterSet):
    community = IdFilter(field_name="community")
    period = PeriodCodeFilter(field_name="period__code")

    class Meta:
        model = RedemptionWindow
        fields = ["community", "period"]


class OrderFilter(filters.FilterSet):
    resident = IdFilter(field_name="resident")
    grid = IdFilter(field_name="resident__household__grid")
    community = IdFilter(field_name="community")
    period = PeriodCodeFilter(field_name="period__code")

    class Meta:
        model = Order
        fields = ["status", "resident", "grid", "community", "period"]
