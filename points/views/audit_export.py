"""The audit export API (审计导出, issue 15): one quarter of one community as a signed ZIP of
CSVs or an xlsx workbook, for its committee, its street's admins and its discipline
inspectors (纪检监督). What it holds and how it is signed: points.audit_export."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request

from core.filters import MAX_ID
from core.permissions import HasPermissions
from core.types import acting_user
from core.views import ErrorsAsJsonMixin, validated
from grids.models import Community
from points import access
from points.audit_export import FORMAT, ZIP, build_audit_export
from points.exports import XLSX, BinaryRenderer, XlsxRenderer
from points.models import Period


class ZipRenderer(BinaryRenderer):
    media_type = ZIP
    format = "zip"


class AuditExportQuerySerializer(serializers.Serializer):
    period = serializers.CharField(max_length=6, help_text="The quarter's code, such as 2026Q4.")
    community = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text="The community's id."
    )
    format = serializers.ChoiceField(
        choices=[("zip", "ZIP of CSV files, signed"), ("xlsx", "Excel (xlsx)")],
        default="zip",
        help_text="`zip` (default) or `xlsx`: the same tables, chained and signed.",
    )


class AuditExportViewSet(ErrorsAsJsonMixin, viewsets.GenericViewSet):
    """The audit export of a quarter and a community (积分审计导出)."""

    permission_classes = [IsAuthenticated, HasPermissions]
    required_perms = ["points.view_entry"]
    renderer_classes = [JSONRenderer, ZipRenderer, XlsxRenderer]
    filter_backends: list[Any] = []
    pagination_class = None

    @extend_schema(
        parameters=[AuditExportQuerySerializer],
        responses={
            (200, ZIP): OpenApiTypes.BINARY,
            (200, XLSX): OpenApiTypes.BINARY,
            (403, "application/json"): OpenApiResponse(OpenApiTypes.OBJECT),
            (404, "application/json"): OpenApiResponse(OpenApiTypes.OBJECT),
        },
        description=(
            "Every ledger entry of the quarter on the community's accounts with who submitted "
            "and who approved its claim, every claim (rejected ones with their reason), every "
            "objection with its decision and correcting entry, the reversals and adjustments "
            "with their reasons, and the rule book versions in force, as `points-audit-"
            "<quarter>-<community>.zip` (one CSV per table, a manifest and its SIGNATURE) or "
            ".xlsx (one sheet per table). Each row carries a hash chain value, the manifest "
            "each table's row count and last chain value, and the manifest is signed with "
            f"HMAC-SHA256 (format {FORMAT}); `manage.py verify_audit_export` checks a file, "
            "with `--against-db` against the database. For the community's committee, its "
            "street's admins and its discipline inspectors (纪检监督); others get 403. Every "
            "export is recorded in the audit log."
        ),
    )
    def list(self, request: Request) -> Any:
        query = validated(AuditExportQuerySerializer, request.query_params)
        period = Period.objects.filter(code=query["period"]).first()
        if period is None:
            raise NotFound(_("No such quarter."))
        community = Community.objects.select_related("street").filter(pk=query["community"]).first()
        if community is None:
            raise NotFound(_("No such community."))
        user = acting_user(request)
        access.access_audit_export(user, community)
        export = build_audit_export(period, community, fmt=query["format"], by=user)
        response = HttpResponse(export.data, content_type=export.content_type)
        response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
        return response
