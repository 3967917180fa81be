"""The apprenticeship pack's scenarios, run as tests: the guardian rule (a four-party agreement
for apprentices aged 16–17), the mentor limit, the alternating schedule with attendance, the
dual assessment, and the annual self-inspection report built from the data."""
import datetime as dt
import io
from pathlib import Path

import pytest
import yaml

from shidian.cases import definitions, funds, parties
from shidian.cases.relation_scenarios import run_relation_scenario

PACK = Path(__file__).resolve().parent


def _scenarios():
    out = []
    for path in sorted((PACK / "scenarios").glob("*.yaml")):
        for scenario in yaml.safe_load(path.read_text(encoding="utf-8"))["scenarios"]:
            out.append(pytest.param(scenario, id=scenario["name"]))
    return out


@pytest.fixture(scope="module")
def apprentice():
    pack, problems = definitions.load_pack(PACK)
    assert not problems, [str(p) for p in problems]
    return pack.case_types[0]


def test_the_pack_loads_and_names_the_guardian_rule_and_the_mentor_limit(apprentice):
    agreement = parties.agreement_defs(apprentice)["training"]
    assert agreement.parties == ("subject", "school", "enterprise")
    assert [c.party for c in agreement.also] == ["guardian"]
    assert parties.party_roles(apprentice)["mentor"].limit == 3


def test_every_transition_is_exercised_by_a_scenario(apprentice):
    used = {step["do"]["transition"] for param in _scenarios()
            for step in param.values[0]["steps"] if "do" in step}
    assert {t.key for t in apprentice.transitions} - {"retrain"} <= used


@pytest.mark.django_db
@pytest.mark.parametrize("scenario", _scenarios())
def test_scenario(apprentice, scenario):
    run_relation_scenario(apprentice, scenario)


@pytest.mark.django_db
def test_the_self_inspection_report_has_seed_04s_parts_and_its_funds_table(apprentice):
    from docx import Document

    from shidian.cases.testing import ensure_catalogs

    ensure_catalogs()

    scenario = next(p.values[0] for p in _scenarios() if p.values[0]["name"].startswith("a 16"))
    run = run_relation_scenario(apprentice, scenario)
    clerk = run.users["clerk"]
    # Seed 04 四/2: 聘任专业教师支出3.5万元, 实习带队教师1800元, 实习指导教师3200元, 实习学生补助700元.
    for category, amount in [("teachers", "35000"), ("escort", "1800"),
                             ("instructors", "3200"), ("allowance", "700")]:
        funds.fund_record(user=clerk, programme=run.programme(), division_code="510521",
                          direction="spent", category=category, amount=amount,
                          on=dt.date(2016, 12, 1))
    funds.fund_record(user=clerk, programme=run.programme(), division_code="510521",
                      direction="received", category="special_fund", amount="50000",
                      on=dt.date(2016, 9, 1))
    content = funds.report_docx(programme=run.programme(), division="510521", year=2016,
                                texts={"measures": "加大宣传力度\n通过招教、聘任解决专业教师紧缺"},
                                signature="乾县职业教育中心", dated=dt.date(2017, 5, 31))
    document = Document(io.BytesIO(content))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "2016现代学徒制试点工作自检报告" in text
    for heading in ["一、总体情况", "二、目标和任务完成情况", "三、主要建设成效（重点任务完成情况）",
                    "四、资金到位和执行情况", "五、存在主要问题", "六、改进措施和计划"]:
        assert heading in text
    assert "加大宣传力度" in text and "通过招教、聘任解决专业教师紧缺" in text
    # Without a plan linked, the plan's parts say so; the results count the cases.
    assert "本项目未关联实施方案" in text
    assert "在培0名，结业1名" in text
    # The agreement of the 16-year-old counts as a four-party one.
    assert "4方" in text
    table = document.tables[0]
    rows = {row.cells[0].text: [c.text for c in row.cells[1:]] for row in table.rows}
    assert rows["聘任专业教师支出"] == ["0.00", "35,000.00"]
    assert rows["上级专项资金"] == ["50,000.00", "0.00"]
    assert rows["合计"] == ["50,000.00", "40,700.00"]
    assert "结余9,300.00元" in text
