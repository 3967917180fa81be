"""The ladder's dates on the official calendar: holidays do not count, 调休 weekends do."""
from datetime import date, timedelta

import pytest

from shidian.core.errors import ShidianError
from shidian.oversight import ladder
from shidian.oversight.ladder import LadderRule, Light, Stage

# 2021 National Day: 1-7 October off; Sunday 26 September and Saturday 9 October are worked.
DUE = date(2021, 9, 30)  # a Thursday
RULE = LadderRule(remind_days=4, escalate_days=5)


def test_a_reminder_starts_on_an_adjusted_working_sunday():
    # Four working days before Thursday 30 September: 29, 28, 27 and Sunday 26 (调休).
    assert ladder.remind_from(DUE, RULE) == date(2021, 9, 26)
    assert ladder.stage_on(DUE, date(2021, 9, 25), RULE) == Stage.NONE
    assert ladder.stage_on(DUE, date(2021, 9, 26), RULE) == Stage.REMIND
    assert ladder.stage_on(DUE, DUE, RULE) == Stage.REMIND


def test_urging_starts_the_day_after_the_deadline_even_on_a_holiday():
    assert ladder.stage_on(DUE, date(2021, 10, 1), RULE) == Stage.URGE


def test_escalation_waits_out_the_golden_week_and_counts_the_working_saturday():
    # After 30 September: 8 Oct (Fri), 9 Oct (Sat, 调休), 11, 12, 13 Oct = five working days.
    assert ladder.escalate_after(DUE, RULE) == date(2021, 10, 13)
    assert ladder.stage_on(DUE, date(2021, 10, 13), RULE) == Stage.URGE
    assert ladder.stage_on(DUE, date(2021, 10, 14), RULE) == Stage.ESCALATE
    # A Monday-to-Friday count would have escalated during the holiday.
    naive, left = DUE, 5
    while left:
        naive += timedelta(days=1)
        left -= naive.weekday() < 5
    assert naive == date(2021, 10, 7)
    assert ladder.stage_on(DUE, naive + timedelta(days=1), RULE) == Stage.URGE


def test_spring_festival_pushes_escalation_back():
    # 2021 Spring Festival: 11-17 February off; Sunday 7 and Saturday 20 February worked.
    due = date(2021, 2, 10)  # a Wednesday
    rule = LadderRule(remind_days=3, escalate_days=3)
    assert ladder.escalate_after(due, rule) == date(2021, 2, 20)  # 18, 19 and the Saturday
    assert ladder.stage_on(due, date(2021, 2, 20), rule) == Stage.URGE
    assert ladder.stage_on(due, date(2021, 2, 21), rule) == Stage.ESCALATE
    assert ladder.remind_from(due, rule) == date(2021, 2, 7)  # 9, 8 and the working Sunday


def test_lights_follow_the_stage():
    assert ladder.light_of(Stage.NONE) == Light.GREEN
    assert ladder.light_of(Stage.REMIND) == Light.GREEN
    assert ladder.light_of(Stage.URGE) == Light.YELLOW
    assert ladder.light_of(Stage.ESCALATE) == Light.RED
    assert ladder.worst([Light.GREEN, Light.RED, Light.YELLOW]) == Light.RED
    assert ladder.worst([]) == Light.GREEN


def test_a_deadline_far_ahead_needs_no_calendar():
    # 2030 lies past the installed calendar: far from it, nothing is asked of the calendar.
    assert ladder.stage_on(date(2030, 6, 30), date(2021, 6, 1), RULE) == Stage.NONE


def test_past_the_calendar_the_ladder_refuses_to_guess():
    with pytest.raises(ShidianError) as caught:
        ladder.stage_on(date(2030, 6, 30), date(2030, 6, 29), RULE)
    assert caught.value.extra["reason"] == "calendar_not_covered"
