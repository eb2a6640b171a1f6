"""A quarter (2026Q4) of needs, ratings, rectifications, visits and council evaluations in the
shared `world`, each date chosen so that the figures are known in advance. The expected numbers
in the tests were worked out by hand from the table below, not by running the code.

Times are Beijing time (bj()). Several are chosen so that reading them in UTC would give
another answer: 00:30 Beijing is the previous day in UTC.

Needs (G = grid, W = assigned worker):

    name  G  created         status       due     resolved/closed     rating  rectification
    n0    1  09-30 23:59     new          -       -                   -       -        (Q3)
    n1    1  10-05 09:00     closed       10-10   r 10-10 23:30       5       -        on time
    n2    1  10-12 10:00     resolved     10-15   r 10-16 00:30       4       -        late
    n3    1  11-01 00:30     resolved     -       r 11-08 22:00       2       due 11-20, accepted
                                                  (day 7: on time)            11-20 23:30: on time
    n4    1  12-31 23:30     resolved     01-05   r 2027-01-03        -       -        on time
    n5    1  12-01 10:00     in_progress  12-10   -                   -       -
    n6    1  2027-01-01 00:10 new         -       -                   -       -        (Q1)
    m1    2  10-20 10:00     closed       10-25   c 10-22 (no r)      1       due 11-05, accepted
                                                                              11-06 00:30: late
    m2    2  11-15 10:00     rejected     -       -                   -       -
    m3    2  11-20 10:00     resolved     -       r 11-30 12:00       2       due 12-20, open
                                                  (day 10: late)
    k1    4  10-03 10:00     resolved     10-05   r 10-04 10:00       5       -        on time

n1, n2, n3, n4, n5 are assigned to worker1; m1, m3 to worker2; k1 to worker4. Ratings are
given two days after resolution (in Q4).

Households: grid1 has household1 and h1b, h1c, h1d (4); grids 2, 3, 4 one each.
Visits: worker1 household1 10-08 and 11-08, h1b 12-31 23:30, household2 (grid2, not theirs)
11-11, h1c 2027-01-01 00:10 (Q1), h1d 09-30 10:00 (Q3); worker3 household3 10-15.

Councils of community1 held 2026-09-10, 10-10, 11-10, 12-10 and 2027-01-10. Items: A
(worker1, on 09-10's agenda) scored 5 on 11-10, 3 on 12-10 and 1 on 2027-01-10; B (worker2)
scored 2 on 11-10; C (worker1) scored 4 on 10-10.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from tests import factories as f

BJ = ZoneInfo("Asia/Shanghai")


def bj(month: int, day: int, hour: int = 10, minute: int = 0, year: int = 2026) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=BJ)


def d(month: int, day: int, year: int = 2026) -> dt.date:
    return dt.date(year, month, day)


@pytest.fixture
def q4(world: SimpleNamespace) -> SimpleNamespace:
    w = world
    reporter, rater = w.admin1, w.resident_user

    def need(grid, created, status="new", **kwargs):  # noqa: ANN001, ANN003, ANN202
        return f.NeedFactory(
            grid=grid, created_at=created, status=status, reported_by=reporter, **kwargs
        )

    def rate(n, level, at):  # noqa: ANN001, ANN202
        return f.RatingFactory(need=n, level=level, rated_at=at, rated_by=rater)

    def rectify(rating, due_on, status="open", accepted_at=None):  # noqa: ANN001, ANN202
        return f.RectificationFactory(
            need=rating.need,
            rating=rating,
            due_on=due_on,
            status=status,
            opened_at=rating.rated_at,
            accepted_at=accepted_at,
        )

    need(w.grid1, bj(9, 30, 23, 59))  # n0, Q3
    n1 = need(
        w.grid1,
        bj(10, 5, 9),
        "closed",
        due_on=d(10, 10),
        resolved_at=bj(10, 10, 23, 30),
        closed_at=bj(10, 12),
        assigned_worker=w.worker1,
    )
    rate(n1, 5, bj(10, 11))
    n2 = need(
        w.grid1,
        bj(10, 12),
        "resolved",
        due_on=d(10, 15),
        resolved_at=bj(10, 16, 0, 30),
        assigned_worker=w.worker1,
    )
    rate(n2, 4, bj(10, 17))
    n3 = need(
        w.grid1,
        bj(11, 1, 0, 30),
        "resolved",
        resolved_at=bj(11, 8, 22),
        assigned_worker=w.worker1,
    )
    rectify(rate(n3, 2, bj(11, 10)), d(11, 20), status="accepted", accepted_at=bj(11, 20, 23, 30))
    need(
        w.grid1,
        bj(12, 31, 23, 30),
        "resolved",
        due_on=d(1, 5, 2027),
        resolved_at=bj(1, 3, year=2027),
        assigned_worker=w.worker1,
    )  # n4
    need(w.grid1, bj(12, 1), "in_progress", due_on=d(12, 10), assigned_worker=w.worker1)  # n5
    need(w.grid1, bj(1, 1, 0, 10, year=2027))  # n6, Q1 2027

    m1 = need(
        w.grid2,
        bj(10, 20),
        "closed",
        due_on=d(10, 25),
        closed_at=bj(10, 22),
        assigned_worker=w.worker2,
    )
    rectify(rate(m1, 1, bj(10, 23)), d(11, 5), status="accepted", accepted_at=bj(11, 6, 0, 30))
    need(w.grid2, bj(11, 15), "rejected", rejection_reason="不属于本网格")  # m2
    m3 = need(
        w.grid2, bj(11, 20), "resolved", resolved_at=bj(11, 30, 12), assigned_worker=w.worker2
    )
    rectify(rate(m3, 2, bj(12, 1)), d(12, 20))

    k1 = need(
        w.grid4,
        bj(10, 3),
        "resolved",
        due_on=d(10, 5),
        resolved_at=bj(10, 4),
        assigned_worker=w.worker4,
    )
    rate(k1, 5, bj(10, 6))

    h1b, h1c, h1d = (
        f.HouseholdFactory(grid=w.grid1, village=True, house_number=str(n)) for n in (21, 22, 23)
    )
    for worker, household, at in [
        (w.worker1, w.household1, bj(10, 8)),
        (w.worker1, w.household1, bj(11, 8)),
        (w.worker1, h1b, bj(12, 31, 23, 30)),
        (w.worker1, w.household2, bj(11, 11)),
        (w.worker1, h1c, bj(1, 1, 0, 10, year=2027)),
        (w.worker1, h1d, bj(9, 30)),
        (w.worker3, w.household3, bj(10, 15)),
    ]:
        f.VisitFactory(worker=worker, household=household, visited_at=at)

    councils = {
        held: f.CouncilFactory(community=w.community1, held_on=held)
        for held in [d(9, 10), d(10, 10), d(11, 10), d(12, 10), d(1, 10, 2027)]
    }
    item_a = f.AgendaItemFactory(council=councils[d(9, 10)], responsible=w.worker1)
    item_b = f.AgendaItemFactory(council=councils[d(10, 10)], responsible=w.worker2)
    item_c = f.AgendaItemFactory(council=councils[d(9, 10)], responsible=w.worker1)
    for item, held, score in [
        (item_a, d(11, 10), 5),
        (item_a, d(12, 10), 3),
        (item_a, d(1, 10, 2027), 1),
        (item_b, d(11, 10), 2),
        (item_c, d(10, 10), 4),
    ]:
        f.AgendaEvaluationFactory(
            item=item, council=councils[held], score=score, evaluated_by=w.committee1
        )
    return w
