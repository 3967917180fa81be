"""Logging in takes each role to the page it starts its day on."""
from __future__ import annotations

import pytest

from shidian.orgs.models import Role
from shidian.orgs.testing import PASSWORD, make_agency, make_user

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role, landing", [
    (Role.LIAISON, "/reporting/"),
    (Role.PILOT_SITE, "/reporting/"),
    (Role.OFFICE, "/reporting/plans/"),
    (Role.LEADER, "/reporting/plans/"),
    (Role.CASE_WORKER, "/cases/"),
    (Role.ADMIN, "/orgs/"),
])
def test_login_leads_each_role_to_its_start_page(client, role, landing):
    agency = make_agency("县卫生健康局", "510521")
    make_user("someone", role=role, division_code="510521", agencies=(agency,))
    response = client.post("/login/", {"username": "someone", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0].startswith(landing)
    assert response.status_code == 200


def test_an_expert_lands_on_the_welcome_page(client):
    make_user("expert", role=Role.EXPERT)
    response = client.post("/login/", {"username": "expert", "password": PASSWORD}, follow=True)
    assert "欢迎" in response.content.decode()


def test_pages_need_a_login(client):
    response = client.get("/")
    assert response.status_code == 302 and response.url.startswith("/login/")


def test_a_wrong_password_is_refused_in_chinese(client):
    make_user("liaison")
    response = client.post("/login/", {"username": "liaison", "password": "wrong"})
    assert "用户名或密码错误" in response.content.decode()


def test_five_failures_lock_the_account_even_with_the_right_password(client):
    make_user("liaison")
    for _ in range(5):
        client.post("/login/", {"username": "liaison", "password": "wrong"})
    response = client.post("/login/", {"username": "liaison", "password": PASSWORD})
    assert "账号已锁定" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_logout_needs_a_post(client):
    make_user("liaison")
    client.post("/login/", {"username": "liaison", "password": PASSWORD})
    assert client.get("/logout/").status_code == 405
    client.post("/logout/")
    assert "_auth_user_id" not in client.session
