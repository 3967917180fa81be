"""Quantified targets: the seed plans' gold indicators, and the phrasings of NOTES.md 2."""
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shidian.planparse import parse_text
from shidian.planparse.indicators import Sentence, extract_indicators, indicators_in, quantities
from shidian.planparse.model import Document
from shidian.planparse.timeexpr import doc_times

from .growth import growth


def _sentence(text, part_kind="tasks", headings=()):
    times = doc_times(text).within(0, len(text))
    return Sentence(text=text, start=0, end=len(text), part_kind=part_kind, headings=list(headings),
                    work=text, all_times=times)


def _one(text, **kw):
    found = indicators_in(_sentence(text, **kw))
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize("text, comparator, target, unit", [
    ("以村(社区)为单位,心理咨询室或社会工作室建成率达80%以上。", ">=", 80, "%"),
    ("城市、农村人群心理健康核心知识知晓率达到50%以上。", ">=", 50, "%"),
    ("县域就诊率力争达90%", ">=", 90, "%"),
    ("100%精神专科医院设立心理门诊", ">=", 100, "%"),
    ("每年对教师不少于两次心理评估,根据评估结果开展疏导。", ">=", 2, "other"),
    ("各区、县(市)至少明确一家基层医疗机构开设临终关怀科。", ">=", 1, "other"),
    ("3000人次以上。", ">=", 3000, "other"),
    ("发展培养5000名掌握基本心理咨询技能的社会工作者(师)队伍。", ">=", 5000, "人"),
    ("户均建筑面积所占比例控制在60%以内。", "<=", 60, "%"),
    ("空置率不超过5%。", "<=", 5, "%"),
    ("就业率保持在60%—70%。", ">=", 60, "%"),
    # money, days and years measure an outcome here: targets, not norms
    ("到2025年,农村居民人均可支配收入达到2万元以上。", ">=", 2, "万元"),
    ("全市固定资产投资总额达到1.5亿元。", ">=", 15000, "万元"),
    ("平均住院日控制在8天以内。", "<=", 8, "天"),
    ("人均预期寿命达到80岁。", ">=", 80, "other"),
    ("覆盖率\t≥90%", ">=", 90, "%"),                                   # table cells with symbols
    ("不良事件发生率≤5%", "<=", 5, "%"),
    ("每年培训基层医生500人次。", ">=", 500, "other"),
    # only 个 is 个; other measure words are other, as 家 is in the seed notes
    ("新建学校10所。", ">=", 10, "other"),
    ("2023年底前配置厨余垃圾专用收运车辆不少于40台。", ">=", 40, "other"),
    ("每周开设特色课程不少于3门。", ">=", 3, "other"),
    ("新建社会足球场地10块。", ">=", 10, "other"),
    # land made or reached is a target; money put into a programme is a target
    ("建设高标准农田1.2万亩。", ">=", 12000, "other"),
    ("2024年县级财政衔接推进乡村振兴补助资金投入不低于3000万元。", ">=", 3000, "万元"),
    ("企业开办时间压缩至1个工作日以内。", "<=", 1, "天"),
    ("企业和群众办事平均跑动次数控制在0.3次以内。", "<=", 0.3, "other"),
    ("鼓励有条件的用人单位办托,每个设区的市至少建成1个用人单位办托示范点。", ">=", 1, "个"),
])
def test_comparator_target_and_unit(text, comparator, target, unit):
    ind = _one(text)
    assert (ind.comparator, ind.target, ind.unit) == (comparator, target, unit)


def test_text_is_the_sentence_without_item_number_and_full_stop():
    ind = _one("(一)城市、农村人群心理健康核心知识知晓率达到50%以上。")
    assert ind.text == "城市、农村人群心理健康核心知识知晓率达到50%以上"
    assert "知晓率" in ind.name


def test_allocations_are_fixed_quantities_in_households():
    found = indicators_in(_sentence(
        "2016年全省计划完成5万户(含建档立卡贫困户2.37万户)农村危房改造任务,其中:中央下达改造任务3.13万户,"
        "省级统筹安排18700户。", part_kind="goals"))
    assert sorted(i.target for i in found) == [18700, 23700, 31300, 50000]
    assert {(i.comparator, i.unit, i.deadline) for i in found} == {("=", "户", "2016-12")}


