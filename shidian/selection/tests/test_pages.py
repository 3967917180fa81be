"""The selection pages as the office, an applicant, a provincial office and an expert meet
them; and the scope: every page and API route that takes an id, called by outsiders (another
county's office, another province's office, an uninvolved liaison, an expert not assigned),
answers 404 and changes nothing."""
from __future__ import annotations

import hashlib
import json
from datetime import date

import pytest
from auditlog.models import LogEntry
from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from shidian.selection import services
from shidian.selection.models import ApplicationStatus, ReviewAssignment
from shidian.selection.testing import at, scored_application, submitted_application

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db):
    """The pages run on the real clock: the call closes in 19 days from today."""
    from django.utils import timezone

    from shidian.selection.testing import make_selection_world

    return make_selection_world(today=timezone.localdate())


def login(client, user):
    client.force_login(user)


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_office_sees_the_quota_findings_of_seed_09(client, world):
    login(client, world.office)
    page = client.get(reverse("selection:quotas", args=[world.call.pk])).content.decode()
    assert 'data-testid="quota-findings"' in page
    assert "国有和国有控股企业30家" in page  # the text's count the table's 40 disagrees with
    assert 'data-finding="mismatch"' in page
    call_page = client.get(reverse("selection:call", args=[world.call.pk])).content.decode()
    assert "youth_members &gt;= 30" in call_page and "方案完善" in call_page


def test_an_applicant_fills_in_uploads_and_submits_through_the_pages(client, world):
    user = world.applicants["luxian"]
    login(client, user)
    assert world.call.title in client.get(reverse("selection:index")).content.decode()
    response = client.post(reverse("selection:apply", args=[world.call.pk]), {
        "agency": world.agencies["luxian"].pk, "kind": "团县(市、区、旗)委",
        "category": world.category("县级团委").pk, "region": "四川",
        "title": "泸县共青团基层组织建设试点申报书"})
    application = world.agencies["luxian"].applications.get()
    assert response["Location"] == reverse("selection:application", args=[application.pk])
    url = reverse("selection:application", args=[application.pk])
    # Submitting with nothing declared names the condition that is not met.
    page = client.post(url, {"action": "submit"}, follow=True).content.decode()
    assert "党政领导重视支持共青团工作" in page
    from shidian.reporting.testing import pdf_bytes, upload

    client.post(url, {"action": "upload", "file": upload("申报书.pdf", pdf_bytes("x"))})
    leaders = world.call.conditions.get(text="党政领导重视支持共青团工作")
    client.post(url, {"action": "save", "title": application.title, "summary": "试点思路",
                      f"declare-{leaders.pk}": "on"})
    client.post(url, {"action": "submit"})
    client.post(url, {"action": "submit"})  # a double click
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED and application.summary == "试点思路"
    page = client.get(reverse("selection:index")).content.decode()
    assert 'data-status="submitted"' in page


def test_the_province_forwards_and_the_expert_declares_then_scores(client, world):
    application = submitted_application(world)
    login(client, world.office_sc)
    index = client.get(reverse("selection:index")).content.decode()
    assert f'data-application="{application.pk}"' in index
    client.post(reverse("selection:forward", args=[application.pk]))
    application.refresh_from_db()
    assert application.status == ApplicationStatus.FORWARDED
    services.reviews_assign(user=world.office, call_id=world.call.pk,
                            expert_ids=[world.experts[0].pk])
    review = ReviewAssignment.objects.get(application=application, expert=world.experts[0])
    login(client, world.experts[0])
    url = reverse("selection:review", args=[review.pk])
    first = client.get(url).content.decode()
    assert 'data-testid="declaration"' in first and "（申报内容）" not in first
    client.post(url, {"action": "declare", "conflict": "no"})
    sheet = client.get(url).content.decode()
    assert "（申报内容）" in sheet and 'data-testid="score-form"' in sheet
    items = list(world.call.score_items.all())
    client.post(url, {"action": "score", **{f"score-{i.pk}": "90" for i in items}})
    review.refresh_from_db()
    assert review.total == 90
    application.refresh_from_db()
    assert application.score == 90 and application.rank == 1


def test_the_office_approves_on_the_board_and_is_refused_over_the_quota(
        client, world, django_assert_max_num_queries):
    first = scored_application(world, "luxian", marks=(90, 88, 86))
    second = scored_application(world, "hejiang", marks=(80, 80, 80))
    third = scored_application(world, "jiangyang", marks=(70, 70, 70))
    login(client, world.office)
    board = reverse("selection:board", args=[world.call.pk])
    for application in (first, second):
        client.post(reverse("selection:decide", args=[application.pk]), {"decision": "approve"})
    page = client.post(reverse("selection:decide", args=[third.pk]), {"decision": "approve"},
                       follow=True).content.decode()
    assert "四川" in page and 'data-status="forwarded"' in page
    third.refresh_from_db()
    assert third.status == ApplicationStatus.FORWARDED
    with django_assert_max_num_queries(12):  # one query for the rows, whatever their number
        page = client.get(board).content.decode()
    assert page.count('data-status="approved"') == 2
    site = first.site
    response = client.get(reverse("selection:taskbook", args=[site.pk]))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")


