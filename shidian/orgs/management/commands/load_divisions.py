"""``shidian load_divisions [--levels N] [--province CODE]``: load the division code table."""
from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from shidian.core.errors import ShidianError
from shidian.orgs.services import divisions_load


class Command(BaseCommand):
    help = ("Load the administrative divisions (2023 statistical codes) down to the village "
            "level, or fewer levels; safe to run again (updates names, adds what is missing).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--levels", type=int, default=5,
                            help="1 province, 2 city, 3 county, 4 township, 5 village (default)")
        parser.add_argument("--province", default="",
                            help="only this province, by its 2-digit code (51 for 四川省)")

    def handle(self, *args: Any, levels: int, province: str, **options: Any) -> None:
        started = time.perf_counter()
        try:
            result = divisions_load(levels=levels, province=province)
        except ShidianError as exc:
            raise CommandError(exc.message) from exc
        seconds = time.perf_counter() - started
        per_level = ", ".join(f"level {lv}: {n}" for lv, n in sorted(result.by_level.items()))
        self.stdout.write(
            f"divisions: {result.created} added, {result.updated} updated, "
            f"{result.unchanged} unchanged ({per_level}) in {seconds:.1f} s")
