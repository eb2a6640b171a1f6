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
)


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

    class Meta:
        model = Rule
        fields = ["community", "street", "category", "up_to", "active", "code"]


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
    grid = IdFilter(field_name="resident__household__grid")
    community = IdFilter(field_name="resident__household__grid__community")
    card_number = filters.CharFilter(max_length=16)

    class Meta:
        model = Account
        fields = ["resident", "grid", "community", "card_number"]


class EntryFilter(filters.FilterSet):
    account = IdFilter(field_name="account")
    resident = IdFilter(field_name="account__resident")
    grid = IdFilter(field_name="account__resident__household__grid")
    community = IdFilter(field_name="account__resident__household__grid__community")
    period = PeriodCodeFilter(field_name="period__code")

    class Meta:
        model = Entry
        fields = ["account", "resident", "kind", "period", "grid", "community"]


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
    grid = IdFilter(field_name="entry__account__resident__household__grid")
    community = IdFilter(field_name="entry__account__resident__household__grid__community")
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
