"""Delete audit rows older than AUDIT_RETENTION_DAYS. Dry run unless --commit."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from audit.services import expired_events, prune_audit_log, retention_cutoff


class Command(BaseCommand):
    help = "Delete audit rows older than AUDIT_RETENTION_DAYS (dry run unless --commit)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--commit", action="store_true", help="Really delete them.")

    def handle(self, *args: Any, **options: Any) -> None:
        cutoff = retention_cutoff()
        if not options["commit"]:
            count = expired_events().count()
            self.stdout.write(
                f"{count} audit rows older than {cutoff:%Y-%m-%d} "
                f"({settings.AUDIT_RETENTION_DAYS} days) would be deleted; --commit to do it."
            )
            return
        self.stdout.write(f"{prune_audit_log()} audit rows older than {cutoff:%Y-%m-%d} deleted.")
