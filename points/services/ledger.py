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
from residents.models import Household, Resident

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


def _luhn(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return body + str((10 - total % 10) % 10)


def card_number_for(resident_id: int) -> str:
    """A resident's card number: 9 digits of the resident id and a Luhn check digit, so a
    mistyped number is caught at the counter."""
    return _luhn(f"{resident_id:09d}")


def household_card_number_for(household_id: int) -> str:
    """A household account's card number (户卡): 8, 9 digits of the household id and a Luhn
    check digit: 11 digits, so it never equals a resident's 10."""
    return _luhn(f"8{household_id:09d}")


def counts_households(community_id: int | None) -> bool:
    """Whether the community counts points per household (Policy.account_unit)."""
    from points.models import Policy

    if community_id is None:
        return False
    return Policy.objects.filter(
        community_id=community_id, account_unit=Policy.AccountUnit.HOUSEHOLD
    ).exists()


def ensure_accounts(residents: QuerySet[Resident]) -> int:
    """Open an account (with its card number) for every resident that has none. Set-based."""
    # In id order: two transactions opening overlapping accounts wait for each other's
    # uncommitted rows in the same order, so they cannot deadlock.
    missing = (
        residents.filter(point_account__isnull=True)
        .order_by("id")
        .values_list("id", "household_id")
    )
    accounts = [
        Account(resident_id=rid, household_id=hid, card_number=card_number_for(rid))
        for rid, hid in missing.iterator()
    ]
    Account.objects.bulk_create(accounts, batch_size=5000, ignore_conflicts=True)
    return len(accounts)


def ensure_household_accounts(households: QuerySet[Household]) -> int:
    """Open a shared account for every household in `households` that has none. Set-based."""
    missing = (
        households.filter(point_account__isnull=True).order_by("id").values_list("id", flat=True)
    )
    accounts = [
        Account(
            household_id=hid, shared_household_id=hid, card_number=household_card_number_for(hid)
        )
        for hid in missing.iterator()
    ]
    Account.objects.bulk_create(accounts, batch_size=5000, ignore_conflicts=True)
    return len(accounts)


def resident_account(resident: Resident) -> Account:
    """The resident's own account (opened the first time it is needed)."""
    account, _created = Account.objects.get_or_create(
        resident=resident,
        defaults={
            "card_number": card_number_for(resident.pk),
            "household_id": resident.household_id,
        },
    )
    return account


def household_account(household: Household) -> Account:
    """The household's shared account (opened the first time it is needed)."""
    account, _created = Account.objects.get_or_create(
        shared_household=household,
        defaults={
            "card_number": household_card_number_for(household.pk),
            "household_id": household.pk,
        },
    )
    return account


def account_for(resident: Resident) -> Account:
    """The account a resident's points post to and their orders debit: their own, or where
    their community counts points per household (以户为单位) their household's."""
    household = resident.household
    if counts_households(household.grid.community_id):
        return household_account(household)
    return resident_account(resident)


def accounts_of(resident: Resident) -> QuerySet[Account]:
    """The accounts a resident holds or shares: their own and their household's (a household
    account is seen by its head and every member)."""
    return Account.objects.filter(
        models.Q(resident=resident) | models.Q(shared_household_id=resident.household_id)
    )


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
    honour: int | None = None,
) -> Entry:
    """Append one entry to an account's ledger and move its balance, atomically.

    The account row is locked for the transaction, so concurrent posts to one account queue up
    and the sequence has no gaps. Idempotent: a second post with the same key returns the first
    entry and changes nothing. With allow_negative=False (debits for redemption) a post that
    would take the balance below zero is refused.

    Honour points (荣誉积分) move with it: by `honour` when given (transfers), else by what the
    kind carries (honour_of).
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
    if honour is None:
        honour = honour_of(kind, amount, reverses)
    honour_after = locked.honour + honour
    entry = Entry.objects.create(
        account=locked,
        seq=seq,
        amount=amount,
        kind=kind,
        period=period or current_period(),
        balance_after=balance,
        honour=honour,
        honour_after=honour_after,
        reverses=reverses,
        source_type=(source._meta.model_name or "") if source is not None else "",
        source_id=source.pk if source is not None else None,
        key=key,
        note=note[:500],
        created_by=created_by,
    )
    Account.objects.filter(pk=locked.pk).update(balance=balance, honour=honour_after, last_seq=seq)
    account.balance, account.honour, account.last_seq = balance, honour_after, seq
    return entry


# The kinds whose amount is also honour: points earned (or taken) for what a resident did.
HONOUR_KINDS = (Entry.Kind.AWARD, Entry.Kind.DEDUCTION, Entry.Kind.ADJUSTMENT)


def honour_of(kind: str, amount: int, reverses: Entry | None = None) -> int:
    """What an entry adds to honour points: awards, deductions and adjustments their amount, a
    reversal the opposite of what it reverses added; redemption, refund and expiry nothing."""
    if kind in HONOUR_KINDS:
        return amount
    if kind == Entry.Kind.REVERSAL and reverses is not None:
        return -reverses.honour
    return 0


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

    An account's balance must equal the sum of its entries' amounts and its honour points the
    sum of their honour, its last_seq their count; within an account, sequence numbers run 1, 2,
    3 … without gaps, and each entry's balance_after (honour_after) is the previous one plus its
    amount (honour); a reversal undoes exactly the entry it points at, honour included. Both
    account units (issue 15): a resident's account belongs to the resident's household; in a
    community that counts per household no resident's account holds points (and in one that
    counts per resident no household's account does); the transfers of each switch of unit
    add up to nothing. Everything is one SQL statement, so it reads one snapshot on any
    database and isolation level, even while postings go on.
    """
    from points.models import Policy

    entry_t, account_t = Entry._meta.db_table, Account._meta.db_table
    resident_t, household_t = Resident._meta.db_table, Household._meta.db_table
    grid_t = Household._meta.get_field("grid").related_model._meta.db_table
    policy_t = Policy._meta.db_table
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
            SELECT 'honour', a.id, a.honour, COALESCE(s.total, 0), 0, 0
            FROM {account_t} a
            LEFT JOIN (SELECT account_id, SUM(honour) AS total
                       FROM {entry_t} GROUP BY account_id) s ON s.account_id = a.id
            WHERE a.honour <> COALESCE(s.total, 0)
            LIMIT %s) honours
        UNION ALL
        SELECT * FROM (
            SELECT 'chain', account_id, seq, rn, amount, balance_after - prev FROM (
                SELECT account_id, seq, amount, balance_after, honour, honour_after,
                       ROW_NUMBER() OVER w AS rn,
                       COALESCE(LAG(balance_after) OVER w, 0) AS prev,
                       COALESCE(LAG(honour_after) OVER w, 0) AS prev_honour
                FROM {entry_t}
                WINDOW w AS (PARTITION BY account_id ORDER BY seq)
            ) chain
            WHERE seq <> rn OR prev + amount <> balance_after
               OR prev_honour + honour <> honour_after
            LIMIT %s) chains
        UNION ALL
        SELECT * FROM (
            SELECT 'reversal', r.id, o.id, r.amount, o.amount, 0
            FROM {entry_t} r JOIN {entry_t} o ON o.id = r.reverses_id
            WHERE r.amount <> -o.amount OR r.account_id <> o.account_id
               OR r.honour <> -o.honour
            LIMIT %s) reversals
        UNION ALL
        SELECT * FROM (
            SELECT 'household', a.id, a.household_id, r.household_id, 0, 0
            FROM {account_t} a JOIN {resident_t} r ON r.id = a.resident_id
            WHERE a.household_id <> r.household_id
            LIMIT %s) households
        UNION ALL
        SELECT * FROM (
            SELECT 'unit', a.id, a.balance, CASE WHEN a.shared_household_id IS NULL
                                                 THEN 0 ELSE 1 END, 0, 0
            FROM {account_t} a
            JOIN {household_t} h ON h.id = a.household_id
            JOIN {grid_t} g ON g.id = h.grid_id
            LEFT JOIN {policy_t} p ON p.community_id = g.community_id
            WHERE (a.balance <> 0 OR a.honour <> 0)
              AND (CASE WHEN a.shared_household_id IS NULL THEN 'resident' ELSE 'household' END)
                  <> COALESCE(p.account_unit, 'resident')
            LIMIT %s) units
        UNION ALL
        SELECT * FROM (
            SELECT 'transfer', source_id, SUM(amount), SUM(honour), 0, 0
            FROM {entry_t} WHERE kind = 'transfer'
            GROUP BY source_id HAVING SUM(amount) <> 0 OR SUM(honour) <> 0
            LIMIT %s) transfers
    """
    accounts = entries = 0
    problems: list[str] = []
    with connection.cursor() as cur:
        cur.execute(sql, [limit] * 7)
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
            elif kind == "honour":
                problems.append(
                    f"account {a}: honour points {b} but its entries' honour sums to {c}"
                )
            elif kind == "reversal":
                problems.append(f"entry {a} ({c:+d}) does not exactly undo entry {b} ({d:+d})")
            elif kind == "household":
                problems.append(
                    f"account {a}: belongs to household {b} but its resident lives in {c}"
                )
            elif kind == "unit":
                unit = "household" if c else "resident"
                problems.append(
                    f"account {a}: a {unit} account holding {b} points in a community that "
                    f"does not count per {unit}"
                )
            else:
                problems.append(
                    f"switch {a}: its transfers add up to {b} points and {c} honour points, not 0"
                )
    return LedgerReport(accounts=accounts, entries=entries, problems=problems)
