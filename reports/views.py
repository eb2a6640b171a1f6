"""The reports API: the needs figures per grid, community or street (reports/needs/) and the
grid workers' quarterly assessment (reports/workers/, also as xlsx).

Both are read-only, computed and unpaginated (one row per unit or worker in the caller's area:
at most a street's grids or workers). They are for people who answer for territory: a street
admin, a committee member, a grid worker. Partner contacts, team leaders and residents get 403
rather than an empty report, since these figures are none of their business and an empty
answer would read as "nothing happened".
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from audit import services as audit
from core.scope import scope_for
from core.views import ErrorsAsJsonMixin, validated
from reports import anomalies, dashboard, exports, selectors, services
from reports.serializers import (
    AnomalyFlagSerializer,
    AnomalyQuerySerializer,
    DashboardMapSerializer,
    DashboardQuerySerializer,
    DashboardSerializer,
    NeedsReportQuerySerializer,
    NeedsReportSerializer,
    WorkerReportQuerySerializer,
    WorkerReportSerializer,
)


def _doc_section(first: str, stop: str | None) -> str:
    """A section of reports.selectors' docstring: one text for the code and the API docs."""
    doc = selectors.__doc__ or ""
    start = doc.index(first)
    end = doc.index(stop, start) if stop else len(doc)
    return doc[start:end].strip()


NEEDS_DOC = _doc_section("Needs figures,", "Worker assessment,")
WORKERS_DOC = _doc_section("Worker assessment,", "The assessment costs")
DASHBOARD_DOC = "Definitions" + (dashboard.__doc__ or "").split("Definitions", 1)[-1].rstrip()


LEVEL_NAMES = {
    "grid": gettext_lazy("grid"),
    "community": gettext_lazy("community"),
    "street": gettext_lazy("street"),
}


class HasAreaAndPermissions(BasePermission):
    """The model permissions in `view.required_perms`, and a post over territory (a street, a
    community or a grid): the role says what, the scope says that there is somewhere. A grid
    worker's area is the grids assigned to them today (core.scope), so a worker with no current
    assignment is refused too."""

    message = gettext_lazy("These figures are for street admins, committees and grid workers.")

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(
            user.is_authenticated
            and user.has_perms(view.required_perms)
            and scope_for(user).has_area
        )


class ReportViewSet(viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated, HasAreaAndPermissions]
    required_perms: list[str] = []
    filter_backends: list[Any] = []
    pagination_class = None


class NeedsReportViewSet(ReportViewSet):
    """Needs figures (需求办理统计) per grid, community or street for a quarter."""

    required_perms = ["residents.view_need"]
    serializer_class = NeedsReportSerializer

    @extend_schema(
        parameters=[NeedsReportQuerySerializer],
        responses={200: NeedsReportSerializer, 403: OpenApiResponse(OpenApiTypes.OBJECT)},
        description=(
            "One row per unit of `level` (default grid) that lies wholly in your area, with "
            "zeros where nothing happened, and the total of the rows. A grid worker sees their "
            "grids; a committee its community and its grids; a street admin its street, its "
            "communities and grids. Asking for a level at which you see no whole unit (a grid "
            "worker asking for communities) answers 403. The filters keep the units in a "
            "street or community, or containing a grid.\n\n" + NEEDS_DOC
        ),
    )
    def list(self, request: Request) -> Response:
        query = validated(NeedsReportQuerySerializer, request.query_params)
        level = query["level"]
        if not selectors.sees_whole_unit(user=request.user, level=level):
            raise PermissionDenied(
                _("You see no whole %(level)s; ask for a smaller level, such as grid.")
                % {"level": LEVEL_NAMES[level]}
            )
        report = selectors.needs_report(
            user=request.user,
            period=query["period"],
            level=level,
            street=query.get("street"),
            community=query.get("community"),
            grid=query.get("grid"),
        )
        return Response(NeedsReportSerializer(report).data)


class WorkerReportViewSet(ErrorsAsJsonMixin, ReportViewSet):
    """The grid workers' quarterly assessment (网格员季度考核), with the weights used."""

    required_perms = ["grids.view_gridworker"]
    serializer_class = WorkerReportSerializer
    renderer_classes = [JSONRenderer, exports.XlsxRenderer]

    @extend_schema(
        parameters=[WorkerReportQuerySerializer],
        responses={
            (200, "application/json"): WorkerReportSerializer,
            (200, exports.XLSX): OpenApiTypes.BINARY,
            (403, "application/json"): OpenApiResponse(OpenApiTypes.OBJECT),
        },
        description=(
            "One row per grid worker: a street admin sees its street's workers, a committee "
            "its community's, a grid worker only themself. `format=xlsx` answers a workbook "
            "(worker-assessment-<quarter>.xlsx) with the same figures and a second sheet with "
            "the weights and definitions. The weights come from the setting "
            "ASSESSMENT_WEIGHTS and are in every answer.\n\n" + WORKERS_DOC
        ),
    )
    def list(self, request: Request) -> Any:
        query = validated(WorkerReportQuerySerializer, request.query_params)
        report = selectors.worker_report(
            user=request.user,
            period=query["period"],
            community=query.get("community"),
            grid=query.get("grid"),
        )
        if query["format"] == "xlsx":
            audit.record_export(
                what=_("Grid worker assessment %(period)s (xlsx)") % {"period": report.period.code},
                object_type="grids.gridworker",
                request=request._request,
            )
            return exports.worker_report_xlsx(report)
        return Response(WorkerReportSerializer(report).data)


# ---------------------------------------------------------------------------- dashboard (issue 12)


class IsDashboardReader(BasePermission):
    """Street admins, committee members and the superuser (reports.dashboard)."""

    message = gettext_lazy("The dashboard is for street admins and committee members.")

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user.is_authenticated and dashboard.may_see_dashboard(request.user))


