"""The figures of issue 5: the needs figures per grid, community and street (需求办理统计),
and the grid worker's quarterly assessment (网格员季度考核). Read-only; nothing here writes.

Over 600 lines on purpose: the two reports share the quarter, the scoping of units and the rate
arithmetic, and each is about 250 lines; they are read side by side.

A quarter (`2026Q4`) is a span of Beijing dates; it is turned into the half-open span of aware
datetimes [first day 00:00, day after the last 00:00) in the current time zone
(Asia/Shanghai), so a need recorded at 23:30 on the last day counts in the quarter and one
recorded at 00:10 the next day does not. "Local date" below means the Beijing date of a
moment.

Needs figures, for a quarter P and a unit (grid, community or street):

- received: needs of the unit recorded (`created_at`) in P, whatever their state now
  (a rejected need was received too; `rejected` counts those).
- resolved: needs of `received` now resolved or closed. It is a subset of `received`, so
  resolved ≤ received; a need recorded in P and resolved after P counts once it is resolved.
- resolved_on_time: needs of `resolved` whose local resolution date (`resolved_at`, or
  `closed_at` when no resolution was recorded) is on or before `due_on`. A need without a due
  date is on time when resolved by the local recording date + settings.NEED_DEFAULT_DAYS
  (default 7).
- rated: needs of `resolved` with a rating; satisfied: those rated 4 or 5 (满意, 非常满意).
- satisfaction_rate (好评率) = satisfied ÷ rated.
- rating_rate (主动评价率) = rated ÷ resolved.
- rectifications: rectifications (整改) opened on needs of `received`; rectified_on_time:
  those accepted with a local acceptance date on or before their own due date.
  rectified_on_time_rate = rectified_on_time ÷ rectifications. A rectification still open
  counts as not (yet) on time.
- on_time_rate = resolved_on_time ÷ resolved; resolution_rate = resolved ÷ received.

Every rate is a number from 0 to 1 rounded to 4 places, or null when its denominator is 0.
Each level costs one grouped query (conditional counts), whatever the number of units; the
total is summed from the rows' counts, so it costs nothing.

Worker assessment, for a quarter P and a grid worker W:

- grids: the grids W was assigned to on any day of P (an assignment overlapping P).
- visits: W's visits in P (any household).
- households: households now in those grids; households_visited: those W visited in P.
  coverage = households_visited ÷ households (不漏一户).
- needs_due: needs assigned to W with `due_on` in P; needs_closed_on_time: those now resolved
  or closed with a local resolution date on or before `due_on`. on_time_rate = the ratio.
- average_rating: the mean level (1–5) of the ratings given in P (`rated_at`) to needs
  assigned to W.
- council_score: the mean score (1–5) of the evaluations of agenda items W is responsible
  for, at councils held (`held_on`) in P.
- score (0–100) = 100 × Σ weightᵢ × componentᵢ ÷ Σ weightᵢ, over the components with data:
  coverage, on_time_rate, (average_rating − 1) ÷ 4, (council_score − 1) ÷ 4, each 0–1, with
  the weights of settings.ASSESSMENT_WEIGHTS. A component without data (no households, no
  need due, no rating, no evaluation) is left out and the others' weights are scaled up; when
  no component with a weight above 0 has data, the score is null. The score is computed from
  the unrounded components and rounded to 2 places.

The assessment costs a fixed number of grouped queries, whatever the number of workers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import (
    Avg,
    Count,
    DateField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.quarters import parse_quarter, quarter_of
from core.scope import Scope, scope_for
from core.types import AnyUser
from grids.models import AgendaEvaluation, Community, Grid, GridAssignment, GridWorker, Street
from residents.models import Need, Rating, Rectification, Visit

DONE = (Need.Status.RESOLVED, Need.Status.CLOSED)
SATISFIED = Rating.Level.SATISFIED  # 满意 and 非常满意 are 好评
RATE_PLACES = 4
COMPONENTS = ("coverage", "on_time", "rating", "council")


# ---------------------------------------------------------------------------- quarters


@dataclass(frozen=True)
class Quarter:
    code: str
    starts_on: dt.date
    ends_on: dt.date

    @property
    def start(self) -> dt.datetime:
        """The first moment of the quarter, in the current time zone."""
        return _midnight(self.starts_on)

    @property
    def end(self) -> dt.datetime:
        """The first moment after the quarter (exclusive)."""
        return _midnight(self.ends_on + dt.timedelta(days=1))


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_current_timezone())


def quarter(code: str | None = None) -> Quarter:
    """The quarter named by its code (2026Q4), or the current one. Raises ValueError for a
    string that is not a quarter's code.

    The bounds come from the code (core.quarters, as for `points.models.Period`), not from a
    Period row: a report is a read and must not create rows (`period_for` does), and a quarter
    before the points scheme started still has needs and visits to count."""
    bounds = quarter_of(timezone.localdate()) if code is None else parse_quarter(code)
    return Quarter(*bounds)


def rate(numerator: int, denominator: int) -> float | None:
    """numerator ÷ denominator rounded to 4 places; None when there is nothing to divide by."""
    if not denominator:
        return None
    return round(numerator / denominator, RATE_PLACES)


# ---------------------------------------------------------------------------- needs figures

LEVELS = ("grid", "community", "street")

NEEDS_DEFINITIONS = {
    "received": _("Needs recorded in the quarter, whatever their state now (rejected included)."),
    "resolved": _("Needs received in the quarter that are now resolved or closed."),
    "resolved_on_time": _(
        "Resolved needs whose resolution date (Beijing time) is on or before the due date; a "
        "need without a due date is on time when resolved within %(days)s days of being "
        "recorded."
    ),
    "satisfaction_rate": _(
        "Ratings of 'satisfied' or 'very satisfied' ÷ ratings, of the resolved needs."
    ),
    "rating_rate": _("Resolved needs that the resident rated ÷ resolved needs."),
    "rectified_on_time_rate": _(
        "Rectifications of the needs received, accepted by their due date ÷ rectifications "
        "opened (an open one counts as not on time)."
    ),
    "rates": _("Rates are from 0 to 1, rounded to 4 places; null when nothing to divide by."),
}


def needs_definitions() -> dict[str, str]:
    texts = {key: str(text) for key, text in NEEDS_DEFINITIONS.items()}
    texts["resolved_on_time"] %= {"days": settings.NEED_DEFAULT_DAYS}
    return texts


@dataclass
class NeedFigures:
    """The counts of one unit (or of the total), from which the rates follow."""

    id: int | None = None
    name: str = ""
    community: int | None = None
    community_name: str | None = None
    street: int | None = None
    street_name: str | None = None
    received: int = 0
    rejected: int = 0
    resolved: int = 0
    resolved_on_time: int = 0
    rated: int = 0
    satisfied: int = 0
    rectifications: int = 0
    rectified_on_time: int = 0

    COUNTS = (
        "received",
        "rejected",
        "resolved",
        "resolved_on_time",
        "rated",
        "satisfied",
        "rectifications",
        "rectified_on_time",
    )

    @property
    def resolution_rate(self) -> float | None:
        return rate(self.resolved, self.received)

    @property
    def on_time_rate(self) -> float | None:
        return rate(self.resolved_on_time, self.resolved)

    @property
    def satisfaction_rate(self) -> float | None:
        return rate(self.satisfied, self.rated)

    @property
    def rating_rate(self) -> float | None:
        return rate(self.rated, self.resolved)

    @property
    def rectified_on_time_rate(self) -> float | None:
        return rate(self.rectified_on_time, self.rectifications)

    def add(self, other: NeedFigures) -> None:
        for name in self.COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class NeedsReport:
    period: Quarter
    level: str
    rows: list[NeedFigures]
    total: NeedFigures
    definitions: dict[str, str] = field(default_factory=needs_definitions)


# The lookup from a need to its unit, per level.
_NEED_UNIT = {
    "grid": "grid_id",
    "community": "grid__community_id",
    "street": "grid__community__street_id",
}


def _units(*, scope: Scope, level: str, where: dict[str, int | None]) -> QuerySet[Any]:
    """The units of `level` the user sees whole, as dicts with names; the filters keep the
    units that lie in the given street or community, or contain the given grid.

    A unit is listed only when the user's scope covers all of it (a grid worker sees their
    grids, not their community), so no row ever shows a part of a unit under its name."""
    street, community, grid = where.get("street"), where.get("community"), where.get("grid")
    if level == "grid":
        qs: QuerySet[Any] = Grid.objects.for_scope(scope)
        if street:
            qs = qs.filter(community__street_id=street)
        if community:
            qs = qs.filter(community_id=community)
        if grid:
            qs = qs.filter(pk=grid)
        return qs.order_by("community__street_id", "community_id", "code", "id").values(
            "id",
            "name",
            community_=F("community_id"),
            community_name=F("community__name"),
            street_=F("community__street_id"),
            street_name=F("community__street__name"),
        )
    if level == "community":
        qs = Community.objects.all()
        if not scope.everything:
            qs = qs.filter(Q(pk__in=scope.community_ids) | Q(street_id__in=scope.street_ids))
        if street:
            qs = qs.filter(street_id=street)
        if community:
            qs = qs.filter(pk=community)
        if grid:
            qs = qs.filter(grids=grid)
        return qs.order_by("street_id", "id").values(
            "id", "name", street_=F("street_id"), street_name=F("street__name")
        )
    qs = Street.objects.all()
    if not scope.everything:
        qs = qs.filter(pk__in=scope.street_ids)
    if street:
        qs = qs.filter(pk=street)
    if community:
        qs = qs.filter(communities=community)
    if grid:
        qs = qs.filter(communities__grids=grid)
    return qs.order_by("id").values("id", "name")


def sees_whole_unit(*, user: AnyUser, level: str) -> bool:
    """Does the user see at least one whole unit at this level (one query)?"""
    return _units(scope=scope_for(user), level=level, where={}).exists()


def need_counts(needs: QuerySet[Need], *, group_by: str) -> QuerySet[Any]:
    """One grouped query: the counts of `NeedFigures` per value of `group_by`.

    Rating and Rectification are one-to-one with Need, so their joins never duplicate a need
    and plain conditional counts are exact."""
    done = Q(status__in=DONE)
    rated = done & Q(rating__isnull=False)
    deadline = Coalesce(
        "due_on",
        ExpressionWrapper(
            TruncDate("created_at") + dt.timedelta(days=settings.NEED_DEFAULT_DAYS),
            output_field=DateField(),
        ),
    )
    counts: QuerySet[Any] = (
        needs.annotate(_done_on=TruncDate(Coalesce("resolved_at", "closed_at")), _deadline=deadline)
        .order_by()
        .values(group_by)
        .annotate(
            received=Count("id"),
            rejected=Count("id", filter=Q(status=Need.Status.REJECTED)),
            resolved=Count("id", filter=done),
            resolved_on_time=Count("id", filter=done & Q(_done_on__lte=F("_deadline"))),
            rated=Count("id", filter=rated),
            satisfied=Count("id", filter=rated & Q(rating__level__gte=SATISFIED)),
            rectifications=Count("rectification"),
            rectified_on_time=Count(
                "rectification",
                filter=Q(
                    rectification__status=Rectification.Status.ACCEPTED,
                    rectification__accepted_at__date__lte=F("rectification__due_on"),
                ),
            ),
        )
    )
    return counts


def needs_report(
    *,
    user: AnyUser,
    period: Quarter,
    level: str = "grid",
    street: int | None = None,
    community: int | None = None,
    grid: int | None = None,
) -> NeedsReport:
    """The needs figures per unit of `level` that the user sees whole, for the quarter.

    Units with no need are listed with zeros. Two queries (the units, the grouped counts)
    besides the user's scope, however many units there are."""
    scope = scope_for(user)
    units = list(
        _units(
            scope=scope,
            level=level,
            where={"street": street, "community": community, "grid": grid},
        )
    )
    unit_ids = [u["id"] for u in units]
    group_by = _NEED_UNIT[level]
    needs = Need.objects.for_scope(scope).filter(
        created_at__gte=period.start, created_at__lt=period.end, **{f"{group_by}__in": unit_ids}
    )
    counts = {c.pop(group_by): c for c in need_counts(needs, group_by=group_by)} if units else {}
    rows = []
    for unit in units:
        rows.append(
            NeedFigures(
                id=unit["id"],
                name=unit["name"],
                community=unit.get("community_"),
                community_name=unit.get("community_name"),
                street=unit.get("street_"),
                street_name=unit.get("street_name"),
                **counts.get(unit["id"], {}),
            )
        )
    total = NeedFigures(name=str(_("Total")))
    for row in rows:
        total.add(row)
    return NeedsReport(period=period, level=level, rows=rows, total=total)


