"""Writes for points: the only code that saves a Claim or an Entry."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import EmptyResultSet, PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import F, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.masking import mask_name
from core.permissions import ensure_in_scope
from core.scope import scope_for
from grids.models import Community, Grid
from points.models import (
    Account,
    CatalogItem,
    Claim,
    ClosedCommunity,
    Closing,
    DistributionLine,
    Entry,
    NoticeLine,
    Objection,
    Order,
    OrderLine,
    Period,
    Policy,
    PurchaseLine,
    RedemptionWindow,
    Rule,
)
from residents.models import Resident

# ----------------------------------------------------------------------------- periods


def period_for(day: dt.date) -> Period:
    """The quarter containing `day`, created the first time it is needed."""
    code, starts_on, ends_on = Period.bounds(day)
    period, _created = Period.objects.get_or_create(
        code=code, defaults={"starts_on": starts_on, "ends_on": ends_on}
    )
    return period


def current_period() -> Period:
    return period_for(timezone.localdate())


# ----------------------------------------------------------------------------- accounts


def card_number_for(resident_id: int) -> str:
    """A resident's card number: 9 digits of the resident id and a Luhn check digit, so a
    mistyped number is caught at the counter."""
    body = f"{resident_id:09d}"
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return body + str((10 - total % 10) % 10)


def ensure_accounts(residents: QuerySet[Resident]) -> int:
    """Open an account (with its card number) for every resident that has none. Set-based."""
    # In id order: two transactions opening overlapping accounts wait for each other's
    # uncommitted rows in the same order, so they cannot deadlock.
    missing = (
        residents.filter(point_account__isnull=True).order_by("id").values_list("id", flat=True)
    )
    accounts = [
        Account(resident_id=rid, card_number=card_number_for(rid)) for rid in missing.iterator()
    ]
    Account.objects.bulk_create(accounts, batch_size=5000, ignore_conflicts=True)
    return len(accounts)


def account_for(resident: Resident) -> Account:
    account, _created = Account.objects.get_or_create(
        resident=resident, defaults={"card_number": card_number_for(resident.pk)}
    )
    return account


# ----------------------------------------------------------------------------- the ledger


class InsufficientPoints(ValidationError):
    pass


@transaction.atomic
def post_entry(
    *,
    account: Account,
    amount: int,
    kind: str,
    key: str,
    source: Any = None,
    created_by: Any = None,
    reverses: Entry | None = None,
    note: str = "",
    allow_negative: bool = True,
    period: Period | None = None,
) -> Entry:
    """Append one entry to an account's ledger and move its balance, atomically.

    The account row is locked for the transaction, so concurrent posts to one account queue up
    and the sequence has no gaps. Idempotent: a second post with the same key returns the first
    entry and changes nothing. With allow_negative=False (debits for redemption) a post that
    would take the balance below zero is refused.
    """
    if amount == 0:
        raise ValidationError({"amount": [_("An entry must move at least one point.")]})
    locked = Account.objects.select_for_update().get(pk=account.pk)
    existing = Entry.objects.filter(account=locked, key=key).first()
    if existing is not None:
        return existing
    balance = locked.balance + amount
    if balance < 0 and not allow_negative:
        raise InsufficientPoints(
            _("Not enough points: the balance is %(balance)d, this needs %(needed)d.")
            % {"balance": locked.balance, "needed": -amount},
            code="insufficient_points",
        )
    seq = locked.last_seq + 1
    entry = Entry.objects.create(
        account=locked,
        seq=seq,
        amount=amount,
        kind=kind,
        period=period or current_period(),
        balance_after=balance,
        reverses=reverses,
        source_type=source._meta.model_name if source is not None else "",
        source_id=source.pk if source is not None else None,
        key=key,
        note=note[:500],
        created_by=created_by,
    )
    Account.objects.filter(pk=locked.pk).update(balance=balance, last_seq=seq)
    account.balance, account.last_seq = balance, seq
    return entry


def debit(
    *,
    account: Account,
    points: int,
    key: str,
    kind: str = Entry.Kind.REDEMPTION,
    source: Any = None,
    created_by: Any = None,
    note: str = "",
    period: Period | None = None,
) -> Entry:
    """Take points off an account (a redemption); never below zero, also under concurrency."""
    if points <= 0:
        raise ValidationError({"points": [_("Debit a positive number of points.")]})
    return post_entry(
        account=account,
        amount=-points,
        kind=kind,
        key=key,
        source=source,
        created_by=created_by,
        note=note,
        allow_negative=False,
        period=period,
    )


@transaction.atomic
def reverse_entry(*, entry: Entry, user: Any, reason: str) -> Entry:
    """Post the opposite of `entry`, pointing at it. An entry is reversed at most once."""
    if not reason.strip():
        raise ValidationError({"reason": [_("Say why the entry is reversed.")]})
    if entry.kind == Entry.Kind.REVERSAL:
        raise ValidationError(_("A reversal cannot itself be reversed; post an adjustment."))
    # Take the account's lock (post_entry takes it again) before looking for a reversal, so
    # that of two concurrent reversals the second sees the first and is refused, rather than
    # being handed the first one back by the idempotency key.
    Account.objects.select_for_update().filter(pk=entry.account_id).get()
    if Entry.objects.filter(reverses=entry).exists():
        raise ValidationError(_("This entry has already been reversed."))
    return post_entry(
        account=entry.account,
        amount=-entry.amount,
        kind=Entry.Kind.REVERSAL,
        key=f"reversal:{entry.pk}",
        source=entry,
        created_by=user,
        reverses=entry,
        note=reason,
    )


# ----------------------------------------------------------------------------- claims


def _community_id(resident: Resident) -> int:
    return (
        Resident.objects.filter(pk=resident.pk)
        .values_list("household__grid__community_id", flat=True)
        .get()
    )


@transaction.atomic
def submit_claim(
    *,
    user: Any,
    resident: Resident,
    rule: Rule,
    points: int | None = None,
    occurred_on: dt.date | None = None,
    note: str = "",
) -> Claim:
    """A grid worker (or committee member) claims points for a resident of their area.

    The points must fit the rule; a claim past the rule's cap per quarter is refused; the same
    resident, rule and day twice is accepted but flagged as a likely duplicate.
    """
    ensure_in_scope(user, resident)
    community_id = _community_id(resident)
    if rule.community_id != community_id or not rule.active:
        raise ValidationError(
            {"rule": [_("This rule is not an active rule of the resident's community.")]}
        )
    occurred_on = occurred_on or timezone.localdate()
    if occurred_on > timezone.localdate():
        raise ValidationError({"occurred_on": [_("The date cannot be in the future.")]})
    if points is None:
        points = rule.points
    if rule.up_to:
        if not 1 <= points <= rule.points:
            raise ValidationError(
                {
                    "points": [
                        _("This rule gives from 1 up to %(max)d points.") % {"max": rule.points}
                    ]
                }
            )
    elif points != rule.points:
        raise ValidationError(
            {"points": [_("This rule gives exactly %(points)d points.") % {"points": rule.points}]}
        )
    claim = _record_claim(
        user=user, resident=resident, rule=rule, points=points, occurred_on=occurred_on, note=note
    )
    assert claim is not None  # refused past the cap, never cut
    return claim


def _record_claim(
    *,
    user: Any,
    resident: Resident,
    rule: Rule,
    points: int,
    occurred_on: dt.date,
    note: str,
    cut_to_cap: bool = False,
) -> Claim | None:
    """Save a claim whose points and rule were checked: the cap per quarter (refused past it,
    or with `cut_to_cap` cut to what is left, None when nothing is) and the duplicate flag."""
    period = period_for(occurred_on)
    # Serialise claims for one resident (the cap check below reads, then writes).
    Account.objects.select_for_update().filter(pk=account_for(resident).pk).get()
    if rule.cap_per_quarter is not None:
        used = (
            Claim.objects.filter(resident=resident, rule=rule, period=period)
            .exclude(status=Claim.Status.REJECTED)
            .aggregate(total=Sum("points"))["total"]
            or 0
        )
        if cut_to_cap and used + points > rule.cap_per_quarter:
            points = rule.cap_per_quarter - used
            if points <= 0:
                return None
        if used + points > rule.cap_per_quarter:
            raise ValidationError(
                {
                    "points": [
                        _(
                            "Past the cap: %(rule)s allows %(cap)d points per resident in "
                            "%(period)s; %(used)d are already claimed, so at most %(left)d more."
                        )
                        % {
                            "rule": rule.name,
                            "cap": rule.cap_per_quarter,
                            "period": period.code,
                            "used": used,
                            "left": max(rule.cap_per_quarter - used, 0),
                        }
                    ]
                }
            )
    duplicate = (
        Claim.objects.filter(resident=resident, rule=rule, occurred_on=occurred_on)
        .exclude(status=Claim.Status.REJECTED)
        .exists()
    )
    return Claim.objects.create(
        resident=resident,
        rule=rule,
        points=points,
        occurred_on=occurred_on,
        period=period,
        note=note,
        likely_duplicate=duplicate,
        submitted_by=user,
    )


@transaction.atomic
def submit_hours_claim(
    *,
    user: Any,
    resident: Resident,
    rule: Rule,
    points: int,
    occurred_on: dt.date,
    note: str = "",
) -> Claim | None:
    """The claim for a volunteer's service hours, made when an activity is marked done
    (volunteers.services.complete_activity): `points` is hours × the rule's points per hour.

    Unlike submit_claim it is not checked against the submitter's area (the team leader who
    completes the activity vouches for the attendance, and has no residents in scope) nor
    against the rule's fixed points; the rule must still be an active rule of the resident's
    community. Past the rule's cap per quarter the claim is cut to what is left, and None is
    returned when nothing is. It then waits for the committee's approval like any claim.
    """
    if rule.community_id != _community_id(resident) or not rule.active:
        raise ValidationError(
            {"rule": [_("This rule is not an active rule of the resident's community.")]}
        )
    if points < 1:
        raise ValidationError({"points": [_("A claim gives at least one point.")]})
    return _record_claim(
        user=user,
        resident=resident,
        rule=rule,
        points=points,
        occurred_on=occurred_on,
        note=note,
        cut_to_cap=True,
    )


def _check_decider(claim: Claim, user: Any) -> None:
    community_id = _community_id(claim.resident)
    if community_id not in scope_for(user).community_ids:
        raise PermissionDenied(
            _("Only a committee member of the resident's community decides claims.")
        )
    if claim.submitted_by_id == user.pk:
        raise PermissionDenied(_("A claim is decided by someone other than its submitter."))


def _lock_submitted(claim: Claim) -> Claim:
    # of=("self",): lock the claim only, not its rule and resident rows (which every other
    # approval under the same rule would then queue behind).
    locked = (
        Claim.objects.select_for_update(of=("self",))
        .select_related("rule", "resident")
        .get(pk=claim.pk)
    )
    if locked.status != Claim.Status.SUBMITTED:
        raise ValidationError(
            _("This claim is already %(status)s.") % {"status": locked.get_status_display()},
            code="claim_decided",
        )
    return locked


@transaction.atomic
def approve_claim(*, claim: Claim, approver: Any) -> Claim:
    """Approve a submitted claim and post its award or deduction, once."""
    claim = _lock_submitted(claim)
    _check_decider(claim, approver)
    claim.status = Claim.Status.APPROVED
    claim.decided_by = approver
    claim.decided_at = timezone.now()
    claim.save(update_fields=["status", "decided_by", "decided_at"])
    sign = claim.rule.sign
    post_entry(
        account=account_for(claim.resident),
        amount=sign * claim.points,
        kind=Entry.Kind.AWARD if sign > 0 else Entry.Kind.DEDUCTION,
        key=f"claim:{claim.pk}",
        source=claim,
        created_by=approver,
    )
    return claim


@transaction.atomic
def reject_claim(*, claim: Claim, approver: Any, reason: str) -> Claim:
    if not (reason or "").strip():
        raise ValidationError({"reason": [_("Say why the claim is rejected.")]})
    claim = _lock_submitted(claim)
    _check_decider(claim, approver)
    claim.status = Claim.Status.REJECTED
    claim.decided_by = approver
    claim.decided_at = timezone.now()
    claim.reject_reason = reason.strip()
    claim.save(update_fields=["status", "decided_by", "decided_at", "reject_reason"])
    return claim


@dataclass(frozen=True)
class BulkDecision:
    decided: int
    skipped: int


def _decidable(claims: QuerySet[Claim], approver: Any) -> QuerySet[Claim]:
    """The submitted claims among `claims` that `approver` may decide."""
    return Claim.objects.filter(
        id__in=claims.values("id"),
        status=Claim.Status.SUBMITTED,
        resident__household__grid__community_id__in=scope_for(approver).community_ids,
    ).exclude(submitted_by=approver)


def _locked_decidable_sql(claims: QuerySet[Claim], approver: Any) -> tuple[str, tuple[Any, ...]]:
    """SQL for the ids of the decidable claims among `claims`, locked in id order.

    On PostgreSQL the rows are locked (FOR UPDATE OF the claim only, ORDER BY id) before any is
    changed. Without the order, an UPDATE locks rows as its plan meets them, and two bulk
    decisions over overlapping claims (an approval and a rejection, say) could each hold a row
    the other waits for: a deadlock. A claim decided by a concurrent transaction is rechecked
    once its lock is released (status = submitted), and left out. SQLite has one writer at a
    time and no FOR UPDATE; there the clause is left out. Raises EmptyResultSet when nothing
    can be decidable (no community in the approver's scope, or `claims` is .none()).
    """
    locked = _decidable(claims, approver).order_by("id").select_for_update(of=("self",))
    return locked.values("id").query.sql_with_params()


def _decide_many(claims: QuerySet[Claim], approver: Any, now: dt.datetime, reason: str = "") -> int:
    """Mark the decidable claims among `claims` approved (no reason) or rejected (a reason)
    by `approver` at `now`, in one UPDATE; the number marked."""
    try:
        locked_sql, locked_params = _locked_decidable_sql(claims, approver)
    except EmptyResultSet:
        return 0
    status = Claim.Status.REJECTED if reason else Claim.Status.APPROVED
    with connection.cursor() as cur:
        cur.execute(
            f"UPDATE {Claim._meta.db_table} SET status = %s, decided_by_id = %s, "
            f"decided_at = %s, reject_reason = %s WHERE status = %s AND id IN ({locked_sql})",
            [
                status,
                approver.pk,
                connection.ops.adapt_datetimefield_value(now),
                reason,
                Claim.Status.SUBMITTED,
                *locked_params,
            ],
        )
        return cur.rowcount


# The entries of a batch of approved claims, `c` (id, resident_id, signed points), posted to
# the accounts `a` (id, resident_id, balance, last_seq) as they stand under their row locks:
# each account's new entries are numbered on from its last sequence number and carry its
# running balance (window functions, ordered by claim id). A claim that somehow has its entry
# already is not posted twice.
_POST_BATCH = """
    INSERT INTO {entry_t} (account_id, seq, amount, kind, period_id, balance_after,
                           source_type, source_id, key, note, created_by_id, created_at)
    SELECT a.id,
           a.last_seq + ROW_NUMBER() OVER w,
           c.signed,
           CASE WHEN c.signed > 0 THEN %(award)s ELSE %(deduction)s END,
           %(period)s,
           a.balance + SUM(c.signed) OVER w,
           'claim', c.id, 'claim:' || c.id, '', %(approver)s, %(now)s
    FROM c JOIN a ON a.resident_id = c.resident_id
    WHERE NOT EXISTS (SELECT 1 FROM {entry_t} e
                      WHERE e.account_id = a.id AND e.key = 'claim:' || c.id)
    WINDOW w AS (PARTITION BY a.id ORDER BY c.id)
"""


def _named(sql: str, params: tuple[Any, ...], prefix: str) -> tuple[str, dict[str, Any]]:
    """Django's `%s` placeholders in `sql` as `%(<prefix>0)s`, `%(<prefix>1)s` …, to embed it
    in a statement with named parameters (a statement takes one style); `%%` stays."""
    numbers = iter(range(len(params)))
    named = re.sub(
        r"%[%s]", lambda m: "%%" if m.group() == "%%" else f"%({prefix}{next(numbers)})s", sql
    )
    return named, {f"{prefix}{i}": value for i, value in enumerate(params)}


def _bulk_approve_in_one_statement(
    locked_sql: str, locked_params: tuple[Any, ...], values: dict[str, Any]
) -> int:
    """PostgreSQL: mark, lock, post and move the balances in one statement, whose
    data-modifying CTEs hand each other exactly the rows they touched.

    approved: the claims marked approved (locked in id order first, see
              _locked_decidable_sql);
    a:        their accounts, locked in id order once every claim is locked (so two bulk
              approvals sharing accounts queue instead of deadlocking); under READ COMMITTED a
              row lock returns the row's latest committed version, so balance and last_seq
              are current;
    posted:   the entries (_POST_BATCH), returning what each added;
    moved:    each account's balance and last_seq moved by the sum and count of its new
              entries (an UPDATE re-reads a row changed since the statement began, so
              `balance + total` starts from the locked value).
    Nothing is read back into Python, and nothing scans the claims already decided.
    """
    claim_t, entry_t, account_t, rule_t = (
        Claim._meta.db_table,
        Entry._meta.db_table,
        Account._meta.db_table,
        Rule._meta.db_table,
    )
    locked_named, names = _named(locked_sql, locked_params, "locked")
    sql = f"""
        WITH approved AS (
            UPDATE {claim_t} SET status = %(approved)s, decided_by_id = %(approver)s,
                                 decided_at = %(now)s, reject_reason = ''
            WHERE status = %(submitted)s AND id IN ({locked_named})
            RETURNING id, resident_id, rule_id, points
        ),
        c AS (
            SELECT ap.id, ap.resident_id,
                   CASE WHEN r.category = %(deduct)s THEN -ap.points ELSE ap.points END AS signed
            FROM approved ap JOIN {rule_t} r ON r.id = ap.rule_id
        ),
        a AS (
            -- GROUP BY reads `approved` to its end before any account row comes out (and is
            -- locked): every claim lock is taken before the first account lock, whatever the
            -- plan, so the two kinds of lock are never interleaved.
            SELECT id, resident_id, balance, last_seq FROM {account_t}
            WHERE resident_id IN (SELECT resident_id FROM approved GROUP BY resident_id)
            ORDER BY id FOR UPDATE
        ),
        posted AS (
            {_POST_BATCH.format(entry_t=entry_t)}
            RETURNING account_id, amount
        ),
        moved AS (
            UPDATE {account_t} acc SET balance = acc.balance + t.total,
                                       last_seq = acc.last_seq + t.n
            FROM (SELECT account_id, SUM(amount) AS total, COUNT(*) AS n
                  FROM posted GROUP BY account_id) t
            WHERE acc.id = t.account_id
        )
        -- Data-modifying CTEs run to completion whether read or not (moved is not).
        SELECT COUNT(*) FROM approved
    """
    with connection.cursor() as cur:
        cur.execute(sql, {**values, **names})
        (decided,) = cur.fetchone()
    return decided


def _bulk_approve_step_by_step(
    claims: QuerySet[Claim], approver: Any, now: dt.datetime, values: dict[str, Any]
) -> int:
    """SQLite (one writer at a time, no data-modifying CTEs): the same in a few statements.

    1. mark the decidable claims approved (the batch: this approver, this instant);
    2. open accounts that are missing; 3. post the entries (_POST_BATCH) from the batch;
    4. set each account's balance and last sequence from its newest entry.
    """
    decided = _decide_many(claims, approver, now)
    if decided == 0:
        return 0
    batch = Claim.objects.filter(status=Claim.Status.APPROVED, decided_by=approver, decided_at=now)
    batch_residents = batch.values("resident_id")
    ensure_accounts(Resident.objects.filter(id__in=batch_residents))
    batch_sql, batch_params = batch.values("id").query.sql_with_params()
    claim_t, entry_t, account_t, rule_t = (
        Claim._meta.db_table,
        Entry._meta.db_table,
        Account._meta.db_table,
        Rule._meta.db_table,
    )
    batch_named, names = _named(batch_sql, batch_params, "batch")
    with connection.cursor() as cur:
        cur.execute(
            f"""
            WITH c AS (
                SELECT cl.id, cl.resident_id,
                       CASE WHEN r.category = %(deduct)s THEN -cl.points ELSE cl.points END
                           AS signed
                FROM {claim_t} cl JOIN {rule_t} r ON r.id = cl.rule_id
                WHERE cl.id IN ({batch_named})
            ),
            a AS (
                SELECT id, resident_id, balance, last_seq FROM {account_t}
                WHERE resident_id IN (SELECT resident_id FROM c)
            )
            {_POST_BATCH.format(entry_t=entry_t)}
            """,
            {**values, **names},
        )
    newest = Entry.objects.filter(account=OuterRef("pk")).order_by("-seq")
    Account.objects.filter(resident_id__in=batch_residents).update(
        balance=Subquery(newest.values("balance_after")[:1]),
        last_seq=Subquery(newest.values("seq")[:1]),
    )
    return decided


@transaction.atomic
def bulk_approve_claims(*, claims: QuerySet[Claim], approver: Any) -> BulkDecision:
    """Approve many claims in a fixed handful of SQL statements, whatever their number.

    The decidable claims (submitted, of the approver's communities, not their own) are marked
    approved, and each posts its award or deduction: every account's new entries are numbered
    on from its last sequence number with a running balance, and the account's balance and
    last_seq move with them, all in this transaction, under row locks taken in id order
    (claims, then accounts). A claim approved by someone else in the meantime is skipped, and
    the entry key 'claim:<id>' is never posted twice. On PostgreSQL the whole batch is one
    statement (_bulk_approve_in_one_statement); on SQLite a few (_bulk_approve_step_by_step).
    """
    requested = claims.count()
    try:
        locked_sql, locked_params = _locked_decidable_sql(claims, approver)
    except EmptyResultSet:
        return BulkDecision(decided=0, skipped=requested)
    now = timezone.now()
    values = {
        "approved": Claim.Status.APPROVED,
        "submitted": Claim.Status.SUBMITTED,
        "deduct": Rule.Category.DEDUCTION,
        "award": Entry.Kind.AWARD,
        "deduction": Entry.Kind.DEDUCTION,
        "period": current_period().pk,
        "approver": approver.pk,
        # Raw SQL gets the timestamp as the ORM writes it (SQLite keeps naive UTC text), so
        # the ORM finds the batch by it (step by step) and reads it back unchanged.
        "now": connection.ops.adapt_datetimefield_value(now),
    }
    if connection.vendor == "postgresql":
        # Accounts for residents who have none (claims made through submit_claim always have
        # one): the statement below posts only to accounts that exist when it starts.
        ensure_accounts(
            Resident.objects.filter(
                id__in=_decidable(claims, approver).values("resident_id"),
                point_account__isnull=True,
            )
        )
        decided = _bulk_approve_in_one_statement(locked_sql, locked_params, values)
    else:
        decided = _bulk_approve_step_by_step(claims, approver, now, values)
    return BulkDecision(decided=decided, skipped=requested - decided)


@transaction.atomic
def bulk_reject_claims(*, claims: QuerySet[Claim], approver: Any, reason: str) -> BulkDecision:
    if not (reason or "").strip():
        raise ValidationError({"reason": [_("Say why the claims are rejected.")]})
    requested = claims.count()
    decided = _decide_many(claims, approver, timezone.now(), reason=reason.strip())
    return BulkDecision(decided=decided, skipped=requested - decided)


# ----------------------------------------------------------------------------- rule books


@transaction.atomic
def copy_default_rules(*, community: Community) -> int:
    """Give a community its street's default rule book (积分细则), skipping codes it has."""
    have = set(Rule.objects.filter(community=community).values_list("code", flat=True))
    copies = [
        Rule(
            community=community,
            code=rule.code,
            name=rule.name,
            category=rule.category,
            points=rule.points,
            up_to=rule.up_to,
            cap_per_quarter=rule.cap_per_quarter,
            active=rule.active,
        )
        for rule in Rule.objects.filter(street_id=community.street_id)
        if rule.code not in have
    ]
    Rule.objects.bulk_create(copies)
    return len(copies)


def policy_for(community: Community) -> Policy:
    policy, _created = Policy.objects.get_or_create(community=community)
    return policy


# ----------------------------------------------------------------------------- objections


def objection_deadline(entry: Entry) -> dt.date:
    """The last day a resident may object to `entry`: its quarter's end plus the community's
    objection window (the public notice, 季度公示, is posted when the quarter ends)."""
    community = entry.account.resident.household.grid.community
    return entry.period.ends_on + dt.timedelta(days=policy_for(community).objection_days)


def notice_deadline(*, period: Period, community: Community) -> dt.date:
    """The objection deadline printed on a quarter's public notice: as objection_deadline, but
    a read only (the policy's default window when the community has no policy row yet)."""
    days = (
        Policy.objects.filter(community=community).values_list("objection_days", flat=True).first()
    )
    if days is None:
        days = Policy._meta.get_field("objection_days").get_default()
    return period.ends_on + dt.timedelta(days=days)


@transaction.atomic
def raise_objection(*, user: Any, entry: Entry, reason: str) -> Objection:
    """A resident objects (异议) to an entry of their own account, inside the window."""
    if scope_for(user).resident_id != entry.account.resident_id:
        raise PermissionDenied(_("A resident may object only to entries of their own account."))
    if not (reason or "").strip():
        raise ValidationError({"reason": [_("Say what is wrong with this entry.")]})
    deadline = objection_deadline(entry)
    if timezone.localdate() > deadline:
        raise ValidationError(
            _("The objection window for %(period)s closed on %(date)s.")
            % {"period": entry.period.code, "date": deadline.isoformat()}
        )
    if Objection.objects.filter(entry=entry, status=Objection.Status.OPEN).exists():
        raise ValidationError(_("An objection to this entry is already waiting for a decision."))
    return Objection.objects.create(entry=entry, raised_by=user, reason=reason.strip())


def _lock_open_objection(objection: Objection, user: Any) -> Objection:
    locked = (
        Objection.objects.select_for_update(of=("self",))
        .select_related("entry__account")
        .get(pk=objection.pk)
    )
    if locked.status != Objection.Status.OPEN:
        raise ValidationError(_("This objection has already been decided."))
    resident = locked.entry.account.resident
    if _community_id(resident) not in scope_for(user).community_ids:
        raise PermissionDenied(_("Only the committee of the resident's community decides this."))
    return locked


@transaction.atomic
def uphold_objection(
    *, objection: Objection, user: Any, note: str, amount: int | None = None
) -> Objection:
    """Uphold an objection: reverse the entry, or (with `amount`) post an adjustment."""
    if not (note or "").strip():
        raise ValidationError({"note": [_("Say what was decided.")]})
    objection = _lock_open_objection(objection, user)
    if amount is None:
        correction = reverse_entry(entry=objection.entry, user=user, reason=note)
    else:
        correction = post_entry(
            account=objection.entry.account,
            amount=amount,
            kind=Entry.Kind.ADJUSTMENT,
            key=f"objection:{objection.pk}",
            source=objection,
            created_by=user,
            note=note,
        )
    objection.status = Objection.Status.UPHELD
    objection.correction = correction
    objection.decided_by, objection.decided_at = user, timezone.now()
    objection.decision_note = note.strip()
    objection.save(
        update_fields=["status", "correction", "decided_by", "decided_at", "decision_note"]
    )
    return objection


@transaction.atomic
def dismiss_objection(*, objection: Objection, user: Any, note: str) -> Objection:
    if not (note or "").strip():
        raise ValidationError({"note": [_("Say why the objection is dismissed.")]})
    objection = _lock_open_objection(objection, user)
    objection.status = Objection.Status.DISMISSED
    objection.decided_by, objection.decided_at = user, timezone.now()
    objection.decision_note = note.strip()
    objection.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    return objection


# ----------------------------------------------------------------------------- checking


@dataclass(frozen=True)
class LedgerReport:
    accounts: int
    entries: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_ledger(*, limit: int = 100) -> LedgerReport:
    """Check every balance against its entries and every chain, in one consistent snapshot.

    An account's balance must equal the sum of its entries and its last_seq their count; within
    an account, sequence numbers run 1, 2, 3 … without gaps, and each entry's balance_after is
    the previous one plus its amount; a reversal undoes exactly the entry it points at.
    Everything is one SQL statement, so it reads one snapshot on any database and isolation
    level, even while postings go on.
    """
    entry_t, account_t = Entry._meta.db_table, Account._meta.db_table
    sql = f"""
        SELECT 'totals', (SELECT COUNT(*) FROM {account_t}), (SELECT COUNT(*) FROM {entry_t}),
               0, 0, 0
        UNION ALL
        SELECT * FROM (
            SELECT 'balance', a.id, a.balance, a.last_seq, COALESCE(s.total, 0), COALESCE(s.n, 0)
            FROM {account_t} a
            LEFT JOIN (SELECT account_id, SUM(amount) AS total, COUNT(*) AS n
                       FROM {entry_t} GROUP BY account_id) s ON s.account_id = a.id
            WHERE a.balance <> COALESCE(s.total, 0) OR a.last_seq <> COALESCE(s.n, 0)
            LIMIT %s) balances
        UNION ALL
        SELECT * FROM (
            SELECT 'chain', account_id, seq, rn, amount, balance_after - prev FROM (
                SELECT account_id, seq, amount, balance_after,
                       ROW_NUMBER() OVER w AS rn,
                       COALESCE(LAG(balance_after) OVER w, 0) AS prev
                FROM {entry_t}
                WINDOW w AS (PARTITION BY account_id ORDER BY seq)
            ) chain
            WHERE seq <> rn OR prev + amount <> balance_after
            LIMIT %s) chains
        UNION ALL
        SELECT * FROM (
            SELECT 'reversal', r.id, o.id, r.amount, o.amount, 0
            FROM {entry_t} r JOIN {entry_t} o ON o.id = r.reverses_id
            WHERE r.amount <> -o.amount OR r.account_id <> o.account_id
            LIMIT %s) reversals
    """
    accounts = entries = 0
    problems: list[str] = []
    with connection.cursor() as cur:
        cur.execute(sql, [limit, limit, limit])
        for kind, a, b, c, d, e in cur.fetchall():
            if kind == "totals":
                accounts, entries = a, b
            elif kind == "balance":
                problems.append(
                    f"account {a}: balance {b} but its entries sum to {d}; "
                    f"last_seq {c} but it has {e} entries"
                )
            elif kind == "chain":
                problems.append(
                    f"account {a}: entry #{b} stands at position {c}; "
                    f"its balance moved by {e} for an amount of {d}"
                )
            else:
                problems.append(f"entry {a} ({c:+d}) does not exactly undo entry {b} ({d:+d})")
    return LedgerReport(accounts=accounts, entries=entries, problems=problems)


# ----------------------------------------------------------------------------- redemption
#
# The quarterly redemption (积分云超市, no shelves): after a quarter ends, each community opens a
# redemption window; residents (or their grid worker) order goods from the community's catalog
# and the points are debited at once; cancelling inside the window refunds them. After the
# window the committee buys what was ordered and hands it out; what is not collected by the
# collection deadline is refunded by a beat task. The refund of an order, by cancellation or
# for not being collected, always has the key 'order-refund:<id>': never twice.


def _open_window(
    *,
    period: Period,
    community: Community,
    opens_on: dt.date,
    closes_on: dt.date,
    user: Any,
) -> RedemptionWindow:
    if closes_on < opens_on:
        raise ValidationError({"closes_on": [_("The window cannot close before it opens.")]})
    period = Period.objects.select_for_update().get(pk=period.pk)
    if period.status in (Period.Status.CLOSING, Period.Status.CLOSED):
        raise ValidationError(
            _("The quarter %(period)s is %(status)s: its redemption window cannot be opened.")
            % {"period": period.code, "status": period.get_status_display()}
        )
    window, _created = RedemptionWindow.objects.update_or_create(
        period=period,
        community=community,
        defaults={"opens_on": opens_on, "closes_on": closes_on, "opened_by": user},
    )
    if period.status == Period.Status.OPEN:
        period.status = Period.Status.REDEEMING
        period.save(update_fields=["status"])
    return window


@transaction.atomic
def open_redemption(
    *,
    period: Period,
    community: Community,
    opens_on: dt.date,
    closes_on: dt.date,
    user: Any,
) -> RedemptionWindow:
    """A street admin opens (or moves the dates of) a community's redemption window for a
    quarter; the quarter goes from open to redeeming. Refused once the quarter is closing."""
    scope = scope_for(user)
    if not (scope.everything or community.street_id in scope.street_ids):
        raise PermissionDenied(
            _("Only an admin of the community's street opens its redemption window.")
        )
    return _open_window(
        period=period, community=community, opens_on=opens_on, closes_on=closes_on, user=user
    )


def open_due_redemptions(*, today: dt.date | None = None) -> int:
    """For every community whose policy asks for it, open the window of the quarter that just
    ended: from the day after its end, for the policy's redemption_days. Once: a community that
    has a window for that quarter (opened by hand or earlier) is left alone, and so is a window
    whose days have already passed (beat was down). The number of windows opened."""
    today = today or timezone.localdate()
    _code, this_start, _end = Period.bounds(today)
    ended = period_for(this_start - dt.timedelta(days=1))
    opens_on = ended.ends_on + dt.timedelta(days=1)
    opened = 0
    policies = Policy.objects.filter(auto_open_redemption=True).select_related("community")
    for policy in policies:
        closes_on = opens_on + dt.timedelta(days=max(policy.redemption_days, 1) - 1)
        if today > closes_on:
            continue
        if RedemptionWindow.objects.filter(period=ended, community=policy.community).exists():
            continue
        with transaction.atomic():
            ended.refresh_from_db(fields=["status"])
            if ended.status in (Period.Status.CLOSING, Period.Status.CLOSED):
                break
            _open_window(
                period=ended,
                community=policy.community,
                opens_on=opens_on,
                closes_on=closes_on,
                user=None,
            )
            opened += 1
    return opened


def _can_order_for(user: Any, resident: Resident) -> None:
    """The resident themselves, a grid worker of the resident's grid, or a committee member
    of the resident's community (or the superuser)."""
    scope = scope_for(user)
    if scope.everything or scope.resident_id == resident.pk:
        return
    grid_id, community_id = (
        Resident.objects.filter(pk=resident.pk)
        .values_list("household__grid_id", "household__grid__community_id")
        .get()
    )
    if grid_id in scope.grid_ids or community_id in scope.community_ids:
        return
    ensure_in_scope(user, resident)  # 403 naming the resident's id, not their name
    raise PermissionDenied(
        _("Only the resident, their grid worker or their committee handles their orders.")
    )


def _window_refusal(window: RedemptionWindow | None) -> ValidationError:
    if window is None:
        return ValidationError(
            _("The redemption window of your community is not open."), code="window_closed"
        )
    return ValidationError(
        _("The redemption window for %(period)s is open from %(opens)s to %(closes)s.")
        % {
            "period": window.period.code,
            "opens": window.opens_on.isoformat(),
            "closes": window.closes_on.isoformat(),
        },
        code="window_closed",
    )


def open_window_for(
    *, community_id: int, today: dt.date, period: Period | None = None
) -> RedemptionWindow:
    """The community's window open on `today` (of `period`, if given); refused with the
    window's dates when there is one but it is not open."""
    windows = RedemptionWindow.objects.filter(community_id=community_id).select_related("period")
    if period is not None:
        windows = windows.filter(period=period)
    window = windows.filter(opens_on__lte=today, closes_on__gte=today).first()
    if window is None:
        raise _window_refusal(windows.order_by("-opens_on").first())
    if window.period.status in (Period.Status.CLOSING, Period.Status.CLOSED):
        # The close has started: the orders are being frozen into the purchase list.
        raise ValidationError(
            _("The quarter %(period)s is being closed: orders can no longer change.")
            % {"period": window.period.code},
            code="window_closed",
        )
    return window


def _merge_lines(lines: list[tuple[CatalogItem, int]]) -> dict[int, tuple[CatalogItem, int]]:
    merged: dict[int, tuple[CatalogItem, int]] = {}
    for item, quantity in lines:
        if quantity <= 0:
            raise ValidationError({"lines": [_("Each quantity must be at least 1.")]})
        before = merged.get(item.pk, (item, 0))[1]
        merged[item.pk] = (item, before + quantity)
    return merged


@transaction.atomic
def place_order(
    *,
    user: Any,
    resident: Resident,
    lines: list[tuple[CatalogItem, int]],
    period: Period | None = None,
) -> Order:
    """Order goods from the community's catalog while its redemption window is open, and debit
    the points at once (key 'order:<id>'). Refused, with nothing written, when an item is not
    an active item of the resident's community, when a limit per quarter would be passed, or
    when the balance does not cover the order."""
    _can_order_for(user, resident)
    if not lines:
        raise ValidationError({"lines": [_("Order at least one item.")]})
    community_id = _community_id(resident)
    window = open_window_for(community_id=community_id, today=timezone.localdate(), period=period)
    period = window.period
    merged = _merge_lines(lines)
    # The account's lock serialises one resident's orders: the limits and the balance below are
    # read under it, so two concurrent orders cannot both pass a limit or overdraw.
    account = Account.objects.select_for_update().get(pk=account_for(resident).pk)
    items = {
        i.pk: i for i in CatalogItem.objects.filter(pk__in=merged.keys())
    }  # fresh: points and active as they are now
    for item_id, (_given, quantity) in merged.items():
        item = items[item_id]
        if item.community_id != community_id or not item.active:
            raise ValidationError(
                {
                    "lines": [
                        _("%(item)s is not an active item of the resident's community.")
                        % {"item": item.name}
                    ]
                }
            )
        if item.limit_per_quarter is not None:
            ordered = (
                OrderLine.objects.filter(item=item, order__resident=resident, order__period=period)
                .exclude(order__status__in=[Order.Status.CANCELLED, Order.Status.REFUNDED])
                .aggregate(total=Sum("quantity"))["total"]
                or 0
            )
            if ordered + quantity > item.limit_per_quarter:
                raise ValidationError(
                    {
                        "lines": [
                            _(
                                "%(item)s is limited to %(limit)d per resident in %(period)s; "
                                "%(ordered)d already ordered, so at most %(left)d more."
                            )
                            % {
                                "item": item.name,
                                "limit": item.limit_per_quarter,
                                "period": period.code,
                                "ordered": ordered,
                                "left": max(item.limit_per_quarter - ordered, 0),
                            }
                        ]
                    },
                )
    total = sum(items[i].points * q for i, (_g, q) in merged.items())
    order = Order.objects.create(
        resident=resident,
        community_id=community_id,
        period=period,
        total_points=total,
        placed_by=user,
    )
    OrderLine.objects.bulk_create(
        [
            OrderLine(order=order, item=items[i], quantity=q, points=items[i].points)
            for i, (_g, q) in merged.items()
        ]
    )
    # InsufficientPoints (a ValidationError) rolls the order and its lines back with it.
    debit(
        account=account,
        points=total,
        key=f"order:{order.pk}",
        kind=Entry.Kind.REDEMPTION,
        source=order,
        created_by=user,
        period=period,
    )
    return order


def _lock_order(order: Order) -> Order:
    return Order.objects.select_for_update(of=("self",)).select_related("period").get(pk=order.pk)


def _refund(order: Order, user: Any, note: str) -> Entry:
    return post_entry(
        account=account_for(order.resident),
        amount=order.total_points,
        kind=Entry.Kind.REFUND,
        key=f"order-refund:{order.pk}",
        source=order,
        created_by=user,
        note=note,
        period=order.period,
    )


@transaction.atomic
def cancel_order(*, user: Any, order: Order) -> Order:
    """Cancel a placed order inside the window and refund its points, once."""
    _can_order_for(user, order.resident)
    order = _lock_order(order)
    if order.status == Order.Status.CANCELLED:
        raise ValidationError(_("This order is already cancelled."), code="already_cancelled")
    if order.status != Order.Status.PLACED:
        raise ValidationError(
            _("This order is %(status)s and can no longer be cancelled.")
            % {"status": order.get_status_display()}
        )
    if order.period.status in (Period.Status.CLOSING, Period.Status.CLOSED):
        raise ValidationError(
            _("The quarter %(period)s is being closed: orders can no longer change.")
            % {"period": order.period.code}
        )
    window = RedemptionWindow.objects.filter(
        period_id=order.period_id, community_id=order.community_id
    ).first()
    if window is None or not window.is_open_on(timezone.localdate()):
        raise ValidationError(
            _("Orders can be cancelled only while the redemption window is open.")
        )
    order.status = Order.Status.CANCELLED
    order.cancelled_at = timezone.now()
    order.save(update_fields=["status", "cancelled_at"])
    _refund(order, user, note=gettext_noop("order cancelled"))
    return order


@transaction.atomic
def hand_over(*, user: Any, order: Order) -> Order:
    """A grid worker of the order's grid (or the committee) records that the goods were
    handed over. Allowed for a frozen order (frozen by the close of the quarter) and, until the
    close job exists, for a placed order once its window has closed."""
    scope = scope_for(user)
    grid_id = (
        Resident.objects.filter(pk=order.resident_id).values_list("household__grid_id", flat=True)
    ).get()
    if not (
        scope.everything or grid_id in scope.grid_ids or order.community_id in scope.community_ids
    ):
        raise PermissionDenied(
            _("Only a grid worker of the resident's grid or the committee hands orders over.")
        )
    order = _lock_order(order)
    if order.status == Order.Status.HANDED_OVER:
        raise ValidationError(_("This order has already been handed over."))
    window = RedemptionWindow.objects.filter(
        period_id=order.period_id, community_id=order.community_id
    ).first()
    window_closed = window is None or timezone.localdate() > window.closes_on
    if not (
        order.status == Order.Status.FROZEN
        or (order.status == Order.Status.PLACED and window_closed)
    ):
        if order.status == Order.Status.PLACED:
            raise ValidationError(
                _("Orders are handed over after the redemption window closes (%(date)s).")
                % {"date": window.closes_on.isoformat()}
            )
        raise ValidationError(
            _("This order is %(status)s and cannot be handed over.")
            % {"status": order.get_status_display()}
        )
    order.status = Order.Status.HANDED_OVER
    order.handed_over_at = timezone.now()
    order.handed_over_by = user
    order.save(update_fields=["status", "handed_over_at", "handed_over_by"])
    return order


def collection_deadline(window: RedemptionWindow) -> dt.date:
    """The last day a community's orders of a quarter can be collected."""
    days = (
        Policy.objects.filter(community_id=window.community_id)
        .values_list("collection_days", flat=True)
        .first()
    )
    if days is None:
        days = Policy._meta.get_field("collection_days").get_default()
    return window.closes_on + dt.timedelta(days=days)


def _refund_window(window: RedemptionWindow, now: dt.datetime) -> int:
    """Refund a window's uncollected orders, set-based, in the caller's transaction.

    1. (PostgreSQL) lock the accounts of the residents with uncollected orders, in id order
       (as the bulk approval and post_expiry do, so concurrent writers queue, never deadlock);
    2. one UPDATE marks the orders refunded, all with the same `refunded_at` (this run);
    3. one INSERT … SELECT posts their refund entries (key 'order-refund:<id>', never twice),
       numbered on from each account's last sequence number with a running balance;
    4. one UPDATE moves each of those accounts to its newest entry.
    The number of orders refunded."""
    order_t, entry_t, account_t = (
        Order._meta.db_table,
        Entry._meta.db_table,
        Account._meta.db_table,
    )
    uncollected = Order.objects.filter(
        period_id=window.period_id,
        community_id=window.community_id,
        status__in=[Order.Status.FROZEN, Order.Status.PLACED],
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute(
                f"""SELECT COUNT(*) FROM (
                        SELECT a.id FROM {account_t} a
                        WHERE a.resident_id IN (
                            SELECT o.resident_id FROM {order_t} o
                            WHERE o.period_id = %s AND o.community_id = %s
                              AND o.status IN (%s, %s))
                        ORDER BY a.id FOR UPDATE
                    ) locked""",
                [
                    window.period_id,
                    window.community_id,
                    Order.Status.FROZEN,
                    Order.Status.PLACED,
                ],
            )
    # Under READ COMMITTED an order handed over meanwhile is re-checked and left alone.
    refunded = uncollected.update(status=Order.Status.REFUNDED, refunded_at=now)
    if refunded == 0:
        return 0
    with connection.cursor() as cur:
        cur.execute(
            f"""
            INSERT INTO {entry_t} (account_id, seq, amount, kind, period_id, balance_after,
                                   source_type, source_id, key, note, created_by_id,
                                   created_at)
            SELECT a.id,
                   a.last_seq + ROW_NUMBER() OVER w,
                   o.total_points,
                   %s,
                   o.period_id,
                   a.balance + SUM(o.total_points) OVER w,
                   'order', o.id, 'order-refund:' || o.id, %s, NULL, %s
            FROM {order_t} o JOIN {account_t} a ON a.resident_id = o.resident_id
            WHERE o.period_id = %s AND o.community_id = %s AND o.status = %s
              AND o.refunded_at = %s
              AND NOT EXISTS (SELECT 1 FROM {entry_t} e
                              WHERE e.account_id = a.id AND e.key = 'order-refund:' || o.id)
            WINDOW w AS (PARTITION BY a.id ORDER BY o.id)
            """,
            [
                Entry.Kind.REFUND,
                gettext_noop("not collected by the deadline"),
                connection.ops.adapt_datetimefield_value(now),
                window.period_id,
                window.community_id,
                Order.Status.REFUNDED,
                connection.ops.adapt_datetimefield_value(now),
            ],
        )
    this_run = Order.objects.filter(
        period_id=window.period_id,
        community_id=window.community_id,
        status=Order.Status.REFUNDED,
        refunded_at=now,
    )
    newest = Entry.objects.filter(account=OuterRef("pk")).order_by("-seq")
    Account.objects.filter(resident_id__in=this_run.values("resident_id")).update(
        balance=Subquery(newest.values("balance_after")[:1]),
        last_seq=Subquery(newest.values("seq")[:1]),
    )
    return refunded


def refund_uncollected(*, today: dt.date | None = None) -> int:
    """After a community's collection deadline, refund every order (frozen or placed) that was
    not handed over: status refunded and a refund entry. Set-based: a fixed handful of
    statements per window, whatever its number of orders (_refund_window), one transaction per
    window; the key 'order-refund:<id>' makes a second run (or a cancelled order) post nothing.
    The number of orders refunded."""
    today = today or timezone.localdate()
    refunded = 0
    for window in RedemptionWindow.objects.all().iterator():
        if today <= collection_deadline(window):
            continue
        with transaction.atomic():
            refunded += _refund_window(window, timezone.now())
    return refunded


# ----------------------------------------------------------------------------- the close


def _closes_today_or_later(period: Period, today: dt.date) -> RedemptionWindow | None:
    return (
        RedemptionWindow.objects.filter(period=period, closes_on__gte=today)
        .select_related("community")
        .order_by("closes_on")
        .first()
    )


@transaction.atomic
def start_close(*, period: Period, user: Any) -> Closing:
    """A street admin (or the superuser) starts the close of a quarter: the quarter goes to
    closing and the close job (tasks.close_period) is queued once this commits. Refused while
    a redemption window of the quarter is still open (today or later), so no order can arrive
    during the close. Idempotent: a second call returns the close already started (and queues
    the job again, which finishes a close interrupted by a lost worker and is otherwise a
    no-op)."""
    scope = scope_for(user)
    if not (scope.everything or scope.street_ids):
        raise PermissionDenied(_("Only a street admin closes a quarter."))
    period = Period.objects.select_for_update().get(pk=period.pk)
    closing = Closing.objects.filter(period=period).first()
    if closing is None:
        if period.status not in (Period.Status.OPEN, Period.Status.REDEEMING):
            raise ValidationError(
                _("The quarter %(period)s is %(status)s and cannot be closed.")
                % {"period": period.code, "status": period.get_status_display()},
                code="cannot_close",
            )
        window = _closes_today_or_later(period, timezone.localdate())
        if window is not None:
            raise ValidationError(
                _(
                    "The redemption window of %(community)s for %(period)s is open until "
                    "%(closes)s: the quarter can be closed after that day."
                )
                % {
                    "community": window.community.name,
                    "period": period.code,
                    "closes": window.closes_on.isoformat(),
                },
                code="window_open",
            )
        period.status = Period.Status.CLOSING
        period.save(update_fields=["status"])
        closing = Closing.objects.create(
            period=period,
            started_by=user,
            communities_total=communities_to_close(period).count(),
        )
    if closing.status == Closing.Status.RUNNING:
        from points import tasks  # tasks imports this module

        period_id = period.pk
        transaction.on_commit(lambda: tasks.close_period.delay(period_id))
    return closing


def communities_to_close(period: Period) -> QuerySet[Community]:
    """The communities the close of `period` goes through: those with orders in the quarter
    or with residents that have an account."""
    with_orders = Order.objects.filter(period=period).values("community_id")
    with_accounts = Account.objects.values("resident__household__grid__community_id")
    return Community.objects.filter(Q(pk__in=with_orders) | Q(pk__in=with_accounts)).order_by("id")


def _recent_period_ids(period: Period, quarters: int) -> list[int]:
    """The ids of the `quarters` quarters up to and including `period`."""
    months = period.starts_on.year * 12 + period.starts_on.month - 1 - 3 * (quarters - 1)
    earliest = dt.date(months // 12, months % 12 + 1, 1)
    return list(
        Period.objects.filter(starts_on__gte=earliest, starts_on__lte=period.starts_on).values_list(
            "pk", flat=True
        )
    )


def _community_accounts_sql(community_id: int) -> tuple[str, list[Any]]:
    from residents.models import Household

    account_t, resident_t, household_t, grid_t = (
        Account._meta.db_table,
        Resident._meta.db_table,
        Household._meta.db_table,
        Grid._meta.db_table,
    )
    return (
        f"""SELECT a.id, a.balance, a.last_seq FROM {account_t} a
            JOIN {resident_t} r ON r.id = a.resident_id
            JOIN {household_t} h ON h.id = r.household_id
            JOIN {grid_t} g ON g.id = h.grid_id
            WHERE g.community_id = %s""",
        [community_id],
    )


def post_expiry(*, period: Period, community: Community, quarters: int) -> int:
    """Expire, for every account of the community, the points it holds beyond those earned
    in the last `quarters` quarters: max(0, balance - positive entries of those quarters), one
    entry each (kind expiry, key 'expiry:<quarter>'), set-based like the bulk approval: the
    accounts are locked in id order (PostgreSQL), the entries numbered on from each account's
    last sequence number, then the accounts moved to their new entry. A second run posts
    nothing (the key). Call inside a transaction. The number of entries posted."""
    entry_t, account_t = Entry._meta.db_table, Account._meta.db_table
    key = f"expiry:{period.code}"
    accounts_sql, accounts_params = _community_accounts_sql(community.pk)
    recent = _recent_period_ids(period, quarters)
    recent_in = ", ".join(["%s"] * len(recent))
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            # Lock the community's accounts in id order (see _bulk_approve_in_one_statement).
            cur.execute(
                f"SELECT COUNT(*) FROM ({accounts_sql} ORDER BY a.id FOR UPDATE OF a) locked",
                accounts_params,
            )
        cur.execute(
            f"""
            INSERT INTO {entry_t} (account_id, seq, amount, kind, period_id, balance_after,
                                   source_type, source_id, key, note, created_by_id,
                                   created_at)
            SELECT x.id, x.last_seq + 1, -x.expired, %s, %s, x.balance - x.expired,
                   'period', %s, %s, '', NULL, %s
            FROM (
                SELECT a.id, a.balance, a.last_seq,
                       a.balance - COALESCE((SELECT SUM(e.amount) FROM {entry_t} e
                                             WHERE e.account_id = a.id AND e.amount > 0
                                               AND e.period_id IN ({recent_in})), 0) AS expired
                FROM ({accounts_sql}) a
            ) x
            WHERE x.expired > 0
              AND NOT EXISTS (SELECT 1 FROM {entry_t} e
                              WHERE e.account_id = x.id AND e.key = %s)
            """,
            [
                Entry.Kind.EXPIRY,
                period.pk,
                period.pk,
                key,
                connection.ops.adapt_datetimefield_value(timezone.now()),
                *recent,
                *accounts_params,
                key,
            ],
        )
        posted = cur.rowcount
        if posted:
            cur.execute(
                f"""
                UPDATE {account_t} SET
                    balance = (SELECT e.balance_after FROM {entry_t} e
                               WHERE e.account_id = {account_t}.id AND e.key = %s),
                    last_seq = last_seq + 1
                WHERE id IN (SELECT a.id FROM ({accounts_sql}) a)
                  AND EXISTS (SELECT 1 FROM {entry_t} e
                              WHERE e.account_id = {account_t}.id AND e.key = %s
                                AND e.seq = {account_t}.last_seq + 1)
                """,
                [key, *accounts_params, key],
            )
    return posted


def _items_text(lines: list[tuple[str, int]]) -> str:
    return "、".join(f"{name}×{quantity}" for name, quantity in lines)


def _rebuild_lists(period: Period, community: Community) -> None:
    PurchaseLine.objects.filter(period=period, community=community).delete()
    bought = (
        OrderLine.objects.filter(
            order__period=period,
            order__community=community,
            order__status__in=[Order.Status.FROZEN, Order.Status.HANDED_OVER],
        )
        .order_by()
        .values("item_id")
        .annotate(total_quantity=Sum("quantity"), total_points=Sum(F("quantity") * F("points")))
        .order_by("item_id")
    )
    PurchaseLine.objects.bulk_create(
        PurchaseLine(
            period=period,
            community=community,
            item_id=row["item_id"],
            quantity=row["total_quantity"],
            points_total=row["total_points"],
        )
        for row in bought
    )
    DistributionLine.objects.filter(period=period, community=community).delete()
    if connection.vendor == "postgresql":
        _insert_distribution_lines(period, community)
        return
    frozen = Order.objects.filter(
        period=period, community=community, status=Order.Status.FROZEN
    ).order_by("id")
    items: dict[int, list[tuple[str, int]]] = {}
    for order_id, name, quantity in (
        OrderLine.objects.filter(order__in=frozen)
        .order_by("order_id", "id")
        .values_list("order_id", "item__name", "quantity")
        .iterator()
    ):
        items.setdefault(order_id, []).append((name, quantity))
    DistributionLine.objects.bulk_create(
        (
            DistributionLine(
                period=period,
                community=community,
                grid_id=grid_id,
                household_id=household_id,
                resident_id=resident_id,
                order_id=order_id,
                items=_items_text(items.get(order_id, [])),
                total_points=total,
            )
            for order_id, resident_id, household_id, grid_id, total in frozen.values_list(
                "id",
                "resident_id",
                "resident__household_id",
                "resident__household__grid_id",
                "total_points",
            ).iterator()
        ),
        batch_size=5000,
    )


def _insert_distribution_lines(period: Period, community: Community) -> None:
    """PostgreSQL: the distribution lines of the community's frozen orders in one INSERT …
    SELECT, in order id order, the items text built by string_agg exactly as _items_text
    does ("name×quantity" joined by "、", in line id order)."""
    from residents.models import Household

    with connection.cursor() as cur:
        cur.execute(
            f"""
            INSERT INTO {DistributionLine._meta.db_table}
                (period_id, community_id, grid_id, household_id, resident_id, order_id, items,
                 total_points)
            SELECT o.period_id, o.community_id, h.grid_id, r.household_id, o.resident_id, o.id,
                   COALESCE(t.items, ''), o.total_points
            FROM {Order._meta.db_table} o
            JOIN {Resident._meta.db_table} r ON r.id = o.resident_id
            JOIN {Household._meta.db_table} h ON h.id = r.household_id
            LEFT JOIN LATERAL (
                SELECT string_agg(i.name || '×' || l.quantity, '、' ORDER BY l.id) AS items
                FROM {OrderLine._meta.db_table} l
                JOIN {CatalogItem._meta.db_table} i ON i.id = l.item_id
                WHERE l.order_id = o.id
            ) t ON TRUE
            WHERE o.period_id = %s AND o.community_id = %s AND o.status = %s
            ORDER BY o.id
            """,
            [period.pk, community.pk, Order.Status.FROZEN],
        )


# What str.strip() strips (str.isspace), for mask_name's strip in SQL.
_WHITESPACE = "".join(c for c in map(chr, range(0x3001)) if c.isspace())


def _insert_notice_lines(period: Period, community: Community) -> None:
    """PostgreSQL: the community's notice lines in one INSERT … SELECT, in the order the
    per-grid path writes them (grid, household, resident). Earned as selectors.EARNED (the
    earning kinds, and reversals of those), read per account through entry_account_period;
    the names masked as core.masking.mask_name does (strip, then keep the first and last
    character of three or more, the first of two)."""
    from points.selectors import EARNING_KINDS
    from residents.models import Household

    entry_t = Entry._meta.db_table
    kinds = [str(k) for k in EARNING_KINDS]
    with connection.cursor() as cur:
        cur.execute(
            f"""
            INSERT INTO {NoticeLine._meta.db_table}
                (period_id, grid_id, resident_id, masked_name, earned, balance)
            SELECT %s, x.grid_id, x.id,
                   CASE WHEN char_length(x.name) <= 1 THEN x.name
                        WHEN char_length(x.name) = 2 THEN left(x.name, 1) || '*'
                        ELSE left(x.name, 1) || repeat('*', char_length(x.name) - 2)
                             || right(x.name, 1) END,
                   x.earned, x.balance
            FROM (
                SELECT h.grid_id, r.household_id, r.id, btrim(r.name, %s) AS name,
                       COALESCE(a.balance, 0) AS balance,
                       COALESCE((SELECT SUM(e.amount) FROM {entry_t} e
                                 LEFT JOIN {entry_t} rv ON rv.id = e.reverses_id
                                 WHERE e.account_id = a.id AND e.period_id = %s
                                   AND (e.kind = ANY(%s)
                                        OR (e.kind = %s AND rv.kind = ANY(%s)))), 0) AS earned
                FROM {Resident._meta.db_table} r
                JOIN {Household._meta.db_table} h ON h.id = r.household_id
                JOIN {Grid._meta.db_table} g ON g.id = h.grid_id
                LEFT JOIN {Account._meta.db_table} a ON a.resident_id = r.id
                WHERE g.community_id = %s
            ) x
            ORDER BY x.grid_id, x.household_id, x.id
            """,
            [
                period.pk,
                _WHITESPACE,
                period.pk,
                kinds,
                Entry.Kind.REVERSAL,
                kinds,
                community.pk,
            ],
        )


def _store_notice(period: Period, community: Community) -> None:
    from points.selectors import notice_rows

    grids = list(
        Grid.objects.filter(community=community).order_by("id").values_list("id", flat=True)
    )
    NoticeLine.objects.filter(period=period, grid_id__in=grids).delete()
    if connection.vendor == "postgresql":
        _insert_notice_lines(period, community)
        return
    for grid_id in grids:
        NoticeLine.objects.bulk_create(
            (
                NoticeLine(
                    period=period,
                    grid_id=grid_id,
                    resident_id=row.pk,
                    masked_name=mask_name(row.name),
                    earned=row.earned,
                    balance=row.balance,
                )
                for row in notice_rows(period=period, grid_id=grid_id).iterator()
            ),
            batch_size=5000,
        )


@transaction.atomic
def close_community(*, closing: Closing, community: Community) -> bool:
    """The close of one community, in one transaction (the chunk): freeze its placed orders,
    rebuild its purchase and distribution lists, post expiry where its policy asks, store its
    public notice, and mark it closed. A chunk interrupted anywhere rolls back entirely; a
    community already closed is left alone. True when this call closed it."""
    _marker, created = ClosedCommunity.objects.get_or_create(closing=closing, community=community)
    if not created:
        return False
    # The marker's row (uncommitted, unique on closing+community) makes a concurrent run of
    # the same community wait here, then find it closed.
    period = closing.period
    Order.objects.filter(period=period, community=community, status=Order.Status.PLACED).update(
        status=Order.Status.FROZEN
    )
    _rebuild_lists(period, community)
    quarters = (
        Policy.objects.filter(community=community)
        .values_list("expire_after_quarters", flat=True)
        .first()
    )
    if quarters:
        post_expiry(period=period, community=community, quarters=quarters)
    _store_notice(period, community)
    return True


def close_period(period_id: int) -> Closing:
    """The close job: every community not yet closed, each in its own transaction, then the
    close done and the quarter closed. Resumable and idempotent: a run killed in the middle
    loses at most the community it was in (rolled back), and a run after the end changes
    nothing."""
    closing = Closing.objects.select_related("period").get(period_id=period_id)
    if closing.status == Closing.Status.DONE:
        return closing
    closed = ClosedCommunity.objects.filter(closing=closing).values("community_id")
    for community in communities_to_close(closing.period).exclude(pk__in=closed).iterator():
        if close_community(closing=closing, community=community):
            Closing.objects.filter(pk=closing.pk).update(
                communities_done=ClosedCommunity.objects.filter(closing=closing).count()
            )
    with transaction.atomic():
        closing = Closing.objects.select_for_update().select_related("period").get(pk=closing.pk)
        if closing.status == Closing.Status.DONE:
            return closing
        done = ClosedCommunity.objects.filter(closing=closing).count()
        closing.status = Closing.Status.DONE
        closing.finished_at = timezone.now()
        closing.communities_done = done
        closing.communities_total = max(closing.communities_total, done)
        closing.save(
            update_fields=["status", "finished_at", "communities_done", "communities_total"]
        )
        Period.objects.filter(pk=closing.period_id).update(status=Period.Status.CLOSED)
        closing.period.status = Period.Status.CLOSED
    return closing
