"""Reporting duties: reports to send, meetings on a cycle and 通报 (NOTES.md 6), from seed phrases."""
import json

import pytest

from shidian.planparse.duties import duties_in
from shidian.planparse.indicators import Sentence


def duties(text, part_kind="tasks"):
    return duties_in(Sentence(text=text, start=0, end=len(text), part_kind=part_kind, work=text))


def one(text):
    found = duties(text)
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize("text, recurrence, due_text, to", [
    ("市住房城乡建设部门要严格执行工程进度月报制度,于每月月底前将本月危房改造进度情况报省住房城乡建设厅,"
     "月报表的上报及时性和准确性将作为绩效考评指标。", "monthly", None, "省住房城乡建设厅"),
    ("各申报单位须填写项目申报书,申报材料要求一式2份(附电子版光盘),并于2015年1月30日前报我司。",
     "once", "2015年1月30日前", "我司"),
    ("候选名单于8月10日前上报省卫生健康委老龄健康处。", "once", "8月10日前", "省卫生健康委老龄健康处"),
    ("认真总结本地区试点工作开展情况,提炼典型经验做法,每年11月底前形成专题总结报告。", "yearly", "每年11月底前", None),
    ("试点结束后,试点单位要做好试点总结。", "once", "试点结束后", None),
    ("各市要及时将农村危房改造的建设成效、经验做法、存在问题和工作建议等向省住房城乡建设、财政部门报送。",
     None, "及时", "省住房城乡建设、财政部门"),
    ("每半年向市委常委会作一次专题汇报。", "half-yearly", "每半年", "市委常委会"),
    ("(1)省级团组织要至少每3个月听取一次派驻干部或团建试点指导员的工作汇报。", "quarterly", None, None),
])
def test_reports(text, recurrence, due_text, to):
    d = one(text)
    assert d.kind == "report"
    assert d.recurrence == recurrence
    if due_text:
        assert d.due_text == due_text
    assert d.to == to


def test_several_reports_in_one_sentence_stay_apart_when_their_receivers_differ():
    found = duties("各村每月月底号以前将本月改造进度报镇民政办,镇民政办**号前将全镇上月进度上报区民政局。")
    assert [(d.what, d.recurrence, d.to) for d in found] == [
        ("本月改造进度", "monthly", "镇民政办"), ("全镇上月进度", "monthly", "区民政局")]


def test_cycles_attached_to_the_duty_word():
    found = duties("省住房城乡建设厅对各市农村危房改造任务完成情况一月一调度,一月一通报,年底检查考核。")
    assert [(d.kind, d.recurrence, d.due_text) for d in found] == [
        ("meeting", "monthly", "一月一调度"), ("notice", "monthly", "一月一通报")]
    found = duties("积极配合上级创建试点城市考核办法、工作月调度季通报等制度。")
    assert sorted((d.kind, d.recurrence) for d in found) == [("meeting", "monthly"), ("notice", "quarterly")]


@pytest.mark.parametrize("text, recurrence, what", [
    ("领导小组每年至少召开1次会议,研究试点相关政策措施。", "yearly", "领导小组会议"),
    ("各专项责任小组要明确工作任务和完成时限,建立工作台账,每个月召开一次专题会议。", "monthly", "专题会议"),
    ("建立定期会商制度,对各村各成员单位工作进展情况定期开展督查。", None, "会商"),
    ("落实党委定期议稳机制和涉稳突出问题分类归口处理机制。", None, "党委定期议稳"),
    ("各乡镇要全面推进改革,每季度末召开一次推进会。", "quarterly", "推进会"),
])
def test_meetings_on_a_cycle(text, recurrence, what):
    d = one(text)
    assert (d.kind, d.recurrence) == ("meeting", recurrence)
    assert what in d.what


@pytest.mark.parametrize("text", [
    "召开省级试点工作启动会,开展基线调查。",                                    # one-off meeting
    "根据各试点单位工作开展情况,适时召开全市试点工作推进会、现场会。",
    "召开村民会议或村民代表会议进行民主评议并公示。",
    "现将自检情况汇报如下:",
    "会上,县卫健委对凤阳县社会心理服务体系建设试点工作开展情况进行了汇报。",    # past event
    "多渠道开展严重精神障碍患者日常发现、登记报告、随访管理。",                  # a service
    "填写《福建省农村住宅建设和用地申请表》,并上报乡(镇)政府。",               # a procedure step
    "县(市、区)业务主管部门接到乡(镇)上报的材料后,组织专业技术人员进行鉴定。",
    "要广泛收集并及时调查和处理群众举报的信息。",
    "(二)按时报送。",                                                              # a heading
    "建立报告和周期总结相结合的评价方式。",
])
def test_not_duties(text):
    assert duties(text) == []


def test_seed_reporting_count_and_recurrences_match_the_gold(seed_dir):
    """The whole pipeline on the plans with the most duties."""
    from shidian.planparse import parse_file
    for stem in ("07a-shandong-housing", "07b-town-housing", "14-huxi-governance", "15c-zhuhai-grassroots"):
        gold = json.loads((seed_dir / f"{stem}.gold.json").read_text(encoding="utf-8"))
        draft = parse_file(seed_dir / f"{stem}.txt")
        assert sorted(str(r.recurrence) for r in draft.reporting) == sorted(
            str(r["recurrence"]) for r in gold["reporting"]), stem
