"""Reads of the reporting app: the unit workspace, the office dashboard, histories, ledgers.

Every selector takes querysets already narrowed by ``access`` (or a plan the caller fetched
through it) and runs a fixed number of queries whatever the number of tasks, units or reports:
rows are fetched once and grouped in Python, never one query per row.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db.models import Prefetch, QuerySet

from shidian.core.periods import Period
from shidian.orgs.access import user_agency_ids
from shidian.orgs.models import Agency, User
from shidian.plans.access import tasks_visible_to
from shidian.plans.models import Phase, Plan, Task, TaskStatus, TaskUnit, UnitRole

from .cycles import CycleRule, rule_for_period, rule_of, rules_of
from .models import Evidence, ProgressReport, ReportStatus

DUE_SOON_DAYS = 30
COUNTED = (ReportStatus.SUBMITTED, ReportStatus.ACCEPTED)


# -- the unit workspace (我的任务) ------------------------------------------------------------
@dataclass
class WorkItem:
    """One of the unit's tasks, with what it owes for the open periods."""

    task: Task
    agency: Agency
    role: str
    rule: CycleRule
    due_period: Period | None
    due_date: date | None
    due_report: ProgressReport | None
    last_report: ProgressReport | None
    overdue: bool
    returned: list[ProgressReport] = field(default_factory=list)
    # The further cycles' reports open now (a weekly report, the annual summary), each an item
    # of its own rule with no ``extra`` of its own.
    extra: list[WorkItem] = field(default_factory=list)

    @property
    def owes_report(self) -> bool:
        return self.due_period is not None and (
            self.due_report is None or self.due_report.status not in COUNTED)

    @property
    def owed(self) -> list[WorkItem]:
        """This item and its further cycles' items that still owe a report."""
        return [i for i in (self, *self.extra) if i.owes_report]


def _due_period(rule: CycleRule, by_period: dict[str, ProgressReport],
                today: date) -> Period | None:
    """The period asked for now: the oldest open one this unit has not yet reported."""
    for period in rule.periods_open(today):
        report = by_period.get(period.id)
        if report is None or report.status not in COUNTED:
            return period
    return rule.period_due(today)


def workspace_items(*, user: User, today: date) -> list[WorkItem]:
    """The tasks where the user's agencies lead or are responsible (3 queries)."""
    agencies = user_agency_ids(user)
    units = (TaskUnit.objects
             .filter(agency_id__in=agencies, task__in=tasks_visible_to(user=user))
             .select_related("agency", "task", "task__plan", "task__plan__cycle", "task__phase")
             .prefetch_related("task__plan__extra_cycles")
             .order_by("task__plan__title", "task__order", "role"))
    by_pair: dict[tuple[int, int], TaskUnit] = {}
    for unit in units:
        key = (unit.task_id, unit.agency_id)
        if key not in by_pair or unit.role == UnitRole.LEAD:
            by_pair[key] = unit
    reports = (ProgressReport.objects
               .filter(task_id__in={k[0] for k in by_pair}, agency_id__in=agencies)
               .order_by("period"))
    history: dict[tuple[int, int], list[ProgressReport]] = defaultdict(list)
    for report in reports:
        history[(report.task_id, report.agency_id)].append(report)
    items = []
    for key, unit in by_pair.items():
        rule, *extra_rules = rules_of(unit.task.plan)
        mine = history.get(key, [])
        by_period = {r.period: r for r in mine}
        submitted = [r for r in mine if r.status in COUNTED]
        overdue = bool(unit.task.deadline and unit.task.status != TaskStatus.COMPLETED
                       and unit.task.deadline < today)

        def item(rule: CycleRule, due_period: Period | None, **more: Any) -> WorkItem:
            return WorkItem(task=unit.task, agency=unit.agency, role=unit.role, rule=rule,
                            due_period=due_period,
                            due_date=rule.due_date(due_period) if due_period else None,
                            due_report=by_period.get(due_period.id) if due_period else None,
                            overdue=overdue, **more)

        extra = [item(r, p, last_report=None) for r in extra_rules
                 if (p := _due_period(r, by_period, today)) is not None]
        items.append(item(
            rule, _due_period(rule, by_period, today),
            last_report=submitted[-1] if submitted else (mine[-1] if mine else None),
            returned=[r for r in mine if r.status == ReportStatus.RETURNED], extra=extra))
    return items


