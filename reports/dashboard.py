"""The dashboard's figures (一图看懂, issue 12): one selector per chart, each one grouped query
(or two), never a loop per grid. Read-only.

A dashboard is about one unit: a street, a community or a grid (`Unit`), which the user must
see whole (the street admin their street and everything in it, a committee its community and
its grids, the superuser everything). Every figure is of the needs, households, residents,
accounts, orders, councils and teams of that unit, read through the models' `for_scope`, and
for a quarter P (`reports.selectors.Quarter`); the monthly series are the 12 months ending with
P's last month.

Definitions (Beijing dates and months throughout):

- needs_monthly: the needs figures of reports.selectors (received, resolved, resolved on time,
  with the same definitions) of the needs recorded in each month. A quarter's three months add
  up to the needs report of that quarter (reports/needs/).
- needs_open_by_category: needs open now (new, accepted, assigned, in progress) per category.
- needs_by_grid: per grid, needs open now and overdue now (open past their due date, as the
  escalation job sees them), and the needs report of P at grid level (resolved, rated,
  satisfied, satisfaction_rate 好评率, rating_rate 主动评价率).
- visits_by_grid: households now in the grid; visited: those with at least one visit (by
  anyone) in P; coverage = visited ÷ households (不漏一户); key_overdue: residents whose
  key-population tags call for visits and who are overdue today or were never visited
  (residents.selectors.residents_due_for_visit, as visits/due/ lists them).
- points_monthly: per month of posting, earned = awards and adjustments up, less reversals of
  those; deducted = deductions (and reversals of them), as a positive number; redeemed =
  redemptions less refunds, as a positive number.
- points_liability: the sum of the positive balances of the unit's residents' accounts (what
  the community owes in goods).
- ranking_top: the top 10 residents by points earned in P's year, counted as the annual
  ranking (年度积分排名, rankings/) counts them (awards, deductions and adjustments, and
  reversals of those), ties sharing a rank; names masked, as in the public notice.
- claims_waiting: claims submitted and not yet decided, whatever their quarter, with the age
  of the oldest in whole days and the count per age band (by submission time, now).
- redemption_by_community: orders of P's quarter not cancelled, the items in them, and
  `uncollected`: orders frozen by the close and not yet handed over.
- council: agenda items of the councils held in P, open (or carried over) and struck off
  (销号), and the mean evaluation score given at councils held in P. Councils are a
  community's; a grid's dashboard shows its community's.
- volunteer_hours: service hours of activities done, per team and month of the activity's
  start (as the volunteer-hours report counts them); a grid's dashboard shows its community's
  teams.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db.models import (
    Avg,
    Case,
    Count,
    Exists,
    F,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    When,
)
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from core.masking import mask_name
from core.scope import Scope, scope_for
from core.types import AnyUser
from grids.models import AgendaEvaluation, AgendaItem, Community, Grid, Street
from points.models import Account, Claim, Entry, Order, OrderLine
from points.selectors.claims import household_label
from reports.selectors import Quarter, _units, need_counts, needs_report, quarter, rate
from residents.models import Household, Need, Resident, Visit
from residents.selectors import residents_due_for_visit
from volunteers.models import Activity, Attendance

TOP = 10
AGE_BANDS = (  # (label, from days, to days): claims waiting, by age
    ("1天内", 0, 1),
    ("1–3天", 1, 3),
    ("3–7天", 3, 7),
    ("7天以上", 7, None),
)


class NotInScope(Exception):
    """The unit asked for is not one the user sees whole (the view answers 404)."""


# ---------------------------------------------------------------------------- the unit


@dataclass(frozen=True)
class Unit:
    level: str  # street | community | grid
    id: int
    name: str
    street_id: int
    community_id: int | None = None
    breadcrumbs: list[dict[str, Any]] = field(default_factory=list)
    children: list[dict[str, Any]] = field(default_factory=list)

    @cached_property
    def grid_ids(self) -> tuple[int, ...]:
        """The unit's grids (one query, on first use: a street read from its snapshot needs
        none of them)."""
        return tuple(
            Grid.objects.filter(_grid_self_q(self.level, self.id)).values_list("id", flat=True)
        )

    def grid_join_q(self, to_grid: str) -> Q:
        """The same rows as grid_q, by a join to the grid: for tables a partial index keeps
        small (the located households), where a list of a street's thousand ids costs more
        to send than the join."""
        if self.level == "grid":
            return Q(**{f"{to_grid}_id": self.id})
        if self.level == "community":
            return Q(**{f"{to_grid}__community_id": self.id})
        return Q(**{f"{to_grid}__community__street_id": self.id})

    def grid_q(self, to_grid: str) -> Q:
        """Rows whose grid (reached by `to_grid`, e.g. "household__grid") is in the unit.

        By the grids' ids, not by a join to the grid and community: with the ids in the query
        PostgreSQL reads each grid's rows by index (a community's ten grids out of a district's
        thousand), where a join made it scan the whole households table (bench/dashboard.py)."""
        return Q(**{f"{to_grid}_id__in": self.grid_ids})

    def community_q(self, to_community: str) -> Q:
        """Rows of a community of the unit (a grid's: its community's)."""
        if self.level == "street":
            return Q(**{f"{to_community}__street_id": self.id})
        return Q(**{f"{to_community}_id": self.community_id})


def system_reader() -> AnyUser:
    """A reader who sees everything, for the snapshots (reports.services): a street's figures
    are the same for everyone who sees the street whole, which is who may read them."""
    reader = AnonymousUser()
    reader._gridpoints_scope = Scope(everything=True)  # type: ignore[attr-defined]  # scope_for's memo
    return reader


def may_see_dashboard(user: AnyUser) -> bool:
    """Street admins, committee members and the superuser: people who answer for a street or
    a community (a grid worker has the field app)."""
    scope = scope_for(user)
    return bool(scope.everything or scope.street_ids or scope.community_ids)


def _sees(scope: Scope, level: str, unit_id: int) -> bool:
    return _units(scope=scope, level=level, where={level: unit_id}).filter(pk=unit_id).exists()


def resolve_unit(
    *,
    user: AnyUser,
    street: int | None = None,
    community: int | None = None,
    grid: int | None = None,
) -> Unit:
    """The unit the dashboard shows: the grid, else the community, else the street asked for,
    else the user's own (their street, else their community; the superuser the first street).
    Raises NotInScope for a unit the user does not see whole, or a grid outside the community
    (or street) also given."""
    scope = scope_for(user)
    if grid is not None:
        g = Grid.objects.select_related("community__street").filter(pk=grid).first()
        if (
            g is None
            or not _sees(scope, "grid", grid)
            or (community is not None and g.community_id != community)
            or (street is not None and g.community.street_id != street)
        ):
            raise NotInScope
        return _unit("grid", g.pk, g.name, g.community.street, g.community, g)
    if community is not None:
        c = Community.objects.select_related("street").filter(pk=community).first()
        if (
            c is None
            or not _sees(scope, "community", community)
            or (street is not None and c.street_id != street)
        ):
            raise NotInScope
        return _unit("community", c.pk, c.name, c.street, c, None)
    if street is None:
        if scope.everything:
            street = Street.objects.order_by("id").values_list("id", flat=True).first()
        elif scope.street_ids:
            street = min(scope.street_ids)
        elif scope.community_ids:
            return resolve_unit(user=user, community=min(scope.community_ids))
    if street is None:
        raise NotInScope
    s = Street.objects.filter(pk=street).first()
    if s is None or not _sees(scope, "street", street):
        raise NotInScope
    return _unit("street", s.pk, s.name, s, None, None)


def _unit(
    level: str, pk: int, name: str, street: Street, community: Community | None, grid: Grid | None
) -> Unit:
    crumbs = [{"level": "street", "id": street.pk, "name": street.name}]
    if community is not None:
        crumbs.append({"level": "community", "id": community.pk, "name": community.name})
    if grid is not None:
        crumbs.append({"level": "grid", "id": grid.pk, "name": grid.name})
    if level == "street":
        children = [
            {"level": "community", "id": c["id"], "name": c["name"]}
            for c in Community.objects.filter(street=street).order_by("id").values("id", "name")
        ]
    elif level == "community":
        children = [
            {"level": "grid", "id": g["id"], "name": g["name"]}
            for g in Grid.objects.filter(community=community)
            .order_by("code", "id")
            .values("id", "name")
        ]
    else:
        children = []
    return Unit(
        level=level,
        id=pk,
        name=name,
        street_id=street.pk,
        community_id=community.pk if community is not None else None,
        breadcrumbs=crumbs,
        children=children,
    )


# ---------------------------------------------------------------------------- periods


def months_ending(period: Quarter) -> list[dt.date]:
    """The first days of the 12 months ending with the quarter's last month."""
    year, month = period.ends_on.year, period.ends_on.month
    firsts = []
    for back in range(11, -1, -1):
        m = month - back
        y = year + (m - 1) // 12
        firsts.append(dt.date(y, (m - 1) % 12 + 1, 1))
    return firsts


