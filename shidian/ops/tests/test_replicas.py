"""Dashboards read from a read replica when one is configured; nothing else does."""
from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session
from django.test import RequestFactory
from django.urls import resolve

from shidian.ops.replicas import DASHBOARD_VIEWS, ReplicaMiddleware, ReplicaRouter, replica_reads
from shidian.orgs.models import Division, User
from shidian.plans.models import Plan
from shidian.reporting.models import ProgressReport

router = ReplicaRouter()


def test_without_replicas_every_read_goes_to_the_primary(settings):
    settings.SHIDIAN_READ_REPLICAS = []
    with replica_reads():
        assert router.db_for_read(Plan) is None  # Django's default: the primary


def test_dashboard_reads_go_to_a_replica_and_writes_to_the_primary(settings):
    settings.SHIDIAN_READ_REPLICAS = ["replica1", "replica2"]
    assert router.db_for_read(Plan) is None  # outside a dashboard
    with replica_reads():
        assert router.db_for_read(Plan) in {"replica1", "replica2"}
        assert router.db_for_read(ProgressReport) in {"replica1", "replica2"}
        assert router.db_for_write(ProgressReport) == "default"
        # what was just written must be read where it was written
        assert router.db_for_read(Session) is None
    assert router.db_for_read(Plan) is None
    assert router.allow_migrate("replica1", "plans") is False
    assert router.allow_migrate("default", "plans") is True


@pytest.mark.parametrize(("path", "method", "replica"), [
    ("/reporting/plans/1/", "get", True),        # 挂图作战
    ("/indicators/plans/1/board/", "get", True),
    ("/cases/board/510521/", "get", True),
    ("/reporting/plans/1/", "post", False),       # never for a form post
    ("/reporting/tasks/1/report/", "get", False),  # a liaison's report form reads the primary
    ("/plans/", "get", False),
])
def test_the_middleware_marks_only_dashboard_pages(settings, path, method, replica):
    settings.SHIDIAN_READ_REPLICAS = ["replica1"]
    seen = {}

    def view(request):
        seen["db"] = router.db_for_read(Plan)
        return None

    request = getattr(RequestFactory(), method)(path)
    request.resolver_match = resolve(path)
    middleware = ReplicaMiddleware(lambda r: (middleware.process_view(r, view, (), {}),
                                              view(r))[1])
    middleware(request)
    assert (seen["db"] == "replica1") is replica
    assert router.db_for_read(Plan) is None  # reset after the response


def test_every_dashboard_view_name_exists():
    from django.urls import reverse

    kwargs = {"cases:board": {"division": "510521"},
              "indicators:completeness": {"data_set_id": 1}}
    for name in DASHBOARD_VIEWS:
        assert reverse(name, kwargs=kwargs.get(name, {"plan_id": 1}))


@pytest.mark.django_db
def test_a_query_inside_a_dashboard_uses_the_replica_alias(settings, monkeypatch):
    from django.db import router as django_router

    settings.SHIDIAN_READ_REPLICAS = ["replica1"]
    monkeypatch.setattr(django_router, "routers", [ReplicaRouter()])
    with replica_reads():
        assert Division.objects.filter(code__startswith="51").db == "replica1"
        assert User.objects.all().db == "replica1"
        assert Division.objects.select_for_update().db == "default"  # a locking read writes
    assert Division.objects.all().db == "default"
