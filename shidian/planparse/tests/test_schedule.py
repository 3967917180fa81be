"""Phases, plan period and task deadlines, checked against the seed plans' gold annotations."""
import json
import re

import pytest

from shidian.planparse.model import Document, OutlineNode, PlanDraft, Task
from shidian.planparse.schedule import extract_schedule, find_phases, task_deadline


def seed(seed_dir, stem):
    text = (seed_dir / f"{stem}.txt").read_text(encoding="utf-8")
    gold = json.loads((seed_dir / f"{stem}.gold.json").read_text(encoding="utf-8"))
    return Document.from_text(stem, text), gold


PHASED = ["03-gansu-hospice", "04-apprenticeship-selfcheck", "06-sichuan-medical-community",
          "07b-town-housing", "08-hangzhou-hospice", "14-huxi-governance", "15b-pubei-governance"]


@pytest.mark.parametrize("stem", PHASED)
def test_phases_found_from_the_text_alone_match_the_gold(seed_dir, stem):
    doc, gold = seed(seed_dir, stem)
    found = [f.phase for f in find_phases(doc, [], [])]
    assert [(p.start, p.end) for p in found] == [(p["start"], p["end"]) for p in gold["phases"]]
    assert [p.text for p in found] == [p["text"] for p in gold["phases"]]


@pytest.mark.parametrize("stem", ["01-yiyang-conference", "02-apprenticeship-moe", "12c-psych-training",
                                  "15c-zhuhai-grassroots", "09-youth-league"])
def test_plans_without_dated_steps_have_no_phases(seed_dir, stem):
    doc, gold = seed(seed_dir, stem)
    assert gold["phases"] == []
    assert find_phases(doc, [], []) == []


@pytest.mark.parametrize("stem", ["03-gansu-hospice", "06-sichuan-medical-community", "08-hangzhou-hospice",
                                  "10-apprenticeship-college", "13-county-governance-construction",
                                  "15b-pubei-governance", "05-luxian-hospice", "11-helinger-psych",
                                  "12c-psych-training", "09-youth-league"])
def test_plan_period_matches_the_gold(seed_dir, stem):
    doc, gold = seed(seed_dir, stem)
    draft = PlanDraft(id=stem)
    extract_schedule(doc, [], draft)
    assert {"start": draft.period_start, "end": draft.period_end} == gold["period"]


MARKER = re.compile(r"^\s*(?:[一二三四五六七八九十]+、|[(（][一二三四五六七八九十\d]+[)）]|\d+[.、])")


def _paragraph(doc, title):
    """The seed text of the task titled ``title``: its heading line and the lines up to the next item."""
    for i, line in enumerate(doc.lines):
        marker = MARKER.match(line.text)
        if marker and line.text[marker.end():].startswith(title):
            parts = [line.text]
            for nxt in doc.lines[i + 1:]:
                if MARKER.match(nxt.text):
                    break
                parts.append(nxt.text)
            return "\n".join(parts)
    raise AssertionError(title)


@pytest.mark.parametrize("stem", ["15c-zhuhai-grassroots", "07a-shandong-housing", "12e-wuzhong-psych",
                                  "02-apprenticeship-moe", "11-helinger-psych"])
def test_latest_limit_of_a_task_matches_the_gold(seed_dir, stem):
    doc, gold = seed(seed_dir, stem)
    checked = 0
    for task in gold["tasks"]:
        if task["recurrence"] or not task["title"] or task["path"].count("/") > 1:
            continue
        try:
            text = _paragraph(doc, task["title"])
        except AssertionError:
            continue
        deadline, words = task_deadline(text)
        assert deadline == task["deadline"], (task["path"], words)
        if task["deadline"]:
            assert words == task["deadline_text"]
        checked += 1
    assert checked >= 3


def test_undatable_limits_keep_their_words():
    assert task_deadline("2015年9月底前建立历史留用地台账,年底前出台指导意见,力争用3年左右的时间,基本解决") == (
        None, "力争用3年左右的时间")
    assert task_deadline("请各有关单位于10月25日前将名单报送") == (None, "10月25日前")
    assert task_deadline("确定对象工作于***月底前完成") == (None, "***月底前")


def _node(doc, line_no, marker, title, parent=None, kind=""):
    line = doc.lines[line_no]
    node = OutlineNode(marker=marker, style="", title=title, body=line.text, start=line.start, end=line.end,
                       part_kind=kind, parent=parent)
    if parent:
        parent.children.append(node)
    return node