# ---------------------------------------------------------------------------- assessment


def assessment_weights() -> dict[str, int]:
    """settings.ASSESSMENT_WEIGHTS, checked: the four components, none negative, some > 0."""
    weights = dict(settings.ASSESSMENT_WEIGHTS)
    unknown = set(weights) - set(COMPONENTS)
    missing = set(COMPONENTS) - set(weights)
    if unknown or missing:
        raise ImproperlyConfigured(
            f"ASSESSMENT_WEIGHTS names {sorted(unknown)} unknown, lacks {sorted(missing)}; "
            f"the components are {', '.join(COMPONENTS)}."
        )
    if any(w < 0 for w in weights.values()) or not any(weights.values()):
        raise ImproperlyConfigured("ASSESSMENT_WEIGHTS must be ≥ 0, and not all 0.")
    return {name: weights[name] for name in COMPONENTS}


ASSESSMENT_DEFINITIONS = {
    "grids": _("The grids the worker was assigned to on any day of the quarter."),
    "visits": _("The worker's visits in the quarter."),
    "coverage": _(
        "Households of those grids the worker visited in the quarter ÷ households of those "
        "grids (不漏一户)."
    ),
    "on_time_rate": _(
        "Needs assigned to the worker and due in the quarter, resolved or closed by the due "
        "date ÷ those needs."
    ),
    "average_rating": _(
        "The mean rating (1–5) given in the quarter to needs assigned to the worker."
    ),
    "council_score": _(
        "The mean score (1–5) of the worker's agenda items, evaluated at councils held in the "
        "quarter."
    ),
    "score": _(
        "0–100: the weighted mean of coverage, on-time rate, (average rating − 1) ÷ 4 and "
        "(council score − 1) ÷ 4. A component without data is left out and the weights of the "
        "others are scaled up; with none, the score is empty."
    ),
}


