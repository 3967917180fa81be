"""Writers: the JSON contract, the 任务分解表 workbook a clerk accepts, and the Markdown tables."""
import json

import openpyxl
import pytest

from shidian.planparse import parse_text
from shidian.planparse.model import Finding, GroupMember, Indicator, OutlineNode, PlanDraft, Task
from shidian.planparse.output import decomposition_rows, render_json, render_markdown, write, write_xlsx

SCHEMA_KEYS = {"id", "title", "domain", "issuer", "period", "goals", "tasks", "phases", "indicators",
               "reporting", "organization", "rules", "findings", "unit_index"}


def sample_draft():
    """A plan with a part, a single-row task, a task with items two levels deep, and a task
    whose items share their units (as under a 责任小组)."""
    part = OutlineNode(marker="二", style="cn、", title="主要任务", body="二、主要任务", start=0, end=6)
    first = OutlineNode(marker="(一)", style="(cn)", title="加强宣传教育",
                        body="(一)加强宣传教育。广泛开展宣传,营造良好氛围。", start=7, end=30, parent=part)
    tasks = [
        Task(path="二/(一)", title="加强宣传教育", lead_units=["县委宣传部"], units=["县卫健局"],
             deadline="2021-06", deadline_text="2021年6月底前", node=first),
        Task(path="二/(二)", title="建设服务体系"),
        Task(path="二/(二)/1", title="建设服务网络", lead_units=["县卫健局"], units=["县民政局"], deadline="2021-12"),
        Task(path="二/(二)/2", title="建设人才队伍", lead_units=["县人社局"], deadline_text="每月月底前",
             recurrence="monthly"),
        Task(path="二/(二)/2/(1)", title="开展培训", lead_units=["县人社局"]),
        Task(path="二/(三)", title="强化保障", units=["保障小组"]),
        Task(path="二/(三)/1", title="落实经费"),
        Task(path="二/(三)/2", title="落实人员"),
    ]
    return PlanDraft(
        id="sample", title="某县试点工作实施方案", period_start="2020-01", period_end="2021-12", tasks=tasks,
        indicators=[Indicator("心理咨询室建成率", ">=", 80, "%", "2021-12", "到2021年底,心理咨询室建成率达到80%以上")],
        leading_group=[GroupMember("组长", "张伟", "县长")], office="县卫健局",
        findings=[Finding("numbering_gap", "编号不连续:在(三)之后直接出现(五),缺少(四)", 40, 43, 9)])


def test_json_is_the_schema_plus_findings_and_unit_index(seed_dir):
    text = (seed_dir / "09-youth-league.txt").read_text(encoding="utf-8")
    draft = parse_text(text, name="09-youth-league")
    data = json.loads(render_json(draft))
    assert set(data) == SCHEMA_KEYS
    assert data == json.loads(json.dumps(draft.to_dict()))
    assert "国有和国有控股企业" in render_json(draft)  # Chinese is written as is, not \u-escaped
    finding = next(f for f in data["findings"] if f["kind"] == "allocation_text")
    assert set(finding["location"]) == {"start", "end", "line"}


def test_decomposition_rows_group_items_under_their_task():
    rows = decomposition_rows(sample_draft())
    assert rows[0].section == "二、主要任务"
    first = rows[1]
    assert first.cells() == ["1", "(一)加强宣传教育", "广泛开展宣传,营造良好氛围。", "县委宣传部", "县卫健局",
                             "2021年6月底前"]
    second = [r for r in rows if r.group == 2]
    assert [r.content for r in second] == ["1.建设服务网络", "2.建设人才队伍", "\u3000\u3000(1)开展培训"]
    assert {r.task for r in second} == {"(二)建设服务体系"}
    assert second[1].deadline == "每月月底前"
    assert second[2].lead == "县人社局"  # an item without units takes its parent's
    third = [r for r in rows if r.group == 3]
    # the group's own units row, then its items, which inherit the group's units
    assert [r.units for r in third] == ["保障小组", "保障小组", "保障小组"]


