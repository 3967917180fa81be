"""Tasks: which items are tasks, their paths, titles and text spans, and task tables."""
from __future__ import annotations

from shidian.planparse import parse_text
from shidian.planparse.model import Document, PlanDraft
from shidian.planparse.outline import build_outline
from shidian.planparse.tasks import extract_tasks

from .seedscore import SEEDS, seeds, task_scores


def tasks_of(text: str):
    doc = Document.from_text("t", text)
    draft = PlanDraft(id="t")
    extract_tasks(doc, build_outline(doc), draft)
    return draft.tasks


def test_seed_tasks_match_the_gold():
    pairs = [(gold["tasks"], [t.to_dict() for t in tasks_of(text)]) for _s, text, gold in seeds()]
    scores = task_scores(pairs)
    assert scores["tasks"] >= 0.95
    assert scores["lead_units"] >= 0.95
    assert scores["units"] >= 0.85


def test_group_headings_and_their_items_are_both_tasks():
    text = (SEEDS / "15c-zhuhai-grassroots.txt").read_text("utf-8")
    paths = [t.path for t in tasks_of(text)]
    assert paths[:6] == ["(一)", "(一)/1", "(一)/2", "(一)/3", "(一)/4", "(二)"]
    assert "(二)/5" in paths  # the items number on across groups


def test_title_is_the_heading_before_the_first_full_stop_or_label_colon():
    text = ("四、主要措施\n（三）试点实践（2019年10月-2020年10月）。各试点单位要严格按照要求开展试点。\n"
            "（十一）保障措施\n1.政策保障:政府要制定政策。\n2.运行保障:完善就业准入制度。")
    assert [t.title for t in tasks_of(text)] == [
        "试点实践（2019年10月-2020年10月）", "保障措施", "政策保障", "运行保障"]


def test_each_task_keeps_its_node_and_the_span_of_its_own_text():
    text = (SEEDS / "08-hangzhou-hospice.txt").read_text("utf-8")
    for task in tasks_of(text):
        start, end = task.span
        own = text[start:end]
        assert task.node is not None and (task.node.start, task.node.end) == task.span
        assert own.lstrip().startswith(task.node.marker.rstrip("、.")[:1]) or task.path.endswith("-")
        for child in task.node.children:  # children's text is not the parent's
            assert end <= child.start


def test_unnumbered_closing_paragraph_of_a_step_list_is_a_task():
    text = (SEEDS / "07b-town-housing.txt").read_text("utf-8")
    closing = [t for t in tasks_of(text) if t.path == "四/-"]
    assert len(closing) == 1 and closing[0].title.startswith("农村危房改造领导小组办公室提交")


def test_a_task_decomposition_table_gives_one_task_per_row():
    text = ("医养结合试点工作任务分解表\n序号\t重点任务\t具体措施\t牵头单位\t责任单位\t完成时限\n"
            "1\t建立工作机制\t成立领导小组\t县卫健委\t县民政局、县财政局\t2021年6月底前\n"
            "2\t推进医养签约\t签约全覆盖\t县民政局\t县卫健委\t2021年12月底前\n")
    draft = parse_text(text, name="table")
    got = [(t.path, t.title, t.lead_units, t.units) for t in draft.tasks]
    assert got == [("1", "建立工作机制", ["县卫健委"], ["县民政局", "县财政局"]),
                   ("2", "推进医养签约", ["县民政局"], ["县卫健委"])]
    assert draft.tasks[0].deadline == "2021-06"  # the row's span feeds the deadline step


def test_a_notice_whose_top_level_items_are_the_work_items():
    text = ("关于做好医养结合工作的通知\n各县区卫健局:\n现将有关事项通知如下:\n"
            "一、提高思想认识。各地要高度重视。\n二、加强组织领导。各县区卫健局要成立专班。\n"
            "三、强化督导检查。市卫健委将定期督导。\n")
    tasks = tasks_of(text)
    assert [(t.path, t.title) for t in tasks] == [
        ("一", "提高思想认识"), ("二", "加强组织领导"), ("三", "强化督导检查")]
    assert tasks[1].units == ["各县区卫健局"]


def test_county_plan_with_steps_safeguards_and_closing_words():
    text = ("XX县推进医养结合试点工作实施方案\n\n为深入推进医养结合,结合我县实际,制定本方案。\n\n"
            "一、工作目标\n\n到2022年底,全县养老机构医养签约率达到100%。\n\n二、主要任务\n\n"
            "(一)建立协作机制。县卫健委、县民政局要建立部门协作机制。\n\n"
            "(二)发展居家医养服务。各乡镇卫生院要提供上门服务。(县卫健委牵头,县医保局配合)\n\n"
            "三、实施步骤\n\n(一)启动阶段(2021年3月—4月)。制定实施方案。\n\n"
            "(二)实施阶段(2021年5月—2022年10月)。全面推进。\n\n四、保障措施\n\n"
            "(一)加强组织领导。成立领导小组。\n\n(二)强化督导考核。县卫健委每季度开展一次督导。\n\n"
            "各乡镇、各有关部门要高度重视,确保试点工作取得实效。\n")
    tasks = tasks_of(text)
    assert [t.path for t in tasks] == ["二/(一)", "二/(二)", "三/(一)", "三/(二)", "四/(一)", "四/(二)"]
    assert (tasks[0].lead_units, tasks[0].units) == ([], ["县卫健委", "县民政局"])
    assert (tasks[1].lead_units, tasks[1].units) == (["县卫健委"], ["县医保局"])
    assert tasks[-1].units == ["县卫健委"]  # the closing words name no doer of this item


def test_a_table_with_responsible_and_cooperating_columns_lists_both_as_units():
    text = ("二、主要任务\n主要任务见下表。\n"
            "序号\t工作任务\t具体措施\t责任单位\t配合单位\t时间节点\n"
            "1\t开展汛前检查\t排查隐患，建立台账。\t县水利局\t县应急管理局、各镇人民政府\t2024年4月30日前\n"
            "2\t储备防汛物资\t储备编织袋。\t县应急管理局\t县发改局\t2024年5月底前\n")
    draft = parse_text(text, name="t")
    assert [(t.path, t.title, t.lead_units, t.units, t.deadline) for t in draft.tasks] == [
        ("1", "开展汛前检查", [], ["县水利局", "县应急管理局", "各镇人民政府"], "2024-04-30"),
        ("2", "储备防汛物资", [], ["县应急管理局", "县发改局"], "2024-05")]
