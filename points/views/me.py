"""me/: the caller's own card, balance, statement and orders."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from core.idempotency import run_idempotent
from core.pagination import Pagination
from core.scope import scope_for
from core.types import acting_user
from core.views import (
    IDEMPOTENCY_PARAMETER,
    validated,
)
from points.models import (
    Account,
    Entry,
    Period,
)
from points.selectors import claims as claims_selectors
from points.selectors import ledger as ledger_selectors
from points.selectors import redemption as redemption_selectors
from points.serializers import (
    MeSerializer,
    MyEntrySerializer,
    MyOrderCreateSerializer,
    OrderSerializer,
)
from points.services import ledger as ledger_services
from points.services import redemption as redemption_services
from points.views.common import order_lines
from residents.models import Resident

# ---------------------------------------------------------------------------- me


class MeViewSet(viewsets.GenericViewSet):
    """Who I am: my roles and, for a resident, my card, balance (exchange points), honour
    points and points this quarter: my own account's, or with household accounts (以户为单位)
    my household's."""

    permission_classes = [IsAuthenticated]
    serializer_class = MeSerializer
    filter_backends: list[Any] = []
    pagination_class = None  # me/ is one object; me/entries/ pages (see its action)

    def _resident(self) -> Resident | None:
        resident_id = scope_for(self.request.user).resident_id
        if resident_id is None:
            return None
        return Resident.objects.select_related("household__grid").get(pk=resident_id)

    def _account(self, resident: Resident, per_household: bool) -> Account | None:
        """The account I see: my own, or with household accounts (以户为单位) my household's
        (its head and every member see it); None until it is opened."""
        if per_household:
            return (
                Account.objects.select_related("household__head")
                .filter(shared_household_id=resident.household_id)
                .first()
            )
        return Account.objects.filter(resident=resident).first()

    @extend_schema(operation_id="v1_me_retrieve")
    def list(self, request: Request) -> Response:
        user = acting_user(request)
        resident = self._resident()
        data: dict[str, Any] = {
            "username": user.get_username(),
            "name": user.get_full_name(),
            "roles": sorted(user.groups.values_list("name", flat=True)),
            "resident": None,
            "grid": None,
            "community": None,
            "balance": None,
            "honour": None,
            "earned_this_quarter": None,
            "card_number": None,
            "account_unit": None,
            "holder_name": None,
        }
        if resident is not None:
            per_household = ledger_services.counts_households(resident.household.grid.community_id)
            account = self._account(resident, per_household)
            quarter = Period.objects.filter(code=Period.bounds(timezone.localdate())[0])
            data.update(
                name=resident.name,
                resident=resident.pk,
                grid=resident.household.grid_id,
                community=resident.household.grid.community_id,
                balance=account.balance if account else 0,
                honour=account.honour if account else 0,
                earned_this_quarter=(
                    ledger_selectors.earned(account=account, periods=quarter) if account else 0
                ),
                card_number=account.card_number if account else None,
                account_unit="household" if per_household else "resident",
                holder_name=account.holder_name if account else resident.name,
            )
        else:
            worker_name = (
                user.grid_worker.name if hasattr(user, "grid_worker") else user.get_full_name()
            )
            data["name"] = worker_name
        return Response(MeSerializer(data).data)

    @extend_schema(
        responses={200: MyEntrySerializer(many=True), 404: OpenApiResponse(OpenApiTypes.OBJECT)}
    )
    @action(detail=False, methods=["get"], pagination_class=Pagination)
    def entries(self, request: Request) -> Response:
        """My statement, newest entry first: with household accounts (以户为单位) my
        household's, each line of a claim naming the member it was for. 404 when I am not a
        resident."""
        resident = self._resident()
        if resident is None:
            raise NotFound(_("You are not registered as a resident."))
        account = self._account(
            resident, ledger_services.counts_households(resident.household.grid.community_id)
        )
        statement = (
            ledger_selectors.account_statement(account=account)
            if account is not None
            else Entry.objects.none()
        )
        page = self.paginate_queryset(statement)
        claims = claims_selectors.claims_of_entries(list(page or []), members=True)
        return self.get_paginated_response(
            MyEntrySerializer(page, many=True, context={"claims": claims}).data
        )

    @extend_schema(
        methods=["GET"],
        responses={200: OrderSerializer(many=True), 404: OpenApiResponse(OpenApiTypes.OBJECT)},
    )
    @extend_schema(
        methods=["POST"],
        request=MyOrderCreateSerializer,
        responses={201: OrderSerializer, 404: OpenApiResponse(OpenApiTypes.OBJECT)},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @action(detail=False, methods=["get", "post"], pagination_class=Pagination)
    def orders(self, request: Request) -> Response:
        """My redemption orders, newest first; POST `lines` to place one while the window of
        my community is open. 404 when I am not a resident."""
        resident = self._resident()
        if resident is None:
            raise NotFound(_("You are not registered as a resident."))
        if request.method == "GET":
            orders = redemption_selectors.orders_for(request.user).filter(resident=resident)
            page = self.paginate_queryset(orders)
            return self.get_paginated_response(OrderSerializer(page, many=True).data)

        def handler() -> Response:
            data = validated(MyOrderCreateSerializer, request.data)
            order = redemption_services.place_order(
                user=acting_user(request), resident=resident, lines=order_lines(data)
            )
            order = redemption_selectors.orders_for(request.user).get(pk=order.pk)
            return Response(OrderSerializer(order).data, status=status.HTTP_201_CREATED)

        return run_idempotent(request, handler)
