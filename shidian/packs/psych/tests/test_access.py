"""The strictest access rules: a patient is seen by the case team and the responsible
doctor's institution only; offices see counts; every opening is logged; the audit
administrator reads the log without the record."""
import datetime as dt

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType

from shidian.cases import access, needtoknow
from shidian.cases import services as case_services
from shidian.cases.models import Case, CaseEvent, EventKind, FollowUp
from shidian.core.errors import ShidianError
from shidian.packs.psych import selectors



def _views(case):
    return CaseEvent.objects.filter(case=case, kind=EventKind.VIEWED).count()


def _access_entries(case):
    return LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(Case),
                                   object_pk=str(case.pk), action=LogEntry.Action.ACCESS)


def _outsiders(world):
    return {"office": world.office, "liaison": world.liaison, "admin": world.admin,
            "other village": world.other_village, "township clerk": world.township,
            "police not on the team": world.police, "neighbour county": world.neighbour}


@pytest.mark.django_db
def test_outsiders_cannot_open_the_patient_and_nothing_is_logged_for_them(world, patient):
    before = (_views(patient), Case.objects.get(pk=patient.pk).updated_at)
    for who, user in _outsiders(world).items():
        assert not access.cases_visible_to(user=user).filter(pk=patient.pk).exists(), who
        with pytest.raises(ShidianError) as err:
            access.access_case_by_id(user=user, case_id=patient.pk)
        assert err.value.extra["reason"] == "not_found", who
    assert (_views(patient), Case.objects.get(pk=patient.pk).updated_at) == before


@pytest.mark.django_db
def test_the_team_and_the_doctors_institution_see_the_patient(world, patient):
    for user in (world.grid, world.doctor, world.colleague):
        assert access.access_case_by_id(user=user, case_id=patient.pk) == patient
    needtoknow.member_add(user=world.doctor, case=patient, member=world.police, duty="police")
    assert access.access_case_by_id(user=world.police, case_id=patient.pk) == patient
    member = patient.members.get(user=world.police, removed_at__isnull=True)
    needtoknow.member_remove(user=world.doctor, case=patient, member_id=member.pk)
    with pytest.raises(ShidianError):
        access.access_case_by_id(user=world.police, case_id=patient.pk)


@pytest.mark.django_db
def test_every_view_leaves_a_timeline_entry_and_an_audit_access_entry(world, patient):
    assert _views(patient) == 0
    for n, user in enumerate((world.grid, world.doctor, world.colleague, world.doctor), 1):
        access.access_case_by_id(user=user, case_id=patient.pk)
        assert _views(patient) == n
        assert _access_entries(patient).count() == n
    actors = list(CaseEvent.objects.filter(case=patient, kind=EventKind.VIEWED)
                  .order_by("id").values_list("actor__username", flat=True))
    assert actors == ["wangge", "jingfang", "jingfang2", "jingfang"]
    # The auditor reads the log, newest first, without being able to open the record.
    case = needtoknow.access_case_for_audit(user=world.admin, case_id=patient.pk)
    assert [e.actor.username for e in needtoknow.access_log(case)][0] == "jingfang"
    for user in (world.office, world.doctor, world.liaison):
        with pytest.raises(ShidianError):
            needtoknow.access_case_for_audit(user=user, case_id=patient.pk)


@pytest.mark.django_db
def test_health_data_is_encrypted_at_rest_and_masked(world, patient):
    stored = Case.objects.get(pk=patient.pk)
    assert stored.data["diagnosis"] != "schizophrenia"
    assert "schizophrenia" not in stored.pii
    assert stored.subject_id_masked.count("*") >= 8
    visit = FollowUp.objects.get(case=patient)
    assert visit.data == ""  # nothing recorded yet; findings are encrypted once recorded


