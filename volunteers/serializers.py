from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.filters import MAX_ID
from core.validators import validate_recent_moment
from points.models import Rule
from volunteers.models import Activity, Attendance, Membership, PartnerOrganisation, Signup, Team

MAX_CAPACITY = 10_000


class DateTimeField(serializers.DateTimeField):
    """DRF's, with a naive time at the edge of the calendar (0001-01-01, made aware in
    Asia/Shanghai) answered as a field error rather than an OverflowError (a 500)."""

    def enforce_timezone(self, value: Any) -> Any:
        try:
            return super().enforce_timezone(value)
        except OverflowError:
            self.fail("overflow")


class TeamSerializer(serializers.ModelSerializer):
    hours_rule = serializers.PrimaryKeyRelatedField(
        queryset=Rule.objects.all(),
        required=False,
        allow_null=True,
        help_text="A fixed reward or base rule of the community: its points are given per hour "
        "of service. Null: hours earn no points.",
    )
    leader = serializers.SerializerMethodField(help_text="The leader's membership id, or null.")
    leader_name = serializers.SerializerMethodField()
    member_count = serializers.IntegerField(read_only=True, required=False)

    class Meta:
        model = Team
        fields = [
            "id",
            "community",
            "name",
            "kind",
            "description",
            "hours_rule",
            "leader",
            "leader_name",
            "member_count",
        ]
        validators: list[Any] = []  # uniqueness: volunteers.services (one 400 with the field)

    def _leader(self, obj: Team) -> Membership | None:
        leaders = getattr(obj, "leaders", None)
        if leaders is not None:  # prefetched by the view
            return leaders[0] if leaders else None
        return obj.leader

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_leader(self, obj: Team) -> int | None:
        leader = self._leader(obj)
        return leader.pk if leader else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_leader_name(self, obj: Team) -> str | None:
        leader = self._leader(obj)
        return leader.resident.name if leader else None


class MembershipSerializer(serializers.ModelSerializer):
    resident_name = serializers.CharField(source="resident.name", read_only=True)
    login = serializers.PrimaryKeyRelatedField(
        source="user",
        queryset=get_user_model().objects.all(),
        required=False,
        allow_null=True,
        help_text="A login of the member's own for the team; leave empty to use the "
        "resident's own login (or for a member without a phone).",
    )
    joined_on = serializers.DateField(required=False, help_text="Defaults to today.")

    class Meta:
        model = Membership
        fields = ["id", "team", "resident", "resident_name", "login", "joined_on", "role", "active"]
        read_only_fields = ["team"]
        validators: list[Any] = []


class MembershipUpdateSerializer(serializers.ModelSerializer):
    login = serializers.PrimaryKeyRelatedField(
        source="user", queryset=get_user_model().objects.all(), required=False, allow_null=True
    )

    class Meta:
        model = Membership
        fields = ["login", "joined_on", "role", "active"]


