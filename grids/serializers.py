from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from core.filters import MAX_ID
from grids.models import (
    AgendaEvaluation,
    AgendaItem,
    Community,
    Council,
    Grid,
    GridWorker,
    PartnerAgreement,
    PartnerUnit,
    Project,
    Resource,
    Street,
)


class StreetSerializer(serializers.ModelSerializer):
    class Meta:
        model = Street
        fields = ["id", "name", "code"]


class CommunitySerializer(serializers.ModelSerializer):
    class Meta:
        model = Community
        fields = ["id", "street", "name", "code", "kind"]


class GridSerializer(serializers.ModelSerializer):
    class Meta:
        model = Grid
        fields = ["id", "community", "code", "name", "kind", "leader"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        community = attrs.get("community") or getattr(self.instance, "community", None)
        # The current leader too: moving a grid to another community must not keep a leader
        # from the old one.
        leader = attrs.get("leader", getattr(self.instance, "leader", None))
        if leader is not None and community is not None and leader.community_id != community.id:
            raise serializers.ValidationError(
                {"leader": [_("The grid leader must be a worker of the same community.")]}
            )
        return attrs


class GridWorkerSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)
    grids = serializers.SerializerMethodField(help_text="Grids the worker is assigned to today.")

    class Meta:
        model = GridWorker
        fields = [
            "id",
            "user",
            "username",
            "community",
            "name",
            "kind",
            "phone",
            "is_party_member",
            "grids",
        ]

    def get_grids(self, obj: GridWorker) -> list[int]:
        # Filled by the selector's Prefetch of today's assignments: no query per row.
        today = timezone.localdate()
        return [
            a.grid_id
            for a in obj.assignments.all()
            if a.start_date <= today and (a.end_date is None or a.end_date >= today)
        ]


class PartnerAgreementSerializer(serializers.ModelSerializer):
    class Meta:
        model = PartnerAgreement
        fields = ["community", "signed_on"]


class PartnerUnitSerializer(serializers.ModelSerializer):
    """Validates a partner unit with its agreements; grids.services.create_partner_unit and
    update_partner_unit write them (the view calls those, never `save()`)."""

    agreements = PartnerAgreementSerializer(many=True, required=False)

    class Meta:
        model = PartnerUnit
        fields = ["id", "name", "contact_name", "contact_phone", "agreements"]

    def validate_agreements(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        # A PATCH makes DRF skip the required fields of the nested items too, but the list
        # replaces the stored one: every agreement is sent whole.
        required = serializers.Field.default_error_messages["required"]
        for agreement in value:
            missing = [name for name in ("community", "signed_on") if name not in agreement]
            if missing:
                raise serializers.ValidationError({name: [required] for name in missing})
        communities = [a["community"].pk for a in value]
        if len(communities) != len(set(communities)):
            raise serializers.ValidationError(_("Each community may appear once."))
        return value


# ---------------------------------------------------------------------------- lists (design §5)


class ResourceSerializer(serializers.ModelSerializer):
    community_name = serializers.CharField(source="community.name", read_only=True)
    partner_unit_name = serializers.CharField(
        source="partner_unit.name", read_only=True, allow_null=True
    )
    provider = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text="Who offers it, as listed. Defaults to the partner unit's name.",
    )

    class Meta:
        model = Resource
        fields = [
            "id",
            "community",
            "community_name",
            "name",
            "kind",
            "description",
            "provider",
            "partner_unit",
            "partner_unit_name",
            "partner_organisation",
            "contact",
            "active",
        ]
        read_only_fields = ["partner_organisation"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is not None and self.instance.partner_organisation_id:
            raise serializers.ValidationError(
                {
                    "partner_organisation": [
                        _("This row lists a partner organisation; change it there.")
                    ]
                }
            )
        community = attrs.get("community", getattr(self.instance, "community", None))
        unit = attrs.get("partner_unit", getattr(self.instance, "partner_unit", None))
        if (
            unit is not None
            and community is not None
            and not unit.agreements.filter(community=community).exists()
        ):
            raise serializers.ValidationError(
                {"partner_unit": [_("The partner unit has no agreement with this community.")]}
            )
        provider = attrs.get("provider", getattr(self.instance, "provider", "")).strip()
        if not provider and unit is not None:
            provider = unit.name
        if not provider:
            raise serializers.ValidationError(
                {"provider": [_("Say who offers it, or pick the partner unit.")]}
            )
        attrs["provider"] = provider
        return attrs


class ProjectSerializer(serializers.ModelSerializer):
    community_name = serializers.CharField(source="community.name", read_only=True)
    progress = serializers.IntegerField(min_value=0, max_value=100, required=False)
    budget = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False, allow_null=True
    )
    needs_count = serializers.IntegerField(read_only=True, help_text="Needs this project groups.")
    needs_resolved = serializers.IntegerField(
        read_only=True, help_text="Of those, how many are resolved or closed."
    )
    overdue = serializers.SerializerMethodField(help_text="Past its due date and not done.")

    class Meta:
        model = Project
        fields = [
            "id",
            "community",
            "community_name",
            "name",
            "description",
            "owner",
            "budget",
            "progress",
            "due_on",
            "status",
            "needs_count",
            "needs_resolved",
            "overdue",
            "created_at",
        ]
        read_only_fields = ["created_at"]

    def get_overdue(self, obj: Project) -> bool:
        return (
            obj.due_on is not None
            and obj.due_on < timezone.localdate()
            and obj.status != Project.Status.DONE
        )

    def to_representation(self, instance: Project) -> dict[str, Any]:
        data = super().to_representation(instance)
        # After a create or update the instance is not annotated by the selector.
        for name in ("needs_count", "needs_resolved"):
            if not hasattr(instance, name):
                data[name] = _needs_counts(instance)[name]
        return data


