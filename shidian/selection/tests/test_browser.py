"""In Chromium: an expert declares no conflict of interest and scores 共青团泸县委员会's
application; the office approves it on the board within 四川's places for 县级团委, is refused a
third approval beyond the quota until it gives a reason, and opens the pilot site with its task
book. Screenshots of each step go to page.artifacts."""
from __future__ import annotations

import pytest
from django.utils import timezone

from shidian.orgs.testing import PASSWORD
from shidian.selection import services
from shidian.selection.models import Application, ApplicationStatus, ReviewAssignment
from shidian.selection.testing import (make_selection_world, scored_application,
                                       submitted_application)


@pytest.mark.browser
def test_browser_an_expert_scores_and_the_office_approves_within_the_quota(
        page, live_server, transactional_db):
    world = make_selection_world(today=timezone.localdate())
    # 合江县 was approved already: one of 四川's two places for 县级团委 is taken.
    hejiang = scored_application(world, "hejiang", marks=(80, 80, 80))
    services.application_approve(user=world.office, application_id=hejiang.pk)
    jiangyang = scored_application(world, "jiangyang", marks=(70, 70, 70))
    luxian = submitted_application(world, "luxian")
    services.application_forward(user=world.office_sc, application_id=luxian.pk)
    expert = world.experts[0]
    services.reviews_assign(user=world.office, call_id=world.call.pk, expert_ids=[expert.pk],
                            application_ids=[luxian.pk])
    review = ReviewAssignment.objects.get(application=luxian, expert=expert)
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

    log_in(expert)
    page.click("[data-testid=nav-selection]")
    page.click(f"[data-review='{review.pk}'] a")
    page.wait_for_selector("[data-testid=declaration]")
    assert "（申报内容）" not in page.content()  # nothing of the application before declaring
    page.screenshot(path=str(shots / "1-declaration.png"), full_page=True)
    page.click("[data-testid=declare]")
    page.wait_for_selector("[data-testid=score-form]")
    assert "（申报内容）" in page.content()
    for index, mark in enumerate(("95", "90", "85", "80")):
        page.locator("[data-testid=score-form] input[name^=score-]").nth(index).fill(mark)
    page.screenshot(path=str(shots / "2-scores.png"), full_page=True)
    page.click("[data-testid=submit-scores]")
    page.wait_for_selector("[data-testid=total]")
    # 0.3*95 + 0.3*90 + 0.2*85 + 0.2*80 = 88.5
    assert page.inner_text("[data-testid=total]") == "88.50"
    log_out()

    log_in(world.office)
    page.click("[data-testid=nav-selection]")
    page.click(f"[data-call='{world.call.pk}'] [data-testid=board-link]")
    row = f"[data-testid=board] tr[data-application='{luxian.pk}']"
    page.wait_for_selector(row)
    assert page.inner_text(f"{row} [data-testid=rank]") == "1"
    assert page.inner_text(f"{row} [data-testid=left]") == "1"
    page.screenshot(path=str(shots / "3-board.png"), full_page=True)
    page.click(f"{row} [data-testid=approve]")
    page.wait_for_selector(f"{row} [data-status=approved]")
    assert Application.objects.get(pk=luxian.pk).status == ApplicationStatus.APPROVED

    # 四川's places are taken: 江阳区 is refused without a reason, approved with one.
    third = f"[data-testid=board] tr[data-application='{jiangyang.pk}']"
    page.click(f"{third} [data-testid=approve]")
    page.wait_for_selector(".alert-danger")
    assert "四川" in page.inner_text(".alert-danger")
    assert Application.objects.get(pk=jiangyang.pk).status == ApplicationStatus.FORWARDED
    page.fill(f"{third} input[name=override_reason]", "江阳区为全省团建示范区，经书记处研究同意")
    page.screenshot(path=str(shots / "4-over-quota.png"), full_page=True)
    page.click(f"{third} [data-testid=approve]")
    page.wait_for_selector(f"{third} [data-status=approved]")
    assert Application.objects.get(pk=jiangyang.pk).over_quota

    page.click(f"{row} [data-testid=site-link]")
    page.wait_for_selector("[data-testid=site-tasks]")
    assert "团县(市、区、旗)委" in page.inner_text("[data-testid=site-tasks]")
    page.screenshot(path=str(shots / "5-site.png"), full_page=True)
    with page.expect_download() as download:
        page.click("[data-testid=taskbook]")
    assert download.value.suggested_filename.endswith("任务书.docx")
