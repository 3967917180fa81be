"""Error pages speak Chinese, show no traceback, and tell an outage from a bug."""
import pytest
from django.db import OperationalError
from django.test import Client
from django.urls import path

from shidian.web.views import errors

pytestmark = pytest.mark.django_db


def broken_database(request):
    raise OperationalError('connection to server at "127.0.0.1", port 5432 failed')


def broken_code(request):
    raise KeyError("task")


urlpatterns = [path("db/", broken_database), path("bug/", broken_code)]
handler404 = "shidian.web.views.errors.page_not_found"
handler500 = "shidian.web.views.errors.server_error"


@pytest.fixture
def client():
    return Client(raise_request_exception=False)


def test_a_missing_page_says_so_in_chinese(client):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()


@pytest.mark.urls(__name__)
def test_a_database_outage_is_a_503_that_says_nothing_was_saved(client):
    response = client.get("/db/")
    body = response.content.decode()
    assert response.status_code == 503 and response["Retry-After"]
    assert "数据库暂时无法连接" in body and "未保存" in body
    assert "Traceback" not in body and "5432" not in body


@pytest.mark.urls(__name__)
def test_a_bug_is_a_500_without_a_traceback(client):
    response = client.get("/bug/")
    body = response.content.decode()
    assert response.status_code == 500 and "服务器出错了" in body
    assert "KeyError" not in body and "Traceback" not in body


def test_an_expired_form_says_nothing_was_saved():
    response = Client(enforce_csrf_checks=True).post("/login/", {"username": "x"})
    assert response.status_code == 403
    assert "表单已过期" in response.content.decode()
    assert errors.csrf_failure  # the view settings.CSRF_FAILURE_VIEW names
