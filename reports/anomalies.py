"""The points anomaly report (积分异常核查, issue 15): per quarter and community, the claims a
committee (or its discipline inspector, 纪检) should look at twice, each with why. Read-only.

A flag is not a finding: it says where to look. Rejected claims are left out everywhere (the
committee has already looked at them); submitted and approved ones count. A claim belongs to
the quarter of its `period` (the quarter of the day it happened) and to the community of its
resident's household. The thresholds are settings (config/settings/base.py, README):

- worker_volume (申报量异常): a submitter whose claims in the quarter for residents of the
  community number at least POINTS_ANOMALY_WORKER_MIN_CLAIMS, and whose count or points reach
  POINTS_ANOMALY_WORKER_MEDIAN_FACTOR × the community's median per submitter (the median over
  everyone who submitted a claim there in the quarter, the flagged one included). One flag per
  submitter, with all their claims of the quarter there.
- own_household (为本人或同户申报): a claim for a resident of the household of the submitter's
  own resident record (Resident.user = the submitter), the submitter included. One flag per
  claim.
- same_day_burst (同日多次申报): POINTS_ANOMALY_SAME_DAY_CLAIMS or more claims for one resident
  dated the same day, whoever submitted them. One flag per resident and day.
- quick_bulk_approval (反复秒批): a submitter → approver pair with
  POINTS_ANOMALY_PAIR_REPEATS or more approvals in the quarter, each within
  POINTS_ANOMALY_QUICK_SECONDS of the claim's submission. One flag per pair (and community),
  with those quick approvals.
- while_away (外出期间申报): a claim dated on a day inside an absence (residents.Absence:
  外出务工, 住院, 探亲 …) of its resident; an absence without an end covers every day from
  its start. One flag per claim.
- large_reversal (大额冲正): a reversal entry posted in the quarter whose amount is at least
  POINTS_ANOMALY_REVERSAL_POINTS either way, with the claim it undid when it undid one. One
  flag per entry.

Everything is read with grouped queries and subqueries: a fixed number of queries (about a
dozen) whatever the number of communities, residents and claims; Python only finds medians
over the per-submitter rows and groups the few flagged rows.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from core.scope import scope_for
from core.types import AnyUser
from grids.models import Community
from points.models import Claim, Entry
from reports.selectors import Quarter, quarter
from residents.models import Absence, Resident

WORKER_VOLUME = "worker_volume"
OWN_HOUSEHOLD = "own_household"
SAME_DAY_BURST = "same_day_burst"
QUICK_BULK_APPROVAL = "quick_bulk_approval"
WHILE_AWAY = "while_away"
LARGE_REVERSAL = "large_reversal"

KINDS = (
    WORKER_VOLUME,
    OWN_HOUSEHOLD,
    SAME_DAY_BURST,
    QUICK_BULK_APPROVAL,
    WHILE_AWAY,
    LARGE_REVERSAL,
)

KIND_LABELS: dict[str, Promise] = {
    WORKER_VOLUME: _("Claims far above the community's median"),  # 申报量远超社区中位数
    OWN_HOUSEHOLD: _("Claims for the submitter's own household"),  # 为本人或同户家属申报
    SAME_DAY_BURST: _("Many claims for one resident on one day"),  # 同一居民同日多次申报
    QUICK_BULK_APPROVAL: _("Approved within seconds, again and again"),  # 同一对人员反复秒批
    WHILE_AWAY: _("Claims dated while the resident was away"),  # 外出期间的申报
    LARGE_REVERSAL: _("Large reversals"),  # 大额冲正
}

COMMUNITY_PATH = "resident__household__grid__community_id"
# The quarter's claims annotated with `_community` (their resident's community): the stubs'
# plugin cannot follow an annotation, so the detectors take them untyped.
Claims = QuerySet[Any]


@dataclass(frozen=True)
class Thresholds:
    """The settings the report was run with (each answer carries them in its flags' figures)."""

    worker_median_factor: float
    worker_min_claims: int
    same_day_claims: int
    quick_seconds: int
    pair_repeats: int
    reversal_points: int

    @classmethod
    def from_settings(cls) -> Thresholds:
        return cls(
            worker_median_factor=float(settings.POINTS_ANOMALY_WORKER_MEDIAN_FACTOR),
            worker_min_claims=int(settings.POINTS_ANOMALY_WORKER_MIN_CLAIMS),
            same_day_claims=int(settings.POINTS_ANOMALY_SAME_DAY_CLAIMS),
            quick_seconds=int(settings.POINTS_ANOMALY_QUICK_SECONDS),
            pair_repeats=int(settings.POINTS_ANOMALY_PAIR_REPEATS),
            reversal_points=int(settings.POINTS_ANOMALY_REVERSAL_POINTS),
        )


@dataclass(frozen=True)
class Person:
    """A user named in a `why`, by id: the names are read once for the whole report."""

    user_id: int | None


@dataclass
class Flag:
    """One thing to look at twice. `claims` are claim ids (several for the group kinds),
    `entry` the reversal entry's id; `worker` and `approver` are user ids (the submitter and
    the approver of the claim or claims)."""

    kind: str
    community: int
    community_name: str = ""
    claims: list[int] = field(default_factory=list)
    entry: int | None = None
    resident: int | None = None
    resident_name: str = ""
    worker: int | None = None
    worker_name: str = ""
    approver: int | None = None
    approver_name: str = ""
    points: int | None = None
    date: dt.date | None = None
    figures: dict[str, Any] = field(default_factory=dict)
    why: str = ""
    # The sentence before the names are known: (text with %(name)s, its values).
    _why: tuple[Promise, dict[str, Any]] | None = field(default=None, repr=False)

    @property
    def label(self) -> str:
        return str(KIND_LABELS[self.kind])

    def sort_key(self) -> tuple[int, int, int]:
        first = min(self.claims) if self.claims else self.entry or 0
        return (KINDS.index(self.kind), self.community, first)


# ---------------------------------------------------------------------------- who sees it


def may_see_anomalies(user: AnyUser) -> bool:
    """Committee members (their community), inspectors (纪检, the community they watch), street
    admins (their street) and the superuser: the people who answer for the claims approved
    there, and who check them."""
    scope = scope_for(user)
    return bool(
        user.is_authenticated
        and user.has_perm("points.view_claim")
        and (
            scope.everything
            or scope.community_ids
            or scope.inspected_community_ids
            or scope.street_ids
        )
    )


def communities_for(user: AnyUser) -> QuerySet[Community]:
    """The communities whose anomalies the user may read (none for anyone else)."""
    scope = scope_for(user)
    qs = Community.objects.all()
    if scope.everything:
        return qs
    return qs.filter(
        Q(pk__in=scope.community_ids | scope.inspected_community_ids)
        | Q(street_id__in=scope.street_ids)
    )


# ---------------------------------------------------------------------------- the report


def points_anomalies(
    user: AnyUser,
    period: Quarter | str,
    community: Community | int | None = None,
    *,
    thresholds: Thresholds | None = None,
) -> list[Flag]:
    """The flags of the quarter in the communities the user may read (narrowed to one with
    `community`; a community outside the user's area gives none), ordered by kind, community
    and claim."""
    code = period.code if isinstance(period, Quarter) else quarter(period).code
    limits = thresholds or Thresholds.from_settings()
    communities = communities_for(user)
    if community is not None:
        communities = communities.filter(pk=getattr(community, "pk", community))
    names = dict(communities.values_list("id", "name"))
    if not names:
        return []
    claims: Claims = (
        Claim.objects.filter(period__code=code, **{f"{COMMUNITY_PATH}__in": list(names)})
        .exclude(status=Claim.Status.REJECTED)
        .annotate(_community=F(COMMUNITY_PATH))
        .order_by()
    )
    flags = [
        *_worker_volume(claims, limits),
        *_own_household(claims),
        *_same_day_burst(claims, limits),
        *_quick_bulk_approval(claims, limits),
        *_while_away(claims),
        *_large_reversals(code, list(names), limits),
    ]
    _finish(flags, names)
    flags.sort(key=Flag.sort_key)
    return flags


def _number(value: float) -> str:
    """6 → "6", 6.5 → "6.5", 7.94 → "7.9": figures as a sentence gives them."""
    return f"{round(value, 1):g}"


def _worker_volume(claims: Claims, limits: Thresholds) -> list[Flag]:
    rows = list(
        claims.values("_community", "submitted_by_id").annotate(n=Count("id"), pts=Sum("points"))
    )
    by_community: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_community[row["_community"]].append(row)
    flagged: dict[tuple[int, int], Flag] = {}
    factor = limits.worker_median_factor
    for community_id, workers in by_community.items():
        median_n = statistics.median(r["n"] for r in workers)
        median_pts = statistics.median(r["pts"] for r in workers)
        for r in workers:
            if r["n"] < limits.worker_min_claims:
                continue
            if r["n"] < factor * median_n and r["pts"] < factor * median_pts:
                continue
            ratio = max(r["n"] / median_n, r["pts"] / median_pts)
            flagged[(community_id, r["submitted_by_id"])] = Flag(
                kind=WORKER_VOLUME,
                community=community_id,
                worker=r["submitted_by_id"],
                points=r["pts"],
                figures={
                    "claims": r["n"],
                    "points": r["pts"],
                    "median_claims": median_n,
                    "median_points": median_pts,
                    "submitters": len(workers),
                    "ratio": round(ratio, 2),
                    "factor": factor,
                    "min_claims": limits.worker_min_claims,
                },
                _why=(
                    _(
                        "%(worker)s submitted %(count)s claims (%(points)s points) this quarter; "
                        "the median of the community's %(submitters)s submitters is "
                        "%(median_count)s claims (%(median_points)s points): %(ratio)s times "
                        "the median (flagged from %(factor)s times)."
                    ),
                    {
                        "count": r["n"],
                        "points": r["pts"],
                        "submitters": len(workers),
                        "median_count": _number(median_n),
                        "median_points": _number(median_pts),
                        "ratio": _number(ratio),
                        "factor": _number(factor),
                    },
                ),
            )
    if flagged:
        ids = claims.filter(
            submitted_by_id__in={user for _c, user in flagged},
            _community__in={c for c, _user in flagged},
        ).values_list("id", "_community", "submitted_by_id")
        for claim_id, community_id, user_id in ids:
            flag = flagged.get((community_id, user_id))
            if flag is not None:
                flag.claims.append(claim_id)
    return list(flagged.values())


CLAIM_FIELDS = (
    "id",
    "_community",
    "resident_id",
    "resident__name",
    "submitted_by_id",
    "decided_by_id",
    "points",
    "occurred_on",
    "rule__name",
)


def _claim_flag(kind: str, row: dict[str, Any], **kwargs: Any) -> Flag:
    return Flag(
        kind=kind,
        community=row["_community"],
        claims=[row["id"]],
        resident=row["resident_id"],
        resident_name=row["resident__name"],
        worker=row["submitted_by_id"],
        approver=row["decided_by_id"],
        points=row["points"],
        date=row["occurred_on"],
        **kwargs,
    )


def _own_household(claims: Claims) -> list[Flag]:
    own = Resident.objects.filter(
        user_id=OuterRef("submitted_by_id"), household_id=OuterRef("resident__household_id")
    )
    rows = claims.filter(Exists(own)).values(*CLAIM_FIELDS, "resident__user_id")
    flags = []
    for row in rows:
        himself = row["resident__user_id"] == row["submitted_by_id"]
        text = (
            _(
                "%(worker)s claimed %(points)s points (%(rule)s, %(date)s) for themself: a "
                "claim is made by someone else."
            )
            if himself
            else _(
                "%(worker)s claimed %(points)s points (%(rule)s, %(date)s) for %(resident)s, "
                "who lives in the same household as the submitter."
            )
        )
        flags.append(
            _claim_flag(
                OWN_HOUSEHOLD,
                row,
                figures={"self": himself},
                _why=(
                    text,
                    {
                        "points": row["points"],
                        "rule": row["rule__name"],
                        "date": row["occurred_on"].isoformat(),
                    },
                ),
            )
        )
    return flags


def _same_day_burst(claims: Claims, limits: Thresholds) -> list[Flag]:
    groups = list(
        claims.values("resident_id", "occurred_on")
        .annotate(n=Count("id"))
        .filter(n__gte=limits.same_day_claims)
    )
    if not groups:
        return []
    wanted = {(g["resident_id"], g["occurred_on"]) for g in groups}
    rows = claims.filter(
        resident_id__in={r for r, _d in wanted}, occurred_on__in={d for _r, d in wanted}
    ).values(*CLAIM_FIELDS)
    flags: dict[tuple[int, dt.date], Flag] = {}
    submitters: dict[tuple[int, dt.date], set[int]] = defaultdict(set)
    for row in sorted(rows, key=lambda r: r["id"]):
        key = (row["resident_id"], row["occurred_on"])
        if key not in wanted:
            continue
        submitters[key].add(row["submitted_by_id"])
        flag = flags.get(key)
        if flag is None:
            flags[key] = flag = _claim_flag(SAME_DAY_BURST, row)
            flag.points = 0
        else:
            flag.claims.append(row["id"])
        flag.points = (flag.points or 0) + row["points"]
    for key, flag in flags.items():
        # A single submitter and approver is named; several are not one person's doing.
        who = submitters[key]
        flag.worker = next(iter(who)) if len(who) == 1 else None
        flag.approver = None
        flag.figures = {
            "claims": len(flag.claims),
            "points": flag.points,
            "submitters": len(who),
            "threshold": limits.same_day_claims,
        }
        flag._why = (
            _(
                "%(resident)s has %(count)s claims dated %(date)s (%(points)s points, from "
                "%(submitters)s submitter(s)); flagged from %(threshold)s claims on one day."
            ),
            {
                "count": len(flag.claims),
                "date": key[1].isoformat(),
                "points": flag.points,
                "submitters": len(who),
                "threshold": limits.same_day_claims,
            },
        )
    return list(flags.values())


def _quick_bulk_approval(claims: Claims, limits: Thresholds) -> list[Flag]:
    approved = claims.filter(status=Claim.Status.APPROVED, decided_at__isnull=False)
    quick = Q(decided_at__lte=F("submitted_at") + dt.timedelta(seconds=limits.quick_seconds))
    pairs = list(
        approved.values("_community", "submitted_by_id", "decided_by_id")
        .annotate(total=Count("id"), n=Count("id", filter=quick))
        .filter(n__gte=limits.pair_repeats)
    )
    if not pairs:
        return []
    flags = {
        (p["_community"], p["submitted_by_id"], p["decided_by_id"]): Flag(
            kind=QUICK_BULK_APPROVAL,
            community=p["_community"],
            worker=p["submitted_by_id"],
            approver=p["decided_by_id"],
            points=0,
            figures={"approvals": p["total"], "quick": p["n"]},
        )
        for p in pairs
    }
    rows = (
        approved.filter(quick)
        .filter(
            submitted_by_id__in={p["submitted_by_id"] for p in pairs},
            decided_by_id__in={p["decided_by_id"] for p in pairs},
        )
        .values_list(
            "id",
            "_community",
            "submitted_by_id",
            "decided_by_id",
            "points",
            "submitted_at",
            "decided_at",
        )
    )
    seconds: dict[tuple[int, int, int], list[float]] = defaultdict(list)
    for claim_id, community_id, worker, approver, points, submitted_at, decided_at in sorted(rows):
        key = (community_id, worker, approver)
        flag = flags.get(key)
        if flag is None:
            continue
        flag.claims.append(claim_id)
        flag.points = (flag.points or 0) + points
        seconds[key].append((decided_at - submitted_at).total_seconds())
    for key, flag in flags.items():
        spent = seconds[key] or [0.0]
        flag.figures.update(
            fastest_seconds=round(min(spent), 1),
            median_seconds=round(statistics.median(spent), 1),
            quick_seconds=limits.quick_seconds,
            pair_repeats=limits.pair_repeats,
        )
        flag._why = (
            _(
                "%(approver)s approved %(quick)s of %(worker)s's claims within %(seconds)s "
                "seconds of their submission (fastest %(fastest)s s, median %(median)s s), out "
                "of %(total)s approvals between them this quarter; flagged from %(repeats)s."
            ),
            {
                "quick": flag.figures["quick"],
                "total": flag.figures["approvals"],
                "seconds": limits.quick_seconds,
                "fastest": _number(min(spent)),
                "median": _number(statistics.median(spent)),
                "repeats": limits.pair_repeats,
            },
        )
    return list(flags.values())


def _span(absence: Absence) -> str:
    if absence.ends_on is None:
        return str(_("from %(start)s, still away") % {"start": absence.starts_on.isoformat()})
    return str(
        _("from %(start)s to %(end)s")
        % {"start": absence.starts_on.isoformat(), "end": absence.ends_on.isoformat()}
    )


def _while_away(claims: Claims) -> list[Flag]:
    away = (
        Absence.objects.filter(
            resident_id=OuterRef("resident_id"), starts_on__lte=OuterRef("occurred_on")
        )
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=OuterRef("occurred_on")))
        .order_by("-starts_on", "-id")
        .values("id")[:1]
    )
    rows = list(
        claims.annotate(_absence=Subquery(away))
        .filter(_absence__isnull=False)
        .values(*CLAIM_FIELDS, "_absence")
    )
    if not rows:
        return []
    absences = {
        a.pk: a for a in Absence.objects.filter(pk__in={r["_absence"] for r in rows}).order_by()
    }
    flags = []
    for row in rows:
        absence = absences[row["_absence"]]
        flags.append(
            _claim_flag(
                WHILE_AWAY,
                row,
                figures={
                    "absence": absence.pk,
                    "away_from": absence.starts_on,
                    "away_until": absence.ends_on,
                    "reason": absence.reason,
                },
                _why=(
                    _(
                        "%(worker)s claimed %(points)s points (%(rule)s) for %(resident)s dated "
                        "%(date)s, but %(resident)s was recorded away (%(reason)s) %(span)s, "
                        "recorded by %(recorder)s."
                    ),
                    {
                        "points": row["points"],
                        "rule": row["rule__name"],
                        "date": row["occurred_on"].isoformat(),
                        "reason": absence.get_reason_display(),
                        "span": _span(absence),
                        "recorder": Person(absence.recorded_by_id),
                    },
                ),
            )
        )
    return flags