def report_for_form(*, task: Task, agency: Agency, period: Period) -> tuple[
        ProgressReport | None, ProgressReport | None]:
    """The report of this period (if any) and the unit's latest earlier one, to prefill from."""
    reports = list(ProgressReport.objects.filter(task=task, agency=agency, period__lte=period.id)
                   .prefetch_related("evidence", "includes").order_by("-period"))
    current = next((r for r in reports if r.period == period.id), None)
    earlier = next((r for r in reports if r.period < period.id), None)
    return current, earlier


def cooperating_reports(*, task: Task, agency: Agency, period: Period) -> list[ProgressReport]:
    """What the other units of the task sent for the period (a lead unit includes them)."""
    return list(ProgressReport.objects
                .filter(task=task, period=period.id, status__in=COUNTED)
                .exclude(agency=agency).select_related("agency").order_by("agency__name"))


def evidence_of_agency(*, agency: Agency, limit: int = 30) -> list[Evidence]:
    return list(Evidence.objects.filter(agency=agency).order_by("-uploaded_at")[:limit])


def report_detail(*, report_id: int, reports) -> ProgressReport:
    """A visible report with everything its page shows (``reports`` from access)."""
    return (reports.select_related("task", "task__plan", "agency", "submitted_by")
            .prefetch_related("evidence", Prefetch(
                "includes", queryset=ProgressReport.objects.select_related("agency")
                .prefetch_related("evidence")))
            .get(pk=report_id))


# -- the office dashboard (挂图作战) ----------------------------------------------------------
@dataclass
class UnitCompleteness:
    agency: Agency
    expected: int = 0
    reported: int = 0
    on_time: int = 0
    late: int = 0
    returned: int = 0
    missing: list[Task] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return round(100 * self.reported / self.expected, 1) if self.expected else 0.0


@dataclass
class UnitProgress:
    agency: Agency
    lead: int = 0
    responsible: int = 0
    completed: int = 0
    overdue: int = 0
    percent_sum: int = 0

    @property
    def percent(self) -> float:
        return round(self.percent_sum / self.lead, 1) if self.lead else 0.0


@dataclass
class Dashboard:
    plan: Plan
    period: Period
    rule: CycleRule
    today: date
    tasks: list[Task]
    by_status: dict[str, int]
    overdue: list[Task]
    due_soon: list[Task]
    phases: list[dict]
    units: list[UnitProgress]
    completeness: list[UnitCompleteness]
    expected: int
    reported: int
    on_time: int
    late: int
    returned: int
    reports: list[ProgressReport]
    leads: dict[int, list[str]]
    responsibles: dict[int, list[str]]
    # The plan's task units as loaded (agency and division joined), for plan_lights.
    task_units: list[TaskUnit] = field(default_factory=list)

    @property
    def completeness_rate(self) -> float:
        return round(100 * self.reported / self.expected, 1) if self.expected else 0.0

    @property
    def timeliness_rate(self) -> float:
        return round(100 * self.on_time / self.reported, 1) if self.reported else 0.0

    @property
    def average_percent(self) -> float:
        return round(sum(t.percent for t in self.tasks) / len(self.tasks), 1) if self.tasks else 0.0

    @property
    def due_date(self) -> date:
        return self.rule.due_date(self.period)

    @property
    def closes_after(self) -> date:
        return self.rule.closes_after(self.period)

    def chart_data(self) -> dict:
        """What the ECharts on the page draw (passed with |json_script)."""
        return {
            "status": [{"key": key, "name": str(TaskStatus(key).label), "value": n}
                       for key, n in self.by_status.items()],
            "gantt": self.phases,
            "today": self.today.isoformat(),
            "units": [{"name": u.agency.name, "percent": u.percent, "lead": u.lead,
                       "completed": u.completed, "overdue": u.overdue} for u in self.units],
            "completeness": {"reported": self.reported,
                             "missing": self.expected - self.reported,
                             "on_time": self.on_time, "late": self.late},
        }


