"""Chinese time expressions as they occur in the seed plans (and the conventions of NOTES.md 8)."""
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shidian.planparse.timeexpr import (
    cn_number, cycle_limit, find_recurrences, find_times, find_vague_limits, latest, recurrence_of,
)


def one(text, **kw):
    found = find_times(text, **kw)
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize("text, begin, until", [
    ("2019年8-11月", "2019-08", "2019-11"),               # not the whole year (JioNLP's error)
    ("2020年6-7月", "2020-06", "2020-07"),
    ("2019年8月-10月", "2019-08", "2019-10"),
    ("2019年10月-2020年10月", "2019-10", "2020-10"),
    ("2020年8月-2021年12月", "2020-08", "2021-12"),
    ("2016年11月9日—2016年12月9日", "2016-11-09", "2016-12-09"),
    ("2017年4月10——2017年6月10 实施第二阶段", "2017-04-10", "2017-06-10"),
    ("(2011—2013)", "2011-01", "2013-12"),
    ("计划(2015—2017年)", "2015-01", "2017-12"),
    ("历时三年时间(2020年—2022年)", "2020-01", "2022-12"),
    ("2019年10月至12月", "2019-10", "2019-12"),
    ("２０２０年１０月－２０２１年１２月", "2020-10", "2021-12"),   # full-width digits
    ("(2021.1-2021.6)", "2021-01", "2021-06"),                     # numeric dates
    ("2019 年 8-11 月", "2019-08", "2019-11"),                     # spaces from PDF text
    ("2021年6月15日至7月15日", "2021-06-15", "2021-07-15"),
])
def test_ranges_give_first_and_last_month(text, begin, until):
    expr = one(text)
    assert expr.is_range
    assert (expr.begin, expr.until) == (begin, until)


@pytest.mark.parametrize("text, until, phrase", [
    ("并于2015年1月30日前报我司", "2015-01-30", "2015年1月30日前"),
    ("2019年8月底前", "2019-08", "2019年8月底前"),
    ("到2021年,全区普通人群", "2021-12", "到2021年"),          # a bare year as an end is December
    ("领导小组将于2021年组织", "2021-12", "将于2021年"),
    ("争取到2016年底,全市所有", "2016-12", "争取到2016年底"),
    ("2016年6月前全面完成清理任务", "2016-06", "2016年6月前"),
    ("2017年基本完成全市农村土地", "2017-12", "2017年"),
    ("2020年底之前配备率达到70%以上", "2020-12", "2020年底之前"),
    ("二〇一九年十一月底前完成", "2019-11", "二〇一九年十一月底前"),
    ("2021年上半年完成", "2021-06", "2021年上半年"),
    ("2022年第三季度前", "2022-09", "2022年第三季度前"),
    ("2021.12.31前完成", "2021-12-31", "2021.12.31前"),
    ("截至2021-06-30", "2021-06-30", "截至2021-06-30"),
    ("2023年内建成", "2023-12", "2023年内"),
    ("到 2021 年底", "2021-12", "到2021 年底"),
])
def test_limits_resolve_to_the_last_day_they_allow(text, until, phrase):
    expr = one(text)
    assert expr.role == "limit"
    assert expr.until == until
    assert expr.phrase == phrase


def test_year_left_out_comes_from_the_same_sentence():
    found = find_times("2015年9月底前开展自查自清,年底前制定处置方案,逐项落实整改")
    assert [e.until for e in found] == ["2015-09", "2015-12"]
    found = find_times("确保2016年农村危房改造任务年底前全部开工,2017年6月底前全部竣工。")
    assert [e.until for e in found] == ["2016-12", "2016-12", "2017-06"]


def test_the_whole_year_of_a_one_year_plan_is_a_limit():
    # 完成时限:全年 in a 2024年…工作要点: the end of that year; without the plan's year, undated
    assert (one("完成时限:全年", context=("2024-01", "2024-12")).until, one("全年").until) == \
        ("2024-12", None)
    assert one("完成时限:全年").role == "limit"


def test_year_left_out_comes_from_the_surrounding_phase():
    assert one("候选名单于8月10日前上报", context=("2019-08", "2019-08")).until == "2019-08-10"
    assert one("各试点县11月底前制定细化方案", context=("2019-08", "2019-11")).until == "2019-11"
    # a phase over two years: the month falls in the phase
    assert one("3月底前完成", context=("2019-10", "2020-10")).until == "2020-03"


def test_year_that_cannot_be_known_stays_null():
    expr = one("请各有关单位于10月25日前将名单报送")
    assert expr.until is None and expr.phrase == "10月25日前"
    assert one("年底对整顿情况进行考核验收").until is None
    # a year in an earlier sentence does not carry over
    assert find_times("2015年完成。年底前验收")[1].until is None


def test_redacted_dates_are_kept_as_words_without_value():
    expr = one("(**月初—**月中旬)")
    assert expr.redacted and expr.until is None and expr.text == "**月初—**月中旬"
    assert one("确定对象工作于***月底前完成").phrase == "***月底前"
    found = find_times("整个试点工作从20-年3月开始,至20-年底结束")
    assert [e.role for e in found] == ["start", "limit"]
    assert all(e.until is None for e in found)


