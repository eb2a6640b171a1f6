from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, TypedDict, cast

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.validators import UniqueValidator

from core import geo
from core.masking import id_number_for
from core.validators import (
    id_birth_date,
    id_gender,
    normalize_id_number,
    validate_id_number,
    validate_recent_moment,
)
from grids.models import GridWorker, PartnerUnit
from points.models import Rule
from residents.models import (
    Absence,
    Household,
    Need,
    NeedEvent,
    NeedPhoto,
    Rating,
    Rectification,
    Resident,
    Tag,
    Visit,
)
from residents.selectors import visit_due

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class DueAnnotations(TypedDict):  # what selectors.residents_due_for_visit adds to a resident
    last_visited_at: dt.datetime | None
    visit_every_days: int


class IdNumberField(serializers.CharField):
    """Writes the full number; reads it masked unless the caller may see full ID numbers."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 18)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        return normalize_id_number(super().to_internal_value(data))

    def to_representation(self, value: str) -> str:
        request = self.context.get("request")
        return id_number_for(getattr(request, "user", None), value)


class TagSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = ["id", "name", "visit_every_days"]
        # The model's check constraint (> 0) and the smallint column, said as field errors:
        # otherwise 0 fails in the database (409) and a huge number overflows (500).
        extra_kwargs = {"visit_every_days": {"min_value": 1, "max_value": 32767}}


class HouseholdSerializer(serializers.ModelSerializer):
    address = serializers.CharField(read_only=True)

    class Meta:
        model = Household
        fields = [
            "id",
            "grid",
            "complex",
            "building",
            "unit",
            "room",
            "village_group",
            "house_number",
            "address",
            "head",
        ]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        head = attrs.get("head")
        if head is not None and (self.instance is None or head.household_id != self.instance.pk):
            raise serializers.ValidationError(
                {"head": [_("The head of household must be one of its residents.")]}
            )
        fields = ("complex", "house_number")
        values = {f: attrs.get(f, getattr(self.instance, f, "")) for f in fields}
        if not any(values.values()):
            raise serializers.ValidationError(
                {"complex": [_("Give a housing complex (urban) or a house number (village).")]}
            )
        return attrs


class ResidentSerializer(serializers.ModelSerializer):
    id_number = IdNumberField(
        validators=[
            validate_id_number,
            UniqueValidator(
                queryset=Resident.objects.all(),
                message=_("A resident with this ID number is already registered."),
            ),
        ]
    )
    grid = serializers.IntegerField(source="household.grid_id", read_only=True)
    birth_date = serializers.DateField(
        required=False, help_text="Taken from the ID number when left out."
    )
    gender = serializers.ChoiceField(
        choices=Resident.Gender.choices, required=False, help_text="Taken from the ID number."
    )

    class Meta:
        model = Resident
        fields = [
            "id",
            "household",
            "grid",
            "name",
            "gender",
            "birth_date",
            "id_number",
            "phone",
            "is_party_member",
            "tags",
            "user",
        ]
        read_only_fields = ["user"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """The ID number carries the birth date and gender: fill them in, or check they agree."""
        number = attrs.get("id_number") or getattr(self.instance, "id_number", "")
        if not number:
            return attrs
        id_changed = self.instance is None or "id_number" in attrs
        errors = {}
        for name, derived in (("birth_date", id_birth_date(number)), ("gender", id_gender(number))):
            if name not in attrs and id_changed:
                attrs[name] = derived
            given = attrs.get(name, getattr(self.instance, name, None))
            if given != derived:
                errors[name] = [_("This does not match the ID number.")]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class NeedOnVisitSerializer(serializers.ModelSerializer):
    """A need heard on a visit, recorded with the visit in the same request."""

    class Meta:
        model = Need
        fields = [
            "id",
            "category",
            "title",
            "text",
            "priority",
            "resident",
            "for_council",
            "status",
        ]
        read_only_fields = ["status"]


class VisitSerializer(serializers.ModelSerializer):
    needs = NeedOnVisitSerializer(
        many=True,
        required=False,
        help_text="Needs heard on the visit, recorded with it (source visit, the visit's "
        "household and grid). Only when the visit is created; later ones go to needs/.",
    )
    # The phone's position (WGS-84, as its GPS gives it), optional: it becomes the household's
    # location on the grid map when the household has none yet (issue 12). Not stored on the
    # visit, so never read back.
    latitude = serializers.DecimalField(
        max_digits=12,
        decimal_places=8,
        min_value=-90,
        max_value=90,
        required=False,
        allow_null=True,
        write_only=True,
        help_text="The phone's latitude (WGS-84), with longitude; only when the visit is "
        "created. Sets the household's location if it has none.",
    )
    longitude = serializers.DecimalField(
        max_digits=12,
        decimal_places=8,
        min_value=-180,
        max_value=180,
        required=False,
        allow_null=True,
        write_only=True,
        help_text="The phone's longitude (WGS-84), with latitude.",
    )

    class Meta:
        model = Visit
        fields = [
            "id",
            "worker",
            "household",
            "visited_at",
            "method",
            "notes",
            "follow_up_on",
            "needs",
            "latitude",
            "longitude",
        ]
        extra_kwargs = {
            "worker": {
                "required": False,
                "help_text": "Defaults to the caller; a committee may log for a worker.",
            },
            "visited_at": {"required": False, "validators": [validate_recent_moment]},
        }

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is not None and "needs" in attrs:
            raise serializers.ValidationError(
                {"needs": [_("Needs are recorded with a new visit; add later ones at needs/.")]}
            )
        lat, lng = attrs.pop("latitude", None), attrs.pop("longitude", None)
        if self.instance is None:
            try:
                point = geo.clean_point(lat, lng)
            except DjangoValidationError as e:
                raise serializers.ValidationError({"latitude": e.messages}) from None
            if point is not None:
                attrs["latitude"], attrs["longitude"] = point
        visited_at = attrs.get("visited_at") or getattr(self.instance, "visited_at", None)
        visited_at = visited_at or timezone.now()
        if visited_at > timezone.now() + dt.timedelta(minutes=10):
            raise serializers.ValidationError(
                {"visited_at": [_("A visit cannot be in the future.")]}
            )
        # The stored follow-up too: moving the visit later must not leave it before the visit.
        follow_up = attrs.get("follow_up_on", getattr(self.instance, "follow_up_on", None))
        if follow_up and follow_up < timezone.localtime(visited_at).date():
            raise serializers.ValidationError(
                {"follow_up_on": [_("The follow-up cannot be before the visit.")]}
            )
        return attrs


class DueVisitSerializer(serializers.Serializer):
    """A resident whose tags call for a visit now (due) or earlier (overdue)."""

    resident = serializers.IntegerField(source="id")
    name = serializers.CharField()
    household = serializers.IntegerField(source="household_id")
    address = serializers.CharField(source="household.address")
    grid = serializers.IntegerField(source="household.grid_id")
    visit_every_days = serializers.IntegerField()
    last_visited_at = serializers.DateTimeField(allow_null=True)
    due_on = serializers.SerializerMethodField()
    status = serializers.SerializerMethodField(help_text="never_visited, overdue or due")
    days_overdue = serializers.SerializerMethodField()

    def _due(self, obj: Resident) -> tuple[dt.date | None, str, int | None]:
        row = cast("WithAnnotations[Resident, DueAnnotations]", obj)
        return visit_due(
            last_visited_at=row.last_visited_at,
            visit_every_days=row.visit_every_days,
            today=self.context["today"],
        )

    def get_due_on(self, obj: Resident) -> dt.date | None:
        return self._due(obj)[0]

    def get_status(self, obj: Resident) -> str:
        return self._due(obj)[1]

    def get_days_overdue(self, obj: Resident) -> int | None:
        return self._due(obj)[2]


# ---------------------------------------------------------------------------- needs


class NeedPhotoSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(
        help_text="Where the file is read, by those who may see the need (media is not public)."
    )

    class Meta:
        model = NeedPhoto
        fields = ["id", "url", "uploaded_by", "uploaded_at"]
        read_only_fields = fields

    def get_url(self, obj: NeedPhoto) -> str:
        path = reverse("need-photo", kwargs={"pk": obj.need_id, "photo_id": obj.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class RatingSerializer(serializers.ModelSerializer):
    class Meta:
        model = Rating
        fields = ["level", "comment", "source", "rated_by", "rated_at"]
        extra_kwargs = {
            "source": {
                "help_text": "resident: rated by the resident; phone: taken by a grid worker "
                "on a return call (电话回访)."
            },
            "rated_by": {"help_text": "The resident, or the worker who recorded it by phone."},
        }


class RectificationSerializer(serializers.ModelSerializer):
    need_title = serializers.CharField(source="need.title", read_only=True)
    grid = serializers.IntegerField(source="need.grid_id", read_only=True)
    level = serializers.IntegerField(source="rating.level", read_only=True)
    on_time = serializers.BooleanField(
        read_only=True, allow_null=True, help_text="Accepted by the due date; null until then."
    )

    class Meta:
        model = Rectification
        fields = [
            "id",
            "need",
            "need_title",
            "grid",
            "level",
            "status",
            "due_on",
            "opened_at",
            "done_at",
            "done_note",
            "accepted_at",
            "accepted_by",
            "on_time",
        ]
        read_only_fields = fields


class NeedSerializer(serializers.ModelSerializer):
    community = serializers.IntegerField(source="grid.community_id", read_only=True)
    resident_name = serializers.CharField(source="resident.name", read_only=True, allow_null=True)
    overdue = serializers.BooleanField(
        source="is_overdue",
        read_only=True,
        help_text="Open, with a due date (of its assignment or offer) already past.",
    )
    photos = NeedPhotoSerializer(many=True, read_only=True)
    rating = RatingSerializer(read_only=True, allow_null=True)
    rectification = RectificationSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Need
        fields = [
            "id",
            "grid",
            "community",
            "household",
            "resident",
            "resident_name",
            "visit",
            "source",
            "category",
            "title",
            "text",
            "priority",
            "status",
            "assigned_worker",
            "assigned_department",
            "assigned_partner",
            "due_on",
            "overdue",
            "offered_to",
            "escalation",
            "for_council",
            "project",
            "resolution",
            "rejection_reason",
            "claim",
            "reported_by",
            "created_at",
            "assigned_at",
            "resolved_at",
            "closed_at",
            "photos",
            "rating",
            "rectification",
        ]
        read_only_fields = [
            "status",
            "assigned_worker",
            "assigned_department",
            "assigned_partner",
            "due_on",
            "offered_to",
            "escalation",
            "resolution",
            "rejection_reason",
            "claim",
            "reported_by",
            "created_at",
            "assigned_at",
            "resolved_at",
            "closed_at",
        ]
        extra_kwargs = {
            "grid": {
                "required": False,
                "help_text": "Taken from the household, resident or visit when left out; a "
                "resident reports for themselves (grid, household, resident are theirs).",
            },
            "source": {
                "required": False,
                "help_text": "Required, except for a need found on a visit (visit) or reported "
                "by a resident (resident).",
            },
        }


class NeedEventSerializer(serializers.ModelSerializer):
    actor_name = serializers.SerializerMethodField()
    from_status_label = serializers.CharField(read_only=True, help_text="from_status in words.")
    to_status_label = serializers.CharField(read_only=True, help_text="to_status in words.")

    class Meta:
        model = NeedEvent
        fields = [
            "id",
            "kind",
            "from_status",
            "from_status_label",
            "to_status",
            "to_status_label",
            "actor",
            "actor_name",
            "at",
            "note",
            "data",
        ]

    def get_actor_name(self, obj: NeedEvent) -> str | None:
        """The login's full name or username; null when the system did it."""
        if obj.actor is None:
            return None
        return obj.actor.get_full_name() or obj.actor.get_username()