def _span(months: list[dt.date]) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    last = months[-1]
    after = dt.date(last.year + last.month // 12, last.month % 12 + 1, 1)
    return (
        dt.datetime.combine(months[0], dt.time.min, tzinfo=tz),
        dt.datetime.combine(after, dt.time.min, tzinfo=tz),
    )


def _month_key(value: dt.date | dt.datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{value.year:04d}-{value.month:02d}"


def month_labels(months: list[dt.date]) -> list[str]:
    return [_month_key(m) for m in months]


# ---------------------------------------------------------------------------- needs


def _needs(user: AnyUser, unit: Unit) -> QuerySet[Need]:
    return Need.objects.for_user(user).filter(unit.grid_q("grid"))


def needs_monthly(*, user: AnyUser, unit: Unit, months: list[dt.date]) -> list[dict[str, Any]]:
    """received / resolved / resolved_on_time of the needs recorded in each month (one query)."""
    since, until = _span(months)
    needs = (
        _needs(user, unit)
        .filter(created_at__gte=since, created_at__lt=until)
        .annotate(_month=TruncMonth("created_at"))
    )
    counts = {_month_key(r["_month"]): r for r in need_counts(needs, group_by="_month")}
    return [
        {
            "month": key,
            "received": counts.get(key, {}).get("received", 0),
            "resolved": counts.get(key, {}).get("resolved", 0),
            "resolved_on_time": counts.get(key, {}).get("resolved_on_time", 0),
        }
        for key in month_labels(months)
    ]


def needs_open_by_category(*, user: AnyUser, unit: Unit) -> list[dict[str, Any]]:
    rows = (
        _needs(user, unit)
        .filter(status__in=Need.OPEN_STATUSES)
        .order_by()
        .values("category")
        .annotate(count=Count("id"))
    )
    labels = dict(Need.Category.choices)
    found = {r["category"]: r["count"] for r in rows}
    return [
        {"category": code, "label": str(labels[code]), "count": found[code]}
        for code in Need.Category.values
        if found.get(code)
    ]


def needs_by_grid(*, user: AnyUser, unit: Unit, period: Quarter) -> list[dict[str, Any]]:
    """Per grid of the unit: open and overdue now, and the quarter's needs report (the same
    rows reports/needs/?level=grid gives). Three queries: the report's two and one for now."""
    where = {unit.level: unit.id}
    report = needs_report(user=user, period=period, level="grid", **where)
    today = timezone.localdate()
    now: dict[int, Mapping[str, Any]] = {
        r["grid_id"]: r
        for r in _needs(user, unit)
        .filter(status__in=Need.OPEN_STATUSES)
        .order_by()
        .values("grid_id")
        .annotate(
            open=Count("id"),
            overdue=Count("id", filter=Q(status__in=Need.DUE_STATUSES, due_on__lt=today)),
        )
    }
    return [
        {
            "grid_id": row.id,
            "grid": row.name,
            "open": now.get(row.id or 0, {}).get("open", 0),
            "overdue": now.get(row.id or 0, {}).get("overdue", 0),
            "resolved": row.resolved,
            "rated": row.rated,
            "satisfied": row.satisfied,
            "satisfaction_rate": row.satisfaction_rate,
            "rating_rate": row.rating_rate,
        }
        for row in report.rows
    ]


# ---------------------------------------------------------------------------- visits


def _grids(user: AnyUser, unit: Unit) -> list[dict[str, Any]]:
    return list(
        Grid.objects.for_user(user)  # type: ignore[arg-type]  # values() rows are dicts
        .filter(pk__in=unit.grid_ids)
        .order_by("community_id", "code", "id")
        .values("id", "name")
    )


def _grid_self_q(level: str, pk: int) -> Q:
    """The grids of a unit, as a filter on Grid."""
    if level == "grid":
        return Q(pk=pk)
    if level == "community":
        return Q(community_id=pk)
    return Q(community__street_id=pk)


def visits_by_grid(*, user: AnyUser, unit: Unit, period: Quarter) -> list[dict[str, Any]]:
    """Per grid: households, households visited in the quarter, coverage, and key-population
    residents overdue for a visit. Three queries (grids, households, residents due)."""
    grids = _grids(user, unit)
    visited = Visit.objects.filter(
        household=OuterRef("pk"), visited_at__gte=period.start, visited_at__lt=period.end
    )
    households: dict[int, Mapping[str, Any]] = {
        r["grid_id"]: r
        for r in Household.objects.for_user(user)
        .filter(unit.grid_q("grid"))
        .order_by()
        .values("grid_id")
        .annotate(households=Count("id"), visited=Count("id", filter=Exists(visited)))
    }
    scheduled = Resident.tags.through.objects.filter(tag__visit_every_days__isnull=False).values(
        "resident_id"
    )
    overdue = {
        r["household__grid_id"]: r["n"]
        for r in residents_due_for_visit(user, within_days=-1)
        .filter(unit.grid_q("household__grid"), pk__in=scheduled)
        .order_by()
        .values("household__grid_id")
        .annotate(n=Count("id"))
    }
    rows = []
    for g in grids:
        h = households.get(g["id"], {})
        n, v = h.get("households", 0), h.get("visited", 0)
        rows.append(
            {
                "grid_id": g["id"],
                "grid": g["name"],
                "households": n,
                "visited": v,
                "coverage": rate(v, n),
                "key_overdue": overdue.get(g["id"], 0),
            }
        )
    return rows


# ---------------------------------------------------------------------------- points


EARNING = (Entry.Kind.AWARD, Entry.Kind.ADJUSTMENT)


def _entries(user: AnyUser, unit: Unit) -> QuerySet[Entry]:
    return Entry.objects.for_user(user).filter(unit.grid_q("account__household__grid"))


def points_monthly(*, user: AnyUser, unit: Unit, months: list[dt.date]) -> list[dict[str, Any]]:
    since, until = _span(months)
    undone = F("reverses__kind")
    rows = (
        _entries(user, unit)
        .filter(created_at__gte=since, created_at__lt=until)
        .annotate(_month=TruncMonth("created_at"), _undone=undone)
        .order_by()
        .values("_month")
        .annotate(
            earned=Sum(
                "amount",
                filter=Q(kind__in=EARNING) | Q(kind=Entry.Kind.REVERSAL, _undone__in=EARNING),
            ),
            deducted=Sum(
                "amount",
                filter=Q(kind=Entry.Kind.DEDUCTION)
                | Q(kind=Entry.Kind.REVERSAL, _undone=Entry.Kind.DEDUCTION),
            ),
            redeemed=Sum("amount", filter=Q(kind__in=(Entry.Kind.REDEMPTION, Entry.Kind.REFUND))),
        )
    )
    found: dict[str, Mapping[str, Any]] = {_month_key(r["_month"]): r for r in rows}
    out = []
    for key in month_labels(months):
        r = found.get(key, {})
        out.append(
            {
                "month": key,
                "earned": r.get("earned") or 0,
                "deducted": -(r.get("deducted") or 0),
                "redeemed": -(r.get("redeemed") or 0),
            }
        )
    return out


def points_liability(*, user: AnyUser, unit: Unit) -> int:
    total = (
        Account.objects.for_user(user)
        .filter(unit.grid_q("household__grid"), balance__gt=0)
        .aggregate(total=Sum("balance"))["total"]
    )
    return int(total or 0)


def ranking_top(*, user: AnyUser, unit: Unit, year: int) -> list[dict[str, Any]]:
    """The top of the year by honour points earned (荣誉积分, transfers between units left
    out), as the annual ranking counts them (points.selectors.claims.ranking): residents, and
    in a community that counts per household (以户为单位) households, every account of the
    household together (one grouped query, then the names of the ten)."""
    household_grids = list(
        Grid.objects.filter(
            pk__in=unit.grid_ids, community__points_policy__account_unit="household"
        ).values_list("id", flat=True)
    )
    per_household = Q(account__household__grid_id__in=household_grids)
    rows = list(
        _entries(user, unit)
        .filter(period__code__startswith=f"{year}Q")
        .exclude(kind=Entry.Kind.TRANSFER)
        .exclude(honour=0)
        .annotate(
            _household=Case(When(per_household, then=F("account__household_id"))),
            _resident=Case(When(per_household, then=None), default=F("account__resident_id")),
        )
        .order_by()
        .values("_household", "_resident")
        .annotate(points=Sum("honour"))
        .filter(points__gt=0)
        .order_by("-points", "_household", "_resident")[:TOP]
    )
    people = {
        r["id"]: r
        for r in Resident.objects.filter(pk__in=[r["_resident"] for r in rows]).values(
            "id", "name", grid=F("household__grid__name")
        )
    }
    households = {
        h["id"]: h
        for h in Household.objects.filter(pk__in=[r["_household"] for r in rows]).values(
            "id",
            # Its head, or the member with the smallest id (as on the notice).
            head_name=Coalesce(
                F("head__name"),
                Subquery(
                    Resident.objects.filter(household_id=OuterRef("pk"))
                    .order_by("id")
                    .values("name")[:1]
                ),
            ),
            grid_name=F("grid__name"),
        )
    }
    out: list[dict[str, Any]] = []
    for i, r in enumerate(rows):
        rank = out[-1]["rank"] if out and out[-1]["points"] == r["points"] else i + 1
        if r["_household"] is not None:
            household = households[r["_household"]]
            name = household_label(mask_name(household["head_name"] or ""))
            grid = household["grid_name"]
        else:
            person = people[r["_resident"]]
            name, grid = mask_name(person["name"]), person["grid"]
        out.append({"rank": rank, "name": name, "grid": grid, "points": r["points"]})
    return out


def claims_waiting(*, user: AnyUser, unit: Unit) -> dict[str, Any]:
    now = timezone.now()
    day = dt.timedelta(days=1)
    bands = {
        label: Count(
            "id",
            filter=Q(submitted_at__lte=now - lo * day)
            & (Q() if hi is None else Q(submitted_at__gt=now - hi * day)),
        )
        for label, lo, hi in AGE_BANDS
    }
    row = (
        Claim.objects.for_user(user)
        .filter(unit.grid_q("resident__household__grid"), status=Claim.Status.SUBMITTED)
        .aggregate(count=Count("id"), oldest=Min("submitted_at"), **bands)
    )
    oldest = row.pop("oldest")
    return {
        "count": row.pop("count"),
        "oldest_days": None if oldest is None else (now - oldest).days,
        "by_age": [{"label": label, "count": row[label]} for label, _, _ in AGE_BANDS],
    }


def redemption_by_community(*, user: AnyUser, unit: Unit, period: Quarter) -> list[dict[str, Any]]:
    """Orders of the quarter per community: by the order's own community (an order is placed
    in the resident's community), or at grid level by the resident's grid. Three queries."""
    in_unit = Q(street_id=unit.id) if unit.level == "street" else Q(pk=unit.community_id)
    communities = Community.objects.filter(in_unit).order_by("id").values("id", "name")
    where = (
        unit.grid_q("resident__household__grid")
        if unit.level == "grid"
        else unit.community_q("community")
    )
    orders = (
        Order.objects.for_user(user)
        .filter(where, period__code=period.code)
        .exclude(status=Order.Status.CANCELLED)
    )
    counts: dict[int, Mapping[str, Any]] = {
        r["community_id"]: r
        for r in orders.order_by()
        .values("community_id")
        .annotate(
            orders=Count("id"),
            uncollected=Count("id", filter=Q(status=Order.Status.FROZEN)),
        )
    }
    items = {
        r["order__community_id"]: r["items"]
        for r in OrderLine.objects.filter(order__in=orders)
        .order_by()
        .values("order__community_id")
        .annotate(items=Sum("quantity"))
    }
    return [
        {
            "community_id": c["id"],
            "community": c["name"],
            "orders": counts.get(c["id"], {}).get("orders", 0),
            "items": int(items.get(c["id"]) or 0),
            "uncollected": counts.get(c["id"], {}).get("uncollected", 0),
        }
        for c in communities
    ]


def council(*, user: AnyUser, unit: Unit, period: Quarter) -> dict[str, Any]:
    held = Q(council__held_on__gte=period.starts_on, council__held_on__lte=period.ends_on)
    items = (
        AgendaItem.objects.for_user(user)
        .filter(unit.community_q("council__community"))
        .filter(held)
        .aggregate(
            open=Count("id", filter=~Q(outcome=AgendaItem.Outcome.STRUCK_OFF)),
            struck_off=Count("id", filter=Q(outcome=AgendaItem.Outcome.STRUCK_OFF)),
        )
    )
    score = (
        AgendaEvaluation.objects.for_user(user)
        .filter(unit.community_q("council__community"))
        .filter(held)
        .aggregate(avg=Avg("score"))["avg"]
    )
    return {
        "open": items["open"],
        "struck_off": items["struck_off"],
        "avg_score": None if score is None else round(float(score), 2),
    }


def volunteer_hours(*, user: AnyUser, unit: Unit, months: list[dt.date]) -> list[dict[str, Any]]:
    since, until = _span(months)
    rows = (
        Attendance.objects.for_user(user)
        .filter(
            unit.community_q("activity__team__community"),
            activity__status=Activity.Status.DONE,
            activity__starts_at__gte=since,
            activity__starts_at__lt=until,
        )
        .annotate(_month=TruncMonth("activity__starts_at"))
        .order_by()
        .values("activity__team_id", "activity__team__name", "_month")
        .annotate(hours=Sum("hours"))
    )
    out = [
        {
            "team_id": r["activity__team_id"],
            "team": r["activity__team__name"],
            "month": _month_key(r["_month"]),
            "hours": float(r["hours"] or 0),
        }
        for r in rows
    ]
    return sorted(out, key=lambda r: (r["team"], r["team_id"], r["month"]))


# ---------------------------------------------------------------------------- the whole


def period_dict(period: Quarter, months: list[dt.date]) -> dict[str, Any]:
    return {
        "quarter": period.code,
        "start": period.starts_on,
        "end": period.ends_on,
        "months": month_labels(months),
    }


def scope_dict(unit: Unit) -> dict[str, Any]:
    return {
        "level": unit.level,
        "id": unit.id,
        "name": unit.name,
        "breadcrumbs": unit.breadcrumbs,
        "children": unit.children,
    }


def dashboard(*, user: AnyUser, unit: Unit, period: Quarter) -> dict[str, Any]:
    """Every figure of the dashboard (the shape of GET /api/v1/reports/dashboard/)."""
    months = months_ending(period)
    return {
        "as_of": timezone.now(),
        "scope": scope_dict(unit),
        "period": period_dict(period, months),
        "needs_monthly": needs_monthly(user=user, unit=unit, months=months),
        "needs_open_by_category": needs_open_by_category(user=user, unit=unit),
        "needs_by_grid": needs_by_grid(user=user, unit=unit, period=period),
        "visits_by_grid": visits_by_grid(user=user, unit=unit, period=period),
        "points_monthly": points_monthly(user=user, unit=unit, months=months),
        "points_liability": points_liability(user=user, unit=unit),
        "ranking_top": ranking_top(user=user, unit=unit, year=period.starts_on.year),
        "claims_waiting": claims_waiting(user=user, unit=unit),
        "redemption_by_community": redemption_by_community(user=user, unit=unit, period=period),
        "council": council(user=user, unit=unit, period=period),
        "volunteer_hours": volunteer_hours(user=user, unit=unit, months=months),
    }


def snapshot_applies(unit: Unit, period: Quarter) -> bool:
    """Whether this unit's dashboard is read from its snapshot (reports.models)."""
    return unit.level in settings.DASHBOARD_SNAPSHOT_LEVELS and period.code == quarter().code


# ---------------------------------------------------------------------------- the map


def map_features(
    *,
    user: AnyUser,
    unit: Unit,
    period: Quarter,
    figures: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The unit's grids with a boundary, coloured by open/overdue needs and visit coverage,
    and the households with a location (ids only: no names, no addresses). The grids' figures
    are those of the dashboard (`figures`, e.g. a street's snapshot), or computed here."""
    if figures is None:
        figures = {
            "needs_by_grid": needs_by_grid(user=user, unit=unit, period=period),
            "visits_by_grid": visits_by_grid(user=user, unit=unit, period=period),
        }
    needs = {r["grid_id"]: r for r in figures["needs_by_grid"]}
    visits = {r["grid_id"]: r for r in figures["visits_by_grid"]}
    grids = (
        Grid.objects.for_user(user)
        .filter(_grid_self_q(unit.level, unit.id), boundary__isnull=False)
        .order_by("community_id", "code", "id")
        .values("id", "name", "boundary", "boundary_crs", community_name=F("community__name"))
    )
    features: list[dict[str, Any]] = []
    systems: dict[str, int] = {}
    for g in grids:
        systems[g["boundary_crs"]] = systems.get(g["boundary_crs"], 0) + 1
        n, v = needs.get(g["id"], {}), visits.get(g["id"], {})
        features.append(
            {
                "type": "Feature",
                "geometry": g["boundary"],
                "properties": {
                    "kind": "grid",
                    "grid_id": g["id"],
                    "name": g["name"],
                    "community": g["community_name"],
                    "overdue": n.get("overdue", 0),
                    "open": n.get("open", 0),
                    "coverage": v.get("coverage"),
                    "households": v.get("households", 0),
                    "visited": v.get("visited", 0),
                },
            }
        )
    points = (
        Household.objects.for_user(user)
        .filter(unit.grid_join_q("grid"), latitude__isnull=False, longitude__isnull=False)
        .order_by("id")
        .values_list("id", "grid_id", "latitude", "longitude")
    )
    for pk, grid_id, lat, lng in points[: settings.MAP_MAX_HOUSEHOLDS]:
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [float(lng or 0), float(lat or 0)]},
                "properties": {"kind": "household", "household_id": pk, "grid_id": grid_id},
            }
        )
    crs = max(systems, key=lambda k: systems[k]) if systems else "WGS-84"
    return {
        "type": "FeatureCollection",
        "features": features,
        "crs_note": crs,
        "tile_url": settings.MAP_TILE_URL,
        "tile_attribution": settings.MAP_TILE_ATTRIBUTION,
    }