def _agency_open_in(agency: Agency, period: Period) -> bool:
    """DHIS2's rule: a unit is expected to report only for periods in which it exists."""
    division = agency.division
    return agency.is_active and period.overlaps(division.opened_on, division.closed_on)


def _task_expected_in(task: Task, period: Period) -> bool:
    """A task finished before the period began owes no more reports."""
    return not (task.status == TaskStatus.COMPLETED and task.completed_on
                and task.completed_on < period.start)


def expected_pairs(tasks: Iterable[Task], units: Iterable[TaskUnit], period: Period
                   ) -> dict[tuple[int, int], str]:
    """(task, agency) → role for every report the period expects (lead wins over responsible)."""
    task_by_id = {t.pk: t for t in tasks}
    pairs: dict[tuple[int, int], str] = {}
    for unit in units:
        task = task_by_id.get(unit.task_id)
        if task is None or unit.agency is None or not _agency_open_in(unit.agency, period):
            continue
        if not _task_expected_in(task, period):
            continue
        key = (unit.task_id, unit.agency_id)
        if key not in pairs or unit.role == UnitRole.LEAD:
            pairs[key] = unit.role
    return pairs


def period_reports(*, plan: Plan, period: Period) -> QuerySet[ProgressReport]:
    """The plan's reports for ``period`` (drafts left out), in task order, with their agency."""
    return (ProgressReport.objects.filter(task__plan=plan, period=period.id)
            .exclude(status=ReportStatus.DRAFT)
            .select_related("agency").order_by("task__order", "agency__name", "id"))


def plan_dashboard(*, plan: Plan, period: Period, today: date) -> Dashboard:
    """Everything the 挂图作战 page shows for one plan and period, in five queries."""
    rule = rule_for_period(plan, period) or rule_of(plan)
    tasks = list(Task.objects.filter(plan=plan).select_related("phase").order_by("order"))
    units = list(TaskUnit.objects.filter(task__plan=plan)
                 .select_related("agency", "agency__division").order_by("task_id", "role",
                                                                        "order"))
    phases = list(Phase.objects.filter(plan=plan).order_by("order"))
    reports = list(period_reports(plan=plan, period=period))
    task_by_id = {t.pk: t for t in tasks}
    for report in reports:
        report.task = task_by_id[report.task_id]  # the plan's tasks are loaded already

    by_status = Counter({key: 0 for key in TaskStatus.values})
    by_status.update(t.status for t in tasks)
    open_tasks = [t for t in tasks if t.status != TaskStatus.COMPLETED and t.deadline]
    overdue = sorted((t for t in open_tasks if t.deadline < today), key=lambda t: t.deadline)
    soon_limit = today + timedelta(days=DUE_SOON_DAYS)
    due_soon = sorted((t for t in open_tasks if today <= t.deadline <= soon_limit),
                      key=lambda t: t.deadline)

    leads: dict[int, list[str]] = defaultdict(list)
    responsibles: dict[int, list[str]] = defaultdict(list)
    for unit in units:
        shown = unit.agency.name if unit.agency else unit.name
        (leads if unit.role == UnitRole.LEAD else responsibles)[unit.task_id].append(shown)
    for task in tasks:
        task.lead_names = leads.get(task.pk, [])  # type: ignore[attr-defined]

    # Progress by unit: the tasks each agency leads and takes part in.
    progress: dict[int, UnitProgress] = {}
    for unit in units:
        if unit.agency is None:
            continue
        row = progress.setdefault(unit.agency_id, UnitProgress(agency=unit.agency))
        task = task_by_id[unit.task_id]
        if unit.role == UnitRole.LEAD:
            row.lead += 1
            row.percent_sum += task.percent
            row.completed += task.status == TaskStatus.COMPLETED
            row.overdue += task in overdue
        else:
            row.responsible += 1

    # Completeness and timeliness: expected reports vs reports in (never above 100 %).
    pairs = expected_pairs(tasks, units, period)
    completeness: dict[int, UnitCompleteness] = {}
    agency_by_id = {u.agency_id: u.agency for u in units if u.agency is not None}
    for task_id, agency_id in pairs:
        completeness.setdefault(agency_id, UnitCompleteness(agency=agency_by_id[agency_id]))
        completeness[agency_id].expected += 1
    reported_pairs = set()
    for report in reports:
        key = (report.task_id, report.agency_id)
        if key not in pairs:
            continue
        row = completeness[report.agency_id]
        if report.status in COUNTED:
            reported_pairs.add(key)
            row.reported += 1
            if report.on_time:
                row.on_time += 1
            else:
                row.late += 1
        elif report.status == ReportStatus.RETURNED:
            row.returned += 1
    for task_id, agency_id in sorted(pairs, key=lambda k: task_by_id[k[0]].order):
        if (task_id, agency_id) not in reported_pairs:
            completeness[agency_id].missing.append(task_by_id[task_id])

    phase_rows = []
    for phase in phases:
        inside = [t for t in tasks if t.phase_id == phase.pk]
        start = phase.start or plan.period_start
        end = phase.end or plan.period_end
        phase_rows.append({
            "name": phase.name,
            "start": start.isoformat() if start else None,
            "end": end.isoformat() if end else None,
            "tasks": len(inside),
            "completed": sum(t.status == TaskStatus.COMPLETED for t in inside),
            "percent": round(sum(t.percent for t in inside) / len(inside), 1) if inside else 0,
        })

    rows = sorted(completeness.values(), key=lambda r: (r.rate, r.agency.name))
    return Dashboard(
        plan=plan, period=period, rule=rule, today=today, tasks=tasks,
        by_status=dict(by_status), overdue=overdue, due_soon=due_soon, phases=phase_rows,
        units=sorted(progress.values(), key=lambda r: (-r.lead, r.agency.name)),
        completeness=rows,
        expected=len(pairs), reported=len(reported_pairs),
        on_time=sum(r.on_time for r in rows), late=sum(r.late for r in rows),
        returned=sum(r.returned for r in rows),
        reports=reports, leads=dict(leads), responsibles=dict(responsibles),
        task_units=units,
    )


