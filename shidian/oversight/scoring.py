"""Scorecards (考核指标体系): who is assessed, the measures the system already has, the
scores, totals, grades and rankings.

The measures, each a ratio from 0 to 1 for one subject over one period (a subject is one of
the plan's units, or a division one level below the plan's):

* **reports submitted on time** — of the reports the plan's cycles (its own and the further
  ones, such as a weekly report) expected from the subject for the cycle periods inside the
  period whose due date has passed, the share that came in by the due date (DHIS2's rule:
  only units open during a period are expected);
* **tasks completed on time** — of the tasks the subject leads whose deadline falls in the
  period and has passed, the share completed by the deadline;
* **targets attained** — of the plan's confirmed targets judged at the subject's division, the
  share attained or on track (at risk counts half; no data leaves a target out);
* **rectifications closed** — of the subject's rectification orders due in the period (by
  today), the share closed (销号).

A rule item scores ``points × measure``. A measure without data (nothing was expected) leaves
the item out of the subject's total and of its possible points, so a subject is never marked
down for what did not apply to it. Items scored by hand count the reviewer's score (the
self-assessment while the round is at that stage). Grades take the total as a percentage of
the possible points against the scorecard's thresholds. Ranks are competition ranks: equal
percentages share a rank and the next rank is skipped (1, 2, 2, 4).
"""
from __future__ import annotations

import enum
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext_lazy as _

from shidian.core.periods import Period, parse_period, period_containing, periods_between
from shidian.orgs.models import Agency, Division
from shidian.plans.models import Plan, Task, TaskStatus, TaskUnit, UnitRole
from shidian.reporting.cycles import rules_of as cycle_rules_of
from shidian.reporting.models import ProgressReport, ReportStatus
from shidian.reporting.selectors import expected_pairs

from .models import (EvaluationStatus, Rectification, RectificationStatus, Score, Scorecard,
                     ScoreRule, SubjectKind)

TWO_PLACES = Decimal("0.01")
COUNTED = (ReportStatus.SUBMITTED, ReportStatus.ACCEPTED)
MEASURED_RULES = (ScoreRule.ON_TIME_REPORTS, ScoreRule.TASKS_ON_TIME,
                  ScoreRule.TARGET_ATTAINMENT, ScoreRule.RECTIFICATIONS_CLOSED)


class Grade(enum.StrEnum):
    EXCELLENT = "excellent"
    GOOD = "good"
    PASS = "pass"
    FAIL = "fail"

    @property
    def label(self) -> str:
        return str({Grade.EXCELLENT: _("Excellent"), Grade.GOOD: _("Good"),
                    Grade.PASS: _("Pass"), Grade.FAIL: _("Fail")}[self])


@dataclass(frozen=True)
class Subject:
    key: str                 # "a<agency id>" or "d<division code>"
    name: str
    code: str                # the division the subject's figures are judged at
    agency: Agency | None = None

    def holds(self, agency: Agency) -> bool:
        """Whether an agency's figures count for this subject."""
        if self.agency is not None:
            return agency.pk == self.agency.pk
        return agency.division_id.startswith(self.code)


@dataclass(frozen=True)
class Measure:
    done: float
    expected: int

    @property
    def value(self) -> float | None:
        return round(self.done / self.expected, 4) if self.expected else None


def subjects_of(scorecard: Scorecard) -> list[Subject]:
    """Who a scorecard assesses: its plan's subjects, or for a programme's scorecard the
    subjects of every published plan of the programme (each once, in name order)."""
    if scorecard.programme_id is not None:
        found: dict[str, Subject] = {}
        for plan in programme_plans(scorecard.programme):
            for subject in subjects_for(plan, scorecard.subject_kind):
                found.setdefault(subject.key, subject)
        return sorted(found.values(), key=lambda s: (s.name, s.key))
    return subjects_for(scorecard.plan, scorecard.subject_kind)


