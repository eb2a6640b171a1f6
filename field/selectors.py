"""The field app's working set (issue 11): one read gives the phone everything a grid worker's
day needs, in a fixed number of queries whatever the number of households.

`FieldBundle(user)` resolves who asks (`field_user`: grid worker, grid leader or committee
member; anyone else gets nothing) and reads, through the usual `for_user` scope:

- `version()`: the bundle's version, from a handful of small reads (grids, tags, rules) and one
  aggregate per table (count, latest `updated_at`, the ledger's sequence sum, the claims'
  latest id and decision). Same version, same bundle: the view answers 304 from it alone.
- `build(since=...)`: the bundle itself; with the version of an earlier bundle (`?since=`)
  only the households, residents, visits and needs changed since it (rows whose `updated_at`,
  or whose account's ledger, moved after that version was made, less a safety margin), plus
  the full lists of their current ids so the phone drops the rest (deleted, or out of scope).
  The small or computed parts (me, grids, tags, rules, due, follow-ups, caps, refused
  claims, choices) always come whole.

The version reads `<cursor>.<scope>.<fingerprint>`: the time the bundle was read (hex
microseconds), a digest of the user's area (another area: `?since=` answers a full bundle),
and a digest of the content.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.contrib.auth.models import Group
from django.db.models import (
    Count,
    Exists,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Window,
)
from django.db.models.functions import RowNumber
from django.utils import timezone

from core import roles
from core.masking import mask_id_number
from core.quarters import quarter_of
from core.scope import Scope, scope_for
from core.types import AnyUser
from grids.models import CommitteeMember, Grid, GridWorker
from points.models import Claim, Entry, Policy
from points.selectors.claims import rules_for
from points.selectors.rulebooks import in_force_q
from residents.models import Household, Need, Resident, Tag, Visit
from residents.selectors import residents_due_for_visit, visit_due

# Bump when the bundle's shape changes: every phone then gets a new version (a full read).
FORMAT = 2  # 2: household accounts and honour points (issue 15)
# Rows written this long before a bundle was read are sent again with `?since=`: a write whose
# transaction began before the read but committed after it is not missed.
SINCE_OVERLAP = dt.timedelta(minutes=5)
# How far back the claims the worker submitted and saw refused are listed.
REJECTED_CLAIMS_DAYS = 30
# Visits kept per household on the phone.
VISITS_PER_HOUSEHOLD = 3

WORKER, LEADER, COMMITTEE = "worker", "leader", "committee"
# The fields Household.address is made of.
ADDRESS = ("complex", "building", "unit", "room", "village_group", "house_number")


@dataclass(frozen=True)
class FieldUser:
    """Who the app is talking to: the role it shows, and the post behind it."""

    role: str
    name: str
    can_approve: bool
    community: dict[str, Any] | None


def field_user(user: AnyUser) -> FieldUser | None:
    """The user's field role, or None for anyone the field app is not for (residents, partner
    contacts, team leaders, street admins with no field post, strangers). Four queries."""
    if not user.is_authenticated or not user.is_active:
        return None
    groups = set(Group.objects.filter(user=user).values_list("name", flat=True))
    worker = None
    if roles.GRID_WORKER in groups:
        worker = (
            GridWorker.objects.filter(user=user)
            .select_related("community")
            .annotate(leads=Count("led_grids"))
            .first()
        )
    seat = None
    if roles.COMMITTEE in groups:
        seat = CommitteeMember.objects.filter(user=user).select_related("community").first()
    name = user.get_full_name() or user.get_username()
    if seat is not None:
        return FieldUser(
            role=COMMITTEE,
            name=worker.name if worker is not None else name,
            can_approve=user.has_perm("points.change_claim"),
            community={"id": seat.community_id, "name": seat.community.name},
        )
    if worker is not None:
        return FieldUser(
            role=LEADER if worker.leads else WORKER,
            name=worker.name,
            can_approve=False,
            community={"id": worker.community_id, "name": worker.community.name},
        )
    return None


def parse_version(value: str | None) -> tuple[dt.datetime, str, str] | None:
    """(cursor, area digest, fingerprint) of a version string; None when it is not one."""
    if not value:
        return None
    parts = value.strip().split(".")
    if len(parts) != 3:
        return None
    try:
        micros = int(parts[0], 16)
        cursor = dt.datetime.fromtimestamp(micros / 1_000_000, tz=dt.UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return cursor, parts[1], parts[2]


def _digest(value: Any, length: int) -> str:
    text = json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def _age(birth: dt.date, today: dt.date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def _when(value: dt.datetime | None) -> str | None:
    """A moment as the API writes it: ISO 8601 in Beijing time."""
    return None if value is None else timezone.localtime(value).isoformat()


def _label(choices: Any, value: str) -> str:
    return str(dict(choices).get(value, value))


class FieldBundle:
    """The working set of one field user on one day (see the module's docstring)."""

    def __init__(self, user: AnyUser, who: FieldUser, *, now: dt.datetime | None = None) -> None:
        self.user = user
        self.who = who
        self.now = now or timezone.now()
        self.today = timezone.localdate(self.now)
        self.period = quarter_of(self.today).code

    # ------------------------------------------------------------------ querysets

    @cached_property
    def scope(self) -> Scope:
        return scope_for(self.user)

    def households(self) -> QuerySet[Household]:
        return Household.objects.for_user(self.user)

    def residents(self) -> QuerySet[Resident]:
        return Resident.objects.for_user(self.user)

    def visits(self) -> QuerySet[Visit]:
        return Visit.objects.for_user(self.user)

    def needs(self) -> QuerySet[Need]:
        """Open needs of the user's area and those assigned to them (scope path `user`)."""
        return Need.objects.for_user(self.user).filter(status__in=Need.OPEN_STATUSES)

    def claims(self) -> QuerySet[Claim]:
        """The claims the bundle reads: this quarter's of the area's residents (the caps), and
        the ones the user submitted (the refused ones)."""
        area = Claim.objects.scope_q(self.scope) if not self.scope.everything else Q()
        this_quarter = Q(period__code=self.period) & (area if area is not None else Q(pk=None))
        return Claim.objects.filter(this_quarter | Q(submitted_by=self.user.pk))

    # ------------------------------------------------------------------ small parts, read whole

    @cached_property
    def grids(self) -> list[dict[str, Any]]:
        return [
            {
                "id": g.pk,
                "name": g.name,
                "community": g.community_id,
                "community_name": g.community.name,
            }
            for g in Grid.objects.for_user(self.user).select_related("community").order_by("id")
        ]

    @cached_property
    def tags(self) -> list[dict[str, Any]]:
        rows = Tag.objects.order_by("id").values("id", "name", "visit_every_days")
        return [dict(row) for row in rows]

    @cached_property
    def rules(self) -> list[dict[str, Any]]:
        # The versions in force today (issue 15): a code once, never a draft or a past version.
        rules = (
            rules_for(self.user)
            .filter(in_force_q(self.today), active=True)
            .order_by("community_id", "code", "id")
        )
        return [
            {
                "id": r.pk,
                "code": r.code,
                "name": r.name,
                "category": r.category,
                "points": r.points,
                "max_points": r.points if r.up_to else None,
                "cap_per_period": r.cap_per_quarter,
                "community": r.community_id,
            }
            for r in rules.select_related(None)
        ]

    @cached_property
    def me(self) -> dict[str, Any]:
        return {
            "id": self.user.pk,
            "username": self.user.get_username(),
            "name": self.who.name,
            "role": self.who.role,
            "can_approve": self.who.can_approve,
            "community": self.who.community,
        }

    def area_digest(self) -> str:
        s = self.scope
        return _digest(
            [
                self.who.role,
                s.everything,
                sorted(s.street_ids),
                sorted(s.community_ids),
                sorted(s.grid_ids),
                s.resident_id,
            ],
            8,
        )

    # ------------------------------------------------------------------ the version

    def fingerprint(self) -> str:
        """A digest of everything the bundle holds, from one aggregate per table: a row added,
        changed (its `updated_at`), removed or moved out of the area changes it; so does a
        ledger entry (the sum of the accounts' sequence numbers), a claim or its decision, the
        day (what is due), and the small parts, read whole."""
        # A household's shared account (以户为单位) moves with its own sequence numbers.
        households = self.households().aggregate(
            n=Count("id"), at=Max("updated_at"), seq=Sum("point_account__last_seq")
        )
        residents = self.residents().aggregate(
            n=Count("id"), at=Max("updated_at"), seq=Sum("point_account__last_seq")
        )
        visits = self.visits().aggregate(n=Count("id"), at=Max("updated_at"))
        needs = self.needs().aggregate(n=Count("id"), at=Max("updated_at"))
        claims = self.claims().aggregate(n=Count("id"), last=Max("id"), at=Max("decided_at"))
        return _digest(
            [
                FORMAT,
                self.today,
                self.me,
                self.area_digest(),
                self.grids,
                self.tags,
                self.rules,
                households,
                residents,
                visits,
                needs,
                claims,
            ],
            20,
        )

    def version(self) -> str:
        cursor = int(self.now.timestamp() * 1_000_000)
        return f"{cursor:x}.{self.area_digest()}.{self.fingerprint_cached}"

    @cached_property
    def fingerprint_cached(self) -> str:
        return self.fingerprint()

    def since_cursor(self, since: str | None) -> dt.datetime | None:
        """The time from which rows are sent for `?since=`; None for a full bundle (no
        version, not one of ours, or made for another area)."""
        parsed = parse_version(since)
        if parsed is None:
            return None
        cursor, area, _fingerprint = parsed
        if area != self.area_digest():
            return None
        return cursor - SINCE_OVERLAP

    # ------------------------------------------------------------------ the bundle

    def _due(
        self, row: dict[str, Any], addresses: dict[int, str], grid_of: dict[int, int]
    ) -> dict[str, Any]:
        """One row of what is due, as residents.serializers.DueVisitSerializer writes it."""
        last = row["last_visited_at"]
        due_on, status, days_overdue = visit_due(
            last_visited_at=last, visit_every_days=row["visit_every_days"], today=self.today
        )
        return {
            "resident": row["id"],
            "name": row["name"],
            "household": row["household_id"],
            "address": addresses.get(row["household_id"], ""),
            "grid": grid_of.get(row["household_id"]),
            "visit_every_days": row["visit_every_days"],
            "last_visited_at": _when(last),
            "due_on": due_on,
            "status": status,
            "days_overdue": days_overdue,
        }

    def build(self, *, since: str | None = None) -> dict[str, Any]:
        """The bundle (see the module's docstring). Rows are read as values, not model
        instances: a committee member's bundle holds thousands."""
        cursor = self.since_cursor(since)
        version = self.version()

        def changed(at: dt.datetime | None) -> bool:
            return cursor is None or (at is not None and at >= cursor)

        # Residents, with their account and whether its ledger moved since the cursor. Where
        # the community counts per household (以户为单位) a member's own balance is not shown:
        # the household's is (below).
        per_household = Exists(
            Policy.objects.filter(
                community_id=OuterRef("household__grid__community_id"),
                account_unit=Policy.AccountUnit.HOUSEHOLD,
            )
        )
        residents_qs = self.residents().annotate(
            household_updated_at=F("household__updated_at"),
            card_number=F("point_account__card_number"),
            balance=F("point_account__balance"),
            honour=F("point_account__honour"),
            per_household=per_household,
        )
        moved_fields: tuple[str, ...] = ()
        if cursor is not None:
            residents_qs = residents_qs.annotate(
                ledger_moved=Exists(
                    Entry.objects.filter(
                        account__resident=OuterRef("pk"), created_at__gte=cursor
                    ).order_by()
                )
            )
            moved_fields = ("ledger_moved",)
        tag_ids: dict[int, list[int]] = defaultdict(list)
        through = Resident.tags.through.objects.filter(
            resident_id__in=self.residents().values("id")
        ).order_by("resident_id", "tag_id")
        for resident_id, tag_id in through.values_list("resident_id", "tag_id"):
            tag_ids[resident_id].append(tag_id)

        residents: list[dict[str, Any]] = []
        resident_ids: list[int] = []
        households_touched: set[int] = set()
        resident_rows = residents_qs.order_by("id").values(
            "id",
            "household_id",
            "name",
            "gender",
            "birth_date",
            "id_number",
            "phone",
            "is_party_member",
            "updated_at",
            "household_updated_at",
            "card_number",
            "balance",
            "honour",
            "per_household",
            *moved_fields,
        )
        for r in resident_rows:
            resident_ids.append(r["id"])
            moved = bool(r.get("ledger_moved"))
            if not (changed(r["updated_at"]) or changed(r["household_updated_at"]) or moved):
                continue
            if moved:
                households_touched.add(r["household_id"])  # its balance (the members' sum)
            residents.append(
                {
                    "id": r["id"],
                    "household": r["household_id"],
                    "name": r["name"],
                    "gender": r["gender"],
                    "age": _age(r["birth_date"], self.today),
                    "id_number": mask_id_number(r["id_number"]),  # never in full on a phone
                    "phone": r["phone"],
                    "tags": tag_ids.get(r["id"], []),
                    "card_number": r["card_number"],
                    "balance": None if r["per_household"] else r["balance"],
                    "honour": None if r["per_household"] else r["honour"],
                    "is_party_member": r["is_party_member"],
                }
            )
        households_touched |= {row["household"] for row in residents}

        households: list[dict[str, Any]] = []
        household_ids: list[int] = []
        addresses: dict[int, str] = {}
        grid_of: dict[int, int] = {}
        # Every account of the household added up: its members' own, and its shared account
        # where the community counts per household (以户为单位), whose card it shows.
        households_qs = self.households().annotate(
            balance=Sum("point_accounts__balance"),
            honour=Sum("point_accounts__honour"),
            card_number=F("point_account__card_number"),
            head_phone=F("head__phone"),
        )
        household_moved: tuple[str, ...] = ()
        if cursor is not None:
            households_qs = households_qs.annotate(
                ledger_moved=Exists(
                    Entry.objects.filter(
                        account__shared_household=OuterRef("pk"), created_at__gte=cursor
                    ).order_by()
                )
            )
            household_moved = ("ledger_moved",)
        household_rows = households_qs.order_by("id").values(
            "id",
            "grid_id",
            "head_id",
            "updated_at",
            "balance",
            "honour",
            "card_number",
            "head_phone",
            *ADDRESS,
            *household_moved,
        )
        for h in household_rows:
            household_ids.append(h["id"])
            addresses[h["id"]] = Household(**{f: h[f] for f in ADDRESS}).address
            grid_of[h["id"]] = h["grid_id"]
            moved = bool(h.get("ledger_moved"))
            if not (changed(h["updated_at"]) or h["id"] in households_touched or moved):
                continue
            households.append(
                {
                    "id": h["id"],
                    "grid": h["grid_id"],
                    "address": addresses[h["id"]],
                    "head": h["head_id"],
                    "phone": h["head_phone"] or "",
                    "balance": h["balance"],
                    "honour": h["honour"],
                    "card_number": h["card_number"],
                }
            )

        # The last visits of each household, newest first; the follow-ups whose day has come
        # (the household's latest visit asks for one on or before today).
        latest = (
            self.visits()
            .annotate(
                rank=Window(
                    RowNumber(),
                    partition_by=[F("household_id")],
                    order_by=[F("visited_at").desc(), F("id").desc()],
                ),
                worker_name=F("worker__name"),
            )
            .filter(rank__lte=VISITS_PER_HOUSEHOLD)
            .order_by("household_id", "rank")
            .values(
                "id",
                "household_id",
                "visited_at",
                "method",
                "notes",
                "follow_up_on",
                "updated_at",
                "worker_name",
                "rank",
            )
        )
        visits: list[dict[str, Any]] = []
        visit_ids: list[int] = []
        follow_ups: list[int] = []
        for v in latest:
            visit_ids.append(v["id"])
            follow_up = v["follow_up_on"]
            if v["rank"] == 1 and follow_up is not None and follow_up <= self.today:
                follow_ups.append(v["id"])
            if not changed(v["updated_at"]):
                continue
            visits.append(
                {
                    "id": v["id"],
                    "household": v["household_id"],
                    "visited_at": _when(v["visited_at"]),
                    "method": v["method"],
                    "notes": v["notes"],
                    "follow_up_on": follow_up,
                    "worker_name": v["worker_name"],
                }
            )

        needs: list[dict[str, Any]] = []
        need_ids: list[int] = []
        categories = {value: str(label) for value, label in Need.Category.choices}
        statuses = {value: str(label) for value, label in Need.Status.choices}
        need_rows = (
            self.needs()
            .annotate(assigned_user=F("assigned_worker__user_id"))
            .order_by("-created_at", "-id")
            .values(
                "id",
                "grid_id",
                "household_id",
                "resident_id",
                "title",
                "text",
                "category",
                "status",
                "priority",
                "due_on",
                "created_at",
                "updated_at",
                "assigned_user",
            )
        )
        for n in need_rows:
            need_ids.append(n["id"])
            if not changed(n["updated_at"]):
                continue
            needs.append(
                {
                    "id": n["id"],
                    "grid": n["grid_id"],
                    "household": n["household_id"],
                    "resident": n["resident_id"],
                    "title": n["title"],
                    "text": n["text"],
                    "category": n["category"],
                    "category_label": categories.get(n["category"], n["category"]),
                    "status": n["status"],
                    "status_label": statuses.get(n["status"], n["status"]),
                    "priority": n["priority"],
                    "due_on": n["due_on"],
                    "overdue": bool(
                        n["status"] in Need.DUE_STATUSES
                        and n["due_on"] is not None
                        and n["due_on"] < self.today
                    ),
                    "assigned_to_me": n["assigned_user"] == self.user.pk,
                    "created_at": _when(n["created_at"]),
                }
            )

        # What is due: residents.selectors' list (what visits/due/ gives), read as values.
        due_rows = residents_due_for_visit(self.user, today=self.today).values(  # type: ignore[misc]
            "id", "name", "household_id", "visit_every_days", "last_visited_at"
        )
        due = [self._due(row, addresses, grid_of) for row in due_rows]

        cap_used = [
            {"resident": row["resident_id"], "rule": row["rule_id"], "points": row["used"]}
            for row in self.claims()
            .filter(period__code=self.period, rule__cap_per_quarter__isnull=False)
            .exclude(status=Claim.Status.REJECTED)
            .values("resident_id", "rule_id")
            .annotate(used=Sum("points"))
            .order_by("resident_id", "rule_id")
        ]
        refused = (
            Claim.objects.filter(
                submitted_by=self.user.pk,
                status=Claim.Status.REJECTED,
                decided_at__gte=self.now - dt.timedelta(days=REJECTED_CLAIMS_DAYS),
            )
            .select_related("resident", "rule")
            .order_by("-decided_at", "-id")
        )
        claims_rejected = [
            {
                "id": c.pk,
                "resident": c.resident_id,
                "resident_name": c.resident.name,
                "rule": c.rule_id,
                "rule_name": c.rule.name,
                "points": c.points,
                "occurred_on": c.occurred_on,
                "reason": c.reject_reason,
                "decided_at": _when(c.decided_at),
            }
            for c in refused
        ]

        bundle: dict[str, Any] = {
            "version": version,
            "full": cursor is None,
            "today": self.today,
            "period": self.period,
            "me": self.me,
            "grids": self.grids,
            "tags": self.tags,
            "households": households,
            "residents": residents,
            "due": due,
            "visits": visits,
            "follow_ups": follow_ups,
            "needs": needs,
            "rules": self.rules,
            "cap_used": cap_used,
            "claims_rejected": claims_rejected,
            "choices": {
                "visit_methods": [[v, str(label)] for v, label in Visit.Method.choices],
                "need_categories": [[v, str(label)] for v, label in Need.Category.choices],
            },
        }
        if cursor is not None:
            bundle["current"] = {
                "households": household_ids,
                "residents": resident_ids,
                "visits": visit_ids,
                "needs": need_ids,
            }
        return bundle
