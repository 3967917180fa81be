"""``shidian citus_sql``: print the one-time Citus migration (deploy/README.md)."""
from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from shidian.ops.citus import citus_sql


class Command(BaseCommand):
    help = "Print the SQL that distributes the case and data-value tables by province (Citus)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(citus_sql(), ending="")
