"""The reports API: the same services and the same scope as the pages."""
from datetime import date
from unittest import mock

import pytest
from rest_framework.test import APIClient

from shidian.reporting.models import Evidence, ProgressReport, ReportStatus
from shidian.reporting.testing import at, pdf_bytes, upload

NOW = at(date(2021, 6, 20))


@pytest.fixture(autouse=True)
def _june():
    with mock.patch("django.utils.timezone.now", return_value=NOW):
        yield


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def create(client, task, **extra):
    body = {"task": task.pk, "period": "2021M06", "percent": 40, "done": "完成摸底", **extra}
    return client.post("/api/reports/", body, format="json")


def test_liaison_creates_submits_and_the_office_returns_and_accepts(world):
    liaison = client_for(world.liaison_health)
    evidence = liaison.post("/api/evidence/", {"agency": world.health.pk,
                                               "file": upload("纪要.pdf", pdf_bytes("api"))},
                            format="multipart")
    assert evidence.status_code == 201, evidence.json()
    evidence_id = evidence.json()["id"]
    draft = create(liaison, world.tasks[0], evidence=[evidence_id])
    assert draft.status_code == 201, draft.json()
    body = draft.json()
    assert body["status"] == "draft" and body["evidence"] == [evidence_id]
    submitted = liaison.post(f"/api/reports/{body['id']}/submit/")
    assert submitted.status_code == 200 and submitted.json()["on_time"] is True
    # Submitting again is harmless; a changed body is a conflict.
    assert liaison.post(f"/api/reports/{body['id']}/submit/").status_code == 200
    conflict = create(liaison, world.tasks[0], percent=90, submit=True)
    assert conflict.status_code == 409 and conflict.json()["code"] == "conflict"

    office = client_for(world.office)
    listed = office.get("/api/reports/", {"plan": world.plan.pk, "period": "2021M06"}).json()
    assert [r["id"] for r in listed["results"]] == [body["id"]]
    bad = office.post(f"/api/reports/{body['id']}/return/", {"reason": ""}, format="json")
    assert bad.status_code == 400
    returned = office.post(f"/api/reports/{body['id']}/return/", {"reason": "补充照片"},
                           format="json")
    assert returned.json()["status"] == "returned"
    again = create(liaison, world.tasks[0], percent=60, submit=True, evidence=[evidence_id])
    assert again.status_code == 201 and again.json()["id"] == body["id"]
    accepted = office.post(f"/api/reports/{body['id']}/accept/")
    assert accepted.json()["status"] == "accepted"
    download = office.get(f"/api/evidence/{evidence_id}/download/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == pdf_bytes("api")


def test_api_scope_by_object_ids(world):
    theirs = create(client_for(world.liaison_other), world.other_task, submit=True).json()
    evidence = client_for(world.liaison_other).post(
        "/api/evidence/", {"agency": world.other_health.pk, "file": upload("x.pdf", pdf_bytes())},
        format="multipart").json()
    liaison = client_for(world.liaison_health)
    assert liaison.get(f"/api/reports/{theirs['id']}/").status_code == 404
    assert liaison.post(f"/api/reports/{theirs['id']}/submit/").status_code == 404
    assert liaison.get(f"/api/evidence/{evidence['id']}/").status_code == 404
    assert liaison.get(f"/api/evidence/{evidence['id']}/download/").status_code == 404
    assert create(liaison, world.other_task).status_code == 404
    assert create(liaison, world.tasks[0], agency=world.civil.pk).status_code == 404
    assert liaison.post("/api/evidence/", {"agency": world.other_health.pk,
                                           "file": upload("y.pdf", pdf_bytes("y"))},
                        format="multipart").status_code == 404
    assert liaison.get("/api/reports/").json()["results"] == []
    other_office = client_for(world.office_other)
    assert other_office.get("/api/reports/", {"plan": world.plan.pk}).json()["results"] == []
    assert client_for(world.office).post(f"/api/reports/{theirs['id']}/return/",
                                         {"reason": "x"}, format="json").status_code == 404
    assert ProgressReport.objects.get(pk=theirs["id"]).status == ReportStatus.SUBMITTED
    assert APIClient().get("/api/reports/").status_code in (401, 403)


def test_api_refuses_bad_evidence_and_closed_periods(world):
    liaison = client_for(world.liaison_health)
    response = liaison.post("/api/evidence/", {"agency": world.health.pk,
                                               "file": upload("表.xlsx", pdf_bytes())},
                            format="multipart")
    assert response.status_code == 400 and response.json()["code"] == "bad_file"
    assert not Evidence.objects.exists()
    with mock.patch("django.utils.timezone.now", return_value=at(date(2021, 7, 6))):
        closed = create(liaison, world.tasks[0], submit=True)
    assert closed.status_code == 409 and closed.json()["code"] == "period_closed"


def test_openapi_schema_lists_the_reports_api(world):
    response = client_for(world.office).get("/api/schema/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "/api/reports/{id}/return/" in text and "/api/evidence/" in text


def test_a_report_sent_with_files_keeps_them_together_or_not_at_all(world):
    liaison = client_for(world.liaison_health)
    body = {"task": world.tasks[0].pk, "period": "2021M06", "percent": 40, "submit": True,
            "files": [upload("纪要.pdf", pdf_bytes("one")), upload("表.xlsx", pdf_bytes("two"))]}
    refused = liaison.post("/api/reports/", body, format="multipart")
    assert refused.status_code == 400 and refused.json()["code"] == "bad_file"
    assert not Evidence.objects.exists() and not ProgressReport.objects.exists()

    body["files"] = [upload("纪要.pdf", pdf_bytes("one")), upload("照片.pdf", pdf_bytes("two"))]
    sent = liaison.post("/api/reports/", body, format="multipart")
    assert sent.status_code == 201, sent.json()
    report = ProgressReport.objects.get()
    assert report.status == ReportStatus.SUBMITTED
    assert sorted(e.original_name for e in report.evidence.all()) == ["照片.pdf", "纪要.pdf"]


def test_a_missing_and_a_foreign_report_get_the_same_chinese_answer(world):
    """Not found speaks the caller's language, and says the same for a report that does not
    exist and one outside the caller's scope (ids cannot be probed)."""
    theirs = create(client_for(world.liaison_other), world.other_task, submit=True).json()
    liaison = client_for(world.liaison_health)
    foreign = liaison.get(f"/api/reports/{theirs['id']}/", HTTP_ACCEPT_LANGUAGE="zh-Hans")
    missing = liaison.get(f"/api/reports/{theirs['id'] + 1000}/",
                          HTTP_ACCEPT_LANGUAGE="zh-Hans")
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()
    assert foreign.json()["code"] == "not_found" and "未找到" in foreign.json()["message"]
    english = liaison.get(f"/api/reports/{theirs['id']}/", HTTP_ACCEPT_LANGUAGE="en")
    assert english.json()["message"] == "Not found."
