"""The worker assessment as an xlsx workbook (openpyxl): one row per worker on the first
sheet, the weights and the definitions on the second, so a printed copy explains itself. The
points anomaly report likewise: one row per flag, and the thresholds used."""

from __future__ import annotations

import io
from typing import Any

from django.http import HttpResponse
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from points.exports import XLSX, XlsxRenderer
from reports.anomalies import Flag, Thresholds
from reports.selectors import COMPONENTS, Quarter, WorkerReport

__all__ = ["XLSX", "XlsxRenderer", "anomalies_xlsx", "worker_report_xlsx"]


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


def anomalies_xlsx(
    flags: list[Flag], *, period: Quarter, thresholds: Thresholds | None = None
) -> HttpResponse:
    """One row per flag (claim numbers joined with commas), then the thresholds used."""
    limits = thresholds or Thresholds.from_settings()
    book = Workbook()
    sheet = book.worksheets[0]
    sheet.title = _("Points anomalies")[:31]
    sheet.append(
        [
            _("No."),
            _("Kind"),
            _("Why"),
            _("Community"),
            _("Claims"),
            _("Reversal entry"),
            _("Resident"),
            _("Submitted by"),
            _("Approved by"),
            _("Points"),
            _("Date"),
        ]
    )
    for number, flag in enumerate(flags, 1):
        sheet.append(
            [
                number,
                flag.label,
                flag.why,
                flag.community_name,
                ", ".join(str(pk) for pk in flag.claims),
                flag.entry,
                flag.resident_name,
                flag.worker_name,
                flag.approver_name,
                flag.points,
                flag.date,
            ]
        )
    for cell in sheet[1]:
        cell.font = Font(bold=True)

    about = book.create_sheet(_("Thresholds")[:31])
    about.append([_("Quarter"), period.code])
    about.append([_("From"), period.starts_on])
    about.append([_("To"), period.ends_on])
    about.append([])
    about.append([_("Setting"), _("Value")])
    about["A5"].font = about["B5"].font = Font(bold=True)
    for name, value in [
        ("POINTS_ANOMALY_WORKER_MEDIAN_FACTOR", limits.worker_median_factor),
        ("POINTS_ANOMALY_WORKER_MIN_CLAIMS", limits.worker_min_claims),
        ("POINTS_ANOMALY_SAME_DAY_CLAIMS", limits.same_day_claims),
        ("POINTS_ANOMALY_QUICK_SECONDS", limits.quick_seconds),
        ("POINTS_ANOMALY_PAIR_REPEATS", limits.pair_repeats),
        ("POINTS_ANOMALY_REVERSAL_POINTS", limits.reversal_points),
    ]:
        about.append([name, value])

    out = io.BytesIO()
    book.save(out)
    response = HttpResponse(out.getvalue(), content_type=XLSX)
    filename = f"points-anomalies-{period.code}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
