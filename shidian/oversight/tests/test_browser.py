"""In Chromium: a late task goes yellow, then red on the 挂图作战 board; the office issues a 督办 notice from the red
row, the liaison finds it in the inbox and replies, the office accepts and closes it.
Screenshots of each step go to page.artifacts."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from shidian.orgs.testing import PASSWORD
from shidian.oversight.models import NoticeStatus, SupervisionNotice
from shidian.oversight.testing import make_oversight_world
from shidian.plans.models import Task


@pytest.mark.browser
def test_browser_a_late_task_turns_red_and_a_notice_is_issued_answered_and_closed(
        page, live_server, transactional_db):
    ow = make_oversight_world()
    today = timezone.localdate()
    late, others = ow.tasks[0], ow.tasks[1:]
    # The live server runs on the real clock: the task fell due yesterday; the others are
    # months away.
    Task.objects.filter(pk=late.pk).update(deadline=today - timedelta(days=1))
    Task.objects.filter(pk__in=[t.pk for t in others]).update(
        deadline=today + timedelta(days=120))
    ow.plan.period_end = None
    ow.plan.save(update_fields=["period_end"])
    shots = page.artifacts

    def log_in(user):
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("[data-testid=current-user]")

    def log_out():
        page.click("nav form button[type=submit]")
        page.wait_for_url("**/login/**")

    board_url = f"{live_server.url}{reverse('reporting:dashboard', args=[ow.plan.pk])}"
    lit = f"[data-testid=lit-tasks] li[data-task='{late.pk}']"
    unit = f"[data-testid=units] tr[data-agency='{ow.health.pk}'] [data-light]"
    row = f"[data-testid=task-lights] tr[data-task='{late.pk}']"

    # The 挂图作战 board: the late task is yellow (urged), the rule is explained beside it.
    log_in(ow.office)
    page.goto(board_url)
    page.wait_for_selector(lit)
    assert page.get_attribute(lit, "data-light") == "yellow"
    assert page.inner_text("[data-testid=lights-yellow]") == "1"
    assert page.get_attribute(unit, "data-light") in ("yellow", "red")  # reports owed count too
    assert "超过完成时限5个工作日仍未完成" in page.get_attribute(
        "[data-testid=light-legend] .text-bg-danger", "title")
    page.screenshot(path=str(shots / "1-yellow.png"), full_page=True)

    # Three weeks later, still not done: past the five working days of urging.
    Task.objects.filter(pk=late.pk).update(deadline=today - timedelta(days=21))
    page.goto(board_url)
    page.wait_for_selector(lit)
    assert page.get_attribute(lit, "data-light") == "red"
    assert page.inner_text("[data-testid=lights-red]") == "1"
    assert page.get_attribute(unit, "data-light") == "red"
    assert "逾期21天" in page.inner_text(lit)
    page.screenshot(path=str(shots / "2-red.png"), full_page=True)

    # From the board to the lights page, where the office issues a notice from the red row.
    page.click("[data-testid=lights-link]")
    page.wait_for_selector(row)
    assert page.get_attribute(row, "data-light") == "red"
    page.click(f"{row} [data-testid=propose]")
    page.wait_for_selector("[data-testid=notice-form]")
    page.select_option("#id_agency", str(ow.health.pk))
    assert page.is_checked(f"[data-testid=notice-tasks] input[value='{late.pk}']")
    page.fill("#id_body", "你单位牵头的“建立安宁疗护服务体系”任务已逾期，请立即采取措施，"
                          "加快推进并书面回复。")
    page.screenshot(path=str(shots / "3-notice-form.png"), full_page=True)
    page.click("[data-testid=issue]")
    page.wait_for_selector("[data-testid=notice-number]")
    number = page.inner_text("[data-testid=notice-number]")
    assert number == f"督办〔{today.year}〕1号"
    assert page.inner_text("[data-testid=notice-status]") == "待回复"
    page.screenshot(path=str(shots / "4-issued.png"), full_page=True)
    log_out()

    log_in(ow.liaison_health)
    assert page.inner_text("[data-testid=inbox-unread]") == "1"
    page.click("[data-testid=nav-inbox]")
    page.wait_for_selector("[data-testid=messages]")
    assert number in page.inner_text("[data-testid=messages]")
    page.screenshot(path=str(shots / "5-inbox.png"), full_page=True)
    page.click("[data-testid=messages] a[data-kind=notice]")
    page.wait_for_selector("[data-testid=reply-form]")
    page.fill("#id_measures", "一、已成立工作专班，每周调度一次；\n二、病区装修已完成80%。")
    page.fill("#id_done_by", (today + timedelta(days=30)).isoformat())
    page.screenshot(path=str(shots / "6-reply-form.png"), full_page=True)
    page.click("[data-testid=send-reply]")
    page.wait_for_selector("[data-testid=replies] [data-reply]")
    assert page.inner_text("[data-testid=notice-status]") == "已回复"
    assert "已成立工作专班" in page.inner_text("[data-testid=replies]")
    page.screenshot(path=str(shots / "7-replied.png"), full_page=True)
    log_out()

    log_in(ow.office)
    page.click("[data-testid=nav-inbox]")
    page.click("[data-testid=messages] a[data-kind=notice_reply]")
    page.wait_for_selector("[data-testid=accept-form]")
    page.fill("[data-testid=accept-form] input[name=note]", "措施具体，同意销号。")
    page.click("[data-testid=accept]")
    page.wait_for_selector("text=已办结")
    assert page.inner_text("[data-testid=notice-status]") == "已办结"
    page.screenshot(path=str(shots / "8-closed.png"), full_page=True)

    notice = SupervisionNotice.objects.get()
    assert notice.status == NoticeStatus.ACCEPTED
    assert notice.replies.get().done_by == today + timedelta(days=30)
