"""System checks of the oversight app (run by ``shidian check`` and at start-up)."""
from __future__ import annotations

from typing import Any

from django.core import checks
from django.utils import timezone


def check_holiday_calendar(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """The ladder counts working days on the official calendar: warn from October of its last
    year, when deadlines early next year come near and cannot be laddered until a newer
    calendar is installed (the State Council publishes next year's notice in the autumn)."""
    from shidian.core.workdays import calendar_years

    _first, last = calendar_years()
    today = timezone.localdate()
    if today.year > last or (today.year == last and today.month >= 10):
        return [checks.Warning(
            f"the holiday calendar (chinesecalendar) ends with {last}: reminders and "
            "escalations for deadlines after it cannot be computed",
            hint="install the chinesecalendar release with next year's State Council notice",
            id="oversight.W001")]
    return []
