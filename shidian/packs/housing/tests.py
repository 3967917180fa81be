"""The housing pack's scenarios and shipped rule examples, run as tests.

Each scenario in ``scenarios/*.yaml`` is one test: a household and what the seed plans give it
(rules scenarios), or a household carried through the procedure by the clerks of each level
(workflow scenarios). The pack's own examples (in ``case_type.yaml`` and ``tables/``) run here
too, besides running in the start-up checks.
"""
from pathlib import Path

import pytest

from shidian.cases import definitions, engine, scenarios

PACK = Path(__file__).resolve().parent
SCENARIOS = scenarios.load_scenarios(PACK)


@pytest.fixture(scope="module")
def housing():
    pack, problems = definitions.load_pack(PACK)
    assert not problems, [str(p) for p in problems]
    return pack.case_types[0]


def test_the_pack_loads_without_problems_and_its_examples_hold(housing):
    assert engine.example_problems(housing) == []
    examples = sum(len(r.examples) for r in housing.rules) + sum(
        len(t.examples) for t in housing.tables)
    assert examples >= 40


def test_every_transition_and_guard_is_exercised_by_a_workflow_scenario(housing):
    used = set()
    for _, scenario in SCENARIOS:
        for step in scenario.get("steps") or []:
            if "do" in step:
                used.add(step["do"])
    assert {t.key for t in housing.transitions} <= used


@pytest.mark.parametrize(("name", "scenario"),
                         [s for s in SCENARIOS if not scenarios.is_workflow(s[1])],
                         ids=[s[0] for s in SCENARIOS if not scenarios.is_workflow(s[1])])
def test_rules_scenario(housing, name, scenario):
    scenarios.run_rules_scenario(housing, scenario)


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "scenario"),
                         [s for s in SCENARIOS if scenarios.is_workflow(s[1])],
                         ids=[s[0] for s in SCENARIOS if scenarios.is_workflow(s[1])])
def test_workflow_scenario(housing, name, scenario):
    scenarios.run_workflow_scenario(housing, scenario)
