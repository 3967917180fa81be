"""Reports move draft → submitted → returned → submitted → accepted, on a cycle's rules."""
from datetime import date

import pytest
from django.utils import translation

from shidian.core.errors import ErrorCode, ShidianError
from shidian.plans.models import TaskStatus
from shidian.reporting import services
from shidian.reporting.models import ProgressReport, ReportStatus
from shidian.reporting.services import ReportInput
from shidian.reporting.testing import at

JUNE = "2021M06"


def submit(world, user=None, task=None, period=JUNE, day=date(2021, 6, 20), **fields):
    user = user or world.liaison_health
    task = task or world.tasks[0]
    data = ReportInput(**{"task_status": TaskStatus.IN_PROGRESS, "percent": 40,
                          "done": "完成病区设置", **fields})
    return services.report_submit(user=user, task_id=task.pk, agency_id=None, period=period,
                                  data=data, now=at(day))


def test_submitting_twice_keeps_one_report(world):
    first = submit(world)
    second = submit(world)
    assert first.pk == second.pk
    assert ProgressReport.objects.filter(task=world.tasks[0], period=JUNE).count() == 1


def test_a_changed_resubmission_of_a_submitted_report_is_refused_and_changes_nothing(world):
    submit(world, percent=40)
    with pytest.raises(ShidianError) as caught:
        submit(world, percent=90)
    assert caught.value.code == ErrorCode.CONFLICT
    assert ProgressReport.objects.get(task=world.tasks[0], period=JUNE).percent == 40


def test_on_time_is_judged_by_the_cycles_due_day(world):
    on_time = submit(world, day=date(2021, 6, 25))
    late = submit(world, task=world.tasks[1], day=date(2021, 6, 26))
    assert on_time.on_time is True
    assert late.on_time is False


