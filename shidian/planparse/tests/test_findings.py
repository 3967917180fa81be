"""Findings: the inconsistencies a careful reader flags, each with a Chinese message and its place."""
import pytest

from shidian.planparse import parse_text
from shidian.planparse.allocations import find_tables
from shidian.planparse.findings import find_inconsistencies
from shidian.planparse.model import Document, Indicator, Phase, PlanDraft, Task


def findings_of(text, **draft_fields):
    doc = Document.from_text("t", text)
    draft = PlanDraft(id="t", **draft_fields)
    return find_inconsistencies(doc, [], draft), draft


def kinds(findings):
    return [f.kind for f in findings]


def line_text(text, finding):
    return text.split("\n")[finding.line - 1]


# ------------------------------------------------------------------ allocation tables

ALLOCATION_TEXT = """三、试点的选取
1.企业试点
国有企业8家,非公企业12家。
附件:试点单位分配表
一、企业试点
省份
国有企业
非公企业
北京
3
5
天津
2
4
河北
3
3
合计
9
12
"""


def test_a_flattened_table_that_disagrees_with_the_text_is_flagged():
    found, draft = findings_of(ALLOCATION_TEXT)
    assert kinds(found) == ["allocation_sum", "allocation_text"]
    # the rows add up to 8 but the printed 合计 says 9, and the text says 8
    assert "8" in found[0].message and "9" in found[0].message and "国有企业" in found[0].message
    assert "国有企业8家" in found[1].message and "第3行" in found[1].message
    assert line_text(ALLOCATION_TEXT, found[0]) == "合计"
    assert draft.allocations[0]["columns"] == ["国有企业", "非公企业"]
    assert draft.allocations[0]["total_row"] == {"unit": "合计", "values": [9, 12]}


def test_a_tab_table_whose_rows_miss_its_total_is_flagged():
    text = ("各县分配任务如下:\n县(市、区)\t改造户数\t补助资金(万元)\n甲县\t1200\t1500\n乙县\t800\t1000\n"
            "丙县\t500\t625.5\n合计\t2600\t3125.5\n")
    found, draft = findings_of(text)
    assert kinds(found) == ["allocation_sum"]
    assert "改造户数" in found[0].message and "2500" in found[0].message and "2600" in found[0].message
    assert found[0].line == 6
    assert draft.allocations[0]["rows"][2] == {"unit": "丙县", "values": [500, 625.5]}


def test_a_numbered_table_with_its_caption_and_a_blank_number_on_the_total_row():
    text = "附表:各县改造任务\n序号\t县(市、区)\t改造户数\n1\t甲县\t1200\n2\t乙县\t800\n3\t丙县\t500\n\t合计\t2600\n"
    found, draft = findings_of(text)
    assert draft.allocations == [{"table": "附表:各县改造任务", "unit_header": "县(市、区)", "columns": ["改造户数"],
                                  "rows": [{"unit": "甲县", "values": [1200]}, {"unit": "乙县", "values": [800]},
                                           {"unit": "丙县", "values": [500]}],
                                  "total_row": {"unit": "合计", "values": [2600]}}]
    assert [f.message for f in found] == [
        "分配表“附表:各县改造任务”中“改造户数”一列各行相加为2500,与合计行的2600不一致"]


def test_a_table_that_adds_up_and_matches_the_text_gives_no_finding():
    text = ALLOCATION_TEXT.replace("合计\n9\n", "合计\n8\n")
    found, _ = findings_of(text)
    assert found == []


