"""The relation sections of the case engine: parties with a limit, agreements with conditional
signatories, schedules with attendance, weighted assessments, institution ownership with
transfers. Sections are read from the apprenticeship and hospice packs, broken on purpose in a
copy to see the start-up checks fire."""
from __future__ import annotations

import copy
import datetime as dt
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.db import connection, transaction

from shidian.cases import definitions, parties, schedules, transfers
from shidian.cases.relation_models import Attendance, CaseParty, CaseTransfer, SchedulePeriod
from shidian.cases.relation_scenarios import Run, run_relation_scenario
from shidian.core.errors import ShidianError

PACKS = Path(__file__).resolve().parents[2] / "packs"
APPRENTICE = yaml.safe_load((PACKS / "apprenticeship" / "case_type.yaml").read_text("utf-8"))


def _problems(tmp_path: Path, case_type: dict[str, Any]) -> list[definitions.PackProblem]:
    folder = tmp_path / "copy"
    folder.mkdir()
    (folder / "pack.yaml").write_text(yaml.safe_dump({"key": "copy", "label": "copy"}), "utf-8")
    (folder / "case_type.yaml").write_text(yaml.safe_dump(case_type, allow_unicode=True),
                                           "utf-8")
    return definitions.load_pack(folder)[1]


def _ids(problems: list[definitions.PackProblem]) -> list[tuple[str, str]]:
    return [(p.id, p.where) for p in problems]


def test_the_apprenticeship_sections_load_without_problems(tmp_path):
    assert _problems(tmp_path, APPRENTICE) == []


@pytest.mark.parametrize(("change", "problem"), [
    (lambda c: c["agreements"]["training"]["parties"].append("notary"), "packs.E003"),
    (lambda c: c["agreements"]["training"].update(before=["fly"]), "packs.E003"),
    (lambda c: c["agreements"]["training"]["also"][0].update(when="age >= sixteen"),
     "packs.E004"),
    (lambda c: c["agreements"]["training"]["also"][0]["examples"].append(
        {"given": {"age": 15}, "expect": True}), "packs.E005"),
    (lambda c: c["parties"]["mentor"].update(limit=0), "packs.E006"),
    (lambda c: c["schedule"]["templates"]["cognition-operation"]["periods"].append(
        {"kind": "holiday", "months": 1}), "packs.E003"),
    (lambda c: c["assessments"]["term"]["assessors"].update(mentor=0.6), "packs.E006"),
    (lambda c: c["assessments"]["term"]["assessors"].update(principal=0), "packs.E003"),
    (lambda c: c["fields"][4].update(sensitive=True, type="date"), "packs.E006"),
    (lambda c: c["report"]["parts"].append({"key": "x", "heading": "x", "generated": "poem"}),
     "packs.E006"),
    (lambda c: c.update(ownership={"sites": {"case_type": "x"}}), "packs.E006"),
])
def test_a_broken_section_is_reported_with_its_id(tmp_path, change, problem):
    case_type = copy.deepcopy(APPRENTICE)
    change(case_type)
    assert problem in [p.id for p in _problems(tmp_path, case_type)]


def test_a_template_gives_consecutive_periods_of_whole_months():
    definition = schedules.schedule_def(definitions.case_type_get("apprentice"))
    periods = schedules.periods_from_template(definition, "cognition-operation",
                                              dt.date(2016, 7, 9))
    assert [(p["kind"], p["starts_on"], p["ends_on"]) for p in periods] == [
        ("school", dt.date(2016, 7, 9), dt.date(2016, 11, 8)),
        ("enterprise", dt.date(2016, 11, 9), dt.date(2016, 12, 8)),
        ("school", dt.date(2016, 12, 9), dt.date(2017, 3, 8)),
        ("enterprise", dt.date(2017, 3, 9), dt.date(2017, 5, 8)),
    ]
    # A month after 31 January ends on the last day of February.
    assert schedules.add_months(dt.date(2017, 1, 31), 1) == dt.date(2017, 2, 28)


SETUP = {
    "case_type": "apprentice",
    "programme": {"division": "5105", "year": 2016},
    "today": "2016-09-01",
    "agencies": {"school": {"name": "乾县职业教育中心", "division": "510521"}},
    "users": {"clerk": {"role": "pilot_site", "division": "510521", "agencies": ["school"]}},
    "steps": [],
}


def _run(steps: list[dict[str, Any]]) -> Run:
    return run_relation_scenario(definitions.case_type_get("apprentice"),
                                 {**SETUP, "steps": steps})


