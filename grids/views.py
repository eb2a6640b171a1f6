from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from core.idempotency import run_idempotent
from core.permissions import ActionPermissions, RoleModelPermissions, ensure_in_scope
from core.types import acting_user
from core.views import IDEMPOTENCY_PARAMETER, ScopedModelViewSet, validated
from grids import selectors, services
from grids.filters import (
    AgendaItemFilter,
    CommunityFilter,
    CouncilFilter,
    GridFilter,
    GridWorkerFilter,
    PartnerUnitFilter,
    ProjectFilter,
    ResourceFilter,
)
from grids.models import (
    AgendaItem,
    Community,
    Council,
    Grid,
    GridWorker,
    PartnerUnit,
    Project,
    Resource,
    Street,
)
from grids.serializers import (
    AgendaItemSerializer,
    AgendaItemWriteSerializer,
    CommunitySerializer,
    CouncilMinutesSerializer,
    CouncilPlanSerializer,
    CouncilSerializer,
    EvaluateSerializer,
    FixAgendaResultSerializer,
    GridSerializer,
    GridWorkerSerializer,
    PartnerUnitSerializer,
    ProjectSerializer,
    ResourceSerializer,
    StreetSerializer,
)


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

    def perform_create(self, serializer: Any) -> None:
        # Saved through the service: a new community is set up by the apps above (its rule
        # book, 积分细则).
        self.check_parents(serializer.validated_data)
        serializer.instance = services.create_community(Community(**serializer.validated_data))


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

    def perform_create(self, serializer: Any) -> None:
        # The service writes the unit and its agreements, each in the caller's area.
        serializer.instance = services.create_partner_unit(
            user=acting_user(self.request), **serializer.validated_data
        )

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = services.update_partner_unit(
            user=acting_user(self.request), unit=serializer.instance, **serializer.validated_data
        )


# ---------------------------------------------------------------------------- lists (design §5)


class ResourceViewSet(ScopedModelViewSet):
    """The resources list (资源清单): what partner units and organisations offer a community.
    The committee and the street admin keep it; grid workers read their community's; a
    partner contact reads its own unit's rows."""

    queryset = Resource.objects.all()
    serializer_class = ResourceSerializer
    filterset_class = ResourceFilter
    search_fields = ["name", "provider", "description", "contact"]
    ordering_fields = ["id", "name", "kind", "provider"]
    scope_parents = ("community",)

    def get_queryset(self) -> Any:
        return selectors.resources_for(self.request.user)

    def perform_destroy(self, instance: Resource) -> None:
        if instance.partner_organisation_id:
            raise ValidationError(
                {
                    "partner_organisation": [
                        _("This row lists a partner organisation; change it there.")
                    ]
                }
            )
        super().perform_destroy(instance)


class ProjectViewSet(ScopedModelViewSet):
    """The projects list (项目清单): larger works that group needs, with owner, budget,
    progress and due date, and how many of their needs are resolved."""

    queryset = Project.objects.all()
    serializer_class = ProjectSerializer
    filterset_class = ProjectFilter
    search_fields = ["name", "owner", "description"]
    ordering_fields = ["id", "name", "due_on", "progress", "budget", "status"]
    scope_parents = ("community",)

    def get_queryset(self) -> Any:
        return selectors.projects_for(self.request.user)


# ---------------------------------------------------------------------------- council (议事会)


class CouncilViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """The monthly council (议事会) of a community, with its agenda, minutes and the
    evaluation of past items. Planned on the 10th (agenda cut-off the 7th); the committee of
    the community and its street admin run it; its grid workers read it."""

    queryset = Council.objects.all()
    serializer_class = CouncilSerializer
    filterset_class = CouncilFilter
    search_fields = ["place", "community__name"]
    ordering_fields = ["id", "held_on"]
    permission_classes = [IsAuthenticated, ActionPermissions]
    action_permissions = {
        "fix_agenda": ["grids.change_council"],
        "hold": ["grids.change_council"],
        "evaluate": ["grids.add_agendaevaluation"],
        "pending_evaluation": ["grids.view_council", "grids.view_agendaitem"],
        ("agenda_items", "GET"): ["grids.view_council", "grids.view_agendaitem"],
        ("agenda_items", "POST"): ["grids.add_agendaitem"],
    }

    def get_queryset(self) -> Any:
        return selectors.councils_for(self.request.user)

    def _out(self, council: Council, status_code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=council.pk)  # with its items and evaluations
        return Response(self.get_serializer(fresh).data, status=status_code)

    @extend_schema(
        request=CouncilPlanSerializer,
        responses={201: CouncilSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Plan a community's council of a month (idempotent: one council a month)."""

        def handler() -> Response:
            data = validated(CouncilPlanSerializer, request.data)
            ensure_in_scope(request.user, data["community"])
            council = services.plan_council(user=acting_user(request), **data)
            return self._out(council, status.HTTP_201_CREATED)

        return run_idempotent(request, handler)

    @extend_schema(request=CouncilMinutesSerializer, responses=CouncilSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Write the minutes (only the fields sent change) while the council is not held."""
        council = self.get_object()
        serializer = CouncilMinutesSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        council = services.record_minutes(
            council=council, user=acting_user(request), **serializer.validated_data
        )
        return self._out(council)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Drop a council planned by mistake, before its agenda is fixed."""
        services.delete_council(council=self.get_object(), user=acting_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=None, responses=FixAgendaResultSerializer, parameters=[IDEMPOTENCY_PARAMETER]
    )
    @action(detail=True, methods=["post"], url_path="fix-agenda", filter_backends=[])
    def fix_agenda(self, request: Request, pk: str | None = None) -> Response:
        """Fix the agenda (on or after the cut-off): the needs flagged for the council become
        its items. Idempotent."""

        def handler() -> Response:
            council = self.get_object()
            added = services.fix_agenda(council=council, user=acting_user(request))
            fresh = self.get_queryset().get(pk=council.pk)
            return Response({"added": added, "council": self.get_serializer(fresh).data})

        return run_idempotent(request, handler)

    @extend_schema(
        request=EvaluateSerializer, responses=CouncilSerializer, parameters=[IDEMPOTENCY_PARAMETER]
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def evaluate(self, request: Request, pk: str | None = None) -> Response:
        """Score past items 1–5 and strike each off (销号) or carry it over with a reason
        (挂账)."""

        def handler() -> Response:
            council = self.get_object()
            data = validated(EvaluateSerializer, request.data)
            services.evaluate_items(
                council=council, user=acting_user(request), evaluations=data["evaluations"]
            )
            return self._out(council)

        return run_idempotent(request, handler)

    @extend_schema(request=None, responses=CouncilSerializer, parameters=[IDEMPOTENCY_PARAMETER])
    @action(detail=True, methods=["post"], filter_backends=[])
    def hold(self, request: Request, pk: str | None = None) -> Response:
        """Mark the council held: needs the five sections, the attendance, and every past
        item evaluated."""

        def handler() -> Response:
            council = services.hold_council(council=self.get_object(), user=acting_user(request))
            return self._out(council)

        return run_idempotent(request, handler)

    @extend_schema(responses=AgendaItemSerializer(many=True), filters=False)
    @action(detail=True, methods=["get"], url_path="pending-evaluation", filter_backends=[])
    def pending_evaluation(self, request: Request, pk: str | None = None) -> Response:
        """Past items this council still has to evaluate before it can be held."""
        items = selectors.items_to_evaluate(council=self.get_object())
        page = self.paginate_queryset(items)
        return self.get_paginated_response(AgendaItemSerializer(page, many=True).data)

    @extend_schema(methods=["GET"], responses=AgendaItemSerializer(many=True), filters=False)
    @extend_schema(
        methods=["POST"],
        request=AgendaItemWriteSerializer,
        responses={201: AgendaItemSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @action(detail=True, methods=["get", "post"], url_path="agenda-items", filter_backends=[])
    def agenda_items(self, request: Request, pk: str | None = None) -> Response:
        """The council's agenda; POST adds an item by hand while the council is not held."""
        council = self.get_object()
        if request.method == "GET":
            items = selectors.agenda_items_for(request.user).filter(council=council)
            page = self.paginate_queryset(items)
            return self.get_paginated_response(AgendaItemSerializer(page, many=True).data)

        def handler() -> Response:
            data = validated(AgendaItemWriteSerializer, request.data)
            item = services.add_agenda_item(council=council, user=acting_user(request), **data)
            fresh = selectors.agenda_items_for(request.user).get(pk=item.pk)
            return Response(AgendaItemSerializer(fresh).data, status=status.HTTP_201_CREATED)

        return run_idempotent(request, handler)


class AgendaItemViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Agenda items of the councils in scope. Items are added through
    councils/{id}/agenda-items/; here they are read, changed (the decision above all) and
    removed while their council is not held."""

    queryset = AgendaItem.objects.all()
    serializer_class = AgendaItemSerializer
    filterset_class = AgendaItemFilter
    search_fields = ["title", "decision"]
    ordering_fields = ["id", "position"]
    permission_classes = [IsAuthenticated, RoleModelPermissions]
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def get_queryset(self) -> Any:
        return selectors.agenda_items_for(self.request.user)

    @extend_schema(request=AgendaItemWriteSerializer, responses=AgendaItemSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        item = self.get_object()
        serializer = AgendaItemWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        item = services.update_agenda_item(
            item=item, user=acting_user(request), **serializer.validated_data
        )
        return Response(AgendaItemSerializer(self.get_queryset().get(pk=item.pk)).data)

    def perform_destroy(self, instance: AgendaItem) -> None:
        services.delete_agenda_item(item=instance, user=acting_user(self.request))
