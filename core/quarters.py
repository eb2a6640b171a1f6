"""The one quarter calculator (季度): the code and first and last day of the quarter holding a
date, and the reverse, a code such as 2026Q4 read back into its days.

Pure functions of the calendar: no database, no time zone. `points.models.Period.bounds`, the
reports' `quarter` and the volunteers' `period_bounds` all come here.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import NamedTuple

CODE = re.compile(r"^(\d{4})Q([1-4])$")


class QuarterBounds(NamedTuple):
    code: str  # 2026Q4
    starts_on: dt.date
    ends_on: dt.date


def _bounds(year: int, q: int) -> QuarterBounds:
    start = dt.date(year, 3 * q - 2, 1)
    end = dt.date(year + (q == 4), (3 * q) % 12 + 1, 1) - dt.timedelta(days=1)
    return QuarterBounds(f"{year}Q{q}", start, end)


def quarter_of(day: dt.date) -> QuarterBounds:
    """The quarter that holds `day`: (code, first day, last day)."""
    return _bounds(day.year, (day.month - 1) // 3 + 1)


def parse_quarter(code: str) -> QuarterBounds:
    """The quarter named by `code` (2026Q4). Raises ValueError for anything else."""
    match = CODE.match(code)
    if match is None:
        raise ValueError(code)
    return _bounds(int(match[1]), int(match[2]))
