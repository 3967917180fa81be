"""Units: attributions, the first-is-lead rule, doers read from prose, and the unit index."""
from __future__ import annotations

import pytest

from shidian.planparse import parse_text
from shidian.planparse.model import Document, PlanDraft, Task
from shidian.planparse.units import (build_unit_index, canonical_unit, first_is_lead_rule,
                                     parse_attribution, prose_units)


@pytest.mark.parametrize("content,leads,units", [
    ("区委宣传部、区卫健委牵头,区教育局、区文体旅局配合", ["区委宣传部", "区卫健委"], ["区教育局", "区文体旅局"]),
    ("区卫健委负责", [], ["区卫健委"]),
    ("牵头单位:市委政法委,市卫生健康委;责任单位:市教育局、市民政局,各区人民政府〈含开发区、风景区管委会,下同〉",
     ["市委政法委", "市卫生健康委"], ["市教育局", "市民政局", "各区人民政府"]),
    ("牵头单位:市教育局;责任单位:市委党校〈武汉行政学院〉", ["市教育局"], ["市委党校〈武汉行政学院〉"]),
    ("国家卫生健康委牵头,国家发展改革委、财政部按职责分工负责", ["国家卫生健康委"], ["国家发展改革委", "财政部"]),
    ("各县区人民政府负责落实", [], ["各县区人民政府"]),
    ("市卫健委牵头负责,市民政局配合", ["市卫健委"], ["市民政局"]),
    ("责任单位:市卫健委(牵头)、市民政局", ["市卫健委"], ["市民政局"]),
    ("牵头领导:张三;牵头单位:市卫健委;责任单位:市民政局;完成时限:2021年6月底前", ["市卫健委"], ["市民政局"]),
])
def test_parenthetical_attributions(content, leads, units):
    got_leads, got_units, duty = parse_attribution(content)
    assert got_leads == leads and got_units + duty == units


def _tasks(text: str) -> list[Task]:
    return parse_text(text, name="t").tasks


def test_duty_line_first_unit_leads_when_the_plan_says_so():
    text = ("（一）加强宣传教育。\n广泛开展宣传。\n责任单位:县卫生健康局、县委宣传部、各镇(街道)(排名第一为牵头单位,下同)\n"
            "（二）开展基线调查。\n调查了解需求。\n责任单位:县卫生健康局、县民政局\n")
    assert first_is_lead_rule(text)
    tasks = _tasks(text)
    assert [(t.lead_units, t.units) for t in tasks] == [
        (["县卫生健康局"], ["县委宣传部", "各镇(街道)"]), (["县卫生健康局"], ["县民政局"])]


def test_duty_line_without_the_rule_is_all_units():
    text = "（一）强化党建引领基层治理\n责任单位:党群办、各村(居)委会\n进一步强化社区党委的领导核心作用。\n"
    task = _tasks(text)[0]
    assert task.lead_units == [] and task.units == ["党群办", "各村(居)委会"]


def test_group_line_is_inherited_by_the_group_items_and_stops_prose():
    text = ("（一）深入推进化解社会矛盾\n责任小组:涉农及社会矛盾化解责任小组\n"
            "1.深化矛盾排查化解工作。市、区组织部门推动各有关部门开展排查。\n"
            "2.维护群众的合法权益。妥善解决突出问题。\n")
    tasks = _tasks(text)
    assert [t.units for t in tasks] == [["涉农及社会矛盾化解责任小组"]] * 3


