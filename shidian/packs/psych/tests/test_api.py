"""The psych API (shidian.api.psych) under the pages' rules: the case team's doctor sees the
board with the missed visit (names masked), records a visit with its danger grade, reads the
record, and every read is logged on the case as the pages log it; those outside the team
(a township worker in scope, another county, a liaison) get 404 or counts only, and nothing
of theirs is logged or changed."""
import datetime as dt

import pytest
from rest_framework.test import APIClient

from shidian.cases import needtoknow
from shidian.cases import services as case_services
from shidian.cases.models import FollowUp
from shidian.packs.psych.testing import patient_values


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def patient(world):
    today = dt.date.today()
    case = case_services.case_create(user=world.grid, programme=world.patients,
                                     today=today - dt.timedelta(days=40),
                                     values=patient_values(registered_on=(
                                         today - dt.timedelta(days=40)).isoformat()))
    needtoknow.member_add(user=world.grid, case=case, member=world.doctor,
                          duty="psych_doctor", initial=True)
    return case


@pytest.mark.django_db
def test_the_doctor_sees_the_missed_visit_records_it_and_every_read_is_logged(world, patient):
    today = dt.date.today()
    doctor = api(world.doctor)
    before = len(needtoknow.access_log(patient))
    board = doctor.get("/api/psych-followups/", {"programme": world.patients.pk}).json()
    row = next(r for r in board["patients"] if r["case"] == patient.pk)
    assert row["missed"] and row["name"] == "李**" and "李建国" not in str(board)
    # The board shows each patient's grade and visits: seeing it is logged, per patient.
    seen = needtoknow.access_log(patient)
    assert len(seen) == before + 1 and seen[0].actor == world.doctor
    assert seen[0].data["what"] == "followup_board"

    logged = len(needtoknow.access_log(patient))
    record = doctor.get(f"/api/psych-patients/{patient.pk}/")
    assert record.status_code == 200
    body = record.json()
    assert body["name"] == "李**" and body["guardian_name"] == "李**"
    assert body["guardian_phone"] == "139****2222" and body["diagnosis"] == "精神分裂症"
    assert "李建国" not in record.content.decode() and "13900002222" not in record.content.decode()
    assert len(needtoknow.access_log(patient)) == logged + 1
    assert needtoknow.access_log(patient)[0].actor == world.doctor

    made = doctor.post(f"/api/psych-patients/{patient.pk}/visits/", {
        "visited_on": today.isoformat(), "values": {
            "risk_grade": "4", "medication": "regular", "guidance": "1",
            "visit_mode": "home", "note": "情绪激动"}}, format="json")
    assert made.status_code == 201 and made.json()["next_due_on"]
    assert FollowUp.objects.filter(case=patient, done_on=today).exists()
    visits = doctor.get(f"/api/psych-patients/{patient.pk}/visits/").json()
    done = next(v for v in visits if v["done_on"] == today.isoformat())
    assert str(done["risk_grade"]) == "4"
    assert len(needtoknow.access_log(patient)) > logged + 1  # each read logged

    # Bad input: the visit in the future is refused, nothing recorded.
    bad = doctor.post(f"/api/psych-patients/{patient.pk}/visits/", {
        "visited_on": (today + dt.timedelta(days=3)).isoformat(),
        "values": {"risk_grade": "1"}}, format="json")
    assert bad.status_code == 400 and bad.json()["message"]
    assert FollowUp.objects.filter(case=patient, done_on__isnull=False).count() == 1


@pytest.mark.django_db
def test_one_request_logs_one_view_of_the_patient(world, patient, client):
    """Recording a visit opens the patient at the API's gate and again in the service: the
    access log (the case's timeline and the audit log) counts one view per request. Outside
    a request every opening is logged."""
    from auditlog.models import LogEntry
    from django.urls import reverse

    from shidian.cases import access

    def rows():
        return (len(needtoknow.access_log(patient)),
                LogEntry.objects.get_for_object(patient).filter(
                    action=LogEntry.Action.ACCESS).count())

    today = dt.date.today()
    visit = {"risk_grade": "1", "medication": "regular", "guidance": "1",
             "visit_mode": "home"}
    before = rows()
    made = api(world.doctor).post(f"/api/psych-patients/{patient.pk}/visits/",
                                  {"visited_on": today.isoformat(), "values": visit},
                                  format="json")
    assert made.status_code == 201
    assert rows() == (before[0] + 1, before[1] + 1)
    assert needtoknow.access_log(patient)[0].actor == world.doctor
    # The page does the same: one visit recorded, one view logged.
    client.force_login(world.doctor)
    before, done = rows(), FollowUp.objects.filter(case=patient, done_on__isnull=False).count()
    client.post(reverse("psych:visit", args=[patient.pk]),
                {"visited_on": today.isoformat(), **visit, "note": "再次随访"})
    assert FollowUp.objects.filter(case=patient, done_on__isnull=False).count() == done + 1
    assert rows() == (before[0] + 1, before[1] + 1)
    # Two requests are two views; two openings outside a request, two as well.
    before = rows()
    api(world.doctor).get(f"/api/psych-patients/{patient.pk}/")
    api(world.doctor).get(f"/api/psych-patients/{patient.pk}/visits/")
    for _ in range(2):
        access.access_case_by_id(user=world.doctor, case_id=patient.pk)
    assert rows() == (before[0] + 4, before[1] + 4)


@pytest.mark.django_db
def test_outsiders_get_404_or_counts_and_nothing_is_logged_or_changed(world, patient):
    today = dt.date.today()
    logged = len(needtoknow.access_log(patient))
    visits = FollowUp.objects.filter(case=patient).count()
    for user in (world.township, world.other_village, world.neighbour, world.liaison,
                 world.police):
        client = api(user)
        for url in (f"/api/psych-patients/{patient.pk}/",
                    f"/api/psych-patients/{patient.pk}/visits/"):
            response = client.get(url)
            assert response.status_code == 404, (user.username, url)
            assert "李" not in response.content.decode()
        assert client.post(f"/api/psych-patients/{patient.pk}/visits/", {
            "visited_on": today.isoformat(), "values": {"risk_grade": "0"}},
            format="json").status_code == 404
        board = client.get("/api/psych-followups/", {"programme": world.patients.pk})
        assert board.status_code == 404 or patient.pk not in [
            r["case"] for r in board.json()["patients"]], user.username
        if board.status_code == 200:
            assert "李" not in str(board.json()["patients"])
    assert len(needtoknow.access_log(patient)) == logged
    assert FollowUp.objects.filter(case=patient).count() == visits
    # The office in scope sees numbers, no names.
    counts = api(world.office).get("/api/psych-followups/",
                                   {"programme": world.patients.pk}).json()
    assert counts["patients"] == [] and counts["counts"]
    # A programme of another kind is not found here.
    assert api(world.office).get("/api/psych-followups/", {
        "programme": world.rooms.pk}).status_code == 404


@pytest.mark.django_db
def test_the_follow_up_board_page_logs_each_patient_seen(client, world, patient):
    client.force_login(world.doctor)
    before = len(needtoknow.access_log(patient))
    page = client.get(f"/psych/p/{world.patients.pk}/followups/")
    assert page.status_code == 200 and "李**" in page.content.decode()
    seen = needtoknow.access_log(patient)
    assert len(seen) == before + 1 and seen[0].data["what"] == "followup_board"