def test_seed_09_state_enterprises_30_in_the_text_but_40_in_the_table(seed_dir):
    text = (seed_dir / "09-youth-league.txt").read_text(encoding="utf-8")
    draft = parse_text(text, name="09-youth-league")
    allocation = [f for f in draft.findings if f.kind.startswith("allocation")]
    assert kinds(allocation) == ["allocation_text"]
    finding = allocation[0]
    assert "国有和国有控股企业" in finding.message and "40" in finding.message and "30" in finding.message
    assert line_text(text, finding) == "合计"
    assert text[finding.start:finding.end].startswith("合计")
    # the four complete tables are read as the annotators transcribed them
    assert [t["table"] for t in draft.allocations] == ["一、企业基层团组织建设试点", "二、城市社区基层团组织建设试点",
                                                        "三、机关事业单位基层团组织建设试点", "四、农村基层团组织建设试点"]
    assert [t["total_row"]["values"] for t in draft.allocations] == [[40, 70], [20, 40, 40], [15, 15], [50, 50, 50]]


def test_running_text_with_numbers_is_not_a_table():
    text = "一、目标\n到2021年\n80\n个村建成心理咨询室\n二、任务\n1\n2\n"
    assert find_tables(Document.from_text("t", text)) == []


# ------------------------------------------------------------------ deadlines, phases, targets, units

PLAN = """一、主要任务
(一)建立工作机制。2021年6月底前建立联席会议制度。
(二)开展人员培训。2022年6月底前完成全员培训。
"""


def test_a_task_deadline_after_the_plan_period():
    first = Task(path="一/(一)", title="建立工作机制", deadline="2021-06", deadline_text="2021年6月底前")
    late = Task(path="一/(二)", title="开展人员培训", deadline="2022-06", deadline_text="2022年6月底前")
    same_month = Task(path="一/(三)", title="总结", deadline="2021-12-31")
    found, _ = findings_of(PLAN, period_start="2021-01", period_end="2021-12", tasks=[first, late, same_month])
    assert kinds(found) == ["deadline_after_period"]
    assert "开展人员培训" in found[0].message and "2022年6月底前" in found[0].message
    assert "2021年12月" in found[0].message
    assert PLAN[found[0].start:found[0].end] == "2022年6月底前" and found[0].line == 3


def test_no_deadline_finding_without_a_period():
    late = Task(path="一/(二)", title="开展人员培训", deadline="2022-06")
    found, _ = findings_of(PLAN, tasks=[late])
    assert found == []


STEPS = """三、实施步骤
(一)启动阶段(2021年1月-2021年5月)。
(二)实施阶段(2021年4月-2021年10月)。
(三)总结阶段(2021年12月-2021年11月)。
"""


def test_phases_that_overlap_or_run_backwards():
    phases = [Phase("启动阶段", "2021-01", "2021-05", "2021年1月-2021年5月"),
              Phase("实施阶段", "2021-04", "2021-10", "2021年4月-2021年10月"),
              Phase("总结阶段", "2021-12", "2021-11", "2021年12月-2021年11月")]
    found, _ = findings_of(STEPS, phases=phases)
    assert kinds(found) == ["phase_order", "phase_order"]
    overlap, backwards = found
    assert "启动阶段" in overlap.message and "实施阶段" in overlap.message and "重叠" in overlap.message
    assert overlap.line == 2
    assert "总结阶段" in backwards.message and "早于开始时间" in backwards.message and backwards.line == 4


def test_phases_sharing_a_boundary_month_are_not_an_overlap():
    phases = [Phase("启动阶段", "2019-08", "2019-08", "2019年8月"),
              Phase("试点实践", "2019-08", "2020-10", "2019年8月-2020年10月"),
              Phase("总结", "2020-10-31", "2020-12", "2020年10月31日-12月")]
    found, _ = findings_of("", phases=phases)
    assert found == []


def test_one_target_stated_twice_with_different_numbers():
    text = ("一、工作目标\n到2021年底,全县村(社区)心理咨询室建成率达到80%以上。\n二、主要任务\n"
            "(一)建设服务平台。到2021年底,全县村(社区)心理咨询室建成率达到90%以上。\n")
    goal = Indicator("村(社区)心理咨询室建成率", ">=", 80, "%", "2021-12",
                     "到2021年底,全县村(社区)心理咨询室建成率达到80%以上", span=(7, 35))
    again = Indicator("村(社区)心理咨询室建成率", ">=", 90, "%", "2021-12",
                      "到2021年底,全县村(社区)心理咨询室建成率达到90%以上")
    found, _ = findings_of(text, indicators=[goal, again])
    assert kinds(found) == ["target_conflict"]
    assert "80" in found[0].message and "90" in found[0].message and "第2行" in found[0].message
    assert found[0].line == 4


