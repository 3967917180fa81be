"""`shidian load_divisions` loads the code table by levels, for one province, idempotently.

The tests load one small province (海南省, 46) from the real data files; never all villages.
"""
from __future__ import annotations

import csv
import gzip
import shutil
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from shidian.orgs.divisions import DATA_DIR, FILES, read_level
from shidian.orgs.models import Division, DivisionLevel
from shidian.orgs.services import divisions_load

pytestmark = pytest.mark.django_db
HAINAN = "46"


def file_rows(level: int, province: str = HAINAN) -> dict[str, tuple[str, str | None]]:
    """The rows of the data file itself, read with the csv module, for comparison."""
    name, parent_column = FILES[level]
    opener = gzip.open if name.endswith(".gz") else open
    with opener(DATA_DIR / name, "rt", encoding="utf-8", newline="") as handle:
        return {row["code"]: (row["name"], row[parent_column] if parent_column else None)
                for row in csv.DictReader(handle) if row["code"].startswith(province)}


def test_one_province_loads_down_to_villages_with_parents():
    result = divisions_load(province=HAINAN)
    for level in range(1, 6):
        expected = file_rows(level)
        loaded = {d.code: (d.name, d.parent_id) for d in Division.objects.filter(level=level)}
        assert loaded == expected, f"level {level}"
        assert result.by_level[level] == len(expected)
    assert result.created == Division.objects.count()
    village = Division.objects.filter(level=DivisionLevel.VILLAGE).first()
    assert village.parent.level == DivisionLevel.TOWNSHIP
    assert village.code.startswith(village.parent.code)
    assert Division.objects.get(code=HAINAN).name == "海南省"


def test_a_second_run_changes_nothing_and_duplicates_nothing():
    first = divisions_load(province=HAINAN, levels=4)
    second = divisions_load(province=HAINAN, levels=4)
    assert (second.created, second.updated, second.unchanged) == (0, 0, first.created)
    assert Division.objects.count() == first.created


def test_levels_limit_the_depth():
    divisions_load(province=HAINAN, levels=2)
    assert set(Division.objects.values_list("level", flat=True)) == {1, 2}


def test_a_new_edition_renames_and_adds_missing_rows(tmp_path):
    for level in range(1, 4):
        shutil.copy(DATA_DIR / FILES[level][0], tmp_path / FILES[level][0])
    divisions_load(province=HAINAN, levels=3, data_dir=tmp_path)
    some_county = next(iter(file_rows(3)))
    Division.objects.filter(code=some_county).delete()
    areas = (tmp_path / "areas.csv").read_text(encoding="utf-8")
    renamed = next(r for r in read_level(3, province=HAINAN) if r.code != some_county)
    areas = areas.replace(f'{renamed.code},"{renamed.name}"', f'{renamed.code},"新名字区"')
    (tmp_path / "areas.csv").write_text(areas, encoding="utf-8")
    result = divisions_load(province=HAINAN, levels=3, data_dir=tmp_path)
    assert (result.created, result.updated) == (1, 1)
    assert Division.objects.get(code=renamed.code).name == "新名字区"
    assert Division.objects.filter(code=some_county).exists()


def test_a_broken_file_leaves_the_table_as_it_was(tmp_path):
    for level in range(1, 4):
        shutil.copy(DATA_DIR / FILES[level][0], tmp_path / FILES[level][0])
    divisions_load(province=HAINAN, levels=2, data_dir=tmp_path)
    before = Division.objects.count()
    (tmp_path / "areas.csv").write_text("code,name,cityCode\n46xx,\"坏\",4601\n",
                                        encoding="utf-8")
    with pytest.raises(Exception) as caught:
        divisions_load(province=HAINAN, levels=3, data_dir=tmp_path)
    assert getattr(caught.value, "code", None) == "bad_file"
    assert Division.objects.count() == before


def test_the_command_reports_what_it_did():
    out = StringIO()
    call_command("load_divisions", "--levels", "3", "--province", HAINAN, stdout=out)
    assert f"{len(file_rows(1)) + len(file_rows(2)) + len(file_rows(3))} added" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("load_divisions", "--province", "99")
    with pytest.raises(CommandError):
        call_command("load_divisions", "--levels", "6")
