"""Follow-up schedules (``followup:`` section): intervals chosen by a finding's value, runs
of the same value, due days moved off rest days, and the loader's checks."""
import copy
import datetime as dt

from shidian.cases import definitions, followups

from .packs import CASE_TYPE, write_pack

SCHEDULE = {
    "by": "grade", "stages": ["applied"], "first": {"weeks": 2}, "day_kind": "working",
    "actor": {"roles": ["case_worker"], "levels": ["village"]},
    "fields": [{"key": "grade", "type": "choice", "label": "等级", "required": True,
                "choices": [{"key": "low"}, {"key": "high"}]}],
    "intervals": {"low": [{"months": 3}], "high": [{"weeks": 2}, {"months": 1}]},
    "flags": {"high": "refer"},
}


def _load(tmp_path, schedule):
    case_type = copy.deepcopy(CASE_TYPE)
    case_type["followup"] = schedule
    pack, problems = definitions.load_pack(write_pack(tmp_path / "p", case_type=case_type))
    return pack, problems


def test_a_schedule_section_loads_into_the_case_type(tmp_path):
    pack, problems = _load(tmp_path, SCHEDULE)
    assert problems == []
    schedule = followups.followup_of(pack.case_types[0])
    assert schedule.by == "grade" and schedule.flags == {"high": "refer"}
    assert [str(i) for i in schedule.steps("high")] == ["2周", "1个月"]


def test_a_broken_schedule_is_reported_with_stable_ids(tmp_path):
    broken = copy.deepcopy(SCHEDULE)
    broken["by"] = "nothing"
    broken["stages"] = ["nowhere"]
    broken["intervals"] = {"low": [{"fortnights": 1}]}
    _, problems = _load(tmp_path, broken)
    ids = sorted({p.id for p in problems})
    assert ids == ["packs.E003", "packs.E006"]
    text = " ".join(str(p) for p in problems)
    assert "nothing" in text and "nowhere" in text and "interval" in text
    missing = copy.deepcopy(SCHEDULE)
    del missing["intervals"]["high"]
    _, problems = _load(tmp_path / "again", missing)
    assert "no interval for grade = 'high'" in " ".join(str(p) for p in problems)


def test_months_end_on_the_last_day_and_runs_of_one_value_change_the_interval(tmp_path):
    pack, _ = _load(tmp_path, SCHEDULE)
    schedule = followups.followup_of(pack.case_types[0])
    assert followups.Interval(months=1).after(dt.date(2021, 1, 31)) == dt.date(2021, 2, 28)
    assert followups.Interval(months=3).after(dt.date(2020, 11, 30)) == dt.date(2021, 2, 28)
    assert followups.run_length(["low", "high", "high"], "high") == 2
    assert followups.run_length(["high", "low"], "high") == 0
    # high, first in a row: two weeks; second: a month (2021-03-05 → 04-05, 清明 holiday
    # 2021-04-03..05, so the next working day 04-06).
    assert followups.next_due(schedule, value="high", visited_on=dt.date(2021, 3, 1),
                              run=1) == (dt.date(2021, 3, 15), "")
    assert followups.next_due(schedule, value="high", visited_on=dt.date(2021, 3, 5),
                              run=2) == (dt.date(2021, 4, 6), "")
    assert followups.next_due(schedule, value="high", visited_on=dt.date(2021, 3, 5),
                              run=7) == (dt.date(2021, 4, 6), "")
    # Past the holiday calendar the calendar day stays, with the reason.
    day, why = followups.next_due(schedule, value="low", visited_on=dt.date(2099, 1, 10),
                                  run=1)
    assert day == dt.date(2099, 4, 10) and why
