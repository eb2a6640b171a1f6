"""Server-rendered pages for points: the resident's own page, the quarterly public notice
(季度公示), the printable sheet of points cards (积分卡) and the page a card's QR code opens.

Thin views: scope through `for_user()`, reads through points.selectors, templates render.
Anything outside a user's scope answers 404, so a card number or a grid id reveals nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from audit import services as audit
from core.idempotency import remember_answer, reserve_key
from core.landing import role_pages
from core.masking import mask_name
from core.scope import scope_for
from core.types import AnyUser, acting_user
from grids.models import Community, Grid
from points import access, exports
from points.models import (
    Account,
    CatalogItem,
    Entry,
    Objection,
    Order,
    Period,
    Policy,
    RedemptionWindow,
)
from points.selectors import claims as claims_selectors
from points.selectors import ledger as ledger_selectors
from points.selectors import redemption as redemption_selectors
from points.services import ledger as ledger_services
from points.services import objections as objections_services
from points.services import redemption as redemption_services
from residents import selectors as residents_selectors
from residents.models import Household, Need, Resident

STATEMENT_PAGE_SIZE = 20
CARD_RECENT_ENTRIES = 5


def home(request: HttpRequest) -> HttpResponse:
    """`/` (where the login lands): a partner contact, a team leader or a resident goes to
    their own page (core.landing), everyone else to the admin; a visitor not logged in
    chooses: the residents' login, the partners' and team leaders', or the admin's for staff."""
    user = request.user
    if not user.is_authenticated:
        return render(request, "points/home.html")
    # A partner contact, a team leader or a resident: their own page (the work first).
    if pages := role_pages(user):
        return HttpResponseRedirect(pages[0].url)
    return HttpResponseRedirect(reverse("admin:index"))


def _this_quarter() -> QuerySet[Period]:
    """The current quarter as a queryset (empty until something was posted in it): reading a
    page must not create the period."""
    code, _start, _end = Period.bounds(timezone.localdate())
    return Period.objects.filter(code=code)


def _visible_grid(user: AnyUser, grid_id: int, *, residents_too: bool) -> Grid:
    """The grid if the user's scope includes it, else 404. With `residents_too`, a resident of
    the grid also sees it (the public notice is theirs to read)."""
    grid = access.grid_for(user, grid_id, residents_too=residents_too)
    if grid is None:
        raise Http404
    return grid


def qr_svg(data: str, *, title: str = "") -> SafeString:
    """An inline SVG QR code (segno); sized by the page's CSS, not by the SVG."""
    code = segno.make(data, error="m", micro=False)
    return mark_safe(code.svg_inline(border=2, omitsize=True, title=title or None))


# ---------------------------------------------------------------------------- the resident


@dataclass(frozen=True)
class StatementLine:
    entry: Entry
    description: str
    day: dt.date  # when it happened: the claim's day for an award, else the posting day
    member: str = ""  # a household's statement: the member the claim was for


def _statement_lines(entries: list[Entry], *, members: bool = False) -> list[StatementLine]:
    """The lines of a statement in words; with `members` (a household's account, 以户为单位)
    each line of a claim names the member it was for."""
    claims = claims_selectors.claims_of_entries(entries, members=members)
    lines = []
    for entry in entries:
        claim = claims.get(entry.pk)
        member = ""
        if claim is not None:
            parts, day = [claim.rule.name, claim.note], claim.occurred_on
            member = claim.resident.name if members else ""
        else:
            parts, day = [entry.note], timezone.localdate(entry.created_at)
        lines.append(StatementLine(entry, " · ".join(p for p in parts if p), day, member))
    return lines


@dataclass(frozen=True)
class ShopRow:
    item: CatalogItem
    left: int | None  # what the limit per quarter still allows, None without a limit
    quantity: str  # as typed, kept when the form comes back with an error
    missing: int = 0  # points still missing to pay for one (0: the balance pays for it)

    @property
    def orderable(self) -> bool:
        return self.missing == 0 and self.left != 0


@dataclass(frozen=True)
class Pickup:
    """Where and when a quarter's goods are collected (the window's pickup fields), and the
    last day before what is not collected is refunded."""

    place: str
    time: str
    deadline: dt.date