class DashboardViewSet(viewsets.GenericViewSet):
    """The dashboard's figures (一图看懂) and its map (网格地图), for one street, community or
    grid. Read with a token or with the session cookie (the /dashboard/ page)."""

    permission_classes = [IsAuthenticated, IsDashboardReader]
    filter_backends: list[Any] = []
    pagination_class = None
    serializer_class = DashboardSerializer

    def _unit_and_quarter(self, request: Request) -> tuple[dashboard.Unit, selectors.Quarter]:
        query = validated(DashboardQuerySerializer, request.query_params)
        try:
            unit = dashboard.resolve_unit(
                user=request.user,
                street=query.get("street"),
                community=query.get("community"),
                grid=query.get("grid"),
            )
        except dashboard.NotInScope:
            raise NotFound(_("No such street, community or grid in your area.")) from None
        return unit, query["quarter"]

    @extend_schema(
        parameters=[DashboardQuerySerializer],
        responses={
            200: DashboardSerializer,
            400: OpenApiResponse(OpenApiTypes.OBJECT),
            403: OpenApiResponse(OpenApiTypes.OBJECT),
            404: OpenApiResponse(OpenApiTypes.OBJECT),
        },
        description=(
            "Every chart of the dashboard for one unit: by default your street (a street "
            "admin) or community (a committee member); `community=` or `grid=` drills down "
            "(a unit outside your area answers 404). Other roles get 403.\n\n" + DASHBOARD_DOC
        ),
    )
    def list(self, request: Request) -> Response | HttpResponse:
        unit, period = self._unit_and_quarter(request)
        figures = services.dashboard_for(user=request.user, unit=unit, period=period)
        if isinstance(figures, str):  # a street's snapshot, already the answer's JSON
            return HttpResponse(figures, content_type="application/json")
        return Response(DashboardSerializer(figures).data)

    @extend_schema(
        parameters=[DashboardQuerySerializer],
        responses={
            200: DashboardMapSerializer,
            400: OpenApiResponse(OpenApiTypes.OBJECT),
            403: OpenApiResponse(OpenApiTypes.OBJECT),
            404: OpenApiResponse(OpenApiTypes.OBJECT),
        },
        description=(
            "The grid map (网格地图) of the same unit as a GeoJSON FeatureCollection: the "
            "grids that have a boundary, with their open and overdue needs and the quarter's "
            "visit coverage, and the households that have a location (ids only). Coordinates "
            "are [longitude, latitude] in the system named by `crs_note`; `tile_url` is the "
            "tile layer's URL template (empty: draw the boundaries on a plain background)."
        ),
    )
    @action(detail=False, methods=["get"], url_path="map")
    def map(self, request: Request) -> Response:
        unit, period = self._unit_and_quarter(request)
        data = services.map_for(user=request.user, unit=unit, period=period)
        return Response(DashboardMapSerializer(data).data)


# ---------------------------------------------------------------------------- anomalies (issue 15)

_ANOMALIES = anomalies.__doc__ or ""
# The definitions of the kinds, as reports.anomalies gives them: one text for code and docs.
ANOMALIES_DOC = _ANOMALIES[_ANOMALIES.index("A flag is not") : _ANOMALIES.index("Everything is")]


class MaySeeAnomalies(BasePermission):
    """Committee members and street admins (and the superuser): reports.anomalies."""

    message = gettext_lazy("The anomaly report is for committees and street admins.")

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user.is_authenticated and anomalies.may_see_anomalies(request.user))


class PointsAnomalyViewSet(ErrorsAsJsonMixin, viewsets.GenericViewSet):
    """The points anomaly report (积分异常核查): the claims of a quarter a committee should look
    at twice, each with why it was flagged."""

    permission_classes = [IsAuthenticated, MaySeeAnomalies]
    filter_backends: list[Any] = []
    pagination_class = None
    serializer_class = AnomalyFlagSerializer
    renderer_classes = [JSONRenderer, exports.XlsxRenderer]

    @extend_schema(
        parameters=[AnomalyQuerySerializer],
        responses={
            (200, "application/json"): AnomalyFlagSerializer(many=True),
            (200, exports.XLSX): OpenApiTypes.BINARY,
            (400, "application/json"): OpenApiResponse(OpenApiTypes.OBJECT),
            (403, "application/json"): OpenApiResponse(OpenApiTypes.OBJECT),
            (404, "application/json"): OpenApiResponse(OpenApiTypes.OBJECT),
        },
        description=(
            "The flags of the quarter, ordered by kind, community and claim: a committee "
            "member sees their community, a street admin their street's communities; others "
            "get 403. `community=` narrows to one community of your area (another answers "
            "404). `format=xlsx` answers a workbook (points-anomalies-<quarter>.xlsx) with the "
            "same rows and the thresholds used. `why` and `label` are in the request's "
            "language (Chinese by default).\n\n" + ANOMALIES_DOC
        ),
    )
    def list(self, request: Request) -> Any:
        query = validated(AnomalyQuerySerializer, request.query_params)
        community = query.get("community")
        if (
            community is not None
            and not anomalies.communities_for(request.user).filter(pk=community).exists()
        ):
            raise NotFound(_("No such community in your area."))
        flags = anomalies.points_anomalies(request.user, query["period"], community)
        if query["format"] == "xlsx":
            audit.record_export(
                what=_("Points anomalies %(period)s (xlsx)") % {"period": query["period"].code},
                object_type="points.claim",
                count=len(flags),
                request=request._request,
            )
            return exports.anomalies_xlsx(flags, period=query["period"])
        return Response(AnomalyFlagSerializer(flags, many=True).data)
