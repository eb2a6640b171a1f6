"""Back the database up (pg_dump, custom format) and prove the backup restores: into a fresh
scratch database, checked with verify_ledger and a row count of every table, then dropped."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core import backup


class Command(BaseCommand):
    help = (
        "pg_dump --format=custom the database to --output, then restore it into a fresh "
        "database and check it (verify_ledger, row counts); exit 1 if the copy differs."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        parser.add_argument(
            "--output", type=Path, default=Path(f"gridpoints-{stamp}.dump"), help="the dump file"
        )
        parser.add_argument(
            "--no-verify", action="store_true", help="only dump; do not test the restore"
        )
        parser.add_argument(
            "--keep-restored", action="store_true", help="keep the scratch database afterwards"
        )

    def handle(
        self, *args: Any, output: Path, no_verify: bool, keep_restored: bool, **options: Any
    ) -> None:
        db = backup.db_settings()
        try:
            counts = backup.dump(output)
        except Exception as exc:  # pg_dump's message is the useful part
            raise CommandError(f"pg_dump failed: {getattr(exc, 'stderr', '') or exc}") from exc
        size = output.stat().st_size
        self.stdout.write(
            f"dumped {db['NAME']} to {output} ({size} bytes, {len(counts)} tables, "
            f"{sum(counts.values())} rows)"
        )
        if no_verify:
            return
        scratch = f"{db['NAME']}_restorecheck_{dt.datetime.now():%Y%m%d%H%M%S}"[:63]
        try:
            backup.restore(output, scratch)
            check = backup.check_restored(scratch, expected=counts)
        except Exception as exc:
            backup.drop_database(scratch)
            raise CommandError(f"restore failed: {getattr(exc, 'stderr', '') or exc}") from exc
        finally:
            pass
        self.stdout.write(f"restored into {scratch}: {check.ledger_output}")
        if not keep_restored:
            backup.drop_database(scratch)
        for table, (want, got) in check.mismatches.items():
            self.stderr.write(f"row count differs: {table}: {want} in the source, {got} restored")
        if not check.ok:
            raise CommandError("the restored copy differs from the database backed up")
        self.stdout.write(
            self.style.SUCCESS(
                f"backup verified: {len(check.counts)} tables, {sum(check.counts.values())} "
                "rows identical, ledger ok"
            )
        )
