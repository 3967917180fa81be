"""Django admin is a superuser's back office; agency writes there still use the services."""
from __future__ import annotations

import pytest
from django.urls import reverse

from shidian.orgs.models import Agency, Role
from shidian.orgs.testing import make_agency, make_divisions, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(client):
    make_divisions()
    client.force_login(make_user("root", superuser=True))
    return client


def inline(prefix="aliases", **extra):
    data = {f"{prefix}-TOTAL_FORMS": "1", f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"}
    data.update(extra)
    return data


def test_agency_added_in_admin_gets_initials_and_aliases(superuser_client):
    response = superuser_client.post(reverse("admin:orgs_agency_add"), {
        "name": "泸县民政局", "short_name": "", "kind": "government", "division": "510521",
        "credit_code": "", "is_active": "on", **inline(**{"aliases-0-name": "县民政局"})})
    assert response.status_code == 302, response.content.decode()[:2000]
    agency = Agency.objects.get(name="泸县民政局")
    assert agency.initials == "lxmzj"
    assert list(agency.aliases.values_list("name", flat=True)) == ["县民政局"]


def test_admin_form_rejects_a_bad_credit_code(superuser_client):
    response = superuser_client.post(reverse("admin:orgs_agency_add"), {
        "name": "泸县民政局", "kind": "government", "division": "510521",
        "credit_code": "91510521MA000000X0", "is_active": "on", **inline()})
    assert response.status_code == 200
    assert "统一社会信用代码" in response.content.decode()
    assert not Agency.objects.exists()


def test_admin_lists_load(superuser_client):
    make_agency("泸县卫生健康局", "510521", aliases=("县卫健局",))
    for name in ("admin:orgs_division_changelist", "admin:orgs_agency_changelist",
                 "admin:orgs_user_changelist"):
        assert superuser_client.get(reverse(name), {"q": "县"}).status_code == 200
    html = superuser_client.get(reverse("admin:orgs_agency_changelist"),
                                {"q": "县卫健局"}).content.decode()
    assert "泸县卫生健康局" in html


def test_county_admins_do_not_get_the_unscoped_django_admin(client):
    make_divisions()
    client.force_login(make_user("lx_admin", role=Role.ADMIN, division_code="510521"))
    assert client.get(reverse("admin:orgs_agency_changelist")).status_code == 403