def programme_plans(programme) -> list[Plan]:
    """The published plans of a programme, highest level first."""
    plans = Plan.objects.filter(programme=programme, version__gt=0).select_related("division")
    return sorted(plans, key=lambda p: (len(p.division_id or ""), p.division_id or "", p.pk))


def scorecard_measures(*, scorecard: Scorecard, subjects: list[Subject], period: Period,
                       today: date) -> dict[tuple[str, str], Measure]:
    """``measures`` for a scorecard's subjects. A programme's scorecard measures each plan's
    own subjects on that plan's data and adds the counts up, so a unit named in two plans
    of the programme is judged on everything it owed in both."""
    if scorecard.programme_id is None:
        return measures(plan=scorecard.plan, subjects=subjects, period=period, today=today)
    wanted = {s.key for s in subjects}
    done: dict[tuple[str, str], float] = defaultdict(float)
    expected: dict[tuple[str, str], int] = defaultdict(int)
    for plan in programme_plans(scorecard.programme):
        own = [s for s in subjects_for(plan, scorecard.subject_kind) if s.key in wanted]
        if not own:
            continue
        for key, measure in measures(plan=plan, subjects=own, period=period,
                                     today=today).items():
            done[key] += measure.done
            expected[key] += measure.expected
    return {(rule, s.key): Measure(done[(rule, s.key)], expected[(rule, s.key)])
            for rule in MEASURED_RULES for s in subjects}


def subjects_for(plan: Plan, kind: str) -> list[Subject]:
    """The plan's units (those named on its published tasks), or the divisions one level
    below the plan's (the provinces for a national plan)."""
    if kind == SubjectKind.DIVISION:
        divisions = (Division.objects.filter(parent_id=plan.division_id) if plan.division_id
                     else Division.objects.filter(level=1))
        return [Subject(key=f"d{d.code}", name=d.name, code=d.code)
                for d in divisions.order_by("code")]
    agencies = Agency.objects.filter(
        pk__in=TaskUnit.objects.filter(task__plan=plan, task__first_version__isnull=False)
        .values("agency_id")).order_by("name")
    return [Subject(key=f"a{a.pk}", name=a.name, code=a.division_id, agency=a)
            for a in agencies]


def cycle_periods(plan: Plan, period: Period, today: date) -> list[Period]:
    """The plan's reporting periods inside ``period`` whose reports were due by ``today``, of
    every cycle the plan has (its own and the further ones: a weekly report, an annual
    summary), the plan's own first."""
    found: list[Period] = []
    for rule in cycle_rules_of(plan):
        kind = rule.period_kind
        inside = periods_between(period_containing(period.start, kind),
                                 period_containing(period.end, kind))
        found += [p for p in inside if p.start >= period.start and p.end <= period.end
                  and rule.is_expected(p) and rule.due_date(p) < today]
    return found


