"""The reporting pages as a liaison and an office user meet them, scope checks included."""
import io
from datetime import date
from unittest import mock

import pytest
from django.urls import reverse
from docx import Document
from openpyxl import load_workbook

from shidian.plans.models import TaskStatus
from shidian.reporting import services
from shidian.reporting.models import Evidence, ProgressReport, ReportStatus
from shidian.reporting.services import ReportInput
from shidian.reporting.testing import (at, ensure_catalogs, fake_office_zip, make_world,
                                       pdf_bytes, upload)

NOW = at(date(2021, 6, 20))


@pytest.fixture(autouse=True, scope="module")
def _catalogs():
    ensure_catalogs()


@pytest.fixture(autouse=True)
def _setup(settings, request):
    settings.LANGUAGE_CODE = "zh-hans"
    if request.node.get_closest_marker("browser"):
        yield  # the live server runs on the real clock
        return
    # The pages are looked at on 20 June 2021: June is the open period.
    with mock.patch("django.utils.timezone.now", return_value=NOW):
        yield


@pytest.fixture
def world(db):
    return make_world()


def login(client, user):
    client.force_login(user)
    return client


def form_url(task, period="2021M06"):
    return reverse("reporting:report_form", args=[task.pk]) + f"?period={period}"


def submit_post(client, task, **extra):
    data = {"task_status": TaskStatus.IN_PROGRESS, "percent": "40", "done": "完成病区设置",
            "problems": "", "next_steps": "", "action": "submit", **extra}
    return client.post(form_url(task), data)


def test_workspace_shows_roles_due_dates_and_returned_reports(client, world):
    login(client, world.liaison_civil)
    page = client.get(reverse("reporting:workspace")).content.decode()
    assert "我的任务" in page
    assert "建立安宁疗护服务体系" in page and "开展困难群众救助" in page
    assert "落实安宁疗护收费政策" not in page  # not a unit of task 2
    assert "牵头" in page and "配合" in page
    assert "2021年6月" in page and "2021年6月25日" in page
    assert "本期还有2项任务待报送" in page


def test_the_form_is_prefilled_from_the_last_report(client, world):
    services.report_submit(user=world.liaison_health, task_id=world.tasks[0].pk, agency_id=None,
                           period="2021M05", data=ReportInput(
                               percent=35, done="五月已完成选址", problems="缺少医护人员",
                               next_steps="招聘护士"), now=at(date(2021, 5, 20)))
    login(client, world.liaison_health)
    page = client.get(form_url(world.tasks[0])).content.decode()
    assert 'value="35"' in page and "缺少医护人员" in page and "招聘护士" in page
    assert "2021年5月" in page  # tells where the prefill comes from


def test_liaison_submits_with_evidence_and_the_office_returns_it(client, world):
    login(client, world.liaison_health)
    response = submit_post(client, world.tasks[0],
                           files=[upload("现场照片说明.pdf", pdf_bytes("site"))])
    assert response.status_code == 302
    report = ProgressReport.objects.get(task=world.tasks[0], agency=world.health)
    assert report.status == ReportStatus.SUBMITTED and report.on_time
    assert [e.original_name for e in report.evidence.all()] == ["现场照片说明.pdf"]
    # A second click (the same form again) files nothing new.
    submit_post(client, world.tasks[0], evidence=[report.evidence.get().pk])
    assert ProgressReport.objects.count() == 1

    login(client, world.office)
    page = client.get(reverse("reporting:report", args=[report.pk])).content.decode()
    assert "现场照片说明.pdf" in page and "退回修改" in page
    client.post(reverse("reporting:report_return", args=[report.pk]), {"reason": "请补充照片"})
    report.refresh_from_db()
    assert report.status == ReportStatus.RETURNED

    login(client, world.liaison_health)
    page = client.get(reverse("reporting:workspace")).content.decode()
    assert "请补充照片" in page
    page = client.get(form_url(world.tasks[0])).content.decode()
    assert "请补充照片" in page
    submit_post(client, world.tasks[0], percent="60")
    report.refresh_from_db()
    assert (report.status, report.percent) == (ReportStatus.SUBMITTED, 60)


def test_bad_files_get_a_chinese_message_and_nothing_is_saved(client, world, settings):
    login(client, world.liaison_health)
    response = submit_post(client, world.tasks[0], files=[upload("表.docx", fake_office_zip())])
    page = response.content.decode()
    assert response.status_code == 200
    assert "表.docx" in page and "不是真正的" in page
    settings.SHIDIAN_EVIDENCE_MAX_BYTES = 100
    page = submit_post(client, world.tasks[0],
                       files=[upload("大.pdf", pdf_bytes("x" * 500))]).content.decode()
    assert "最大" in page or "不能超过" in page
    assert not ProgressReport.objects.exists() and not Evidence.objects.exists()