def test_quotas_under_a_pilot_selection_heading_are_fixed():
    found = indicators_in(_sentence("国有和国有控股企业30家,规模以上非公有制企业70家。",
                                    headings=["试点对象的分布", "企业基层团组织建设试点", "试点的选取"]))
    assert [(i.comparator, i.target, i.unit) for i in found] == [("=", 30, "other"), ("=", 70, "other")]


def test_lists_of_rates_sharing_one_target_are_split():
    found = indicators_in(_sentence("使在册患者规范管理率、在册患者治疗率、精神分裂症治疗率均达到80%以上。"))
    assert [i.name for i in found] == ["在册患者规范管理率", "在册患者治疗率", "精神分裂症治疗率"]
    found = indicators_in(_sentence("基层门急诊人次和住院人次占比分别较试点前提升不少于5个百分点。"))
    assert [(i.comparator, i.target, i.unit) for i in found] == [(">=", 5, "other")] * 2
    # one name: 城市、农村 are not rates
    assert len(indicators_in(_sentence("城市、农村普通人群心理健康核心知识知晓率达到50%以上。"))) == 1


@pytest.mark.parametrize("text", [
    "开展涉农不稳定问题等5个专项治理活动,坚持和完善每月滚动排查机制。",   # listed items
    "2015年底前,选择一个区开展整合公共服务平台建设试点。",                  # a one-off choice
    "2015年8月底前确定1个有代表性的镇作为党组织设置试点单位。",
    "通过实施六大社会心理工程,落实十八个工作项目。",
    "各单位确定一名联络员与试点工作办公室及时对接。",
    "领导小组每年至少召开1次会议,研究试点相关政策措施。",                    # a meeting: reporting
    "每年按照10%的比例排查整顿,形成常态化机制。",                             # a ratio rule
    "一般一个师傅不宜超过三个学生。",                                          # a norm
    "规模达到4000人以上应当设立专职心理咨询服务人员。",                        # a condition
    "修缮加固户均补助不低于0.5万元。",                                         # money: a rule
    "改造后住房建筑面积要达到人均13平方米以上。",                              # area: a rule
    "医保报销比例不低于70%。",                                                  # a cost share: a rule
    "入住定点护理机构的重度失能人员,基金支付比例为70%。",                      # a cost share: a rule
    "单议病例数量原则上不超过DRG出院总病例数的5%。",                           # a norm
    "推行“一件事一次办”集成服务。",                                          # a number in a name
    "各省级教育行政部门择优推荐不超过2个试点区。",                               # a selection: a rule
])
def test_numbers_that_are_not_targets(text):
    assert indicators_in(_sentence(text)) == []


def test_staged_targets_take_their_own_clause_dates():
    found = indicators_in(_sentence(
        "2015年9月底,完成资金分配任务20%;2015年12月底,完成资金分配任务50%;2016年3月底,完成资金分配任务75%。"))
    assert [(i.target, i.deadline) for i in found] == [(20, "2015-09"), (50, "2015-12"), (75, "2016-03")]
    found = indicators_in(_sentence(
        "精神卫生专科医院开设心理门诊实现100%全覆盖;二级以上综合医院开设心理门诊,2020年底之前开设率达到20%以上,"
        "2021年底之前达到40%以上。"))
    assert [(i.target, i.deadline) for i in found] == [(100, None), (20, "2020-12"), (40, "2021-12")]


def test_items_of_an_inline_list_keep_their_own_dates():
    found = indicators_in(_sentence(
        "一是摸清底数,2022年5月底前完成全镇农户厕所现状摸排;二是分类推进改厕,每年完成户厕改造不少于300户。"))
    assert [(i.target, i.deadline) for i in found] == [(300, None)]


def test_year_end_words_of_a_one_year_plan_date_its_targets():
    text = "鼓楼区2024年养老服务工作要点\n一、提升服务质量\n1.开展等级评定。年内完成等级评定，二级以上养老机构占比达到60%以上。\n"
    draft = parse_text(text, name="t")
    assert [(i.target, i.deadline) for i in draft.indicators] == [(60, "2024-12")]
    undated = parse_text(text.replace("2024年", ""), name="t")
    assert [(i.target, i.deadline) for i in undated.indicators] == [(60, None)]


