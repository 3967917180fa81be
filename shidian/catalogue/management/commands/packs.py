"""``shidian packs``: the installed packs, one per line: its id, then its Chinese name.

A pack with problems is still listed (so it is never silently missing); the count of its
problems goes to stderr, and ``shidian check`` says what they are.
"""
from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from shidian.catalogue.selectors import pack_rows


class Command(BaseCommand):
    help = "List the installed packs: id and Chinese name, one per line."
    requires_system_checks: list[str] = []

    def handle(self, *args: Any, **options: Any) -> None:
        for row in pack_rows():
            self.stdout.write(f"{row.key} {row.label_zh}")
            if row.problems:
                self.stderr.write(f"{row.key}: {row.problems} problem(s), see shidian check")
