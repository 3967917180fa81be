"""Every reporting cycle a pack declares is a real cycle: half-yearly and yearly ones (the
hospice plans' annual summary) with period ids like the indicators' (2021H1, 2021), due days,
我的任务, and the oversight ladder following the further cycles beside the plan's own (seed
14's weekly report beside the 8+x monthly list)."""
from __future__ import annotations

import uuid
from datetime import date

import pytest
from shidian.catalogue import packs, services
from shidian.catalogue.tests.test_packs import GOVERNANCE, _copy, _ids
from shidian.core.errors import ErrorCode, ShidianError
from shidian.core.periods import PeriodKind, parse_period, period_containing
from shidian.orgs.models import Role
from shidian.orgs.testing import make_agency, make_user
from shidian.plans.models import Plan, UnitRole
from shidian.plans.services import plan_publish, task_units_set
from shidian.reporting import cycles
from shidian.reporting import services as reporting
from shidian.reporting.models import ExtraCycle
from shidian.reporting.selectors import workspace_items

LUXIAN = "510521"


def _office():
    return make_user("county-office", role=Role.OFFICE, division_code=LUXIAN)


def _published(pack: str, start_plan: str, year: int):
    """A programme created from the pack, its first task led by a unit with a liaison, the
    plan published."""
    office = _office()
    install = services.programme_create_from_pack(
        user=office, pack_key=pack, start_plan=start_plan, name=f"泸县{pack}试点",
        division_code=LUXIAN, year=year, token=uuid.uuid4().hex)
    plan = Plan.objects.get(pk=install.plan_id)
    unit = make_agency("泸县试点工作办公室", LUXIAN)
    liaison = make_user("pilot-liaison", role=Role.LIAISON, division_code=LUXIAN,
                        agencies=(unit,))
    task = plan.tasks.order_by("order").first()
    task_units_set(user=office, task=task, role=UnitRole.LEAD, names=[unit.name])
    assert task.units.get(role=UnitRole.LEAD).agency_id == unit.pk
    plan_publish(user=office, plan=plan, accept_unresolved=True)
    return office, Plan.objects.get(pk=plan.pk), task, unit, liaison


# -- the pack file --------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["half_yearly", "yearly"])
def test_half_yearly_and_yearly_cycles_load(tmp_path, kind):
    def change(meta):
        meta["reporting"][1].update(kind=kind, due_day=30, due_month=5)
    spec, problems = packs.load_spec(_copy(tmp_path, GOVERNANCE, change))
    assert not [p for p in problems if p.id.startswith("catalogue.E")]
    assert spec.reporting[1].kind == kind and spec.reporting[1].due_month == 5


def test_a_bad_cycle_kind_a_bad_due_month_and_two_cycles_of_a_kind_are_refused(tmp_path):
    def change(meta):
        meta["reporting"][1]["kind"] = "annual"
    path = _copy(tmp_path, GOVERNANCE, change)
    _spec, problems = packs.load_spec(path)
    bad = [p for p in problems if p.where == "reporting[1].kind"]
    assert [p.id for p in bad] == ["catalogue.E003"]
    assert "'annual'" in bad[0].message and "yearly" in bad[0].message

    def change(meta):
        meta["reporting"][1].update(kind="half_yearly", due_month=7)
    assert ("catalogue.E003", "reporting[1].due_month") in _ids(
        _copy(tmp_path / "b", GOVERNANCE, change))

    def change(meta):
        meta["reporting"][1]["kind"] = "monthly"
    assert ("catalogue.E006", "reporting: weekly") in _ids(
        _copy(tmp_path / "c", GOVERNANCE, change))


# -- periods and due days -------------------------------------------------------------------
def test_periods_and_due_days_of_the_longer_cycles():
    half = cycles.CycleRule(kind="half_yearly", due_day=25, grace_days=10, starts_on=None,
                            ends_on=None)
    year = cycles.CycleRule(kind="yearly", due_day=30, grace_days=31, starts_on=None,
                            ends_on=None, due_month=11)
    today = date(2021, 11, 20)
    assert half.current_period(today).id == "2021H2"
    assert year.current_period(today).id == "2021"
    # The same ids as the indicators' periods.
    assert half.current_period(today) == period_containing(today, PeriodKind.HALF)
    assert year.current_period(today) == parse_period("2021")
    assert half.due_date(parse_period("2021H1")) == date(2021, 6, 25)
    assert year.due_date(parse_period("2021")) == date(2021, 11, 30)  # 每年11月底前
    assert year.closes_after(parse_period("2021")) == date(2021, 12, 31)
    assert [p.id for p in year.periods_open(date(2022, 1, 10))] == ["2022"]