def test_a_single_target_takes_the_latest_limit_of_its_sentence():
    ind = _one("2012年省下达我市农村危房改造任务7000户,并细化分解到县(市、区),在2012年底前全面动工改造,"
               "2015年6月底前全面完成任务。")
    assert (ind.comparator, ind.target, ind.deadline) == ("=", 7000, "2015-06")


def test_a_dated_list_intro_lends_its_date_until_the_numbering_restarts():
    text = ("到2021年底,逐步建立健全社会心理服务体系。具体工作指标包括:\n"
            "(一)普遍设立心理咨询室。以村(社区)为单位,心理咨询室建成率达80%以上。\n"
            "(二)中小学设立心理辅导室。\n"
            "(一)搭建基层心理服务平台。特殊人群个性化心理疏导的覆盖率达到60%以上。\n")
    found = extract_indicators(Document.from_text("t", text), [])
    assert [(i.target, i.deadline) for i in found] == [(80, "2021-12"), (60, None)]


def test_quantities_reads_chinese_numerals_and_ten_thousands():
    qs = quantities("新增5万户,培训不少于两次,达到百分之八十")
    assert [(q.value, q.unit_word) for q in qs] == [(50000, "户"), (2, "次"), (80, "%")]


GOLD_DOCS = ["05-luxian-hospice", "06-sichuan-medical-community", "09-youth-league", "11-helinger-psych",
             "12e-wuzhong-psych", "12f-wuhan-psych", "15c-zhuhai-grassroots"]


@pytest.mark.parametrize("stem", GOLD_DOCS)
def test_seed_indicators_match_the_gold(seed_dir, stem):
    """Parsed with the whole pipeline: same (comparator, target, unit, deadline) multiset as the gold."""
    from shidian.planparse import parse_file
    gold = json.loads((seed_dir / f"{stem}.gold.json").read_text(encoding="utf-8"))
    draft = parse_file(seed_dir / f"{stem}.txt")

    def key(i):
        return (i["comparator"], float(i["target"]), i["unit"], i["deadline"] or "")
    assert sorted(key(i.to_dict()) for i in draft.indicators) == sorted(key(i) for i in gold["indicators"])


def _run_steps(text):
    from shidian.planparse.duties import extract_reporting
    from shidian.planparse.indicators import extract_goals_and_indicators
    from shidian.planparse.model import PlanDraft
    from shidian.planparse.rules import extract_rules
    from shidian.planparse.schedule import extract_schedule
    doc = Document.from_text("t", text)
    draft = PlanDraft(id="t")
    extract_schedule(doc, [], draft)
    extract_goals_and_indicators(doc, [], draft)
    extract_reporting(doc, [], draft)
    extract_rules(doc, [], draft)
    return draft


PLAN_ALPHABET = st.sampled_from(list("一二三四五六七八九十()（）、.:：,，;；。\n\t 0123456789%年月日底前每季度报送会议达到以上户个"
                                     "《》〔〕**—-至到不少于万元平方米第阶段为"))


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.text(), st.text(alphabet=PLAN_ALPHABET, max_size=400)))
def test_the_steps_never_crash(text):
    draft = _run_steps(text)
    for ind in draft.indicators:
        assert ind.comparator in (">=", "<=", "=", ">", "<")
    for rep in draft.reporting:
        assert rep.recurrence in (None, "once", "daily", "weekly", "monthly", "quarterly", "half-yearly", "yearly")


def test_the_steps_take_linear_time_on_run_on_text():
    unit = "2019年8月底前完成率达到80%以上,每月月底前将进度报送省厅,国有企业30家、5万户、公示期不少于3天、"
    small, large = (unit * (n // len(unit)) for n in (40_000, 160_000))
    assert growth(_run_steps, small, large) < 4 * 1.7  # 4x the text: about 4x the time, not 16x


def test_a_run_on_inline_list_of_targets_takes_linear_time():
    # one sentence of 一是…;二是… items with a target each: every target quotes the sentence, and
    # the inconsistency check compares their names (the whole parse, findings included)
    unit = "一是摸清底数,2022年5月底前完成摸排;二是推进改厕,每年完成改造不少于300户;三是建立台账,覆盖率达到100%;"
    assert growth(lambda text: parse_text(text, name="t"), unit * 200, unit * 800) < 4 * 1.9


def test_empty_text_gives_nothing():
    draft = _run_steps("")
    assert (draft.phases, draft.indicators, draft.reporting, draft.rules, draft.goals) == ([], [], [], [], [])
