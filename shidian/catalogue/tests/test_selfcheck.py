"""The apprenticeship self-inspection report (seed 04's 自检报告) generated whole: each part
reflects the data behind it (the cases, the plan's targets and tasks, the funds, the open
rectifications), the measures are written by the school, saved and audited, with the computed
problems as prompts; outsiders get 404 and change nothing."""
from __future__ import annotations

import datetime as dt
import io
import uuid
from pathlib import Path

import pytest
import yaml
from auditlog.models import LogEntry
from django.urls import reverse

from shidian.cases import definitions, funds
from shidian.cases.relation_scenarios import run_relation_scenario
from shidian.cases.testing import ensure_catalogs
from shidian.catalogue import selfcheck, services
from shidian.catalogue.models import InstalledObject, SelfCheckText
from shidian.core.errors import ErrorCode, ShidianError
from shidian.orgs.models import Division

pytestmark = pytest.mark.django_db
PACK = Path(__file__).resolve().parents[2] / "packs" / "apprenticeship"
TODAY = dt.date(2017, 5, 31)  # seed 04's report is dated 2017年5月, on the year 2016


@pytest.fixture(autouse=True, scope="module")
def _catalogs():
    ensure_catalogs()


@pytest.fixture
def world():
    """Seed 04's apprentice (four-party agreement, seed 04's periods, passed) in a programme
    installed from the apprenticeship pack (seed 02's plan), with a completion-rate target the
    county missed, an overdue task of the plan, an open rectification of the school and seed
    04's spending."""
    from shidian.indicators import services as ind
    from shidian.indicators.models import Indicator, IndicatorValue
    from shidian.oversight.models import Finding, InspectionRound, InspectionVisit, Rectification
    from shidian.plans.models import TaskStatus

    scenario = next(s for s in yaml.safe_load((PACK / "scenarios" / "workflow.yaml").read_text(
        encoding="utf-8"))["scenarios"] if s["name"].startswith("a 16"))
    run = run_relation_scenario(definitions.case_type_get("apprentice"), scenario)
    office, clerk = run.users["office"], run.users["clerk"]
    install = services.programme_create_from_pack(
        user=office, pack_key="apprenticeship", name="泸县现代学徒制试点", division_code="510521",
        year=2016, token=uuid.uuid4().hex)
    # The scenario's programme stands for the one the pack installed.
    InstalledObject.objects.filter(install=install, kind="case_programme").update(
        object_id=run.programme().pk)
    plan = install.plan
    county = Division.objects.get(pk="510521")
    rate = Indicator.objects.get(plan=plan, name="学徒结业率")
    ind.target_create(user=office, indicator=rate, value=90, deadline=dt.date(2016, 6, 30),
                      division=county, plan=plan)
    IndicatorValue.objects.create(indicator_id=rate.pk, period="2016", parent="5105",
                                  code="510521", level=3, value=50.0)
    task = plan.tasks.order_by("order").first()
    plan.tasks.filter(pk=task.pk).update(deadline=dt.date(2016, 9, 30),
                                         status=TaskStatus.NOT_STARTED, percent=20)
    plan.tasks.exclude(pk=task.pk).update(status=TaskStatus.COMPLETED)
    school = run.agencies["school"]
    round_ = InspectionRound.objects.create(plan=plan, name="2016年督导", starts_on=dt.date(
        2016, 10, 1), ends_on=dt.date(2016, 10, 31))
    visit = InspectionVisit.objects.create(round=round_, site=school,
                                           planned_on=dt.date(2016, 10, 10))
    finding = Finding.objects.create(visit=visit, description="实训设备不足")
    Rectification.objects.create(finding=finding, owner=school, measures="补齐数控实训设备",
                                 deadline=dt.date(2016, 12, 15))
    for category, amount in [("teachers", "35000"), ("allowance", "700")]:
        funds.fund_record(user=clerk, programme=run.programme(), division_code="510521",
                          direction="spent", category=category, amount=amount,
                          on=dt.date(2016, 12, 1))
    return run, plan, task, county


def _sections(run, county):
    return {s.part.key: s for s in selfcheck.selfcheck_sections(
        programme=run.programme(), division=county, year=2016, today=TODAY)}


