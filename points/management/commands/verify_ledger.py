"""Check every balance against its entries and every chain; exit 1 on any mismatch."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from points.services.ledger import verify_ledger


class Command(BaseCommand):
    help = "Check every points balance against its ledger entries, in one consistent snapshot."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--limit", type=int, default=100, help="problems to list at most")

    def handle(self, *args: Any, limit: int, **options: Any) -> None:
        report = verify_ledger(limit=limit)
        for problem in report.problems:
            self.stderr.write(problem)
        if not report.ok:
            raise CommandError(
                f"ledger mismatch: {len(report.problems)} problem(s) in {report.accounts} "
                f"accounts / {report.entries} entries"
            )
        self.stdout.write(
            self.style.SUCCESS(f"ledger ok: {report.accounts} accounts, {report.entries} entries")
        )
