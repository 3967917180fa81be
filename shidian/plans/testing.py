"""Builders for tests of every app: a programme with a plan, tasks and units.

``make_plan`` writes rows directly (fast, no parser); ``import_seed_plan`` goes through the
real import service with a seed plan's gold decomposition.
"""
from __future__ import annotations

from typing import Any

from shidian.orgs.models import Agency
from shidian.orgs.testing import make_divisions

from .models import Plan, PlanStatus, Programme, Task, TaskUnit, UnitRole


def make_programme(name: str = "安宁疗护试点", division_code: str | None = "5105") -> Programme:
    make_divisions()
    programme, _ = Programme.objects.get_or_create(name=name, division_id=division_code)
    return programme


def make_plan(title: str, division_code: str, *, tasks: list[dict[str, Any]] | None = None,
              published: bool = True, programme: Programme | None = None) -> Plan:
    """A plan with ``tasks``: dicts of ``title``, ``leads`` and ``units`` (Agency objects),
    optional ``deadline``. ``published`` gives it version 1 with every task published."""
    programme = programme or make_programme(division_code=division_code[:4])
    plan = Plan.objects.create(programme=programme, title=title, division_id=division_code,
                               status=PlanStatus.PUBLISHED if published else PlanStatus.DRAFT,
                               version=1 if published else 0)
    for order, spec in enumerate(tasks or []):
        task = Task.objects.create(plan=plan, order=order, path=str(order + 1),
                                   title=spec["title"], deadline=spec.get("deadline"),
                                   first_version=1 if published else None)
        _units(task, UnitRole.LEAD, spec.get("leads", ()))
        _units(task, UnitRole.RESPONSIBLE, spec.get("units", ()))
    return plan


def _units(task: Task, role: str, agencies: tuple[Agency, ...]) -> None:
    for order, agency in enumerate(agencies):
        TaskUnit.objects.create(task=task, role=role, name=agency.name, agency=agency,
                                order=order)


def fresh_catalogs() -> None:
    from shidian.core.testing import reload_catalogs

    reload_catalogs()
