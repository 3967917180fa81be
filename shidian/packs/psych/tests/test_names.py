"""Patients' names, guardians' names and phones are health data: encrypted at rest, found by
the exact name through its keyed hash, shown as 张** on lists and in full only on the patient's
page (need-to-know, every opening logged); an outsider finds nothing."""
import importlib

import pytest
from django.apps import apps
from django.db import connection

from shidian.cases import needtoknow
from shidian.cases import services as case_services
from shidian.cases.models import Case, CaseEvent, CasePerson, EventKind
from shidian.cases.selectors import case_list
from shidian.core import crypto
from shidian.packs.psych.testing import patient_values

CLEAR = ("李建国", "李秀兰", "13900002222")


def _raw_rows(case_id):
    """Every stored column of the case and its persons, as the database holds them."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {Case._meta.db_table} WHERE id = %s", [case_id])
        rows = [cursor.fetchone()]
        cursor.execute(f"SELECT * FROM {CasePerson._meta.db_table} WHERE case_id = %s",
                       [case_id])
        rows += cursor.fetchall()
    return " ".join(str(value) for row in rows for value in row)


@pytest.mark.django_db
def test_the_database_holds_no_name_or_phone_in_clear(world, patient):
    stored = _raw_rows(patient.pk)
    for value in CLEAR:
        assert value not in stored, value
    assert "李**" in stored and "jianguo" not in stored.lower()
    assert case_services.case_secrets(patient)["patient_name"] == "李建国"
    case = Case.objects.get(pk=patient.pk)
    assert case.subject_name == "李**"
    assert case.data["guardian_name"] == case.data["guardian_phone"] == "******"


@pytest.mark.django_db
def test_search_by_the_exact_name_finds_the_patient_for_the_team_only(world, patient):
    for user in (world.grid, world.doctor, world.colleague):
        assert list(case_list(user=user, query="李建国")) == [patient]
        assert list(case_list(user=user, query=" 李 建国 ")) == [patient]
    assert list(case_list(user=world.doctor, query="李建")) == []  # exact names only
    for user in (world.office, world.township, world.police, world.neighbour, world.admin):
        assert list(case_list(user=user, query="李建国")) == [], user.username


@pytest.mark.django_db
def test_pages_mask_the_name_except_the_patients_page(world, patient, client):
    client.force_login(world.doctor)
    board = client.get(f"/psych/p/{world.patients.pk}/followups/").content.decode()
    assert "李**" in board and "李建国" not in board
    listed = client.get(f"/cases/p/{world.patients.pk}/", {"q": "李建国"}).content.decode()
    listed = listed.split("</form>")[-1]  # the results, after the search box that echoes it
    assert "李**" in listed and "李建国" not in listed
    views = CaseEvent.objects.filter(case=patient, kind=EventKind.VIEWED).count()
    page = client.get(f"/psych/patients/{patient.pk}/").content.decode()
    assert "李建国" in page and "李秀兰" in page and "13900002222" in page
    assert CaseEvent.objects.filter(case=patient, kind=EventKind.VIEWED).count() == views + 1

    for outsider in (world.office, world.neighbour, world.police):
        client.force_login(outsider)
        assert client.get(f"/psych/patients/{patient.pk}/").status_code == 404
        for url in (f"/psych/p/{world.patients.pk}/followups/",
                    f"/cases/p/{world.patients.pk}/?q=李建国"):
            response = client.get(url)
            body = response.content.decode().split("</form>")[-1]
            assert "李建国" not in body and "李**" not in body, (outsider.username, url)


@pytest.mark.django_db
def test_editing_the_guardian_keeps_the_new_values_sealed(world, patient):
    case_services.case_update(user=world.doctor, case_id=patient.pk,
                              values={"guardian_name": "王芳", "guardian_phone": "13700001111"})
    stored = _raw_rows(patient.pk)
    events = " ".join(str(e.data) for e in CaseEvent.objects.filter(case=patient))
    for value in ("王芳", "13700001111", *CLEAR):
        assert value not in stored and value not in events, value
    secrets = case_services.case_secrets(Case.objects.get(pk=patient.pk))
    assert (secrets["guardian_name"], secrets["guardian_phone"]) == ("王芳", "13700001111")


@pytest.mark.django_db
def test_the_migration_seals_rows_written_in_clear_and_is_safe_to_run_twice(world, patient):
    # A row as the earlier code wrote it: names and phone in clear, the envelope without them.
    secrets = case_services.case_secrets(patient)
    for key in ("patient_name", "guardian_name", "guardian_phone"):
        secrets.pop(key)
    Case.objects.filter(pk=patient.pk).update(
        subject_name="李建国", subject_name_hash="", pii=crypto.encrypt_json(secrets),
        data={**patient.data, "patient_name": "李建国", "guardian_name": "李秀兰",
              "guardian_phone": "13900002222"})
    CasePerson.objects.filter(case=patient).update(name="李建国", name_pinyin="li jian guo")
    assert "李建国" in _raw_rows(patient.pk)

    seal = importlib.import_module("shidian.cases.migrations.0008_seal_sensitive_text").seal
    seal(apps, None)
    once = Case.objects.get(pk=patient.pk)
    stored = _raw_rows(patient.pk)
    for value in CLEAR:
        assert value not in stored, value
    assert case_services.case_secrets(once)["patient_name"] == "李建国"
    assert list(case_list(user=world.doctor, query="李建国")) == [once]

    seal(apps, None)  # again: nothing changes, the envelope is not re-encrypted
    twice = Case.objects.get(pk=patient.pk)
    assert (twice.pii, twice.data, twice.updated_at) == (once.pii, once.data, once.updated_at)


@pytest.mark.django_db
def test_an_imported_register_is_sealed_and_found_by_name(world):
    import csv
    import io

    from shidian.cases import imports
    from shidian.cases.definitions import case_type_get

    columns = imports.import_columns(case_type_get("psych_patient"))
    values = {**patient_values(registered_on="2020-06-03"), "diagnosis": "精神分裂症",
              "consent": "是"}
    by_label = {str(f.column or f.label): values.get(f.key, "")
                for f in case_type_get("psych_patient").fields}
    by_label.update({imports.COL_NAME: values["patient_name"],
                     imports.COL_ID: values["patient_id_number"]})
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    writer.writerow([by_label.get(c, "") for c in columns])
    batch = imports.import_upload(user=world.grid, programme=world.patients, name="登记表.csv",
                                  content=out.getvalue().encode("utf-8-sig"))
    batch = imports.import_validate(user=world.grid, batch_id=batch.pk)
    assert not batch.row_errors.exists(), list(batch.row_errors.values_list("column", "message"))
    batch = imports.import_run(user=world.grid, batch_id=batch.pk, mode="all")
    assert batch.imported == 1
    case = Case.objects.get(programme=world.patients)
    stored = _raw_rows(case.pk)
    for value in CLEAR:
        assert value not in stored, value
    needtoknow.member_add(user=world.grid, case=case, member=world.doctor,
                          duty="psych_doctor", initial=True)
    assert list(case_list(user=world.doctor, query="李建国")) == [case]
    assert list(case_list(user=world.neighbour, query="李建国")) == []
