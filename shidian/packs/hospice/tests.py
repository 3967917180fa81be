"""The hospice pack's scenarios, run as tests: pilot institutions confirmed and serving, a
patient admitted by the county ward and referred to the community centre, which accepts and
alone sees the patient afterwards; health data encrypted, masked and each full view logged;
the counts the plan targets (teams, institutions, beds) taken from the serving sites."""
from pathlib import Path

import pytest
import yaml

from shidian.cases import definitions, transfers
from shidian.cases.relation_scenarios import run_relation_scenario

PACK = Path(__file__).resolve().parent


def _scenarios():
    out = []
    for path in sorted((PACK / "scenarios").glob("*.yaml")):
        for scenario in yaml.safe_load(path.read_text(encoding="utf-8"))["scenarios"]:
            out.append(pytest.param(scenario, id=scenario["name"]))
    return out


@pytest.fixture(scope="module")
def pack():
    pack, problems = definitions.load_pack(PACK)
    assert not problems, [str(p) for p in problems]
    return {t.key: t for t in pack.case_types}


def test_patients_are_owned_by_institutions_and_referred_to_serving_sites(pack):
    ownership = transfers.ownership_def(pack["hospice_patient"])
    assert (ownership.site_type, ownership.site_stage) == ("hospice_site", "serving")
    assert {f.key for f in pack["hospice_patient"].fields if f.sensitive} == {
        "diagnosis", "symptoms", "care_notes"}


def test_every_transition_is_exercised_by_a_scenario(pack):
    used = {step["do"]["transition"] for param in _scenarios()
            for step in (param.values[0].get("setup") or []) + param.values[0]["steps"]
            if "do" in step}
    wanted = {t.key for t in pack["hospice_patient"].transitions} | {
        "confirm", "start_service"}
    assert wanted - {"discharge"} <= used


@pytest.mark.django_db
@pytest.mark.parametrize("scenario", _scenarios())
def test_scenario(pack, scenario):
    run_relation_scenario(pack["hospice_patient"], scenario)


@pytest.mark.django_db
def test_the_referral_is_on_the_timeline_and_in_the_audit_log(pack):
    from auditlog.models import LogEntry

    from shidian.cases.models import EventKind

    scenario = _scenarios()[0].values[0]
    run = run_relation_scenario(pack["hospice_patient"], scenario)
    case = run.cases["a"]
    events = list(case.events.filter(kind=EventKind.TRANSFER).values_list("data", flat=True))
    assert [e["status"] for e in events] == ["pending", "accepted"]
    assert events[1]["from"] == run.agencies["county_hospital"].pk
    assert events[1]["to"] == run.agencies["community"].pk
    changes = [entry.changes_dict for entry in LogEntry.objects.get_for_object(case)
               if "agency" in (entry.changes_dict or {})]
    moved = [str(run.agencies["county_hospital"].pk), str(run.agencies["community"].pk)]
    assert moved in [c["agency"] for c in changes]


@pytest.mark.django_db
def test_the_catalogue_feeds_count_the_serving_sites_against_seed_05s_targets(pack):
    """到2021年底…培育成功安宁疗护团队2个，提供安宁疗护服务县级医疗机构1个，镇（中心）卫生院及养老
    机构2个: two serving sites count one county institution, one grassroots one and two teams."""
    import datetime as dt

    from shidian.catalogue.selectors import pack_get
    from shidian.catalogue.registry import case_counts

    scenario = _scenarios()[0].values[0]
    run = run_relation_scenario(pack["hospice_patient"], {**scenario, "steps": []})
    spec = pack_get(key="hospice")
    programme = run.programme("hospice_site")
    figures = {}
    for feed in spec.feeds:
        if feed.case_type != "hospice_site":
            continue
        counts = case_counts(programme=programme, feed=feed, level=3,
                             as_of=dt.date.today())  # the timeline is dated now
        figures[feed.element] = counts.get("510521", 0)
    assert figures == {"hsp_teams": 2, "hsp_county_institutions": 1,
                       "hsp_grassroots_institutions": 1, "hsp_institutions": 2, "hsp_beds": 8}


def test_seed_03s_phases_come_with_its_starting_plan_as_plan_phases():
    """确定试点 → 专题培训 → 试点实践 → 阶段总结 → 完善提升 are plan phases (shidian.plans), read
    from the starting plan by the parser, with their months."""
    from shidian.planparse import parse_text

    seed = PACK.parents[1] / "demo" / "seed_plans" / "03-gansu-hospice.txt"
    phases = parse_text(seed.read_text(encoding="utf-8")).phases
    assert [(p.name, p.start, p.end) for p in phases] == [
        ("确定试点", "2019-08", "2019-08"), ("专题培训", "2019-08", "2019-10"),
        ("试点实践", "2019-10", "2020-10"), ("阶段总结", "2020-10", "2020-12"),
        ("完善提升", "2020-10", "2021-12")]
