"""The outline: numbering levels, part kinds, inline and single-line numbering, robustness."""
from __future__ import annotations

import random

import pytest

from shidian.planparse.model import Document, PlanDraft
from shidian.planparse.outline import build_outline, is_task, walk
from shidian.planparse.tasks import extract_tasks

from .growth import growth
from .seedscore import SEEDS, seeds, task_scores


def outline_of(text: str):
    return build_outline(Document.from_text("t", text))


def tasks_of(text: str):
    doc = Document.from_text("t", text)
    draft = PlanDraft(id="t")
    extract_tasks(doc, build_outline(doc), draft)
    return draft.tasks


def test_levels_nest_in_order_of_appearance():
    text = ("二、主要任务\n（一）完善服务体系。\n1．建立机制。各地要建立机制。\n（1）明确职责。\n"
            "——细化分工。\n2．推动下沉。\n（二）加强队伍建设\n三、保障措施\n（一）加强组织领导。")
    paths = [t.path for t in tasks_of(text)]
    assert paths == ["二/(一)", "二/(一)/1", "二/(一)/1/(1)", "二/(一)/1/(1)/——", "二/(一)/2",
                     "二/(二)", "三/(一)"]


def test_parts_that_state_thought_principles_or_goals_are_not_tasks():
    text = ("一、总体要求\n（一）指导思想。以人民为中心。\n（二）基本原则。坚持政府主导。\n"
            "（三）工作目标。到2025年,覆盖率达到90%以上。\n二、重点任务\n（四）完善设施。各地要配套建设。\n"
            "三、保障措施\n（五）加强组织领导。")
    roots = outline_of(text)
    kinds = {n.title: (n.role, n.part_kind) for n in walk(roots)}
    assert kinds["指导思想"] == ("part", "guiding")
    assert kinds["基本原则"] == ("part", "principles")
    assert kinds["工作目标"] == ("part", "goals")
    assert kinds["重点任务"] == ("part", "tasks")
    assert [t.path for t in tasks_of(text)] == ["二/(四)", "三/(五)"]


def test_lost_part_headings_are_classified_run_by_run():
    # 05 starts with (一)指导思想 (二)工作目标 (三)基本原则, then restarts at (一) for the tasks
    text = (SEEDS / "05-luxian-hospice.txt").read_text("utf-8")
    roots = outline_of(text)
    assert [(n.title, n.part_kind) for n in roots[:3]] == [
        ("指导思想", "guiding"), ("工作目标", "goals"), ("基本原则", "principles")]
    assert not any(is_task(n) for n in roots[2].walk())
    assert [n.part_kind for n in roots[3:9]] == ["tasks"] * 6
    assert roots[9].part_kind == "safeguards"


def test_principles_run_without_heading_is_not_tasks():
    # 03: the principles (一)…(三) come without their heading, before the task run
    text = (SEEDS / "03-gansu-hospice.txt").read_text("utf-8")
    first = outline_of(text)[0]
    assert first.title == "政府引导,社会参与" and first.part_kind == "principles"


def test_inline_numbering_becomes_children():
    text = "四、试点工作的要求\n1.明确责任。(1)各省级团委负责统筹。(2)市级团委具体落实。(3)团中央负责督导。"
    tasks = tasks_of(text)
    assert [t.path for t in tasks] == ["四/1", "四/1/(1)", "四/1/(2)", "四/1/(3)"]
    assert tasks[1].title == "各省级团委负责统筹"


def test_inline_yishi_list_sits_under_an_unnumbered_paragraph():
    text = "会议强调:一是加强协作配合;二是做好信息报送;三是加强督导评估。"
    assert [t.path for t in tasks_of(text)] == ["-/一是", "-/二是", "-/三是"]


def test_unnumbered_headings_and_part_names():
    text = (SEEDS / "12d-national-psych.txt").read_text("utf-8")
    tasks = tasks_of(text)
    heads = [t.title for t in tasks if t.path == "-"]
    assert heads == ["建立健全社会心理服务网络", "加强心理服务人才队伍建设"]
    assert "保障措施" not in [t.title for t in tasks]
    assert sum(1 for t in tasks if t.path.startswith("-/")) == 17


def test_appendix_tables_are_not_outline():
    text = (SEEDS / "09-youth-league.txt").read_text("utf-8")
    roots = outline_of(text)
    assert [n.marker for n in roots] == ["一、", "二、", "三、", "四、"]


@pytest.mark.parametrize("joiner", [" ", ""])
def test_single_line_text_keeps_the_tasks(joiner):
    """OCR and scraped text often lose line breaks: the tasks must survive."""
    pairs = []
    for _stem, text, gold in seeds():
        one_line = joiner.join(line.strip() for line in text.split("\n") if line.strip())
        pairs.append((gold["tasks"], [t.to_dict() for t in tasks_of(one_line)]))
    scores = task_scores(pairs)
    assert scores["tasks"] >= (0.95 if joiner else 0.9)
    assert scores["lead_units"] >= 0.9


def test_full_width_and_windows_text_give_the_same_tasks():
    for _stem, text, _gold in seeds()[:8]:
        base = [t.path for t in tasks_of(text)]
        variant = text.replace("\n", "\r\n").replace("(", "（").replace(")", "）")
        assert [t.path for t in tasks_of(variant)] == base