@pytest.mark.django_db
def test_the_guardian_is_required_from_the_16th_birthday_to_the_day_before_the_18th():
    run = _run([{"as": "clerk", "register": {"student_name": "甲", "born": "2000-09-01",
                                             "county": "510521", "major": "数控"}}])
    case_type = definitions.case_type_get("apprentice")
    agreement = parties.agreement_defs(case_type)["training"]
    case = run.cases["a"]

    def needs_guardian(day: dt.date) -> bool:
        return "guardian" in [r for r, _ in parties.required_parties(case_type, case,
                                                                     agreement, day)]
    assert not needs_guardian(dt.date(2016, 8, 31))  # 15
    assert needs_guardian(dt.date(2016, 9, 1))  # 16 that day
    assert needs_guardian(dt.date(2018, 8, 31))  # 17
    assert not needs_guardian(dt.date(2018, 9, 1))  # 18


@pytest.mark.django_db
def test_attendance_rate_counts_leave_as_excused_and_recorded_periods_keep_their_dates():
    run = _run([
        {"as": "clerk", "register": {"student_name": "甲", "born": "1998-01-01",
                                     "county": "510521", "major": "数控"}},
        {"as": "clerk", "schedule": {"case": "a", "periods": [
            {"kind": "school", "starts_on": "2016-09-01", "ends_on": "2016-09-30"},
            {"kind": "enterprise", "starts_on": "2016-10-01", "ends_on": "2016-10-31"}]}},
        {"as": "clerk", "date": "2016-11-01", "attend": {"case": "a", "entries": [
            {"day": "2016-09-05", "status": "present"}, {"day": "2016-09-06", "status": "leave"},
            {"day": "2016-09-07", "status": "absent"}, {"day": "2016-09-08", "status": "present"},
            {"day": "2016-09-09", "status": "present"}]}},
    ])
    case = run.cases["a"]
    summaries = schedules.schedule_summary(case)
    assert [(s.present, s.leave, s.absent) for s in summaries] == [(3, 1, 1), (0, 0, 0)]
    assert schedules.attendance_rate(summaries) == Decimal("0.750")
    clerk = run.users["clerk"]
    with pytest.raises(ShidianError) as caught:
        schedules.schedule_set(user=clerk, case_id=case.pk, periods=[
            {"kind": "school", "starts_on": "2016-09-02", "ends_on": "2016-09-30"}])
    assert "第1阶段已有考勤记录" in caught.value.message
    # The later period, without attendance, may change; the first keeps its record.
    schedules.schedule_set(user=clerk, case_id=case.pk, periods=[
        {"kind": "school", "starts_on": "2016-09-01", "ends_on": "2016-09-30"},
        {"kind": "enterprise", "starts_on": "2016-10-08", "ends_on": "2016-11-30"}])
    assert list(SchedulePeriod.objects.filter(case=case).values_list("ends_on", flat=True)) == [
        dt.date(2016, 9, 30), dt.date(2016, 11, 30)]
    assert Attendance.objects.filter(period__case=case).count() == 5
    with pytest.raises(ShidianError):
        schedules.schedule_set(user=clerk, case_id=case.pk, periods=[
            {"kind": "school", "starts_on": "2016-09-01", "ends_on": "2016-09-30"},
            {"kind": "enterprise", "starts_on": "2016-09-15", "ends_on": "2016-10-30"}])


@pytest.mark.django_db
def test_the_weighted_score_needs_every_assessor():
    run = _run([
        {"as": "clerk", "register": {"student_name": "甲", "born": "1998-01-01",
                                     "county": "510521", "major": "数控"}},
        {"as": "clerk", "party": {"key": "t", "role": "teacher", "name": "王老师"}},
        {"as": "clerk", "party": {"key": "m", "role": "mentor", "name": "李师傅"}},
        {"as": "clerk", "assess": {"case": "a", "assessment": "term", "assessor": "teacher",
                                   "score": 90}, "fails": "invalid"},
        {"as": "clerk", "assign": {"case": "a", "role": "teacher", "party": "t"}},
        {"as": "clerk", "assign": {"case": "a", "role": "mentor", "party": "m"}},
        {"as": "clerk", "assess": {"case": "a", "assessment": "term", "assessor": "teacher",
                                   "score": 101}, "fails": "invalid"},
        {"as": "clerk", "assess": {"case": "a", "assessment": "term", "assessor": "teacher",
                                   "score": 90}},
    ])
    case_type = definitions.case_type_get("apprentice")
    result = schedules.assessment_results(case_type, run.cases["a"])[0]
    assert result.missing == ["mentor"] and result.total is None and not result.passed
    schedules.assessment_record(user=run.users["clerk"], case_id=run.cases["a"].pk,
                                kind="term", assessor_role="mentor", score="31",
                                assessed_on=dt.date(2016, 9, 1), today=dt.date(2016, 9, 1))
    result = schedules.assessment_results(case_type, run.cases["a"])[0]
    assert result.total == Decimal("60.50") and result.passed


