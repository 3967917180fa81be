"""``shidian restore FILE``: bring a backup back onto an empty instance (``--check`` only
checks the file). A damaged backup is refused before anything changes."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from shidian.core.errors import ShidianError
from shidian.ops.backup import backup_open, backup_restore, table_counts


class Command(BaseCommand):
    help = "Restore a backup written by `shidian backup` onto an empty instance."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--check", action="store_true",
                            help="only check the backup's checksums and contents")

    def handle(self, *args: Any, file: Path, check: bool, **options: Any) -> None:
        try:
            if check:
                with backup_open(file) as checked:
                    manifest = checked.manifest
            else:
                manifest = backup_restore(path=file)
        except ShidianError as error:
            raise CommandError(error.message) from None
        rows = sum(manifest["tables"].values())
        self.stdout.write(f"{manifest['vendor']} backup of {manifest['created_at']}: "
                          f"{len(manifest['tables'])} tables, {rows} rows, "
                          f"{len(manifest['files'])} files")
        if check:
            self.stdout.write("ok")
            return
        restored = table_counts()
        wrong = {t: (n, restored.get(t)) for t, n in manifest["tables"].items()
                 if restored.get(t) != n}
        if wrong:
            raise CommandError(f"row counts differ after the restore: {wrong}")
        self.stdout.write("restored")
