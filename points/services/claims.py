"""Writes for claims (积分申报) and rule books (积分细则): submitting a claim, approving and
rejecting it (one at a time, or set-based in bulk), copying a street's default book into a
community, and a community's points policy.

Who decides a claim is points.access's rule (access_decide_claim, claims_decidable_by).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import EmptyResultSet, ValidationError
from django.db import connection, transaction
from django.db.models import Case, OuterRef, Q, QuerySet, Subquery, Sum, When
from django.utils import timezone
from django.utils.translation import gettext as _

from core.permissions import ensure_in_scope
from core.types import User
from grids.models import Community
from notifications import hooks as notifications
from points import access
from points.models import Account, Claim, Entry, Period, Policy, Rule
from points.services import rulebooks
from points.services.ledger import (
    account_for,
    counts_households,
    current_period,
    ensure_accounts,
    ensure_household_accounts,
    period_for,
    post_entry,
)
from residents.models import Household, Resident


@transaction.atomic
def submit_claim(
    *,
    user: User,
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
    community_id = access.community_id_of(resident)
    # A versioned rule inactive in the version it came from may be active in the version in
    # force on the claim's day: rulebooks.rule_for_claim decides (and refuses) for those.
    if rule.community_id != community_id or (rule.book_id is None and not rule.active):
        raise ValidationError(
            {"rule": [_("This rule is not an active rule of the resident's community.")]}
        )
    occurred_on = occurred_on or timezone.localdate()
    if occurred_on > timezone.localdate():
        raise ValidationError({"occurred_on": [_("The date cannot be in the future.")]})
    # The rule of that code in the rule book version in force on the day (issue 15).
    rule = rulebooks.rule_for_claim(rule=rule, community_id=community_id, day=occurred_on)
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
    user: User,
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
    refuse_if_closed(period, field="occurred_on")
    # Serialise claims for one resident (the cap check below reads, then writes): their
    # account's lock (a household's account, with household accounts: the household queues).
    account = Account.objects.select_for_update().filter(pk=account_for(resident).pk).get()
    # The same rule in every version of the book (one code): a version that takes effect
    # mid-quarter does not open a second cap, nor hide a duplicate.
    same_rule = {"rule__code": rule.code, "rule__community_id": rule.community_id}
    if rule.cap_per_quarter is not None:
        used = (
            Claim.objects.filter(resident=resident, period=period, **same_rule)
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
        Claim.objects.filter(resident=resident, occurred_on=occurred_on, **same_rule)
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
        account=account,
    )


@transaction.atomic
def submit_hours_claim(
    *,
    user: User,
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
    if rule.community_id != access.community_id_of(resident) or not rule.active:
        raise ValidationError(
            {"rule": [_("This rule is not an active rule of the resident's community.")]}
        )
    if points < 1:
        raise ValidationError({"points": [_("A claim gives at least one point.")]})
    rule = rulebooks.rule_for_claim(rule=rule, community_id=rule.community_id, day=occurred_on)
    return _record_claim(
        user=user,
        resident=resident,
        rule=rule,
        points=points,
        occurred_on=occurred_on,
        note=note,
        cut_to_cap=True,
    )


# The quarters a claim may still enter or be approved into.
OPEN_STATUSES = (Period.Status.OPEN, Period.Status.REDEEMING)


def refuse_if_closed(period: Period, *, field: str | None = None) -> None:
    """A quarter being closed or closed takes no more claims and no approvals: its notice and
    lists are final. A clear message says which quarter and what to do instead."""
    if period.status in OPEN_STATUSES:
        return
    message = _(
        "The quarter %(period)s is %(status)s: it takes no more claims or approvals. "
        "Reject the claim, or submit it again dated in the current quarter."
    ) % {"period": period.code, "status": period.get_status_display()}
    raise ValidationError({field: [message]} if field else message, code="quarter_closed")


def _lock_submitted(claim: Claim) -> Claim:
    # of=("self",): lock the claim only, not its rule and resident rows (which every other
    # approval under the same rule would then queue behind).
    locked = (
        Claim.objects.select_for_update(of=("self",))
        .select_related("rule", "resident", "period")
        .get(pk=claim.pk)
    )
    if locked.status != Claim.Status.SUBMITTED:
        raise ValidationError(
            _("This claim is already %(status)s.") % {"status": locked.get_status_display()},
            code="claim_decided",
        )
    return locked


@transaction.atomic
def approve_claim(*, claim: Claim, approver: User) -> Claim:
    """Approve a submitted claim and post its award or deduction, once."""
    claim = _lock_submitted(claim)
    access.access_decide_claim(approver, claim)
    refuse_if_closed(claim.period)
    claim.status = Claim.Status.APPROVED
    claim.decided_by = approver
    claim.decided_at = timezone.now()
    claim.save(update_fields=["status", "decided_by", "decided_at"])
    sign = claim.rule.sign
    account = claim.account
    if account is None or account.is_household != counts_households(
        access.community_id_of(claim.resident)
    ):
        # Named none, or submitted while the community switched its unit.
        account = account_for(claim.resident)
    post_entry(
        account=account,
        amount=sign * claim.points,
        kind=Entry.Kind.AWARD if sign > 0 else Entry.Kind.DEDUCTION,
        key=f"claim:{claim.pk}",
        source=claim,
        created_by=approver,
    )
    notifications.claim_decided(claim)
    return claim


@transaction.atomic
def reject_claim(*, claim: Claim, approver: User, reason: str) -> Claim:
    if not (reason or "").strip():
        raise ValidationError({"reason": [_("Say why the claim is rejected.")]})
    claim = _lock_submitted(claim)
    access.access_decide_claim(approver, claim)
    claim.status = Claim.Status.REJECTED
    claim.decided_by = approver
    claim.decided_at = timezone.now()
    claim.reject_reason = reason.strip()
    claim.save(update_fields=["status", "decided_by", "decided_at", "reject_reason"])
    notifications.claim_decided(claim)
    return claim


@dataclass(frozen=True)
class BulkDecision:
    decided: int
    skipped: int


def _decidable(claims: QuerySet[Claim], approver: User) -> QuerySet[Claim]:
    """The submitted claims among `claims` that `approver` may decide."""
    return Claim.objects.filter(
        access.claims_decidable_by(approver),
        id__in=claims.values("id"),
        status=Claim.Status.SUBMITTED,
    )


def _locked_decidable_sql(claims: QuerySet[Claim], approver: User) -> tuple[str, tuple[Any, ...]]:
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


def _decide_many(
    claims: QuerySet[Claim], approver: User, now: dt.datetime, reason: str = ""
) -> int:
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
        return int(cur.rowcount)


# The entries of a batch of approved claims, `c` (id, account_id, signed points), posted to
# the accounts `a` (id, balance, honour, last_seq) as they stand under their row locks: each
# account's new entries are numbered on from its last sequence number and carry its running
# balance and honour points (window functions, ordered by claim id). A claim that somehow has
# its entry already is not posted twice.
_POST_BATCH = """
    INSERT INTO {entry_t} (account_id, seq, amount, kind, period_id, balance_after,
                           honour, honour_after,
                           source_type, source_id, key, note, created_by_id, created_at)
    SELECT a.id,
           a.last_seq + ROW_NUMBER() OVER w,
           c.signed,
           CASE WHEN c.signed > 0 THEN %(award)s ELSE %(deduction)s END,
           %(period)s,
           a.balance + SUM(c.signed) OVER w,
           c.signed,
           a.honour + SUM(c.signed) OVER w,
           'claim', c.id, 'claim:' || c.id, '', %(approver)s, %(now)s
    FROM c JOIN a ON a.id = c.account_id
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
            RETURNING id, account_id, rule_id, points
        ),
        c AS (
            SELECT ap.id, ap.account_id,
                   CASE WHEN r.category = %(deduct)s THEN -ap.points ELSE ap.points END AS signed
            FROM approved ap JOIN {rule_t} r ON r.id = ap.rule_id
        ),
        a AS (
            -- GROUP BY reads `approved` to its end before any account row comes out (and is
            -- locked): every claim lock is taken before the first account lock, whatever the
            -- plan, so the two kinds of lock are never interleaved.
            SELECT id, balance, honour, last_seq FROM {account_t}
            WHERE id IN (SELECT account_id FROM approved GROUP BY account_id)
            ORDER BY id FOR UPDATE
        ),
        posted AS (
            {_POST_BATCH.format(entry_t=entry_t)}
            RETURNING account_id, amount, honour
        ),
        moved AS (
            UPDATE {account_t} acc SET balance = acc.balance + t.total,
                                       honour = acc.honour + t.honour,
                                       last_seq = acc.last_seq + t.n
            FROM (SELECT account_id, SUM(amount) AS total, SUM(honour) AS honour,
                         COUNT(*) AS n
                  FROM posted GROUP BY account_id) t
            WHERE acc.id = t.account_id
        )
        -- Data-modifying CTEs run to completion whether read or not (moved is not).
        SELECT (SELECT COUNT(*) FROM approved), (SELECT COUNT(*) FROM posted)
    """
    with connection.cursor() as cur:
        cur.execute(sql, {**values, **names})
        decided, posted = cur.fetchone()
    if posted != decided:
        # An account named on a claim is newer than this statement's snapshot (a switch of
        # account unit committed while the statement waited for the claims' locks): the claims
        # would be approved with no entry. Refuse; the caller tries again on a new snapshot.
        raise _StaleAccounts(f"{decided} claims approved but {posted} entries posted")
    return int(decided)  # COUNT(*)


class _StaleAccounts(Exception):
    pass


def _bulk_approve_step_by_step(
    claims: QuerySet[Claim], approver: User, now: dt.datetime, values: dict[str, Any]
) -> int:
    """SQLite (one writer at a time, no data-modifying CTEs): the same in a few statements.

    1. mark the decidable claims approved (the batch: this approver, this instant);
    2. open accounts that are missing; 3. post the entries (_POST_BATCH) from the batch;
    4. set each account's balance and last sequence from its newest entry.
    """
    attach_accounts(_decidable(claims, approver))
    decided = _decide_many(claims, approver, now)
    if decided == 0:
        return 0
    batch = Claim.objects.filter(status=Claim.Status.APPROVED, decided_by=approver, decided_at=now)
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
                SELECT cl.id, cl.account_id,
                       CASE WHEN r.category = %(deduct)s THEN -cl.points ELSE cl.points END
                           AS signed
                FROM {claim_t} cl JOIN {rule_t} r ON r.id = cl.rule_id
                WHERE cl.id IN ({batch_named})
            ),
            a AS (
                SELECT id, balance, honour, last_seq FROM {account_t}
                WHERE id IN (SELECT account_id FROM c)
            )
            {_POST_BATCH.format(entry_t=entry_t)}
            """,
            {**values, **names},
        )
    newest = Entry.objects.filter(account=OuterRef("pk")).order_by("-seq")
    Account.objects.filter(id__in=batch.values("account_id")).update(
        balance=Subquery(newest.values("balance_after")[:1]),
        honour=Subquery(newest.values("honour_after")[:1]),
        last_seq=Subquery(newest.values("seq")[:1]),
    )
    return decided