@pytest.mark.parametrize("sentence,leads,units", [
    ("改造住房竣工后,由县级住房城乡建设部门牵头,财政等相关部门参与,对改造后的住房进行全面检查验收。",
     ["县级住房城乡建设部门"], ["财政等相关部门"]),
    ("卫生健康委牵头,政法委等10部门要积极培育社会心理服务机构。", ["卫生健康委"], ["政法委"]),
    ("政法委、卫生健康、民政、公安、司法等部门要建立健全基层综合管理小组。", [],
     ["政法委", "卫生健康", "民政", "公安", "司法"]),
    ("各级财政部门要会同监察、审计等部门加强对资金的监督管理。", [], ["各级财政部门", "监察、审计等部门"]),
    ("市住房城乡建设、财政等部门对县级验收情况进行复查。", [], ["市住房城乡建设、财政等部门"]),
    ("县卫生健康局发挥好牵头部门作用,积极协调相关部门。", ["县卫生健康局"], []),
    ("人事档案由牵头医院或主管部门统一管理。", [], ["牵头医院", "主管部门"]),
    ("请各有关单位于10月25日前将联络员名单报送至办公室。", [], ["各有关单位"]),
    # only encouraged, relied on or reported to: not doers
    ("鼓励社会力量举办安宁疗护服务机构。", [], []),
    ("依托省肿瘤医院建设甘肃省安宁疗护中心。", [], []),
    ("候选名单于8月10日前上报省卫生健康委老龄健康处。", [], []),
    ("组织心理服务工作者、社会工作者、网格管理员、人民调解员等对居民摸排矛盾。", [], []),
])
def test_doers_read_from_prose(sentence, leads, units):
    assert prose_units(sentence, 0, len(sentence)) == (leads, units)


def test_units_are_copied_as_printed():
    text = "（一）加强联络\n各区、县(市)卫生健康局及相关部门负责辖区内服务体系构建。"
    assert _tasks(text)[0].units == ["各区、县(市)卫生健康局"]


def test_unit_index_groups_abbreviations_but_not_other_bodies():
    draft = PlanDraft(id="t")
    draft.tasks = [Task(path="1", title="a", lead_units=["区卫健委"], units=["区卫生健康委员会"]),
                   Task(path="2", title="b", units=["区卫生健康委", "县卫生健康局", "团区委",
                                                    "共青团区委", "区委宣传部", "区宣传部"])]
    index = build_unit_index(Document.from_text("t", ""), draft)
    groups = sorted(sorted(v) for v in index.values())
    assert sorted(["区卫健委", "区卫生健康委", "区卫生健康委员会"]) in groups
    assert ["县卫生健康局"] in groups
    assert sorted(["团区委", "共青团区委"]) in groups
    assert sorted(["区委宣传部", "区宣传部"]) in groups


@pytest.mark.parametrize("a,b", [("市人社局", "市人力资源和社会保障局"), ("县发改委", "县发展和改革委员会"),
                                 ("区市场监管局", "区市场监督管理局"), ("市医保局", "市医疗保障局")])
def test_canonical_forms_of_common_abbreviations(a, b):
    assert canonical_unit(a) == canonical_unit(b)


def test_parsed_plan_carries_the_unit_index():
    text = ("（一）建立知识传播机制。加强宣传。（区委宣传部、区卫健委牵头,区教育局配合）\n"
            "（二）完善服务网络。区教育局应将心理健康教育纳入规划。（区教育局牵头,区卫生健康委配合）\n")
    index = parse_text(text, name="t").to_dict()["unit_index"]
    assert sorted(index[canonical_unit("区卫健委")]) == ["区卫健委", "区卫生健康委"]


def test_attribution_lines_inside_single_line_text():
    text = ("(一)强化党建引领基层治理责任单位:党群办、各村(居)委会进一步强化社区党委的领导核心作用。"
            "(二)健全基层协商议事制度 责任单位:人大办 加强对本辖区协商民主的统筹协调。")
    tasks = _tasks(text * 8)
    assert (tasks[0].title, tasks[0].units) == ("强化党建引领基层治理", ["党群办", "各村(居)委会"])
    assert (tasks[1].title, tasks[1].units) == ("健全基层协商议事制度", ["人大办"])


# ---------------------------------------------------------------- attributions of other plans

