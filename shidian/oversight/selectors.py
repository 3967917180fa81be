"""Reads of the oversight app: the lights of a plan's tasks and units (for every dashboard),
the inbox, the board of open notices, inspection checks and histories.

Each selector takes a plan or a queryset already narrowed by ``access`` and runs a fixed number
of queries whatever the number of tasks, units or reports.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count, Prefetch, Q, QuerySet

from shidian.core.errors import ShidianError
from shidian.core.periods import Period
from shidian.core.workdays import REASON_NOT_COVERED
from shidian.orgs.models import Agency, User
from shidian.plans.models import Plan, Task, TaskStatus, TaskUnit, UnitRole
from shidian.reporting.cycles import rules_of as cycle_rules_of
from shidian.reporting.models import ProgressReport, ReportStatus
from shidian.reporting.selectors import expected_pairs

from . import access, ladder, scoring
from .ladder import LadderRule, Light, Stage
from .models import (OPEN_NOTICE_STATUSES, Channel, Evaluation, EvaluationReviewer,
                     EvaluationStatus, InspectionVisit, Message, MessageStatus, NoticeReply,
                     NoticeStatus, Rectification, RectificationStatus, ReviewerScore, Score,
                     ScoreRule, SupervisionNotice)

COUNTED = (ReportStatus.SUBMITTED, ReportStatus.ACCEPTED)
CLOSED_TASK_STATUSES = (TaskStatus.COMPLETED, TaskStatus.SUSPENDED)


# -- lights (红黄绿灯) -------------------------------------------------------------------------
@dataclass
class TaskLight:
    task: Task
    stage: Stage
    light: Light
    due: date | None
    escalate_after: date | None = None
    days_late: int = 0


@dataclass
class Duty:
    """A report a unit owes for a period and has not sent."""

    task: Task
    agency: Agency
    period: Period
    due: date
    stage: Stage
    light: Light
    report: str = ""  # a further cycle's report (工作周报); "" for the plan's progress report


@dataclass
class UnitLight:
    agency: Agency
    light: Light = Light.GREEN
    lead_tasks: int = 0
    yellow: list[TaskLight] = field(default_factory=list)
    red: list[TaskLight] = field(default_factory=list)
    late_reports: list[Duty] = field(default_factory=list)


@dataclass
class PlanLights:
    plan: Plan
    today: date
    rule: LadderRule
    tasks: dict[int, TaskLight]
    units: list[UnitLight]
    duties: list[Duty]
    task_units: dict[int, list[TaskUnit]]
    # Titles of what could not be judged: its dates lie past the installed holiday calendar.
    calendar_gaps: list[str] = field(default_factory=list)

    def light_of_task(self, task_id: int) -> Light:
        found = self.tasks.get(task_id)
        return found.light if found else Light.GREEN

    @property
    def counts(self) -> dict[str, int]:
        found = {light.value: 0 for light in Light}
        for row in self.tasks.values():
            found[row.light.value] += 1
        return found

    def unit(self, agency_id: int) -> UnitLight | None:
        return next((u for u in self.units if u.agency.pk == agency_id), None)


def task_stage(task: Task, today: date, rule: LadderRule) -> tuple[Stage, date | None]:
    """The ladder stage of one task (no stage when done, suspended or without a deadline)."""
    if task.status in CLOSED_TASK_STATUSES or task.deadline is None:
        return Stage.NONE, None
    return ladder.stage_on(task.deadline, today, rule), ladder.escalate_after(
        task.deadline, rule) if today > task.deadline else None


def plan_lights(*, plan: Plan, today: date, tasks: list[Task] | None = None,
                units: list[TaskUnit] | None = None) -> PlanLights:
    """Green, yellow or red for each published task of ``plan`` and each of its units, by the
    plan's rule; and the reports its units owe for the open periods (4 queries; 3 when the
    caller has the plan's tasks already, in their order; 2 with their units too, in
    ("task_id", "role", "order") order with agency and division, as the dashboard has them).

    A unit's light is the worst of the tasks it leads (主办) and of the reports it owes.
    """
    rule = ladder.rule_of(plan)
    if tasks is None:
        tasks = list(Task.objects.filter(plan=plan, first_version__isnull=False)
                     .order_by("order"))
    else:
        tasks = [task for task in tasks if task.first_version is not None]
    if units is None:
        units = list(TaskUnit.objects.filter(task__plan=plan, task__first_version__isnull=False)
                     .select_related("agency", "agency__division").order_by("task_id", "role",
                                                                            "order"))
    else:
        published = {task.pk for task in tasks}
        units = [unit for unit in units if unit.task_id in published]
    by_task: dict[int, list[TaskUnit]] = defaultdict(list)
    for unit in units:
        by_task[unit.task_id].append(unit)
    lights: dict[int, TaskLight] = {}
    gaps: list[str] = []
    for task in tasks:
        try:
            stage, esc = task_stage(task, today, rule)
        except ShidianError as error:
            if error.extra.get("reason") != REASON_NOT_COVERED:
                raise
            stage, esc = Stage.NONE, None  # past the holiday calendar: not judged
            gaps.append(task.title)
        lights[task.pk] = TaskLight(
            task=task, stage=stage, light=ladder.light_of(stage), due=task.deadline,
            escalate_after=esc,
            days_late=max((today - task.deadline).days, 0) if stage in (Stage.URGE,
                                                                        Stage.ESCALATE) else 0)

    duties = report_duties(plan=plan, tasks=tasks, units=units, today=today, rule=rule,
                           gaps=gaps)

    rows: dict[int, UnitLight] = {}
    for unit in units:
        if unit.agency is None:
            continue
        row = rows.setdefault(unit.agency_id, UnitLight(agency=unit.agency))
        if unit.role != UnitRole.LEAD:
            continue
        row.lead_tasks += 1
        light = lights[unit.task_id]
        if light.light == Light.RED:
            row.red.append(light)
        elif light.light == Light.YELLOW:
            row.yellow.append(light)
    for duty in duties:
        if duty.light != Light.GREEN:
            rows.setdefault(duty.agency.pk, UnitLight(agency=duty.agency)).late_reports.append(
                duty)
    for row in rows.values():
        row.light = ladder.worst([t.light for t in row.red + row.yellow]
                                 + [d.light for d in row.late_reports])
    ordered = sorted(rows.values(), key=lambda r: (-ladder.LIGHT_ORDER[r.light],
                                                   -len(r.red), -len(r.yellow), r.agency.name))
    return PlanLights(plan=plan, today=today, rule=rule, tasks=lights, units=ordered,
                      duties=duties, task_units=dict(by_task), calendar_gaps=gaps)


def report_duties(*, plan: Plan, tasks: list[Task], units: list[TaskUnit], today: date,
                  rule: LadderRule, gaps: list[str] | None = None) -> list[Duty]:
    """Reports expected for the open periods that have not come in, with their stage (1 query;
    2 unless the plan's further cycles were prefetched). Every cycle of the plan counts: its
    own and the further ones (a pack's weekly report beside the monthly list, an annual
    summary)."""
    periods = [(cycle, period) for cycle in cycle_rules_of(plan)
               for period in cycle.periods_open(today)]
    if not periods or not tasks:
        return []
    counted = set(ProgressReport.objects.filter(
        task__plan=plan, period__in=[p.id for _c, p in periods], status__in=COUNTED,
    ).values_list("task_id", "agency_id", "period"))
    task_by_id = {t.pk: t for t in tasks}
    agency_by_id = {u.agency_id: u.agency for u in units if u.agency is not None}
    duties = []
    for cycle, period in periods:
        due = cycle.due_date(period)
        try:
            period_stage = ladder.stage_on(due, today, rule)
        except ShidianError as error:
            if error.extra.get("reason") != REASON_NOT_COVERED:
                raise
            if gaps is not None:
                gaps.append(period.label)
            continue
        for (task_id, agency_id) in expected_pairs(tasks, units, period):
            if (task_id, agency_id, period.id) in counted:
                continue
            stage = period_stage
            duties.append(Duty(task=task_by_id[task_id], agency=agency_by_id[agency_id],
                               period=period, due=due, stage=stage,
                               light=ladder.light_of(stage), report=cycle.label))
    duties.sort(key=lambda d: (d.due, d.agency.name, d.task.order))
    return duties


def _rules_of(plan_ids) -> dict[int, LadderRule]:
    """Plan id → its saved ladder rule (1 query); plans without one are absent."""
    from .models import OversightRule

    return {row.plan_id: ladder.LadderRule(
        remind_days=row.remind_days, escalate_days=row.escalate_days, reply_days=row.reply_days,
        min_onsite_inspections=row.min_onsite_inspections, is_active=row.is_active,
        send_email=row.send_email) for row in OversightRule.objects.filter(plan__in=plan_ids)}


def _light_or_unjudged(task: Task, today: date, rule: LadderRule) -> Light:
    try:
        stage, _esc = task_stage(task, today, rule)
    except ShidianError as error:
        if error.extra.get("reason") != REASON_NOT_COVERED:
            raise
        stage = Stage.NONE  # past the holiday calendar: not judged
    return ladder.light_of(stage)


def plans_light_counts(*, plans: list[Plan], today: date) -> dict[int, dict[str, int]]:
    """Plan id → how many of its published tasks are green, yellow and red (2 queries for any
    number of plans: the rules, then the tasks)."""
    rules = _rules_of([plan.pk for plan in plans])
    counts = {plan.pk: {light.value: 0 for light in Light} for plan in plans}
    tasks = Task.objects.filter(plan__in=plans, first_version__isnull=False).only(
        "pk", "plan_id", "deadline", "status")
    for task in tasks:
        light = _light_or_unjudged(task, today, rules.get(task.plan_id, ladder.DEFAULT_RULE))
        counts[task.plan_id][light.value] += 1
    return counts


def tasks_lights(*, tasks: list[Task], today: date) -> dict[int, Light]:
    """Task id → light for tasks of any plans, each by its own plan's rule (1 query): for
    lists such as 我的任务 that mix plans."""
    rules = _rules_of({task.plan_id for task in tasks})
    return {task.pk: _light_or_unjudged(task, today, rules.get(task.plan_id,
                                                                ladder.DEFAULT_RULE))
            for task in tasks}


def task_lights(*, plan: Plan, today: date) -> dict[int, Light]:
    """Task id → light, for dashboards that colour their task rows."""
    return {pk: row.light for pk, row in plan_lights(plan=plan, today=today).tasks.items()}


def unit_lights(*, plan: Plan, today: date) -> dict[int, Light]:
    """Agency id → light, for dashboards that colour their unit rows."""
    return {row.agency.pk: row.light for row in plan_lights(plan=plan, today=today).units}


# -- the inbox ------------------------------------------------------------------------------
def inbox_messages(*, user: User, unread_only: bool = False) -> QuerySet[Message]:
    messages = Message.objects.filter(recipient=user, channel=Channel.INBOX,
                                      status=MessageStatus.SENT)
    if unread_only:
        messages = messages.filter(read_at__isnull=True)
    return messages.select_related("plan", "task", "agency", "notice").order_by("-created_at",
                                                                                "-id")


def inbox_unread_count(*, user: User) -> int:
    return inbox_messages(user=user, unread_only=True).count()


# -- notices --------------------------------------------------------------------------------
AGE_BUCKETS = ((5, "0-5"), (15, "6-15"), (30, "16-30"), (None, "30+"))


@dataclass
class BoardRow:
    notice: SupervisionNotice
    age_days: int
    reply_overdue: bool
    bucket: str


def notice_board(*, notices: QuerySet[SupervisionNotice], today: date) -> list[BoardRow]:
    """Open notices, oldest first, with their age in days and whether the reply is late."""
    from django.utils import timezone

    rows = []
    for notice in (notices.filter(status__in=OPEN_NOTICE_STATUSES)
                   .select_related("plan", "agency").prefetch_related("tasks")
                   .order_by("issued_at", "id")):
        age = (today - timezone.localdate(notice.issued_at)).days
        bucket = next(label for limit, label in AGE_BUCKETS if limit is None or age <= limit)
        overdue = notice.status in (NoticeStatus.ISSUED, NoticeStatus.RETURNED,
                                    NoticeStatus.ESCALATED) and today > notice.reply_due
        rows.append(BoardRow(notice=notice, age_days=age, reply_overdue=overdue, bucket=bucket))
    return rows


def notice_detail(*, notices: QuerySet[SupervisionNotice], notice_id: int) -> SupervisionNotice:
    return (notices.select_related("plan", "plan__division", "agency", "issued_by", "closed_by")
            .prefetch_related("tasks", Prefetch(
                "replies", queryset=NoticeReply.objects.select_related("replied_by", "decided_by")
                .prefetch_related("evidence")))
            .get(pk=notice_id))


def open_notices_by_task(*, plan: Plan) -> dict[int, list[SupervisionNotice]]:
    """The open notices about each task of a plan (to avoid proposing a second one)."""
    found: dict[int, list[SupervisionNotice]] = defaultdict(list)
    for notice in (SupervisionNotice.objects.filter(plan=plan, status__in=OPEN_NOTICE_STATUSES)
                   .prefetch_related("tasks")):
        for task in notice.tasks.all():
            found[task.pk].append(notice)
    return dict(found)


# -- inspections ----------------------------------------------------------------------------
@dataclass
class SiteCheck:
    site: Agency
    required: int
    done: int
    planned: int

    @property
    def short(self) -> int:
        return max(self.required - self.done, 0)

    @property
    def met(self) -> bool:
        return self.done >= self.required


def plan_sites(*, plan: Plan) -> QuerySet[Agency]:
    """A plan's pilot sites: its units of kind pilot site and every site its rounds visit."""
    from shidian.orgs.models import AgencyKind

    visited = InspectionVisit.objects.filter(round__plan=plan).values("site_id")
    pilot = TaskUnit.objects.filter(task__plan=plan,
                                    agency__kind=AgencyKind.PILOT_SITE).values("agency_id")
    return (Agency.objects.filter(Q(pk__in=visited) | Q(pk__in=pilot))
            .select_related("division").order_by("division_id", "name"))


def inspection_coverage(*, plan: Plan, today: date) -> list[SiteCheck]:
    """Each site of the plan with the on-site inspections done and required (seed 09: 不少于2次
    实地督导检查 during the pilot), shortest first (2 queries)."""
    rule = ladder.rule_of(plan)
    sites = list(plan_sites(plan=plan))
    counts = (InspectionVisit.objects.filter(round__plan=plan, site__in=sites)
              .values("site_id")
              .annotate(done=Count("pk", filter=Q(on_site=True, visited_on__isnull=False,
                                                  visited_on__lte=today)),
                        planned=Count("pk", filter=Q(visited_on__isnull=True))))
    by_site = {row["site_id"]: row for row in counts}
    rows = [SiteCheck(site=site, required=rule.min_onsite_inspections,
                      done=by_site.get(site.pk, {}).get("done", 0),
                      planned=by_site.get(site.pk, {}).get("planned", 0)) for site in sites]
    rows.sort(key=lambda r: (r.met, -r.short, r.site.name))
    return rows


@dataclass
class SiteHistory:
    site: Agency
    visits: list[InspectionVisit]
    rectifications: list[Rectification]

    @property
    def open_rectifications(self) -> int:
        return sum(r.status != RectificationStatus.CLOSED for r in self.rectifications)


def site_history(*, site: Agency, visits: QuerySet[InspectionVisit]) -> SiteHistory:
    """Every visit of a site (newest first) with its findings and their rectification."""
    rows = list(visits.filter(site=site)
                .select_related("round", "round__plan")
                .prefetch_related("findings__photos", "findings__rectification__evidence",
                                  "findings__rectification__owner")
                .order_by("-planned_on", "-id"))
    rectifications = [f.rectification for v in rows for f in v.findings.all()
                      if hasattr(f, "rectification")]
    return SiteHistory(site=site, visits=rows, rectifications=rectifications)


# -- rankings -------------------------------------------------------------------------------
@dataclass
class RankingRow:
    name: str
    key: str
    value: float | None          # percent (0-100); None: no data
    rank: int | None
    previous_rank: int | None = None
    grade: str = ""
    detail: str = ""

    @property
    def change(self) -> int | None:
        if self.rank is None or self.previous_rank is None:
            return None
        return self.previous_rank - self.rank


@dataclass
class Ranking:
    title: str
    period: Period
    rows: list[RankingRow]
    previous_period: Period | None = None

    def top(self, count: int) -> list[RankingRow]:
        return [r for r in self.rows if r.rank is not None][:count]

    def bottom(self, count: int, *, after: int = 0) -> list[RankingRow]:
        """The last ``count`` ranked rows, leaving the first ``after`` ones out (so a unit is
        never on both the red and the black list)."""
        ranked = [r for r in self.rows if r.rank is not None][after:]
        return list(reversed(ranked[-count:])) if count else []


def _ranked(values: dict[str, float | None]) -> dict[str, int]:
    keys = [k for k, v in values.items() if v is not None]
    ranks = scoring.competition_ranks([values[k] for k in keys])  # type: ignore[misc]
    return dict(zip(keys, ranks, strict=True))


def evaluation_ranking(*, evaluation) -> Ranking:
    """An evaluation's subjects by their total (percent of possible points), with the change
    of rank since the scorecard's previous round of the same period kind."""
    scorecard = evaluation.scorecard
    subjects = scoring.subjects_of(scorecard)
    rows = scoring.results(evaluation=evaluation, subjects=subjects)
    period = scoring.period_of(evaluation)
    previous = previous_evaluation(evaluation)
    if previous is not None:
        scoring.with_previous(rows, scoring.results(evaluation=previous, subjects=subjects))
    return Ranking(
        title=scorecard.name, period=period,
        previous_period=scoring.period_of(previous) if previous else None,
        rows=[RankingRow(name=r.subject.name, key=r.subject.key, value=r.percent,
                         rank=r.rank, previous_rank=r.previous_rank,
                         grade=scoring.Grade(r.grade).label,
                         detail=f"{r.total}/{r.possible}") for r in rows])


def previous_evaluation(evaluation):
    from shidian.core.periods import parse_period

    kind = parse_period(evaluation.period).kind
    earlier = [e for e in evaluation.scorecard.evaluations.exclude(pk=evaluation.pk)
               if parse_period(e.period).kind == kind and e.period < evaluation.period]
    return max(earlier, key=lambda e: e.period) if earlier else None


def measure_ranking(*, plan: Plan, subject_kind: str, rule: str, period: Period,
                    today: date) -> Ranking:
    """The plan's units (or divisions) ranked by one measure for a period, with the change of
    rank since the period before."""
    from .models import ScoreRule

    subjects = scoring.subjects_for(plan, subject_kind)

    def values(of: Period) -> dict[str, tuple[float | None, str]]:
        found = scoring.measures(plan=plan, subjects=subjects, period=of, today=today)
        out = {}
        for subject in subjects:
            measure = found[(rule, subject.key)]
            value = None if measure.value is None else round(measure.value * 100, 2)
            shown = f"{measure.done:g}/{measure.expected}" if measure.expected else ""
            out[subject.key] = (value, shown)
        return out

    now = values(period)
    before = values(period.previous())
    ranks = _ranked({k: v for k, (v, _d) in now.items()})
    previous_ranks = _ranked({k: v for k, (v, _d) in before.items()})
    rows = [RankingRow(name=s.name, key=s.key, value=now[s.key][0], rank=ranks.get(s.key),
                       previous_rank=previous_ranks.get(s.key), detail=now[s.key][1])
            for s in subjects]
    rows.sort(key=lambda r: (r.rank is None, r.rank or 0))
    return Ranking(title=str(ScoreRule(rule).label), period=period, rows=rows,
                   previous_period=period.previous())


# -- evaluations: scoring by hand and its reviewers -------------------------------------------
@dataclass
class HandScore:
    """One item scored by hand for one subject: the self-assessment with its evidence, every
    reviewer's score, the user's own, and whether the user may not score it (their own unit)."""

    score: Score
    subject_name: str
    reviews: list[ReviewerScore]
    mine: ReviewerScore | None
    conflicted: bool


def hand_scores(*, evaluation: Evaluation, user: User, subjects: dict[str, str]
                ) -> list[HandScore]:
    """The hand-scored rows of ``evaluation`` for the given subjects (key → name), in the
    scorecard's item order (3 queries)."""
    rows = (Score.objects.filter(evaluation=evaluation, item__rule=ScoreRule.MANUAL,
                                 subject__in=list(subjects))
            .select_related("item")
            .prefetch_related("evidence", Prefetch(
                "reviews", queryset=ReviewerScore.objects.select_related("reviewer")
                .order_by("id"))))
    order = {key: n for n, key in enumerate(subjects)}
    found = []
    for score in rows:
        reviews = list(score.reviews.all())
        found.append(HandScore(
            score=score, subject_name=subjects[score.subject], reviews=reviews,
            mine=next((r for r in reviews if r.reviewer_id == user.pk), None),
            conflicted=access.reviewer_conflicted(user, score.subject)))
    found.sort(key=lambda h: (order[h.score.subject], h.score.item.order, h.score.item_id))
    return found


@dataclass
class ReviewerProgress:
    reviewer: EvaluationReviewer
    done: int
    expected: int


def reviewer_progress(*, evaluation: Evaluation) -> list[ReviewerProgress]:
    """Each named reviewer with how many of the rows they may score they have scored
    (3 queries)."""
    rows = list(evaluation.scores.filter(item__rule=ScoreRule.MANUAL)
                .values_list("pk", "subject"))
    done = Counter(ReviewerScore.objects.filter(score__evaluation=evaluation)
                   .values_list("reviewer_id", flat=True))
    found = []
    for named in evaluation.reviewers.select_related("user", "user__division").order_by("id"):
        expected = sum(not access.reviewer_conflicted(named.user, subject)
                       for _pk, subject in rows)
        found.append(ReviewerProgress(reviewer=named, done=done[named.user_id],
                                      expected=expected))
    return found


# -- a programme's annual rounds and its model sites -----------------------------------------
@dataclass
class ModelSite:
    """A unit a final round named 示范基地, with the round and the score it was named on."""

    agency: Agency
    evaluation: Evaluation
    percent: float
    grade: str


def programme_rounds(*, programme) -> QuerySet[Evaluation]:
    """The rounds of the programme's own scorecards, latest first."""
    return (Evaluation.objects.filter(scorecard__programme=programme)
            .select_related("scorecard").order_by("-period", "scorecard__name"))


def programme_model_sites(*, programme) -> list[ModelSite]:
    """The model sites named by the programme's final rounds, latest round first, each
    round's best first."""
    found = []
    for evaluation in programme_rounds(programme=programme).filter(
            status=EvaluationStatus.FINAL).prefetch_related(Prefetch(
                "model_sites", queryset=Agency.objects.select_related("division"))):
        named = {a.pk: a for a in evaluation.model_sites.all()}
        if not named:
            continue
        rows = scoring.results(evaluation=evaluation,
                               subjects=scoring.subjects_of(evaluation.scorecard))
        for row in rows:
            agency = row.subject.agency
            if agency is not None and agency.pk in named:
                found.append(ModelSite(agency=named[agency.pk], evaluation=evaluation,
                                       percent=row.percent,
                                       grade=scoring.Grade(row.grade).label))
    return found