def test_a_report_for_a_closed_period_is_refused_on_the_page(client, world):
    with mock.patch("django.utils.timezone.now", return_value=at(date(2021, 7, 6))):
        login(client, world.liaison_health)
        response = submit_post(client, world.tasks[0])
    page = response.content.decode()
    assert response.status_code == 200, response
    assert "2021年7月5日" in page and "截止" in page
    assert not ProgressReport.objects.exists()


def test_liaison_cannot_reach_other_units_objects_by_editing_urls(client, world):
    theirs = services.report_submit(user=world.liaison_other, task_id=world.other_task.pk,
                                    agency_id=None, period="2021M06",
                                    data=ReportInput(percent=10), now=NOW)
    evidence = services.evidence_attach(user=world.liaison_other, agency_id=world.other_health.pk,
                                        upload=upload("合江.pdf", pdf_bytes("hj")))
    login(client, world.liaison_health)
    for url in [form_url(world.other_task),
                reverse("reporting:task_history", args=[world.other_task.pk]),
                reverse("reporting:report", args=[theirs.pk]),
                reverse("reporting:evidence", args=[evidence.pk]),
                reverse("reporting:dashboard", args=[world.plan.pk]),
                reverse("reporting:export_bulletin", args=[world.plan.pk]),
                form_url(world.tasks[0]) + f"&agency={world.civil.pk}"]:
        assert client.get(url).status_code == 404, url
    assert client.post(form_url(world.other_task), {"task_status": "in_progress",
                                                    "percent": "99",
                                                    "action": "submit"}).status_code == 404
    assert client.post(reverse("reporting:report_return", args=[theirs.pk]),
                       {"reason": "x"}).status_code == 404
    theirs.refresh_from_db()
    assert (theirs.percent, theirs.status) == (10, ReportStatus.SUBMITTED)


def test_a_county_office_cannot_see_another_county(client, world):
    login(client, world.office_other)
    assert client.get(reverse("reporting:dashboard", args=[world.plan.pk])).status_code == 404
    assert client.get(reverse("reporting:export_decomposition",
                              args=[world.plan.pk])).status_code == 404
    assert client.get(reverse("reporting:task_history",
                              args=[world.tasks[0].pk])).status_code == 404
    page = client.get(reverse("reporting:plans")).content.decode()
    assert "合江县安宁疗护" in page and "泸县安宁疗护" not in page


