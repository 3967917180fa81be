"""The psych pack loads without problems, its rule examples hold, and the catalogue reads it."""
from pathlib import Path

from shidian.cases import definitions, engine, followups, needtoknow

PACK = Path(__file__).resolve().parent.parent


def test_the_pack_loads_without_problems_and_its_examples_hold():
    pack, problems = definitions.load_pack(PACK)
    assert not problems, [str(p) for p in problems]
    types = {t.key: t for t in pack.case_types}
    assert set(types) == {"psych_room", "psych_trainee", "psych_patient"}
    for case_type in types.values():
        assert engine.example_problems(case_type) == []
    patient = types["psych_patient"]
    assert needtoknow.is_confidential_type(patient)
    assert not needtoknow.is_confidential_type(types["psych_room"])
    schedule = followups.followup_of(patient)
    assert {k: [str(i) for i in v] for k, v in schedule.intervals.items()} == {
        "0": ["3个月"], "1": ["2周", "1个月"], "2": ["2周", "1个月"], "3": ["2周"],
        "4": ["2周"], "5": ["2周"]}
    assert patient.field("diagnosis").sensitive


def test_the_catalogue_reads_the_pack():
    from shidian.catalogue.packs import load_spec

    spec, problems = load_spec(PACK)
    assert not problems, [str(p) for p in problems]
    assert spec.key == "psych"