def _needs_counts(project: Project) -> dict[str, int]:
    from residents.models import Need

    needs = project.needs.all()
    done = needs.filter(status__in=[Need.Status.RESOLVED, Need.Status.CLOSED])
    return {"needs_count": needs.count(), "needs_resolved": done.count()}


# ---------------------------------------------------------------------------- council (议事会)


class AgendaItemSerializer(serializers.ModelSerializer):
    held_on = serializers.DateField(source="council.held_on", read_only=True)
    need_title = serializers.CharField(source="need.title", read_only=True, allow_null=True)
    need_status = serializers.CharField(source="need.status", read_only=True, allow_null=True)
    project_name = serializers.CharField(source="project.name", read_only=True, allow_null=True)
    responsible_name = serializers.CharField(
        source="responsible.name", read_only=True, allow_null=True
    )

    class Meta:
        model = AgendaItem
        fields = [
            "id",
            "council",
            "held_on",
            "position",
            "title",
            "decision",
            "need",
            "need_title",
            "need_status",
            "project",
            "project_name",
            "responsible",
            "responsible_name",
            "outcome",
        ]
        read_only_fields = fields


class AgendaItemWriteSerializer(serializers.ModelSerializer):
    """An item added or changed by hand. The need, project and worker must be of the
    council's community (checked by the service)."""

    title = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text="Defaults to the need's title or the project's name.",
    )

    class Meta:
        model = AgendaItem
        fields = ["title", "decision", "need", "project", "responsible", "position"]
        extra_kwargs = {"position": {"required": False}}


class AgendaEvaluationSerializer(serializers.ModelSerializer):
    item_title = serializers.CharField(source="item.title", read_only=True)
    item_held_on = serializers.DateField(source="item.council.held_on", read_only=True)
    evaluated_by_name = serializers.SerializerMethodField()

    class Meta:
        model = AgendaEvaluation
        fields = [
            "id",
            "item",
            "item_title",
            "item_held_on",
            "council",
            "score",
            "struck_off",
            "reason",
            "evaluated_by",
            "evaluated_by_name",
            "evaluated_at",
        ]
        read_only_fields = fields

    def get_evaluated_by_name(self, obj: AgendaEvaluation) -> str:
        return obj.evaluated_by.get_full_name() or obj.evaluated_by.get_username()


class CouncilSerializer(serializers.ModelSerializer):
    community_name = serializers.CharField(source="community.name", read_only=True)
    items = AgendaItemSerializer(many=True, read_only=True)
    evaluations = AgendaEvaluationSerializer(
        many=True, read_only=True, help_text="Past items evaluated at this council."
    )
    minutes_url = serializers.SerializerMethodField(help_text="The printable minutes page.")

    class Meta:
        model = Council
        fields = [
            "id",
            "community",
            "community_name",
            "held_on",
            "agenda_cutoff",
            "place",
            "status",
            "policy_talk",
            "affairs_disclosed",
            "needs_raised",
            "solutions_discussed",
            "past_items_evaluated",
            "attendees",
            "attendee_count",
            "chaired_by",
            "recorded_by",
            "items",
            "evaluations",
            "minutes_url",
        ]
        read_only_fields = fields

    def get_minutes_url(self, obj: Council) -> str:
        return reverse("grids:council_minutes", args=[obj.pk])


class CouncilPlanSerializer(serializers.Serializer):
    community = serializers.PrimaryKeyRelatedField(queryset=Community.objects.all())
    month = serializers.DateField(
        required=False, help_text="Any day of the month; defaults to the month of held_on."
    )
    held_on = serializers.DateField(required=False, help_text="Defaults to the 10th.")
    agenda_cutoff = serializers.DateField(required=False, help_text="Defaults to the 7th.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        month = attrs.get("month") or attrs.get("held_on")
        if month is None:
            raise serializers.ValidationError({"month": [_("Give the month or the day.")]})
        if not 2000 <= month.year <= 2100:
            name = "month" if attrs.get("month") else "held_on"
            raise serializers.ValidationError({name: [_("Pick a month of 2000 to 2100.")]})
        attrs["month"] = month
        return attrs


class CouncilMinutesSerializer(serializers.ModelSerializer):
    """The minutes: the five sections (政策宣讲, 村务财务公开, 群众提需求, 商议解决办法,
    评议上月事项), the attendance, who chaired and where."""

    attendee_count = serializers.IntegerField(
        min_value=0, required=False, help_text="Counted from the names when not given."
    )

    class Meta:
        model = Council
        fields = [
            "policy_talk",
            "affairs_disclosed",
            "needs_raised",
            "solutions_discussed",
            "past_items_evaluated",
            "attendees",
            "attendee_count",
            "chaired_by",
            "place",
        ]


class EvaluationInputSerializer(serializers.Serializer):
    item = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text="A past agenda item still open or carried over."
    )
    score = serializers.IntegerField(min_value=1, max_value=5)
    struck_off = serializers.BooleanField(help_text="Struck off (销号); else carried over (挂账).")
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Required when carried over."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs["struck_off"] and not attrs["reason"].strip():
            raise serializers.ValidationError({"reason": [_("Say why it is carried over.")]})
        return attrs


class EvaluateSerializer(serializers.Serializer):
    evaluations = EvaluationInputSerializer(many=True, allow_empty=False)


class FixAgendaResultSerializer(serializers.Serializer):
    added = serializers.IntegerField(help_text="Agenda items added from flagged needs.")
    council = CouncilSerializer()
