"""The worker assessment as an xlsx workbook (openpyxl): one row per worker on the first
sheet, the weights and the definitions on the second, so a printed copy explains itself."""

from __future__ import annotations

import io
from typing import Any

from django.http import HttpResponse
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from points.exports import XLSX, XlsxRenderer
from reports.selectors import COMPONENTS, WorkerReport

__all__ = ["XLSX", "XlsxRenderer", "worker_report_xlsx"]


def _component_names() -> dict[str, str]:
    return {
        "coverage": _("Households visited (share)"),
        "on_time": _("Needs closed on time (rate)"),
        "rating": _("Average rating"),
        "council": _("Council score"),
    }


def worker_report_xlsx(report: WorkerReport) -> HttpResponse:
    """Numbers as numbers (rates 0–1, as in the API); an empty cell where there is no data."""
    book = Workbook()
    sheet = book.worksheets[0]  # a new workbook's one sheet, the active one
    sheet.title = _("Worker assessment")[:31]
    sheet.append(
        [
            _("No."),
            _("Grid worker"),
            _("Community"),
            _("Visits"),
            _("Households"),
            _("Households visited"),
            _("Households visited (share)"),
            _("Needs due"),
            _("Needs closed on time"),
            _("Needs closed on time (rate)"),
            _("Ratings"),
            _("Average rating"),
            _("Council evaluations"),
            _("Council score"),
            _("Score (0–100)"),
        ]
    )
    for number, row in enumerate(report.rows, 1):
        cells: list[Any] = [
            number,
            row.name,
            row.community_name,
            row.visits,
            row.households,
            row.households_visited,
            row.coverage,
            row.needs_due,
            row.needs_closed_on_time,
            row.on_time_rate,
            row.ratings,
            row.average_rating,
            row.evaluations,
            row.council_score,
            row.score,
        ]
        sheet.append(cells)
    for cell in sheet[1]:
        cell.font = Font(bold=True)

    about = book.create_sheet(_("Weights and definitions")[:31])
    about.append([_("Quarter"), report.period.code])
    about.append([_("From"), report.period.starts_on])
    about.append([_("To"), report.period.ends_on])
    about.append([])
    about.append([_("Component"), _("Weight")])
    names = _component_names()
    for name in COMPONENTS:
        about.append([names[name], report.weights[name]])
    about.append([])
    about.append([_("Figure"), _("Definition")])
    for key, text in report.definitions.items():
        about.append([key, text])
    for row in (about[5], about[len(COMPONENTS) + 7]):
        for cell in row:
            cell.font = Font(bold=True)

    out = io.BytesIO()
    book.save(out)
    response = HttpResponse(out.getvalue(), content_type=XLSX)
    filename = f"worker-assessment-{report.period.code}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
