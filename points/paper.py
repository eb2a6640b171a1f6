"""The paper path (issue 14): what a grid worker prints for the people without a smartphone.

- `/statements/<grid>/?month=2026-11`: the monthly points statement (积分月度对账单) of every
  household of a grid, two households to an A4 sheet: the members with their card number, QR
  code and balances, and the month's ledger entries in words.
- `/visits/sheet/<grid>/?date=2026-12-07`: the day's visit sheet (走访登记表): the households
  due for a visit, a tick box, a notes column and a QR code that opens the household in the
  field app.
- `/visits/round/<grid>/`: the same households as a phone form, ticked and annotated after the
  round and recorded in one pass (residents.services.visits.record_visit per household, all in
  one transaction, at most once per form: core.idempotency.reserve_key).

Thin views as points.pages: the grid through access.grid_for (a grid worker's own, the
committee's, the street's; 404 elsewhere), reads through the selectors, a constant number of
queries whatever the number of households.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from dataclasses import dataclass, field, replace
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, IntegerField, OuterRef, Prefetch, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied
from rest_framework.exceptions import ValidationError as ApiValidationError

from audit import services as audit
from core.idempotency import remember_answer, reserve_key
from core.models import IdempotencyRecord
from core.types import AnyUser, User, acting_user
from grids.models import Grid, GridAssignment, GridWorker
from points import access
from points.models import Entry
from points.pages import card_url, qr_svg
from points.selectors import claims as claims_selectors
from points.services import ledger as ledger_services
from residents import selectors as residents_selectors
from residents.access import may_log_visits_for_others
from residents.models import Household, Resident, Visit
from residents.services import visits as visit_services

# A household's half page holds this many table rows (members and entries together) at the
# statement's type size; a busier month shows its latest entries and sums up the earlier ones.
HALF_PAGE_ROWS = 15
QR_PER_HOUSEHOLD = 4  # cards with a QR code on a half page (more members: the number only)
NOTE_MAX = 2000


def _grid_or_404(user: AnyUser, grid_id: int) -> Grid:
    grid = access.grid_for(user, grid_id)
    if grid is None:
        raise Http404
    return grid


def _worker_line(grid: Grid) -> str:
    """The grid's workers in force today, "赵建军 13800000001", for the foot of the paper."""
    assignments = (
        GridAssignment.objects.current().filter(grid=grid).select_related("worker").order_by("id")
    )
    return "，".join(f"{a.worker.name} {a.worker.phone}".strip() for a in assignments)


# ---------------------------------------------------------------------------- the statement


def month_bounds(text: str | None, today: dt.date) -> tuple[dt.date, dt.datetime, dt.datetime]:
    """(the month's first day, its first instant, the next month's first instant), Beijing
    time, of "2026-11"; this month when the text is missing or not a month."""
    try:
        year, month = (int(part) for part in (text or "").split("-"))
        first = dt.date(year, month, 1)
    except ValueError:
        first = today.replace(day=1)
    if not dt.date(2000, 1, 1) <= first <= today:
        first = today.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    tz = timezone.get_current_timezone()
    return (
        first,
        dt.datetime.combine(first, dt.time.min, tzinfo=tz),
        dt.datetime.combine(following, dt.time.min, tzinfo=tz),
    )


@dataclass(frozen=True)
class StatementEntry:
    day: dt.date
    member: str
    what: str  # the rule behind an award or deduction, else the kind of movement in words
    amount: int
    balance_after: int


@dataclass(frozen=True)
class Member:
    """A row of a household's statement: a member and their own account, or where the
    community counts per household (以户为单位) the household's shared account (resident
    None, named by its head and 户)."""

    resident: Resident | None
    card_number: str
    opening: int  # the balance at the month's start
    closing: int  # at its end (the last entry posted before it)
    qr: SafeString | None
    name: str = ""
    honour: int = 0  # honour points (荣誉积分) at the month's end

    @property
    def change(self) -> int:
        return self.closing - self.opening