def attach_accounts(claims: QuerySet[Claim]) -> int:
    """Point every submitted claim among `claims` at the account it posts to, where it names none or
    one of the wrong unit: the resident's own, or where the community counts per household
    the household's (claims made before household accounts or by bulk loads name none; a claim
    submitted while its community switched may name the old unit's). Accounts are opened as
    needed. Set-based; the number of claims re-pointed."""
    households = Policy.objects.filter(account_unit=Policy.AccountUnit.HOUSEHOLD).values(
        "community_id"
    )
    in_households = Q(resident__household__grid__community_id__in=households)
    wrong = (
        in_households & (Q(account__isnull=True) | Q(account__shared_household__isnull=True))
    ) | (~in_households & (Q(account__isnull=True) | Q(account__shared_household__isnull=False)))
    # One query in the usual case (every claim names its account already: nothing to do).
    found = (
        Claim.objects.filter(wrong, id__in=claims.values("id"), status=Claim.Status.SUBMITTED)
        .annotate(shared=Case(When(in_households, then=True), default=False))
        .values_list("id", "shared")
    )
    household_ids = [pk for pk, shared in found if shared]
    resident_ids = [pk for pk, shared in found if not shared]
    if not household_ids and not resident_ids:
        return 0
    ensure_accounts(Resident.objects.filter(point_claims__id__in=resident_ids))
    ensure_household_accounts(
        Household.objects.filter(residents__point_claims__id__in=household_ids).distinct()
    )
    own = Account.objects.filter(resident_id=OuterRef("resident_id")).values("pk")[:1]
    shared = Account.objects.filter(shared_household__residents=OuterRef("resident_id")).values(
        "pk"
    )[:1]
    # Two UPDATEs over ids (an UPDATE may not filter through a join).
    given = Claim.objects.filter(id__in=household_ids).update(account_id=Subquery(shared))
    given += Claim.objects.filter(id__in=resident_ids).update(account_id=Subquery(own))
    return given


