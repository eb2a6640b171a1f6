"""The points API: rules, claims and their decisions, accounts and the ledger, quarters with
their public notice, rankings, objections, and the caller's own card (me/).

Views are thin: an input serializer, one service call, an output serializer. Every write that
is not a plain create (approve, reject, bulk, reverse, uphold, dismiss) honours the
Idempotency-Key header like a create does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer, StaticHTMLRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from core.idempotency import IdempotentCreateMixin, run_idempotent
from core.pagination import Pagination
from core.permissions import ActionPermissions, HasPermissions
from core.scope import scope_for
from core.views import (
    IDEMPOTENCY_PARAMETER,
    ErrorsAsJsonMixin,
    ScopedModelViewSet,
    validated,
)
from grids.models import Community, Grid
from points import exports, selectors, services
from points.filters import (
    AccountFilter,
    CatalogItemFilter,
    ClaimFilter,
    EntryFilter,
    ObjectionFilter,
    OrderFilter,
    PeriodFilter,
    RedemptionWindowFilter,
    RuleFilter,
)
from points.models import (
    Account,
    CatalogItem,
    Claim,
    Closing,
    Entry,
    Objection,
    Order,
    Period,
    RedemptionWindow,
    Rule,
)
from points.serializers import (
    AccountSerializer,
    BulkApproveResultSerializer,
    BulkRejectResultSerializer,
    BulkRejectSerializer,
    CatalogItemSerializer,
    ClaimIdsSerializer,
    ClaimSerializer,
    ClosingSerializer,
    DistributionListQuerySerializer,
    DistributionListSerializer,
    EntrySerializer,
    MeSerializer,
    MyOrderCreateSerializer,
    NoteSerializer,
    NoticeQuerySerializer,
    NoticeRowSerializer,
    NoticeSerializer,
    ObjectionSerializer,
    OrderCreateSerializer,
    OrderSerializer,
    PeriodSerializer,
    PurchaseListQuerySerializer,
    PurchaseListSerializer,
    RankingQuerySerializer,
    RankingRowSerializer,
    ReasonSerializer,
    RedemptionWindowSerializer,
    RuleSerializer,
    UpholdSerializer,
)
from residents.models import Resident


class PointsViewSetMixin:
    permission_classes = [IsAuthenticated, ActionPermissions]
    action_permissions: dict[str, list[str]] = {}


# ---------------------------------------------------------------------------- rules


class RuleViewSet(ScopedModelViewSet):
    """Points rules (积分增减细则) of a community, and a street's default rule book.

    Committee members and street admins write their communities' rules; only a street admin
    writes the street's default book, which is copied into each new community.
    """

    queryset = Rule.objects.all()
    serializer_class = RuleSerializer
    filterset_class = RuleFilter
    search_fields = ["name", "code"]
    ordering_fields = ["id", "code", "name", "category", "points"]
    ordering = ["id"]
    scope_parents = ("community",)

    def get_queryset(self) -> Any:
        return selectors.rules_for(self.request.user)

    def check_parents(self, data: dict[str, Any]) -> None:
        super().check_parents(data)
        street = data.get("street")
        if street is not None:
            scope = scope_for(self.request.user)
            if not (scope.everything or street.pk in scope.street_ids):
                raise PermissionDenied(
                    _("Only an admin of the street writes its default rule book.")
                )


# ---------------------------------------------------------------------------- claims


class ClaimViewSet(
    PointsViewSetMixin,
    IdempotentCreateMixin,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Points claims (积分申报): a grid worker or committee member claims points for a resident
    under a rule; a committee member of the resident's community, never the submitter,
    approves (posting the award or deduction) or rejects with a reason."""

    queryset = Claim.objects.all()
    serializer_class = ClaimSerializer
    filterset_class = ClaimFilter
    search_fields = ["resident__name", "note"]
    ordering_fields = ["id", "occurred_on", "submitted_at", "decided_at", "points", "status"]
    action_permissions = {
        "approve": ["points.change_claim"],
        "reject": ["points.change_claim"],
        "bulk_approve": ["points.change_claim"],
        "bulk_reject": ["points.change_claim"],
    }

    def get_queryset(self) -> Any:
        return selectors.claims_for(self.request.user)

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = services.submit_claim(
            user=self.request.user, **serializer.validated_data
        )

    def _decide(self, request: Request, decide: Callable[[Claim], Claim]) -> Response:
        def handler() -> Response:
            claim = decide(self.get_object())
            return Response(ClaimSerializer(claim, context=self.get_serializer_context()).data)

        return run_idempotent(request, handler)

    @extend_schema(request=None, responses=ClaimSerializer, parameters=[IDEMPOTENCY_PARAMETER])
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        """Approve the claim and post its points to the resident's account."""
        return self._decide(
            request, lambda claim: services.approve_claim(claim=claim, approver=request.user)
        )

    @extend_schema(
        request=ReasonSerializer, responses=ClaimSerializer, parameters=[IDEMPOTENCY_PARAMETER]
    )
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        """Reject the claim; the reason is required."""

        def decide(claim: Claim) -> Claim:
            reason = validated(ReasonSerializer, request.data)["reason"]
            return services.reject_claim(claim=claim, approver=request.user, reason=reason)

        return self._decide(request, decide)

    def _selected(self, ids: list[int]) -> QuerySet[Claim]:
        return Claim.objects.filter(id__in=self.get_queryset().filter(id__in=ids).values("id"))

    @extend_schema(
        request=ClaimIdsSerializer,
        responses=BulkApproveResultSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @action(detail=False, methods=["post"], url_path="bulk-approve", filter_backends=[])
    def bulk_approve(self, request: Request) -> Response:
        """Approve many claims at once. Claims you may not decide are skipped, not refused."""

        def handler() -> Response:
            ids = set(validated(ClaimIdsSerializer, request.data)["ids"])
            result = services.bulk_approve_claims(
                claims=self._selected(list(ids)), approver=request.user
            )
            return Response({"approved": result.decided, "skipped": len(ids) - result.decided})

        return run_idempotent(request, handler)

    @extend_schema(
        request=BulkRejectSerializer,
        responses=BulkRejectResultSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @action(detail=False, methods=["post"], url_path="bulk-reject", filter_backends=[])
    def bulk_reject(self, request: Request) -> Response:
        """Reject many claims with one reason. Claims you may not decide are skipped."""

        def handler() -> Response:
            data = validated(BulkRejectSerializer, request.data)
            ids = set(data["ids"])
            result = services.bulk_reject_claims(
                claims=self._selected(list(ids)), approver=request.user, reason=data["reason"]
            )
            return Response({"rejected": result.decided, "skipped": len(ids) - result.decided})

        return run_idempotent(request, handler)


# ---------------------------------------------------------------------------- accounts, ledger


class AccountViewSet(PointsViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Points accounts (积分账户), one per resident, with the card number (积分卡)."""

    queryset = Account.objects.all()
    serializer_class = AccountSerializer
    filterset_class = AccountFilter
    search_fields = ["resident__name", "card_number"]
    ordering_fields = ["id", "balance", "card_number"]
    action_permissions = {"entries": ["points.view_account", "points.view_entry"]}

    def get_queryset(self) -> Any:
        return selectors.accounts_for(self.request.user)

    @extend_schema(responses=EntrySerializer(many=True), filters=False)
    @action(detail=True, methods=["get"], filter_backends=[])
    def entries(self, request: Request, pk: str | None = None) -> Response:
        """The account's statement, newest entry first."""
        statement = selectors.account_statement(account=self.get_object())
        page = self.paginate_queryset(statement)
        return self.get_paginated_response(EntrySerializer(page, many=True).data)


class EntryViewSet(PointsViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """The ledger (积分流水): append-only. A mistake is corrected by a reversal."""

    queryset = Entry.objects.all()
    serializer_class = EntrySerializer
    filterset_class = EntryFilter
    search_fields = ["note"]
    ordering_fields = ["id", "seq", "created_at", "amount"]
    ordering = ["-id"]
    action_permissions = {"reverse": ["points.view_entry"]}

    def get_queryset(self) -> Any:
        return selectors.entries_for(self.request.user)

    @extend_schema(
        request=ReasonSerializer,
        responses={201: EntrySerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def reverse(self, request: Request, pk: str | None = None) -> Response:
        """Post the opposite of this entry (committee of the resident's community only)."""

        def handler() -> Response:
            entry = self.get_object()
            scope = scope_for(request.user)
            community_id = (
                Entry.objects.filter(pk=entry.pk)
                .values_list("account__resident__household__grid__community_id", flat=True)
                .get()
            )
            if not (scope.everything or community_id in scope.community_ids):
                raise PermissionDenied(
                    _("Only a committee member of the resident's community reverses entries.")
                )
            reason = validated(ReasonSerializer, request.data)["reason"]
            reversal = services.reverse_entry(entry=entry, user=request.user, reason=reason)
            return Response(EntrySerializer(reversal).data, status=status.HTTP_201_CREATED)

        return run_idempotent(request, handler)


# ---------------------------------------------------------------------------- quarters


class PeriodViewSet(ErrorsAsJsonMixin, PointsViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Quarters (季度), found by their code (2026Q4), and each grid's public notice."""

    queryset = Period.objects.all()
    serializer_class = PeriodSerializer
    filterset_class = PeriodFilter
    search_fields: list[str] = []
    ordering_fields = ["starts_on", "code"]
    lookup_field = "code"
    action_permissions = {
        "notice": ["points.view_period"],
        "close": ["points.view_period"],
        "purchase_list": ["points.view_order"],
        "distribution_list": ["points.view_order"],
    }

    def _notice_grid(self, grid_id: int) -> Grid:
        """The grid, if the caller may read its notice: their area's, or a resident's own."""
        user = self.request.user
        grid = Grid.objects.for_user(user).select_related("community").filter(pk=grid_id).first()
        if grid is None:
            resident_id = scope_for(user).resident_id
            if (
                resident_id
                and Resident.objects.filter(pk=resident_id, household__grid_id=grid_id).exists()
            ):
                grid = Grid.objects.select_related("community").get(pk=grid_id)
        if grid is None:
            raise NotFound(_("No such grid in your area."))
        return grid

    @extend_schema(
        parameters=[
            NoticeQuerySerializer,
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int),
        ],
        responses=NoticeSerializer,
        filters=False,
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def notice(self, request: Request, code: str | None = None) -> Response:
        """The quarter's public notice (季度公示) for one grid: each resident's points earned in
        the quarter and balance, names partly masked, and the last day for objections."""
        period = self.get_object()
        grid_id = validated(NoticeQuerySerializer, request.query_params)["grid"]
        grid = self._notice_grid(grid_id)
        page = self.paginate_queryset(selectors.notice_rows(period=period, grid_id=grid.pk))
        paginated = self.get_paginated_response(NoticeRowSerializer(page, many=True).data)
        deadline = services.notice_deadline(period=period, community=grid.community)
        return Response(
            {
                "period": period.code,
                "grid": grid.pk,
                "objection_deadline": deadline,
                **paginated.data,
            }
        )

    def _closing_response(self, period: Period, code: int = status.HTTP_200_OK) -> Response:
        closing = Closing.objects.select_related("period").filter(period=period).first()
        if closing is None:
            raise NotFound(_("The close of %(period)s has not started.") % {"period": period.code})
        return Response(ClosingSerializer(closing).data, status=code)

    @extend_schema(methods=["GET"], request=None, responses=ClosingSerializer, filters=False)
    @extend_schema(
        methods=["POST"],
        request=None,
        responses={202: ClosingSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
        filters=False,
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[])
    def close(self, request: Request, code: str | None = None) -> Response:
        """POST starts the close of the quarter (a street admin; after every redemption window
        has ended): orders frozen, purchase and distribution lists, expiry, the stored notice,
        community by community in the background. GET shows its progress."""
        period = self.get_object()
        if request.method == "GET":
            return self._closing_response(period)

        def handler() -> Response:
            services.start_close(period=period, user=request.user)
            return self._closing_response(period, status.HTTP_202_ACCEPTED)

        return run_idempotent(request, handler)

    def _list_community(self, community_id: int) -> Community:
        """A community whose purchase list the caller may read: their committee's, or their
        street's (the superuser: any)."""
        scope = scope_for(self.request.user)
        community = Community.objects.filter(pk=community_id).first()
        if community is None or not (
            scope.everything
            or community.pk in scope.community_ids
            or community.street_id in scope.street_ids
        ):
            raise NotFound(_("No such community in your area."))
        return community

    def _list_grid(self, grid_id: int) -> Grid:
        """A grid in the caller's area (a grid worker's own grid, the committee's, the
        street's); a resident reads no distribution list."""
        grid = (
            Grid.objects.for_user(self.request.user)
            .select_related("community")
            .filter(pk=grid_id)
            .first()
        )
        if grid is None:
            raise NotFound(_("No such grid in your area."))
        return grid

    @extend_schema(
        parameters=[PurchaseListQuerySerializer],
        responses={
            (200, "application/json"): PurchaseListSerializer,
            (200, exports.XLSX): OpenApiTypes.BINARY,
            (200, "text/html"): OpenApiTypes.STR,
        },
        filters=False,
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="purchase-list",
        filter_backends=[],
        renderer_classes=[JSONRenderer, exports.XlsxRenderer, StaticHTMLRenderer],
    )
    def purchase_list(self, request: Request, code: str | None = None) -> Any:
        """The purchase list (采购清单) of a community, built by the close: each item with
        the quantity ordered and its points. `?format=xlsx` or `?format=html` (A4)."""
        period = self.get_object()
        query = validated(PurchaseListQuerySerializer, request.query_params)
        community = self._list_community(query["community"])
        if query["format"] == "xlsx":
            return exports.purchase_xlsx(period=period, community=community)
        if query["format"] == "html":
            return exports.purchase_html(request, period=period, community=community)
        rows = exports.purchase_rows(period=period, community=community)
        return Response(
            PurchaseListSerializer(
                {"period": period.code, "community": community.pk, "lines": rows}
            ).data
        )

    @extend_schema(
        parameters=[DistributionListQuerySerializer],
        responses={
            (200, "application/json"): DistributionListSerializer,
            (200, exports.XLSX): OpenApiTypes.BINARY,
            (200, "text/html"): OpenApiTypes.STR,
        },
        filters=False,
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="distribution-list",
        filter_backends=[],
        renderer_classes=[JSONRenderer, exports.XlsxRenderer, StaticHTMLRenderer],
    )
    def distribution_list(self, request: Request, code: str | None = None) -> Any:
        """The distribution list (发放清单) of a grid, built by the close: one line per order
        with the household, the resident and the items, and a column to sign on hand-over.
        `?format=xlsx` or `?format=html` (A4)."""
        period = self.get_object()
        query = validated(DistributionListQuerySerializer, request.query_params)
        grid = self._list_grid(query["grid"])
        if query["format"] == "xlsx":
            return exports.distribution_xlsx(period=period, grid=grid)
        if query["format"] == "html":
            return exports.distribution_html(request, period=period, grid=grid)
        rows = exports.distribution_rows(period=period, grid=grid)
        return Response(
            DistributionListSerializer({"period": period.code, "grid": grid.pk, "lines": rows}).data
        )


# ---------------------------------------------------------------------------- rankings


class RankingViewSet(viewsets.GenericViewSet):
    """Residents of a community ranked by points earned in a year (年度积分排名); with
    `party_only`, party members among themselves (the top three are recommended)."""

    permission_classes = [IsAuthenticated, HasPermissions]
    required_perms = ["points.view_account"]
    serializer_class = RankingRowSerializer
    filter_backends: list[Any] = []

    def _communities(self) -> set[int]:
        """The communities whose ranking the caller may read: their area's, and a resident's
        own community."""
        user = self.request.user
        ids = set(Community.objects.for_user(user).values_list("id", flat=True))
        resident_id = scope_for(user).resident_id
        if resident_id:
            ids |= set(
                Resident.objects.filter(pk=resident_id).values_list(
                    "household__grid__community_id", flat=True
                )
            )
        return ids

    def _full_names(self, community: Community) -> bool:
        scope = scope_for(self.request.user)
        return (
            scope.everything
            or community.pk in scope.community_ids
            or community.street_id in scope.street_ids
        )

    @extend_schema(parameters=[RankingQuerySerializer])
    def list(self, request: Request) -> Response:
        query = validated(RankingQuerySerializer, request.query_params)
        visible = self._communities()
        community_id = query.get("community")
        if community_id is None:
            if len(visible) != 1:
                raise ValidationError(
                    {"community": [_("Say which community: you see more than one, or none.")]}
                )
            community_id = next(iter(visible))
        elif community_id not in visible:
            raise NotFound(_("No such community in your area."))
        community = Community.objects.get(pk=community_id)
        rows = selectors.ranking(
            community_id=community.pk,
            year=query.get("year") or timezone.localdate().year,
            party_only=query["party_only"],
        )
        page = self.paginate_queryset(rows)
        context = {**self.get_serializer_context(), "full_names": self._full_names(community)}
        return self.get_paginated_response(
            RankingRowSerializer(page, many=True, context=context).data
        )


# ---------------------------------------------------------------------------- objections


class ObjectionViewSet(
    PointsViewSetMixin,
    IdempotentCreateMixin,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Objections (公示异议): a resident objects to an entry of their own account while the
    notice is open; the committee of the resident's community upholds (reversing the entry or
    posting an adjustment) or dismisses it."""

    queryset = Objection.objects.all()
    serializer_class = ObjectionSerializer
    filterset_class = ObjectionFilter
    search_fields = ["reason"]
    ordering_fields = ["id", "created_at", "decided_at", "status"]
    action_permissions = {
        "uphold": ["points.change_objection"],
        "dismiss": ["points.change_objection"],
    }

    def get_queryset(self) -> Any:
        return selectors.objections_for(self.request.user)

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = services.raise_objection(
            user=self.request.user, **serializer.validated_data
        )

    def _decide(self, request: Request, decide: Callable[[Objection], Objection]) -> Response:
        def handler() -> Response:
            objection = decide(self.get_object())
            return Response(ObjectionSerializer(objection).data)

        return run_idempotent(request, handler)

    @extend_schema(
        request=UpholdSerializer, responses=ObjectionSerializer, parameters=[IDEMPOTENCY_PARAMETER]
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def uphold(self, request: Request, pk: str | None = None) -> Response:
        """Uphold: reverse the entry, or with `amount` post an adjustment of that many points."""

        def decide(objection: Objection) -> Objection:
            data = validated(UpholdSerializer, request.data)
            return services.uphold_objection(
                objection=objection, user=request.user, note=data["note"], amount=data.get("amount")
            )

        return self._decide(request, decide)

    @extend_schema(
        request=NoteSerializer, responses=ObjectionSerializer, parameters=[IDEMPOTENCY_PARAMETER]
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def dismiss(self, request: Request, pk: str | None = None) -> Response:
        """Dismiss the objection; the note says why."""

        def decide(objection: Objection) -> Objection:
            note = validated(NoteSerializer, request.data)["note"]
            return services.dismiss_objection(objection=objection, user=request.user, note=note)

        return self._decide(request, decide)


# ---------------------------------------------------------------------------- redemption


def _order_lines(data: dict[str, Any]) -> list[tuple[CatalogItem, int]]:
    return [(line["item"], line["quantity"]) for line in data["lines"]]


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
        return selectors.catalog_items_for(self.request.user)

    def _check_writable(self, community: Community) -> None:
        scope = scope_for(self.request.user)
        if not (scope.everything or community.pk in scope.community_ids):
            raise PermissionDenied(_("Only the committee of the community writes its catalog."))

    def perform_create(self, serializer: Any) -> None:
        self._check_writable(serializer.validated_data["community"])
        super().perform_create(serializer)

    def perform_update(self, serializer: Any) -> None:
        self._check_writable(serializer.instance.community)
        super().perform_update(serializer)

    def perform_destroy(self, instance: CatalogItem) -> None:
        self._check_writable(instance.community)
        if instance.order_lines.exists():
            raise ValidationError(
                {"detail": [_("This item has been ordered: make it inactive instead.")]}
            )
        instance.delete()


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
        return selectors.redemption_windows_for(self.request.user)

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = services.open_redemption(
            user=self.request.user, **serializer.validated_data
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
        return selectors.orders_for(self.request.user)

    def _out(self, order: Order, code: int = status.HTTP_200_OK) -> Response:
        order = selectors.orders_for(self.request.user).get(pk=order.pk)
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
            order = services.place_order(
                user=request.user, resident=data["resident"], lines=_order_lines(data)
            )
            return self._out(order, status.HTTP_201_CREATED)

        return run_idempotent(request, handler)

    @extend_schema(request=None, responses=OrderSerializer, parameters=[IDEMPOTENCY_PARAMETER])
    @action(detail=True, methods=["post"], filter_backends=[])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """Cancel the order inside the redemption window; its points are refunded."""

        def handler() -> Response:
            order = services.cancel_order(user=request.user, order=self.get_object())
            return self._out(order)

        return run_idempotent(request, handler)

    @extend_schema(request=None, responses=OrderSerializer, parameters=[IDEMPOTENCY_PARAMETER])
    @action(detail=True, methods=["post"], url_path="hand-over", filter_backends=[])
    def hand_over(self, request: Request, pk: str | None = None) -> Response:
        """Record that the goods were handed over (grid worker of the resident's grid)."""

        def handler() -> Response:
            order = services.hand_over(user=request.user, order=self.get_object())
            return self._out(order)

        return run_idempotent(request, handler)


# ---------------------------------------------------------------------------- me


class MeViewSet(viewsets.GenericViewSet):
    """Who I am: my roles and, for a resident, my card, balance and points this quarter."""

    permission_classes = [IsAuthenticated]
    serializer_class = MeSerializer
    filter_backends: list[Any] = []
    pagination_class = None  # me/ is one object; me/entries/ pages (see its action)

    def _resident(self) -> Resident | None:
        resident_id = scope_for(self.request.user).resident_id
        if resident_id is None:
            return None
        return Resident.objects.select_related("household__grid").get(pk=resident_id)

    @extend_schema(operation_id="v1_me_retrieve")
    def list(self, request: Request) -> Response:
        user = request.user
        resident = self._resident()
        data: dict[str, Any] = {
            "username": user.get_username(),
            "name": user.get_full_name(),
            "roles": sorted(user.groups.values_list("name", flat=True)),
            "resident": None,
            "grid": None,
            "community": None,
            "balance": None,
            "earned_this_quarter": None,
            "card_number": None,
        }
        if resident is not None:
            account = Account.objects.filter(resident=resident).first()
            quarter = Period.objects.filter(code=Period.bounds(timezone.localdate())[0])
            data.update(
                name=resident.name,
                resident=resident.pk,
                grid=resident.household.grid_id,
                community=resident.household.grid.community_id,
                balance=account.balance if account else 0,
                earned_this_quarter=(
                    selectors.earned(account=account, periods=quarter) if account else 0
                ),
                card_number=account.card_number if account else None,
            )
        else:
            worker_name = (
                user.grid_worker.name if hasattr(user, "grid_worker") else user.get_full_name()
            )
            data["name"] = worker_name
        return Response(MeSerializer(data).data)

    @extend_schema(
        responses={200: EntrySerializer(many=True), 404: OpenApiResponse(OpenApiTypes.OBJECT)}
    )
    @action(detail=False, methods=["get"], pagination_class=Pagination)
    def entries(self, request: Request) -> Response:
        """My statement, newest entry first. 404 when I am not a resident."""
        resident = self._resident()
        if resident is None:
            raise NotFound(_("You are not registered as a resident."))
        account = Account.objects.filter(resident=resident).first()
        statement = (
            selectors.account_statement(account=account)
            if account is not None
            else Entry.objects.none()
        )
        page = self.paginate_queryset(statement)
        return self.get_paginated_response(EntrySerializer(page, many=True).data)

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
            orders = selectors.orders_for(request.user).filter(resident=resident)
            page = self.paginate_queryset(orders)
            return self.get_paginated_response(OrderSerializer(page, many=True).data)

        def handler() -> Response:
            data = validated(MyOrderCreateSerializer, request.data)
            order = services.place_order(
                user=request.user, resident=resident, lines=_order_lines(data)
            )
            order = selectors.orders_for(request.user).get(pk=order.pk)
            return Response(OrderSerializer(order).data, status=status.HTTP_201_CREATED)

        return run_idempotent(request, handler)
