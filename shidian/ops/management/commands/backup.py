"""``shidian backup``: the database and the uploaded files in one checked, compressed file."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from shidian.core.errors import ShidianError
from shidian.ops.backup import backup_create


class Command(BaseCommand):
    help = ("Back up the database (SQLite online backup or pg_dump) and MEDIA_ROOT into one "
            "tar file with checksums (default: var/backups/).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", type=Path, help="a directory, or the file to write")

    def handle(self, *args: Any, out: Path | None = None, **options: Any) -> None:
        try:
            result = backup_create(out=out)
        except ShidianError as error:
            raise CommandError(error.message) from None
        self.stdout.write(f"{result.path}")
        self.stdout.write(f"size {result.size} bytes, {result.tables} tables, {result.rows} rows, "
                          f"{result.files} files, sha256 {result.sha256}")