def test_same_short_name_for_different_things_is_not_a_conflict():
    # 12f: 中小学校 and 党政机关 each have a 配备率, with different targets for 2020
    school = Indicator("配备率", ">=", 70, "%", "2020-12", "中小学校建立心理辅导室,配备专(兼)职教师,2020年底之前配备率达到70%以上")
    office = Indicator("配备率", ">=", 50, "%", "2020-12",
                       "党政机关和企事业单位通过设立心理健康辅导室,2020年底之前配备率达到50%以上")
    later = Indicator("全县心理咨询室建成率", ">=", 95, "%", "2022-12", "到2022年底,全县心理咨询室建成率达到95%")
    earlier = Indicator("全县心理咨询室建成率", ">=", 80, "%", "2021-12", "到2021年底,全县心理咨询室建成率达到80%")
    found, _ = findings_of("", indicators=[school, office, later, earlier])
    assert found == []


def test_a_lead_unit_named_nowhere_else():
    text = ("(一)加强宣传引导。广泛宣传。(县委宣传部牵头,县卫健局配合)\n"
            "(二)建立机制。(县卫健局牵头,县民政局配合)\n(三)落实保障。县民政局负责。\n")
    tasks = [Task(path="(一)", title="加强宣传引导", lead_units=["县委宣传部"], units=["县卫健局"], span=(0, 32)),
             Task(path="(二)", title="建立机制", lead_units=["县卫健局"], units=["县民政局"])]
    found, _ = findings_of(text, tasks=tasks)
    assert kinds(found) == ["lone_lead_unit"]
    assert "县委宣传部" in found[0].message
    assert text[found[0].start:found[0].end] == "县委宣传部"


def test_a_lead_unit_known_under_another_name_is_not_lone():
    text = "(一)建立机制。(区卫健委牵头)\n(二)培训。区卫生健康委员会负责。\n"
    tasks = [Task(path="(一)", title="建立机制", lead_units=["区卫健委"])]
    found, _ = findings_of(text, tasks=tasks, unit_index={"区卫生健康委员会": ["区卫健委", "区卫生健康委员会"]})
    assert found == []


# ------------------------------------------------------------------ numbering


def test_a_skipped_number_is_a_numbering_gap():
    text = "一、总体要求\n(一)指导思想\n(二)工作目标\n二、主要任务\n(一)甲。\n(二)乙。\n(四)丁。\n四、保障措施\n"
    found, _ = findings_of(text)
    assert kinds(found) == ["numbering_gap", "numbering_gap"]
    assert found[0].line == 7 and "(二)" in found[0].message and "缺少(三)" in found[0].message
    assert found[1].line == 8 and "缺少三、" in found[1].message
    assert text[found[1].start:found[1].end] == "四、"


def test_a_list_that_starts_late_is_a_gap_but_one_continued_from_the_previous_group_is_not():
    continued = "(一)工程一\n1.甲\n2.乙\n(二)工程二\n3.丙\n4.丁\n(三)工程三\n5.戊\n"
    assert findings_of(continued)[0] == []
    lost_first = "三、补助对象\n(一)甲\n(二)乙\n四、组织实施\n(二)丙\n(三)丁\n"
    found, _ = findings_of(lost_first)
    assert kinds(found) == ["numbering_gap"] and found[0].line == 5 and "缺少(一)" in found[0].message


# ------------------------------------------------------------------ whole pipeline, generated and seeds

