"""The redemption API (积分云超市): the catalog, the redemption windows and the orders."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from core.idempotency import IdempotentCreateMixin, run_idempotent
from core.types import acting_user
from core.views import (
    IDEMPOTENCY_PARAMETER,
    ScopedModelViewSet,
    validated,
)
from grids.models import Community
from points import access
from points.filters import (
    CatalogItemFilter,
    OrderFilter,
    RedemptionWindowFilter,
)
from points.models import (
    CatalogItem,
    Order,
    RedemptionWindow,
)
from points.selectors import redemption as redemption_selectors
from points.serializers import (
    CatalogItemSerializer,
    OrderCreateSerializer,
    OrderSerializer,
    RedemptionWindowSerializer,
)
from points.services import redemption as redemption_services
from points.views.common import PointsViewSetMixin, order_lines

# ---------------------------------------------------------------------------- redemption


class CatalogItemViewSet(ScopedModelViewSet):
    """The community's catalog (积分云超市): goods residents order by points. The committee
    writes it; grid workers and the community's residents read it."""

    queryset = CatalogItem.objects.all()
    serializer_class = CatalogItemSerializer
    filterset_class = CatalogItemFilter
    search_fields = ["name"]
    ordering_fields = ["id", "name", "points"]
    ordering = ["points", "name"]
    scope_parents = ("community",)

    def get_queryset(self) -> Any:
        return redemption_selectors.catalog_items_for(self.request.user)

    def _check_writable(self, community: Community) -> None:
        access.access_write_catalog(self.request.user, community)

    def perform_create(self, serializer: Any) -> None:
        self._check_writable(serializer.validated_data["community"])
        super().perform_create(serializer)

    def perform_update(self, serializer: Any) -> None:
        self._check_writable(serializer.instance.community)
        super().perform_update(serializer)

    def perform_destroy(self, instance: CatalogItem) -> None:
        redemption_services.delete_catalog_item(user=acting_user(self.request), item=instance)


class RedemptionWindowViewSet(
    PointsViewSetMixin,
    IdempotentCreateMixin,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Redemption windows: the days in which a community's residents order goods for a
    quarter. A street admin opens one (a second create for the same quarter and community
    moves its dates); a community's policy may have them opened at quarter end."""

    queryset = RedemptionWindow.objects.all()
    serializer_class = RedemptionWindowSerializer
    filterset_class = RedemptionWindowFilter
    search_fields: list[str] = []
    ordering_fields = ["id", "opens_on", "closes_on"]

    def get_queryset(self) -> Any:
        return redemption_selectors.redemption_windows_for(self.request.user)

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = redemption_services.open_redemption(
            user=acting_user(self.request), **serializer.validated_data
        )


class OrderViewSet(
    PointsViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Redemption orders (兑换订单). A grid worker or committee member orders for a resident of
    their area while the community's window is open; the points are debited at once.
    Cancelling inside the window refunds them; the grid worker records the hand-over."""

    queryset = Order.objects.all()
    serializer_class = OrderSerializer
    filterset_class = OrderFilter
    search_fields = ["resident__name"]
    ordering_fields = ["id", "placed_at", "total_points", "status"]
    action_permissions = {
        "cancel": ["points.add_order"],
        "hand_over": ["points.change_order"],
    }

    def get_queryset(self) -> Any:
        return redemption_selectors.orders_for(self.request.user)

    def _out(self, order: Order, code: int = status.HTTP_200_OK) -> Response:
        order = redemption_selectors.orders_for(self.request.user).get(pk=order.pk)
        return Response(OrderSerializer(order).data, status=code)

    @extend_schema(
        request=OrderCreateSerializer,
        responses={201: OrderSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Place an order for a resident: `resident` and `lines: [{"item", "quantity"}]`."""

        def handler() -> Response:
            data = validated(OrderCreateSerializer, request.data)
            order = redemption_services.place_order(
                user=acting_user(request), resident=data["resident"], lines=order_lines(data)
            )
            return self._out(order, status.HTTP_201_CREATED)

        return run_idempotent(request, handler)

    @extend_schema(request=None, responses=OrderSerializer, parameters=[IDEMPOTENCY_PARAMETER])
    @action(detail=True, methods=["post"], filter_backends=[])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """Cancel the order inside the redemption window; its points are refunded."""

        def handler() -> Response:
            order = redemption_services.cancel_order(
                user=acting_user(request), order=self.get_object()
            )
            return self._out(order)

        return run_idempotent(request, handler)

    @extend_schema(request=None, responses=OrderSerializer, parameters=[IDEMPOTENCY_PARAMETER])
    @action(detail=True, methods=["post"], url_path="hand-over", filter_backends=[])
    def hand_over(self, request: Request, pk: str | None = None) -> Response:
        """Record that the goods were handed over (grid worker of the resident's grid)."""

        def handler() -> Response:
            order = redemption_services.hand_over(
                user=acting_user(request), order=self.get_object()
            )
            return self._out(order)

        return run_idempotent(request, handler)
