"""A patient's follow-up schedule by danger grade, with a missed visit, worked through the
2020 official calendar (scenarios/followup.yaml), and the rates it gives per month."""
import datetime as dt
from pathlib import Path

import pytest
import yaml

from shidian.cases import followups, needtoknow
from shidian.cases import services as case_services
from shidian.cases.models import Case, CaseEvent, EventKind, FollowUp
from shidian.core.errors import ShidianError
from shidian.core.periods import parse_period
from shidian.packs.psych import figures
from shidian.packs.psych.testing import VILLAGES, patient_values

SCENARIO = yaml.safe_load((Path(__file__).resolve().parent.parent / "scenarios" /
                           "followup.yaml").read_text(encoding="utf-8"))


def _register(world, registered_on):
    case = case_services.case_create(
        user=world.grid, programme=world.patients, today=registered_on,
        values=patient_values(registered_on=registered_on.isoformat()))
    return case


def _team(world, case):
    # The grid worker registered the case and is on its team; the township's 精防 manager
    # (here the doctor, once responsible) completes it.
    needtoknow.member_add(user=world.grid, case=case, member=world.doctor,
                          duty="psych_doctor", initial=True)
    needtoknow.member_add(user=world.doctor, case=case, member=world.police, duty="police")


@pytest.mark.django_db
def test_the_schedule_follows_the_danger_grade_and_a_missed_visit_is_flagged(world):
    registered_on = SCENARIO["registered_on"]
    case = _register(world, registered_on)
    _team(world, case)
    first = FollowUp.objects.get(case=case, done_on__isnull=True)
    assert first.due_on == SCENARIO["first_due"]

    for visit in SCENARIO["visits"]:
        for check in SCENARIO["missed"]:
            if visit["visited"] > check["as_of"] >= visit["due"] - dt.timedelta(days=1):
                missed = followups.visits_missed(Case.objects.filter(pk=case.pk),
                                                 today=check["as_of"])
                assert [v.due_on for v in missed] == check["missed"], check
        made, following = followups.visit_record(
            user=world.doctor, case_id=case.pk, visited_on=visit["visited"], today=visit["visited"],
            values={"risk_grade": visit["risk_grade"], "medication": visit["medication"],
                    "guidance": True, "visit_mode": "home"})
        assert made.due_on == visit["due"], visit["note"]
        assert following.due_on == visit["next"], visit["note"]
        event = CaseEvent.objects.filter(case=case, kind=EventKind.FOLLOWUP).last()
        assert event.data["late"] is bool(visit.get("late")), visit["note"]
        assert event.data["flag"] == visit.get("flag", ""), visit["note"]

    # The findings are encrypted at rest: the grade is not in the stored text.
    stored = FollowUp.objects.filter(case=case, done_on__isnull=False).first().data
    assert "risk_grade" not in stored and "regular" not in stored


@pytest.mark.django_db
def test_a_double_submit_records_the_visit_once(world):
    """保存 clicked twice (or an API call resent): one visit, one next visit; a second visit on
    the same day with other findings is a real one and is recorded."""
    registered_on = SCENARIO["registered_on"]
    case = _register(world, registered_on)
    _team(world, case)
    day = SCENARIO["first_due"]
    values = {"risk_grade": 1, "medication": "regular", "guidance": True, "visit_mode": "home"}
    first = followups.visit_record(user=world.doctor, case_id=case.pk, visited_on=day,
                                   today=day, values=values)
    again = followups.visit_record(user=world.doctor, case_id=case.pk, visited_on=day,
                                   today=day, values=values)
    assert [v.pk for v in again] == [v.pk for v in first]
    assert FollowUp.objects.filter(case=case, done_on__isnull=False).count() == 1
    assert FollowUp.objects.filter(case=case, done_on__isnull=True).count() == 1
    assert CaseEvent.objects.filter(case=case, kind=EventKind.FOLLOWUP).count() == 1

    worse = {**values, "risk_grade": 3}
    followups.visit_record(user=world.doctor, case_id=case.pk, visited_on=day, today=day,
                           values=worse)
    assert FollowUp.objects.filter(case=case, done_on__isnull=False).count() == 2


