"""The catalogue pages and API: who sees the packs, who creates programmes, and where it lands."""
from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from shidian.catalogue.models import DutyListItem, PackInstall
from shidian.catalogue.services import programme_create_from_pack
from shidian.orgs.models import Role
from shidian.orgs.testing import make_user

pytestmark = pytest.mark.django_db

LUXIAN = "510521"


def _login(client, user):
    client.force_login(user)
    return client


def test_the_catalogue_lists_every_pack_with_what_it_adds(client):
    from shidian.catalogue.packs import packs_available

    page = _login(client, make_user("office", role=Role.OFFICE, division_code=LUXIAN)).get(
        reverse("catalogue:list"))
    assert page.status_code == 200
    text = page.content.decode()
    for spec in packs_available().values():
        assert spec.label.zh in text and spec.adds[0].zh in text
        assert reverse("catalogue:new", args=[spec.key]) in text
    assert "功能包目录" in text


def test_creating_from_the_form_lands_on_the_plan_review_and_a_resubmit_changes_nothing(client):
    user = make_user("office", role=Role.OFFICE, division_code=LUXIAN)
    _login(client, user)
    form = {"name": "泸县医共体建设试点", "division": LUXIAN, "year": "2019",
            "start_plan": "sichuan", "token": uuid.uuid4().hex}
    url = reverse("catalogue:new", args=["medcommunity"])
    first = client.post(url, form)
    install = PackInstall.objects.get()
    assert first.status_code == 302
    assert first["Location"] == reverse("plans:review", args=[install.plan_id])
    again = client.post(url, form)
    assert again["Location"] == first["Location"]
    assert PackInstall.objects.count() == 1


@pytest.mark.parametrize("role", [Role.LIAISON, Role.CASE_WORKER, Role.EXPERT, Role.PILOT_SITE])
def test_roles_without_plans_cannot_open_or_post_the_create_form(client, role):
    _login(client, make_user("someone", role=role, division_code=LUXIAN))
    url = reverse("catalogue:new", args=["housing"])
    assert client.get(url).status_code == 403
    assert client.post(url, {"name": "x", "division": LUXIAN, "year": "2027",
                             "start_plan": "shandong", "token": "t"}).status_code == 403
    assert not PackInstall.objects.exists()


def test_another_countys_office_gets_a_clear_error_and_nothing_is_made(client):
    _login(client, make_user("hejiang", role=Role.OFFICE, division_code="510522"))
    response = client.post(reverse("catalogue:new", args=["housing"]), {
        "name": "越权", "division": LUXIAN, "year": "2027", "start_plan": "shandong",
        "token": uuid.uuid4().hex})
    assert response.status_code == 400  # 泸县 is not among 合江县's choices
    assert not PackInstall.objects.exists()


def _install(user):
    return programme_create_from_pack(user=user, pack_key="medcommunity", name="泸县医共体",
                                      division_code=LUXIAN, year=2019, token=uuid.uuid4().hex)


@pytest.mark.parametrize("username,role,division", [
    ("other-office", Role.OFFICE, "510522"), ("other-admin", Role.ADMIN, "4201"),
    ("liaison", Role.LIAISON, LUXIAN), ("wuhan-leader", Role.LEADER, "42")])
def test_outsiders_get_404_on_a_programmes_pack_page_list_and_api(client, username, role,
                                                                  division):
    owner = make_user("owner", role=Role.OFFICE, division_code=LUXIAN)
    install = _install(owner)
    duty_list = install.lists.first()
    before = DutyListItem.objects.count()
    _login(client, make_user(username, role=role, division_code=division))
    assert client.get(reverse("catalogue:programme",
                              args=[install.programme_id])).status_code == 404
    assert client.post(reverse("catalogue:item-add", args=[duty_list.pk]),
                       {"owner": "县卫健局", "duty": "越权"}).status_code == 404
    assert client.get(f"/api/catalogue/programmes/{install.programme_id}/").status_code == 404
    if role != Role.LIAISON:
        listing = client.get(reverse("catalogue:list")).content.decode()
        assert reverse("catalogue:programme", args=[install.programme_id]) not in listing
    assert DutyListItem.objects.count() == before


def test_the_office_adds_its_own_duty_to_an_open_list(client):
    owner = make_user("owner", role=Role.OFFICE, division_code=LUXIAN)
    install = _install(owner)
    duty_list = install.lists.get(key="coordination")
    _login(client, owner)
    response = client.post(reverse("catalogue:item-add", args=[duty_list.pk]),
                           {"owner": "县医共体管理委员会", "partner": "县卫健局",
                            "duty": "统筹医共体建设重大事项"})
    assert response.status_code == 302
    listing = client.get(reverse("catalogue:list")).content.decode()
    page_url = reverse("catalogue:programme", args=[install.programme_id])
    assert page_url in listing  # the catalogue links to the programmes made from each pack
    page = client.get(page_url)
    assert "统筹医共体建设重大事项" in page.content.decode()
    assert "县域就诊率" in page.content.decode()


def test_the_api_creates_a_programme_once_per_token(client):
    user = make_user("office", role=Role.OFFICE, division_code=LUXIAN)
    _login(client, user)
    body = {"pack": "youthleague", "name": "泸县共青团试点", "division": LUXIAN, "year": 2009,
            "token": uuid.uuid4().hex}
    first = client.post("/api/catalogue/packs/", body, content_type="application/json")
    again = client.post("/api/catalogue/packs/", body, content_type="application/json")
    assert first.status_code == 201 and again.json() == first.json()
    detail = client.get(f"/api/catalogue/programmes/{first.json()['programme']}/").json()
    assert detail["cycles"][0]["kind"] == "quarterly"
    packs = client.get("/api/catalogue/packs/").json()
    assert "youthleague" in [p["key"] for p in packs]
