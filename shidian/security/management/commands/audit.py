"""shidian audit verify | seal | purge --before YYYY-MM-DD | redact-sealed --reason ...

``verify`` seals pending records, walks every chain and prints each problem (record id, time,
what does not match) and the redactions; it exits 1 when anything does not verify, 0
otherwise. ``redact-sealed`` masks, in old audit and timeline records, the values case types
now seal (a dry run unless ``--apply --user`` a security administrator); it never prints a
value.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from shidian.core.errors import ShidianError
from shidian.security import chain, redaction, selectors


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
        redact = sub.add_parser(
            "redact-sealed",
            help="mask sealed personal information still in clear in old audit records")
        redact.add_argument("--reason", required=True, help="why (kept with each redaction)")
        redact.add_argument("--apply", action="store_true",
                            help="rewrite the records (default: count only)")
        redact.add_argument("--user", default="",
                            help="the security administrator doing it (with --apply)")

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
        if action == "redact-sealed":
            self._redact_sealed(options)
            return
        result = chain.audit_verify(seal_first=not options["no_seal"])
        if options["json"]:
            self.stdout.write(json.dumps({"ok": result.ok, "checked": result.checked,
                                          "redacted": result.redacted, "heads": result.heads,
                                          "problems": [p.as_dict() for p in result.problems]},
                                         ensure_ascii=False))
        else:
            for problem in result.problems:
                self.stdout.write(str(problem))
            heads = " ".join(f"{k}={v[:16]}" for k, v in result.heads.items())
            verdict = "ok" if result.ok else f"FAILED: {len(result.problems)} problems"
            for row in selectors.redactions_summary() if result.redacted else ():
                self.stdout.write(f"redacted: {row['records']} records on {row['day']} by "
                                  f"{row['actor']}: {row['reason']}")
            self.stdout.write(f"audit verify: {verdict}; {result.checked} records checked; "
                              f"{result.redacted} records redacted; heads {heads}")
        if not result.ok:
            raise SystemExit(1)

    def _redact_sealed(self, options: dict[str, Any]) -> None:
        from shidian.orgs.models import User

        actor = None
        if options["apply"]:
            actor = User.objects.filter(username=options["user"]).first()
            if actor is None:
                raise CommandError("--apply needs --user: the security administrator's user "
                                   "name")
        try:
            plan = redaction.sealed_text_redact(actor=actor, reason=options["reason"],
                                                apply=options["apply"])
        except ShidianError as exc:
            raise CommandError(exc.message) from exc
        streams = " ".join(f"{k}={v}" for k, v in sorted(plan.by_stream.items())) or "-"
        verb = "redacted" if options["apply"] else "would redact"
        self.stdout.write(f"{verb} {plan.fields} fields in {plan.records} records ({streams}) "
                          f"of {plan.cases} cases")
        if not options["apply"] and plan.records:
            self.stdout.write("dry run: nothing changed; --apply --user NAME to redact")