# -- the hospice plans' annual summary ------------------------------------------------------
@pytest.mark.django_db
def test_the_gansu_plan_owes_an_annual_summary_by_the_end_of_november():
    office, plan, task, unit, liaison = _published("hospice", "gansu", 2021)
    assert plan.cycle.kind == "monthly"
    summary = ExtraCycle.objects.get(plan=plan)
    assert (summary.kind, summary.due_month, summary.due_day) == ("yearly", 11, 30)
    assert summary.label == "安宁疗护试点年度总结报告"

    item = next(i for i in workspace_items(user=liaison, today=date(2021, 11, 20))
                if i.task == task)
    [extra] = item.extra
    assert (extra.due_period.id, extra.due_date, extra.owes_report) == (
        "2021", date(2021, 11, 30), True)
    report = reporting.report_submit(
        user=liaison, task_id=task.pk, agency_id=unit.pk, period="2021",
        data=reporting.ReportInput(task_status="in_progress", percent=60, done="年度总结"),
        now=_at(date(2021, 11, 20)))
    assert report.on_time and report.period == "2021"
    with pytest.raises(ShidianError) as err:
        reporting.report_submit(
            user=liaison, task_id=task.pk, agency_id=unit.pk, period="2021H2",
            data=reporting.ReportInput(task_status="in_progress", percent=60),
            now=_at(date(2021, 11, 20)))
    assert err.value.code == ErrorCode.INVALID and "2021" in err.value.message

    # An outsider (another county's liaison) neither sees the summary nor may send it.
    stranger = make_user("hj-liaison", role=Role.LIAISON, division_code="510522",
                         agencies=(make_agency("合江县卫生健康局", "510522"),))
    assert workspace_items(user=stranger, today=date(2021, 11, 20)) == []
    with pytest.raises(ShidianError):
        reporting.report_submit(
            user=stranger, task_id=task.pk, agency_id=unit.pk, period="2021",
            data=reporting.ReportInput(task_status="in_progress", percent=60),
            now=_at(date(2021, 11, 20)))


@pytest.mark.django_db
def test_my_tasks_page_shows_the_annual_summary(client):
    today = date.today()
    _office_, plan, task, unit, liaison = _published("hospice", "luxian", today.year)
    assert ExtraCycle.objects.get(plan=plan).kind == "yearly"
    client.force_login(liaison)
    page = client.get("/reporting/").content.decode()
    assert 'data-testid="extra-due"' in page and "安宁疗护试点年度总结报告" in page
    assert f"period={today.year}&agency={unit.pk}" in page


@pytest.mark.django_db
def test_a_plan_has_one_cycle_of_each_kind():
    office, plan, *_rest = _published("hospice", "gansu", 2021)
    with pytest.raises(ShidianError) as err:
        reporting.cycle_add(user=office, plan_id=plan.pk, key="mid", label="半年总结",
                            kind="yearly", due_day=25, grace_days=10)
    assert err.value.code == ErrorCode.CONFLICT
    with pytest.raises(ShidianError) as err:
        reporting.cycle_set(user=office, plan_id=plan.pk, kind="annual", due_day=25,
                            grace_days=10)
    assert err.value.code == ErrorCode.INVALID and err.value.extra["field"] == "kind"
    made = reporting.cycle_add(user=office, plan_id=plan.pk, key="mid", label="半年总结",
                               kind="half_yearly", due_day=30, grace_days=10)
    assert [r.kind for r in cycles.rules_of(plan)] == ["monthly", "yearly", "half_yearly"]
    stranger = make_user("hj-office", role=Role.OFFICE, division_code="510522")
    with pytest.raises(ShidianError):
        reporting.cycle_add(user=stranger, plan_id=plan.pk, key="mid", label="改",
                            kind="half_yearly", due_day=1, grace_days=1)
    assert ExtraCycle.objects.get(pk=made.pk).label == "半年总结"


def _at(day: date):
    from shidian.reporting.testing import at

    return at(day)


@pytest.mark.django_db
def test_the_programme_page_names_the_cycles_in_chinese(client):
    office, plan, *_rest = _published("hospice", "gansu", 2021)
    client.force_login(office)
    page = client.get(f"/catalogue/programmes/{plan.programme_id}/").content.decode()
    assert "安宁疗护试点年度总结报告 · 每年" in page and "进展月报 · 每月" in page
    stranger = make_user("hj-office", role=Role.OFFICE, division_code="510522")
    client.force_login(stranger)
    assert client.get(f"/catalogue/programmes/{plan.programme_id}/").status_code == 404
