"""The migration that brought honour points (points 0009) fills them in for the ledger that
was there before: awards, deductions and adjustments count, a reversal of one takes it back,
and every running honour total is right — on PostgreSQL past the append-only trigger, which
is back in force afterwards."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from points.models import Account, Entry
from points.services import ledger as ledger_services

backfill = importlib.import_module(
    "points.migrations.0009_household_accounts_honour_rulebooks"
).backfill


class _Editor:
    """What the migration's function uses of a schema editor."""

    connection = connection


def _raw(account: Account, seq: int, amount: int, kind: str, balance: int, **kw) -> int:
    """An entry as the ledger held it before honour points: honour columns at their default."""
    row = {
        "account_id": account.pk,
        "seq": seq,
        "amount": amount,
        "kind": kind,
        "period_id": ledger_services.current_period().pk,
        "balance_after": balance,
        "reverses_id": None,
        "source_type": "",
        "source_id": None,
        "key": f"old:{seq}",
        "note": "",
        "created_by_id": None,
        "created_at": connection.ops.adapt_datetimefield_value(timezone.now()),
        **kw,
    }
    names = ", ".join(row)
    marks = ", ".join(["%s"] * len(row))
    with connection.cursor() as cur:
        cur.execute(f"INSERT INTO points_entry ({names}) VALUES ({marks})", list(row.values()))
    return Entry.objects.get(account=account, seq=seq).pk


def test_backfill_gives_the_old_ledger_its_honour(world, on_postgres):
    account = ledger_services.account_for(world.resident1)
    _raw(account, 1, 10, "award", 10)
    award = _raw(account, 2, 4, "award", 14)
    _raw(account, 3, -3, "deduction", 11)
    _raw(account, 4, -6, "redemption", 5)
    _raw(account, 5, -4, "reversal", 1, reverses_id=award)
    _raw(account, 6, 2, "adjustment", 3)
    Account.objects.filter(pk=account.pk).update(balance=3, last_seq=6)
    assert set(Entry.objects.values_list("honour", "honour_after")) == {(0, 0)}

    backfill(apps, _Editor())

    rows = list(
        Entry.objects.filter(account=account).order_by("seq").values_list("honour", "honour_after")
    )
    assert rows == [(10, 10), (4, 14), (-3, 11), (0, 11), (-4, 7), (2, 9)]
    account.refresh_from_db()
    assert account.honour == 9
    report = ledger_services.verify_ledger()
    assert report.ok, report.problems
    if on_postgres:
        # The trigger is back: an entry still cannot be changed.
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
            cur.execute("UPDATE points_entry SET honour = 1 WHERE id = %s", [award])
