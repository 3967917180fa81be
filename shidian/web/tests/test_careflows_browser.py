"""In Chromium: the county hospital's ward refers a hospice patient to the community centre;
the centre's staff find it under 转介, accept it, land on the patient's page and show the
diagnosis (a logged view); the ward no longer reaches the patient. Screenshots go to
test-artifacts/."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from shidian.cases import definitions
from shidian.cases.models import EventKind
from shidian.cases.relation_scenarios import run_relation_scenario
from shidian.orgs.testing import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCENARIO = Path(__file__).resolve().parents[2] / "packs" / "hospice" / "scenarios" / \
    "referral.yaml"


def _login(page, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=current-user]")


def test_a_referral_is_sent_and_accepted_in_the_browser(page, live_server):
    scenario = yaml.safe_load(SCENARIO.read_text(encoding="utf-8"))["scenarios"][0]
    run = run_relation_scenario(definitions.case_type_get("hospice_patient"),
                                {**scenario, "steps": []})
    case = run.cases["a"]
    base = live_server.url

    _login(page, base, run.users["ward"].username)
    page.goto(f"{base}/cases/{case.pk}/")
    page.click("[data-testid=careflows-link]")
    assert "泸县人民医院" in page.inner_text("[data-testid=owner]")
    page.select_option("#to-agency", str(run.agencies["community"].pk))
    page.fill("[data-testid=ownership] textarea[name=reason]", "患者希望在家附近接受居家安宁疗护")
    page.click("[data-testid=refer]")
    page.wait_for_selector(".alert")
    page.screenshot(path=str(page.artifacts / "referral-sent.png"), full_page=True)

    _login(page, base, run.users["community_staff"].username)
    page.click("[data-testid=nav-referrals]")
    assert "陈玉兰" in page.inner_text("[data-testid=referrals]")
    page.screenshot(path=str(page.artifacts / "referral-inbox.png"), full_page=True)
    page.click("[data-testid^=accept-]")
    page.wait_for_url(f"**/careflows/cases/{case.pk}/")
    assert "玉蟾街道社区卫生服务中心" in page.inner_text("[data-testid=owner]")
    page.click("[data-testid=reveal-diagnosis]")
    page.wait_for_selector("text=肺癌晚期伴骨转移")
    assert case.events.filter(kind=EventKind.PII_VIEW).count() == 1

    _login(page, base, run.users["ward"].username)
    response = page.goto(f"{base}/cases/{case.pk}/")
    assert response.status == 404
