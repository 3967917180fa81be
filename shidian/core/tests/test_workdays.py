"""Working days follow the State Council's holiday notices, 调休 Saturdays included."""
import datetime as dt

import pytest

from shidian.core import workdays
from shidian.core.errors import ShidianError
from shidian.core.workdays import DayKind

D = dt.date


def test_national_day_2025_is_eight_days_off_and_the_adjusted_weekends_are_working_days():
    # 国务院办公厅 2025 notice: 10月1日至8日放假调休; 9月28日(周日)、10月11日(周六)上班.
    assert not any(workdays.is_workday(D(2025, 10, day)) for day in range(1, 9))
    assert workdays.is_workday(D(2025, 9, 28))   # Sunday, worked
    assert workdays.is_workday(D(2025, 10, 11))  # Saturday, worked
    assert not workdays.is_workday(D(2025, 10, 12))  # an ordinary Sunday


def test_a_five_working_day_notice_posted_before_national_day_runs_past_the_holiday():
    # Posted Tuesday 30 September: day 1 is the 30th, then the holiday, then 9, 10, 11 (Sat), 13.
    assert workdays.period_last_day(D(2025, 9, 30), 5, DayKind.WORKING) == D(2025, 10, 13)


def test_a_notice_counting_working_days_counts_the_adjusted_saturday():
    # Posted Thursday 9 October for 3 working days: 9, 10 and Saturday the 11th (调休).
    assert workdays.period_last_day(D(2025, 10, 9), 3, DayKind.WORKING) == D(2025, 10, 11)


def test_a_notice_posted_on_a_holiday_starts_counting_on_the_next_working_day():
    assert workdays.period_last_day(D(2025, 10, 3), 1, DayKind.WORKING) == D(2025, 10, 9)


def test_a_three_calendar_day_notice_counts_its_first_day():
    assert workdays.period_last_day(D(2025, 10, 1), 3, DayKind.CALENDAR) == D(2025, 10, 3)


def test_a_time_limit_does_not_count_the_day_it_starts():
    # Friday 26 September + 2 working days: Sunday 28th (调休) and Monday 29th.
    assert workdays.deadline_after(D(2025, 9, 26), 2, DayKind.WORKING) == D(2025, 9, 29)
    assert workdays.deadline_after(D(2025, 9, 26), 2, DayKind.CALENDAR) == D(2025, 9, 28)


def test_working_days_between_two_dates_skip_the_holiday_and_keep_the_adjusted_days():
    # 28 Sep (Sun, worked), 29, 30, [1-8 off], 9, 10, 11 (Sat, worked).
    assert workdays.workdays_between(D(2025, 9, 27), D(2025, 10, 12)) == 6


def test_dates_past_the_last_year_of_the_calendar_fail_loudly():
    first, last = workdays.calendar_years()
    with pytest.raises(ShidianError) as caught:
        workdays.is_workday(D(last + 1, 1, 5))
    assert caught.value.extra["reason"] == workdays.REASON_NOT_COVERED
    assert str(last) in caught.value.message
    # A working-day deadline that would run into the uncovered year fails too, not silently.
    with pytest.raises(ShidianError):
        workdays.add_workdays(D(last, 12, 30), 5)


def test_calendar_day_periods_need_no_holiday_data():
    _, last = workdays.calendar_years()
    assert workdays.period_last_day(D(last + 3, 3, 1), 3, "calendar") == D(last + 3, 3, 3)


def test_our_working_days_are_the_librarys_for_every_day_it_covers():
    import chinese_calendar

    first, last = workdays.calendar_years()
    day = D(first, 1, 1)
    while day.year <= last:
        assert workdays.is_workday(day) == chinese_calendar.is_workday(day), day
        day += dt.timedelta(days=1)
