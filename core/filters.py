"""Filter types shared by the apps' FilterSets."""

from __future__ import annotations

from typing import Any

import django_filters as filters
from django import forms
from django.db.models import Q, QuerySet
from rest_framework import filters as drf_filters
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

# The range of a 64-bit id column (SQLite INTEGER, PostgreSQL bigint).
MAX_ID = 2**63 - 1


class IdFilter(filters.NumberFilter):
    """The id of a related object (`?grid=3`): a whole number that fits an id column.

    NumberFilter takes any decimal, so `?grid=1.5` matched grid 1 and `?grid=1e25` reached
    SQLite as an integer it cannot hold (OverflowError, a 500). Here both are a 400.
    """

    # The stubs pin NumberFilter to a DecimalField; django-filter takes any number field.
    field_class = forms.IntegerField  # type: ignore[assignment]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)

    def get_max_validator(self) -> None:
        return None  # max_value above already bounds the field


class SearchFilter(drf_filters.SearchFilter):
    """DRF's search, with bad terms answered as `{"search": [...]}` like any other filter.

    DRF raises a bare list for a term with a NUL character (which no database column holds).
    """

    def get_search_terms(self, request: Request) -> list[str]:
        try:
            return super().get_search_terms(request)
        except ValidationError as exc:
            raise ValidationError({self.search_param: exc.detail}) from None

    def filter_queryset(self, request: Request, queryset: QuerySet[Any], view: Any) -> Any:
        """A view with `search_also(queryset, text)` (e.g. households by their address as
        displayed) adds what that finds to the field-by-field matches."""
        results = super().filter_queryset(request, queryset, view)
        also = getattr(view, "search_also", None)
        text = " ".join(self.get_search_terms(request))
        if also is not None and text and getattr(view, "search_fields", None):
            # By ids: DRF may have made `results` distinct, which `|` cannot combine.
            results = queryset.filter(
                Q(pk__in=results.values("pk")) | Q(pk__in=also(queryset, text).values("pk"))
            )
        return results
