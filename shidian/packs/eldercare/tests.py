"""The medical-elderly care pack (seed 01): institutions by form and a resident referred from
the care home to the hospital and back, each receiver accepting, health data kept sensitive."""
from pathlib import Path

import pytest
import yaml

from shidian.cases import definitions
from shidian.cases.relation_scenarios import run_relation_scenario

PACK = Path(__file__).resolve().parent


def _scenarios():
    return [pytest.param(s, id=s["name"]) for path in sorted((PACK / "scenarios").glob("*.yaml"))
            for s in yaml.safe_load(path.read_text(encoding="utf-8"))["scenarios"]]


@pytest.fixture(scope="module")
def pack():
    pack, problems = definitions.load_pack(PACK)
    assert not problems, [str(p) for p in problems]
    return {t.key: t for t in pack.case_types}


@pytest.mark.django_db
@pytest.mark.parametrize("scenario", _scenarios())
def test_scenario(pack, scenario):
    run_relation_scenario(pack["eldercare_resident"], scenario)
