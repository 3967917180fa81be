"""In Chromium: a county office opens the catalogue, creates a programme from the 医共体 pack and
lands on the review of its starting plan (seed 06 parsed, a draft). Screenshots go to
test-artifacts/."""
from __future__ import annotations

import pytest

from shidian.catalogue.models import PackInstall
from shidian.orgs.models import Role
from shidian.orgs.testing import PASSWORD, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_office_creates_a_programme_from_a_pack_and_lands_on_its_plan_review(page,
                                                                             live_server):
    office = make_user("luxian-office", role=Role.OFFICE, division_code="510521")
    base = live_server.url
    page.goto(f"{base}/login/")
    page.fill("#id_username", office.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=current-user]")
    page.click("[data-testid=nav-catalogue]")
    card = page.locator("[data-testid=pack-medcommunity]")
    assert "县域就诊率" in card.inner_text()
    page.screenshot(path=str(page.artifacts / "catalogue.png"), full_page=True)
    page.click("[data-testid=create-medcommunity]")
    page.fill("#id_name", "泸县紧密型医共体建设试点")
    page.select_option("#id_division", "510521")
    page.fill("#id_year", "2019")
    page.click("[data-testid=create-form] button[type=submit]")
    page.wait_for_url("**/plans/*/")
    install = PackInstall.objects.get()
    assert page.url.endswith(f"/plans/{install.plan_id}/")
    text = page.inner_text("body")
    assert "泸县紧密型医共体建设试点" in text
    assert "四川省医共体试点工作实施方案" in text
    page.screenshot(path=str(page.artifacts / "plan-review.png"), full_page=True)
    page.goto(f"{base}/catalogue/programmes/{install.programme_id}/")
    assert "牵头医院与成员单位管理权责清单" in page.inner_text("body")
    page.screenshot(path=str(page.artifacts / "programme-pack.png"), full_page=True)
