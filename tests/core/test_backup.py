"""Backups on PostgreSQL: backup_db dumps (pg_dump, custom format), restores into a fresh
database, runs verify_ledger there and compares every table's row count; restore_db restores
into a new database and refuses an existing one."""

from __future__ import annotations

import psycopg
import pytest
from django.core.management import CommandError, call_command

from core import backup
from points.models import Account, Entry
from points.services import ledger
from residents.models import Resident

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def ledger_rows(world):
    """Accounts with entries, committed (pg_dump reads another session)."""
    ledger.ensure_accounts(Resident.objects.all())
    for n, account in enumerate(Account.objects.order_by("pk"), start=1):
        ledger.post_entry(account=account, amount=10 * n, kind=Entry.Kind.AWARD, key=f"t:{n}")
    return Entry.objects.count()


def test_a_backup_restores_into_a_fresh_database_and_verifies(ledger_rows, tmp_path, capsys):
    dump = tmp_path / "gp.dump"
    call_command("backup_db", output=dump)
    out = capsys.readouterr().out
    assert dump.stat().st_size > 0
    assert "ledger ok: 4 accounts, 4 entries" in out
    assert "backup verified" in out


def test_restore_db_restores_a_dump_into_a_new_database_only(ledger_rows, tmp_path, capsys):
    dump = tmp_path / "gp.dump"
    call_command("backup_db", output=dump, no_verify=True)
    name = "gp_audit_restore_test"
    backup.drop_database(name)
    try:
        call_command("restore_db", str(dump), database=name)
        assert "ledger ok" in capsys.readouterr().out
        conninfo = backup._conninfo(backup.db_settings(), name)
        with psycopg.connect(**conninfo) as conn:
            assert backup.table_counts(conn)["points_entry"] == ledger_rows
        with pytest.raises(CommandError, match="exists"):
            call_command("restore_db", str(dump), database=name)
    finally:
        backup.drop_database(name)


def test_a_copy_that_lost_rows_is_reported(ledger_rows, tmp_path):
    dump = tmp_path / "gp.dump"
    counts = backup.dump(dump)
    name = "gp_audit_lossy_test"
    backup.drop_database(name)
    try:
        backup.restore(dump, name)
        counts["points_entry"] += 1  # the source had one more row than the copy
        check = backup.check_restored(name, expected=counts)
        assert not check.ok
        assert check.mismatches == {"points_entry": (ledger_rows + 1, ledger_rows)}
        assert check.ledger_ok
    finally:
        backup.drop_database(name)
