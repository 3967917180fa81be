"""Role x scope x endpoint: nobody reaches another unit's or another county's objects.

Every page and API route that takes an object id is called, with GET and POST, by users who
must not see that object: the other county's office and liaison, and a liaison of the same
county whose agency has no part in it. Each answer must be a refusal (403/404/405), never the
object, and nothing in the database may change. New routes join the matrix by themselves; a
route whose id this test cannot supply fails it, so the matrix cannot silently fall behind.
"""
from __future__ import annotations

import hashlib
import json
from datetime import date

import pytest
from auditlog.models import LogEntry
from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from shidian.api.urls import router
from shidian.orgs.models import Role
from shidian.orgs.testing import make_user
from shidian.plans.models import PlanVersion, Programme
from shidian.reporting.services import ReportInput, evidence_attach, report_submit
from shidian.reporting.testing import at, make_world, pdf_bytes, upload

pytestmark = pytest.mark.django_db

# The apps whose pages and API this matrix covers (cases and indicators have their own
# scope tests; they join here once their test worlds share this one).
WEB_NAMESPACES = {"orgs", "plans", "reporting", "security"}
API_BASENAMES = {"division", "agency", "plans", "tasks", "reports", "evidence"}
ALLOWED = {403, 404, 405}
# What the 泸县 民政局's task, report and evidence say: none of it may reach an outsider.
SECRETS = ("开展困难群众救助", "已完成摸底", "台账.pdf")


def walk(patterns, prefix="", namespace=None):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from walk(entry.url_patterns, prefix + str(entry.pattern),
                            entry.namespace or namespace)
        elif isinstance(entry, URLPattern) and entry.name:
            yield namespace, entry.name, entry.pattern.converters


@pytest.fixture
def world():
    w = make_world()
    # The 泸县 plan belongs to a 泸县 programme; the other county may not see either.
    programme = Programme.objects.create(name="泸县安宁疗护试点", division_id="510521")
    w.plan.programme = programme
    w.plan.save(update_fields=["programme"])
    PlanVersion.objects.create(plan=w.plan, number=1, snapshot={"tasks": []})
    civil_task = w.tasks[2]  # led by 泸县民政局 alone
    evidence = evidence_attach(user=w.liaison_civil, agency_id=w.civil.pk,
                               upload=upload("台账.pdf", pdf_bytes()))
    report = report_submit(user=w.liaison_civil, task_id=civil_task.pk, agency_id=w.civil.pk,
                           period="2021M06", now=at(date(2021, 6, 20)),
                           data=ReportInput(percent=40, done="已完成摸底",
                                            evidence_ids=(evidence.pk,)))
    w.targets = {
        "plan_id": w.plan.pk, "programme_id": programme.pk, "task_id": civil_task.pk,
        "unit_id": civil_task.units.get().pk, "report_id": report.pk,
        "evidence_id": evidence.pk, "agency_id": w.civil.pk,
        "user_id": w.liaison_civil.pk, "number": 1, "alias_id": 1,
    }
    w.api_targets = {
        "plans": w.plan.pk, "tasks": civil_task.pk, "reports": report.pk,
        "evidence": evidence.pk, "agency": w.civil.pk, "division": "510521",
    }
    w.county_admin = make_user("hj_admin", role=Role.ADMIN, division_code="510522")
    return w


def outsiders(w):
    """Users who may not see the 泸县 民政局's task, report, evidence or the 泸县 plan's office
    pages: the other county's liaison, office and administrator, and the 泸县 财政局's
    liaison (no part in the 民政局's task)."""
    return [w.liaison_other, w.office_other, w.county_admin, w.liaison_finance]


def own_part_only(user, response) -> bool:
    """A 泸县 liaison may open what concerns its own part of the 泸县 plan (the plan's summary,
    its county's division) as long as nothing of the 民政局's task comes with it."""
    content = response.content.decode()
    return (user.role == Role.LIAISON and user.division_id == "510521"
            and not any(secret in content for secret in SECRETS))


def database_digest() -> str:
    digest = hashlib.sha256()
    for label in ("orgs", "plans", "reporting", "security"):
        for model in apps.get_app_config(label).get_models():
            fields = [f.attname for f in model._meta.concrete_fields if f.name != "last_login"]
            rows = list(model.objects.order_by("pk").values(*fields))
            digest.update(json.dumps(rows, default=str, sort_keys=True).encode())
    digest.update(str(LogEntry.objects.count()).encode())
    return digest.hexdigest()


def page_urls(w):
    for namespace, name, converters in walk(get_resolver().url_patterns):
        if namespace not in WEB_NAMESPACES or not converters:
            continue
        int_kwargs = [k for k, c in converters.items() if type(c).__name__ == "IntConverter"]
        if not int_kwargs:
            continue
        missing = [k for k in converters if k not in w.targets]
        assert not missing, f"{namespace}:{name} takes {missing}: add it to the matrix"
        yield reverse(f"{namespace}:{name}", kwargs={k: w.targets[k] for k in converters})


def api_urls(w):
    for prefix, viewset, basename in router.registry:
        if basename not in API_BASENAMES:
            continue
        pk = w.api_targets[basename]
        yield f"/api/{prefix}/{pk}/"
        for action in viewset.get_extra_actions():
            if action.detail and "(?P" not in action.url_path:
                yield f"/api/{prefix}/{pk}/{action.url_path}/"


def test_pages_refuse_other_units_and_counties(client, world):
    urls = list(page_urls(world))
    assert len(urls) > 20
    before = database_digest()
    leaks = []
    for user in outsiders(world):
        client.force_login(user)
        for url in urls:
            for method in ("get", "post"):
                response = getattr(client, method)(url)
                if method == "get" and response.status_code == 200 and own_part_only(user,
                                                                                      response):
                    continue
                if response.status_code not in ALLOWED:
                    leaks.append(f"{user.username} {method.upper()} {url} -> "
                                 f"{response.status_code}")
    assert not leaks, "\n".join(leaks)
    assert database_digest() == before


def test_api_refuses_other_units_and_counties(client, world):
    urls = list(api_urls(world))
    before = database_digest()
    leaks = []
    for user in outsiders(world):
        client.force_login(user)
        for url in urls:
            for method in ("get", "post", "put", "patch", "delete"):
                if method == "get":
                    response = client.get(url)
                    if response.status_code == 200 and own_part_only(user, response):
                        continue
                else:
                    response = getattr(client, method)(url, content_type="application/json",
                                                       data="{}")
                if response.status_code not in ALLOWED:
                    leaks.append(f"{user.username} {method.upper()} {url} -> "
                                 f"{response.status_code}")
    assert not leaks, "\n".join(leaks)
    assert database_digest() == before


def test_api_lists_hold_nothing_of_another_county(client, world):
    client.force_login(world.liaison_other)
    for prefix in ("plans", "tasks", "reports", "evidence", "agencies"):
        body = client.get(f"/api/{prefix}/").json()
        rows = body["results"] if isinstance(body, dict) else body
        assert all("泸县" not in json.dumps(row, ensure_ascii=False) for row in rows), prefix


def test_the_owner_does_reach_them(client, world):
    """The matrix is not passing by refusing everyone."""
    client.force_login(world.liaison_civil)
    assert client.get(reverse("reporting:report", kwargs={"report_id":
                                                          world.targets["report_id"]})
                      ).status_code == 200
    assert client.get(f"/api/tasks/{world.targets['task_id']}/").status_code == 200
    client.force_login(world.office)
    assert client.get(reverse("plans:review", kwargs={"plan_id": world.plan.pk})
                      ).status_code == 200
