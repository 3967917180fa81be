"""The selection demo on seed 09: loaded twice, it adds nothing the second time; it leaves a
visitor the expert's declaration, 四川's forwarding and the office's approval to do."""
from __future__ import annotations

import pytest
from django.utils import timezone

from shidian.demo.selection import selection_demo_load
from shidian.orgs.models import Role, User
from shidian.reporting.selectors import workspace_items
from shidian.selection import access, services
from shidian.selection.models import Application, ApplicationStatus, ReviewStatus
from shidian.selection.testing import import_seed_09, more_divisions

pytestmark = pytest.mark.django_db


def test_the_selection_demo_loads_once_and_leaves_work_for_each_role():
    more_divisions()
    User.objects.create_user("demo_admin", role=Role.ADMIN, is_superuser=True)
    office = User.objects.create_user("demo_office", role=Role.OFFICE)
    import_seed_09(office)
    selection_demo_load(log=lambda message: None)
    counts = (Application.objects.count(), User.objects.count())
    selection_demo_load(log=lambda message: None)
    assert (Application.objects.count(), User.objects.count()) == counts == (4, counts[1])

    waiting = Application.objects.get(agency__name="共青团泸州市江阳区委员会")
    assert waiting.status == ApplicationStatus.SUBMITTED
    assert waiting in access.applications_visible_to(user=User.objects.get(
        username="demo_office_51"))
    expert = User.objects.get(username="demo_expert")
    assert set(expert.selection_reviews.values_list("status", flat=True)) == {
        ReviewStatus.ASSIGNED}
    luxian = Application.objects.get(agency__name="共青团泸县委员会")
    assert luxian.score is not None and luxian.rank == 1

    site = services.application_approve(user=office, application_id=luxian.pk)
    pilot = User.objects.get(username="demo_pilot_youth")
    tasks = {item.task.plan_id for item in workspace_items(user=pilot,
                                                           today=timezone.localdate())}
    assert tasks == {site.plan_id}
