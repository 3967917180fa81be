"""The oversight demo: the 泸县 hospice plan as its office, liaison, pilot hospital, expert
and leader find it after logging in; loading it twice adds nothing."""
from __future__ import annotations

from datetime import UTC, datetime
from unittest import mock

import pytest
from django.urls import reverse

from shidian.demo import services as demo
from shidian.demo.oversight import oversight_demo_load
from shidian.orgs.models import User
from shidian.orgs.services import divisions_load
from shidian.oversight import selectors
from shidian.oversight.models import (Bulletin, Evaluation, EvaluationStatus, Message,
                                      NoticeStatus, Rectification, RectificationStatus, Score,
                                      SupervisionNotice)

pytestmark = pytest.mark.django_db


def quiet(message: str) -> None:
    return None


@pytest.fixture
def luxian():
    """The demo's 泸县 hospice plan with its people and 2022 reports, as ``shidian demo``
    loads them (without the 23 other seed plans)."""
    divisions_load(levels=3)
    divisions_load(levels=4, province="51")
    result = demo.DemoResult()
    admin = demo._demo_user(result, "demo_admin", "admin", None, (), "系统管理员",
                            superuser=True)
    programme = demo.programme_create(user=admin, name="安宁疗护试点", domain="安宁疗护")
    plan_def = {"file": "05-luxian-hospice.txt", "division": "510521", "reporting": "monthly"}
    plan = demo._demo_plan(result, admin, programme, plan_def, quiet)
    demo._demo_people(result, {"05-luxian-hospice": plan},
                      {"programmes": [{"plans": [plan_def]}]})
    demo._demo_reports(result, admin, plan, "monthly")
    return plan


def inbox_kinds(username: str) -> set[str]:
    return set(Message.objects.filter(recipient__username=username, channel="inbox")
               .values_list("kind", flat=True))


@pytest.fixture
def clock():
    """The demo works around today; the test fixes today (a Monday inside the installed
    holiday calendar) so that it does not depend on the day it runs."""
    now = datetime(2026, 6, 15, 2, 0, tzinfo=UTC)
    with mock.patch("django.utils.timezone.now", return_value=now):
        yield now


def test_the_demo_shows_every_rung_of_the_ladder_and_twice_adds_nothing(luxian, client, clock):
    from django.utils import timezone

    oversight_demo_load(log=quiet)

    # Lights: red, yellow and green tasks; the 县卫生健康局 that leads the late ones is red.
    lights = selectors.plan_lights(plan=luxian, today=timezone.localdate())
    assert lights.counts["red"] == 2 and lights.counts["yellow"] == 1
    assert lights.counts["green"] >= 2
    assert lights.units[0].agency.name == "县卫生健康局" and lights.units[0].light == "red"
    client.force_login(User.objects.get(username="demo_office_510521"))
    board = client.get(reverse("reporting:dashboard", args=[luxian.pk])).content.decode()
    assert 'data-testid="lights-red">2<' in board and 'data-testid="lights-yellow">1<' in board

    # Two notices answered by the unit: one closed, one waiting for the office.
    notices = SupervisionNotice.objects.filter(plan=luxian).order_by("number")
    assert [n.status for n in notices] == [NoticeStatus.ACCEPTED, NoticeStatus.REPLIED]
    assert notices[0].display_number.endswith("〕1号")
    # An on-site inspection of the pilot hospital: one problem closed (销号), one open; the
    # plan asks for two on-site inspections, one is done.
    items = Rectification.objects.filter(finding__visit__round__plan=luxian)
    assert sorted(items.values_list("status", flat=True)) == sorted(
        [RectificationStatus.CLOSED, RectificationStatus.OPEN])
    check = selectors.inspection_coverage(plan=luxian, today=timezone.localdate())
    hospital = next(c for c in check if c.site.name == "泸县人民医院")
    assert (hospital.required, hospital.done) == (2, 1)
    # The annual round is final with two reviewers, ranked, and a 通报 was issued from it.
    evaluation = luxian.scorecards.get().evaluations.get()
    assert evaluation.status == EvaluationStatus.FINAL and evaluation.period == "2022"
    assert evaluation.reviewers.count() == 2
    ranking = selectors.evaluation_ranking(evaluation=evaluation)
    assert ranking.rows[0].name == "县卫生健康局" and len({r.rank for r in ranking.rows}) > 3
    bulletin = Bulletin.objects.get(plan=luxian)
    assert bulletin.status == "issued" and bulletin.number == 1
    assert luxian.briefings.count() == 1
    # The hospice programme's annual round over its plans: final, model sites named (the
    # 县卫生健康局 first), listed on the programme's page; a draft 通报 of it.
    annual = Evaluation.objects.get(scorecard__programme=luxian.programme)
    assert annual.status == EvaluationStatus.FINAL and annual.period == "2026"
    assert annual.reviewers.count() == 2
    assert "县卫生健康局" in {a.name for a in annual.model_sites.all()}
    assert Bulletin.objects.get(programme=luxian.programme).status == "draft"
    client.force_login(User.objects.get(username="demo_office"))
    page = client.get(reverse("oversight:programme", args=[luxian.programme_id])).content
    assert "县卫生健康局" in page.decode() and "data-model-site" in page.decode()

    # Each demo user finds their part in the inbox on logging in.
    assert {"notice_reply", "propose"} <= inbox_kinds("demo_office_510521")
    assert {"notice", "urge", "remind"} <= inbox_kinds("demo_liaison_510521_01")
    assert "rectification" in inbox_kinds("demo_pilot")
    assert {"review", "rectification"} <= inbox_kinds("demo_expert")
    assert "review" in inbox_kinds("demo_leader")

    before = (Message.objects.count(), SupervisionNotice.objects.count(), items.count(),
              Bulletin.objects.count(), luxian.tasks.exclude(deadline=None).count(),
              Evaluation.objects.count(), Score.objects.count())
    oversight_demo_load(log=quiet)
    assert (Message.objects.count(), SupervisionNotice.objects.count(), items.count(),
            Bulletin.objects.count(), luxian.tasks.exclude(deadline=None).count(),
            Evaluation.objects.count(), Score.objects.count()) == before