@dataclass
class WorkerAssessment:
    id: int
    name: str
    community: int
    community_name: str
    weights: dict[str, int]
    grids: list[int] = field(default_factory=list)
    visits: int = 0
    households: int = 0
    households_visited: int = 0
    needs_due: int = 0
    needs_closed_on_time: int = 0
    ratings: int = 0
    mean_rating: float | None = None  # unrounded; the score is computed from these
    evaluations: int = 0
    mean_council_score: float | None = None

    @property
    def coverage(self) -> float | None:
        return rate(self.households_visited, self.households)

    @property
    def on_time_rate(self) -> float | None:
        return rate(self.needs_closed_on_time, self.needs_due)

    @property
    def average_rating(self) -> float | None:
        return None if self.mean_rating is None else round(self.mean_rating, 2)

    @property
    def council_score(self) -> float | None:
        return None if self.mean_council_score is None else round(self.mean_council_score, 2)

    @property
    def components(self) -> dict[str, float | None]:
        """Each component on 0–1 (unrounded), or None when it has no data."""

        def ratio(n: int, d: int) -> float | None:
            return n / d if d else None

        def scale(mean: float | None) -> float | None:
            return None if mean is None else (mean - 1) / 4

        return {
            "coverage": ratio(self.households_visited, self.households),
            "on_time": ratio(self.needs_closed_on_time, self.needs_due),
            "rating": scale(self.mean_rating),
            "council": scale(self.mean_council_score),
        }

    @property
    def score(self) -> float | None:
        """100 × the weighted mean of the components with data; None when none has data."""
        present = {k: v for k, v in self.components.items() if v is not None}
        weight = sum(self.weights[k] for k in present)
        if not weight:
            return None
        return round(100 * sum(self.weights[k] * v for k, v in present.items()) / weight, 2)