@transaction.atomic
def bulk_approve_claims(*, claims: QuerySet[Claim], approver: User) -> BulkDecision:
    """Approve many claims in a fixed handful of SQL statements, whatever their number.

    The decidable claims (submitted, of the approver's communities, not their own) are marked
    approved, and each posts its award or deduction: every account's new entries are numbered
    on from its last sequence number with a running balance, and the account's balance and
    last_seq move with them, all in this transaction, under row locks taken in id order
    (claims, then accounts). A claim approved by someone else in the meantime is skipped, as
    is a claim of a quarter being closed or closed (refuse_if_closed), and the entry key
    'claim:<id>' is never posted twice. On PostgreSQL the whole batch is one statement
    (_bulk_approve_in_one_statement); on SQLite a few (_bulk_approve_step_by_step).
    """
    requested = claims.count()
    # Claims of a quarter being closed or closed are skipped (refuse_if_closed, one at a time).
    claims = Claim.objects.filter(id__in=claims.values("id"), period__status__in=OPEN_STATUSES)
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
        # The account of each claim (claims made through submit_claim always have one): the
        # statement below posts only to accounts named on the claims when it starts.
        for attempt in range(3):
            try:
                with transaction.atomic():  # a savepoint: a refused try leaves nothing
                    attach_accounts(_decidable(claims, approver))
                    decided = _bulk_approve_in_one_statement(locked_sql, locked_params, values)
                break
            except _StaleAccounts:
                if attempt == 2:
                    raise
    else:
        decided = _bulk_approve_step_by_step(claims, approver, now, values)
    notifications.claims_decided_later(approver_id=approver.pk, decided_at=now)
    return BulkDecision(decided=decided, skipped=requested - decided)


