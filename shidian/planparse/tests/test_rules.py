"""Rules: the norms of a plan that fix a number, from seed phrases."""
import pytest

from shidian.planparse.indicators import Sentence
from shidian.planparse.model import Document, PlanDraft
from shidian.planparse.rules import extract_rules, rules_in


def rules(text, headings=()):
    return [(r.kind, r.value) for r in rules_in(Sentence(text=text, start=0, end=len(text), work=text,
                                                        headings=list(headings)))]


@pytest.mark.parametrize("text, expected", [
    ("修缮加固户均补助不低于0.5万元。", [("subsidy", "0.5万元")]),
    ("建档立卡贫困户重建房屋户同等条件下户均补助再增加1000元。", [("subsidy", "1000元")]),
    ("补助标准为:修缮房10000元/户,五保户修缮或新建15000元/户(人)。",
     [("subsidy", "10000元/户"), ("subsidy", "15000元/户")]),
    ("原则上,改造后住房建筑面积要达到人均13平方米以上;户均建筑面积宜控制在60平方米以内。",
     [("area", "13平方米"), ("area", "60平方米")]),
    ("在村务公开栏予以公示,公示期不少于3天。", [("notice_period", "3天")]),
    ("按照师生比不少于1:4000配备心理专业教师。", [("ratio", "1:4000")]),
    ("每年按照10%的比例排查整顿,形成常态化机制。", [("ratio", "10%")]),
    ("市、县财政补助比例为30%。", [("ratio", "30%")]),
    ("一般一个师傅不宜超过三个学生。", [("ratio", "3")]),
    ("牵头医院原则上为二级甲等以上医疗机构。", [("eligibility", "二级甲等以上")]),
    ("(一)基础知识模块(4个学时)。", [("other", "4个学时")]),
    ("常态化开展7×24小时服务,每年开展不少于4次系统性培训。", [("other", "7×24小时")]),
    ("每个网格按照“1+n+n”模式充实网格力量。", [("other", "1+n+n")]),
    ("全面实现一村(社区)一法律顾问。", [("ratio", "一村(社区)一法律顾问")]),
    ("申报材料要求一式2份(附电子版光盘)。", [("other", "一式2份")]),
    ("优选推荐2-3家设施条件好的医疗机构作为省级试点。", [("other", "2-3家")]),
])
def test_norms_that_fix_a_number(text, expected):
    assert rules(text) == expected


def test_eligibility_thresholds_under_a_conditions_heading():
    assert rules("——参加专业合作组织的青年人数在30人以上,有一定的经济规模。", headings=["试点对象条件"]) == [
        ("eligibility", "30")]


@pytest.mark.parametrize("text", [
    "二级以上综合医院开设心理门诊,2020年底之前开设率达到20%以上。",   # an attribute, not a threshold
    "(2)聘任专业教师支出:3.5万元",                                    # past spending
    "到2021年,全区普通人群心理健康核心知识知晓率至少达到60%。",       # a target: an indicator
])
def test_not_rules(text):
    assert rules(text) == []


def test_rule_text_is_the_sentence_without_number_and_full_stop():
    doc = Document.from_text("t", "(二)集体评议\n村委会初定危房改造对象,并在村务公开栏予以公示,公示期不少于3天。\n")
    draft = PlanDraft(id="t")
    extract_rules(doc, [], draft)
    assert [(r.kind, r.value, r.text) for r in draft.rules] == [
        ("notice_period", "3天", "村委会初定危房改造对象,并在村务公开栏予以公示,公示期不少于3天")]
