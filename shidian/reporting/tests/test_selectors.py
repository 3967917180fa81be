"""The 挂图作战 figures and the 我的任务 list, checked against generated data."""
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shidian.core.periods import parse_period
from shidian.orgs.models import Division
from shidian.orgs.testing import make_agency, make_user
from shidian.plans.models import Task, TaskStatus, TaskUnit
from shidian.plans.testing import make_plan
from shidian.reporting import selectors, services
from shidian.reporting.models import ReportingCycle
from shidian.reporting.services import ReportInput
from shidian.reporting.testing import at

JUNE = parse_period("2021M06")
TODAY = date(2021, 6, 27)


def build(n_tasks: int, n_agencies: int = 4, tag: str = ""):
    """``n_tasks`` tasks; task i is led by agency i % n and helped by agency (i+1) % n."""
    agencies = [make_agency(f"泸县第{k}局{tag}", "510521") for k in range(n_agencies)]
    liaisons = [make_user(f"liaison{k}{tag}", agencies=(a,)) for k, a in enumerate(agencies)]
    plan = make_plan(f"泸县生成方案{tag}", "510521", tasks=[
        {"title": f"任务{i}", "leads": (agencies[i % n_agencies],),
         "units": (agencies[(i + 1) % n_agencies],),
         "deadline": TODAY + timedelta(days=(i % 5 - 2) * 20)}
        for i in range(n_tasks)])
    ReportingCycle.objects.create(plan=plan, kind="monthly", due_day=25, grace_days=10)
    return plan, agencies, liaisons, list(plan.tasks.order_by("order"))


def report(liaison, task, day, percent=50, submit=True, status=TaskStatus.IN_PROGRESS):
    fn = services.report_submit if submit else services.report_save_draft
    return fn(user=liaison, task_id=task.pk, agency_id=None, period=JUNE.id,
              data=ReportInput(percent=percent, task_status=status), now=at(day))


def test_completeness_and_timeliness_count_what_was_generated(db):
    n = 4
    plan, agencies, liaisons, tasks = build(12, n)
    on_time = late = 0
    for i, task in enumerate(tasks):
        lead = liaisons[i % n]
        helper = liaisons[(i + 1) % n]
        if i % 3 == 0:
            report(lead, task, date(2021, 6, 20)); on_time += 1  # noqa: E702
        elif i % 3 == 1:
            report(lead, task, date(2021, 6, 27)); late += 1  # noqa: E702
        else:
            report(lead, task, date(2021, 6, 21), submit=False)  # a draft does not count
        if i % 2 == 0:
            report(helper, task, date(2021, 6, 24)); on_time += 1  # noqa: E702
    board = selectors.plan_dashboard(plan=plan, period=JUNE, today=TODAY)
    assert board.expected == 24
    assert board.reported == on_time + late == 8 + 6
    assert (board.on_time, board.late) == (on_time, late)
    assert board.completeness_rate == round(100 * 14 / 24, 1)
    # Per unit: each agency leads 3 tasks and helps on 3; missing lists name the tasks.
    for row in board.completeness:
        assert row.expected == 6
        assert row.reported + len(row.missing) == 6
    assert sum(len(r.missing) for r in board.completeness) == 24 - 14


def test_units_not_open_in_the_period_are_not_expected_and_rates_stay_below_100(db):
    plan, agencies, liaisons, tasks = build(4, 4)
    # Agency 0 is dissolved; agency 1's division closed before June (a merged county).
    agencies[0].is_active = False
    agencies[0].save(update_fields=["is_active"])
    closed = Division.objects.create(code="510599", name="撤并县", level=3, parent_id="5105",
                                     closed_on=date(2021, 3, 31))
    agencies[1].division = closed
    agencies[1].save(update_fields=["division"])
    # Agency 2 reports on task 2, then stops being a unit of it: its report no longer counts.
    report(liaisons[2], tasks[2], date(2021, 6, 20))
    TaskUnit.objects.filter(task=tasks[2], agency=agencies[2]).delete()
    # A task completed in May owes no June report.
    Task.objects.filter(pk=tasks[3].pk).update(status=TaskStatus.COMPLETED, percent=100,
                                               completed_on=date(2021, 5, 10))
    board = selectors.plan_dashboard(plan=plan, period=JUNE, today=TODAY)
    # Pairs (task, agency): t0:{a0,a1} t1:{a1,a2} t2:{a2,a3} t3:{a3,a0}; minus a0, a1,
    # minus (t2,a2) removed, minus t3 completed → (t1,a2), (t2,a3).
    assert board.expected == 2
    assert board.reported == 0
    assert board.completeness_rate == 0


