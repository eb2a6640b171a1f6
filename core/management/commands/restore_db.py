"""Restore a dump made by backup_db into a NEW database, then check it (verify_ledger and the
row counts). Point DATABASE_URL at it afterwards to use it; the current database is untouched."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core import backup


class Command(BaseCommand):
    help = "Restore a backup_db dump into a new database (--database) and check it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("dump", type=Path, help="a file written by backup_db (pg_dump -Fc)")
        parser.add_argument("--database", required=True, help="the new database's name")

    def handle(self, *args: Any, dump: Path, database: str, **options: Any) -> None:
        if not dump.is_file():
            raise CommandError(f"no such file: {dump}")
        try:
            backup.restore(dump, database)
        except FileExistsError as exc:
            raise CommandError(str(exc)) from exc
        except Exception as exc:
            raise CommandError(f"pg_restore failed: {getattr(exc, 'stderr', '') or exc}") from exc
        check = backup.check_restored(database)
        self.stdout.write(
            f"restored {dump} into {database}: {len(check.counts)} tables, "
            f"{sum(check.counts.values())} rows; {check.ledger_output}"
        )
        if not check.ledger_ok:
            raise CommandError("verify_ledger failed on the restored database")
        self.stdout.write(
            self.style.SUCCESS(f"ok: set DATABASE_URL={backup.database_url(database)} to use it")
        )
