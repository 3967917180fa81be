"""Scope: a unit reads and writes only its own reports; a county sees only its county."""
from datetime import date

import pytest

from shidian.core.errors import ErrorCode, ShidianError
from shidian.reporting import access, services
from shidian.reporting.models import ProgressReport, ReportStatus
from shidian.reporting.services import ReportInput
from shidian.reporting.testing import at

JUNE = "2021M06"


def submit(user, task, **fields):
    return services.report_submit(user=user, task_id=task.pk, agency_id=None, period=JUNE,
                                  data=ReportInput(percent=30, **fields),
                                  now=at(date(2021, 6, 20)))


def visible(user):
    return set(access.reports_visible_to(user=user).values_list("pk", flat=True))


@pytest.fixture
def reports(world):
    return {
        "health": submit(world.liaison_health, world.tasks[0]),
        "civil": submit(world.liaison_civil, world.tasks[0]),
        "finance_draft": services.report_save_draft(
            user=world.liaison_finance, task_id=world.tasks[1].pk, agency_id=None, period=JUNE,
            data=ReportInput(percent=5), now=at(date(2021, 6, 20))),
        "other": submit(world.liaison_other, world.other_task),
    }


def test_who_sees_which_report(world, reports):
    r = {k: v.pk for k, v in reports.items()}
    # The lead unit sees the cooperating unit's submitted report on its task, not drafts.
    assert visible(world.liaison_health) == {r["health"], r["civil"]}
    assert visible(world.liaison_civil) == {r["civil"]}
    assert visible(world.liaison_finance) == {r["finance_draft"]}
    assert visible(world.liaison_other) == {r["other"]}
    # Offices see their own county only, and never a unit's draft.
    assert visible(world.office) == {r["health"], r["civil"]}
    assert visible(world.office_other) == {r["other"]}
    # The city's leader sees both counties.
    assert visible(world.leader) == {r["health"], r["civil"], r["other"]}


def test_a_liaison_cannot_read_another_agencys_report_by_id(world, reports):
    for user, report in [(world.liaison_other, reports["health"]),
                         (world.liaison_civil, reports["health"]),
                         (world.liaison_health, reports["finance_draft"]),
                         (world.office_other, reports["civil"]),
                         (world.office, reports["finance_draft"])]:
        with pytest.raises(ShidianError) as caught:
            access.access_report_by_id(user=user, report_id=report.pk)
        assert caught.value.code == ErrorCode.NOT_FOUND
    for bad in ("abc", None, 10**9):
        with pytest.raises(ShidianError):
            access.access_report_by_id(user=world.office, report_id=bad)


def test_a_liaison_cannot_report_on_another_agencys_task_or_for_another_agency(world):
    # The other county's task, by id.
    with pytest.raises(ShidianError) as caught:
        submit(world.liaison_health, world.other_task)
    assert caught.value.code == ErrorCode.NOT_FOUND
    # A task of the same plan where the agency is no unit (finance is only on task 2).
    with pytest.raises(ShidianError) as caught:
        submit(world.liaison_finance, world.tasks[0])
    assert caught.value.code == ErrorCode.NOT_FOUND
    # Its own task, but in another agency's name.
    with pytest.raises(ShidianError) as caught:
        services.report_submit(user=world.liaison_health, task_id=world.tasks[0].pk,
                               agency_id=world.civil.pk, period=JUNE,
                               data=ReportInput(percent=1), now=at(date(2021, 6, 20)))
    assert caught.value.code == ErrorCode.NOT_FOUND
    assert not ProgressReport.objects.exists()


def test_only_the_office_of_the_plan_returns_or_accepts(world, reports):
    health = reports["health"]
    for user in (world.liaison_health, world.liaison_civil, world.office_other, world.leader):
        with pytest.raises(ShidianError) as caught:
            services.report_return(user=user, report_id=health.pk, reason="不行")
        assert caught.value.code == ErrorCode.NOT_FOUND
        with pytest.raises(ShidianError):
            services.report_accept(user=user, report_id=health.pk)
    health.refresh_from_db()
    assert health.status == ReportStatus.SUBMITTED


def test_draft_plans_take_no_reports(world):
    from shidian.plans.testing import make_plan

    draft = make_plan("草稿方案", "510521", published=False,
                      tasks=[{"title": "草稿任务", "leads": (world.health,)}])
    with pytest.raises(ShidianError) as caught:
        submit(world.liaison_health, draft.tasks.get())
    assert caught.value.code == ErrorCode.NOT_FOUND
