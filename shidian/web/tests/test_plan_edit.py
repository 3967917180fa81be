"""The office corrects what the parser read of the plan itself: title, issuer, period."""
from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from shidian.orgs.models import Role
from shidian.orgs.testing import make_agency, make_user
from shidian.plans.models import PlanStatus, PlanVersion
from shidian.plans.testing import make_plan

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan():
    health = make_agency("泸县卫生健康局", "510521")
    plan = make_plan("泸州市安宁疗护试点工作实施方案", "510521",
                     tasks=[{"title": "建立安宁疗护服务体系", "leads": (health,)}])
    plan.period_start, plan.period_end = date(2021, 1, 1), date(2022, 12, 31)
    plan.save(update_fields=["period_start", "period_end"])
    return plan


def post(client, plan, **fields):
    data = {"title": plan.title, "issuer": plan.issuer, "period_start": "2021-01-01",
            "period_end": "2022-12-31", **fields}
    return client.post(reverse("plans:edit", args=[plan.pk]), data, follow=True)


def test_the_office_corrects_the_title_and_period(client, plan):
    client.force_login(make_user("office", role=Role.OFFICE, division_code="510521"))
    response = post(client, plan, title="泸县安宁疗护省级试点工作实施方案",
                    period_end="2023-06-30")
    assert "方案基本信息已保存" in response.content.decode()
    plan.refresh_from_db()
    assert plan.title == "泸县安宁疗护省级试点工作实施方案"
    assert plan.period_end == date(2023, 6, 30)


def test_a_correction_after_publishing_starts_the_next_version(client, plan):
    PlanVersion.objects.create(plan=plan, number=1, snapshot={"plan": {"title": plan.title}})
    client.force_login(make_user("office", role=Role.OFFICE, division_code="510521"))
    post(client, plan, title="泸县安宁疗护省级试点工作实施方案")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT and plan.version == 1
    assert PlanVersion.objects.get(plan=plan).snapshot["plan"]["title"] == \
        "泸州市安宁疗护试点工作实施方案"


@pytest.mark.parametrize("fields, message", [
    ({"title": "  "}, "方案标题："),
    ({"period_start": "2023-01-01", "period_end": "2022-01-01"}, "结束日期不能早于开始日期"),
    ({"period_end": "2022-13-45"}, "期限止："),
])
def test_bad_corrections_are_refused_with_a_message_and_change_nothing(client, plan, fields,
                                                                      message):
    client.force_login(make_user("office", role=Role.OFFICE, division_code="510521"))
    response = post(client, plan, **fields)
    assert message in response.content.decode()
    plan.refresh_from_db()
    assert plan.title == "泸州市安宁疗护试点工作实施方案"
    assert (plan.period_start, plan.period_end) == (date(2021, 1, 1), date(2022, 12, 31))
    assert plan.status == PlanStatus.PUBLISHED


@pytest.mark.parametrize("role, division", [
    (Role.LIAISON, "510521"), (Role.LEADER, "5105"), (Role.OFFICE, "510522"),
])
def test_only_the_plans_office_may_correct_it(client, plan, role, division):
    client.force_login(make_user("someone", role=role, division_code=division))
    response = post(client, plan, title="改过的标题")
    assert response.status_code in (403, 404)
    plan.refresh_from_db()
    assert plan.title == "泸州市安宁疗护试点工作实施方案"
