"""The orgs API answers within the caller's area and writes through the services."""
from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from shidian.orgs.models import Agency, Role
from shidian.orgs.testing import make_agency, make_divisions, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    make_divisions()
    return {
        "luxian": make_agency("泸县卫生健康局", "510521", aliases=("县卫健局",)),
        "hejiang": make_agency("合江县卫生健康局", "510522"),
        "city": make_agency("泸州市卫生健康委员会", "5105"),
        "lx_admin": make_user("lx_admin", role=Role.ADMIN, division_code="510521"),
        "lx_office": make_user("lx_office", role=Role.OFFICE, division_code="510521"),
    }


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def names(response) -> set[str]:
    return {row["name"] for row in response.json()["results"]}


def test_anonymous_calls_are_refused(world):
    assert APIClient().get("/api/agencies/").status_code in (401, 403)


def test_agency_list_is_scoped(world):
    response = api(world["lx_office"]).get("/api/agencies/")
    assert names(response) == {"泸县卫生健康局"}


def test_agency_search_and_division_filter(world):
    client = api(make_user("root", role=Role.ADMIN))
    assert names(client.get("/api/agencies/", {"q": "县卫健局"})) == {"泸县卫生健康局"}
    assert names(client.get("/api/agencies/", {"division": "5105"})) == {
        "泸县卫生健康局", "合江县卫生健康局", "泸州市卫生健康委员会"}


def test_another_countys_agency_is_not_found_by_id(world):
    client = api(world["lx_office"])
    assert client.get(f"/api/agencies/{world['luxian'].pk}/").status_code == 200
    response = client.get(f"/api/agencies/{world['hejiang'].pk}/")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert client.get("/api/agencies/999999/").status_code == 404


def test_admin_creates_and_updates_through_the_services(world):
    client = api(world["lx_admin"])
    response = client.post("/api/agencies/", {"name": "泸县民政局", "division": "510521",
                                              "aliases": ["县民政局"]}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["initials"] == "lxmzj" and body["aliases"][0]["name"] == "县民政局"
    response = client.patch(f"/api/agencies/{body['id']}/", {"short_name": "民政局"},
                            format="json")
    assert response.status_code == 200 and response.json()["short_name"] == "民政局"


def test_duplicate_name_is_a_conflict_with_a_code(world):
    response = api(world["lx_admin"]).post(
        "/api/agencies/", {"name": "泸县卫生健康局", "division": "510521"}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "duplicate"
    assert Agency.objects.filter(name="泸县卫生健康局").count() == 1


def test_writes_outside_the_area_or_by_non_admins_change_nothing(world):
    admin = api(world["lx_admin"])
    response = admin.post("/api/agencies/", {"name": "合江县民政局", "division": "510522"},
                          format="json")
    assert response.status_code == 404
    response = admin.patch(f"/api/agencies/{world['hejiang'].pk}/", {"name": "改名"},
                           format="json")
    assert response.status_code == 404
    response = admin.post(f"/api/agencies/{world['hejiang'].pk}/aliases/", {"name": "别名"},
                          format="json")
    assert response.status_code == 404
    office = api(world["lx_office"])
    response = office.patch(f"/api/agencies/{world['luxian'].pk}/", {"name": "改名"},
                            format="json")
    assert response.status_code == 403 and response.json()["code"] == "forbidden"
    assert not Agency.objects.filter(name__in=["合江县民政局", "改名"]).exists()
    assert not world["hejiang"].aliases.exists()


def test_aliases_through_the_api(world):
    client = api(world["lx_admin"])
    luxian = world["luxian"]
    response = client.post(f"/api/agencies/{luxian.pk}/aliases/", {"name": "卫健局"},
                           format="json")
    assert response.status_code == 201
    alias = luxian.aliases.get(name="卫健局")
    assert client.delete(f"/api/agencies/{luxian.pk}/aliases/{alias.pk}/").status_code == 204
    assert not luxian.aliases.filter(name="卫健局").exists()


def test_candidates_resolve_a_plan_unit_name(world):
    response = api(world["lx_office"]).get("/api/agencies/candidates/",
                                           {"name": "县卫生健康局", "division": "510521"})
    rows = response.json()
    assert rows[0]["agency"]["name"] == "泸县卫生健康局" and 0 < rows[0]["score"] <= 1
    # the city's commission is an ancestor's agency but outside a county office's area
    assert "泸州市卫生健康委员会" not in {r["agency"]["name"] for r in rows}


def test_divisions_filter_by_parent_level_and_prefix(world):
    client = api(make_user("root", role=Role.ADMIN))
    codes = lambda r: [row["code"] for row in r.json()["results"]]  # noqa: E731
    assert codes(client.get("/api/divisions/", {"parent": "5105"})) == ["510521", "510522"]
    assert codes(client.get("/api/divisions/", {"parent": ""})) == ["42", "51"]
    assert codes(client.get("/api/divisions/", {"level": 3, "prefix": "51"})) == [
        "510521", "510522"]
    assert client.get("/api/divisions/510521/").json()["name"] == "泸县"
    assert client.get("/api/divisions/", {"level": 9}).status_code == 400


def test_refusals_speak_the_callers_language(world):
    """Chinese first: a zh-Hans caller (and one who names no language) reads why in
    Chinese; an English caller in English."""
    client = api(world["lx_office"])
    for language in ("zh-Hans", ""):
        refused = client.get("/api/divisions/", {"prefix": "51a"},
                             HTTP_ACCEPT_LANGUAGE=language)
        assert refused.status_code == 400 and "数字" in refused.json()["message"]
        blank = client.get("/api/agencies/candidates/", {"name": ""},
                           HTTP_ACCEPT_LANGUAGE=language).json()
        assert blank["code"] == "invalid" and "名称" in blank["message"]
    english = client.get("/api/divisions/", {"prefix": "51a"}, HTTP_ACCEPT_LANGUAGE="en")
    assert "digits" in english.json()["message"]


def test_a_county_user_sees_only_its_divisions(world):
    client = api(world["lx_office"])
    codes = [row["code"] for row in client.get("/api/divisions/").json()["results"]]
    assert codes and all(code.startswith("510521") for code in codes)
    assert client.get("/api/divisions/510522/").status_code == 404


def test_the_schema_describes_the_orgs_endpoints(world):
    response = api(world["lx_office"]).get("/api/schema/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "/api/agencies/candidates/" in text and "/api/divisions/{code}/" in text