# Inputs of the steps (needs/{id}/accept/ …).

NOTE_MAX = 2000


class NeedNoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=NOTE_MAX, default="")


class NeedAssignSerializer(NeedNoteSerializer):
    worker = serializers.PrimaryKeyRelatedField(
        queryset=GridWorker.objects.all(), required=False, allow_null=True
    )
    department = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")
    partner_unit = serializers.PrimaryKeyRelatedField(
        queryset=PartnerUnit.objects.all(), required=False, allow_null=True
    )
    due_on = serializers.DateField(help_text="The assignment's due date (时效).")


class NeedOfferSerializer(NeedNoteSerializer):
    partner_units = serializers.PrimaryKeyRelatedField(
        queryset=PartnerUnit.objects.all(), many=True, allow_empty=False
    )
    due_on = serializers.DateField(help_text="When the micro-wish should be fulfilled.")


class NeedClaimSerializer(NeedNoteSerializer):
    partner_unit = serializers.PrimaryKeyRelatedField(
        queryset=PartnerUnit.objects.all(),
        required=False,
        allow_null=True,
        help_text="Which of your units claims it; needed only when you act for several.",
    )


class PointsClaimSerializer(serializers.Serializer):
    resident = serializers.PrimaryKeyRelatedField(
        queryset=Resident.objects.all(), help_text="The resident or volunteer who earns points."
    )
    rule = serializers.PrimaryKeyRelatedField(queryset=Rule.objects.all())
    points = serializers.IntegerField(
        min_value=1, max_value=1_000_000, required=False, help_text="Defaults to the rule's."
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=NOTE_MAX, default="")