def test_the_due_day_is_a_beijing_date(world):
    # 23:30 on the 25th in Beijing is 15:30 UTC: still on time.
    from datetime import datetime
    from zoneinfo import ZoneInfo

    moment = datetime(2021, 6, 25, 23, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    report = services.report_submit(user=world.liaison_health, task_id=world.tasks[0].pk,
                                    agency_id=None, period=JUNE, data=ReportInput(percent=10),
                                    now=moment)
    assert report.on_time is True


def test_a_closed_period_refuses_reports_with_a_clear_message(world):
    # June closes ten days after the 25th: the 5th of July is the last day.
    submit(world, task=world.tasks[1], day=date(2021, 7, 5))
    with translation.override("zh-hans"), pytest.raises(ShidianError) as caught:
        submit(world, day=date(2021, 7, 6))
    assert caught.value.code == ErrorCode.PERIOD_CLOSED
    assert "2021年6月" in caught.value.message and "2021年7月5日" in caught.value.message
    assert not ProgressReport.objects.filter(task=world.tasks[0]).exists()


def test_a_future_period_and_a_foreign_period_kind_are_refused(world):
    with pytest.raises(ShidianError) as caught:
        submit(world, period="2021M08", day=date(2021, 6, 20))
    assert caught.value.code == ErrorCode.INVALID
    with pytest.raises(ShidianError) as caught:
        submit(world, period="2021W23", day=date(2021, 6, 20))
    assert caught.value.code == ErrorCode.INVALID


def test_return_with_reason_then_resubmit_even_after_the_period_closed(world):
    report = submit(world, day=date(2021, 6, 24))
    with pytest.raises(ShidianError) as caught:
        services.report_return(user=world.office, report_id=report.pk, reason="  ")
    assert caught.value.code == ErrorCode.INVALID
    returned = services.report_return(user=world.office, report_id=report.pk,
                                      reason="请补充病区照片")
    assert returned.status == ReportStatus.RETURNED
    assert returned.return_reason == "请补充病区照片"
    # The office reopened it: the unit may resubmit after the period closed; the first
    # submission was on time and stays so.
    again = submit(world, day=date(2021, 7, 20), percent=50)
    assert again.pk == report.pk
    assert again.status == ReportStatus.SUBMITTED
    assert again.return_reason == ""
    assert again.on_time is True
    accepted = services.report_accept(user=world.office, report_id=report.pk)
    assert accepted.status == ReportStatus.ACCEPTED
    with pytest.raises(ShidianError) as caught:
        services.report_return(user=world.office, report_id=report.pk, reason="再改")
    assert caught.value.code == ErrorCode.CONFLICT


def test_a_lead_units_report_moves_the_task_and_a_responsible_units_does_not(world):
    task = world.tasks[0]
    submit(world, user=world.liaison_civil, task=task, percent=80)
    task.refresh_from_db()
    assert (task.status, task.percent) == (TaskStatus.NOT_STARTED, 0)
    submit(world, task=task, percent=100, task_status=TaskStatus.COMPLETED,
           day=date(2021, 6, 22))
    task.refresh_from_db()
    assert (task.status, task.percent, task.completed_on) == (
        TaskStatus.COMPLETED, 100, date(2021, 6, 22))


def test_a_late_report_for_an_older_period_does_not_undo_a_newer_one(world):
    task = world.tasks[1]
    submit(world, task=task, period="2021M07", day=date(2021, 7, 20), percent=60)
    submit(world, task=task, period=JUNE, day=date(2021, 7, 2), percent=30)
    task.refresh_from_db()
    assert task.percent == 60


def test_a_lead_unit_includes_the_cooperating_units_report(world):
    task = world.tasks[0]
    theirs = submit(world, user=world.liaison_civil, task=task, done="民政局完成摸底")
    ours = submit(world, task=task, include_ids=(theirs.pk,))
    assert list(ours.includes.all()) == [theirs]
    # A responsible unit cannot include, and nobody includes a draft.
    with pytest.raises(ShidianError):
        submit(world, user=world.liaison_civil, task=task, period="2021M07",
               day=date(2021, 7, 3), include_ids=(ours.pk,))
    draft = services.report_save_draft(user=world.liaison_finance, task_id=world.tasks[1].pk,
                                       agency_id=None, period=JUNE,
                                       data=ReportInput(percent=5), now=at(date(2021, 6, 20)))
    with pytest.raises(ShidianError):
        submit(world, task=world.tasks[1], include_ids=(draft.pk,))


def test_a_draft_is_kept_and_later_submitted(world):
    draft = services.report_save_draft(user=world.liaison_health, task_id=world.tasks[0].pk,
                                       agency_id=None, period=JUNE,
                                       data=ReportInput(percent=10, done="草稿"),
                                       now=at(date(2021, 6, 10)))
    assert draft.status == ReportStatus.DRAFT and draft.on_time is None
    final = submit(world, percent=20)
    assert final.pk == draft.pk and final.status == ReportStatus.SUBMITTED


@pytest.mark.parametrize("fields,code", [
    ({"percent": 101}, ErrorCode.INVALID),
    ({"percent": -1}, ErrorCode.INVALID),
    ({"task_status": "finished"}, ErrorCode.INVALID),
    ({"task_status": TaskStatus.COMPLETED, "percent": 70}, ErrorCode.INVALID),
    ({"done": "很" * 4001}, ErrorCode.INVALID),
])
def test_bad_input_is_refused_and_nothing_is_saved(world, fields, code):
    with pytest.raises(ShidianError) as caught:
        submit(world, **fields)
    assert caught.value.code == code
    assert not ProgressReport.objects.exists()


def test_cycle_set_by_the_office_and_validated(world):
    cycle = services.cycle_set(user=world.office, plan_id=world.plan.pk, kind="weekly",
                               due_day=5, grace_days=3)
    assert (cycle.kind, cycle.due_day) == ("weekly", 5)
    with pytest.raises(ShidianError):
        services.cycle_set(user=world.office, plan_id=world.plan.pk, kind="weekly",
                           due_day=25, grace_days=3)
    with pytest.raises(ShidianError) as caught:
        services.cycle_set(user=world.office_other, plan_id=world.plan.pk, kind="monthly",
                           due_day=25, grace_days=3)
    assert caught.value.code == ErrorCode.NOT_FOUND
    with pytest.raises(ShidianError):
        services.cycle_set(user=world.liaison_health, plan_id=world.plan.pk, kind="monthly",
                           due_day=25, grace_days=3)
    # A weekly plan takes ISO weeks, due on Friday.
    report = submit(world, period="2021W25", day=date(2021, 6, 25))
    assert report.on_time is True
