"""The selection demo on seed 09: loaded twice, it adds nothing the second time; it approves
四川's two county committees within the quota, each a pilot site with its task book and its
reporting, and leaves a visitor the expert's declaration, 四川's forwarding and 湖北's approval."""
from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.utils import timezone

from shidian.demo.selection import selection_demo_load
from shidian.orgs.models import Role, User
from shidian.reporting.models import ReportingCycle
from shidian.reporting.selectors import workspace_items
from shidian.selection import access, services
from shidian.selection.models import Application, ApplicationStatus, PilotSite, ReviewStatus
from shidian.selection.testing import import_seed_09, more_divisions

pytestmark = pytest.mark.django_db


def test_the_selection_demo_loads_once_and_leaves_work_for_each_role():
    more_divisions()
    User.objects.create_user("demo_admin", role=Role.ADMIN, is_superuser=True)
    office = User.objects.create_user("demo_office", role=Role.OFFICE)
    import_seed_09(office)
    selection_demo_load(log=lambda message: None)
    counts = (Application.objects.count(), User.objects.count(), PilotSite.objects.count(),
              LogEntry.objects.count())
    selection_demo_load(log=lambda message: None)
    assert (Application.objects.count(), User.objects.count(), PilotSite.objects.count(),
            LogEntry.objects.count()) == counts == (4, counts[1], 2, counts[3])

    waiting = Application.objects.get(agency__name="共青团泸州市江阳区委员会")
    assert waiting.status == ApplicationStatus.SUBMITTED
    assert waiting in access.applications_visible_to(user=User.objects.get(
        username="demo_office_51"))
    expert = User.objects.get(username="demo_expert")
    assert set(expert.selection_reviews.values_list("status", flat=True)) == {
        ReviewStatus.ASSIGNED}
    luxian = Application.objects.get(agency__name="共青团泸县委员会")
    assert luxian.score is not None and luxian.rank == 1

    # 四川's two places for 县级团委 are filled by 泸县 and 合江县; 湖北's 江岸区 waits.
    approved = Application.objects.filter(status=ApplicationStatus.APPROVED)
    assert set(approved.values_list("agency__name", flat=True)) == {
        "共青团泸县委员会", "共青团合江县委员会"}
    assert not approved.filter(over_quota=True).exists()
    assert Application.objects.get(agency__name="共青团武汉市江岸区委员会").status == \
        ApplicationStatus.FORWARDED
    site = PilotSite.objects.get(application=luxian)
    # The task book: the category's tasks of the programme plan, led by the site, published,
    # reporting quarterly.
    plan = site.plan
    assert plan.parent_id == luxian.call.plan_id and plan.status == "published"
    assert plan.tasks.exists()
    assert sorted(plan.tasks.values_list("parent_task_id", flat=True)) == sorted(
        luxian.category.task_ids)
    assert ReportingCycle.objects.filter(plan=plan, kind="quarterly").exists()
    assert site in access.sites_visible_to(user=User.objects.get(username="demo_pilot_youth"))

    assert services.application_approve(user=office, application_id=luxian.pk) == site
    pilot = User.objects.get(username="demo_pilot_youth")
    tasks = {item.task.plan_id for item in workspace_items(user=pilot,
                                                           today=timezone.localdate())}
    assert tasks == {site.plan_id}
