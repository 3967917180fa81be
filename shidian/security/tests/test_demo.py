"""The demo's three separated administrators, each on their own pages."""
from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from shidian.demo.logins import DEMO_PASSWORD, demo_logins
from shidian.demo.security import security_demo_load
from shidian.orgs.models import Role, User

pytestmark = pytest.mark.django_db


def test_the_demo_has_the_three_administrators_and_runs_twice(client):
    assert security_demo_load(log=lambda _: None) == ["demo_security", "demo_sysadmin",
                                                      "demo_auditor"]
    assert security_demo_load(log=lambda _: None) == []
    roles = dict(User.objects.filter(username__in=["demo_sysadmin", "demo_security",
                                                   "demo_auditor"])
                 .values_list("username", "role"))
    assert roles == {"demo_sysadmin": Role.ADMIN, "demo_security": Role.SECURITY_ADMIN,
                     "demo_auditor": Role.AUDIT_ADMIN}
    grant = LogEntry.objects.filter(object_repr="审计管理员", action=LogEntry.Action.UPDATE).get()
    assert grant.actor.username == "demo_security"
    assert {"demo_security", "demo_auditor", "demo_sysadmin"} <= {
        name for name, _, _ in demo_logins()}
    client.post(reverse("login"), {"username": "demo_auditor", "password": DEMO_PASSWORD})
    assert client.get(reverse("security:audit")).status_code == 200