@dataclass
class HouseholdStatement:
    household: Household
    members: list[Member]
    entries: list[StatementEntry] = field(default_factory=list)
    earlier: int = 0  # entries of the month left off the half page (the oldest)
    earlier_points: int = 0  # and their sum
    per_household: bool = False  # one account for the household (以户为单位)
    names: list[str] = field(default_factory=list)  # its members, on a household's statement


def _before(moment: OuterRef | dt.datetime, column: str, **account: Any) -> Coalesce:
    """`column` (balance_after, honour_after) of the account's last entry before `moment`."""
    last = Entry.objects.filter(created_at__lt=moment, **account).order_by("-seq")
    return Coalesce(Subquery(last.values(column)[:1], output_field=IntegerField()), Value(0))


def _balance_before(moment: OuterRef | dt.datetime) -> Coalesce:
    """The resident's account's balance just before `moment`: the balance after its last
    earlier entry."""
    return _before(moment, "balance_after", account__resident=OuterRef("pk"))


def statement_households(
    *, grid: Grid, start: dt.datetime, end: dt.datetime
) -> list[HouseholdStatement]:
    """Every household of the grid with residents, their balances at the month's start and
    end, and the month's entries (posted in [start, end)), oldest first, each naming the
    member it was for. Where the community counts per household (以户为单位) a household's
    statement has one account, the household's, with honour points. Four queries."""
    per_household = claims_selectors.counts_households(grid.community_id)
    members = Resident.objects.order_by("id").annotate(
        card=F("point_account__card_number"),
        opening=_balance_before(start),
        closing=_balance_before(end),
        honour_closing=_before(end, "honour_after", account__resident=OuterRef("pk")),
    )
    households_qs: QuerySet[Any] = (
        Household.objects.filter(grid=grid)
        .select_related("head")
        .prefetch_related(Prefetch("residents", queryset=members))
        .order_by("id")
    )
    if per_household:
        shared = {"account__shared_household": OuterRef("pk")}
        households_qs = households_qs.annotate(
            card=F("point_account__card_number"),
            opening=_before(start, "balance_after", **shared),
            closing=_before(end, "balance_after", **shared),
            honour_closing=_before(end, "honour_after", **shared),
        )
    households = list(households_qs)
    entries = list(
        Entry.objects.filter(
            account__household__grid=grid, created_at__gte=start, created_at__lt=end
        )
        .select_related("account")
        .order_by("account_id", "seq")
    )
    claims = claims_selectors.claims_of_entries(entries)
    by_household: dict[int, list[Entry]] = {}
    for entry in entries:
        by_household.setdefault(entry.account.household_id, []).append(entry)
    result = []
    for household in households:
        residents = list(household.residents.all())
        if not residents:
            continue
        names = {r.pk: r.name for r in residents}
        rows = []
        for entry in by_household.get(household.pk, []):
            claim = claims.get(entry.pk)
            if claim is not None:
                what = claim.rule.name
            else:
                what = entry.get_kind_display()
                if entry.note:
                    what = f"{what}：{entry.note}"
            # Whom the line is for: the account's resident, or on a household's account the
            # member the claim was made for (nobody in particular for an order or a transfer).
            member_id = entry.account.resident_id or (claim.resident_id if claim else None)
            # The day the points moved (as the balance after them), not the day of the deed.
            day = timezone.localdate(entry.created_at)
            rows.append(
                (
                    entry.created_at,
                    entry.pk,
                    StatementEntry(
                        day,
                        names.get(member_id, "") if member_id else "",
                        what,
                        entry.amount,
                        entry.balance_after,
                    ),
                )
            )
        rows.sort(key=lambda row: (row[0], row[1]))
        if per_household:
            head = household.head if household.head in residents else residents[0]
            statement_members = [
                Member(
                    None,
                    household.card or "",
                    household.opening,
                    household.closing,
                    None,
                    claims_selectors.household_label(head.name),
                    household.honour_closing,
                )
            ]
        else:
            statement_members = [
                Member(
                    r,
                    r.card or "",
                    r.opening,
                    r.closing,
                    None,
                    r.name,
                    r.honour_closing,
                )
                for r in residents
            ]
        statement = HouseholdStatement(
            household,
            statement_members,
            [row[2] for row in rows],
            per_household=per_household,
            names=[r.name for r in residents],
        )
        room = max(HALF_PAGE_ROWS - len(statement.members), 3)
        if len(statement.entries) > room:
            # Keep the latest; one line sums up the rest, so the balances still add up.
            left_off = statement.entries[: len(statement.entries) - room + 1]
            statement.entries = statement.entries[len(left_off) :]
            statement.earlier = len(left_off)
            statement.earlier_points = sum(e.amount for e in left_off)
        result.append(statement)
    return result


