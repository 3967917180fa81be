"""Unit names as the seed plans write them resolve to the agencies of the register."""
from __future__ import annotations

import json

import pytest

from shidian.orgs.models import Division, DivisionLevel
from shidian.orgs.selectors import agency_candidates, agency_resolve
from shidian.orgs.testing import make_agency, make_divisions

pytestmark = pytest.mark.django_db

# Official names of the 吴中区 units that seed plan 12e names (plans write them the short way).
WUZHONG = {
    "区卫健委": "苏州市吴中区卫生健康委员会",
    "区卫生健康委": "苏州市吴中区卫生健康委员会",
    "区委政法委": "中共苏州市吴中区委政法委员会",
    "区民政局": "苏州市吴中区民政局",
    "区教育局": "苏州市吴中区教育局",
    "区委宣传部": "中共苏州市吴中区委宣传部",
    "区宣传部": "中共苏州市吴中区委宣传部",
    "区科协": "苏州市吴中区科学技术协会",
    "区妇联": "苏州市吴中区妇女联合会",
    "团区委": "共青团苏州市吴中区委员会",
    "区司法局": "苏州市吴中区司法局",
    "区残联": "苏州市吴中区残疾人联合会",
    "区总工会": "苏州市吴中区总工会",
    "区文体旅局": "苏州市吴中区文化体育和旅游局",
    "区城管局": "苏州市吴中区城市管理局",
    "区信访局": "苏州市吴中区信访局",
    "区应急局": "苏州市吴中区应急管理局",
}
# 武汉市 units of seed plan 12f, registered under 武汉市.
WUHAN = {
    "市卫生健康委": "武汉市卫生健康委员会",
    "市教育局": "武汉市教育局",
    "市民政局": "武汉市民政局",
    "市委政法委": "中共武汉市委政法委员会",
    "市司法局": "武汉市司法局",
    "团市委": "共青团武汉市委员会",
    "市公安局": "武汉市公安局",
    "市人力资源社会保障局": "武汉市人力资源和社会保障局",
    "市总工会": "武汉市总工会",
    "市残联": "武汉市残疾人联合会",
    "市应急管理局": "武汉市应急管理局",
    "市委宣传部": "中共武汉市委宣传部",
    "市妇联": "武汉市妇女联合会",
    "市信访局": "武汉市信访局",
    "市委党校〈武汉行政学院〉": "中共武汉市委党校",
    "市政务服务和大数据管理局": "武汉市政务服务和大数据管理局",
    "市市场监管局": "武汉市市场监督管理局",
    "市交通运输局": "武汉市交通运输局",
}


def gold_units(seed_dir, plan_id: str) -> set[str]:
    gold = json.loads((seed_dir / f"{plan_id}.gold.json").read_text(encoding="utf-8"))
    return {u for task in gold["tasks"] for u in task["lead_units"] + task["units"]}


@pytest.fixture
def wuzhong():
    province = Division.objects.create(code="32", name="江苏省", level=DivisionLevel.PROVINCE)
    city = Division.objects.create(code="3205", name="苏州市", level=DivisionLevel.CITY,
                                   parent=province)
    district = Division.objects.create(code="320506", name="吴中区",
                                       level=DivisionLevel.COUNTY, parent=city)
    for official in set(WUZHONG.values()):
        make_agency(official, "320506")
    # The city has its own health commission and education bureau: they must not win.
    make_agency("苏州市卫生健康委员会", "3205")
    make_agency("苏州市教育局", "3205")
    return district


def test_every_district_unit_of_the_wuzhong_plan_resolves(seed_dir, wuzhong):
    named = gold_units(seed_dir, "12e-wuzhong-psych")
    assert set(WUZHONG) <= named, "the table covers units the plan actually names"
    for written, official in WUZHONG.items():
        agency = agency_resolve(name=written, division=wuzhong)
        assert agency is not None, written
        assert agency.name == official, written


def test_every_city_unit_of_the_wuhan_plan_resolves_from_a_district_plan(seed_dir):
    make_divisions()
    named = gold_units(seed_dir, "12f-wuhan-psych")
    assert set(WUHAN) <= named
    for official in set(WUHAN.values()):
        make_agency(official, "4201")
    jiangan = Division.objects.get(code="420102")
    for written, official in WUHAN.items():
        agency = agency_resolve(name=written, division=jiangan)
        assert agency is not None and agency.name == official, written


def test_county_health_bureau_is_not_the_city_health_commission(seed_dir):
    make_divisions()
    assert "县卫生健康局" in gold_units(seed_dir, "05-luxian-hospice")
    city_commission = make_agency("泸州市卫生健康委员会", "5105")
    luxian = Division.objects.get(code="510521")
    assert agency_resolve(name="县卫生健康局", division=luxian) is None
    assert agency_resolve(name="市卫生健康委", division=luxian) == city_commission
    county_bureau = make_agency("泸县卫生健康局", "510521")
    assert agency_resolve(name="县卫生健康局", division=luxian) == county_bureau


def test_nearest_division_wins_when_the_plan_gives_no_level_word():
    make_divisions()
    make_agency("泸州市民政局", "5105")
    county = make_agency("泸县民政局", "510521")
    assert agency_resolve(name="民政局", division=Division.objects.get(code="510521")) == county


def test_abbreviation_resolves_the_full_name_registered_without_place():
    make_divisions()
    health = make_agency("区卫生健康委员会", "420102")
    make_agency("区教育局", "420102")
    assert agency_resolve(name="区卫健委", division=Division.objects.get(code="420102")) == health


def test_candidates_are_sorted_and_scored_between_zero_and_one():
    make_divisions()
    health = make_agency("泸县卫生健康局", "510521")
    make_agency("泸县民政局", "510521")
    make_agency("泸州市卫生健康委员会", "5105")
    found = agency_candidates(name="县卫健局", division=Division.objects.get(code="510521"))
    assert found[0][0] == health
    scores = [score for _, score in found]
    assert scores == sorted(scores, reverse=True)
    assert all(0 < s <= 1 for s in scores)


def test_alias_and_pinyin_initials_find_an_agency():
    make_divisions()
    hospital = make_agency("泸县人民医院", "510521", aliases=("县医院",))
    luxian = Division.objects.get(code="510521")
    assert agency_resolve(name="县医院", division=luxian) == hospital
    assert agency_candidates(name="lxrmyy", division=luxian)[0][0] == hospital


def test_a_typo_is_suggested_but_not_resolved():
    make_divisions()
    health = make_agency("泸县卫生健康局", "510521")
    luxian = Division.objects.get(code="510521")
    assert agency_resolve(name="县卫生建康局", division=luxian) is None
    assert agency_candidates(name="县卫生建康局", division=luxian)[0][0] == health


def test_two_agencies_with_the_same_reading_are_ambiguous():
    make_divisions()
    make_agency("泸县卫生健康局", "510521")
    make_agency("县卫生健康局", "510521", aliases=())
    assert agency_resolve(name="县卫健局", division=Division.objects.get(code="510521")) is None


def test_other_countys_agencies_are_not_candidates():
    make_divisions()
    make_agency("合江县卫生健康局", "510522")
    luxian = Division.objects.get(code="510521")
    assert agency_candidates(name="县卫生健康局", division=luxian) == []


def test_inactive_agencies_are_not_candidates():
    make_divisions()
    agency = make_agency("泸县卫生健康局", "510521")
    agency.is_active = False
    agency.save()
    assert agency_candidates(name="泸县卫生健康局", division=None) == []
