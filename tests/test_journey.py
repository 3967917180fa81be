"""The main journey of issue 3 in Chromium, across the apps, on a plan the parser never saw.

The 泸县 office imports a plan file, matches one unit by hand and publishes; the lead unit's
liaison reports with a PDF; the office's 挂图作战 counts the report; the 任务分解表, the
工作进展情况表 and the 工作简报 download and open. Screenshots go to test-artifacts/.
"""
from __future__ import annotations

import io

import pytest
from docx import Document
from openpyxl import load_workbook

from shidian.orgs.models import AgencyKind, Division, Role
from shidian.orgs.testing import PASSWORD, make_agency, make_divisions, make_user
from shidian.plans.models import Plan, TaskUnit
from shidian.plans.services import programme_create
from shidian.reporting.models import ProgressReport, ReportStatus
from shidian.reporting.testing import pdf_bytes

pytestmark = pytest.mark.browser

# A county plan written for this test (generated data, not a seed): it runs from 2026 on, so
# its reports fall in the periods open today.
PLAN_TEXT = """泸县2026年安宁疗护服务能力提升试点工作实施方案

为推进安宁疗护服务体系建设，结合我县实际，制定本方案。

一、工作目标
到2027年底，全县二级以上医疗机构安宁疗护病区覆盖率达到80%以上。

二、主要任务
(一)建设安宁疗护病区。县人民医院、县中医医院各设置安宁疗护病区1个，开放床位不少于10张。(县卫生健康局牵头，县财政局配合)
(二)培养专业服务队伍。每年组织安宁疗护专题培训不少于2次，2027年6月底前完成全员轮训。(县卫生健康部门牵头，县人力资源和社会保障局配合)
(三)完善医疗保障政策。2027年12月底前出台安宁疗护按床日付费办法。(县医疗保障局牵头，县卫生健康局配合)

三、实施步骤
(一)启动部署阶段(2026年1月—2026年6月)。制定方案，确定试点机构。
(二)全面实施阶段(2026年7月—2027年12月)。按方案推进各项任务。

四、保障措施
各责任单位每月25日前向县卫生健康局报送工作进展情况。
"""


def log_in(page, base, user):
    page.goto(f"{base}/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=current-user]")


def log_out(page):
    page.click("nav form button[type=submit]")
    page.wait_for_url("**/login/**")


def download(page, selector):
    with page.expect_download() as info:
        page.click(selector)
    return info.value.suggested_filename, open(info.value.path(), "rb").read()