def measures(*, plan: Plan, subjects: list[Subject], period: Period, today: date
             ) -> dict[tuple[str, str], Measure]:
    """(rule, subject key) → measure, for every measured rule (a fixed number of queries)."""
    found: dict[tuple[str, str], Measure] = {}
    tasks = list(Task.objects.filter(plan=plan, first_version__isnull=False))
    units = list(TaskUnit.objects.filter(task__plan=plan, task__first_version__isnull=False)
                 .select_related("agency", "agency__division"))

    # Reports on time.
    periods = cycle_periods(plan, period, today)
    on_time = set(ProgressReport.objects.filter(
        task__plan=plan, period__in=[p.id for p in periods], status__in=COUNTED, on_time=True,
    ).values_list("task_id", "agency_id", "period"))
    agency_by_id = {u.agency_id: u.agency for u in units if u.agency is not None}
    expected: dict[str, int] = defaultdict(int)
    kept: dict[str, int] = defaultdict(int)
    for p in periods:
        for task_id, agency_id in expected_pairs(tasks, units, p):
            for subject in subjects:
                if subject.holds(agency_by_id[agency_id]):
                    expected[subject.key] += 1
                    kept[subject.key] += (task_id, agency_id, p.id) in on_time
    for subject in subjects:
        found[(ScoreRule.ON_TIME_REPORTS, subject.key)] = Measure(kept[subject.key],
                                                                  expected[subject.key])

    # Tasks completed on time (the tasks a subject leads).
    task_by_id = {t.pk: t for t in tasks}
    due: dict[str, set[int]] = defaultdict(set)
    for unit in units:
        task = task_by_id.get(unit.task_id)
        if (unit.role != UnitRole.LEAD or unit.agency is None or task is None
                or task.deadline is None or task.status == TaskStatus.SUSPENDED
                or not period.start <= task.deadline <= period.end or task.deadline >= today):
            continue
        for subject in subjects:
            if subject.holds(unit.agency):
                due[subject.key].add(task.pk)
    for subject in subjects:
        mine = [task_by_id[pk] for pk in due[subject.key]]
        done = sum(t.status == TaskStatus.COMPLETED and t.completed_on is not None
                   and t.completed_on <= t.deadline for t in mine)
        found[(ScoreRule.TASKS_ON_TIME, subject.key)] = Measure(done, len(mine))

    # Targets attained, judged at each subject's division.
    standing_weight = _standing_weights()
    attained: dict[str, float] = defaultdict(float)
    judged: dict[str, int] = defaultdict(int)
    codes = {s.code for s in subjects}
    for board_row_code, standing in _target_standings(plan, codes, today):
        weight = standing_weight.get(standing)
        if weight is None:
            continue
        for subject in subjects:
            if subject.code == board_row_code:
                attained[subject.key] += weight
                judged[subject.key] += 1
    for subject in subjects:
        found[(ScoreRule.TARGET_ATTAINMENT, subject.key)] = Measure(attained[subject.key],
                                                                    judged[subject.key])

    # Rectifications closed.
    last = min(period.end, today)
    orders = list(Rectification.objects.filter(
        finding__visit__round__plan=plan, deadline__gte=period.start, deadline__lte=last,
    ).select_related("owner"))
    for subject in subjects:
        mine = [r for r in orders if subject.holds(r.owner)]
        closed = sum(r.status == RectificationStatus.CLOSED for r in mine)
        found[(ScoreRule.RECTIFICATIONS_CLOSED, subject.key)] = Measure(closed, len(mine))
    return found


def _standing_weights() -> dict[str, float]:
    from shidian.indicators.selectors import Standing

    return {Standing.ATTAINED: 1.0, Standing.ON_TRACK: 1.0, Standing.AT_RISK: 0.5,
            Standing.OFF_TRACK: 0.0, Standing.MISSED: 0.0}


def _target_standings(plan: Plan, codes: set[str], today: date) -> list[tuple[str, str]]:
    """(division code, standing) of each confirmed target of the plan at the given codes,
    through the indicators app's target board (its attainment rule, not a copy of it)."""
    from shidian.indicators.selectors import plan_targets, target_board, target_divisions

    rows = []
    for target in plan_targets(plan_id=plan.pk):
        judged_at = [(code, name) for code, name in target_divisions(target) if code in codes]
        if not judged_at:
            continue
        board = target_board(target=target, today=today, codes=judged_at)
        rows += [(row.code, row.standing) for row in board.rows]
    return rows


# -- results --------------------------------------------------------------------------------
@dataclass
class ItemScore:
    item_id: int
    rule: str
    weight: Decimal
    measure: float | None
    self_score: Decimal | None
    review_score: Decimal | None
    counted: Decimal | None      # what enters the total (None: left out)
    score_id: int | None = None

    @property
    def applies(self) -> bool:
        return self.counted is not None or self.rule == ScoreRule.MANUAL