@pytest.mark.parametrize("text", [
    "", " \n\t\n", "\x00\x01\x02", "一、\n(一)\n1.\n(1)\n①\n——", "(((((((((((((", "一是二是三是",
    "附件:\n附件1:", "\t\t\t\n序号\t任务\t牵头单位\n1\t\t",
])
def test_odd_input_gives_a_clean_empty_or_small_outline(text):
    tasks_of(text)  # no exception


def test_random_unicode_never_crashes():
    rng = random.Random(7)
    for _ in range(20):
        n = rng.randint(0, 3000)
        text = "".join(chr(rng.choice([rng.randint(0x20, 0x7e), rng.randint(0x4e00, 0x9fff),
                                       rng.randint(0, 0x10ffff)])) for _ in range(n))
        text = "".join(ch for ch in text if not 0xd800 <= ord(ch) <= 0xdfff)
        tasks_of(text)


def test_numbering_noise_never_crashes():
    rng = random.Random(3)
    alphabet = list("一二三四五六七八九十()（）、。,:;1234567890是局委部门要由牵头负责\n ——①")
    for _ in range(30):
        tasks_of("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 4000))))


@pytest.mark.parametrize("unit", [
    (SEEDS / "12e-wuzhong-psych.txt").read_text("utf-8"),
    (SEEDS / "09-youth-league.txt").read_text("utf-8").replace("\n", ""),
    "。1.做好工作" * 200 + "。2.做好工作" * 200,
    "(" * 2000 + "。" * 100,
    "加强组织领导工作\n" * 500,
])
def test_time_grows_linearly(unit):
    assert growth(tasks_of, unit * 2, unit * 16) < 8 * 3  # 8x the text: not 64x


# ---------------------------------------------------------------- layouts of other plans

def test_articles_under_chapters():
    text = ("第一章  总体要求\n第一条  指导思想。以人民为中心。\n第二条  建设目标。到2024年底建成30个。\n"
            "第二章  重点任务\n第三条  建设数字底座。统一数据标准。\n第四条  打造服务场景。\n"
            "（一）智慧养老。安装智能设备。\n（二）智慧物业。接入平台。\n"
            "第三章  附则\n第五条  本计划由区民政局负责解释。\n")
    tasks = tasks_of(text)
    assert [(t.path, t.title) for t in tasks] == [
        ("第二章/第三条", "建设数字底座"), ("第二章/第四条", "打造服务场景"),
        ("第二章/第四条/(一)", "智慧养老"), ("第二章/第四条/(二)", "智慧物业")]


def test_stages_numbered_as_stages_and_one_character_numbers():
    text = ("二、创建任务\n（一）强化医育结合。\n⑴推进健康管理。管理率保持在90%以上。\n"
            "⑵开展健康指导。每季度指导一次。\n（二）提升质量。\n⒈加强培训。\n⒉规范管理。\n"
            "三、进度安排\n第一阶段：动员部署（2023年3月底前）。各市制定方案。\n"
            "第二阶段：组织实施（2023年4月至2024年12月）。各地全面推进。\n")
    assert [t.path for t in tasks_of(text)] == [
        "二/(一)", "二/(一)/(1)", "二/(一)/(2)", "二/(二)", "二/(二)/1", "二/(二)/2",
        "三/第一阶段", "三/第二阶段"]


def test_short_text_run_into_one_line_without_spaces_keeps_its_items():
    text = ("雁塔区工作方案为深化改革，制定本方案。一、工作目标到2024年底，网上可办率达到100%。二、重点任务"
            "（一）推进事项标准化。全面梳理事项。责任单位：区行政审批服务局（二）拓展一件事一次办。推出套餐。"
            "责任单位：区行政审批服务局牵头，区市场监管局配合（三）提升便民服务能力。一是推动事项下沉；"
            "二是设置自助终端；三是组建帮办队伍。责任单位：各街道办事处三、保障措施（一）加强组织领导。"
            "专班负责统筹推进。（二）强化督查考核。督查室每季度开展督查。")
    assert [t.path for t in tasks_of(text)] == [
        "二/(一)", "二/(二)", "二/(三)", "二/(三)/一是", "二/(三)/二是", "二/(三)/三是", "三/(一)", "三/(二)"]


def test_a_signature_of_issuing_bodies_is_not_a_heading_nor_text_of_the_last_item():
    text = ("二、重点任务\n（一）完善站点体系。各地要整合资源。\n（二）强化监测评估。报送工作进展情况。\n"
            "交通运输部    国家发展改革委    财政部\n农业农村部    商务部    国家邮政局\n2023年7月20日\n")
    tasks = tasks_of(text)
    assert [t.path for t in tasks] == ["二/(一)", "二/(二)"]
    assert "2023年7月20日" not in Document.from_text("t", text).text[slice(*tasks[-1].span)]


def test_a_part_name_with_a_verb_over_paragraphs_is_not_a_task():
    text = ("二、丰富全民健身赛事活动\n3．举办市民运动会。\n4．开展全民健身日活动。\n"
            "四、强化工作保障\n市体育局要会同市财政局将工作经费纳入年度预算。\n")
    assert [t.path for t in tasks_of(text)] == ["二", "二/3", "二/4"]