def _large_reversals(code: str, community_ids: list[int], limits: Thresholds) -> list[Flag]:
    at_least = limits.reversal_points
    rows = list(
        Entry.objects.filter(
            kind=Entry.Kind.REVERSAL,
            period__code=code,
            account__household__grid__community_id__in=community_ids,
        )
        .filter(Q(amount__gte=at_least) | Q(amount__lte=-at_least))
        .order_by()
        .values(
            "id",
            "amount",
            "note",
            "created_by_id",
            "created_at",
            "reverses_id",
            "reverses__source_type",
            "reverses__source_id",
            "reverses__created_at",
            "account__resident_id",
            "account__resident__name",
            community=F("account__household__grid__community_id"),
        )
    )
    if not rows:
        return []
    claim_ids = {
        r["reverses__source_id"]
        for r in rows
        if r["reverses__source_type"] == "claim" and r["reverses__source_id"] is not None
    }
    claims = {
        c["id"]: c
        for c in Claim.objects.filter(pk__in=claim_ids)
        .order_by()
        .values(
            "id", "resident_id", "resident__name", "submitted_by_id", "decided_by_id", "occurred_on"
        )
    }
    flags = []
    for row in rows:
        source_id = row["reverses__source_id"]
        claim = (
            claims.get(source_id)
            if row["reverses__source_type"] == "claim" and source_id is not None
            else None
        )
        flags.append(
            Flag(
                kind=LARGE_REVERSAL,
                community=row["community"],
                claims=[claim["id"]] if claim else [],
                entry=row["id"],
                resident=claim["resident_id"] if claim else row["account__resident_id"],
                resident_name=(
                    claim["resident__name"] if claim else row["account__resident__name"] or ""
                ),
                worker=claim["submitted_by_id"] if claim else None,
                approver=claim["decided_by_id"] if claim else None,
                points=row["amount"],
                date=claim["occurred_on"] if claim else None,
                figures={
                    "amount": row["amount"],
                    "reversed_entry": row["reverses_id"],
                    "threshold": at_least,
                },
                _why=(
                    _(
                        "%(reverser)s reversed %(amount)s points of %(resident)s's ledger on "
                        "%(day)s (entry #%(reversed)s%(source)s), reason: %(reason)s; flagged "
                        "from %(threshold)s points."
                    ),
                    {
                        "reverser": Person(row["created_by_id"]),
                        "amount": f"{row['amount']:+d}",
                        "day": row["created_at"].date().isoformat(),
                        "reversed": row["reverses_id"],
                        "source": (
                            _(", claim #%(claim)s") % {"claim": claim["id"]} if claim else ""
                        ),
                        "reason": row["note"] or "—",
                        "threshold": at_least,
                    },
                ),
            )
        )
    return flags


