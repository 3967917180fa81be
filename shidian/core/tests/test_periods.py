"""Periods as the plans write them: 2021, 2021H1, 2021Q3, 2021M06, 2021W23."""
from datetime import date, timedelta

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from shidian.core.errors import ErrorCode, ShidianError
from shidian.core.i18n import compile_catalogs
from shidian.core.periods import (Period, PeriodKind, parse_period, period_containing,
                                  periods_between)



@pytest.fixture(autouse=True, scope="module")
def _catalogs_compiled():
    """The reporting catalog holds the labels: compile it and drop catalogs loaded before."""
    import gettext

    from django.utils.translation import trans_real

    compile_catalogs()
    gettext._translations.clear()
    trans_real._translations = {}
    trans_real._default = None


@pytest.mark.parametrize("text,kind,year,number", [
    ("2021", PeriodKind.YEAR, 2021, 1),
    ("2021H1", PeriodKind.HALF, 2021, 1),
    ("2021Q3", PeriodKind.QUARTER, 2021, 3),
    ("2021M06", PeriodKind.MONTH, 2021, 6),
    ("2021W23", PeriodKind.WEEK, 2021, 23),
])
def test_period_ids_parse_and_format_back(text, kind, year, number):
    period = parse_period(text)
    assert (period.kind, period.year, period.number) == (kind, year, number)
    assert period.id == text


def test_month_id_without_leading_zero_is_normalised():
    assert parse_period("2021m6").id == "2021M06"


@pytest.mark.parametrize("text", ["", "21M06", "2021M13", "2021M00", "2021Q5", "2021H3",
                                  "2021W54", "2021W53", "2021X01", "2021-06"])
def test_nonsense_period_ids_are_refused(text):
    # 2021 has 52 ISO weeks, so 2021W53 does not exist (2020W53 does).
    with pytest.raises(ShidianError) as caught:
        parse_period(text)
    assert caught.value.code == ErrorCode.INVALID


def test_iso_week_53_exists_in_long_years():
    week = parse_period("2020W53")
    assert week.start == date(2020, 12, 28)
    assert week.end == date(2021, 1, 3)
    assert week.next().id == "2021W01"
    assert parse_period("2021W01").previous().id == "2020W53"


@pytest.mark.parametrize("text,start,end", [
    ("2021", date(2021, 1, 1), date(2021, 12, 31)),
    ("2021H2", date(2021, 7, 1), date(2021, 12, 31)),
    ("2021Q1", date(2021, 1, 1), date(2021, 3, 31)),
    ("2024M02", date(2024, 2, 1), date(2024, 2, 29)),
    ("2021M02", date(2021, 2, 1), date(2021, 2, 28)),
    ("2021W23", date(2021, 6, 7), date(2021, 6, 13)),
])
def test_start_and_end_dates(text, start, end):
    period = parse_period(text)
    assert (period.start, period.end) == (start, end)


def test_chinese_labels():
    with translation.override("zh-hans"):
        assert parse_period("2021M06").label == "2021年6月"
        assert parse_period("2021Q3").label == "2021年第三季度"
        assert parse_period("2021W23").label == "2021年第23周"
        assert parse_period("2021H1").label == "2021年上半年"
        assert parse_period("2021H2").label == "2021年下半年"
        assert parse_period("2021").label == "2021年"


def test_next_and_previous_cross_year_ends():
    assert parse_period("2021M12").next().id == "2022M01"
    assert parse_period("2022Q1").previous().id == "2021Q4"
    assert parse_period("2021H2").next().id == "2022H1"
    assert parse_period("2021").next().id == "2022"


def test_containing_a_date():
    day = date(2021, 6, 30)
    assert period_containing(day, PeriodKind.MONTH).id == "2021M06"
    assert period_containing(day, "Q").id == "2021Q2"
    assert period_containing(day, PeriodKind.HALF).id == "2021H1"
    assert period_containing(day, PeriodKind.YEAR).id == "2021"
    assert period_containing(day, PeriodKind.WEEK).id == "2021W26"
    # 1 January 2021 is a Friday of the last ISO week of 2020.
    assert period_containing(date(2021, 1, 1), PeriodKind.WEEK).id == "2020W53"


def test_coarser_periods():
    assert [p.id for p in parse_period("2021M06").coarser()] == ["2021Q2", "2021H1", "2021"]
    assert [p.id for p in parse_period("2021Q3").coarser()] == ["2021H2", "2021"]
    assert [p.id for p in parse_period("2021W23").coarser()] == [
        "2021M06", "2021Q2", "2021H1", "2021"]
    assert [p.id for p in parse_period("2021W26").coarser()] == ["2021"]
    assert parse_period("2020W53").coarser() == []
    assert parse_period("2021").coarser() == []


def test_periods_between_and_order():
    months = periods_between(parse_period("2021M11"), parse_period("2022M02"))
    assert [p.id for p in months] == ["2021M11", "2021M12", "2022M01", "2022M02"]
    assert parse_period("2021M11") < parse_period("2022M01")
    with pytest.raises(ShidianError):
        periods_between(parse_period("2021M11"), parse_period("2022Q1"))


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31)),
       st.sampled_from(list(PeriodKind)))
def test_every_day_lies_in_exactly_its_period_and_periods_tile_the_calendar(day, kind):
    period = period_containing(day, kind)
    assert period.contains(day)
    assert parse_period(period.id) == period
    # Consecutive periods tile time with no gap and no overlap.
    assert period.next().start == period.end + timedelta(days=1)
    assert period.previous().end == period.start - timedelta(days=1)
    assert period.next().previous() == period
    for wider in period.coarser():
        assert wider.start <= period.start and period.end <= wider.end
