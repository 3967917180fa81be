"""The plans API answers with the same scope and services as the pages."""
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from shidian.orgs.models import Role
from shidian.orgs.testing import make_user
from shidian.plans.models import Plan, PlanVersion, Task, UnitRole

from .conftest import WUHAN, seed_text

pytestmark = pytest.mark.django_db


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_office_lists_reads_and_updates_tasks(office, wuhan_plan, wuhan):
    client = api(office)
    plans = client.get("/api/plans/").json()
    assert [p["title"] for p in plans["results"]] == [wuhan_plan.title]
    task = wuhan_plan.tasks.get(path="(一)/2")
    response = client.patch(f"/api/tasks/{task.pk}/", {
        "title": "完善教育系统心理服务平台建设", "deadline": "2021-12-31",
        "lead_units": ["市教育局"], "units": ["市公安局"]}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["title"] == "完善教育系统心理服务平台建设" and body["deadline"] == "2021-12-31"
    assert {(u["role"], u["name"], u["agency"]) for u in body["units"]} == {
        ("lead", "市教育局", "武汉市教育局"), ("responsible", "市公安局", "武汉市公安局")}


def test_api_errors_carry_code_message_extra_and_change_nothing(office, wuhan_plan):
    client = api(office)
    task = wuhan_plan.tasks.get(path="(一)/2")
    response = client.patch(f"/api/tasks/{task.pk}/", {"title": "x", "lead_units": ["市教育局"],
                                                      "units": ["市教育局"]}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"code", "message", "extra"}
    assert response.json()["code"] == "invalid"
    assert Task.objects.get(pk=task.pk).title == "完善教育系统心理服务平台"
    bad_date = client.patch(f"/api/tasks/{task.pk}/", {"deadline": "2021-02-30"}, format="json")
    assert bad_date.status_code == 400 and bad_date.json()["code"] == "invalid"


def test_publish_twice_and_changing_a_published_version_are_refused(office, wuhan_plan):
    client = api(office)
    first = client.post(f"/api/plans/{wuhan_plan.pk}/publish/", {"accept_unresolved": True},
                        format="json")
    assert first.status_code == 201 and first.json()["number"] == 1
    again = client.post(f"/api/plans/{wuhan_plan.pk}/publish/", {"accept_unresolved": True},
                        format="json")
    assert again.status_code == 409 and again.json()["code"] == "conflict"
    frozen = PlanVersion.objects.get().snapshot
    for method in (client.patch, client.put, client.delete):
        response = method(f"/api/plans/{wuhan_plan.pk}/versions/1/", {"snapshot": {}},
                          format="json")
        assert response.status_code == 409 and response.json()["code"] == "published"
    assert PlanVersion.objects.get().snapshot == frozen
    assert client.get(f"/api/plans/{wuhan_plan.pk}/versions/").json()[0]["number"] == 1


def test_import_by_upload(office, programme, wuhan):
    client = api(office)
    bad = client.post("/api/plans/import/", {
        "programme": programme.pk, "division": WUHAN,
        "file": SimpleUploadedFile("plan.exe", b"MZ")}, format="multipart")
    assert bad.status_code == 400 and bad.json()["code"] == "bad_file"
    assert not Plan.objects.exists()
    response = client.post("/api/plans/import/", {
        "programme": programme.pk, "division": WUHAN,
        "file": SimpleUploadedFile("12f-wuhan-psych.txt", seed_text("12f-wuhan-psych").encode())},
        format="multipart")
    assert response.status_code == 201, response.content
    plan = Plan.objects.get()
    assert response.json()["id"] == plan.pk and plan.tasks.count() > 10


def test_other_county_and_liaisons_see_only_their_part(office, wuhan_plan, wuhan):
    county = make_user("hj-office", role=Role.OFFICE, division_code="510522")
    client = api(county)
    task = wuhan_plan.tasks.first()
    assert client.get("/api/plans/").json()["results"] == []
    assert client.get(f"/api/plans/{wuhan_plan.pk}/").status_code == 404
    assert client.get(f"/api/tasks/{task.pk}/").status_code == 404
    assert client.patch(f"/api/tasks/{task.pk}/", {"title": "改"}, format="json").status_code == 404
    assert client.post(f"/api/plans/{wuhan_plan.pk}/publish/", {}).status_code == 404
    api(office).post(f"/api/plans/{wuhan_plan.pk}/publish/", {"accept_unresolved": True},
                     format="json")
    liaison = make_user("wh-police", agencies=(wuhan["武汉市公安局"],))
    client = api(liaison)
    tasks = client.get("/api/tasks/").json()["results"]
    expected = set(Task.objects.filter(units__agency=wuhan["武汉市公安局"]).values_list("pk",
                                                                                     flat=True))
    assert {t["id"] for t in tasks} == expected
    own = tasks[0]["id"]
    assert client.patch(f"/api/tasks/{own}/", {"title": "改"}, format="json").status_code == 404
    assert client.get(f"/api/plans/{wuhan_plan.pk}/versions/").status_code == 404
    assert Task.objects.get(pk=own).title != "改"
    assert Task.objects.filter(units__role=UnitRole.LEAD).exists()


def test_openapi_schema_lists_the_plans_endpoints(office):
    schema = api(office).get("/api/schema/", {"format": "json"})
    assert schema.status_code == 200
    text = schema.content.decode()
    assert "/api/plans/import/" in text and "/api/tasks/{id}/" in text