def _pickups(orders: list[Order]) -> dict[int, Pickup]:
    """Per period id of the orders, the pickup of the community's window of that quarter."""
    periods = {order.period_id for order in orders}
    communities = {order.community_id for order in orders}
    windows = RedemptionWindow.objects.filter(period_id__in=periods, community_id__in=communities)
    return {
        window.period_id: Pickup(
            window.pickup_place,
            window.pickup_time,
            redemption_services.collection_deadline(window),
        )
        for window in windows
    }


def _expected_opening(community_id: int, today: dt.date) -> tuple[dt.date | None, bool]:
    """When the next redemption window opens: (the date, exact). Exact when the window is
    set; else, for a community whose windows open by themselves, the day after this quarter
    ends (open_due_redemptions); else unknown (None)."""
    upcoming = redemption_selectors.next_window(community_id=community_id, today=today)
    if upcoming is not None:
        return upcoming.opens_on, True
    if Policy.objects.filter(community_id=community_id, auto_open_redemption=True).exists():
        return Period.bounds(today)[2] + dt.timedelta(days=1), False
    return None, False


def _open_window(community_id: int, today: dt.date) -> RedemptionWindow | None:
    try:
        return redemption_services.open_window_for(community_id=community_id, today=today)
    except ValidationError:
        return None


def _shop_context(
    resident: Resident, *, quantities: dict[int, str] | None = None, token: str = ""
) -> dict[str, Any]:
    """The redemption part of /me/: while the community's window is open, its catalog (with
    what each limit still allows) and a one-time form token; the resident's orders of the
    quarter of the latest window; otherwise when the next window opens, if one is set."""
    community_id = resident.household.grid.community_id
    today = timezone.localdate()
    window = _open_window(community_id, today)
    context: dict[str, Any] = {"window": window, "shop": [], "orders": [], "next_window": None}
    shown = window or redemption_selectors.latest_window(community_id=community_id, today=today)
    if shown is not None:
        context["orders"] = list(
            redemption_selectors.resident_orders(resident_id=resident.pk, period=shown.period)
        )
        pickups = _pickups(context["orders"])
        for order in context["orders"]:
            order.pickup = pickups.get(order.period_id)  # read by me.html
    if window is None:
        context["next_window"] = redemption_selectors.next_window(
            community_id=community_id, today=today
        )
        context["next_opening"], context["next_opening_exact"] = _expected_opening(
            community_id, today
        )
        return context
    ordered = redemption_selectors.ordered_quantities(resident_id=resident.pk, period=window.period)
    # What an order debits: the resident's account, or their household's (以户为单位).
    balance = ledger_services.account_for(resident).balance
    quantities = quantities or {}
    context["shop"] = [
        ShopRow(
            item,
            (
                None
                if item.limit_per_quarter is None
                else max(item.limit_per_quarter - ordered.get(item.pk, 0), 0)
            ),
            quantities.get(item.pk, ""),
            max(item.points - balance, 0),
        )
        for item in redemption_selectors.shop_items(community_id=community_id)
    ]
    context["token"] = token or uuid.uuid4().hex
    return context