@pytest.mark.django_db(transaction=True)
def test_office_imports_publishes_liaison_reports_board_and_exports_follow(
        page, live_server, tmp_path):
    make_divisions()
    health = make_agency("泸县卫生健康局", "510521")
    for name in ("泸县财政局", "泸县人力资源和社会保障局", "泸县医疗保障局"):
        make_agency(name, "510521")
    make_agency("泸县人民医院", "510521", kind=AgencyKind.INSTITUTION)
    office = make_user("lx-office", role=Role.OFFICE, division_code="510521")
    liaison = make_user("lx-wjj", division_code="510521", agencies=(health,))
    programme_create(user=office, name="安宁疗护试点", domain="安宁疗护",
                     division=Division.objects.get(code="510521"))
    plan_file = tmp_path / "泸县安宁疗护提升方案.txt"
    plan_file.write_text(PLAN_TEXT, encoding="utf-8")
    shots, base = page.artifacts, live_server.url

    # 1. The office imports the file and sees the parsed decomposition beside the text.
    log_in(page, base, office)
    page.click("[data-testid=nav-plan-import]")
    page.select_option("#id_division", "510521")
    page.set_input_files("#id_file", str(plan_file))
    page.click("[data-testid=import-form] button[type=submit]")
    page.wait_for_selector("[data-testid=task-table]")
    plan = Plan.objects.get()
    titles = set(plan.tasks.values_list("title", flat=True))
    assert {"建设安宁疗护病区", "培养专业服务队伍", "完善医疗保障政策"} <= titles
    page.screenshot(path=str(shots / "1-imported.png"), full_page=True)

    # 2. One unit is written loosely (县卫生健康部门): the office matches it by hand.
    entry = page.locator("[data-testid=unresolved-entry]", has_text="县卫生健康部门")
    entry.locator("input[type=search]").fill("卫生健康局")
    entry.locator("[data-testid=candidate]", has_text="泸县卫生健康局").first.click()
    page.wait_for_selector("[data-testid=task-table]")
    assert TaskUnit.objects.get(task__plan=plan, name="县卫生健康部门").agency == health
    page.screenshot(path=str(shots / "2-unit-matched.png"), full_page=True)

    # 3. Publish.
    confirm = page.locator("input[name=accept_unresolved]")
    if confirm.count():
        confirm.check()
    page.click("[data-testid=publish]")
    page.wait_for_selector("[data-testid=plan-status]")
    assert "已发布" in page.inner_text("[data-testid=plan-status]")
    page.screenshot(path=str(shots / "3-published.png"), full_page=True)

    # 4. The board before any report.
    page.click("[data-testid=nav-dashboard]")
    page.click(f"text={plan.title}")
    page.wait_for_selector("[data-testid=completeness-count]")
    assert "已报0份" in page.inner_text("[data-testid=completeness-count]")
    page.screenshot(path=str(shots / "4-board-before.png"), full_page=True)
    log_out(page)

    # 5. The liaison of the lead unit reports on its task with a PDF.
    log_in(page, base, liaison)
    page.wait_for_selector("[data-testid=my-tasks]")
    task = plan.tasks.get(title="建设安宁疗护病区")
    page.click(f"tr[data-task='{task.pk}'] [data-testid=report-link]")
    page.wait_for_selector("[data-testid=report-form]")
    page.fill("#id_percent", "60")
    page.fill("#id_done", "县人民医院安宁疗护病区已开放床位10张。")
    page.set_input_files("[data-testid=evidence-input]", files=[{
        "name": "病区开放通知.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes("ward")}])
    page.screenshot(path=str(shots / "5-report-form.png"), full_page=True)
    page.click("[data-testid=submit]")
    page.wait_for_selector("[data-testid=my-tasks]")
    report = ProgressReport.objects.get(task=task, agency=health)
    assert report.status == ReportStatus.SUBMITTED and report.percent == 60
    assert report.evidence.get().original_name == "病区开放通知.pdf"
    page.screenshot(path=str(shots / "6-submitted.png"), full_page=True)
    log_out(page)

    # 6. The office's board counts it.
    log_in(page, base, office)
    page.click("[data-testid=nav-dashboard]")
    page.click(f"text={plan.title}")
    page.wait_for_selector("[data-testid=completeness-count]")
    assert "已报1份" in page.inner_text("[data-testid=completeness-count]")
    page.screenshot(path=str(shots / "7-board-after.png"), full_page=True)

    # 7. The exports download and open.
    name, content = download(page, "[data-testid=export-decomposition]")
    assert name.endswith(".xlsx")
    cells = {str(c.value) for row in load_workbook(io.BytesIO(content)).active.iter_rows()
             for c in row if c.value}
    assert "建设安宁疗护病区" in cells and any("泸县卫生健康局" in c or "县卫生健康局" in c
                                              for c in cells)
    name, content = download(page, "[data-testid=export-progress]")
    cells = {str(c.value) for row in load_workbook(io.BytesIO(content)).active.iter_rows()
             for c in row if c.value}
    assert any("已开放床位10张" in c for c in cells)
    name, content = download(page, "[data-testid=export-bulletin]")
    assert name.endswith(".docx")
    text = "\n".join(p.text for p in Document(io.BytesIO(content)).paragraphs)
    assert plan.title in text or "工作简报" in text
