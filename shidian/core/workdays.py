"""Working-day arithmetic on China's official holiday calendar (国务院办公厅 holiday notices).

Plans say "5个工作日内" and "公示期不少于3天": a working day is a day the State Council's notice
makes one, which includes the adjusted weekend days (调休, e.g. Saturday 2025-10-11) and excludes
the holidays (国庆 2025-10-01 … 10-08). The data come from the ``chinesecalendar`` library, which
is kept up to date each December when the next year's notice is published. It knows only the
years it ships; asking about a later year raises a clear error instead of guessing Monday–Friday.

Two counting conventions, both used by the plans:

* ``period_last_day(start, n, kind)``: a period that *begins* on ``start`` and lasts ``n`` days,
  the start day counted (a public notice posted on 1 October for 3 days runs 1, 2 and 3
  October). For working days, the start counts only if it is a working day.
* ``deadline_after(start, n, kind)``: a time limit of ``n`` days *after* an event, the event's
  own day not counted (行政许可法 §82: 期限开始之日不计算在内): a stage entered on Friday with
  "2个工作日内" is due on the following Tuesday.
"""
from __future__ import annotations

import datetime as dt
import enum
from functools import lru_cache

from chinese_calendar import constants as _calendar_data
from django.utils.translation import gettext as _

from shidian.core.errors import ErrorCode, ShidianError

REASON_NOT_COVERED = "calendar_not_covered"


class DayKind(enum.StrEnum):
    CALENDAR = "calendar"
    WORKING = "working"


@lru_cache(maxsize=1)
def calendar_years() -> tuple[int, int]:
    """First and last year the installed holiday calendar covers (2004, 2026 for 1.11.0)."""
    years = {d.year for d in _calendar_data.holidays} | {d.year for d in _calendar_data.workdays}
    return min(years), max(years)


def _covered(day: dt.date) -> None:
    first, last = calendar_years()
    if not first <= day.year <= last:
        raise ShidianError(
            ErrorCode.INVALID,
            _("The official holiday calendar covers the years %(first)s to %(last)s only; "
              "%(date)s is outside it. Install a newer chinesecalendar release.")
            % {"first": first, "last": last, "date": day.isoformat()},
            {"reason": REASON_NOT_COVERED, "date": day.isoformat(), "first_year": first,
             "last_year": last},
        )


def is_workday(day: dt.date) -> bool:
    """True on official working days, adjusted weekend days (调休) included.

    The same rule as ``chinese_calendar.is_workday`` on the library's own tables, without its
    per-call range check (a min/max over every holiday, ~0.1 ms, which a bulk stage move of
    100,000 cases would pay a million times); the range is checked by ``_covered``.
    """
    _covered(day)
    if day in _calendar_data.workdays:
        return True
    if day in _calendar_data.holidays:
        return False
    return day.weekday() < 5


def next_workday(day: dt.date) -> dt.date:
    """``day`` itself when it is a working day, else the first working day after it."""
    while not is_workday(day):
        day += dt.timedelta(days=1)
    return day


def add_workdays(day: dt.date, n: int) -> dt.date:
    """The ``n``-th working day after ``day`` (``day`` itself not counted); ``n`` ≥ 0.

    ``add_workdays(d, 0)`` is ``d`` when it is a working day, else the next working day.
    """
    if n < 0:
        raise ValueError("n must not be negative")
    if n == 0:
        return next_workday(day)
    while n:
        day += dt.timedelta(days=1)
        if is_workday(day):
            n -= 1
    return day


def workdays_between(first: dt.date, last: dt.date) -> int:
    """Working days from ``first`` to ``last``, both included (0 when ``last`` < ``first``)."""
    count = 0
    day = first
    while day <= last:
        count += is_workday(day)
        day += dt.timedelta(days=1)
    return count


def period_last_day(start: dt.date, n: int, kind: DayKind | str) -> dt.date:
    """The last day of a period of ``n`` days beginning on ``start`` (start counted)."""
    if n < 1:
        raise ValueError("a period lasts at least one day")
    if DayKind(kind) is DayKind.CALENDAR:
        return start + dt.timedelta(days=n - 1)
    return add_workdays(next_workday(start), n - 1)


@lru_cache(maxsize=4096)
def deadline_after(start: dt.date, n: int, kind: DayKind | str) -> dt.date:
    """The day a time limit of ``n`` days after ``start`` runs out (start not counted)."""
    if DayKind(kind) is DayKind.CALENDAR:
        return start + dt.timedelta(days=n)
    return add_workdays(start, n)