@pytest.mark.parametrize("content,leads,units", [
    ("〔责任单位：省政务服务中心、省大数据局按职责分工负责。具体任务均涉及各市（州）人民政府，不再列出，下同〕",
     [], ["省政务服务中心", "省大数据局"]),
    ("责任单位：省政务服务中心牵头，省直有关部门配合", ["省政务服务中心"], ["省直有关部门"]),
    ("【牵头科室：养老服务科；配合单位：各街道】", ["养老服务科"], ["各街道"]),
    ("责任单位：各县市区人民政府、市市场监管局（列第一位的为牵头单位）", ["各县市区人民政府"], ["市市场监管局"]),
    ("责任单位：市体育局、市住房城乡建设局（市体育局牵头）；完成时限：2024年11月底前",
     ["市体育局"], ["市住房城乡建设局"]),
    ("市委宣传部、市教育局牵头，团市委、市妇联配合；长期坚持", ["市委宣传部", "市教育局"], ["团市委", "市妇联"]),
])
def test_attributions_in_other_brackets_and_labels(content, leads, units):
    got_leads, got_units, duty = parse_attribution(content.strip("〔〕【】"))
    assert got_leads == leads and got_units + duty == units


def test_a_rule_note_on_one_list_without_xiatong_is_that_lists_rule_only():
    text = ("二、攻坚任务\n1、整治农村集体聚餐。建立备案制度。\n"
            "责任单位：各县市区人民政府、市市场监管局（列第一位的为牵头单位）\n"
            "2、严厉打击违法犯罪。开展专项行动。\n责任单位：市公安局、市检察院\n")
    assert not first_is_lead_rule(text)
    tasks = _tasks(text)
    assert [(t.lead_units, t.units) for t in tasks] == [
        (["各县市区人民政府"], ["市市场监管局"]), ([], ["市公安局", "市检察院"])]


def test_a_bracketed_attribution_on_a_group_heading_is_inherited_by_its_items():
    text = ("二、创建任务\n（一）扩大普惠托育服务供给。〔省卫生健康委牵头，省发展改革委、省财政厅按职责分工负责〕\n"
            "１．实施专项行动。新增托位。\n２．支持用人单位办托。建成示范点。\n")
    assert [(t.lead_units, t.units) for t in _tasks(text)] == \
        [(["省卫生健康委"], ["省发展改革委", "省财政厅"])] * 3


@pytest.mark.parametrize("block", [
    "牵头单位：市教育局\n责任单位：市市场监管局、市卫生健康委\n完成时限：2023年6月\n",
    "（市教育局牵头，市市场监管局、市卫生健康委配合）\n",
])
def test_an_attribution_after_an_items_children_belongs_to_the_item(block):
    text = ("二、攻坚任务\n1、强化产地治理。开展行动。\n牵头单位：市农业农村局\n完成时限：2023年8月\n"
            "2、加强学校食堂管理。\n(1)全面推行明厨亮灶。\n(2)落实陪餐制度。\n" + block +
            "3、整治农村聚餐。建立备案制度。\n牵头单位：市市场监管局\n")
    draft = parse_text(text, name="t")
    got = {t.path: (t.lead_units, t.units, t.deadline) for t in draft.tasks}
    when = "2023-06" if "完成时限" in block else None
    for path in ("二/2", "二/2/(1)", "二/2/(2)"):
        assert got[path] == (["市教育局"], ["市市场监管局", "市卫生健康委"], when)
    assert got["二/1"] == (["市农业农村局"], [], "2023-08")


@pytest.mark.parametrize("sentence,leads,units", [
    ("建立由省卫生健康委牵头、相关部门参与的婴幼儿照护服务工作联席会议制度。", ["省卫生健康委"], ["相关部门"]),
    ("建立由交通运输部牵头，国家发展改革委、财政部、商务部参加的部际协调机制。",
     ["交通运输部"], ["国家发展改革委", "财政部", "商务部"]),
    ("试点区要加快推进学校网络提速扩容。", [], ["试点区"]),
    ("各设区的市于每年1月15日前将工作情况报送省卫生健康委。", [], ["各设区的市"]),
    ("各设区市教育局要会同财政、发展改革部门完善经费保障机制。", [], ["各设区市教育局", "财政、发展改革部门"]),
    ("汛期各成员单位实行24小时值班制度。", [], ["各成员单位"]),
    ("区委组织部、区民政局主要负责同志为成员。", [], []),
    ("各省级卫生健康行政部门遴选2—3家三级医疗机构作为试点单位。", [], ["各省级卫生健康行政部门"]),
])
def test_doers_of_other_plans(sentence, leads, units):
    assert prose_units(sentence, 0, len(sentence)) == (leads, units)
