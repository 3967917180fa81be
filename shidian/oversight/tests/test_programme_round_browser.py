"""In Chromium: the programme's office finalises the annual round of the 安宁疗护 programme
(泸县 and 合江县 ranked together), naming 泸县卫生健康局 a model site (示范基地); the round
shows it frozen and the programme's page lists the model site. Screenshots go to
page.artifacts."""
from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from shidian.orgs.models import Role
from shidian.orgs.testing import PASSWORD, make_user
from shidian.oversight.models import EvaluationStatus
from shidian.oversight.testing import make_oversight_world

from .test_programme_rounds import reviewed_round


@pytest.mark.browser
def test_browser_the_office_finalises_a_programme_round_and_sees_its_model_site(
        page, live_server, transactional_db):
    ow = make_oversight_world()
    ow.programme = ow.plan.programme
    ow.city_office = make_user("lz_office", role=Role.OFFICE, division_code="5105")
    evaluation = reviewed_round(ow)
    shots = page.artifacts

    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", ow.city_office.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("[data-testid=current-user]")).to_be_visible()

    # The round at reviewer scoring: all four units of both plans ranked together; only the
    # two graded excellent may be named model sites.
    page.goto(f"{live_server.url}{reverse('oversight:evaluation', args=[evaluation.pk])}")
    results = page.locator("[data-testid=results] tbody tr")
    expect(results).to_have_count(4)
    expect(results.nth(1)).to_contain_text("合江县卫生健康局")
    finalise = page.locator("[data-testid=finalise]")
    expect(finalise.locator("input[name=agency]")).to_have_count(2)
    expect(finalise.locator(f"input[value='{ow.civil.pk}']")).to_have_count(0)
    finalise.locator(f"input[value='{ow.health.pk}']").check()
    page.screenshot(path=str(shots / "1-finalise.png"), full_page=True)
    finalise.locator("[data-testid=advance]").click()

    # Final and frozen, the model site named; no form left to change it.
    expect(page.locator("[data-testid=stage]")).to_have_text("已定档")
    expect(page.locator("[data-testid=programme-round]")).to_contain_text("不再改变")
    expect(page.locator(f"[data-testid=model-sites] [data-model-site='{ow.health.pk}']")
           ).to_contain_text("泸县卫生健康局")
    expect(page.locator("[data-testid=finalise]")).to_have_count(0)
    page.screenshot(path=str(shots / "2-final.png"), full_page=True)

    # The programme's page lists the model site with the round that named it.
    page.locator("[data-testid=programme-round] a").click()
    row = page.locator(f"[data-testid=programme-model-sites] tr[data-model-site='{ow.health.pk}']")
    expect(row).to_contain_text("泸县卫生健康局")
    expect(row).to_contain_text("95.0%")
    page.screenshot(path=str(shots / "3-programme.png"), full_page=True)
    evaluation.refresh_from_db()
    assert evaluation.status == EvaluationStatus.FINAL
    assert list(evaluation.model_sites.all()) == [ow.health]
