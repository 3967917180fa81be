"""``shidian indicators_demo``: demo figures, indicator and target for the seed-11 plan."""
from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from shidian.indicators.demo import indicators_demo_load
from shidian.orgs.models import User


class Command(BaseCommand):
    help = "Load demo figures for the seed-11 plan (run after the demo plans are loaded)."

    def handle(self, *args: Any, **options: Any) -> None:
        actor = User.objects.filter(is_superuser=True).order_by("pk").first()
        if actor is None:
            raise CommandError("no superuser: load the demo first")
        self.stdout.write(indicators_demo_load(actor=actor, log=self.stdout.write))
