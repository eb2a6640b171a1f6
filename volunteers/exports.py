"""The service-hours report as an xlsx workbook (openpyxl): one sheet of hours per member,
one of activities per team."""

from __future__ import annotations

import io

from django.http import HttpResponse
from openpyxl import Workbook
from openpyxl.styles import Font

from points.exports import XLSX
from volunteers.selectors import MemberHours, TeamActivities

__all__ = ["XLSX", "volunteer_hours_xlsx"]


def volunteer_hours_xlsx(
    *, label: str, members: list[MemberHours], teams: list[TeamActivities]
) -> HttpResponse:
    book = Workbook()
    sheet = book.worksheets[0]  # a new workbook's one sheet, the active one
    sheet.title = "志愿服务时长"
    sheet.append(["序号", "姓名", "服务队", "参加活动", "服务时长(小时)"])
    for i, m in enumerate(members, 1):
        sheet.append([i, m.name, m.team_name, m.activities, float(m.hours)])
    by_team = book.create_sheet("服务队活动")
    by_team.append(["序号", "服务队", "完成活动", "签到人次", "服务时长(小时)"])
    for i, t in enumerate(teams, 1):
        by_team.append([i, t.team_name, t.activities, t.attendances, float(t.hours)])
    for ws in (sheet, by_team):
        for cell in ws[1]:
            cell.font = Font(bold=True)
    out = io.BytesIO()
    book.save(out)
    response = HttpResponse(out.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="volunteer-hours-{label}.xlsx"'
    return response
