"""Need-to-know case types (``team:`` with ``need_to_know: true``): the loader's checks and
the gate with a team (the behaviour with users is tested on the psych pack's patients in
shidian/packs/psych/tests/test_access.py)."""
import copy

from shidian.cases import definitions, needtoknow

from .packs import CASE_TYPE, write_pack

TEAM = {
    "need_to_know": True, "registrar": "worker",
    "duties": [{"key": "worker", "label": "网格员"},
               {"key": "doctor", "label": "医生", "responsible": True}],
    "auditors": {"roles": ["admin"]},
}


def _load(tmp_path, team):
    case_type = copy.deepcopy(CASE_TYPE)
    case_type["team"] = team
    return definitions.load_pack(write_pack(tmp_path / "p", case_type=case_type))


def test_a_need_to_know_team_loads(tmp_path):
    pack, problems = _load(tmp_path, TEAM)
    assert problems == []
    team = needtoknow.team_def(pack.case_types[0])
    assert needtoknow.is_confidential_type(pack.case_types[0])
    assert team.duty("doctor").responsible and team.registrar == "worker"


def test_a_need_to_know_team_names_who_is_responsible_and_who_registers(tmp_path):
    team = copy.deepcopy(TEAM)
    team["duties"][1]["responsible"] = False
    del team["registrar"]
    _, problems = _load(tmp_path, team)
    text = " ".join(str(p) for p in problems)
    assert {p.id for p in problems} == {"packs.E006"}
    assert "responsible duty" in text and "registrar" in text
    team = copy.deepcopy(TEAM)
    team["registrar"] = "nobody"
    team["duties"].append({"key": "worker"})
    _, problems = _load(tmp_path / "again", team)
    text = " ".join(str(p) for p in problems)
    assert "unknown duty 'nobody'" in text and "duty 'worker' defined twice" in text


def test_a_plain_team_is_not_need_to_know(tmp_path):
    team = {"duties": [{"key": "worker"}]}
    pack, problems = _load(tmp_path, team)
    assert problems == [] and not needtoknow.is_confidential_type(pack.case_types[0])