class ActivitySerializer(serializers.ModelSerializer):
    team_name = serializers.CharField(source="team.name", read_only=True)
    capacity = serializers.IntegerField(min_value=1, max_value=MAX_CAPACITY)
    starts_at = DateTimeField(validators=[validate_recent_moment])
    ends_at = DateTimeField(validators=[validate_recent_moment])
    confirmed = serializers.IntegerField(source="confirmed_count", read_only=True, default=0)
    waitlisted = serializers.IntegerField(source="waitlisted_count", read_only=True, default=0)

    class Meta:
        model = Activity
        fields = [
            "id",
            "team",
            "team_name",
            "title",
            "starts_at",
            "ends_at",
            "place",
            "capacity",
            "description",
            "status",
            "confirmed",
            "waitlisted",
            "completed_at",
        ]
        read_only_fields = ["status", "completed_at"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        starts = attrs.get("starts_at", getattr(self.instance, "starts_at", None))
        ends = attrs.get("ends_at", getattr(self.instance, "ends_at", None))
        if starts and ends and ends <= starts:
            raise serializers.ValidationError(
                {"ends_at": [_("The activity must end after it starts.")]}
            )
        return attrs


class SignupSerializer(serializers.ModelSerializer):
    resident_name = serializers.CharField(source="membership.resident.name", read_only=True)

    class Meta:
        model = Signup
        fields = ["id", "activity", "membership", "resident_name", "status", "created_at"]
        read_only_fields = fields


class AttendanceSerializer(serializers.ModelSerializer):
    resident_name = serializers.CharField(source="membership.resident.name", read_only=True)
    claim_status = serializers.CharField(source="claim.status", read_only=True, allow_null=True)

    class Meta:
        model = Attendance
        fields = [
            "id",
            "activity",
            "membership",
            "resident_name",
            "checked_in_at",
            "checked_out_at",
            "hours",
            "recorded_by",
            "claim",
            "claim_status",
            "points_note",
        ]
        read_only_fields = fields


class MemberActionSerializer(serializers.Serializer):
    membership = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text="For a manager acting for a member of the team; leave out to act for yourself.",
    )


class CheckInSerializer(MemberActionSerializer):
    token = serializers.CharField(
        required=False,
        max_length=64,
        help_text="The code of the activity's QR code: needed when you check yourself in.",
    )
    at = DateTimeField(
        required=False,
        help_text="For a manager recording attendance: when the member checked in. "
        "Defaults to now.",
    )


class CheckOutSerializer(MemberActionSerializer):
    at = DateTimeField(
        required=False,
        help_text="For a manager recording attendance: when the member checked out. "
        "Defaults to now.",
    )


class PartnerOrganisationSerializer(serializers.ModelSerializer):
    community_name = serializers.CharField(source="community.name", read_only=True)

    class Meta:
        model = PartnerOrganisation
        fields = [
            "id",
            "community",
            "community_name",
            "name",
            "service",
            "contact_name",
            "contact_phone",
            "active",
        ]
        validators: list[Any] = []


# ----------------------------------------------------------------------------- reports


class VolunteerHoursQuerySerializer(serializers.Serializer):
    period = serializers.RegexField(
        r"^\d{4}Q[1-4]$",
        required=False,
        help_text="A quarter's code, such as 2026Q4. Give this or `year`.",
    )
    year = serializers.IntegerField(required=False, min_value=2000, max_value=2100)
    team = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    community = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    format = serializers.ChoiceField(
        choices=["json", "xlsx"], default="json", help_text="`xlsx` for a workbook."
    )

    def validate_period(self, value: str) -> str:
        if not 2000 <= int(value[:4]) <= 2100:
            raise serializers.ValidationError(_("Give a quarter of 2000 to 2100, such as 2026Q4."))
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("period" in attrs) == ("year" in attrs):
            raise serializers.ValidationError(
                {"period": [_("Give a quarter (period=2026Q4) or a year (year=2026).")]}
            )
        return attrs


class MemberHoursSerializer(serializers.Serializer):
    membership = serializers.IntegerField()
    resident = serializers.IntegerField()
    name = serializers.CharField()
    team = serializers.IntegerField()
    team_name = serializers.CharField()
    activities = serializers.IntegerField()
    hours = serializers.DecimalField(max_digits=10, decimal_places=2)


class TeamActivitiesSerializer(serializers.Serializer):
    team = serializers.IntegerField()
    team_name = serializers.CharField()
    community = serializers.IntegerField()
    activities = serializers.IntegerField()
    attendances = serializers.IntegerField()
    hours = serializers.DecimalField(max_digits=10, decimal_places=2)


class VolunteerHoursSerializer(serializers.Serializer):
    period = serializers.CharField(allow_null=True)
    year = serializers.IntegerField(allow_null=True)
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    members = MemberHoursSerializer(many=True)
    teams = TeamActivitiesSerializer(many=True)
