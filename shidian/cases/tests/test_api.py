"""The cases API answers with the same scope and rules as the pages."""
import json

import pytest
from rest_framework.test import APIClient

from shidian.cases import services
from shidian.cases.models import Case, CaseEvent, DuplicatePair, EventKind
from shidian.cases.testing import OTHER_VILLAGE, household, make_programme, make_workers

pytestmark = pytest.mark.django_db


@pytest.fixture
def workers():
    return make_workers()


@pytest.fixture
def programme():
    return make_programme()


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_each_user_lists_the_cases_of_their_scope_only(workers, programme):
    here = services.case_create(user=workers["village"], programme=programme,
                                values=household())
    there = services.case_create(user=workers["neighbour"], programme=programme,
                                 values=household(village=OTHER_VILLAGE))
    def ids(user):
        body = api(user).get("/api/cases/").json()
        return {row["id"] for row in body["results"]}
    assert ids(workers["village"]) == {here.pk}
    assert ids(workers["county"]) == {here.pk}
    assert ids(workers["neighbour"]) == {there.pk}
    assert ids(workers["liaison"]) == set()
    response = api(workers["neighbour"]).get(f"/api/cases/{here.pk}/")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_no_full_number_leaves_the_api_unless_revealed_and_each_reveal_is_logged(workers,
                                                                                programme):
    values = household()
    case = services.case_create(user=workers["village"], programme=programme, values=values)
    listed = json.dumps(api(workers["county"]).get("/api/cases/").json())
    detail = json.dumps(api(workers["county"]).get(f"/api/cases/{case.pk}/").json())
    for secret in (values["head_id_number"], values["bank_account"],
                   values["members"][0]["id_number"]):
        assert secret not in listed and secret not in detail
    refused = api(workers["village"]).post(f"/api/cases/{case.pk}/reveal/",
                                           {"field": "head_id_number"}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    shown = api(workers["county"]).post(f"/api/cases/{case.pk}/reveal/",
                                        {"field": "bank_account"}, format="json")
    assert shown.json()["value"] == values["bank_account"]
    assert CaseEvent.objects.filter(case=case, kind=EventKind.PII_VIEW).count() == 1


def test_registering_and_acting_through_the_api(workers, programme):
    clerk = api(workers["village"])
    bad = household()
    bad["head_id_number"] = bad["head_id_number"][:16]
    response = clerk.post("/api/cases/", {"programme": programme.pk, "values": bad},
                          format="json")
    assert response.status_code == 400
    assert response.json()["extra"]["errors"]["head_id_number"].startswith("身份证号码应为18位")
    assert not Case.objects.exists()
    response = clerk.post("/api/cases/", {"programme": programme.pk, "values": household()},
                          format="json")
    case_id = response.json()["id"]
    assert response.status_code == 201 and response.json()["stage"] == "registered"
    actions = clerk.get(f"/api/cases/{case_id}/actions/").json()
    assert [a["transition"] for a in actions] == ["accept", "withdraw"]
    moved = clerk.post(f"/api/cases/{case_id}/transition/", {"transition": "accept"},
                       format="json")
    assert moved.json()["stage_label"] == "个人申请"
    blocked = clerk.post(f"/api/cases/{case_id}/transition/", {"transition": "submit_review"},
                         format="json")
    assert blocked.status_code == 400 and blocked.json()["extra"]["reason"] == "blocked"
    assert "农户申请书" in blocked.json()["message"]
    county = api(workers["county"]).post(f"/api/cases/{case_id}/transition/",
                                         {"transition": "withdraw", "reason": "x"},
                                         format="json")
    assert county.status_code == 403
    timeline = clerk.get(f"/api/cases/{case_id}/timeline/").json()
    assert [e["kind"] for e in timeline] == ["created", "transition"]


def test_progress_and_duplicates_through_the_api(workers, programme):
    first = services.case_create(user=workers["village"], programme=programme,
                                 values=household())
    son = services.case_secrets(first)["members"][1]
    services.case_create(user=workers["village"], programme=programme,
                         values=household(head_name="王小军", head_id_number=son, members=[]))
    progress = api(workers["office"]).get(f"/api/case-programmes/{programme.pk}/progress/").json()
    assert progress == [{**progress[0], "division": "510521", "registered": 2}]
    from shidian.cases import dedup

    dedup.dedup_run(programme=programme)
    pair = DuplicatePair.objects.get()
    assert api(workers["village"]).get("/api/case-duplicates/").json()["count"] == 0
    listed = api(workers["county"]).get("/api/case-duplicates/").json()
    assert [row["id"] for row in listed["results"]] == [pair.pk]
    decided = api(workers["county"]).post(f"/api/case-duplicates/{pair.pk}/decide/",
                                          {"decision": "dismiss", "note": "两户"},
                                          format="json")
    assert decided.json()["status"] == "dismissed"
