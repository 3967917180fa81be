"""Reporting periods: ``2021`` (year), ``2021H1``, ``2021Q3``, ``2021M06`` (month), ``2021W23``.

A period is an immutable value with its kind, year and number. Weeks are ISO weeks, so
``2021W01`` starts on Monday 2021-01-04 and ``2020W53`` ends on Sunday 2021-01-03; a week's
``year`` is its ISO year. Labels are Chinese through the translation machinery
(``2021年6月``, ``2021年第三季度``, ``2021年第23周``).
"""
from __future__ import annotations

import calendar
import enum
import re
from dataclasses import dataclass
from datetime import date, timedelta

from django.utils.translation import gettext as _

from shidian.core.errors import ErrorCode, ShidianError


class PeriodKind(enum.StrEnum):
    YEAR = "Y"
    HALF = "H"
    QUARTER = "Q"
    MONTH = "M"
    WEEK = "W"


# How many periods of each kind a year holds (weeks vary: 52 or 53).
_PER_YEAR = {PeriodKind.YEAR: 1, PeriodKind.HALF: 2, PeriodKind.QUARTER: 4, PeriodKind.MONTH: 12}
# Months in one period, for the calendar kinds.
_MONTHS = {PeriodKind.YEAR: 12, PeriodKind.HALF: 6, PeriodKind.QUARTER: 3, PeriodKind.MONTH: 1}
_PATTERN = re.compile(r"^(\d{4})(?:([HQMW])(\d{1,2}))?$")
_CN_DIGITS = "零一二三四"


def _weeks_in(iso_year: int) -> int:
    """52 or 53: 28 December always lies in the last ISO week of its year."""
    return date(iso_year, 12, 28).isocalendar().week


@dataclass(frozen=True, order=True)
class Period:
    """One reporting period. Build it with :func:`parse_period` or :func:`period_containing`."""

    year: int
    kind: PeriodKind
    number: int = 1

    def __post_init__(self) -> None:
        if not 1 <= self.year <= 9998:
            raise ShidianError(ErrorCode.INVALID, _("The year of a period is out of range."))
        limit = _weeks_in(self.year) if self.kind == PeriodKind.WEEK else _PER_YEAR[self.kind]
        if not 1 <= self.number <= limit:
            raise ShidianError(ErrorCode.INVALID, _("There is no such period."),
                               {"period": f"{self.year}{self.kind}{self.number}"})

    # -- identity ---------------------------------------------------------------------------
    @property
    def id(self) -> str:
        if self.kind == PeriodKind.YEAR:
            return str(self.year)
        if self.kind in (PeriodKind.MONTH, PeriodKind.WEEK):
            return f"{self.year}{self.kind}{self.number:02d}"
        return f"{self.year}{self.kind}{self.number}"

    def __str__(self) -> str:
        return self.id

    # -- dates ------------------------------------------------------------------------------
    @property
    def start(self) -> date:
        if self.kind == PeriodKind.WEEK:
            return date.fromisocalendar(self.year, self.number, 1)
        first_month = (self.number - 1) * _MONTHS[self.kind] + 1
        return date(self.year, first_month, 1)

    @property
    def end(self) -> date:
        if self.kind == PeriodKind.WEEK:
            return date.fromisocalendar(self.year, self.number, 7)
        last_month = self.number * _MONTHS[self.kind]
        return date(self.year, last_month, calendar.monthrange(self.year, last_month)[1])

    @property
    def last_month(self) -> int:
        """The calendar month the period ends in (for a week: the month of its Sunday)."""
        return self.end.month

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    def overlaps(self, start: date | None, end: date | None) -> bool:
        """Whether the period shares a day with ``[start, end]`` (open ends allowed)."""
        return (start is None or start <= self.end) and (end is None or end >= self.start)

    # -- neighbours -------------------------------------------------------------------------
    def next(self) -> Period:
        if self.kind == PeriodKind.WEEK:
            return period_containing(self.end + timedelta(days=1), self.kind)
        if self.number < _PER_YEAR[self.kind]:
            return Period(self.year, self.kind, self.number + 1)
        return Period(self.year + 1, self.kind, 1)

    def previous(self) -> Period:
        if self.kind == PeriodKind.WEEK:
            return period_containing(self.start - timedelta(days=1), self.kind)
        if self.number > 1:
            return Period(self.year, self.kind, self.number - 1)
        return Period(self.year - 1, self.kind, _PER_YEAR[self.kind])

    def coarser(self) -> list[Period]:
        """The longer calendar periods this one lies in whole, from the closest outwards.

        ``2021M06`` → 2021Q2, 2021H1, 2021. A week holds only those that contain all its
        seven days: ``2021W23`` (7–13 June) lies in 2021M06, but ``2021W26`` (28 June – 4 July)
        lies in 2021 alone, and ``2020W53`` (28 December – 3 January) in none.
        """
        order = [PeriodKind.MONTH, PeriodKind.QUARTER, PeriodKind.HALF, PeriodKind.YEAR]
        if self.kind == PeriodKind.WEEK:
            wider = order
        else:
            wider = [k for k in order if _MONTHS[k] > _MONTHS[self.kind]]
        candidates = [period_containing(self.start, k) for k in wider]
        return [p for p in candidates if p.contains(self.end)]

    # -- words ------------------------------------------------------------------------------
    @property
    def label(self) -> str:
        """The period as a person writes it: 2021年6月, 2021年第三季度, 2021年第23周."""
        values = {"year": self.year, "number": self.number,
                  "cn": _CN_DIGITS[self.number] if self.number < len(_CN_DIGITS) else ""}
        if self.kind == PeriodKind.YEAR:
            return _("Year %(year)s") % values
        if self.kind == PeriodKind.HALF:
            if self.number == 1:
                return _("First half of %(year)s") % values
            return _("Second half of %(year)s") % values
        if self.kind == PeriodKind.QUARTER:
            return _("Quarter %(number)s of %(year)s") % values
        if self.kind == PeriodKind.MONTH:
            return _("Month %(number)s of %(year)s") % values
        return _("Week %(number)s of %(year)s") % values


def parse_period(value: str) -> Period:
    """``2021M06`` → Period; a clear error for anything else (ids come from URLs and forms)."""
    text = (value or "").strip().upper()
    match = _PATTERN.match(text)
    if not match:
        raise ShidianError(ErrorCode.INVALID, _("Not a period: %(value)s") % {"value": value})
    year, kind, number = int(match[1]), match[2], match[3]
    if kind is None:
        return Period(year, PeriodKind.YEAR)
    return Period(year, PeriodKind(kind), int(number))


def period_containing(day: date, kind: PeriodKind | str) -> Period:
    """The period of ``kind`` that holds ``day`` (for weeks: its ISO week)."""
    kind = PeriodKind(kind)
    if kind == PeriodKind.WEEK:
        iso = day.isocalendar()
        return Period(iso.year, kind, iso.week)
    return Period(day.year, kind, (day.month - 1) // _MONTHS[kind] + 1)


def periods_between(first: Period, last: Period) -> list[Period]:
    """Every period of one kind from ``first`` to ``last``, both included."""
    if first.kind != last.kind:
        raise ShidianError(ErrorCode.INVALID, _("Periods of different kinds cannot be ranged."))
    found = []
    current = first
    while current <= last:
        found.append(current)
        current = current.next()
    return found