@dataclass
class WorkerReport:
    period: Quarter
    weights: dict[str, int]
    rows: list[WorkerAssessment]
    definitions: dict[str, str] = field(
        default_factory=lambda: {k: str(v) for k, v in ASSESSMENT_DEFINITIONS.items()}
    )


def workers_for_report(user: AnyUser) -> QuerySet[GridWorker]:
    """The workers whose assessment the user may read: the street admin's street, the
    committee's community (by the worker's community), and a grid worker their own row only
    (not their colleagues on the same grid, as GridWorker.objects.for_user would give)."""
    scope = scope_for(user)
    qs = GridWorker.objects.all()
    if scope.everything:
        return qs
    return qs.filter(
        Q(community__street_id__in=scope.street_ids)
        | Q(community_id__in=scope.community_ids)
        | Q(user_id=scope.user_id or 0)
    )


def _overlapping(period: Quarter, prefix: str = "") -> Q:
    """Assignments in force on some day of the quarter."""
    return Q(**{f"{prefix}start_date__lte": period.ends_on}) & (
        Q(**{f"{prefix}end_date__isnull": True}) | Q(**{f"{prefix}end_date__gte": period.starts_on})
    )


def _in(period: Quarter, lookup: str) -> dict[str, dt.datetime]:
    return {f"{lookup}__gte": period.start, f"{lookup}__lt": period.end}