def task_history(*, task: Task, reports) -> list[ProgressReport]:
    """A task's reports over the periods, newest first (``reports`` from access)."""
    return list(reports.filter(task=task)
                .select_related("agency", "submitted_by")
                .prefetch_related("evidence", "includes__agency")
                .order_by("-period", "agency__name"))


# -- ledgers for the exports ------------------------------------------------------------------
@dataclass
class DecompositionRow:
    task: Task
    leads: list[str]
    responsibles: list[str]


def decomposition_rows(*, plan: Plan) -> list[DecompositionRow]:
    """The task-decomposition table (任务分解表), lead and responsible units apart (2 queries)."""
    tasks = list(Task.objects.filter(plan=plan).select_related("phase")
                 .prefetch_related(Prefetch("units", queryset=TaskUnit.objects
                                            .select_related("agency").order_by("role", "order")))
                 .order_by("order"))
    rows = []
    for task in tasks:
        names = {UnitRole.LEAD: [], UnitRole.RESPONSIBLE: []}
        for unit in task.units.all():
            names[unit.role].append(unit.agency.name if unit.agency else unit.name)
        rows.append(DecompositionRow(task=task, leads=names[UnitRole.LEAD],
                                     responsibles=names[UnitRole.RESPONSIBLE]))
    return rows


def progress_rows(*, plan: Plan, period: Period) -> list[tuple[DecompositionRow,
                                                                list[ProgressReport]]]:
    """工作进展情况表: each task with the reports (not drafts) of the period (3 queries)."""
    reports = defaultdict(list)
    for report in (ProgressReport.objects.filter(task__plan=plan, period=period.id)
                   .exclude(status=ReportStatus.DRAFT).select_related("agency")
                   .order_by("agency__name")):
        reports[report.task_id].append(report)
    return [(row, reports.get(row.task.pk, [])) for row in decomposition_rows(plan=plan)]
