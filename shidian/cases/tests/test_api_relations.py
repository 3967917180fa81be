"""The relations API (shidian.api.careflows) does what the careflows pages do, with the same
services and the same gate: seed 04's apprentice signed for by the guardian, scheduled,
attended and assessed over the API; the mentors with their load; a hospice referral sent,
found in the receiving institution's inbox and accepted; people's names masked; outsiders get
404 and change nothing."""
from pathlib import Path

import pytest
import yaml
from rest_framework.test import APIClient

from shidian.cases import definitions
from shidian.cases.relation_models import (
    Agreement,
    Assessment,
    Attendance,
    CaseParty,
    CaseTransfer,
    Party,
    SchedulePeriod,
)
from shidian.cases.relation_scenarios import run_relation_scenario
from shidian.cases.testing import ensure_catalogs

pytestmark = pytest.mark.django_db
PACKS = Path(__file__).resolve().parents[2] / "packs"


@pytest.fixture(autouse=True, scope="module")
def _catalogs():
    ensure_catalogs()


def _scenario(pack, file, name_start):
    scenarios = yaml.safe_load((PACKS / pack / "scenarios" / file).read_text(encoding="utf-8"))
    return next(s for s in scenarios["scenarios"] if s["name"].startswith(name_start))


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def apprentice():
    """Seed 04's 16-year-old registered with the school, enterprise, mentor, teacher and
    guardian registered and all but the guardian assigned: the agreement is the API's to do."""
    scenario = _scenario("apprenticeship", "workflow.yaml", "a 16")
    steps = []
    for step in scenario["steps"]:
        if "sign" in step:
            break
        steps.append(step)
    return run_relation_scenario(definitions.case_type_get("apprentice"),
                                 {**scenario, "steps": steps})


@pytest.fixture
def hospice():
    scenario = _scenario("hospice", "referral.yaml", "")
    return run_relation_scenario(definitions.case_type_get("hospice_patient"),
                                 {**scenario, "steps": []})


def _state():
    return (Agreement.objects.count(), CaseParty.objects.count(), Party.objects.count(),
            SchedulePeriod.objects.count(), Attendance.objects.count(),
            Assessment.objects.count(), CaseTransfer.objects.count(),
            sorted(CaseTransfer.objects.values_list("pk", "status")))


def test_the_apprentice_is_signed_scheduled_attended_and_assessed_over_the_api(apprentice):
    case = apprentice.cases["a"]
    client = api(apprentice.users["clerk"])
    url = f"/api/case-relations/{case.pk}/"
    # 16 on the signing day: three parties are refused, nothing saved.
    refused = client.post(f"{url}agreements/", {
        "kind": "training", "signed_on": "2016-11-07",
        "signatories": ["subject", "school", "enterprise"]}, format="json")
    assert refused.status_code == 400 and "四方签订协议" in refused.json()["message"]
    assert not Agreement.objects.exists()
    guardian = apprentice.parties["zhangfu"]
    assert client.post(f"{url}assign/", {"role": "guardian", "party": guardian.pk},
                       format="json").status_code == 200
    body = client.post(f"{url}agreements/", {
        "kind": "training", "signed_on": "2016-11-07",
        "signatories": ["subject", "school", "enterprise", "guardian"]}, format="json").json()
    agreement = body["agreements"][0]
    assert agreement["signed_on"] == "2016-11-07"
    assert {s["role"] for s in agreement["signatories"]} == {"subject", "school", "enterprise",
                                                             "guardian"}
    names = {s["role"]: s["name"] for s in agreement["signatories"]}
    assert names["guardian"] == "张*" and names["school"] == "乾县职业教育中心"
    assert body["parties"]["mentor"]["name"] == "李**"  # a person: masked
    assert body["subject_name"] == "张*" and "张伟" not in str(body)
    assert "李建国" not in str(body) and "张父" not in str(body)

    body = client.post(f"{url}schedule/", {"periods": [
        {"kind": "school", "starts_on": "2016-07-09", "ends_on": "2016-11-08"},
        {"kind": "enterprise", "starts_on": "2016-11-09", "ends_on": "2016-12-09"}]},
        format="json").json()
    assert [p["kind"] for p in body["schedule"]] == ["school", "enterprise"]
    body = client.post(f"{url}attendance/", {"entries": [
        {"on": "2016-11-09", "status": "present"}, {"on": "2016-11-10", "status": "absent"}]},
        format="json").json()
    assert body["schedule"][1]["present"] == 1 and body["schedule"][1]["absent"] == 1
    assert float(body["attendance_rate"]) == 0.5
    for role, score in [("teacher", "80"), ("mentor", "90")]:
        body = client.post(f"{url}assessments/", {"kind": "term", "assessor": role,
                                                  "score": score}, format="json").json()
    assert body["assessments"][0]["missing"] == [] and body["assessments"][0]["passed"]
    # Bad input: a day outside the schedule is refused with what and where; nothing saved.
    before = Attendance.objects.count()
    bad = client.post(f"{url}attendance/", {"entries": [{"on": "2018-01-01",
                                                         "status": "present"}]}, format="json")
    assert bad.status_code == 400 and bad.json()["message"]
    assert Attendance.objects.count() == before


