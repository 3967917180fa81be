"""The demo a visitor sees: every seed plan in, agencies matched, people to log in as, reports.

Loading the demo parses all 24 seed plans, so one test loads it once and checks it whole.
"""
from __future__ import annotations

import re

import pytest

from shidian.demo.logins import DEMO_PASSWORD, demo_logins
from shidian.demo.services import demo_load, is_registrable_unit
from shidian.cases.models import Case
from shidian.orgs.models import Division, Role, User
from shidian.orgs.services import divisions_load
from shidian.plans.models import Plan, PlanStatus, TaskUnit, UnitRole
from shidian.reporting.models import ProgressReport


def unit_counts():
    return (Plan.objects.count(), User.objects.count(), ProgressReport.objects.count(),
            TaskUnit.objects.filter(agency__isnull=False).count())


@pytest.mark.django_db
def test_the_demo_loads_every_seed_plan_with_people_and_reports_and_twice_is_harmless(
        seed_dir, client):
    # The tree down to counties, and the townships of the provinces whose plans need them:
    # every seed plan's place, without 620,000 villages in a test.
    divisions_load(levels=3)
    for province in ("36", "51"):
        divisions_load(levels=4, province=province)
    # The one village the renovation demo works in (大田社区 of 玉蟾街道, 泸县).
    Division.objects.create(code="510521100015", name="大田社区居民委员会", level=5,
                            parent_id="510521100")
    demo_load(log=lambda message: None)

    seeds = sorted(p.name for p in seed_dir.glob("*.txt"))
    # Every seed plan once, besides the task books of the pilot sites the selection approved.
    assert sorted(Plan.objects.filter(pilot_site__isnull=True)
                  .values_list("source_name", flat=True)) == seeds
    assert Plan.objects.filter(pilot_site__isnull=False).count() == 2
    # A plan with tasks is published; seed 15b has only goals and phases and stays a draft.
    assert all(not plan.tasks.exists() for plan in Plan.objects.filter(status=PlanStatus.DRAFT))
    assert Plan.objects.filter(status=PlanStatus.PUBLISHED).count() >= len(seeds) - 1

    for source in ("05-luxian-hospice.txt", "12f-wuhan-psych.txt"):
        leads = TaskUnit.objects.filter(task__plan__source_name=source, role=UnitRole.LEAD)
        assert leads.exists()
        assert not leads.filter(agency__isnull=True).exists(), "every lead unit is matched"
        for unit in leads:
            assert unit.agency.users.filter(role=Role.LIAISON).exists(), unit.name

    reports = ProgressReport.objects.filter(task__plan__source_name="12f-wuhan-psych.txt")
    assert reports.filter(on_time=True).exists() and reports.filter(on_time=False).exists()

    shown_roles = " ".join(role for _, _, role in demo_logins())
    assert all(str(role.label) in shown_roles for role in Role)
    liaison = User.objects.filter(role=Role.LIAISON).first()
    response = client.post("/login/", {"username": liaison.username, "password": DEMO_PASSWORD})
    assert response.status_code == 302

    cases = Case.objects.filter(programme__name="泸县2026年农村危房改造")
    assert cases.count() == 8
    assert cases.filter(stage="village_review").exists() and cases.filter(stage="registered").exists()
    for case in cases:  # ID numbers are kept encrypted and shown masked
        assert "*" in case.subject_id_masked
        assert case.pii.startswith("gAAAAA") and not re.search(r"\d{17}[\dX]", case.pii)

    before = unit_counts()
    again = demo_load(log=lambda message: None)
    assert not again.plans_added and not again.users_added and again.reports_added == 0
    assert unit_counts() == before


@pytest.mark.parametrize("name, registrable", [
    ("区卫健委", True), ("县卫生健康局", True), ("各镇(街道)", False), ("有关部门", False),
    ("市住房城乡建设、财政等部门", False), ("各级、各类团组织", False),
])
def test_collective_names_are_not_registered_as_agencies(name, registrable):
    assert is_registrable_unit(name) is registrable
