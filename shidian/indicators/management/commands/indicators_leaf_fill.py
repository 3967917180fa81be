"""``shidian indicators_leaf_fill [PERIOD ...]``: recompute the stored leaf of the years
(``PeriodLeaf``) from the values, after values were written past the entry services (a
restore, a bulk load in SQL); then ``aggregates_refresh`` reads what the values hold."""
from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from shidian.core.periods import parse_period
from shidian.indicators import services


class Command(BaseCommand):
    help = ("Recompute the stored leaf of the given periods (default: every year holding "
            "values) from the data values.")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("periods", nargs="*", help="period ids such as 2021")

    def handle(self, *args: Any, **options: Any) -> None:
        periods = [parse_period(p) for p in options["periods"]] or None
        filled = services.period_leaf_fill(periods=periods)
        self.stdout.write("filled: " + (", ".join(p.id for p in filled) or "nothing"))