@transaction.atomic
def bulk_reject_claims(*, claims: QuerySet[Claim], approver: User, reason: str) -> BulkDecision:
    if not (reason or "").strip():
        raise ValidationError({"reason": [_("Say why the claims are rejected.")]})
    requested = claims.count()
    now = timezone.now()
    decided = _decide_many(claims, approver, now, reason=reason.strip())
    notifications.claims_decided_later(approver_id=approver.pk, decided_at=now)
    return BulkDecision(decided=decided, skipped=requested - decided)


# ----------------------------------------------------------------------------- rule books


def copy_default_rules(*, community: Community) -> int:
    """Give a community its street's default rule book (积分细则), skipping codes it has: into
    its draft, a new version, or as unversioned rules (points.services.rulebooks)."""
    return rulebooks.copy_default_book(community=community)


def policy_for(community: Community) -> Policy:
    policy, _created = Policy.objects.get_or_create(community=community)
    return policy


@transaction.atomic
def delete_rule(*, user: User, rule: Rule) -> None:
    """Delete a rule (the API's and the admin's delete): a community's by someone whose area
    holds the community, a street's default rule by an admin of the street. A rule that has
    claims is protected by them (ProtectedError)."""
    access.access_write_rule(user, rule)
    rule.delete()


@transaction.atomic
def delete_policy(*, user: User, policy: Policy) -> None:
    """Delete a community's points policy (its defaults apply again)."""
    ensure_in_scope(user, policy.community)
    policy.delete()