GENERATED = """某县安宁疗护试点工作实施方案
一、主要任务
(一)建立工作机制。县卫健局要在2021年6月底前建立联席会议制度。(县卫健局牵头,县民政局配合)
(二)开展人员培训。2022年6月底前完成全员培训。(县人社局牵头,县卫健局、县民政局配合)
(三)加强宣传引导。广泛宣传安宁疗护理念。(县委宣传部牵头,县卫健局配合)
(五)强化经费保障。县财政局要落实经费。(县财政局牵头,县卫健局配合)
二、实施步骤
(一)启动阶段(2021年1月-2021年5月)。制定方案,县卫健局负责。
(二)实施阶段(2021年4月-2021年10月)。县财政局、县人社局组织实施。
(三)总结阶段(2021年11月-2021年12月)。县民政局、县人社局总结。
"""


def test_a_generated_plan_gets_each_of_its_problems_flagged_once():
    draft = parse_text(GENERATED, name="generated")
    got = {(f.kind, f.line) for f in draft.findings}
    assert ("deadline_after_period", 4) in got  # 2022年6月 is after the last phase ends in 2021年12月
    assert ("lone_lead_unit", 5) in got  # 县委宣传部 is named only once
    assert ("numbering_gap", 6) in got  # (四) is missing
    assert ("phase_order", 8) in got  # 启动阶段 runs into 实施阶段
    assert len(draft.findings) == 4
    for finding in draft.findings:
        assert finding.message and finding.start is not None and finding.end >= finding.start
        assert finding.to_dict()["location"]["line"] == finding.line


@pytest.mark.parametrize("stem,line,missing", [
    ("04-apprenticeship-selfcheck", 15, "三、"),
    ("07b-town-housing", 17, "4、"),
    ("07c-ningde-housing", 21, "(一)"),
    ("10-apprenticeship-college", 17, "三、"),
    ("10-apprenticeship-college", 49, "(六)、(七)、(八)"),
])
def test_seed_numbering_gaps(seed_dir, stem, line, missing):
    text = (seed_dir / f"{stem}.txt").read_text(encoding="utf-8")
    gaps = [f for f in parse_text(text, name=stem).findings if f.kind == "numbering_gap"]
    assert any(f.line == line and f"缺少{missing}" in f.message for f in gaps)


@pytest.mark.parametrize("stem", ["12b-wuzhong-psych-variant", "15c-zhuhai-grassroots", "05-luxian-hospice",
                                  "09-youth-league", "14-huxi-governance"])
def test_seed_lists_numbered_on_across_groups_have_no_gap(seed_dir, stem):
    text = (seed_dir / f"{stem}.txt").read_text(encoding="utf-8")
    assert [f for f in parse_text(text, name=stem).findings if f.kind == "numbering_gap"] == []


def test_seed_03_summary_phase_overlaps_the_next(seed_dir):
    text = (seed_dir / "03-gansu-hospice.txt").read_text(encoding="utf-8")
    phases = [f for f in parse_text(text, name="03").findings if f.kind == "phase_order"]
    assert len(phases) == 1
    assert "阶段总结" in phases[0].message and "完善提升" in phases[0].message


def test_seed_12b_lead_unit_printed_once(seed_dir):
    text = (seed_dir / "12b-wuzhong-psych-variant.txt").read_text(encoding="utf-8")
    lone = [f for f in parse_text(text, name="12b").findings if f.kind == "lone_lead_unit"]
    assert any("吴中公安局" in f.message for f in lone)
    assert text.count("吴中公安局") == 1


@pytest.mark.parametrize("stem", ["05-luxian-hospice", "11-helinger-psych", "12f-wuhan-psych", "15c-zhuhai-grassroots"])
def test_seeds_without_such_problems_get_no_deadline_phase_or_target_findings(seed_dir, stem):
    text = (seed_dir / f"{stem}.txt").read_text(encoding="utf-8")
    flagged = [f.kind for f in parse_text(text, name=stem).findings]
    assert not {"deadline_after_period", "phase_order", "target_conflict", "allocation_sum"} & set(flagged)