@dataclass
class SubjectResult:
    subject: Subject
    items: list[ItemScore]
    total: Decimal = Decimal(0)
    possible: Decimal = Decimal(0)
    grade: str = Grade.FAIL
    rank: int | None = None
    previous_rank: int | None = None
    extra: dict = field(default_factory=dict)

    @property
    def percent(self) -> float:
        if not self.possible:
            return 0.0
        return float((self.total * 100 / self.possible).quantize(TWO_PLACES, ROUND_HALF_UP))

    @property
    def change(self) -> int | None:
        """Places moved up since the previous round (negative: down)."""
        if self.rank is None or self.previous_rank is None:
            return None
        return self.previous_rank - self.rank


def points(weight: Decimal, measure: float | None) -> Decimal | None:
    if measure is None:
        return None
    return (weight * Decimal(str(measure))).quantize(TWO_PLACES, ROUND_HALF_UP)


def grade_of(percent: float, scorecard: Scorecard) -> Grade:
    value = Decimal(str(percent))
    if value >= scorecard.excellent_from:
        return Grade.EXCELLENT
    if value >= scorecard.good_from:
        return Grade.GOOD
    if value >= scorecard.pass_from:
        return Grade.PASS
    return Grade.FAIL


def model_site_line(scorecard: Scorecard) -> Decimal:
    """The score rate (percent) a unit needs to be named a model site (示范基地): the
    scorecard's own line, or else its excellent line."""
    if scorecard.model_site_from is not None:
        return scorecard.model_site_from
    return scorecard.excellent_from


def may_be_model_site(row: SubjectResult, scorecard: Scorecard) -> bool:
    """A unit (not a division) whose score rate reaches the model-site line: graded
    excellent, unless the scorecard sets its own line."""
    return (row.subject.agency is not None
            and Decimal(str(row.percent)) >= model_site_line(scorecard))


def competition_ranks(values: list[float]) -> list[int]:
    """Rank of each value, highest first; equal values share a rank (1, 2, 2, 4)."""
    return [1 + sum(other > value for other in values) for value in values]


def results(*, evaluation, subjects: list[Subject]) -> list[SubjectResult]:
    """Each subject's item scores, total, grade and rank in ``evaluation`` (2 queries), best
    first; ties keep the subjects' order."""
    scorecard = evaluation.scorecard
    items = list(scorecard.items.order_by("order", "id"))
    stored = {(s.item_id, s.subject): s for s in Score.objects.filter(evaluation=evaluation)}
    by_self = evaluation.status == EvaluationStatus.SELF
    rows = []
    for subject in subjects:
        scores = []
        for item in items:
            score = stored.get((item.pk, subject.key))
            measure = score.measure if score else None
            self_score = score.self_score if score else None
            review = score.review_score if score else None
            if item.rule == ScoreRule.MANUAL:
                counted = review if review is not None else (self_score if by_self else None)
            else:
                counted = points(item.weight, measure)
            scores.append(ItemScore(item_id=item.pk, rule=item.rule, weight=item.weight,
                                    measure=measure, self_score=self_score,
                                    review_score=review, counted=counted,
                                    score_id=score.pk if score else None))
        row = SubjectResult(subject=subject, items=scores)
        for score in scores:
            if score.rule == ScoreRule.MANUAL:
                row.possible += score.weight
                row.total += score.counted or 0
            elif score.counted is not None:
                row.possible += score.weight
                row.total += score.counted
        row.grade = grade_of(row.percent, scorecard)
        rows.append(row)
    for row, rank in zip(rows, competition_ranks([r.percent for r in rows]), strict=True):
        row.rank = rank
    rows.sort(key=lambda r: r.rank or 0)
    return rows


def with_previous(rows: list[SubjectResult], previous: list[SubjectResult]) -> None:
    """Put each subject's rank in the previous round next to its rank now."""
    before = {r.subject.key: r.rank for r in previous}
    for row in rows:
        row.previous_rank = before.get(row.subject.key)


def period_of(evaluation) -> Period:
    return parse_period(evaluation.period)