def test_the_mentors_are_listed_with_their_load_and_registered_masked(apprentice):
    programme = apprentice.programme()
    client = api(apprentice.users["clerk"])
    mentor = apprentice.parties["li"]
    listed = client.get("/api/case-parties/", {"programme": programme.pk, "role": "mentor"})
    assert listed.json() == [{"id": mentor.pk, "programme": programme.pk, "role": "mentor",
                              "name": "李**", "agency": None, "division": "510521",
                              "id_number": "", "phone": "", "open_cases": 1}]
    created = client.post("/api/case-parties/", {"programme": programme.pk, "role": "mentor",
                                                 "name": "赵师傅", "phone": "13800001111"},
                          format="json")
    assert created.status_code == 201
    assert created.json()["name"] == "赵**" and created.json()["phone"] == "138****1111"
    assert client.get(f"/api/case-parties/{created.json()['id']}/").json()["open_cases"] == 0


def test_outsiders_get_404_on_the_relations_api_and_nothing_changes(apprentice):
    case = apprentice.cases["a"]
    programme = apprentice.programme()
    mentor = apprentice.parties["li"]
    before = _state()
    posts = {
        "assign": {"role": "mentor", "party": mentor.pk},
        "agreements": {"kind": "training", "signed_on": "2016-11-07",
                       "signatories": ["subject", "school", "enterprise"]},
        "schedule": {"periods": [{"kind": "school", "starts_on": "2016-07-09",
                                  "ends_on": "2016-11-08"}]},
        "attendance": {"entries": [{"on": "2016-11-09", "status": "present"}]},
        "assessments": {"kind": "term", "assessor": "mentor", "score": "1"},
        "referral": {"to_agency": 1, "reason": "x"},
    }
    for name in ["neighbour", "liaison"]:
        client = api(apprentice.users[name])
        response = client.get(f"/api/case-relations/{case.pk}/")
        assert response.status_code == 404 and "张" not in response.content.decode()
        for route, data in posts.items():
            assert client.post(f"/api/case-relations/{case.pk}/{route}/", data,
                               format="json").status_code == 404, (name, route)
        assert client.get(f"/api/case-parties/{mentor.pk}/").status_code == 404
        listed = client.get("/api/case-parties/", {"programme": programme.pk})
        assert listed.status_code == 404 or listed.json() == [], name
        assert client.post("/api/case-parties/", {
            "programme": programme.pk, "role": "mentor", "name": "x",
            "division": "510521"}, format="json").status_code in (403, 404)
    assert _state() == before


def test_a_referral_is_sent_found_in_the_inbox_and_accepted_over_the_api(hospice):
    case = hospice.cases["a"]
    community = hospice.agencies["community"]
    ward = api(hospice.users["ward"])
    body = ward.post(f"/api/case-relations/{case.pk}/referral/",
                     {"to_agency": community.pk, "reason": "居家安宁疗护"}, format="json").json()
    assert body["transfers"][0]["status"] == "pending"
    record = CaseTransfer.objects.get(case=case)

    staff = api(hospice.users["community_staff"])
    inbox = staff.get("/api/referrals/").json()
    assert [r["id"] for r in inbox] == [record.pk]
    assert inbox[0]["subject_name"] == "陈**" and "陈玉兰" not in str(inbox)
    assert "肺癌" not in staff.get(f"/api/referrals/{record.pk}/").content.decode()

    before = _state()
    for name in ["hejiang_office", "hejiang_staff", "care_home_staff", "liaison", "ward"]:
        client = api(hospice.users[name])
        assert client.get(f"/api/referrals/{record.pk}/").status_code == 404, name
        assert client.post(f"/api/referrals/{record.pk}/decide/", {"decision": "accept"},
                           format="json").status_code == 404, name
        assert record.pk not in [r["id"] for r in client.get("/api/referrals/").json()]
    assert _state() == before

    decided = staff.post(f"/api/referrals/{record.pk}/decide/", {"decision": "accept"},
                         format="json")
    assert decided.status_code == 200 and decided.json()["status"] == "accepted"
    # The case is the community centre's now: the ward no longer sees it.
    assert ward.get(f"/api/case-relations/{case.pk}/").status_code == 404
    assert staff.get(f"/api/case-relations/{case.pk}/").status_code == 200


def test_the_openapi_schema_lists_the_relations_endpoints(apprentice):
    text = api(apprentice.users["clerk"]).get("/api/schema/", {"format": "json"}).content.decode()
    for path in ["/api/case-relations/{id}/agreements/", "/api/case-parties/",
                 "/api/referrals/{id}/decide/", "/api/psych-patients/{id}/visits/",
                 "/api/psych-followups/"]:
        assert path in text, path


def test_the_relations_of_a_case_read_its_programme_once_however_many_parties(apprentice):
    """Each party of the case is shown through the case's programme, not by reading the
    party's programme again (one query per party)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    case = apprentice.cases["a"]
    client = api(apprentice.users["clerk"])
    with CaptureQueriesContext(connection) as ctx:
        body = client.get(f"/api/case-relations/{case.pk}/").json()
    assert len(body["parties"]) >= 3
    programme_reads = [q["sql"] for q in ctx.captured_queries
                       if q["sql"].lstrip().startswith('SELECT "cases_caseprogramme"')]
    assert programme_reads == []
