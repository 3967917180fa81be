"""Seed 15c's dated milestones (20/50/75/100% of the land-loss pension funds by 2015-09,
2015-12, 2016-03, 2016-06) are milestones of the plan task they come from: task 8, 落实被征地
农民养老保障资金分配工作, linked both ways on the task's and the targets' pages."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest

from shidian.catalogue import packs, services
from shidian.core.errors import ErrorCode, ShidianError
from shidian.demo.services import SEED_DIR
from shidian.indicators.models import Target
from shidian.orgs.models import Role
from shidian.orgs.testing import make_user
from shidian.plans.models import Plan

pytestmark = pytest.mark.django_db

LUXIAN = "510521"


def _zhuhai(user, **kwargs):
    args = {"pack_key": "governance", "start_plan": "zhuhai", "name": "珠海市基层治理",
            "division_code": LUXIAN, "year": 2015, "token": uuid.uuid4().hex}
    args.update(kwargs)
    return services.programme_create_from_pack(user=user, **args)


def _seed_task_line() -> str:
    """The line of seed 15c that states the four milestones."""
    text = (SEED_DIR / "15c-zhuhai-grassroots.txt").read_text(encoding="utf-8")
    return next(line for line in text.splitlines() if "完成资金分配任务20%" in line)


def test_each_fund_milestone_is_linked_to_task_8_of_the_seed_plan():
    office = make_user("zh-office", role=Role.OFFICE, division_code=LUXIAN)
    install = _zhuhai(office)
    milestones = list(Target.objects.filter(plan=install.plan, indicator__name__contains="资金分配")
                      .select_related("task").order_by("deadline"))
    assert [(t.value, t.deadline) for t in milestones] == [
        (20, dt.date(2015, 9, 30)), (50, dt.date(2015, 12, 31)), (75, dt.date(2016, 3, 31)),
        (100, dt.date(2016, 6, 30))]
    tasks = {t.task for t in milestones}
    assert len(tasks) == 1
    task = tasks.pop()
    line = _seed_task_line()
    assert line.startswith(f"8.{task.title}")  # the very task that states the series
    assert task.path.endswith("/8") and task.plan_id == install.plan_id
    # The other targets of the plan are no task's milestones.
    assert not Target.objects.filter(plan=install.plan, task__isnull=False).exclude(
        pk__in=[t.pk for t in milestones]).exists()


def test_the_task_page_and_the_target_page_show_the_link(client):
    office = make_user("zh-office", role=Role.OFFICE, division_code=LUXIAN)
    install = _zhuhai(office)
    target = Target.objects.filter(plan=install.plan, task__isnull=False).order_by(
        "deadline").first()
    task = target.task
    client.force_login(office)
    page = client.get(f"/plans/tasks/{task.pk}/").content.decode()
    links = page.split('data-testid="milestones"')[1].split("</dd>")[0]
    assert links.count('href="/indicators/targets/') == 4 and "2015年9月30日" in links
    page = client.get(f"/indicators/targets/{target.pk}/").content.decode()
    assert 'data-testid="milestone-task"' in page and f'href="/plans/tasks/{task.pk}/"' in page
    assert task.title in page

    # Another county's office sees neither page.
    stranger = make_user("hj-office", role=Role.OFFICE, division_code="510522")
    client.force_login(stranger)
    assert client.get(f"/plans/tasks/{task.pk}/").status_code == 404
    assert client.get(f"/indicators/targets/{target.pk}/").status_code == 404


def test_a_milestone_of_a_task_the_plan_lacks_refuses_the_programme(monkeypatch):
    office = make_user("zh-office", role=Role.OFFICE, division_code=LUXIAN)
    spec = packs.packs_available()["governance"]
    broken = spec.__class__(**{**spec.__dict__, "milestones": tuple(
        m.__class__(**{**m.__dict__, "task": "99"}) for m in spec.milestones)})
    monkeypatch.setattr(services, "pack_get", lambda *, key: broken)
    with pytest.raises(ShidianError) as err:
        _zhuhai(office)
    assert err.value.code == ErrorCode.INVALID and "99" in err.value.message
    assert not Plan.objects.exists() and not Target.objects.exists()
