"""``shidian tick``: compute the escalation ladder's messages for today and send them.

The last line is always ``sent N`` (N messages delivered by this run), so cron mails and
systemd journals can be grepped; a run that finds another one running prints ``sent 0``.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from shidian.oversight.tick import tick_run


class Command(BaseCommand):
    help = "Send the reminders, 催办 and escalations due today (idempotent; run from cron)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", dest="day",
                            help="compute the ladder as of this day (YYYY-MM-DD)")

    def handle(self, *args: Any, day: str | None = None, **options: Any) -> None:
        today = None
        if day:
            try:
                today = date.fromisoformat(day)
            except ValueError as error:
                raise CommandError(f"--date: {error}") from None
        result = tick_run(today=today)
        if result.busy:
            self.stdout.write("another tick is running")
        else:
            self.stdout.write(f"planned {result.planned}")
            for line in result.skipped:
                self.stderr.write(f"skipped plan {line}")
            if result.failed:
                self.stdout.write(f"failed {result.failed}")
        self.stdout.write(f"sent {result.sent}")