def test_step_items_take_the_end_of_their_step_and_recurring_tasks_keep_cycle_words():
    text = ("三、实施步骤\n(一)试点启动阶段。(2020年6-7月)\n1.开展基线调查。对本市现状开展调查。\n"
            "四、工作要求\n(一)健全信息报告制度。市住房城乡建设部门于每月月底前将本月进度报省厅。\n"
            "(二)加强改造风貌管理。并于2016年11月底前报省住房城乡建设厅。\n")
    doc = Document.from_text("t", text)
    part = _node(doc, 0, "三、", "实施步骤", kind="steps")
    step = _node(doc, 1, "(一)", "试点启动阶段", part)
    item = _node(doc, 2, "1.", "开展基线调查", step)
    part2 = _node(doc, 3, "四、", "工作要求", kind="safeguards")
    rec = _node(doc, 4, "(一)", "健全信息报告制度", part2)
    dated = _node(doc, 5, "(二)", "加强改造风貌管理", part2)
    draft = PlanDraft(id="t", tasks=[Task(path=n.path, title=n.title, node=n) for n in (step, item, rec, dated)])
    extract_schedule(doc, [part, part2], draft)
    got = [(t.deadline, t.deadline_text, t.recurrence) for t in draft.tasks]
    assert got == [("2020-07", "2020年6-7月", None), ("2020-07", "2020年6-7月", None),
                   (None, "每月月底前", "monthly"), ("2016-11", "2016年11月底前", None)]
    assert [(p.name, p.start, p.end) for p in draft.phases] == [("试点启动阶段", "2020-06", "2020-07")]


def test_phase_forms_of_other_plans():
    text = ("四、实施步骤\n"
            "第一阶段(2021年1月—2021年6月):动员部署。成立领导小组。\n"
            "2021年7月至2022年6月为全面推进阶段。各乡镇要全面推进改革。\n"
            "2022年7月—12月,总结评估阶段。县卫健委组织开展评估。\n")
    doc = Document.from_text("t", text)
    found = [f.phase for f in find_phases(doc, [], [])]
    assert [(p.name, p.start, p.end) for p in found] == [
        ("动员部署", "2021-01", "2021-06"), ("全面推进阶段", "2021-07", "2022-06"),
        ("总结评估阶段", "2022-07", "2022-12")]
    draft = PlanDraft(id="t")
    extract_schedule(doc, [], draft)
    assert (draft.period_start, draft.period_end) == ("2021-01", "2022-12")


def test_open_stages_and_stages_in_one_sentence():
    text = ("三、实施步骤\n"
            "（一）准备阶段（2022年10月—2022年12月）。完成数据采集。\n"
            "（二）实际付费阶段（2023年7月起）。全面实施实际付费，2024年12月底前实现全覆盖。\n"
            "第一阶段：动员部署（2023年3月底前）。各地制定方案。\n"
            "四、时间安排\n"
            "2024年4月—12月为试点实施阶段，2025年1月—6月为总结评估阶段。\n")
    found = [f.phase for f in find_phases(Document.from_text("t", text), [], [])]
    assert [(p.start, p.end) for p in found] == [
        ("2022-10", "2022-12"), ("2023-07", None), (None, "2023-03"), ("2024-04", "2024-12"),
        ("2025-01", "2025-06")]
    assert found[-1].name == "总结评估阶段"
    # a task heading's own bracketed limit is its deadline, not a phase
    assert find_phases(Document.from_text("t", "二、重点任务\n（一）开展摸底调查（2023年3月底前）。\n"),
                       [], []) == []


def test_a_goal_staged_by_year_with_commas():
    text = ("一、工作目标\n2024年通过资格复审，2025年测评成绩进入全省前十名，2026年成功创建省级文明城市。\n")
    found = [f.phase for f in find_phases(Document.from_text("t", text), [], [])]
    assert [(p.start, p.end) for p in found] == [
        ("2024-01", "2024-12"), ("2025-01", "2025-12"), ("2026-01", "2026-12")]


def test_a_date_in_the_deadline_column_of_a_task_table_is_the_limit():
    assert task_deadline("2\t建立监测平台\t市大数据局\t2022年6月") == ("2022-06", "2022年6月")


def test_deadline_labels_of_task_lines():
    assert task_deadline("完善分类设施。(牵头单位:区城管局)完成时限:2021年6月") == ("2021-06", "2021年6月")
    assert task_deadline("加强宣传。完成时限:长期坚持") == (None, "长期坚持")


def test_months_without_a_year_take_the_year_of_a_one_year_plan():
    text = "2016年农村危房改造工作实施方案\n一、工作要求\n(一)开展摸底。各乡镇11月底前完成摸底。\n"
    doc = Document.from_text("t", text)
    line = doc.lines[2]
    node = OutlineNode(marker="(一)", style="", title="开展摸底", body=line.text, start=line.start, end=line.end)
    draft = PlanDraft(id="t", tasks=[Task(path="一/(一)", title="开展摸底", node=node)])
    extract_schedule(doc, [], draft)
    assert (draft.tasks[0].deadline, draft.tasks[0].deadline_text) == ("2016-11", "11月底前")


def test_a_step_paragraph_opened_by_its_period_takes_the_period_end():
    text = "四、实施步骤\n2021年7月至2022年6月为全面推进阶段。各乡镇要按照方案要求全面推进改革,3月底前完成摸底。\n"
    doc = Document.from_text("t", text)
    line = doc.lines[1]
    node = OutlineNode(marker="-", style="", title="全面推进阶段", body=line.text, start=line.start, end=line.end)
    draft = PlanDraft(id="t", tasks=[Task(path="四/-", title="全面推进阶段", node=node)])
    extract_schedule(doc, [], draft)
    assert (draft.tasks[0].deadline, draft.tasks[0].deadline_text) == ("2022-06", "2021年7月至2022年6月")