def test_workbook_has_merged_groups_a_frozen_header_and_prints_on_a4_landscape(tmp_path):
    path = write_xlsx(sample_draft(), tmp_path / "plan.xlsx")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["任务分解表", "目标指标", "问题提示"]
    sheet = book["任务分解表"]
    assert sheet["A1"].value == "某县试点工作实施方案任务分解表"
    assert [c.value for c in sheet[2]] == ["序号", "任务", "具体内容", "牵头单位", "责任单位", "完成时限"]
    assert sheet.freeze_panes == "A3"
    assert sheet.print_title_rows == "$2:$2"
    assert sheet.page_setup.orientation == "landscape"
    assert str(sheet.page_setup.paperSize) == sheet.PAPERSIZE_A4 == "9"
    assert sheet.sheet_properties.pageSetUpPr.fitToPage is True
    assert int(sheet.page_setup.fitToWidth) == 1 and int(sheet.page_setup.fitToHeight) == 0
    merged = {str(r) for r in sheet.merged_cells.ranges}
    assert "A1:F1" in merged and "A3:F3" in merged  # title row and the section row 二、主要任务
    assert sheet["A3"].value == "二、主要任务"
    # task (二) spans rows 5-7: 序号 and 任务 merged, its items one per row
    assert sheet["A5"].value == "2" and sheet["B5"].value == "(二)建设服务体系"
    assert {"A5:A7", "B5:B7"} <= merged
    assert [sheet.cell(r, 3).value for r in (5, 6, 7)] == ["1.建设服务网络", "2.建设人才队伍", "\u3000\u3000(1)开展培训"]
    # task (三): its rows share 保障小组, so the 责任单位 cell is merged as well
    assert "E8:E10" in merged and sheet["E8"].value == "保障小组"
    targets, problems = book["目标指标"], book["问题提示"]
    assert [c.value for c in targets[3]][:6] == ["1", "心理咨询室建成率", "≥", "80", "%", "2021年12月"]
    assert problems["B3"].value == "编号不连续" and problems["D3"].value == "第9行"
    assert "缺少(四)" in problems["C3"].value


def test_workbook_of_a_seed_lists_every_task_and_the_findings(seed_dir, tmp_path):
    text = (seed_dir / "15c-zhuhai-grassroots.txt").read_text(encoding="utf-8")
    draft = parse_text(text, name="15c")
    book = openpyxl.load_workbook(write(draft, tmp_path / "15c.xlsx", "xlsx"))
    sheet = book["任务分解表"]
    cells = "\n".join(str(c.value) for row in sheet.iter_rows(min_row=3) for c in row if c.value)
    for task in draft.tasks:
        assert task.title in cells
    # the five 责任小组 groups have their items under them: 序号 and 任务 merged over several rows
    tall = [r for r in sheet.merged_cells.ranges if r.min_col == 2 and r.max_row > r.min_row]
    assert len(tall) >= 5
    assert book["问题提示"].max_row == 2 + max(1, len(draft.findings))


def test_empty_plan_still_gives_three_sheets(tmp_path):
    book = openpyxl.load_workbook(write_xlsx(PlanDraft(id="empty"), tmp_path / "empty.xlsx"))
    assert book.sheetnames == ["任务分解表", "目标指标", "问题提示"]
    assert book["目标指标"]["A3"].value == "方案未提出量化目标。"
    assert book["问题提示"]["A3"].value == "未发现需要核对的问题。"


def test_markdown_shows_the_same_tables():
    text = render_markdown(sample_draft())
    lines = text.split("\n")
    assert lines[0] == "# 某县试点工作实施方案"
    assert "| 序号 | 任务 | 具体内容 | 牵头单位 | 责任单位 | 完成时限 |" in lines
    assert "| 1 | (一)加强宣传教育 | 广泛开展宣传,营造良好氛围。 | 县委宣传部 | 县卫健局 | 2021年6月底前 |" in lines
    # a task's number and heading are printed on its first row only, like merged cells
    assert "| 2 | (二)建设服务体系 | 1.建设服务网络 | 县卫健局 | 县民政局 | 2021年12月 |" in lines
    assert "|  |  | 2.建设人才队伍 | 县人社局 |  | 每月月底前 |" in lines
    assert "## 目标指标" in lines and "## 问题提示" in lines
    assert "- 领导小组:组长 张伟(县长)" in lines


def test_markdown_escapes_pipes_and_line_breaks():
    draft = PlanDraft(id="x", title="方案", tasks=[Task(path="(一)", title="甲|乙", units=["A|B"])])
    text = render_markdown(draft)
    assert "甲\\|乙" in text and "A\\|B" in text


def test_unknown_format_is_refused(tmp_path):
    with pytest.raises(ValueError):
        write(PlanDraft(id="x"), tmp_path / "x.csv", "csv")


def test_task_content_leaves_out_the_attribution_already_in_the_unit_columns():
    node = OutlineNode(marker="(一)", style="(cn)", title="加强宣传教育",
                       body="(一)加强宣传教育。广泛开展宣传,营造良好氛围。(县委宣传部牵头,县卫健局配合)\n"
                            "责任单位:县委宣传部、县卫健局", start=0, end=60)
    task = Task(path="(一)", title="加强宣传教育", lead_units=["县委宣传部"], units=["县卫健局"], node=node)
    row = decomposition_rows(PlanDraft(id="x", tasks=[task]))[0]
    assert row.content == "广泛开展宣传,营造良好氛围。"
    assert (row.lead, row.units) == ("县委宣传部", "县卫健局")
