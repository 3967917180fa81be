"""At month-end the board shows the latest reports and links to all of them, a page at a time."""
from datetime import date
from unittest import mock

import pytest
from django.urls import reverse

from shidian.plans.models import Task, TaskUnit
from shidian.reporting import services
from shidian.reporting.services import ReportInput
from shidian.reporting.testing import at, ensure_catalogs, make_world
from shidian.web.views import reporting as views

NOW = at(date(2021, 6, 20))


@pytest.fixture(autouse=True)
def _setup(settings):
    ensure_catalogs()
    settings.LANGUAGE_CODE = "zh-hans"
    with mock.patch("django.utils.timezone.now", return_value=NOW):
        yield


@pytest.fixture
def busy_world(db):
    """The 泸县 world with one more report than the board shows: the civil affairs bureau
    reports on LATEST_REPORTS + 1 extra tasks, in order, so the first one is the oldest."""
    world = make_world()
    world.extra = []
    for i in range(views.LATEST_REPORTS + 1):
        task = Task.objects.create(plan=world.plan, order=10 + i, path=str(10 + i),
                                   title=f"月末任务{i:02d}", first_version=1)
        TaskUnit.objects.create(task=task, role="lead", name="泸县民政局", agency=world.civil)
        services.report_submit(user=world.liaison_civil, task_id=task.pk, agency_id=None,
                               period="2021M06", data=ReportInput(percent=10),
                               now=at(date(2021, 6, 1 + i)))
        world.extra.append(task)
    return world


def test_board_lists_the_latest_reports_and_links_to_all(client, busy_world):
    client.force_login(busy_world.office)
    page = client.get(reverse("reporting:dashboard", args=[busy_world.plan.pk])
                      + "?period=2021M06").content.decode()
    total = views.LATEST_REPORTS + 1
    assert f"最近 {views.LATEST_REPORTS} 份，共 {total} 份" in page
    newest, oldest = busy_world.extra[-1], busy_world.extra[0]
    assert newest.title in page and oldest.title not in page
    link = reverse("reporting:period_reports", args=[busy_world.plan.pk]) + "?period=2021M06"
    assert link in page

    listing = client.get(link).content.decode()
    assert f"共 {total} 份" in listing
    assert all(task.title in listing for task in busy_world.extra)


def test_all_reports_page_by_page(client, busy_world, monkeypatch):
    monkeypatch.setattr(views, "REPORTS_PER_PAGE", 5)
    client.force_login(busy_world.office)
    url = reverse("reporting:period_reports", args=[busy_world.plan.pk]) + "?period=2021M06"
    first = client.get(url).content.decode()
    last_page = (views.LATEST_REPORTS + 1 + 4) // 5
    assert f"第 1 页，共 {last_page} 页" in first or f"1 / {last_page}" in first
    shown = [t.title for t in busy_world.extra if t.title in first]
    assert len(shown) == 5
    beyond = client.get(url + f"&page={last_page + 3}").content.decode()  # clamps to the last
    assert busy_world.extra[-1].title in beyond or busy_world.extra[0].title in beyond


def test_outsiders_do_not_see_the_list(client, busy_world):
    url = reverse("reporting:period_reports", args=[busy_world.plan.pk]) + "?period=2021M06"
    client.force_login(busy_world.office_other)  # 合江县's office
    assert client.get(url).status_code == 404
    client.force_login(busy_world.liaison_civil)  # a liaison has no dashboards
    assert client.get(url).status_code == 404
    client.force_login(busy_world.office)
    assert client.get(url.replace("2021M06", "2021M13")).status_code == 404  # no such month


def test_the_period_picker_offers_the_further_cycles(client, db):
    """A plan with a half-yearly summary beside its monthly reports: the board's picker lists
    the summary's periods in their own group, and choosing one shows that period."""
    from shidian.reporting.models import ExtraCycle

    world = make_world()
    ExtraCycle.objects.create(plan=world.plan, key="summary", label="半年总结",
                              kind="half_yearly", due_day=10, grace_days=10,
                              starts_on=date(2021, 1, 1))
    client.force_login(world.office)
    url = reverse("reporting:dashboard", args=[world.plan.pk])
    page = client.get(url).content.decode()
    assert '<optgroup label="半年总结">' in page
    assert 'value="2021H1"' in page
    chosen = client.get(url + "?period=2021H1").content.decode()
    assert 'value="2021H1" selected' in chosen
