"""Reads of the plans app: lists, the review table, unresolved units, coverage, history."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils.translation import gettext_lazy
from rapidfuzz import fuzz, process

from shidian.orgs.models import Agency, User
from shidian.orgs.selectors import agency_candidates

from .access import plans_visible_to, tasks_visible_to
from .models import Phase, Plan, PlanVersion, Task, TaskUnit, UnitRole

# A suggested higher-level task must be at least this similar (rapidfuzz 0..100).
MAPPING_MIN_SCORE = 60


def plan_list(*, user: User, programme_id: int | str | None = None) -> QuerySet[Plan]:
    plans = plans_visible_to(user=user)
    if programme_id:
        plans = plans.filter(programme_id=programme_id)
    return (plans.select_related("programme", "division", "parent")
            .annotate(task_count=Count("tasks", distinct=True),
                      unresolved_count=Count("tasks__units",
                                             filter=Q(tasks__units__agency__isnull=True),
                                             distinct=True))
            .order_by("programme__name", "division_id", "title"))


def _units_prefetch() -> Prefetch:
    return Prefetch("units", queryset=TaskUnit.objects.select_related("agency__division")
                    .order_by("role", "order", "pk"))


def plan_tasks(*, plan: Plan, user: User | None = None) -> list[Task]:
    """The plan's tasks in order, with ``depth``, ``leads`` and ``others`` set for display.

    With ``user``, only the tasks that user may see (a liaison's own tasks).
    """
    tasks_qs = plan.tasks.all()
    if user is not None:
        tasks_qs = tasks_qs.filter(pk__in=tasks_visible_to(user=user).values("pk"))
    tasks = list(tasks_qs.select_related("phase", "parent_task", "parent_task__plan")
                 .prefetch_related(_units_prefetch()).order_by("order", "pk"))
    parents = dict(Task.objects.filter(plan_id=plan.pk).values_list("pk", "parent_id"))
    for task in tasks:
        depth, up = 0, task.parent_id
        while up is not None and depth < 10:
            depth, up = depth + 1, parents.get(up)
        task.depth = depth  # type: ignore[attr-defined]
        units = list(task.units.all())
        task.leads = [u for u in units if u.role == UnitRole.LEAD]  # type: ignore[attr-defined]
        task.others = [u for u in units  # type: ignore[attr-defined]
                       if u.role == UnitRole.RESPONSIBLE]
    return tasks


def task_with_units(*, task: Task) -> Task:
    units = list(task.units.select_related("agency__division").order_by("role", "order", "pk"))
    task.leads = [u for u in units if u.role == UnitRole.LEAD]  # type: ignore[attr-defined]
    task.others = [u for u in units  # type: ignore[attr-defined]
                   if u.role == UnitRole.RESPONSIBLE]
    return task


@dataclass
class UnresolvedUnit:
    name: str
    unit_id: int
    roles: set[str] = field(default_factory=set)
    count: int = 0
    candidates: list[tuple[Agency, float]] = field(default_factory=list)

    @property
    def is_lead(self) -> bool:
        return UnitRole.LEAD in self.roles


def plan_unresolved_units(*, plan: Plan, with_candidates: bool = True) -> list[UnresolvedUnit]:
    """Each unit name of the plan not yet matched to an agency, lead units first, with the
    agencies it may mean."""
    found: dict[str, UnresolvedUnit] = {}
    rows = (TaskUnit.objects.filter(task__plan=plan, agency__isnull=True)
            .order_by("task__order", "role", "order").values_list("pk", "name", "role"))
    for pk, name, role in rows:
        entry = found.setdefault(name, UnresolvedUnit(name=name, unit_id=pk))
        entry.roles.add(role)
        entry.count += 1
    result = sorted(found.values(), key=lambda e: (not e.is_lead, -e.count, e.name))
    if with_candidates:
        for entry in result:
            entry.candidates = agency_candidates(name=entry.name, division=plan.division)
    return result


def unit_candidates(*, plan: Plan, query: str, limit: int = 8) -> list[tuple[Agency, float]]:
    return agency_candidates(name=query, division=plan.division, limit=limit)


def _unit_snapshot(unit: TaskUnit) -> dict[str, Any]:
    return {"name": unit.name, "agency_id": unit.agency_id,
            "agency": unit.agency.name if unit.agency else None}


def plan_snapshot(*, plan: Plan) -> dict[str, Any]:
    """The frozen form of a plan's decomposition, stored in a PlanVersion."""
    tasks = (plan.tasks.select_related("phase", "parent")
             .prefetch_related(Prefetch("units", queryset=TaskUnit.objects.select_related(
                 "agency").order_by("role", "order", "pk")))
             .order_by("order", "pk"))
    rows = []
    for task in tasks:
        units = list(task.units.all())
        rows.append({
            "id": task.pk, "path": task.path, "title": task.title, "content": task.content,
            "parent_id": task.parent_id,
            "deadline": task.deadline.isoformat() if task.deadline else None,
            "deadline_text": task.deadline_text, "recurrence": task.recurrence,
            "phase": task.phase.name if task.phase else None,
            "lead_units": [_unit_snapshot(u) for u in units if u.role == UnitRole.LEAD],
            "units": [_unit_snapshot(u) for u in units if u.role == UnitRole.RESPONSIBLE],
        })
    phases = [{"name": p.name, "start": p.start.isoformat() if p.start else None,
               "end": p.end.isoformat() if p.end else None, "text": p.text}
              for p in Phase.objects.filter(plan=plan).order_by("order")]
    return {
        "plan": {"title": plan.title, "issuer": plan.issuer,
                 "division": plan.division_id,
                 "period_start": plan.period_start.isoformat() if plan.period_start else None,
                 "period_end": plan.period_end.isoformat() if plan.period_end else None},
        "phases": phases,
        "tasks": rows,
    }


def plan_versions(*, plan: Plan) -> QuerySet[PlanVersion]:
    return plan.versions.select_related("published_by").order_by("-number")


def plan_version_get(*, plan: Plan, number: int | str) -> PlanVersion | None:
    try:
        return plan.versions.select_related("published_by").get(number=int(number))
    except (PlanVersion.DoesNotExist, ValueError, TypeError):
        return None


def plan_findings(*, plan: Plan) -> QuerySet:
    return plan.findings.order_by("resolved", "pk")


# --- cascade --------------------------------------------------------------------------------


def plan_parent_choices(*, user: User, plan: Plan) -> QuerySet[Plan]:
    """The plans this plan may be linked to: of its own or a higher division (national plans
    above all), visible to the user, neither the plan itself nor one linked below it."""
    from shidian.orgs.selectors import ancestor_codes

    plans = plans_visible_to(user=user).exclude(pk=plan.pk).select_related("division")
    if plan.division_id is None:
        above = Q(division__isnull=True)
    else:
        above = (Q(division_id__in=[*ancestor_codes(plan.division_id), plan.division_id])
                 | Q(division__isnull=True))
    below = _plans_below(plan)
    return plans.filter(above).exclude(pk__in=below).order_by("division_id", "title")


def _plans_below(plan: Plan) -> set[int]:
    found: set[int] = set()
    frontier = {plan.pk}
    while frontier:
        frontier = set(Plan.objects.filter(parent_id__in=frontier)
                       .values_list("pk", flat=True)) - found
        found |= frontier
    return found


def mapping_suggestions(*, plan: Plan) -> dict[int, tuple[Task, float]]:
    """For each task of ``plan`` not yet mapped, the most similar task of its higher plan."""
    if plan.parent_id is None:
        return {}
    parents = list(Task.objects.filter(plan_id=plan.parent_id).order_by("order", "pk"))
    if not parents:
        return {}
    titles = [p.title for p in parents]
    suggestions = {}
    for task in plan.tasks.filter(parent_task__isnull=True).order_by("order"):
        best = process.extractOne(task.title, titles, scorer=fuzz.WRatio,
                                  score_cutoff=MAPPING_MIN_SCORE)
        if best is not None:
            suggestions[task.pk] = (parents[best[2]], round(best[1], 1))
    return suggestions


@dataclass
class CoverageRow:
    task: Task
    taken_up_by: list[Task]


def plan_coverage(*, user: User, plan: Plan) -> tuple[list[Plan], list[CoverageRow]]:
    """The lower-level plans linked to ``plan`` (those the user may see) and, for each task of
    ``plan``, the tasks of those plans that take it up. A row with none is not covered."""
    children = list(plans_visible_to(user=user).filter(parent=plan)
                    .select_related("division").order_by("division_id", "title"))
    taken: dict[int, list[Task]] = defaultdict(list)
    for child_task in (Task.objects.filter(plan__in=children, parent_task__plan=plan)
                       .select_related("plan", "plan__division").order_by("plan_id", "order")):
        taken[child_task.parent_task_id].append(child_task)  # type: ignore[index]
    rows = [CoverageRow(task=t, taken_up_by=taken.get(t.pk, []))
            for t in plan_tasks(plan=plan)]
    return children, rows


# --- audit history --------------------------------------------------------------------------


@dataclass
class HistoryEntry:
    entry: LogEntry
    action: str
    what: str
    changes: list[tuple[str, str, str]]


ACTIONS = {LogEntry.Action.CREATE: gettext_lazy("Created"),
           LogEntry.Action.UPDATE: gettext_lazy("Changed"),
           LogEntry.Action.DELETE: gettext_lazy("Deleted")}
HIDDEN_FIELDS = {"id", "task", "plan", "order", "source_start", "source_end"}
FK_MODELS = {"agency": Agency, "phase": Phase, "parent_task": Task, "parent": Task}


def task_history(*, task: Task) -> list[HistoryEntry]:
    """Every audit entry of the task and its units (deleted units included): who, when, from
    where, and each field before and after."""
    task_ct = ContentType.objects.get_for_model(Task)
    unit_ct = ContentType.objects.get_for_model(TaskUnit)
    entries = list(LogEntry.objects.filter(
        Q(content_type=task_ct, object_pk=str(task.pk))
        | Q(content_type=unit_ct, additional_data__task_id=task.pk)
    ).select_related("actor", "content_type").order_by("-timestamp", "-pk"))
    ids: dict[str, set[str]] = defaultdict(set)
    for e in entries:
        for name, values in (e.changes_dict or {}).items():
            if name in FK_MODELS:
                ids[name].update(v for v in values if v and v != "None")
    names: dict[tuple[str, str], str] = {}
    for fk, model in FK_MODELS.items():
        wanted = [v for v in ids.get(fk, ()) if v.isdigit()]
        for obj in model.objects.filter(pk__in=wanted):
            names[(fk, str(obj.pk))] = str(obj)
    result = []
    for e in entries:
        model = e.content_type.model_class()
        changes = []
        for name, values in (e.changes_dict or {}).items():
            if name in HIDDEN_FIELDS:
                continue
            try:
                field = model._meta.get_field(name) if model else None
            except FieldDoesNotExist:  # a field since removed from the model
                field = None
            if field is not None and not field.concrete:
                continue  # reverse relations that auditlog lists on create
            label = str(getattr(field, "verbose_name", name))
            choices = dict(field.choices) if field is not None and field.choices else {}
            old, new = (list(values) + ["", ""])[:2]
            changes.append((label, _shown(name, old, names, choices),
                            _shown(name, new, names, choices)))
        what = str(model._meta.verbose_name) if model else ""
        result.append(HistoryEntry(entry=e, action=str(ACTIONS.get(e.action, e.action)),
                                   what=f"{what} {e.object_repr}".strip(), changes=changes))
    return result


def _shown(field_name: str, value: Any, names: dict[tuple[str, str], str],
           choices: dict[Any, Any]) -> str:
    if value is None or value == "None":
        return ""
    if value in choices:
        return str(choices[value])
    return names.get((field_name, str(value)), str(value))
