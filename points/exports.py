"""The close's lists as rows, as xlsx workbooks (openpyxl) and as printable A4 pages: the
purchase list (采购清单) of a community and the distribution list (发放清单) of a grid."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from django.http import HttpResponse
from openpyxl import Workbook
from openpyxl.styles import Font
from rest_framework.renderers import BaseRenderer

from grids.models import Community, Grid
from points.models import DistributionLine, Period, PurchaseLine

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class BinaryRenderer(BaseRenderer):
    """Lets `?format=<format>` through DRF's content negotiation for a download whose bytes
    the view answers itself (subclasses name the media type and format)."""

    charset = None
    render_style = "binary"

    def render(
        self, data: Any, accepted_media_type: Any = None, renderer_context: Any = None
    ) -> Any:
        return data


class XlsxRenderer(BinaryRenderer):
    media_type = XLSX
    format = "xlsx"


@dataclass(frozen=True)
class PurchaseRow:
    item: str
    unit: str
    points: int
    quantity: int
    points_total: int


@dataclass(frozen=True)
class DistributionRow:
    order: int
    resident: int
    address: str
    name: str
    items: str
    total_points: int


def purchase_rows(*, period: Period, community: Community) -> list[PurchaseRow]:
    lines = (
        PurchaseLine.objects.filter(period=period, community=community)
        .select_related("item")
        .order_by("item__points", "item__name")
    )
    return [
        PurchaseRow(
            line.item.name, line.item.unit, line.item.points, line.quantity, line.points_total
        )
        for line in lines
    ]


def distribution_rows(*, period: Period, grid: Grid) -> list[DistributionRow]:
    lines = (
        DistributionLine.objects.filter(period=period, grid=grid)
        .select_related("household", "resident")
        .order_by("household_id", "resident_id", "order_id")
    )
    return [
        DistributionRow(
            line.order_id,
            line.resident_id,
            line.household.address,
            line.resident.name,
            line.items,
            line.total_points,
        )  # fmt: skip
        for line in lines
    ]


def _workbook(title: str, headers: list[str], rows: list[list[Any]], filename: str) -> HttpResponse:
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook has its one sheet
    sheet.title = title[:31]
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    response = HttpResponse(out.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def purchase_xlsx(*, period: Period, community: Community) -> HttpResponse:
    rows = purchase_rows(period=period, community=community)
    return _workbook(
        "采购清单",
        ["序号", "商品", "单位", "单价(积分)", "数量", "积分合计"],
        [[i, r.item, r.unit, r.points, r.quantity, r.points_total] for i, r in enumerate(rows, 1)],
        f"purchase-{period.code}-{community.pk}.xlsx",
    )


def distribution_xlsx(*, period: Period, grid: Grid) -> HttpResponse:
    rows = distribution_rows(period=period, grid=grid)
    return _workbook(
        "发放清单",
        ["序号", "户址", "姓名", "兑换商品", "积分", "领取人签字"],
        [[i, r.address, r.name, r.items, r.total_points, ""] for i, r in enumerate(rows, 1)],
        f"distribution-{period.code}-{grid.pk}.xlsx",
    )