@login_required
def statement(request: HttpRequest, grid_id: int) -> HttpResponse:
    """The monthly points statement of every household of a grid (A4, two households a
    sheet): members, card numbers and QR codes, balances, the month's entries in words."""
    grid = _grid_or_404(request.user, grid_id)
    today = timezone.localdate()
    first, start, end = month_bounds(request.GET.get("month"), today)
    # Every member (or household, 以户为单位) has a card to show: open the accounts still
    # missing (one statement).
    if claims_selectors.counts_households(grid.community_id):
        ledger_services.ensure_household_accounts(
            Household.objects.filter(grid=grid, residents__isnull=False).distinct()
        )
    else:
        ledger_services.ensure_accounts(Resident.objects.filter(household__grid=grid))
    households = statement_households(grid=grid, start=start, end=end)
    for household in households:
        household.members = [
            replace(
                m,
                qr=qr_svg(card_url(request, m.card_number), title=m.card_number)
                if i < QR_PER_HOUSEHOLD and m.card_number
                else None,
            )
            for i, m in enumerate(household.members)
        ]
    audit.record_export(
        what=_("Monthly points statements of %(grid)s, %(month)s")
        % {"grid": grid, "month": first.strftime("%Y-%m")},
        object_type="grids.grid",
        object_id=grid.pk,
        count=len(households),
        street_id=grid.community.street_id,
        request=request,
    )
    sheets = [households[i : i + 2] for i in range(0, len(households), 2)]
    return render(
        request,
        "points/statement.html",
        {
            "grid": grid,
            "community": grid.community,
            "month": first,
            "previous_month": (first - dt.timedelta(days=1)).strftime("%Y-%m"),
            "next_month": (
                (first + dt.timedelta(days=32)).strftime("%Y-%m") if end.date() <= today else ""
            ),
            "sheets": sheets,
            "count": len(households),
            "workers": _worker_line(grid),
            "printed_on": today,
        },
    )


# ---------------------------------------------------------------------------- the visit sheet


@dataclass(frozen=True)
class DueResident:
    resident: Resident
    tags: str
    status: str  # never_visited, overdue, due
    last_visited_on: dt.date | None
    days_overdue: int | None


@dataclass
class DueHousehold:
    household: Household
    residents: list[DueResident]
    qr: SafeString | None = None

    @property
    def phones(self) -> list[str]:
        return [r.resident.phone for r in self.residents if r.resident.phone]


def sheet_day(text: str | None, today: dt.date) -> dt.date:
    try:
        day = dt.date.fromisoformat(text or "")
    except ValueError:
        return today
    return day if abs((day - today).days) <= 366 else today


def due_households(*, user: AnyUser, grid: Grid, day: dt.date) -> list[DueHousehold]:
    """The grid's households with someone due for a visit on `day`
    (residents_due_for_visit), the longest waiting first. Three queries."""
    due = (
        residents_selectors.residents_due_for_visit(user, today=day)
        .filter(household__grid=grid)
        .prefetch_related("tags")
    )
    households: dict[int, DueHousehold] = {}
    for resident in due:
        _due_on, status, overdue = residents_selectors.visit_due(
            last_visited_at=resident.last_visited_at,  # type: ignore[attr-defined]
            visit_every_days=resident.visit_every_days,  # type: ignore[attr-defined]
            today=day,
        )
        last = resident.last_visited_at  # type: ignore[attr-defined]
        row = DueResident(
            resident,
            "、".join(t.name for t in resident.tags.all() if t.visit_every_days),
            status,
            timezone.localdate(last) if last else None,
            overdue,
        )
        households.setdefault(
            resident.household_id, DueHousehold(resident.household, [])
        ).residents.append(row)
    return list(households.values())


