from __future__ import annotations

from typing import Any

from django.db import transaction

from core.views import ScopedModelViewSet
from grids import selectors
from grids.filters import CommunityFilter, GridFilter, GridWorkerFilter, PartnerUnitFilter
from grids.models import Community, Grid, GridWorker, PartnerUnit, Street
from grids.serializers import (
    CommunitySerializer,
    GridSerializer,
    GridWorkerSerializer,
    PartnerUnitSerializer,
    StreetSerializer,
)
from points.services import copy_default_rules


class StreetViewSet(ScopedModelViewSet):
    """Streets and towns (街道/乡镇). Only a superuser creates one."""

    queryset = Street.objects.all()
    serializer_class = StreetSerializer
    filterset_fields = ["code"]  # every list filters (the issue); a street is found by its code
    search_fields = ["name", "code"]
    ordering_fields = ["id", "name", "code"]

    def get_queryset(self) -> Any:
        return selectors.streets_for(self.request.user)


class CommunityViewSet(ScopedModelViewSet):
    """Urban communities (社区) and villages (村)."""

    queryset = Community.objects.all()
    serializer_class = CommunitySerializer
    filterset_class = CommunityFilter
    search_fields = ["name", "code"]
    ordering_fields = ["id", "name", "code"]
    scope_parents = ("street",)

    def get_queryset(self) -> Any:
        return selectors.communities_for(self.request.user)

    @transaction.atomic
    def perform_create(self, serializer: Any) -> None:
        super().perform_create(serializer)
        # A new community starts with its street's default rule book (积分细则).
        copy_default_rules(community=serializer.instance)


class GridViewSet(ScopedModelViewSet):
    """Grids: residential (居民网格) and dedicated (专属网格)."""

    queryset = Grid.objects.all()
    serializer_class = GridSerializer
    filterset_class = GridFilter
    search_fields = ["name", "code"]
    ordering_fields = ["id", "code", "name"]
    scope_parents = ("community",)

    def get_queryset(self) -> Any:
        return selectors.grids_for(self.request.user)


class GridWorkerViewSet(ScopedModelViewSet):
    """Grid workers (网格员), full-time or part-time, with the grids they work today."""

    queryset = GridWorker.objects.all()
    serializer_class = GridWorkerSerializer
    filterset_class = GridWorkerFilter
    search_fields = ["name", "phone"]
    ordering_fields = ["id", "name"]
    scope_parents = ("community",)

    def get_queryset(self) -> Any:
        return selectors.grid_workers_for(self.request.user)


class PartnerUnitViewSet(ScopedModelViewSet):
    """Partner units (共建单位) and their agreements with communities."""

    queryset = PartnerUnit.objects.all()
    serializer_class = PartnerUnitSerializer
    filterset_class = PartnerUnitFilter
    search_fields = ["name", "contact_name"]
    ordering_fields = ["id", "name"]

    def get_queryset(self) -> Any:
        return selectors.partner_units_for(self.request.user)

    scope_parents = ("community",)

    def check_parents(self, data: dict[str, Any]) -> None:
        # Every community the unit signs with must be in the caller's area.
        communities = [a["community"] for a in data.get("agreements", [])]
        super().check_parents({"community": communities})

    def perform_update(self, serializer: Any) -> None:
        # Sending `agreements` replaces the list: an agreement it drops is a write to that
        # community too, so a street admin cannot end another street's agreement.
        agreements = serializer.validated_data.get("agreements")
        if agreements is not None:
            kept = {a["community"].pk for a in agreements}
            dropped = [
                a.community
                for a in serializer.instance.agreements.all()
                if a.community_id not in kept
            ]
            super().check_parents({"community": dropped})
        super().perform_update(serializer)