def _render_me(
    request: HttpRequest, resident: Resident, shop: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    # Opens the account (and its card number) on a first visit; later visits only read. With
    # household accounts (以户为单位) it is the household's, which the head and every member see.
    account = ledger_services.account_for(resident)
    per_household = account.is_household
    page = Paginator(
        ledger_selectors.account_statement(account=account), STATEMENT_PAGE_SIZE
    ).get_page(request.GET.get("page"))
    notices = Period.objects.filter(starts_on__lte=timezone.localdate()).order_by("-starts_on")[:2]
    return render(
        request,
        "points/me.html",
        {
            "resident": resident,
            "grid": resident.household.grid,
            "account": account,
            "earned_this_quarter": ledger_selectors.earned(
                account=account, periods=_this_quarter()
            ),
            "quarter_code": Period.bounds(timezone.localdate())[0],
            "per_household": per_household,
            "head": resident.household.head if per_household else None,
            "page": page,
            "lines": _statement_lines(list(page.object_list), members=per_household),
            "notices": notices,
            "needs_to_rate": residents_selectors.needs_for(request.user)
            .filter(status=Need.Status.RESOLVED, rating__isnull=True)
            .count(),
            **shop,
        },
        status=status,
    )


def _own_resident(request: HttpRequest) -> Resident | None:
    resident_id = scope_for(request.user).resident_id
    if resident_id is None:
        return None
    return Resident.objects.select_related("household__grid__community", "household__head").get(
        pk=resident_id
    )


@login_required
def me(request: HttpRequest) -> HttpResponse:
    """A resident's balance, points earned this quarter, card number and history; while the
    redemption window is open, the catalog to order from; and their orders of the quarter."""
    resident = _own_resident(request)
    if resident is None:
        return render(request, "points/not_a_resident.html")
    return _render_me(request, resident, _shop_context(resident))


class _RepeatedForm(Exception):
    pass


def _form_token(request: HttpRequest) -> str:
    token = request.POST.get("token", "").strip()
    if not token or len(token) > 64 or not token.isprintable():
        return ""
    return token


def _typed_quantities(request: HttpRequest, items: list[CatalogItem]) -> dict[int, str]:
    return {item.pk: request.POST.get(f"qty-{item.pk}", "").strip() for item in items}


def _order_lines(items: list[CatalogItem], typed: dict[int, str]) -> list[tuple[CatalogItem, int]]:
    lines = []
    for item in items:
        raw = typed.get(item.pk, "")
        if raw == "":
            continue
        try:
            quantity = int(raw)
        except ValueError:
            quantity = -1
        if quantity < 0:
            raise ValidationError(
                _("Enter a whole number of 0 or more for %(item)s.") % {"item": item.name}
            )
        if quantity > 0:
            lines.append((item, quantity))
    if not lines:
        raise ValidationError(_("Order at least one item."))
    return lines


@login_required
@require_POST
def me_order(request: HttpRequest) -> HttpResponse:
    """The order form of /me/: places an order (services.redemption.place_order) and redirects
    back to /me/ (POST/redirect/GET). Refused orders come back with the messages and the quantities.
    The form carries a one-time token: the order is placed at most once per (user, token), so
    a double tap or a resent form does not order twice (core.idempotency.reserve_key, the
    mechanism of the API's Idempotency-Key, stored in the transaction of the order)."""
    resident = _own_resident(request)
    if resident is None:
        return render(request, "points/not_a_resident.html", status=403)
    items = list(redemption_selectors.shop_items(community_id=resident.household.grid.community_id))
    typed = _typed_quantities(request, items)
    token = _form_token(request)
    if not token:
        messages.error(request, _("The form has expired. Please enter your order again."))
        return HttpResponseRedirect(reverse("points:me"))
    user = acting_user(request)
    body = json.dumps({str(k): v for k, v in typed.items()}, sort_keys=True)
    try:
        lines = _order_lines(items, typed)
        with transaction.atomic():
            # On PostgreSQL a concurrent post of the same form waits on the unique index
            # until the first commits, then finds the key taken: one order, whatever the taps.
            record = reserve_key(
                user=user,
                key=f"me-order:{token}",
                method=request.method or "",
                path=request.path,
                fingerprint=hashlib.sha256(body.encode()).hexdigest(),
            )
            if record is None:
                raise _RepeatedForm
            order = redemption_services.place_order(user=user, resident=resident, lines=lines)
            remember_answer(record, 303, {"order": order.pk})
    except _RepeatedForm:
        messages.info(request, _("This order was already sent; nothing more was ordered."))
        return HttpResponseRedirect(reverse("points:me") + "#orders")
    except (ValidationError, PermissionDenied) as error:
        # Nothing was written (the token too): the corrected form may be sent again.
        shop = _shop_context(resident, quantities=typed, token=token)
        shop["order_errors"] = getattr(error, "messages", None) or [str(error)]
        return _render_me(request, resident, shop, status=400)
    messages.success(
        request,
        _("Order placed: %(points)d points were debited.") % {"points": order.total_points},
    )
    return HttpResponseRedirect(reverse("points:me") + "#orders")


@login_required
@require_POST
def me_cancel_order(request: HttpRequest, order_id: int) -> HttpResponse:
    """Cancel one of the resident's own orders while the window is open (refunds at once)."""
    resident = _own_resident(request)
    if resident is None:
        raise Http404
    order = get_object_or_404(Order, pk=order_id, resident_id=resident.pk)
    try:
        redemption_services.cancel_order(user=acting_user(request), order=order)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(
            request,
            _("Order cancelled: %(points)d points were refunded.") % {"points": order.total_points},
        )
    return HttpResponseRedirect(reverse("points:me") + "#orders")


# ---------------------------------------------------------------------------- the resident's
# rules, ranking and objections (issue 16): reads through the selectors the API uses, the
# objection through objections.raise_objection.

RANKING_TOP = 20
OBJECTION_REASON_MAX = 2000


@login_required
def me_rules(request: HttpRequest) -> HttpResponse:
    """The points rules (积分细则) of the resident's community: what earns or costs how many
    points, and the caps per quarter."""
    resident = _own_resident(request)
    if resident is None:
        return render(request, "points/not_a_resident.html")
    rules = claims_selectors.community_rules(community_id=resident.household.grid.community_id)
    order = {c: i for i, c in enumerate(("base", "reward", "deduction"))}
    groups: dict[str, list[Any]] = {}
    for rule in sorted(rules, key=lambda r: (order.get(r.category, 9), r.code)):
        groups.setdefault(rule.get_category_display(), []).append(rule)
    return render(
        request,
        "points/me_rules.html",
        {"resident": resident, "community": resident.household.grid.community, "groups": groups},
    )


@dataclass(frozen=True)
class RankRow:
    rank: int
    name: str
    grid: str
    honour: int  # honour points (荣誉积分) earned in the year
    me: bool  # the resident's own row, or their household's


def _rank_rows(
    resident: Resident, *, year: int, party_only: bool
) -> tuple[list[RankRow], RankRow | None, bool]:
    """The top of the community's ranking with masked names (the resident's own in full), the
    resident's own row when it is below the top, and whether the rows are households (以户为
    单位; the party members' ranking is always per person)."""
    rows = claims_selectors.ranking(
        community_id=resident.household.grid.community_id, year=year, party_only=party_only
    )

    def mine(r: Any) -> bool:
        if r.per_household:
            return bool(r.household_id == resident.household_id)
        return bool(r.pk == resident.pk)

    def row(r: Any) -> RankRow:
        me = mine(r)
        name = r.name if me else mask_name(r.name)
        if r.per_household:
            name = claims_selectors.household_label(name)
        return RankRow(r.rank, name, r.household.grid.name, r.honour, me)

    top_rows = list(rows[:RANKING_TOP])
    top = [row(r) for r in top_rows]
    own = None
    if not any(r.me for r in top):
        found = next((r for r in rows if mine(r)), None)
        own = row(found) if found is not None else None
    per_household = bool(top_rows and getattr(top_rows[0], "per_household", False))
    return top, own, per_household


@login_required
def me_ranking(request: HttpRequest) -> HttpResponse:
    """The annual ranking (年度积分排名) of the resident's community by points earned in the
    year, names masked but one's own; and the party members' ranking."""
    resident = _own_resident(request)
    if resident is None:
        return render(request, "points/not_a_resident.html")
    year = timezone.localdate().year
    try:
        asked = int(request.GET.get("year", year))
    except ValueError:
        asked = year
    if year - 5 <= asked <= year:
        year = asked
    party_only = request.GET.get("party") == "1"
    top, own, per_household = _rank_rows(resident, year=year, party_only=party_only)
    return render(
        request,
        "points/me_ranking.html",
        {
            "resident": resident,
            "community": resident.household.grid.community,
            "year": year,
            "party_only": party_only,
            "top": top,
            "own": own,
            "per_household": per_household,
        },
    )


@dataclass(frozen=True)
class ObjectionLine:
    line: StatementLine
    objections: list[Any]
    open: bool  # an objection waiting for a decision
    errors: list[str]  # why the objection just sent was refused
    typed: str  # the reason as typed, kept when it was refused


@dataclass(frozen=True)
class NoticeQuarter:
    period: Period
    deadline: dt.date
    window_open: bool  # the notice is up and objections are taken (after the quarter's end)
    lines: list[ObjectionLine]


def _notice_quarters(
    resident: Resident,
    errors: dict[int, list[str]],
    typed: dict[int, str],
) -> list[NoticeQuarter]:
    """The quarters whose public notice is up or was (ended, newest first, the last two), each
    with the objection deadline and the entries of it with their objections: of the resident's
    own account and of their household's (以户为单位), each line of a household's claim naming
    the member it was for."""
    today = timezone.localdate()
    community = resident.household.grid.community
    periods = Period.objects.filter(ends_on__lt=today).order_by("-ends_on")[:2]
    accounts = ledger_services.accounts_of(resident)
    members = Account.objects.filter(shared_household_id=resident.household_id).exists()
    quarters = []
    for period in periods:
        entries = list(ledger_selectors.accounts_statement(accounts=accounts, period=period))
        objections: dict[int, list[Any]] = {}
        for objection in Objection.objects.filter(entry__in=entries).order_by("id"):
            objections.setdefault(objection.entry_id, []).append(objection)
        deadline = objections_services.notice_deadline(period=period, community=community)
        quarters.append(
            NoticeQuarter(
                period,
                deadline,
                today <= deadline,
                [
                    ObjectionLine(
                        line,
                        objections.get(line.entry.pk, []),
                        any(o.status == "open" for o in objections.get(line.entry.pk, [])),
                        errors.get(line.entry.pk, []),
                        typed.get(line.entry.pk, ""),
                    )
                    for line in _statement_lines(entries, members=members)
                ],
            )
        )
    return quarters


def _render_objections(
    request: HttpRequest,
    resident: Resident,
    *,
    errors: dict[int, list[str]] | None = None,
    typed: dict[int, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "points/me_objections.html",
        {
            "resident": resident,
            "grid": resident.household.grid,
            "quarters": _notice_quarters(resident, errors or {}, typed or {}),
            "reason_max": OBJECTION_REASON_MAX,
        },
        status=status,
    )


@login_required
def me_objections(request: HttpRequest) -> HttpResponse:
    """The public notice's quarters (季度公示) with the resident's own entries: while the
    objection window is open, an objection (异议) to any of them; after it, why not."""
    resident = _own_resident(request)
    if resident is None:
        return render(request, "points/not_a_resident.html")
    if request.method != "POST":
        return _render_objections(request, resident)
    # An entry of an account the resident holds: their own, or their household's.
    entry = get_object_or_404(
        Entry.objects.select_related("period", "account__household__grid__community"),
        pk=_int_or_404(request.POST.get("entry")),
        account__in=ledger_services.accounts_of(resident),
    )
    reason = request.POST.get("reason", "")[:OBJECTION_REASON_MAX]
    try:
        objections_services.raise_objection(user=acting_user(request), entry=entry, reason=reason)
    except (ValidationError, PermissionDenied) as error:
        return _render_objections(
            request,
            resident,
            errors={entry.pk: getattr(error, "messages", None) or [str(error)]},
            typed={entry.pk: reason},
            status=400,
        )
    messages.success(
        request, _("Your objection was sent: the committee will look into it and decide.")
    )
    return HttpResponseRedirect(reverse("points:me_objections") + f"#entry-{entry.pk}")


def _int_or_404(value: str | None) -> int:
    try:
        return int(value or "")
    except ValueError:
        raise Http404 from None


# ---------------------------------------------------------------------------- public notice


@dataclass(frozen=True)
class NoticeRow:
    name: str
    address: str
    earned: int
    balance: int


@login_required
def notice(request: HttpRequest, code: str, grid_id: int) -> HttpResponse:
    """The quarter's public notice of one grid, printable on A4: masked names, points earned
    in the quarter, balances, and the last day for objections."""
    period = get_object_or_404(Period, code=code)
    grid = _visible_grid(request.user, grid_id, residents_too=True)
    rows = [
        NoticeRow(claims_selectors.notice_name(r), r.household.address, r.earned, r.balance)  # type: ignore[attr-defined]
        for r in claims_selectors.notice_rows(period=period, grid_id=grid.pk)
    ]
    return render(
        request,
        "points/notice.html",
        {
            "period": period,
            "grid": grid,
            "community": grid.community,
            "rows": rows,
            "per_household": claims_selectors.counts_households(grid.community_id),
            "total_earned": sum(r.earned for r in rows),
            "deadline": objections_services.notice_deadline(
                period=period, community=grid.community
            ),
            "printed_on": timezone.localdate(),
            # A resident reading the notice objects from their page (issue 16).
            "objections_url": (
                reverse("points:me_objections") if scope_for(request.user).resident_id else ""
            ),
        },
    )


# ---------------------------------------------------------------------------- cards


def card_url(request: HttpRequest, number: str) -> str:
    return request.build_absolute_uri(reverse("points:card", args=[number]))


def grid_accounts(user: AnyUser, grid: Grid) -> QuerySet[Account]:
    """The accounts a grid's cards and statements are printed for, opening those still missing
    (set-based): one per resident, or where the community counts per household (以户为单位)
    one per household, with its head (holder_name) and members."""
    residents = Resident.objects.filter(household__grid=grid)
    accounts = ledger_selectors.accounts_for(user).filter(household__grid=grid)
    if claims_selectors.counts_households(grid.community_id):
        ledger_services.ensure_household_accounts(
            Household.objects.filter(grid=grid, residents__isnull=False).distinct()
        )
        return (
            accounts.filter(shared_household__isnull=False)
            .select_related("household__head")
            .prefetch_related(
                Prefetch("household__residents", Resident.objects.order_by("id"), "members")
            )
            .order_by("household_id")
        )
    ledger_services.ensure_accounts(residents)
    return (
        accounts.filter(resident__isnull=False)
        .select_related("resident", "household")
        .order_by("household_id", "resident_id")
    )


@login_required
def card_sheet(request: HttpRequest, grid_id: int) -> HttpResponse:
    """A4 sheets of points cards for every resident of a grid, each with its QR code; where the
    community counts per household (以户为单位), one card per household, naming its members."""
    grid = _visible_grid(request.user, grid_id, residents_too=False)
    # Cards are printed for everyone: open the accounts still missing (one statement).
    accounts = grid_accounts(request.user, grid)
    cards = [
        (account, qr_svg(card_url(request, account.card_number), title=account.card_number))
        for account in accounts
    ]
    audit.record_export(
        what=_("Points cards of %(grid)s") % {"grid": grid},
        object_type="grids.grid",
        object_id=grid.pk,
        count=len(cards),
        street_id=grid.community.street_id,
        request=request,
    )
    return render(
        request,
        "points/card_sheet.html",
        {"grid": grid, "community": grid.community, "cards": cards},
    )


@login_required
def card(request: HttpRequest, number: str) -> HttpResponse:
    """What scanning a card shows to a grid worker (or committee, street admin, the resident
    themselves, a member of the household on a household's card): name, balance, honour
    points, points earned this quarter, the last few entries."""
    account: Account | None = (
        ledger_selectors.accounts_for(request.user)
        .select_related("resident", "household__grid__community", "household__head")
        .filter(card_number=number)
        .first()
    )
    if account is None:
        raise Http404
    entries = list(ledger_selectors.account_statement(account=account)[:CARD_RECENT_ENTRIES])
    may_claim = access.may_claim_from_card(request.user)
    claim_add = reverse("admin:points_claim_add")
    members = list(account.household.residents.order_by("id")) if account.is_household else []
    if not may_claim:
        claim_links = []
    elif account.is_household:
        # Claims are made for a member; the points go to the household's account.
        claim_links = [(m.name, f"{claim_add}?resident={m.pk}") for m in members]
    else:
        claim_links = [("", f"{claim_add}?resident={account.resident_id}")]
    return render(
        request,
        "points/card.html",
        {
            "account": account,
            "resident": account.resident,
            "members": members,
            "grid": account.household.grid,
            "earned_this_quarter": ledger_selectors.earned(
                account=account, periods=_this_quarter()
            ),
            "quarter_code": Period.bounds(timezone.localdate())[0],
            "lines": _statement_lines(entries, members=account.is_household),
            "claim_links": claim_links,
        },
    )


# ---------------------------------------------------------------------------- the printed lists
# (?format=html on periods/<code>/purchase-list/ and distribution-list/; rows from exports)


def purchase_html(request: HttpRequest, *, period: Period, community: Community) -> HttpResponse:
    return render(
        request,
        "points/purchase_list.html",
        {
            "period": period,
            "community": community,
            "rows": exports.purchase_rows(period=period, community=community),
            "printed_on": timezone.localdate(),
        },
    )


def distribution_html(request: HttpRequest, *, period: Period, grid: Grid) -> HttpResponse:
    return render(
        request,
        "points/distribution_list.html",
        {
            "period": period,
            "grid": grid,
            "community": grid.community,
            "rows": exports.distribution_rows(period=period, grid=grid),
            "printed_on": timezone.localdate(),
        },
    )
