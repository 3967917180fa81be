"""One household from application to payment, through the pages, by the clerks of 玉蟾社区
(village), 玉蟾街道 (township) and 泸县 (county): Chromium drives the real pages."""
import datetime as dt

import pytest

from shidian.cases.models import Case, Payment
from shidian.cases.testing import PNG, household, make_programme, make_workers
from shidian.orgs.testing import PASSWORD

pytestmark = pytest.mark.browser


def login(page, base, user):
    page.context.clear_cookies()
    page.goto(f"{base}/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=current-user]")


def upload(page, kinds, file):
    for kind in kinds:
        page.select_option("[data-testid=document-kind]", kind)
        page.set_input_files("[data-testid=document-file]", str(file))
        page.click("[data-testid=document-upload]")
        page.wait_for_selector("text=材料已上传")


def act(page, transition, stage):
    page.click(f"[data-testid=act-{transition}]")
    page.wait_for_selector(f"[data-testid=case-stage]:has-text('{stage}')")


def post_notice(page, base, programme, days_ago):
    page.goto(f"{base}/cases/p/{programme.pk}/notices/")
    starts = dt.date.today() - dt.timedelta(days=days_ago)
    page.fill("[data-testid=notice-starts]", starts.isoformat())
    page.click("[data-testid=notice-post]")
    page.wait_for_selector("text=公示已发布")


def test_a_household_from_application_to_payment(page, live_server, transactional_db,
                                                 tmp_path):
    workers = make_workers()
    programme = make_programme(name="2026年农村危房改造", year=2026)
    values = household()
    photo = tmp_path / "photo.png"
    photo.write_bytes(PNG)
    base = live_server.url
    shots = page.artifacts

    # 玉蟾社区's clerk registers the household from the survey list.
    login(page, base, workers["village"])
    page.click("[data-testid=nav-cases]")
    page.click(f"text={programme.name}")
    page.click("[data-testid=case-new]")
    page.fill("#field-head_name", values["head_name"])
    page.fill("#field-head_id_number", values["head_id_number"])
    page.check("#poverty_categories-dibao")
    page.fill("#field-area_before", "48")
    page.fill("#field-bank_name", values["bank_name"])
    page.fill("#field-bank_account", values["bank_account"])
    spouse = values["members"][0]
    page.fill("[data-testid=member-0-name]", spouse["name"])
    page.select_option("[data-testid=member-0-relation]", "spouse")
    page.fill("[data-testid=member-0-id]", spouse["id_number"])
    page.screenshot(path=str(shots / "1-register.png"), full_page=True)
    page.click("[data-testid=case-form] button[type=submit]")
    page.wait_for_selector("[data-testid=case-stage]:has-text('摸底登记')")
    masked = page.inner_text("[data-testid=subject-id]")
    assert masked == values["head_id_number"][:3] + "*" * 11 + values["head_id_number"][-4:]
    assert values["head_id_number"] not in page.content()

    act(page, "accept", "个人申请")
    assert page.locator("[data-testid=act-submit_review]").is_disabled()
    upload(page, ["application", "identity", "poverty_proof"], photo)
    act(page, "submit_review", "集体评议")
    upload(page, ["review_minutes"], photo)
    act(page, "review_pass", "评议结果公示")
    post_notice(page, base, programme, days_ago=5)
    case = Case.objects.get()
    page.goto(f"{base}/cases/{case.pk}/")
    upload(page, ["notice_photo"], photo)
    page.screenshot(path=str(shots / "2-village-notice.png"), full_page=True)
    act(page, "village_notice_pass", "乡镇审核")

    # The township audits.
    login(page, base, workers["township"])
    page.goto(f"{base}/cases/{case.pk}/")
    upload(page, ["audit_opinion"], photo)
    act(page, "township_pass", "县级审批")

    # The county appraises (D grade), approves, and the subsidy is fixed by the standard.
    login(page, base, workers["county"])
    page.goto(f"{base}/cases/{case.pk}/")
    page.select_option("#field-appraisal_grade", "D")
    page.fill("#field-appraised_on", dt.date.today().isoformat())
    page.select_option("#field-renovation_mode", "rebuild")
    page.fill("#field-area_planned", "40")
    page.click("[data-testid=case-save]")
    page.wait_for_selector("text=已保存")
    upload(page, ["appraisal_report", "photo_before", "approval_form"], photo)
    page.screenshot(path=str(shots / "3-county-approval.png"), full_page=True)
    act(page, "approve", "审批结果公示")
    assert "16000" in page.inner_text("[data-testid=entitlement]")
    page.click("[data-testid=reveal-id]")
    page.wait_for_selector("[data-testid=revealed]")
    assert page.inner_text("[data-testid=revealed]") == values["head_id_number"]

    # The township posts the approval notice, signs the agreement, inspects the building.
    login(page, base, workers["township"])
    post_notice(page, base, programme, days_ago=4)
    page.goto(f"{base}/cases/{case.pk}/")
    act(page, "approval_notice_pass", "签订协议")
    upload(page, ["agreement"], photo)
    act(page, "sign", "组织实施")
    today = dt.date.today().isoformat()
    page.fill("#field-started_on", today)
    for item in ("foundation", "seismic", "structure"):
        page.check(f"#site_inspections-{item}")
        page.fill(f"input[name='site_inspections.{item}.date']", today)
    page.fill("#field-finished_on", today)
    page.click("[data-testid=case-save]")
    page.wait_for_selector("text=已保存")
    upload(page, ["photo_during", "guidance_record"], photo)
    act(page, "finish", "竣工验收")

    # The county accepts the work item by item and pays into the household's card.
    login(page, base, workers["county"])
    page.goto(f"{base}/cases/{case.pk}/")
    page.fill("#field-area_after", "40")
    for item in ("area_suitable", "components", "structure_safe", "functions",
                 "seismic_standard", "appearance", "sign"):
        page.check(f"#acceptance_checklist-{item}")
    page.click("[data-testid=case-save]")
    page.wait_for_selector("text=已保存")
    upload(page, ["photo_after", "acceptance_form"], photo)
    act(page, "pass_acceptance", "补助拨付")
    pay = page.locator("[data-testid=pay-form]")
    pay.locator("input[name=reference]").fill("LX20261129-0001")
    pay.locator("input[name=voucher]").set_input_files(str(photo))
    pay.locator("button[type=submit]").click()
    page.wait_for_selector("text=拨付已登记")
    act(page, "close", "已完成归档")
    page.screenshot(path=str(shots / "4-paid.png"), full_page=True)
    timeline = page.inner_text("[data-testid=case-timeline]")
    for words in ("受理申请", "鉴定审批通过", "验收合格", "补助拨付"):
        assert words in timeline

    payment = Payment.objects.get()
    assert (payment.status, payment.amount, payment.reference) == ("paid", 16000,
                                                                   "LX20261129-0001")
    page.click("[data-testid=archive-link]")
    page.wait_for_selector("[data-testid=archive-cover]")
    assert page.inner_text("[data-testid=archive-complete]") == "是"
    page.screenshot(path=str(shots / "5-archive.png"), full_page=True)