def _by_worker(rows: Iterable[Mapping[str, Any]], key: str) -> dict[int, dict[str, Any]]:
    return {row[key]: {k: v for k, v in row.items() if k != key} for row in rows}


def worker_report(
    *,
    user: AnyUser,
    period: Quarter,
    community: int | None = None,
    grid: int | None = None,
) -> WorkerReport:
    """The quarterly assessment of every worker the user may read, narrowed to a community
    (the worker's) or a grid (workers assigned to it in the quarter). Seven queries besides the
    user's scope, however many workers there are."""
    weights = assessment_weights()
    workers = workers_for_report(user).select_related("community").order_by("community_id", "id")
    if community:
        workers = workers.filter(community_id=community)
    if grid:
        workers = workers.filter(
            pk__in=GridAssignment.objects.filter(_overlapping(period), grid_id=grid).values(
                "worker_id"
            )
        )
    workers_list = list(workers)
    ids = [w.pk for w in workers_list]
    if not ids:
        return WorkerReport(period=period, weights=weights, rows=[])

    assignments = GridAssignment.objects.filter(_overlapping(period), worker_id__in=ids)
    grids: dict[int, set[int]] = {}
    for worker_id, grid_id in assignments.values_list("worker_id", "grid_id"):
        grids.setdefault(worker_id, set()).add(grid_id)
    # Distinct: two assignments of the same worker to the same grid (ended, then renewed)
    # must not count its households twice.
    households = _by_worker(
        assignments.order_by()
        .values("worker_id")
        .annotate(households=Count("grid__households", distinct=True)),
        "worker_id",
    )
    in_own_grids = Exists(
        GridAssignment.objects.filter(
            _overlapping(period),
            worker_id=OuterRef("worker_id"),
            grid_id=OuterRef("household__grid_id"),
        )
    )
    visits = _by_worker(
        Visit.objects.filter(worker_id__in=ids, **_in(period, "visited_at"))
        .annotate(_own=in_own_grids)
        .order_by()
        .values("worker_id")
        .annotate(
            visits=Count("id"),
            households_visited=Count("household_id", distinct=True, filter=Q(_own=True)),
        ),
        "worker_id",
    )
    due = Q(due_on__gte=period.starts_on, due_on__lte=period.ends_on)
    rated_in = Q(**_in(period, "rating__rated_at"))
    needs = _by_worker(
        Need.objects.filter(assigned_worker_id__in=ids)
        .filter(due | rated_in)
        .annotate(_done_on=TruncDate(Coalesce("resolved_at", "closed_at")))
        .order_by()
        .values("assigned_worker_id")
        .annotate(
            needs_due=Count("id", filter=due),
            needs_closed_on_time=Count(
                "id", filter=due & Q(status__in=DONE, _done_on__lte=F("due_on"))
            ),
            ratings=Count("rating", filter=rated_in),
            mean_rating=Avg("rating__level", filter=rated_in),
        ),
        "assigned_worker_id",
    )
    council = _by_worker(
        AgendaEvaluation.objects.filter(
            item__responsible_id__in=ids,
            council__held_on__gte=period.starts_on,
            council__held_on__lte=period.ends_on,
        )
        .order_by()
        .values("item__responsible_id")
        .annotate(evaluations=Count("id"), mean_score=Avg("score")),
        "item__responsible_id",
    )

    rows = []
    for worker in workers_list:
        n = needs.get(worker.pk, {})
        c = council.get(worker.pk, {})
        rows.append(
            WorkerAssessment(
                id=worker.pk,
                name=worker.name,
                community=worker.community_id,
                community_name=worker.community.name,
                weights=weights,
                grids=sorted(grids.get(worker.pk, ())),
                visits=visits.get(worker.pk, {}).get("visits", 0),
                households=households.get(worker.pk, {}).get("households", 0),
                households_visited=visits.get(worker.pk, {}).get("households_visited", 0),
                needs_due=n.get("needs_due", 0),
                needs_closed_on_time=n.get("needs_closed_on_time", 0),
                ratings=n.get("ratings", 0),
                mean_rating=_float(n.get("mean_rating")),
                evaluations=c.get("evaluations", 0),
                mean_council_score=_float(c.get("mean_score")),
            )
        )
    return WorkerReport(period=period, weights=weights, rows=rows)


def _float(value: Any) -> float | None:
    return None if value is None else float(value)
