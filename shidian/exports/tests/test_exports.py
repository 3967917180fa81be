"""The ledgers and the bulletin open in Excel and Word and say what the data says."""
import io
from datetime import date

import pytest
from docx import Document
from docx.shared import Mm, Pt
from openpyxl import load_workbook

from shidian.core.periods import parse_period
from shidian.exports.bulletin import bulletin_docx
from shidian.exports.xlsx import decomposition_xlsx, progress_xlsx
from shidian.plans.models import TaskStatus
from shidian.reporting import selectors, services
from shidian.reporting.services import ReportInput
from shidian.reporting.testing import at

JUNE = parse_period("2021M06")
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


@pytest.fixture
def reported(world):
    services.report_submit(user=world.liaison_health, task_id=world.tasks[0].pk, agency_id=None,
                           period=JUNE.id, data=ReportInput(
                               percent=100, task_status=TaskStatus.COMPLETED,
                               done="建成安宁疗护病区2个，床位20张", problems="专业人员不足"),
                           now=at(date(2021, 6, 20)))
    services.report_submit(user=world.liaison_civil, task_id=world.tasks[0].pk, agency_id=None,
                           period=JUNE.id, data=ReportInput(percent=60, done="完成困难群众摸底"),
                           now=at(date(2021, 6, 28)))
    return world


def rows_of(content: bytes):
    sheet = load_workbook(io.BytesIO(content)).active
    return [list(r) for r in sheet.iter_rows(values_only=True)]


def test_decomposition_table_keeps_lead_and_responsible_units_apart(world):
    content = decomposition_xlsx(plan=world.plan,
                                 rows=selectors.decomposition_rows(plan=world.plan))
    rows = rows_of(content)
    assert "泸县安宁疗护试点工作实施方案" in rows[0][0]
    header = rows[2]
    assert header[:5] == ["序号", "任务", "具体内容", "牵头单位", "责任单位"]
    body = rows[3:]
    assert [r[1] for r in body] == [t.title for t in world.tasks]
    assert body[0][3:5] == ["泸县卫生健康局", "泸县民政局"]
    assert body[1][3:5] == ["泸县卫生健康局", "泸县财政局"]
    assert body[2][3:5] == ["泸县民政局", None]
    assert body[0][5].date() == date(2021, 6, 30)


def test_progress_table_lists_reports_and_the_tasks_nobody_reported(reported):
    world = reported
    content = progress_xlsx(plan=world.plan, period=JUNE,
                            rows=selectors.progress_rows(plan=world.plan, period=JUNE))
    rows = rows_of(content)
    assert "2021年6月" in rows[0][0]
    header = rows[2]
    assert header[1] == "任务" and header[4] == "填报单位" and header[6] == "任务状态" and header[7] == "完成进度"
    body = rows[3:]
    by_unit = {(r[1], r[4]): r for r in body}
    health = by_unit[("建立安宁疗护服务体系", "泸县卫生健康局")]
    assert health[5] == "2021年6月" and health[6] == "已完成" and health[7] == 1
    assert health[8] == "建成安宁疗护病区2个，床位20张" and health[9] == "专业人员不足"
    assert health[12] == "按时"
    civil = by_unit[("建立安宁疗护服务体系", "泸县民政局")]
    assert civil[7] == 0.6 and civil[12] == "逾期"
    missing = [r for r in body if r[1] == "开展困难群众救助"]
    assert missing and missing[0][13] == "未报送"


def _fonts(run):
    return run._element.rPr.find(f"{W}rFonts")


def test_bulletin_is_a_gongwen_with_the_periods_figures(reported):
    world = reported
    board = selectors.plan_dashboard(plan=world.plan, period=JUNE, today=date(2021, 7, 1))
    content = bulletin_docx(board, issued=date(2021, 7, 1))
    document = Document(io.BytesIO(content))
    section = document.sections[0]
    assert abs(section.page_width - Mm(210)) < Mm(0.1)
    assert abs(section.page_height - Mm(297)) < Mm(0.1)
    assert abs(section.top_margin - Mm(37)) < Mm(0.1)
    assert abs(section.bottom_margin - Mm(35)) < Mm(0.1)
    assert abs(section.left_margin - Mm(28)) < Mm(0.1)
    assert abs(section.right_margin - Mm(26)) < Mm(0.1)

    title = document.paragraphs[0]
    assert title.text == "工作简报"
    run = title.runs[0]
    assert run.font.size == Pt(22)
    assert _fonts(run).get(f"{W}eastAsia") == "方正小标宋简体"
    body = [p for p in document.paragraphs if "完成度" in p.text][0]
    assert body.runs[0].font.size == Pt(16)
    assert _fonts(body.runs[0]).get(f"{W}eastAsia") == "仿宋_GB2312"

    text = "\n".join(p.text for p in document.paragraphs)
    # 5 expected reports (task 1: 2 units, task 2: 2 units, task 3: 1 unit), 2 in.
    assert "应报送5份" in text and "已报送2份" in text and "完成度40.0%" in text
    assert "按时1份" in text and "逾期1份" in text
    assert "泸县财政局（1项）" in text and "泸县民政局（1项）" in text
    assert "建成安宁疗护病区2个" in text and "专业人员不足" in text
    assert "二〇" not in text and "2021年7月1日" in text

    # Page numbers "— N —" with a PAGE field, odd right and even left.
    footer_xml = section.footer._element.xml
    assert "PAGE" in footer_xml and "— " in section.footer.paragraphs[0].text
    assert section.footer.paragraphs[0].alignment == 2  # right
    assert section.even_page_footer.paragraphs[0].alignment == 0  # left
    assert document.settings.odd_and_even_pages_header_footer

    # The font table names Noto CJK as the fallback of each official font.
    font_table = next(rel.target_part for rel in document.part.rels.values()
                      if rel.reltype.endswith("/fontTable")).blob.decode()
    assert 'w:name="仿宋_GB2312"' in font_table and 'w:val="Noto Serif CJK SC"' in font_table
    assert 'w:name="黑体"' in font_table and 'w:val="Noto Sans CJK SC"' in font_table


def test_bulletin_names_overdue_tasks(world):
    board = selectors.plan_dashboard(plan=world.plan, period=parse_period("2021M07"),
                                     today=date(2021, 7, 10))
    document = Document(io.BytesIO(bulletin_docx(board, issued=date(2021, 7, 10))))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "建立安宁疗护服务体系" in text and "2021年6月30日" in text
    assert "尚未报送" in text
