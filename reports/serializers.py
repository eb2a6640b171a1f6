"""Query and answer shapes of the reports. The definitions of the figures are in
reports.selectors (and repeated in every answer's `definitions`)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from core.filters import MAX_ID
from reports import selectors

RATE_HELP = "0–1, rounded to 4 places; null when the denominator is 0."


class ReportQuerySerializer(serializers.Serializer):
    period = serializers.CharField(
        required=False,
        help_text="The quarter's code, such as 2026Q4; by default the current quarter.",
    )

    def validate_period(self, value: str) -> selectors.Quarter:
        try:
            return selectors.quarter(value)
        except ValueError:
            raise serializers.ValidationError(_("Give a quarter's code, such as 2026Q4.")) from None

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs.setdefault("period", selectors.quarter())
        return attrs


class NeedsReportQuerySerializer(ReportQuerySerializer):
    level = serializers.ChoiceField(
        choices=[(level, level) for level in selectors.LEVELS],
        default="grid",
        help_text="One row per grid, community or street.",
    )
    street = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="Only units in this street."
    )
    community = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="Only units in this community."
    )
    grid = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="Only the unit with this grid."
    )


class NeedFiguresSerializer(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True, help_text="The unit; null in the total.")
    name = serializers.CharField()
    community = serializers.IntegerField(
        allow_null=True, help_text="The grid's community (grid level only)."
    )
    community_name = serializers.CharField(allow_null=True)
    street = serializers.IntegerField(
        allow_null=True, help_text="The unit's street (grid and community levels)."
    )
    street_name = serializers.CharField(allow_null=True)
    received = serializers.IntegerField(help_text="Needs recorded in the quarter.")
    rejected = serializers.IntegerField(help_text="Of those, rejected.")
    resolved = serializers.IntegerField(help_text="Of those received, now resolved or closed.")
    resolved_on_time = serializers.IntegerField()
    rated = serializers.IntegerField(help_text="Resolved needs with a rating.")
    satisfied = serializers.IntegerField(help_text="Rated 4 or 5.")
    rectifications = serializers.IntegerField(help_text="Rectifications opened.")
    rectified_on_time = serializers.IntegerField(help_text="Accepted by their due date.")
    resolution_rate = serializers.FloatField(allow_null=True, help_text=RATE_HELP)
    on_time_rate = serializers.FloatField(allow_null=True, help_text=RATE_HELP)
    satisfaction_rate = serializers.FloatField(allow_null=True, help_text=RATE_HELP)
    rating_rate = serializers.FloatField(allow_null=True, help_text=RATE_HELP)
    rectified_on_time_rate = serializers.FloatField(allow_null=True, help_text=RATE_HELP)


class NeedsReportSerializer(serializers.Serializer):
    period = serializers.CharField(source="period.code")
    starts_on = serializers.DateField(source="period.starts_on")
    ends_on = serializers.DateField(source="period.ends_on")
    level = serializers.CharField()
    definitions = serializers.DictField(child=serializers.CharField())
    rows = NeedFiguresSerializer(many=True)
    total = NeedFiguresSerializer()


class WorkerReportQuerySerializer(ReportQuerySerializer):
    community = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="Workers of this community."
    )
    grid = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text="Workers assigned to this grid during the quarter.",
    )
    format = serializers.ChoiceField(
        choices=[("json", "JSON"), ("xlsx", "Excel (xlsx)")],
        default="json",
        help_text="`xlsx` for a workbook.",
    )


class WeightsSerializer(serializers.Serializer):
    coverage = serializers.IntegerField()
    on_time = serializers.IntegerField()
    rating = serializers.IntegerField()
    council = serializers.IntegerField()


class ComponentsSerializer(serializers.Serializer):
    coverage = serializers.FloatField(allow_null=True)
    on_time = serializers.FloatField(allow_null=True)
    rating = serializers.FloatField(allow_null=True)
    council = serializers.FloatField(allow_null=True)

    def to_representation(self, instance: Any) -> dict[str, Any]:
        return {k: None if v is None else round(v, 4) for k, v in instance.items()}


class WorkerAssessmentSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The grid worker.")
    name = serializers.CharField()
    community = serializers.IntegerField()
    community_name = serializers.CharField()
    grids = serializers.ListField(
        child=serializers.IntegerField(), help_text="Grids assigned on any day of the quarter."
    )
    visits = serializers.IntegerField()
    households = serializers.IntegerField(help_text="Households of those grids.")
    households_visited = serializers.IntegerField(help_text="Of those, visited by the worker.")
    coverage = serializers.FloatField(allow_null=True, help_text=RATE_HELP)
    needs_due = serializers.IntegerField(help_text="Needs assigned, due in the quarter.")
    needs_closed_on_time = serializers.IntegerField()
    on_time_rate = serializers.FloatField(allow_null=True, help_text=RATE_HELP)
    ratings = serializers.IntegerField(help_text="Ratings given in the quarter.")
    average_rating = serializers.FloatField(allow_null=True, help_text="1–5, 2 places.")
    evaluations = serializers.IntegerField(help_text="Council evaluations in the quarter.")
    council_score = serializers.FloatField(allow_null=True, help_text="1–5, 2 places.")
    components = ComponentsSerializer(help_text="Each component on 0–1; null: left out.")
    score = serializers.FloatField(allow_null=True, help_text="0–100, 2 places.")


class WorkerReportSerializer(serializers.Serializer):
    period = serializers.CharField(source="period.code")
    starts_on = serializers.DateField(source="period.starts_on")
    ends_on = serializers.DateField(source="period.ends_on")
    weights = WeightsSerializer()
    definitions = serializers.DictField(child=serializers.CharField())
    rows = WorkerAssessmentSerializer(many=True)