def test_every_part_of_the_report_reflects_its_data(world):
    run, plan, task, county = world
    sections = _sections(run, county)
    assert [s.heading for s in sections.values()] == [
        "一、总体情况", "二、目标和任务完成情况", "三、主要建设成效（重点任务完成情况）",
        "四、资金到位和执行情况", "五、存在主要问题", "六、改进措施和计划"]
    overall = " ".join(sections["overall"].paragraphs)
    assert "共登记1名" in overall and "出勤率" in overall
    targets = " ".join(sections["targets"].paragraphs)
    total = plan.tasks.count()
    assert f"方案任务共{total}项：已完成{total - 1}项，推进中0项，未开始1项" in targets
    assert "学徒结业率目标>= 90%（2016-06-30前）：当前50%（2016年）" in targets
    results = " ".join(sections["results"].paragraphs)
    assert "已签订1份（4方协议1份）" in results  # seed 04's four-party agreement
    assert "在培0名，结业1名" in results
    assert "企业师傅：1名参与，共指导（负责）1名" in results
    assert sections["funds"].table.rows[-1] == ["合计", "0.00", "35,700.00"]
    problems = sections["problems"].paragraphs
    assert any(line.startswith("任务逾期：") and task.title in line and "2016-09-30" in line
               and "完成20%" in line for line in problems)
    assert any("整改未销号：乾县职业教育中心，补齐数控实训设备" in line and "已逾期" in line
               for line in problems)
    assert any(line.startswith("目标未达成：学徒结业率") for line in problems)
    # The measures are the school's to write, with the problems as prompts.
    assert sections["measures"].prompts == problems
    assert sections["measures"].paragraphs == ["—"]


def test_a_closed_rectification_and_a_met_target_leave_the_problems(world):
    from shidian.indicators.models import IndicatorValue
    from shidian.oversight.models import Rectification
    from shidian.plans.models import TaskStatus

    run, plan, _task, county = world
    Rectification.objects.update(status="closed")
    IndicatorValue.objects.update(value=95.0)
    plan.tasks.update(status=TaskStatus.COMPLETED)
    assert _sections(run, county)["problems"].paragraphs == [
        "未发现逾期任务、未销号整改或未达成的目标。"]


def test_the_measures_are_saved_audited_and_in_the_word_report(world):
    from docx import Document

    run, _plan, _task, county = world
    clerk = run.users["clerk"]
    selfcheck.selfcheck_text_save(user=clerk, programme=run.programme(), division_code="510521",
                                  year=2016, texts={"measures": "暑期加大招生宣传\n招聘专业教师"})
    row = SelfCheckText.objects.get()
    entries = LogEntry.objects.get_for_object(row)
    assert entries.count() == 1 and entries.get().actor == clerk
    # The same text again changes nothing and writes no audit entry.
    selfcheck.selfcheck_text_save(user=clerk, programme=run.programme(), division_code="510521",
                                  year=2016, texts={"measures": "暑期加大招生宣传\n招聘专业教师"})
    assert LogEntry.objects.get_for_object(row).count() == 1
    # A generated part cannot be written; nothing is saved.
    with pytest.raises(ShidianError) as err:
        selfcheck.selfcheck_text_save(user=clerk, programme=run.programme(),
                                      division_code="510521", year=2016,
                                      texts={"measures": "改", "problems": "没有问题"})
    assert err.value.code == ErrorCode.INVALID and "存在主要问题" in err.value.message
    assert SelfCheckText.objects.get().text == "暑期加大招生宣传\n招聘专业教师"

    assert _sections(run, county)["measures"].paragraphs == ["暑期加大招生宣传", "招聘专业教师"]
    content = selfcheck.selfcheck_docx(programme=run.programme(), division=county, year=2016,
                                       today=TODAY, signature="乾县职业教育中心", dated=TODAY)
    document = Document(io.BytesIO(content))
    text = "\n".join(p.text for p in document.paragraphs)
    for wanted in ["五、存在主要问题", "整改未销号", "目标未达成：学徒结业率", "招聘专业教师",
                   "已签订1份（4方协议1份）"]:
        assert wanted in text


