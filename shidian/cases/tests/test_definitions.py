"""A broken pack fails the start-up checks with a stable id, never a page at run time."""
import copy

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from shidian.cases import checks, definitions

from .packs import CASE_TYPE, TABLE, write_pack


def problem_ids(path):
    _, problems = definitions.load_pack(path)
    return sorted({p.id for p in problems}), problems


def test_the_minimal_pack_is_valid(tmp_path):
    ids, problems = problem_ids(write_pack(tmp_path / "allowance"))
    assert ids == [], [str(p) for p in problems]


def test_a_guard_naming_a_rule_that_does_not_exist_is_packs_E002(tmp_path):
    case_type = copy.deepcopy(CASE_TYPE)
    case_type["transitions"][0]["guards"] = ["not_a_rule"]
    ids, _ = problem_ids(write_pack(tmp_path / "p", case_type=case_type))
    assert ids == ["packs.E002"]


def test_a_python_rule_must_be_registered_in_the_packs_rules_module(tmp_path):
    case_type = copy.deepcopy(CASE_TYPE)
    case_type["rules"]["older"] = {"function": "is_older", "message": "x"}
    ids, _ = problem_ids(write_pack(tmp_path / "p", case_type=case_type,
                                    rules_py="FUNCTIONS = {}\n"))
    assert ids == ["packs.E002"]
    registered = "FUNCTIONS = {'is_older': lambda env: env['age'] > 65}\n"
    ids, _ = problem_ids(write_pack(tmp_path / "q", case_type=case_type, rules_py=registered))
    assert ids == []


def test_unknown_stage_document_and_role_are_packs_E003(tmp_path):
    case_type = copy.deepcopy(CASE_TYPE)
    case_type["transitions"][0]["to"] = "nowhere"
    case_type["stages"][0]["documents"] = ["no_such_doc"]
    case_type["transitions"][1]["by"]["roles"] = ["mayor"]
    _, problems = problem_ids(write_pack(tmp_path / "p", case_type=case_type))
    assert [p.id for p in problems].count("packs.E003") == 3


def test_a_rule_that_does_not_parse_or_uses_unknown_fields_is_packs_E004(tmp_path):
    case_type = copy.deepcopy(CASE_TYPE)
    case_type["rules"]["elderly"]["expr"] = "age >="
    case_type["transitions"][1]["guards"] = [{"expr": "income < 1000", "message": "x"}]
    _, problems = problem_ids(write_pack(tmp_path / "p", case_type=case_type))
    assert [p.id for p in problems].count("packs.E004") == 2


def test_a_shipped_example_that_does_not_hold_is_packs_E005(tmp_path):
    table = copy.deepcopy(TABLE)
    table["examples"] = [{"given": {"age": 70}, "expect": 400}]
    ids, problems = problem_ids(write_pack(tmp_path / "p", table=table))
    assert ids == ["packs.E005"]
    assert "400" in problems[0].message and "300" in problems[0].message


def test_tranche_shares_must_add_up_and_yaml_must_parse(tmp_path):
    table = copy.deepcopy(TABLE)
    table["tranches"][0]["share"] = 0.5
    ids, _ = problem_ids(write_pack(tmp_path / "p", table=table))
    assert ids == ["packs.E006"]
    broken = write_pack(tmp_path / "q")
    (broken / "case_type.yaml").write_text("fields: [unclosed", encoding="utf-8")
    ids, _ = problem_ids(broken)
    assert ids == ["packs.E001"]


def test_manage_py_check_fails_on_a_broken_pack_and_passes_again_without_it(settings, tmp_path):
    case_type = copy.deepcopy(CASE_TYPE)
    case_type["transitions"][0]["guards"] = ["not_a_rule"]
    settings.SHIDIAN_PACK_DIRS = [str(write_pack(tmp_path / "broken", case_type=case_type))]
    messages = checks.check_packs()
    assert [m.id for m in messages] == ["packs.E002"]
    with pytest.raises(SystemCheckError, match="packs.E002"):
        call_command("check")
    settings.SHIDIAN_PACK_DIRS = []
    assert checks.check_packs() == []


def test_the_shipped_packs_load_and_give_their_case_types():
    definitions.reload_packs()
    assert "housing" in definitions.case_types()
    assert definitions.pack_problems() == ()