class NeedResolveSerializer(serializers.Serializer):
    resolution = serializers.CharField(max_length=NOTE_MAX, help_text="How it was resolved.")
    claim = PointsClaimSerializer(
        required=False,
        help_text="Also claim points for a resident or volunteer under a rule; the committee "
        "approves it like any claim.",
    )


class NeedRejectSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=NOTE_MAX, help_text="The explanation to the resident (required)."
    )


class NeedRateSerializer(serializers.Serializer):
    level = serializers.ChoiceField(
        choices=Rating.Level.choices,
        help_text="5 非常满意, 4 满意, 3 一般, 2 不满意, 1 非常不满意; "
        "2 and 1 open a rectification.",
    )
    comment = serializers.CharField(
        required=False, allow_blank=True, max_length=NOTE_MAX, default=""
    )


class NeedPhotoUploadSerializer(serializers.Serializer):
    image = serializers.ImageField()


class RectificationNoteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=NOTE_MAX)


class AbsenceSerializer(serializers.ModelSerializer):
    """A resident recorded away (外出登记). The anomaly report flags points claimed for them on
    a day inside the span."""

    resident_name = serializers.CharField(source="resident.name", read_only=True)
    reason_label = serializers.CharField(source="get_reason_display", read_only=True)

    class Meta:
        model = Absence
        fields = [
            "id",
            "resident",
            "resident_name",
            "starts_on",
            "ends_on",
            "reason",
            "reason_label",
            "note",
            "recorded_by",
            "created_at",
        ]
        read_only_fields = ["recorded_by", "created_at"]
        extra_kwargs = {
            "ends_on": {"help_text": "The last day away; null while the resident is still away."}
        }

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        starts_on = attrs.get("starts_on", getattr(self.instance, "starts_on", None))
        ends_on = attrs.get("ends_on", getattr(self.instance, "ends_on", None))
        if starts_on and ends_on and ends_on < starts_on:
            raise serializers.ValidationError(
                {"ends_on": [_("The last day away cannot be before the first.")]}
            )
        return attrs
