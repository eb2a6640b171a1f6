"""Check a points audit export (ZIP or xlsx): its signature and hash chains, and with
--against-db its rows against the database. Exit 1 on any failure."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from points.audit_verify import verify_audit_export


class Command(BaseCommand):
    help = (
        "Verify a points audit export: the manifest's signature, each table's hash chain, row "
        "count and last chain value; with --against-db, compare its rows with the database."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help="the .zip or .xlsx export")
        parser.add_argument(
            "--against-db",
            action="store_true",
            help="also re-read the community's quarter and report rows missing, added or different",
        )

    def handle(self, *args: Any, file: str, against_db: bool, **options: Any) -> None:
        report = verify_audit_export(file, against_db=against_db)
        for note in report.notes:
            self.stdout.write(note)
        for problem in report.problems:
            self.stderr.write(problem)
        if not report.ok:
            raise CommandError(f"{file}: {len(report.problems)} problem(s)")
        self.stdout.write(self.style.SUCCESS(f"{file}: verified"))