@pytest.mark.django_db
def test_the_county_office_sees_counts_not_names(world, patient):
    rows = selectors.counts(user=world.office, programme=world.patients,
                            today=dt.date(2020, 6, 20))
    assert rows == [{"division": "510521100", "patients": 1, "missed": 1,
                     "name": "玉蟾街道"}]
    assert selectors.followup_board(user=world.office, programme=world.patients,
                                    today=dt.date(2020, 6, 20)) == []
    assert selectors.counts(user=world.liaison, programme=world.patients,
                            today=dt.date(2020, 6, 20)) == []


def _login(client, user):
    client.force_login(user)


@pytest.mark.django_db
def test_pages_and_api_answer_404_to_outsiders_and_log_each_view_by_the_team(world, patient,
                                                                              client):
    urls = [f"/psych/patients/{patient.pk}/", f"/cases/{patient.pk}/",
            f"/cases/{patient.pk}/archive/", f"/api/cases/{patient.pk}/",
            f"/api/cases/{patient.pk}/timeline/", f"/psych/patients/{patient.pk}/access-log/"]
    views = _views(patient)
    for who, user in _outsiders(world).items():
        _login(client, user)
        for url in urls:
            if who == "admin" and url.endswith("access-log/"):
                continue
            assert client.get(url).status_code in (403, 404), (who, url)
        assert client.post(f"/psych/patients/{patient.pk}/visits/", {
            "visited_on": "2020-06-17", "risk_grade": "0",
            "medication": "regular"}).status_code == 404, who
        assert client.post(f"/psych/patients/{patient.pk}/team/", {
            "username": user.username, "duty": "police"}).status_code == 404, who
    assert _views(patient) == views
    assert not FollowUp.objects.filter(case=patient, done_on__isnull=False).exists()
    assert patient.members.filter(removed_at__isnull=True).count() == 2

    _login(client, world.admin)
    page = client.get(f"/psych/patients/{patient.pk}/access-log/")
    assert page.status_code == 200 and "李建国" not in page.content.decode()

    _login(client, world.doctor)
    for n, url in enumerate([f"/psych/patients/{patient.pk}/", f"/api/cases/{patient.pk}/"], 1):
        response = client.get(url)
        assert response.status_code == 200, url
        assert _views(patient) == views + n
    assert "李建国" in client.get(f"/psych/patients/{patient.pk}/").content.decode()


@pytest.mark.django_db
def test_another_countys_office_liaison_and_admin_get_404_on_every_psych_route(world, patient,
                                                                               client):
    from shidian.cases.testing import make_worker
    from shidian.orgs.models import Role

    trainee = case_services.case_create(user=world.township, programme=world.trainees,
                                        values={"trainee_name": "张丽", "village": "510521100001",
                                                "category": "medical"})
    outsiders = [make_worker(f"other-{role}", role=role, division_code="510522")
                 for role in (Role.OFFICE, Role.LIAISON, Role.ADMIN)] + [world.liaison]
    gets = [f"/psych/p/{world.patients.pk}/followups/", f"/psych/p/{world.rooms.pk}/rooms/",
            f"/psych/p/{world.trainees.pk}/training/", f"/psych/patients/{patient.pk}/",
            f"/psych/patients/{patient.pk}/access-log/",
            f"/psych/trainees/{trainee.pk}/certificate.docx"]
    posts = [(f"/psych/p/{world.rooms.pk}/rooms/", {}),
             (f"/psych/patients/{patient.pk}/visits/", {"visited_on": "2020-06-17",
                                                        "risk_grade": "0",
                                                        "medication": "regular"}),
             (f"/psych/patients/{patient.pk}/team/", {"username": "gebi", "duty": "police"}),
             (f"/psych/patients/{patient.pk}/team/1/remove/", {})]
    cases_before = Case.objects.count()
    events_before = CaseEvent.objects.count()
    for user in outsiders:
        client.force_login(user)
        for url in gets:
            assert client.get(url).status_code in (403, 404), (user.username, url)
        for url, data in posts:
            assert client.post(url, data).status_code in (403, 404), (user.username, url)
    assert Case.objects.count() == cases_before
    assert CaseEvent.objects.count() == events_before
    assert not FollowUp.objects.filter(done_on__isnull=False).exists()
