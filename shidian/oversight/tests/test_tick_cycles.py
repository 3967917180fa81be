"""The ladder follows every reporting cycle of a plan, not only the plan's own: a programme
created from the governance pack's Huxi plan (seed 14) reports monthly by its 8+x list and
weekly; a missing weekly report is urged like a missing monthly one, and only once."""
from __future__ import annotations

import io
import uuid
from datetime import date

import pytest
from django.core.management import call_command

from shidian.catalogue import services as catalogue
from shidian.oversight import tick
from shidian.oversight.models import Channel, Message, MessageKind
from shidian.orgs.models import Role
from shidian.orgs.testing import make_agency, make_user
from shidian.plans.models import Plan, UnitRole
from shidian.plans.services import plan_publish, task_units_set
from shidian.reporting.services import ReportInput, report_submit
from shidian.reporting.testing import at

pytestmark = pytest.mark.django_db

LUXIAN = "510521"
# Monday 5 July 2021: the week of 28 June - 4 July (2021W26, due Friday 2 July) is late and
# still open; the June 8+x report (due 25 June, five working days of 催办 over) is escalated.
MONDAY = date(2021, 7, 5)


@pytest.fixture
def huxi():
    office = make_user("hx-office", role=Role.OFFICE, division_code=LUXIAN)
    install = catalogue.programme_create_from_pack(
        user=office, pack_key="governance", start_plan="huxi", name="湖溪镇市域社会治理试点",
        division_code=LUXIAN, year=2021, token=uuid.uuid4().hex)
    plan = Plan.objects.get(pk=install.plan_id)
    unit = make_agency("湖溪镇综治办", LUXIAN)
    liaison = make_user("hx-liaison", role=Role.LIAISON, division_code=LUXIAN,
                        agencies=(unit,))
    task = plan.tasks.order_by("order").first()
    task_units_set(user=office, task=task, role=UnitRole.LEAD, names=[unit.name])
    plan_publish(user=office, plan=plan, accept_unresolved=True)
    return plan, task, unit, liaison


def _inbox(user, period: str):
    return list(Message.objects.filter(recipient=user, channel=Channel.INBOX,
                                       event__contains=f":{period}:").order_by("pk"))


def test_the_weekly_report_of_the_pack_is_urged_beside_the_monthly_list(huxi):
    plan, task, unit, liaison = huxi
    assert plan.cycle.kind == "monthly" and plan.extra_cycles.get().kind == "weekly"
    first = tick.tick_run(now=at(MONDAY), today=MONDAY)
    assert first.sent > 0
    weekly = _inbox(liaison, "2021W26")
    assert [m.kind for m in weekly] == [MessageKind.URGE]
    assert "2021年第26周" in weekly[0].subject and task.title in weekly[0].subject
    assert "period=2021W26" in weekly[0].link
    # The plan's own cycle goes on as before: June's 8+x report is past its 催办 days.
    keys = {e.key for e in tick.events_on(MONDAY)}
    assert f"r{task.pk}:a{unit.pk}:2021M06:escalate" in keys
    assert f"r{task.pk}:a{unit.pk}:2021W26:urge" in keys
    # The week being reported now (due Friday 9 July) is within the three days' reminder.
    assert _inbox(liaison, "2021W27") == []

    again = tick.tick_run(now=at(MONDAY), today=MONDAY)
    assert (again.planned, again.sent) == (0, 0)

    # Once the weekly report is in, the next tick says nothing more about that week.
    report_submit(user=liaison, task_id=task.pk, agency_id=unit.pk, period="2021W26",
                  data=ReportInput(task_status="in_progress", percent=10, done="周报"),
                  now=at(MONDAY))
    tuesday = date(2021, 7, 6)
    tick.tick_run(now=at(tuesday), today=tuesday)
    assert [m.kind for m in _inbox(liaison, "2021W26")] == [MessageKind.URGE]


def test_shidian_tick_twice_sends_nothing_the_second_time(huxi, settings):
    out = io.StringIO()
    call_command("tick", "--date", MONDAY.isoformat(), stdout=out)
    assert "sent 0" not in out.getvalue()
    out = io.StringIO()
    call_command("tick", "--date", MONDAY.isoformat(), stdout=out)
    assert "sent 0" in out.getvalue()


def test_an_outsider_gets_nothing_from_the_plans_cycles(huxi):
    plan, task, unit, liaison = huxi
    stranger = make_user("hj-liaison", role=Role.LIAISON, division_code="510522",
                         agencies=(make_agency("合江县综治办", "510522"),))
    tick.tick_run(now=at(MONDAY), today=MONDAY)
    assert not Message.objects.filter(recipient=stranger).exists()
    assert Message.objects.filter(recipient=liaison).exists()
