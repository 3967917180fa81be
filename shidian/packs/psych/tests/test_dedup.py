"""Duplicate patients: names are sealed, so duplicate search compares the keyed hash of
their pinyin, never the masks (李** is half the village's patients)."""
import datetime as dt
import importlib

from django.apps import apps

from shidian.cases import dedup
from shidian.cases import services as case_services
from shidian.cases.models import CasePerson, DuplicatePair, PairKind
from shidian.cases.testing import id_number
from shidian.packs.psych.testing import patient_values

BORN = dt.date(1975, 4, 9)


def register(world, name, born):
    return case_services.case_create(
        user=world.grid, programme=world.patients, today=dt.date(2020, 6, 3),
        values=patient_values(patient_name=name, patient_id_number=id_number(born=born),
                              registered_on="2020-06-03"))


def test_patients_with_the_same_surname_are_not_proposed_as_one_person(world):
    register(world, "李建国", BORN)
    register(world, "李建华", BORN + dt.timedelta(days=10))   # 李** too, another person
    result = dedup.dedup_run(programme=world.patients)
    assert (result.exact, result.fuzzy) == (0, 0)
    assert not DuplicatePair.objects.exists()


def test_same_sounding_patient_names_born_close_are_a_pair_shown_masked(world):
    a = register(world, "张三", BORN)
    b = register(world, "章三", BORN + dt.timedelta(days=10))
    register(world, "王五", BORN + dt.timedelta(days=5))
    result = dedup.dedup_run(programme=world.patients)
    assert (result.exact, result.fuzzy) == (0, 1)
    pair = DuplicatePair.objects.get()
    assert {pair.case_a_id, pair.case_b_id} == {a.pk, b.pk} and pair.kind == PairKind.FUZZY
    assert pair.reasons[0]["why"] == "pinyin"
    stored = repr(pair.reasons) + repr(list(CasePerson.objects.values_list(
        "name", "name_pinyin")))
    for clear in ("张三", "章三", "王五", "zhangsan", "wangwu"):
        assert clear not in stored


def test_the_migration_gives_earlier_patients_their_pinyin_hash(world):
    register(world, "张三", BORN)
    register(world, "章三", BORN + dt.timedelta(days=10))
    CasePerson.objects.update(name_pinyin="")   # as 0008 left them
    assert dedup.dedup_run(programme=world.patients).fuzzy == 0
    migration = importlib.import_module("shidian.cases.migrations.0009_sealed_name_pinyin")
    migration.fill(apps, None)
    migration.fill(apps, None)   # safe twice
    assert dedup.dedup_run(programme=world.patients).fuzzy == 1