# -- scope ----------------------------------------------------------------------------------
def _walk(patterns, namespace=None):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, entry.namespace or namespace)
        elif isinstance(entry, URLPattern) and entry.name:
            yield namespace, entry.name, entry.pattern.converters


def _digest() -> str:
    digest = hashlib.sha256()
    for label in ("selection", "plans", "reporting"):
        for model in apps.get_app_config(label).get_models():
            fields = [f.attname for f in model._meta.concrete_fields]
            rows = list(model.objects.order_by("pk").values(*fields))
            digest.update(json.dumps(rows, default=str, sort_keys=True).encode())
    digest.update(str(LogEntry.objects.count()).encode())
    return digest.hexdigest()


@pytest.fixture
def scoped(world):
    """A 泸县 application, forwarded by 四川, scored, approved: a site with its task book."""
    application = scored_application(world, "luxian", marks=(90, 80, 70))
    site = services.application_approve(user=world.office, application_id=application.pk,
                                        now=at(date(2009, 3, 26)))
    review = application.reviews.first()
    ids = {"plan_id": world.plan.pk, "call_id": world.call.pk,
           "application_id": application.pk, "document_id": application.documents.get().pk,
           "review_id": review.pk, "site_id": site.pk}
    # An expert of the panel who is not on this review.
    outsiders = [world.office_county, world.office_hb, world.outsider_liaison,
                 world.experts[4]]
    return world, ids, outsiders


# An open call is public to every applicant agency: its apply page answers them (a POST
# without data creates nothing); no other route does.
PUBLIC_TO_APPLICANTS = {"apply"}


def test_outsiders_get_not_found_on_every_selection_page(client, scoped):
    world, ids, outsiders = scoped
    urls = []
    for namespace, name, converters in _walk(get_resolver().url_patterns):
        if namespace != "selection" or not converters:
            continue
        missing = [k for k in converters if k not in ids]
        assert not missing, f"selection:{name} takes {missing}: add it to the scope test"
        urls.append((name, reverse(f"selection:{name}", kwargs={k: ids[k] for k in converters})))
    assert len(urls) >= 12
    before = _digest()
    leaks = []
    for user in outsiders:
        login(client, user)
        for name, url in urls:
            for method in ("get", "post"):
                response = getattr(client, method)(url)
                if name in PUBLIC_TO_APPLICANTS and user == world.outsider_liaison:
                    continue
                if response.status_code not in (403, 404, 405):
                    leaks.append(f"{user.username} {method.upper()} {url} -> "
                                 f"{response.status_code}")
                elif "（申报内容）" in response.content.decode():
                    leaks.append(f"{user.username} {url} shows the application")
    assert not leaks, "\n".join(leaks)
    assert _digest() == before


def test_outsiders_get_not_found_on_every_selection_api_route(scoped):
    from shidian.api.urls import router

    world, ids, outsiders = scoped
    targets = {"selection-calls": ids["call_id"], "selection-applications":
               ids["application_id"], "selection-reviews": ids["review_id"],
               "selection-sites": ids["site_id"]}
    urls = []
    for prefix, viewset, basename in router.registry:
        if not basename.startswith("selection-"):
            continue
        assert basename in targets, f"{basename}: add it to the scope test"
        pk = targets[basename]
        urls.append((f"/api/{prefix}/{pk}/", ("get",)))
        for extra in viewset.get_extra_actions():
            if extra.detail:
                urls.append((f"/api/{prefix}/{pk}/{extra.url_path}/", tuple(extra.mapping)))
    assert len(urls) >= 8
    # A published call (申报通知) is public: applicants and provincial offices read it, and an
    # applicant may apply to it (an empty request is refused and creates nothing).
    public = {f"/api/selection/calls/{ids['call_id']}/",
              f"/api/selection/calls/{ids['call_id']}/apply/"}
    before = _digest()
    leaks = []
    for user in outsiders:
        client = api(user)
        for url, methods in urls:
            for method in methods:
                if url in public and user in (world.outsider_liaison, world.office_hb):
                    continue
                response = getattr(client, method)(url, {}, format="json")
                if response.status_code not in (403, 404, 405):
                    leaks.append(f"{user.username} {method.upper()} {url} -> "
                                 f"{response.status_code}")
    assert not leaks, "\n".join(leaks)
    assert _digest() == before
