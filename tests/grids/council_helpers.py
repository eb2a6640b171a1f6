"""Shared by the council tests: days, needs flagged for the council, the minutes."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import time_machine

from residents.models import Need

SHANGHAI = ZoneInfo("Asia/Shanghai")

MINUTES = {
    "policy_talk": "宣讲秸秆禁烧政策",
    "affairs_disclosed": "公开上季度村集体收支",
    "needs_raised": "村民提出村道泥泞",
    "solutions_discussed": "申报一事一议项目",
    "past_items_evaluated": "评议上月事项",
    "attendees": "樊良 第一书记\n赵振东 委员\n赵建军 网格员",
    "chaired_by": "樊良",
    "place": "村党群服务中心",
}


def at(day: dt.date, hour: int = 10) -> time_machine.travel:
    return time_machine.travel(dt.datetime.combine(day, dt.time(hour), SHANGHAI), tick=False)


def flagged_need(
    grid: Any, title: str, recorded_on: dt.date, *, for_council: bool = True, **kw: Any
) -> Need:
    """A need recorded on a day and flagged for the council. Written as a row: the needs
    services are another area's, and the council only reads needs."""
    return Need.objects.create(
        grid=grid,
        source=Need.Source.RESIDENT,
        category=Need.Category.INFRASTRUCTURE,
        title=title,
        for_council=for_council,
        reported_by=kw.pop("reported_by", None) or _someone(),
        created_at=dt.datetime.combine(recorded_on, dt.time(9), SHANGHAI),
        **kw,
    )


def _someone() -> Any:
    from tests import factories as f

    return f.UserFactory(username="need-reporter")