@pytest.mark.django_db
def test_missed_visits_are_noted_once(world):
    case = _register(world, dt.date(2020, 6, 3))
    cases = Case.objects.filter(pk=case.pk)
    assert followups.missed_note(cases=cases, today=dt.date(2020, 6, 17)) == []
    noted = followups.missed_note(cases=cases, today=dt.date(2020, 6, 18))
    assert [v.due_on for v in noted] == [dt.date(2020, 6, 17)]
    assert followups.missed_note(cases=cases, today=dt.date(2020, 6, 19)) == []


@pytest.mark.django_db
def test_only_the_team_records_visits_and_not_in_the_future(world):
    case = _register(world, dt.date(2020, 6, 3))
    with pytest.raises(ShidianError) as err:
        followups.visit_record(user=world.township, case_id=case.pk,
                               visited_on=dt.date(2020, 6, 17), today=dt.date(2020, 6, 17),
                               values={"risk_grade": "0", "medication": "regular"})
    assert err.value.extra["reason"] == "not_found"  # need-to-know: not even visible
    with pytest.raises(ShidianError) as err:
        followups.visit_record(user=world.grid, case_id=case.pk,
                               visited_on=dt.date(2020, 6, 18), today=dt.date(2020, 6, 17),
                               values={"risk_grade": "0", "medication": "regular"})
    assert err.value.extra["reason"] == followups.REASON_DATE
    with pytest.raises(ShidianError) as err:
        followups.visit_record(user=world.grid, case_id=case.pk,
                               visited_on=dt.date(2020, 6, 17), today=dt.date(2020, 6, 17),
                               values={"risk_grade": "9", "medication": "regular"})
    assert "risk_grade" in err.value.extra["errors"]
    assert not FollowUp.objects.filter(case=case, done_on__isnull=False).exists()


@pytest.mark.django_db
def test_regular_management_and_treatment_rates_per_month(world):
    case = _register(world, SCENARIO["registered_on"])
    _team(world, case)
    for visit in SCENARIO["visits"]:
        followups.visit_record(
            user=world.doctor, case_id=case.pk, visited_on=visit["visited"], today=visit["visited"],
            values={"risk_grade": visit["risk_grade"], "medication": visit["medication"]})
    data_set = figures.indicators_setup(user=world.office, division=world.patients.division)
    for month in SCENARIO["months"]:
        figures.figures_push(user=world.office, data_set=data_set, period=month["period"],
                             patients=world.patients)
        rows = figures.patient_figures(programme=world.patients, area="510521",
                                       period=parse_period(month["period"]))
        row = rows[VILLAGES[0]]
        assert (row["patients"], row["regular"], row["treated"]) == (
            month["patients"], month["regular"], month["treated"]), month
    from shidian.indicators.models import IndicatorValue

    regular = figures.indicator_by_key("regular_rate")
    values = dict(IndicatorValue.objects.filter(indicator_id=regular.pk, code="510521")
                  .values_list("period", "value"))
    assert values["2020M10"] == 0 and values["2020M11"] == 100


@pytest.mark.django_db
def test_a_missed_visit_reaches_the_teams_inbox_once_without_the_patients_name(world):
    from shidian.oversight.selectors import inbox_messages
    from shidian.packs.psych.services import missed_visits_notify

    case = _register(world, dt.date(2020, 6, 3))
    _team(world, case)
    assert missed_visits_notify(today=dt.date(2020, 6, 17)) == 0
    assert missed_visits_notify(today=dt.date(2020, 6, 18)) == 2  # the grid worker, the doctor
    assert missed_visits_notify(today=dt.date(2020, 6, 19)) == 0
    for user in (world.grid, world.doctor):
        (message,) = inbox_messages(user=user)
        assert case.number in message.subject and "李建国" not in message.subject + message.body
    assert not inbox_messages(user=world.police).exists()  # not a duty that records visits


@pytest.mark.django_db
def test_shidian_tick_tells_the_team_about_a_missed_visit_once(world):
    """The scheduler runs the pack's job: no one has to open the follow-up board first."""
    from shidian.oversight.selectors import inbox_messages
    from shidian.oversight.tick import tick_run

    case = _register(world, dt.date(2020, 6, 3))
    _team(world, case)
    assert tick_run(today=dt.date(2020, 6, 17)).sent == 0
    assert tick_run(today=dt.date(2020, 6, 18)).sent == 2
    assert tick_run(today=dt.date(2020, 6, 18)).sent == 0  # idempotent
    assert inbox_messages(user=world.doctor).count() == 1
