from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.validators import UniqueValidator

from core.masking import id_number_for
from core.validators import id_birth_date, id_gender, normalize_id_number, validate_id_number
from residents.models import Household, Resident, Tag, Visit


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


class VisitSerializer(serializers.ModelSerializer):
    class Meta:
        model = Visit
        fields = ["id", "worker", "household", "visited_at", "method", "notes", "follow_up_on"]
        extra_kwargs = {
            "worker": {
                "required": False,
                "help_text": "Defaults to the caller; a committee may log for a worker.",
            },
            "visited_at": {"required": False},
        }

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
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

    def _due_on(self, obj: Resident) -> dt.date | None:
        if obj.last_visited_at is None:
            return None
        last = timezone.localtime(obj.last_visited_at).date()
        return last + dt.timedelta(days=obj.visit_every_days)

    def get_due_on(self, obj: Resident) -> dt.date | None:
        return self._due_on(obj)

    def get_status(self, obj: Resident) -> str:
        due_on = self._due_on(obj)
        if due_on is None:
            return "never_visited"
        return "overdue" if due_on < self.context["today"] else "due"

    def get_days_overdue(self, obj: Resident) -> int | None:
        due_on = self._due_on(obj)
        return None if due_on is None else (self.context["today"] - due_on).days