def household_app_url(request: HttpRequest, household_id: int) -> str:
    """What a household's QR code opens: the household in the grid worker's field app."""
    return request.build_absolute_uri(reverse("field-app", args=[""])) + f"#/h/{household_id}"


@login_required
def visit_sheet(request: HttpRequest, grid_id: int) -> HttpResponse:
    """The day's visit sheet of a grid (A4): the households due, a tick box, a notes column
    and a QR code per household, for a round on foot; recorded afterwards on visit_round."""
    grid = _grid_or_404(request.user, grid_id)
    today = timezone.localdate()
    day = sheet_day(request.GET.get("date"), today)
    rows = due_households(user=request.user, grid=grid, day=day)
    for row in rows:
        row.qr = qr_svg(household_app_url(request, row.household.pk), title=row.household.address)
    audit.record_export(
        what=_("Visit sheet of %(grid)s, %(day)s") % {"grid": grid, "day": day.isoformat()},
        object_type="grids.grid",
        object_id=grid.pk,
        count=len(rows),
        street_id=grid.community.street_id,
        request=request,
    )
    return render(
        request,
        "points/visit_sheet.html",
        {
            "grid": grid,
            "community": grid.community,
            "day": day,
            "rows": rows,
            "workers": _worker_line(grid),
            "round_url": reverse("points:visit_round", args=[grid.pk]) + f"?date={day}",
            "printed_on": today,
        },
    )


# ---------------------------------------------------------------------------- the round, recorded


class _RepeatedForm(Exception):
    pass


def _may_record(user: AnyUser) -> bool:
    return bool(user.has_perm("residents.add_visit"))


def _round_workers(user: User, grid: Grid) -> list[GridWorker]:
    """Whom the visits are recorded for: a grid worker, themself; someone who logs visits for
    others (the committee, the street), one of the grid's workers in force."""
    own = GridWorker.objects.filter(user=user).first()
    if own is not None:
        return [own]
    if not may_log_visits_for_others(user):
        return []
    ids = GridAssignment.objects.current().filter(grid=grid).values("worker_id")
    return list(GridWorker.objects.filter(pk__in=ids).order_by("name", "id"))


def _visited_at(day: dt.date, today: dt.date) -> dt.datetime:
    """Today's visits now; an earlier day's at noon of that day (the sheet does not say when)."""
    if day == today:
        return timezone.now()
    return dt.datetime.combine(day, dt.time(12), tzinfo=timezone.get_current_timezone())


def _error_texts(error: Exception) -> list[str]:
    if isinstance(error, ApiValidationError | ApiPermissionDenied):
        texts: list[str] = []

        def walk(detail: Any) -> None:
            if isinstance(detail, dict):
                for value in detail.values():
                    walk(value)
            elif isinstance(detail, list):
                for value in detail:
                    walk(value)
            else:
                texts.append(str(detail))

        walk(error.detail)
        return texts
    return list(getattr(error, "messages", None) or [str(error)])


def _render_round(
    request: HttpRequest,
    grid: Grid,
    day: dt.date,
    rows: list[DueHousehold],
    workers: list[GridWorker],
    *,
    token: str = "",
    ticked: set[int] | None = None,
    notes: dict[int, str] | None = None,
    method: str = Visit.Method.IN_PERSON,
    worker_id: int | None = None,
    errors: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "points/visit_round.html",
        {
            "grid": grid,
            "day": day,
            "rows": rows,
            "workers": workers,
            "worker_id": worker_id or (workers[0].pk if workers else None),
            "methods": Visit.Method.choices,
            "method": method,
            "ticked": ticked or set(),
            "notes": notes or {},
            "token": token or uuid.uuid4().hex,
            "errors": errors or [],
            "sheet_url": reverse("points:visit_sheet", args=[grid.pk]) + f"?date={day}",
            "note_max": NOTE_MAX,
        },
        status=status,
    )


