from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from grids.models import Community, Grid, GridWorker, PartnerAgreement, PartnerUnit, Street


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
    agreements = PartnerAgreementSerializer(many=True, required=False)

    class Meta:
        model = PartnerUnit
        fields = ["id", "name", "contact_name", "contact_phone", "agreements"]

    def validate_agreements(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        communities = [a["community"].pk for a in value]
        if len(communities) != len(set(communities)):
            raise serializers.ValidationError(_("Each community may appear once."))
        return value

    @transaction.atomic
    def create(self, validated_data: dict[str, Any]) -> PartnerUnit:
        agreements = validated_data.pop("agreements", [])
        unit = PartnerUnit.objects.create(**validated_data)
        PartnerAgreement.objects.bulk_create(PartnerAgreement(unit=unit, **a) for a in agreements)
        return unit

    @transaction.atomic
    def update(self, instance: PartnerUnit, validated_data: dict[str, Any]) -> PartnerUnit:
        agreements = validated_data.pop("agreements", None)
        instance = super().update(instance, validated_data)
        if agreements is not None:
            instance.agreements.all().delete()
            PartnerAgreement.objects.bulk_create(
                PartnerAgreement(unit=instance, **a) for a in agreements
            )
        return instance
