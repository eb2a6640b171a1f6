"""Query and answer shapes of the reports. The definitions of the figures are in
reports.selectors (and repeated in every answer's `definitions`)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from core.filters import MAX_ID
from reports import anomalies, selectors

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


# ---------------------------------------------------------------------------- dashboard (issue 12)


class DashboardQuerySerializer(serializers.Serializer):
    street = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="A street you see whole."
    )
    community = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="A community you see whole."
    )
    grid = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="A grid you see."
    )
    quarter = serializers.CharField(
        required=False,
        help_text="The quarter's code, such as 2026Q4; by default the current one (Beijing).",
    )

    def validate_quarter(self, value: str) -> selectors.Quarter:
        try:
            return selectors.quarter(value)
        except ValueError:
            raise serializers.ValidationError(_("Give a quarter's code, such as 2026Q4.")) from None

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs.setdefault("quarter", selectors.quarter())
        return attrs


class UnitRefSerializer(serializers.Serializer):
    level = serializers.ChoiceField(choices=[(level, level) for level in selectors.LEVELS])
    id = serializers.IntegerField()
    name = serializers.CharField()


class DashboardScopeSerializer(UnitRefSerializer):
    breadcrumbs = UnitRefSerializer(many=True, help_text="From the street down to this unit.")
    children = UnitRefSerializer(many=True, help_text="The units one level down (drill-down).")


class DashboardPeriodSerializer(serializers.Serializer):
    quarter = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()
    months = serializers.ListField(
        child=serializers.CharField(), help_text="YYYY-MM, the 12 months ending with the quarter."
    )


class NeedsMonthSerializer(serializers.Serializer):
    month = serializers.CharField()
    received = serializers.IntegerField()
    resolved = serializers.IntegerField()
    resolved_on_time = serializers.IntegerField()


class NeedsCategorySerializer(serializers.Serializer):
    category = serializers.CharField()
    # A declared field named like Field.label: the metaclass takes it out of the attributes.
    label = serializers.CharField()  # type: ignore[assignment]
    count = serializers.IntegerField()


class NeedsGridSerializer(serializers.Serializer):
    grid_id = serializers.IntegerField()
    grid = serializers.CharField()
    open = serializers.IntegerField()
    overdue = serializers.IntegerField()
    resolved = serializers.IntegerField()
    rated = serializers.IntegerField()
    satisfied = serializers.IntegerField()
    satisfaction_rate = serializers.FloatField(allow_null=True, help_text=RATE_HELP)
    rating_rate = serializers.FloatField(allow_null=True, help_text=RATE_HELP)


class VisitsGridSerializer(serializers.Serializer):
    grid_id = serializers.IntegerField()
    grid = serializers.CharField()
    households = serializers.IntegerField()
    visited = serializers.IntegerField()
    coverage = serializers.FloatField(allow_null=True, help_text=RATE_HELP)
    key_overdue = serializers.IntegerField()


class PointsMonthSerializer(serializers.Serializer):
    month = serializers.CharField()
    earned = serializers.IntegerField()
    deducted = serializers.IntegerField()
    redeemed = serializers.IntegerField()


class RankingTopSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    name = serializers.CharField(help_text="Masked, as in the public notice.")
    grid = serializers.CharField()
    points = serializers.IntegerField()


class AgeBandSerializer(serializers.Serializer):
    label = serializers.CharField()  # type: ignore[assignment]  # see NeedsCategorySerializer
    count = serializers.IntegerField()


class ClaimsWaitingSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    oldest_days = serializers.IntegerField(allow_null=True)
    by_age = AgeBandSerializer(many=True)


class RedemptionCommunitySerializer(serializers.Serializer):
    community_id = serializers.IntegerField()
    community = serializers.CharField()
    orders = serializers.IntegerField()
    items = serializers.IntegerField()
    uncollected = serializers.IntegerField()


class CouncilFiguresSerializer(serializers.Serializer):
    open = serializers.IntegerField()
    struck_off = serializers.IntegerField()
    avg_score = serializers.FloatField(allow_null=True, help_text="1–5, 2 places.")


class TeamMonthSerializer(serializers.Serializer):
    team_id = serializers.IntegerField()
    team = serializers.CharField()
    month = serializers.CharField()
    hours = serializers.FloatField()


class DashboardSerializer(serializers.Serializer):
    as_of = serializers.DateTimeField(
        help_text="When the figures were computed: now, or a street's snapshot (at most "
        "DASHBOARD_SNAPSHOT_MAX_AGE old)."
    )
    scope = DashboardScopeSerializer()
    period = DashboardPeriodSerializer()
    needs_monthly = NeedsMonthSerializer(many=True)
    needs_open_by_category = NeedsCategorySerializer(many=True)
    needs_by_grid = NeedsGridSerializer(many=True)
    visits_by_grid = VisitsGridSerializer(many=True)
    points_monthly = PointsMonthSerializer(many=True)
    points_liability = serializers.IntegerField()
    ranking_top = RankingTopSerializer(many=True)
    claims_waiting = ClaimsWaitingSerializer()
    redemption_by_community = RedemptionCommunitySerializer(many=True)
    council = CouncilFiguresSerializer()
    volunteer_hours = TeamMonthSerializer(many=True)


class PolygonSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=[("Polygon", "Polygon")])
    coordinates = serializers.ListField(
        child=serializers.ListField(
            child=serializers.ListField(child=serializers.FloatField(), min_length=2)
        )
    )


class MapFeatureSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=[("Feature", "Feature")])
    geometry = serializers.JSONField(help_text="A Polygon (a grid) or a Point (a household).")
    properties = serializers.JSONField(
        help_text=(
            "A grid: kind=grid, grid_id, name, community, overdue, open, coverage, households, "
            "visited. A household: kind=household, household_id, grid_id (nothing personal)."
        )
    )


class DashboardMapSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=[("FeatureCollection", "FeatureCollection")])
    features = MapFeatureSerializer(many=True)
    crs_note = serializers.ChoiceField(choices=[("WGS-84", "WGS-84"), ("GCJ-02", "GCJ-02")])
    tile_url = serializers.CharField(allow_blank=True, help_text='"" means no tile layer.')
    tile_attribution = serializers.CharField(allow_blank=True)


# ---------------------------------------------------------------------------- points anomalies


class AnomalyQuerySerializer(ReportQuerySerializer):
    community = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text="Only this community (one in your area); by default every community you run.",
    )
    format = serializers.ChoiceField(
        choices=[("json", "JSON"), ("xlsx", "Excel (xlsx)")],
        default="json",
        help_text="`xlsx` for a workbook.",
    )


class AnomalyFlagSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=[(kind, kind) for kind in anomalies.KINDS],
        help_text="What was found; see the description of the endpoint.",
    )
    # `label` is also an attribute of DRF's Field; the serializer's metaclass takes declared
    # fields off the class, so at run time this is the answer's "label" field.
    label = serializers.CharField(  # type: ignore[assignment]
        help_text="The kind in words, in the request's language."
    )
    why = serializers.CharField(help_text="Why it was flagged, with the figures.")
    community = serializers.IntegerField()
    community_name = serializers.CharField()
    claims = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="The claims flagged (several for worker_volume, same_day_burst and "
        "quick_bulk_approval); for large_reversal the claim the reversed entry came from, if any.",
    )
    entry = serializers.IntegerField(
        allow_null=True, help_text="The reversal entry (large_reversal only)."
    )
    resident = serializers.IntegerField(allow_null=True)
    resident_name = serializers.CharField()
    worker = serializers.IntegerField(
        allow_null=True, help_text="The user who submitted the claims (null when several)."
    )
    worker_name = serializers.CharField()
    approver = serializers.IntegerField(
        allow_null=True, help_text="The user who approved the claim(s), when one did."
    )
    approver_name = serializers.CharField()
    points = serializers.IntegerField(
        allow_null=True, help_text="The points of the claim(s), or the reversal's amount."
    )
    date = serializers.DateField(
        allow_null=True, help_text="The day the claim(s) happened (occurred_on)."
    )
    figures = serializers.DictField(
        help_text="The numbers behind `why` and the thresholds used (keys depend on the kind)."
    )
    claim_urls = serializers.SerializerMethodField(
        help_text="The claims' pages in the admin, in the order of `claims`."
    )
    entry_url = serializers.SerializerMethodField(
        help_text="The reversal entry's page in the admin (large_reversal only)."
    )

    def get_claim_urls(self, flag: anomalies.Flag) -> list[str]:
        return [reverse("admin:points_claim_change", args=[pk]) for pk in flag.claims]

    def get_entry_url(self, flag: anomalies.Flag) -> str | None:
        if flag.entry is None:
            return None
        return reverse("admin:points_entry_change", args=[flag.entry])