@pytest.mark.django_db
def test_only_one_referral_of_a_case_waits_at_a_time():
    from django.db import IntegrityError

    scenario = yaml.safe_load((PACKS / "hospice" / "scenarios" / "referral.yaml")
                              .read_text("utf-8"))["scenarios"][0]
    run = run_relation_scenario(definitions.case_type_get("hospice_patient"),
                                {**scenario, "steps": []})
    case = run.cases["a"]
    transfers.transfer_request(user=run.users["ward"], case_id=case.pk,
                               to_agency_id=run.agencies["community"].pk, reason="居家")
    with pytest.raises(IntegrityError), transaction.atomic():
        CaseTransfer.objects.create(case=case, from_agency_id=case.agency_id,
                                    to_agency=run.agencies["community"], reason="again")


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_two_clerks_assigning_a_mentors_last_place_at_once_give_it_to_one():
    steps = [{"as": "clerk", "party": {"key": "li", "role": "mentor", "name": "李师傅"}}]
    for key, born in zip("abcd", ["1999-01-01", "1999-02-01", "1999-03-01", "1999-04-01"],
                         strict=True):
        steps.append({"as": "clerk", "register": {"student_name": key, "born": born,
                                                  "county": "510521", "major": "数控"},
                      "case": key})
    steps += [{"as": "clerk", "assign": {"case": "a", "role": "mentor", "party": "li"}},
              {"as": "clerk", "assign": {"case": "b", "role": "mentor", "party": "li"}}]
    run = _run(steps)
    clerk, mentor = run.users["clerk"], run.parties["li"]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def assign(case_key: str) -> None:
        barrier.wait()
        try:
            parties.party_assign(user=clerk, case_id=run.cases[case_key].pk, role="mentor",
                                 party_id=mentor.pk)
            outcomes.append("ok")
        except ShidianError as exc:
            outcomes.append(exc.extra["reason"])
        finally:
            connection.close()

    threads = [threading.Thread(target=assign, args=(k,)) for k in "cd"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["limit", "ok"]
    assert CaseParty.objects.filter(party=mentor, ended_at__isnull=True).count() == 3


@pytest.mark.django_db
def test_a_double_submit_records_one_fund_entry_and_one_party():
    from shidian.cases import funds
    from shidian.cases.relation_models import FundEntry, Party

    run = _run([])
    clerk, programme = run.users["clerk"], run.programme()
    for _ in range(2):
        funds.fund_record(user=clerk, programme=programme, division_code="510521",
                          direction="spent", category="allowance", amount="700",
                          on=dt.date(2016, 12, 1))
    assert FundEntry.objects.count() == 1
    funds.fund_record(user=clerk, programme=programme, division_code="510521",
                      direction="spent", category="allowance", amount="700",
                      on=dt.date(2016, 12, 2))
    assert FundEntry.objects.count() == 2
    parties.party_register(user=clerk, programme=programme, role="enterprise",
                           name="陕西泰丰汽车制动系统有限公司", division_code="510521")
    with pytest.raises(ShidianError) as caught:
        parties.party_register(user=clerk, programme=programme, role="enterprise",
                               name="陕西泰丰汽车制动系统有限公司", division_code="510521")
    assert caught.value.extra["reason"] == "duplicate"
    assert Party.objects.count() == 1


@pytest.mark.django_db
def test_relations_are_in_the_audit_trail_under_the_clerk():
    from auditlog.models import LogEntry

    from shidian.cases.relation_models import Agreement, Party

    run = _run([
        {"as": "clerk", "register": {"student_name": "甲", "born": "1998-01-01",
                                     "county": "510521", "major": "数控"}},
        {"as": "clerk", "party": {"key": "s", "role": "school", "name": "乾县职业教育中心"}},
        {"as": "clerk", "party": {"key": "e", "role": "enterprise", "name": "泰丰"}},
        {"as": "clerk", "assign": {"case": "a", "role": "school", "party": "s"}},
        {"as": "clerk", "assign": {"case": "a", "role": "enterprise", "party": "e"}},
        {"as": "clerk", "sign": {"case": "a", "agreement": "training", "signed": "2016-09-01",
                                 "by": ["subject", "school", "enterprise"]}},
    ])
    clerk = run.users["clerk"]
    for obj in [Party.objects.first(), CaseParty.objects.first(), Agreement.objects.get()]:
        entry = LogEntry.objects.get_for_object(obj).get()
        assert entry.actor == clerk and entry.action == LogEntry.Action.CREATE
