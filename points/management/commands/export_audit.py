"""Write the audit export of a quarter and a community to a file (for cron or an operator)."""

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from grids.models import Community
from points.audit_export import build_audit_export
from points.models import Period


class Command(BaseCommand):
    help = (
        "Write the points audit export (signed ZIP of CSVs, or xlsx) of a quarter and a "
        "community; recorded in the audit log."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("period", help="the quarter's code, e.g. 2026Q4")
        parser.add_argument("community_id", type=int)
        parser.add_argument("--format", choices=["zip", "xlsx"], default="zip")
        parser.add_argument("--out", help="the file to write (default: points-audit-…)")
        parser.add_argument(
            "--by", help="username recorded as who made it (default: the command itself)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        period = Period.objects.filter(code=options["period"]).first()
        if period is None:
            raise CommandError(f"no quarter {options['period']!r}")
        community = (
            Community.objects.select_related("street").filter(pk=options["community_id"]).first()
        )
        if community is None:
            raise CommandError(f"no community {options['community_id']}")
        by = None
        if options["by"]:
            by = get_user_model().objects.filter(username=options["by"]).first()
            if by is None:
                raise CommandError(f"no user {options['by']!r}")
        export = build_audit_export(
            period,
            community,
            fmt=options["format"],
            by=by,
            what=f"Points audit export {period.code} {community.name} "
            f"({options['format']}, manage.py export_audit)",
        )
        out = Path(options["out"] or export.filename)
        out.write_bytes(export.data)
        counts = ", ".join(f"{key} {n}" for key, n in export.rows.items())
        self.stdout.write(self.style.SUCCESS(f"wrote {out}: {counts}"))
