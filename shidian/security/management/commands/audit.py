"""shidian audit verify | seal | purge --before YYYY-MM-DD

``verify`` seals pending records, walks every chain and prints each problem (record id, time,
what does not match); it exits 1 when anything does not verify, 0 otherwise.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from shidian.core.errors import ShidianError
from shidian.security import chain


class Command(BaseCommand):
    help = "Verify, seal or purge the tamper-evident audit trail."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser("verify", help="check every audit chain; exit 1 on a problem")
        verify.add_argument("--no-seal", action="store_true",
                            help="do not seal pending records first (report them instead)")
        verify.add_argument("--json", action="store_true", help="print one JSON object")
        sub.add_parser("seal", help="seal every record not sealed yet")
        purge = sub.add_parser("purge", help="remove records older than the retention period")
        purge.add_argument("--before", required=True, help="YYYY-MM-DD (local date)")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "seal":
            sealed = chain.seal_all(full=True)
            self.stdout.write(" ".join(f"{k}={v}" for k, v in sealed.items()))
            return
        if action == "purge":
            try:
                day = dt.date.fromisoformat(options["before"])
            except ValueError as exc:
                raise CommandError(f"--before: not a date: {options['before']}") from exc
            before = timezone.make_aware(dt.datetime.combine(day, dt.time()))
            try:
                purged = chain.audit_purge(before=before)
            except ShidianError as exc:
                raise CommandError(exc.message) from exc
            self.stdout.write("purged " + " ".join(f"{k}={v}" for k, v in purged.items()))
            return
        result = chain.audit_verify(seal_first=not options["no_seal"])
        if options["json"]:
            self.stdout.write(json.dumps({"ok": result.ok, "checked": result.checked,
                                          "heads": result.heads,
                                          "problems": [p.as_dict() for p in result.problems]},
                                         ensure_ascii=False))
        else:
            for problem in result.problems:
                self.stdout.write(str(problem))
            heads = " ".join(f"{k}={v[:16]}" for k, v in result.heads.items())
            verdict = "ok" if result.ok else f"FAILED: {len(result.problems)} problems"
            self.stdout.write(f"audit verify: {verdict}; {result.checked} records checked; "
                              f"heads {heads}")
        if not result.ok:
            raise SystemExit(1)