def test_the_report_page_shows_the_parts_and_saves_the_measures(client, world):
    run, _plan, _task, _county = world
    programme = run.programme()
    url = reverse("careflows:selfcheck", args=[programme.pk])
    client.force_login(run.users["clerk"])
    page = client.get(url, {"year": "2016"})
    body = page.content.decode()
    assert page.status_code == 200
    assert "六、改进措施和计划" in body and "整改未销号" in body and "4方协议1份" in body
    response = client.post(url, {"year": "2016", "measures": "增加试点专业设备投入"})
    assert response.status_code == 302
    assert SelfCheckText.objects.get(part="measures").text == "增加试点专业设备投入"
    assert "增加试点专业设备投入" in client.get(url, {"year": "2016"}).content.decode()
    docx = client.post(reverse("careflows:report", args=[programme.pk]), {"year": "2016"})
    assert docx.status_code == 200


def test_outsiders_get_404_on_the_report_page_and_save_nothing(client, world):
    run, _plan, _task, _county = world
    programme = run.programme()
    url = reverse("careflows:selfcheck", args=[programme.pk])
    client.force_login(run.users["liaison"])
    assert client.get(url, {"year": "2016"}).status_code == 404
    assert client.post(url, {"year": "2016", "measures": "x"}).status_code == 404
    assert not SelfCheckText.objects.exists()
    # The neighbouring county's school sees its own county's report: none of 泸县's data.
    client.force_login(run.users["neighbour"])
    body = client.get(url, {"year": "2016"}).content.decode()
    assert "共登记0名" in body and "补齐数控实训设备" not in body and "任务逾期" not in body
    with pytest.raises(ShidianError):
        selfcheck.selfcheck_text_save(user=run.users["neighbour"], programme=programme,
                                      division_code="510521", year=2016, texts={"measures": "x"})
    assert not SelfCheckText.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_first_saves_of_the_measures_at_once_keep_one_row_and_no_error():
    """PostgreSQL: a double click on 保存 before any text was saved. The second save waits
    for the first to commit and then changes its row, instead of failing on the unique key."""
    import threading
    import time

    from django.db import connection, connections, transaction

    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer at a time")
    scenario = next(s for s in yaml.safe_load((PACK / "scenarios" / "workflow.yaml").read_text(
        encoding="utf-8"))["scenarios"] if s["name"].startswith("a 16"))
    run = run_relation_scenario(definitions.case_type_get("apprentice"), scenario)
    clerk, programme = run.users["clerk"], run.programme()
    saved = threading.Event()
    errors = []

    def save(text):
        try:
            if threading.current_thread().name == "second":
                saved.wait(10)
            with transaction.atomic():
                selfcheck.selfcheck_text_save(user=clerk, programme=programme,
                                              division_code="510521", year=2016,
                                              texts={"measures": text})
                if threading.current_thread().name == "first":
                    saved.set()
                    time.sleep(1.0)  # the first request has not committed yet
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=save, args=("第一次",), name="first"),
               threading.Thread(target=save, args=("第二次",), name="second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert list(SelfCheckText.objects.values_list("part", "text")) == [("measures", "第二次")]


def test_a_year_out_of_range_is_refused_with_a_message_not_a_server_error(client, world):
    """?year=10000 or -3 on the report page, the Word report or the funds page: the page says
    the year must lie between 1990 and 2100 and shows the programme's year; nothing is saved
    under another year."""
    run, _plan, _task, _county = world
    programme = run.programme()
    url = reverse("careflows:selfcheck", args=[programme.pk])
    client.force_login(run.users["clerk"])
    for year in ["10000", "-3"]:
        page = client.get(url, {"year": year})
        assert page.status_code == 200 and "年份须在1990至2100之间" in page.content.decode()
        funds_page = client.get(reverse("careflows:funds", args=[programme.pk]), {"year": year})
        assert funds_page.status_code == 200
        assert "年份须在1990至2100之间" in funds_page.content.decode()
        report = client.post(reverse("careflows:report", args=[programme.pk]), {"year": year})
        assert report.status_code == 302 and report["Location"] == url
        saved = client.post(url, {"year": year, "measures": "增加设备"})
        assert saved.status_code == 302
    assert not SelfCheckText.objects.exists()