def test_status_overdue_due_soon_and_progress_by_unit(db):
    plan, agencies, liaisons, tasks = build(10, 2)
    report(liaisons[0], tasks[0], date(2021, 6, 20), percent=100, status=TaskStatus.COMPLETED)
    board = selectors.plan_dashboard(plan=plan, period=JUNE, today=TODAY)
    assert board.by_status[TaskStatus.COMPLETED] == 1
    assert board.by_status[TaskStatus.NOT_STARTED] == 9
    assert sum(board.by_status.values()) == 10
    # Deadlines are TODAY + (i % 5 - 2) * 20 days: i % 5 in {0, 1} are past, {2, 3} within
    # 30 days (0 and 20 days), 4 is 40 days out. Task 0 is completed, so not overdue.
    past = {t.pk for i, t in enumerate(tasks) if i % 5 in (0, 1) and i != 0}
    soon = {t.pk for i, t in enumerate(tasks) if i % 5 in (2, 3)}
    assert {t.pk for t in board.overdue} == past
    assert {t.pk for t in board.due_soon} == soon
    lead0 = next(u for u in board.units if u.agency == agencies[0])
    assert (lead0.lead, lead0.responsible, lead0.completed) == (5, 5, 1)
    assert lead0.percent == 20.0
    assert lead0.overdue == sum(1 for t in board.overdue if tasks.index(t) % 2 == 0)


def test_the_dashboard_does_not_grow_queries_with_the_plan(db):
    small, *_ = build(3, 2)
    with CaptureQueriesContext(connection) as few:
        selectors.plan_dashboard(plan=small, period=JUNE, today=TODAY).chart_data()
    big, _, liaisons, tasks = build(40, 6, tag="B")
    for i, task in enumerate(tasks[:20]):
        report(liaisons[i % 6], task, date(2021, 6, 20))
    with CaptureQueriesContext(connection) as many:
        selectors.plan_dashboard(plan=big, period=JUNE, today=TODAY).chart_data()
    assert len(many) == len(few) <= 6


def test_workspace_lists_roles_due_periods_and_returned_reports(world):
    today = date(2021, 7, 3)  # June is still open until the 5th, July is open too
    report_june = services.report_submit(
        user=world.liaison_health, task_id=world.tasks[0].pk, agency_id=None, period="2021M06",
        data=ReportInput(percent=20), now=at(date(2021, 6, 24)))
    services.report_return(user=world.office, report_id=report_june.pk, reason="请补充材料")
    items = selectors.workspace_items(user=world.liaison_health, today=today)
    assert [(i.task.title, i.role) for i in items] == [
        ("建立安宁疗护服务体系", "lead"), ("落实安宁疗护收费政策", "lead")]
    first, second = items
    assert first.due_period.id == "2021M06" and first.returned == [report_june]
    assert second.due_period.id == "2021M06" and second.owes_report
    assert first.overdue  # deadline 30 June has passed
    civil = selectors.workspace_items(user=world.liaison_civil, today=today)
    assert sorted((i.task.title, i.role) for i in civil) == [
        ("建立安宁疗护服务体系", "responsible"), ("开展困难群众救助", "lead")]
    # After June is in, July is asked for.
    services.report_submit(user=world.liaison_health, task_id=world.tasks[1].pk, agency_id=None,
                           period="2021M06", data=ReportInput(percent=20), now=at(today))
    items = selectors.workspace_items(user=world.liaison_health, today=today)
    assert items[1].due_period.id == "2021M07"
    assert selectors.workspace_items(user=world.office, today=today) == []


def test_workspace_queries_do_not_grow_with_tasks(db):
    plan, agencies, liaisons, tasks = build(4, 2)
    from shidian.orgs.models import User

    def fresh():
        return User.objects.get(pk=liaisons[0].pk)

    user = fresh()
    with CaptureQueriesContext(connection) as few:
        selectors.workspace_items(user=user, today=TODAY)
    build_more = make_plan("另一方案", "510521", tasks=[
        {"title": f"更多{i}", "leads": (agencies[0],)} for i in range(15)])
    assert build_more
    user = fresh()
    with CaptureQueriesContext(connection) as many:
        items = selectors.workspace_items(user=user, today=TODAY)
    assert len(items) == 4 + 15
    assert len(many) == len(few)


@pytest.mark.parametrize("kind,due_day,period,due", [
    ("monthly", 25, "2021M02", date(2021, 2, 25)),
    ("monthly", 31, "2021M02", date(2021, 2, 28)),
    ("quarterly", 10, "2021Q2", date(2021, 6, 10)),
    ("weekly", 5, "2021W23", date(2021, 6, 11)),
])
def test_due_dates_of_each_cycle(world, kind, due_day, period, due):
    from shidian.reporting.cycles import rule_of

    services.cycle_set(user=world.office, plan_id=world.plan.pk, kind=kind, due_day=due_day,
                       grace_days=0)
    world.plan.refresh_from_db()
    rule = rule_of(world.plan)
    assert rule.due_date(parse_period(period)) == due
    assert rule.closes_after(parse_period(period)) == due