def test_starts_are_not_limits():
    assert one("对2014年1月1日以来农村乱占").role == "start"
    assert one("团中央决定自2009年4月起").role == "start"
    assert one("自2009年4月起").begin == "2009-04"


def test_a_date_that_describes_is_not_a_limit():
    assert one("对2019年以前建成的房屋进行改造").role == "point"
    assert one("2015年底前完成的任务要验收").role == "limit"


def test_plain_years_are_points_not_limits():
    assert one("2016年省财政将根据各地危房户数").role == "point"
    assert one("编制2016年农村危房改造工作实施方案").role == "point"


def test_document_numbers_and_cited_titles_are_not_dates():
    assert find_times("国办发〔2015〕84号") == []
    assert find_times("(国卫办老龄函﹝2019﹞483号)") == []
    assert find_times("如《健康中国行动(2019-2030年)》等相关内容") == []
    assert find_times("《关于印发深化医药卫生体制改革2019年重点工作任务的通知》") == []
    # a document the plan itself draws up keeps its period
    assert one("制定《持续整顿三年行动计划(2015—2017年)》").until == "2017-12"


def test_counts_and_durations_are_not_dates():
    for text in ("在校学习4个月", "不超过2个月用药量", "力争用3年左右的时间", "每3个月听取一次",
                 "1:4000", "7×24小时", "3000人次以上", "一月一调度", "健康中国2030"):
        assert find_times(text) == [], text


def test_per_cycle_limits_are_not_dates():
    expr = one("每年11月底前形成专题总结报告")
    assert expr.role == "cycle" and expr.until is None
    assert cycle_limit("于每月月底前将本月危房改造进度情况报省住房城乡建设厅")[2] == "每月月底前"
    assert cycle_limit("每年11月底前形成专题总结报告")[2] == "每年11月底前"
    assert cycle_limit("各村每月月底号以前将本月改造进度")[2] == "每月月底号以前"


def test_vague_limits_are_found_for_deadline_text():
    assert find_vague_limits("力争用3年左右的时间,基本解决")[0][2] == "力争用3年左右的时间"
    assert find_vague_limits("招生上在今年暑期加大宣传力度")[0][2] == "今年暑期"


@pytest.mark.parametrize("text, kind", [
    ("于每月月底前将本月进度报", "monthly"),
    ("一月一调度,一月一通报", "monthly"),
    ("工程进度月报制度", "monthly"),
    ("每季度召集各专项责任小组", "quarterly"),
    ("至少每3个月听取一次", "quarterly"),
    ("季通报", "quarterly"),
    ("每半年向市委常委会作一次专题汇报", "half-yearly"),
    ("每年11月底前形成专题总结报告", "yearly"),
    ("每年开展一次专项督导与考评", "yearly"),
    ("对各市实行年度绩效评价", "yearly"),
    ("按年度设置重点工作任务", "yearly"),
    ("建立工作周报制度", "weekly"),
    ("每天报送", "daily"),
    ("每学年开展一次体质监测", "yearly"),
    ("形成半年度总结报告", "half-yearly"),
])
def test_recurrence_words(text, kind):
    assert recurrence_of(text) == kind


def test_recurrence_is_null_without_cycle_or_with_several():
    assert recurrence_of("纳入年度工作计划") is None
    assert recurrence_of("定期召开领导小组会议") is None
    assert recurrence_of("工作月调度季通报等制度") is None
    assert [r.kind for r in find_recurrences("每季度召开一次,每半年汇报,每个月召开一次")] == [
        "quarterly", "half-yearly", "monthly"]


@pytest.mark.parametrize("text, value", [
    ("25", 25), ("3.13万", 31300), ("2.37万", 23700), ("5万", 50000), ("18700", 18700),
    ("二十五", 25), ("十", 10), ("十一", 11), ("两", 2), ("一百零五", 105), ("三千五", 3500),
    ("一万二千", 12000), ("二〇一九", 2019), ("１８", 18), ("一是", None), ("", None),
])
def test_cn_number(text, value):
    assert cn_number(text) == value


def test_latest_prefers_the_later_date_and_a_month_over_its_days():
    assert latest(["2015-12", "2016-06", None, "2015-08"]) == "2016-06"
    assert latest(["2019-08-10", "2019-08"]) == "2019-08"


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_never_crashes_on_random_text(text):
    for expr in find_times(text):
        assert 0 <= expr.start <= expr.end <= len(text)
    find_recurrences(text)
    cycle_limit(text)


def test_linear_time_on_long_inputs():
    chunk = "2019年8-11月每月月底前**月初—**月中旬2020年" + "年" * 50 + "9" * 50 + "月" * 50
    text = chunk * 2000
    t0 = time.perf_counter()
    find_times(text)
    find_recurrences(text)
    assert time.perf_counter() - t0 < 5
