from __future__ import annotations

import datetime as dt
from functools import cached_property
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from core.permissions import RoleModelPermissions
from core.views import ScopedModelViewSet
from residents import selectors, services
from residents.filters import DueVisitFilter, HouseholdFilter, ResidentFilter, VisitFilter
from residents.models import Household, Resident, Tag, Visit
from residents.serializers import (
    DueVisitSerializer,
    HouseholdSerializer,
    ResidentSerializer,
    TagSerializer,
    VisitSerializer,
)


class TagViewSet(ScopedModelViewSet):
    """Key-population tags (独居老人, 残疾人, 困难家庭 …) with their visit frequency."""

    queryset = Tag.objects.all()
    serializer_class = TagSerializer
    search_fields = ["name"]
    ordering_fields = ["id", "name", "visit_every_days"]
    filterset_fields = ["visit_every_days"]

    def get_queryset(self) -> Any:
        return selectors.tags_for(self.request.user)


class HouseholdViewSet(ScopedModelViewSet):
    """Households (户) of the caller's grids."""

    queryset = Household.objects.all()
    serializer_class = HouseholdSerializer
    filterset_class = HouseholdFilter
    search_fields = ["complex", "building", "room", "village_group", "house_number"]
    ordering_fields = ["id", "complex", "village_group", "house_number"]
    scope_parents = ("grid",)

    def get_queryset(self) -> Any:
        return selectors.households_for(self.request.user)


class ResidentViewSet(ScopedModelViewSet):
    """Residents (居民/村民). ID numbers are masked unless the caller may see them in full."""

    queryset = Resident.objects.all()
    serializer_class = ResidentSerializer
    filterset_class = ResidentFilter
    search_fields = ["name", "phone"]
    ordering_fields = ["id", "name", "birth_date"]
    scope_parents = ("household",)

    def get_queryset(self) -> Any:
        return selectors.residents_for(self.request.user)

    def perform_update(self, serializer: Any) -> None:
        old_household_id = serializer.instance.household_id
        super().perform_update(serializer)
        services.release_headship(resident=serializer.instance, old_household_id=old_household_id)


class VisitViewSet(ScopedModelViewSet):
    """Visits (走访) to households."""

    queryset = Visit.objects.all()
    serializer_class = VisitSerializer
    filterset_class = VisitFilter
    search_fields = ["notes"]
    ordering_fields = ["id", "visited_at", "follow_up_on"]
    scope_parents = ("household", "worker")

    def get_queryset(self) -> Any:
        return selectors.visits_for(self.request.user)

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = services.record_visit(
            user=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer: Any) -> None:
        # The create rule holds for a change too: a grid worker cannot hand a visit to a colleague.
        worker = serializer.validated_data.get("worker")
        if worker is not None and worker != serializer.instance.worker:
            services.ensure_may_log_for(user=self.request.user, worker=worker)
        super().perform_update(serializer)


class DueVisitViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Residents whose tags make a visit due today or overdue, in the caller's area.

    Never-visited residents come first, then the longest-waiting. `within_days` also lists
    visits falling due in the next N days.
    """

    queryset = Resident.objects.all()
    serializer_class = DueVisitSerializer
    permission_classes = [IsAuthenticated, RoleModelPermissions]
    filterset_class = DueVisitFilter
    search_fields = ["name"]
    ordering_fields: list[str] = []

    def get_queryset(self) -> Any:
        field = serializers.IntegerField(min_value=0, max_value=60, required=False)
        try:
            within = field.run_validation(self.request.query_params.get("within_days", 0))
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({"within_days": exc.detail}) from None
        return selectors.residents_due_for_visit(
            self.request.user, today=self.today, within_days=within
        )

    @cached_property
    def today(self) -> dt.date:
        return timezone.localdate()

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "today": self.today}

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "within_days", int, description="Also list visits due in the next N days (0–60)."
            )
        ]
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)
