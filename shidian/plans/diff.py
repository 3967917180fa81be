"""What changed between two versions of a plan (or a version and the working draft)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _

from .models import Plan

# Compared fields of a task, with their labels, in display order.
TASK_FIELDS = {
    "path": _("number"),
    "title": _("task"),
    "content": _("details"),
    "deadline": _("deadline"),
    "deadline_text": _("deadline as written"),
    "recurrence": _("recurrence"),
    "phase": _("phase"),
    "parent": _("parent task"),
    "lead_units": _("lead units"),
    "units": _("responsible units"),
}
PLAN_FIELDS = {
    "title": _("title"),
    "issuer": _("issuer"),
    "period_start": _("period start"),
    "period_end": _("period end"),
}
DRAFT = "draft"


@dataclass
class FieldChange:
    field: str
    label: str
    old: str
    new: str


@dataclass
class TaskChange:
    task: dict[str, Any]
    changes: list[FieldChange]


@dataclass
class PlanDiff:
    a: str
    b: str
    added: list[dict[str, Any]] = field(default_factory=list)
    removed: list[dict[str, Any]] = field(default_factory=list)
    changed: list[TaskChange] = field(default_factory=list)
    plan: list[FieldChange] = field(default_factory=list)
    phases: list[FieldChange] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.plan or self.phases)


def _units_text(units: list[dict[str, Any]]) -> str:
    shown = []
    for unit in units:
        agency = unit.get("agency")
        shown.append(f"{unit['name']}（{agency}）" if agency and agency != unit["name"]
                     else unit["name"] if agency else f"{unit['name']}（?）")
    return "、".join(shown)


def _task_values(task: dict[str, Any], paths: dict[Any, str]) -> dict[str, str]:
    values = {}
    for key in TASK_FIELDS:
        if key in ("lead_units", "units"):
            values[key] = _units_text(task.get(key) or [])
        elif key == "parent":
            values[key] = paths.get(task.get("parent_id"), "")
        else:
            value = task.get(key)
            values[key] = "" if value is None else str(value)
    return values


def snapshot_diff(old: dict[str, Any], new: dict[str, Any], *, a: str = "",
                  b: str = "") -> PlanDiff:
    """Tasks added, removed and changed (field by field) from ``old`` to ``new`` snapshots.

    Tasks are matched by their id, so a renumbered or retitled task shows as changed, not as
    removed and added.
    """
    diff = PlanDiff(a=a, b=b)
    old_tasks = {t["id"]: t for t in old.get("tasks", [])}
    new_tasks = {t["id"]: t for t in new.get("tasks", [])}
    old_paths = {t["id"]: t.get("path") or t.get("title") for t in old_tasks.values()}
    new_paths = {t["id"]: t.get("path") or t.get("title") for t in new_tasks.values()}
    for task_id, task in new_tasks.items():
        if task_id not in old_tasks:
            diff.added.append(task)
            continue
        before = _task_values(old_tasks[task_id], old_paths)
        after = _task_values(task, new_paths)
        changes = [FieldChange(k, str(TASK_FIELDS[k]), before[k], after[k])
                   for k in TASK_FIELDS if before[k] != after[k]]
        if changes:
            diff.changed.append(TaskChange(task=task, changes=changes))
    diff.removed = [t for task_id, t in old_tasks.items() if task_id not in new_tasks]
    old_plan, new_plan = old.get("plan", {}), new.get("plan", {})
    diff.plan = [FieldChange(k, str(label), str(old_plan.get(k) or ""), str(new_plan.get(k) or ""))
                 for k, label in PLAN_FIELDS.items()
                 if (old_plan.get(k) or "") != (new_plan.get(k) or "")]
    old_phases = _phases_text(old.get("phases", []))
    new_phases = _phases_text(new.get("phases", []))
    if old_phases != new_phases:
        diff.phases = [FieldChange("phases", str(_("phases")), old_phases, new_phases)]
    return diff


def _phases_text(phases: list[dict[str, Any]]) -> str:
    return "；".join(f"{p.get('name')} {p.get('start') or ''}–{p.get('end') or ''}"
                    for p in phases)


def plan_versions_diff(*, plan: Plan, a: int | str, b: int | str) -> PlanDiff | None:
    """The changes from version ``a`` to version ``b`` of ``plan``; ``b`` (or ``a``) may be
    ``"draft"``, the working copy. None when a version does not exist."""
    from .selectors import plan_snapshot

    def load(number: int | str) -> dict[str, Any] | None:
        if str(number) == DRAFT:
            return plan_snapshot(plan=plan)
        try:
            version = plan.versions.get(number=int(number))
        except (ValueError, TypeError, plan.versions.model.DoesNotExist):
            return None
        return version.snapshot

    old, new = load(a), load(b)
    if old is None or new is None:
        return None
    return snapshot_diff(old, new, a=str(a), b=str(b))