def _int(value: str | None) -> int | None:
    try:
        return int(value or "")
    except ValueError:
        return None


@login_required
def visit_round(request: HttpRequest, grid_id: int) -> HttpResponse:
    """The visit sheet as a phone form: tick the households visited, add what was noted, send
    once. Each ticked household gets one visit (record_visit), all in one transaction; the
    form's one-time token makes a double tap or a resent form record nothing more."""
    grid = _grid_or_404(request.user, grid_id)
    if not _may_record(request.user):
        raise PermissionDenied
    today = timezone.localdate()
    day = sheet_day(request.POST.get("date") or request.GET.get("date"), today)
    if day > today:
        day = today
    workers = _round_workers(acting_user(request), grid)
    rows = due_households(user=request.user, grid=grid, day=day)
    if request.method != "POST":
        return _render_round(request, grid, day, rows, workers)

    shown = {row.household.pk for row in rows}
    ticked = {pk for pk in shown if request.POST.get(f"visited-{pk}")}
    notes = {pk: request.POST.get(f"notes-{pk}", "").strip()[:NOTE_MAX] for pk in shown}
    method = request.POST.get("method", "")
    worker_id = _int(request.POST.get("worker"))
    token = request.POST.get("token", "").strip()

    def again(errors: list[str]) -> HttpResponse:
        return _render_round(
            request, grid, day, rows, workers, token=token, ticked=ticked, notes=notes,
            method=method, worker_id=worker_id, errors=errors, status=400,
        )  # fmt: skip

    errors = []
    if not token or len(token) > 64 or not token.isprintable():
        messages.error(request, _("The form has expired. Please tick the households again."))
        return HttpResponseRedirect(request.path + f"?date={day}")
    user = acting_user(request)
    key = f"visit-round:{token}"
    if IdempotencyRecord.objects.filter(user=user, key=key).exists():
        # Sent again after it was recorded (its households are no longer due): nothing to do.
        messages.info(request, _("These visits were already recorded; nothing more was recorded."))
        return HttpResponseRedirect(request.path + f"?date={day}")
    worker = next((w for w in workers if w.pk == worker_id), None)
    if worker is None:
        errors.append(_("Say which grid worker made the visits."))
    if method not in Visit.Method.values:
        errors.append(_("Choose how the households were visited."))
    if not ticked:
        errors.append(_("Tick at least one household that was visited."))
    unticked_notes = [pk for pk, text in notes.items() if text and pk not in ticked]
    if unticked_notes:
        errors.append(_("Notes were written for a household that is not ticked as visited."))
    if errors:
        return again(errors)
    assert worker is not None
    households = {
        h.pk: h for h in residents_selectors.households_for(user).filter(grid=grid, pk__in=ticked)
    }
    body = json.dumps(
        {"day": str(day), "worker": worker.pk, "method": method,
         "visits": {str(pk): notes[pk] for pk in sorted(ticked)}},
        sort_keys=True,
    )  # fmt: skip
    visited_at = _visited_at(day, today)
    try:
        with transaction.atomic():
            record = reserve_key(
                user=user,
                key=key,
                method=request.method or "",
                path=request.path,
                fingerprint=hashlib.sha256(body.encode()).hexdigest(),
            )
            if record is None:
                raise _RepeatedForm
            visits = [
                visit_services.record_visit(
                    user=user,
                    household=households[pk],
                    worker=worker,
                    visited_at=visited_at,
                    method=method,
                    notes=notes[pk],
                )
                for pk in sorted(ticked)
                if pk in households
            ]
            remember_answer(record, 303, {"visits": [v.pk for v in visits]})
    except _RepeatedForm:
        messages.info(request, _("These visits were already recorded; nothing more was recorded."))
        return HttpResponseRedirect(request.path + f"?date={day}")
    except (ValidationError, PermissionDenied, ApiValidationError, ApiPermissionDenied) as error:
        return again(_error_texts(error))
    messages.success(
        request,
        ngettext("%(count)d visit was recorded.", "%(count)d visits were recorded.", len(visits))
        % {"count": len(visits)},
    )
    return HttpResponseRedirect(request.path + f"?date={day}")
