"""When reports are due: a plan's cycle, its periods, due dates and the rule that closes them.

The rules follow DHIS2's: a report belongs to a period; it is on time when submitted by the
period's due date (每月25日前 → the 25th of the month reported on); ``grace_days`` after the due
date the period closes and no report is accepted for it any more, unless the office returned
the report for rework (that reopens it for the unit concerned).
"""
from __future__ import annotations

import calendar
import enum
from dataclasses import dataclass
from datetime import date, timedelta

from shidian.core.periods import Period, PeriodKind, period_containing
from shidian.plans.models import Plan

from .models import CycleKind, ExtraCycle, ReportingCycle

PERIOD_KIND = {
    CycleKind.WEEKLY: PeriodKind.WEEK,
    CycleKind.MONTHLY: PeriodKind.MONTH,
    CycleKind.QUARTERLY: PeriodKind.QUARTER,
    CycleKind.HALF_YEARLY: PeriodKind.HALF,
    CycleKind.YEARLY: PeriodKind.YEAR,
}
# Months in one period of each kind but the week: the highest ``due_month``.
MONTHS_IN = {CycleKind.MONTHLY: 1, CycleKind.QUARTERLY: 3, CycleKind.HALF_YEARLY: 6,
             CycleKind.YEARLY: 12}
# A plan whose office has not set a cycle reports monthly, by the 25th (the most common rule
# in the seed plans), and may still report ten days after that.
DEFAULT_DUE_DAY = 25
DEFAULT_GRACE_DAYS = 10
DEFAULT_WEEKDAY = 5  # Friday, for weekly cycles
# How many periods back a unit may still find open (grace is shorter than a period in practice).
_LOOK_BACK = 3


class PeriodState(enum.StrEnum):
    FUTURE = "future"
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True)
class CycleRule:
    """The plain facts of a cycle, detached from the database row."""

    kind: str
    due_day: int
    grace_days: int
    starts_on: date | None
    ends_on: date | None
    due_month: int = 0  # the month of the period reports are due in (1 = first); 0 = last
    key: str = ""  # a further cycle's key ("" for the plan's own cycle)
    label: str = ""  # a further cycle's report (工作周报, 年度总结)

    @property
    def period_kind(self) -> PeriodKind:
        return PERIOD_KIND[CycleKind(self.kind)]

    def due_date(self, period: Period) -> date:
        if self.kind == CycleKind.WEEKLY:
            weekday = self.due_day if 1 <= self.due_day <= 7 else DEFAULT_WEEKDAY
            return period.start + timedelta(days=weekday - 1)
        month_end = period.end
        if 0 < self.due_month < period.end.month - period.start.month + 1:
            month_end = date(period.start.year, period.start.month + self.due_month - 1, 1)
        last_day = calendar.monthrange(month_end.year, month_end.month)[1]
        return date(month_end.year, month_end.month, min(max(self.due_day, 1), last_day))

    def closes_after(self, period: Period) -> date:
        """The last day on which a report for ``period`` is accepted."""
        return self.due_date(period) + timedelta(days=self.grace_days)

    def is_expected(self, period: Period) -> bool:
        """Whether the plan reports for this period at all (inside the plan's time span)."""
        return period.overlaps(self.starts_on, self.ends_on)

    def state(self, period: Period, today: date) -> PeriodState:
        if today < period.start:
            return PeriodState.FUTURE
        if today <= self.closes_after(period):
            return PeriodState.OPEN
        return PeriodState.CLOSED

    def current_period(self, today: date) -> Period:
        return period_containing(today, self.period_kind)

    def periods_open(self, today: date) -> list[Period]:
        """The periods a unit may report for today, oldest first."""
        current = self.current_period(today)
        candidates = [current]
        for _ in range(_LOOK_BACK):
            candidates.insert(0, candidates[0].previous())
        return [p for p in candidates
                if self.state(p, today) == PeriodState.OPEN and self.is_expected(p)]

    def period_due(self, today: date) -> Period | None:
        """The period whose reports are asked for now: the oldest open one."""
        open_periods = self.periods_open(today)
        return open_periods[0] if open_periods else None

    def recent_periods(self, today: date, count: int = 6) -> list[Period]:
        """The current period and the ones before it, newest first (for period pickers)."""
        found: list[Period] = []
        if self.ends_on and today > self.ends_on:  # a plan that ended: start from its end
            today = self.ends_on
        period = self.current_period(today)
        for _ in range(count * 40):  # bounded: a plan's start may lie far back
            if len(found) >= count:
                break
            if self.is_expected(period):
                found.append(period)
            elif self.starts_on and period.end < self.starts_on:
                break
            period = period.previous()
        return found


def cycle_of(plan: Plan) -> ReportingCycle:
    """The plan's cycle, or the default one (unsaved) when the office has not set it."""
    try:
        return plan.cycle
    except ReportingCycle.DoesNotExist:
        return ReportingCycle(plan=plan, kind=CycleKind.MONTHLY, due_day=DEFAULT_DUE_DAY,
                              grace_days=DEFAULT_GRACE_DAYS, starts_on=plan.period_start)


def rule_of(plan: Plan) -> CycleRule:
    cycle = cycle_of(plan)
    return CycleRule(kind=cycle.kind, due_day=cycle.due_day, grace_days=cycle.grace_days,
                     starts_on=cycle.starts_on or plan.period_start, ends_on=plan.period_end,
                     due_month=cycle.due_month)


def rules_of(plan: Plan) -> list[CycleRule]:
    """Every cycle the plan's units report on: the plan's own first, then the further ones
    (``ExtraCycle``: a pack's weekly report, an annual summary) by key. Extra cycles loaded
    with the plan (``prefetch_related("extra_cycles")``) are used as they are."""
    cached = getattr(plan, "_prefetched_objects_cache", {}).get("extra_cycles")
    extras = list(cached) if cached is not None else list(
        ExtraCycle.objects.filter(plan_id=plan.pk).order_by("key"))
    return [rule_of(plan)] + [
        CycleRule(kind=c.kind, due_day=c.due_day, grace_days=c.grace_days,
                  starts_on=c.starts_on or plan.period_start, ends_on=plan.period_end,
                  due_month=c.due_month, key=c.key, label=c.label)
        for c in sorted(extras, key=lambda c: c.key)]


def rule_for_period(plan: Plan, period: Period) -> CycleRule | None:
    """The plan's cycle whose periods are of ``period``'s kind (a plan has one per kind)."""
    return next((r for r in rules_of(plan) if r.period_kind == period.kind), None)
