"""`manage.py seed_scale --residents N`: a synthetic street at district scale (see demo.scale).

    manage.py seed_scale --residents 1000000                 # ~1,100 grids in ~110 communities
    manage.py seed_scale --residents 10000 --street-code s10k --grid-size 900-1000 --seed 7

Not idempotent: it refuses a street code that is already used.
"""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from demo.scale import ScaleError, build_scale


def grid_size(value: str) -> tuple[int, int]:
    """'950' → (950, 950); '900-1000' → (900, 1000)."""
    try:
        lo, _, hi = value.partition("-")
        return int(lo), int(hi or lo)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected N or MIN-MAX, got {value!r}") from None


class Command(BaseCommand):
    help = "Build a synthetic street of N residents with bulk writes (for benchmarks)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--residents", type=int, required=True, help="How many residents.")
        parser.add_argument(
            "--grid-size",
            type=grid_size,
            default=(900, 1000),
            metavar="MIN-MAX",
            help="Residents per grid, N or MIN-MAX (default 900-1000).",
        )
        parser.add_argument(
            "--grids-per-community", type=int, default=10, help="Grids per community (10)."
        )
        parser.add_argument(
            "--street-code", default="scale", help="Code of the new street (default 'scale')."
        )
        parser.add_argument("--seed", type=int, default=1, help="Random seed (default 1).")
        parser.add_argument(
            "--chunk", type=int, default=100_000, help="Residents written per statement (100000)."
        )
        parser.add_argument(
            "--no-analyze", action="store_true", help="Skip ANALYZE at the end (PostgreSQL)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = build_scale(
                residents=options["residents"],
                grid_size=options["grid_size"],
                grids_per_community=options["grids_per_community"],
                street_code=options["street_code"],
                seed=options["seed"],
                chunk_residents=options["chunk"],
                analyze=not options["no_analyze"],
                progress=(lambda line: self.stdout.write(f"  … {line}"))
                if options["verbosity"] >= 1
                else None,
            )
        except ScaleError as exc:
            raise CommandError(str(exc)) from exc
        for line in report.lines():
            self.stdout.write(self.style.SUCCESS(line) if line.startswith("built") else line)