def test_evidence_download_for_those_in_scope(client, world):
    evidence = services.evidence_attach(user=world.liaison_health, agency_id=world.health.pk,
                                        upload=upload("纪要.pdf", pdf_bytes("m")))
    services.report_submit(user=world.liaison_health, task_id=world.tasks[0].pk, agency_id=None,
                           period="2021M06", data=ReportInput(percent=5,
                                                              evidence_ids=(evidence.pk,)),
                           now=NOW)
    login(client, world.office)
    response = client.get(reverse("reporting:evidence", args=[evidence.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == pdf_bytes("m")
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]


def test_dashboard_figures_and_query_count(client, world, django_assert_max_num_queries):
    services.report_submit(user=world.liaison_health, task_id=world.tasks[0].pk, agency_id=None,
                           period="2021M06", data=ReportInput(percent=50), now=NOW)
    login(client, world.office)
    url = reverse("reporting:dashboard", args=[world.plan.pk]) + "?period=2021M06"
    # The red/yellow/green lights add a fixed few queries (the plan's escalation rule, its
    # units, the reports owed): the bound moved from 14 to 15 and stays independent of size;
    # 16 with the plan's further reporting cycles (a pack's weekly report), read once.
    with django_assert_max_num_queries(16):
        page = client.get(url).content.decode()
    assert "20.0%" in page  # 1 of 5 expected reports
    assert 'id="reporting-data"' in page and "echarts.min.js" in page
    assert "<script>" not in page.replace('<script id="reporting-data" type="application/json">',
                                          "")
    # Adding tasks and reports does not add queries.
    from shidian.plans.models import Task, TaskUnit
    for i in range(10):
        task = Task.objects.create(plan=world.plan, order=10 + i, path=str(10 + i),
                                   title=f"新增任务{i}", first_version=1)
        TaskUnit.objects.create(task=task, role="lead", name="泸县民政局", agency=world.civil)
        services.report_submit(user=world.liaison_civil, task_id=task.pk, agency_id=None,
                               period="2021M06", data=ReportInput(percent=10), now=NOW)
    with django_assert_max_num_queries(16):
        client.get(url)


def test_exports_download_and_open(client, world):
    services.report_submit(user=world.liaison_health, task_id=world.tasks[0].pk, agency_id=None,
                           period="2021M06", data=ReportInput(percent=50, done="启动部署"),
                           now=NOW)
    login(client, world.office)
    base = [world.plan.pk]
    response = client.get(reverse("reporting:export_decomposition", args=base))
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.cell(4, 2).value == "建立安宁疗护服务体系"
    response = client.get(reverse("reporting:export_progress", args=base) + "?period=2021M06")
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert any(row[8] == "启动部署" for row in sheet.iter_rows(values_only=True))
    response = client.get(reverse("reporting:export_bulletin", args=base) + "?period=2021M06")
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    text = "\n".join(p.text for p in Document(io.BytesIO(response.content)).paragraphs)
    assert "工作简报" in text and "应报送5份" in text


def test_office_sets_the_cycle_with_validation(client, world):
    login(client, world.office)
    url = reverse("reporting:cycle", args=[world.plan.pk])
    page = client.post(url, {"kind": "weekly", "due_day": "25", "grace_days": "3"}
                       ).content.decode()
    assert "星期" in page or "周一" in page
    world.plan.cycle.refresh_from_db()
    assert world.plan.cycle.kind == "monthly"
    client.post(url, {"kind": "quarterly", "due_day": "10", "grace_days": "5"})
    world.plan.cycle.refresh_from_db()
    assert (world.plan.cycle.kind, world.plan.cycle.due_day) == ("quarterly", 10)
    login(client, world.liaison_health)
    assert client.get(url).status_code == 404


def test_task_history_drill_down(client, world):
    for month, percent in (("2021M04", 10), ("2021M05", 30)):
        services.report_submit(user=world.liaison_health, task_id=world.tasks[0].pk,
                               agency_id=None, period=month, data=ReportInput(percent=percent),
                               now=at(date(2021, int(month[-2:]), 20)))
    login(client, world.office)
    page = client.get(reverse("reporting:task_history", args=[world.tasks[0].pk])).content.decode()
    assert page.index("2021年5月") < page.index("2021年4月")
    assert "30%" in page and "10%" in page


@pytest.mark.browser
def test_browser_liaison_reports_with_evidence_and_the_board_counts_it(page, live_server,
                                                                        transactional_db):
    """The main journey in Chromium: the board shows 0 of 5, a liaison reports with a PDF,
    the board shows 1 of 5. Screenshots of each step go to page.artifacts."""
    from shidian.orgs.testing import PASSWORD

    world = make_world()
    # Report on the real calendar: the plan runs from 2021 without an end.
    world.plan.period_end = None
    world.plan.save(update_fields=["period_end"])
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

    log_in(world.office)
    page.click("[data-testid=nav-dashboard]")
    page.click(f"text={world.plan.title}")
    page.wait_for_selector("#chart-status svg")
    before = page.inner_text("[data-testid=completeness-count]")
    assert "应报5份" in before and "已报0份" in before
    page.screenshot(path=str(shots / "1-board-before.png"), full_page=True)
    log_out()

    log_in(world.liaison_health)
    page.click("[data-testid=nav-my-tasks]")
    page.wait_for_selector("[data-testid=my-tasks]")
    page.screenshot(path=str(shots / "2-my-tasks.png"), full_page=True)
    page.click(f"tr[data-task='{world.tasks[0].pk}'] [data-testid=report-link]")
    page.select_option("#id_task_status", "in_progress")
    page.fill("#id_percent", "45")
    page.fill("#id_done", "已建成安宁疗护病区1个，开放床位8张。")
    page.fill("#id_problems", "专业护理人员不足。")
    page.set_input_files("[data-testid=evidence-input]", files=[{
        "name": "病区验收记录.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes("ward")}])
    page.screenshot(path=str(shots / "3-report-form.png"), full_page=True)
    page.click("[data-testid=submit]")
    page.wait_for_selector("[data-testid=my-tasks]")
    assert "已报送" in page.inner_text("main")
    page.screenshot(path=str(shots / "4-submitted.png"), full_page=True)
    log_out()

    report = ProgressReport.objects.get(task=world.tasks[0], agency=world.health)
    assert report.status == ReportStatus.SUBMITTED and report.percent == 45
    assert report.evidence.get().original_name == "病区验收记录.pdf"

    log_in(world.office)
    page.goto(f"{live_server.url}{reverse('reporting:dashboard', args=[world.plan.pk])}")
    page.wait_for_selector("#chart-completeness svg")
    after = page.inner_text("[data-testid=completeness-count]")
    assert "已报1份" in after
    assert page.inner_text("[data-testid=completeness-rate]") == "20.0%"
    assert "病区" not in page.inner_text("[data-testid=overdue]")
    page.screenshot(path=str(shots / "5-board-after.png"), full_page=True)
    page.click("[data-testid=period-reports] a[href*='/reports/']")
    page.wait_for_selector("[data-testid=evidence-list]")
    assert "病区验收记录.pdf" in page.inner_text("[data-testid=evidence-list]")
    page.screenshot(path=str(shots / "6-report-detail.png"), full_page=True)