# ---------------------------------------------------------------------------- names, sentences


def person_names(user_ids: Iterable[int | None]) -> dict[int, str]:
    """Each user's name as the committee knows it: the grid worker's name, else the login's
    full name, else the username (one query)."""
    ids = {i for i in user_ids if i is not None}
    if not ids:
        return {}
    names = {}
    rows = (
        get_user_model()
        .objects.filter(pk__in=ids)
        .values_list("id", "username", "first_name", "last_name", "grid_worker__name")
    )
    for pk, username, first, last, worker in rows:
        names[pk] = worker or f"{last}{first}".strip() or username
    return names


def _finish(flags: list[Flag], community_names: dict[int, str]) -> None:
    """Name the people and write each flag's sentence, in the active language."""
    people: set[int | None] = set()
    for flag in flags:
        people |= {flag.worker, flag.approver}
        if flag._why:
            people |= {v.user_id for v in flag._why[1].values() if isinstance(v, Person)}
    names = person_names(people)

    def name(user_id: int | None) -> str:
        return names.get(user_id, "") if user_id is not None else ""

    for flag in flags:
        flag.community_name = community_names.get(flag.community, "")
        flag.worker_name = name(flag.worker)
        flag.approver_name = name(flag.approver)
        if flag._why is None:
            continue
        text, values = flag._why
        values = {
            k: (name(v.user_id) or "—") if isinstance(v, Person) else v for k, v in values.items()
        }
        values.setdefault("worker", flag.worker_name or "—")
        values.setdefault("approver", flag.approver_name or "—")
        values.setdefault("resident", flag.resident_name or "—")
        flag.why = str(text) % values
