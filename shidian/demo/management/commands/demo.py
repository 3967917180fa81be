"""``shidian demo``: load the demo into the configured database (safe to run twice)."""
from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Load the demo: seed plans, agencies, demo users and some reports."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-villages", action="store_true",
                            help="load divisions down to townships only (faster)")

    def handle(self, *args: Any, no_villages: bool, **options: Any) -> None:
        from shidian.demo.logins import demo_logins
        from shidian.demo.services import demo_load

        result = demo_load(log=self.stdout.write, with_villages=not no_villages)
        self.stdout.write(
            f"演示数据：新增方案 {len(result.plans_added)} 个、单位 {result.agencies_added} 个、"
            f"用户 {len(result.users_added)} 个、进展报告 {result.reports_added} 份")
        for username, password, role in demo_logins():
            self.stdout.write(f"  {username:<28} {password:<14} {role}")
