"""Reading pack.yaml's catalogue sections: a broken pack fails `shidian check` with stable ids."""
from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

from shidian.catalogue import packs
from shidian.catalogue.checks import check_pack_specs
from shidian.cases.definitions import PACKS_DIR, pack_dirs

HOUSING = PACKS_DIR / "housing"
GOVERNANCE = PACKS_DIR / "governance"


def _copy(tmp_path: Path, source: Path, change) -> Path:
    target = tmp_path / source.name
    shutil.copytree(source, target)
    meta = yaml.safe_load((target / "pack.yaml").read_text(encoding="utf-8"))
    change(meta)
    (target / "pack.yaml").write_text(yaml.safe_dump(meta, allow_unicode=True),
                                      encoding="utf-8")
    return target


def _ids(path: Path) -> set[tuple[str, str]]:
    _spec, problems = packs.load_spec(path)
    return {(p.id, p.where) for p in problems}


def test_the_shipped_packs_have_no_catalogue_errors():
    for path in pack_dirs():
        _spec, problems = packs.load_spec(path)
        assert not [p for p in problems if p.id.startswith("catalogue.E")], path.name


def test_an_unknown_key_is_reported_at_the_top_and_inside_a_section(tmp_path):
    def change(meta):
        meta["descripton"] = {"zh": "拼错"}
        meta["oversight"]["min_onsite_inspection"] = 2
    path = _copy(tmp_path, GOVERNANCE, change)
    assert {("catalogue.E001", "pack.yaml"), ("catalogue.E001", "oversight")} <= _ids(path)


def test_references_dates_and_duplicates_are_checked(tmp_path):
    def change(meta):
        meta["milestones"][0]["indicator"] = "no_such_indicator"
        meta["milestones"][0]["series"][1]["by"] = "2015年12月"
        meta["reporting"][1]["key"] = "monthly_8x"
        meta["plans"][0]["seed"] = "99-missing"
    path = _copy(tmp_path, GOVERNANCE, change)
    found = _ids(path)
    assert ("catalogue.E004", "milestones[0]") in found
    assert ("catalogue.E003", "milestones[0].series[1].by") in found
    assert ("catalogue.E006", "reporting[1]") in found
    assert ("catalogue.E004", "plans[0]") in found


def test_a_formula_and_a_feed_condition_are_parsed(tmp_path):
    path = _copy(tmp_path, HOUSING, lambda meta: None)
    text = (path / "indicators.yaml").read_text(encoding="utf-8")
    text = text.replace('numerator: "#{hs_started}"', 'numerator: "#{hs_started} +"')
    text = text.replace("appraisal_grade == 'D'", "grade_of_house == 'D'")
    (path / "indicators.yaml").write_text(text, encoding="utf-8")
    found = _ids(path)
    assert ("catalogue.E005", "indicators.indicators[0].numerator") in found
    assert ("catalogue.E004", "indicators.feeds[5]") in found


def test_a_pack_without_catalogue_sections_only_warns(tmp_path, settings):
    def change(meta):
        for key in ("description", "adds", "plans", "indicators", "reporting", "oversight",
                    "case_programmes"):
            meta.pop(key, None)
    path = _copy(tmp_path, HOUSING, change)
    settings.SHIDIAN_PACK_DIRS = [str(path.parent / "housing")]
    messages = [m for m in check_pack_specs() if str(path) in m.obj]
    assert messages and {m.id for m in messages} == {"catalogue.W001"}
    assert all(m.level < 40 for m in messages)  # warnings, not errors


@pytest.mark.django_db
def test_shidian_packs_prints_each_pack_id_then_its_chinese_name():
    out = io.StringIO()
    call_command("packs", stdout=out, stderr=io.StringIO())
    lines = out.getvalue().splitlines()
    names = {}
    for path in pack_dirs():
        meta = yaml.safe_load((path / "pack.yaml").read_text(encoding="utf-8"))
        label = meta["label"]
        names[meta.get("key") or path.name] = label["zh"] if isinstance(label, dict) else label
    assert lines == [f"{key} {names[key]}" for key in sorted(names)]
    assert "medcommunity 县域医共体建设" in lines
    assert "governance 市域社会治理与基层治理试点" in lines
