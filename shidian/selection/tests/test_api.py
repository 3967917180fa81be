"""The selection API through one application: apply, answer, upload (service), submit, forward,
declare, score, approve within the quota, refuse beyond it, the task book in Word."""
from __future__ import annotations

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from shidian.selection import services
from shidian.selection.testing import make_selection_world, pdf, scored_application

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_one_application_through_the_api():
    world = make_selection_world(today=timezone.localdate())
    office, call = api(world.office), world.call
    assert office.post(f"/api/selection/calls/{call.pk}/add-item/",
                       {"name": "创新性", "weight": "10"}, format="json").status_code == 201
    county = world.category("县级团委")
    applicant = api(world.applicants["luxian"])
    response = applicant.post(f"/api/selection/calls/{call.pk}/apply/", {
        "agency_id": world.agencies["luxian"].pk, "category_id": county.pk, "region": "四川",
        "kind": "团县(市、区、旗)委", "title": "泸县团委试点申报书"}, format="json")
    assert response.status_code == 201, response.json()
    pk = response.json()["id"]
    leaders = call.conditions.get(text="党政领导重视支持共青团工作")
    refused = applicant.post(f"/api/selection/applications/{pk}/submit/")
    assert refused.status_code == 400 and "党政领导重视支持共青团工作" in refused.json()["message"]
    applicant.post(f"/api/selection/applications/{pk}/answers/",
                   {"declared": {str(leaders.pk): True}}, format="json")
    services.document_upload(user=world.applicants["luxian"], application_id=pk, upload=pdf())
    assert applicant.post(f"/api/selection/applications/{pk}/submit/").json()["status"] \
        == "submitted"
    assert office.get(f"/api/selection/applications/{pk}/").status_code == 404  # not yet
    assert api(world.office_sc).post(f"/api/selection/applications/{pk}/forward/").json()[
        "status"] == "forwarded"
    office.post(f"/api/selection/calls/{call.pk}/assign/",
                {"expert_ids": [world.experts[0].pk]}, format="json")
    expert = api(world.experts[0])
    review = expert.get("/api/selection/reviews/").json()[0]
    assert "summary" not in review  # nothing of the application before the declaration
    expert.post(f"/api/selection/reviews/{review['id']}/declare/", {"conflict": False},
                format="json")
    sheet = expert.get(f"/api/selection/reviews/{review['id']}/").json()["sheet"]
    scored = expert.post(f"/api/selection/reviews/{review['id']}/score/",
                         {"scores": {str(row["item_id"]): "80" for row in sheet}},
                         format="json").json()
    assert scored["status"] == "scored" and scored["total"] == "80.00"
    approved = office.post(f"/api/selection/applications/{pk}/approve/", {}, format="json")
    site = approved.json()
    assert approved.status_code == 200 and site["number"]
    # 四川's second place goes to 合江县; 江阳区 is refused without a reason (409).
    services.application_approve(user=world.office, application_id=scored_application(
        world, "hejiang", marks=(70,)).pk)
    third = scored_application(world, "jiangyang", marks=(60,))
    over = office.post(f"/api/selection/applications/{third.pk}/approve/", {}, format="json")
    assert over.status_code == 409 and over.json()["code"] == "conflict"
    quotas = office.get(f"/api/selection/calls/{call.pk}/quotas/").json()
    row = next(q for q in quotas["quotas"] if q["category_id"] == county.pk
               and q["region"] == "四川")
    assert (row["places"], row["approved"], row["waiting"]) == (2, 2, 1)
    book = api(world.applicants["luxian"]).get(f"/api/selection/sites/{site['site_id']}/taskbook/")
    assert book.status_code == 200 and book.content[:2] == b"PK"
