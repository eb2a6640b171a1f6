"""Writes for the ledger: quarters, accounts (and card numbers), entries, reversals, and the
check of the whole ledger. The only code that posts an Entry one at a time (the set-based
postings of the bulk approval, refunds and expiry keep the same invariants in SQL).

Knows nothing of claims, shops or the close: they call it, never the reverse.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from core.quarters import quarter_of
from core.types import User
from points import access
from points.models.ledger import Account, Entry, Period
from residents.models import Resident

# ----------------------------------------------------------------------------- periods


def period_for(day: dt.date) -> Period:
    """The quarter containing `day`, created the first time it is needed."""
    code, starts_on, ends_on = quarter_of(day)
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
    source: models.Model | None = None,
    created_by: User | None = None,
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
        source_type=(source._meta.model_name or "") if source is not None else "",
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
    source: models.Model | None = None,
    created_by: User | None = None,
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
def reverse_entry(*, entry: Entry, user: User, reason: str) -> Entry:
    """Post the opposite of `entry`, pointing at it. An entry is reversed at most once, by
    the committee of the resident's community (access.access_reverse_entry)."""
    access.access_reverse_entry(user, entry)
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
