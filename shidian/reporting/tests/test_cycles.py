"""Which periods a plan reports for, also long after the plan's time is over."""
from __future__ import annotations

from datetime import date

from shidian.reporting.cycles import CycleRule
from shidian.reporting.models import CycleKind


def monthly(starts_on=None, ends_on=None) -> CycleRule:
    return CycleRule(kind=CycleKind.MONTHLY, due_day=25, grace_days=10, starts_on=starts_on,
                     ends_on=ends_on)


def test_a_plan_that_ended_years_ago_offers_its_last_periods():
    rule = monthly(ends_on=date(2021, 12, 31))
    periods = rule.recent_periods(date(2026, 11, 29), 3)
    assert [p.id for p in periods] == ["2021M12", "2021M11", "2021M10"]
    assert rule.period_due(date(2026, 11, 29)) is None


def test_a_running_plan_offers_the_current_period_first():
    rule = monthly(starts_on=date(2026, 1, 1))
    assert [p.id for p in rule.recent_periods(date(2026, 11, 29), 2)] == ["2026M11", "2026M10"]


def test_periods_before_the_plan_started_are_not_offered():
    rule = monthly(starts_on=date(2026, 10, 1))
    assert [p.id for p in rule.recent_periods(date(2026, 11, 29), 6)] == ["2026M11", "2026M10"]
