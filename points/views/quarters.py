"""The quarters API (季度): each grid's public notice, the close of a quarter and the lists it
builds (purchase list, distribution list)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.renderers import JSONRenderer, StaticHTMLRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from audit import services as audit
from core.idempotency import run_idempotent
from core.types import acting_user
from core.views import (
    IDEMPOTENCY_PARAMETER,
    ErrorsAsJsonMixin,
    validated,
)
from grids.models import Community, Grid
from points import access, exports, pages
from points.filters import (
    PeriodFilter,
)
from points.models import (
    Closing,
    Period,
)
from points.selectors import claims as claims_selectors
from points.serializers import (
    ClosingSerializer,
    DistributionListQuerySerializer,
    DistributionListSerializer,
    NoticeQuerySerializer,
    NoticeRowSerializer,
    NoticeSerializer,
    PeriodSerializer,
    PurchaseListQuerySerializer,
    PurchaseListSerializer,
)
from points.services import close as close_services
from points.services import objections as objections_services
from points.views.common import PointsViewSetMixin

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
        grid = access.grid_for(self.request.user, grid_id, residents_too=True)
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
        page = self.paginate_queryset(claims_selectors.notice_rows(period=period, grid_id=grid.pk))
        paginated = self.get_paginated_response(NoticeRowSerializer(page, many=True).data)
        deadline = objections_services.notice_deadline(period=period, community=grid.community)
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
            close_services.start_close(period=period, user=acting_user(request))
            return self._closing_response(period, status.HTTP_202_ACCEPTED)

        return run_idempotent(request, handler)

    def _list_community(self, community_id: int) -> Community:
        """A community whose purchase list the caller may read: their committee's, or their
        street's (the superuser: any)."""
        community = access.list_community_for(self.request.user, community_id)
        if community is None:
            raise NotFound(_("No such community in your area."))
        return community

    def _list_grid(self, grid_id: int) -> Grid:
        """A grid in the caller's area (a grid worker's own grid, the committee's, the
        street's); a resident reads no distribution list."""
        grid = access.grid_for(self.request.user, grid_id)
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
            return pages.purchase_html(request, period=period, community=community)
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
        # A list of names and addresses: who read or printed it goes into the audit log.
        audit.record_export(
            what=_("Distribution list %(period)s %(grid)s (%(format)s)")
            % {"period": period.code, "grid": grid, "format": query["format"]},
            object_type="grids.grid",
            object_id=grid.pk,
            street_id=grid.community.street_id,
            request=request._request,
        )
        if query["format"] == "xlsx":
            return exports.distribution_xlsx(period=period, grid=grid)
        if query["format"] == "html":
            return pages.distribution_html(request, period=period, grid=grid)
        rows = exports.distribution_rows(period=period, grid=grid)
        return Response(
            DistributionListSerializer({"period": period.code, "grid": grid.pk, "lines": rows}).data
        )
