"""Training schedules with attendance, and assessments by several assessors.

``schedule:`` names the kinds of period (在校学习, 企业实践), templates of alternating periods
(seed 04: school 4 months, enterprise 1, then school 3, enterprise 2), who sets a case's
schedule and records attendance, the minimum attendance rate, and the transitions that need the
schedule finished. A template gives the default dates; the clerk may set the real ones (a
winter holiday makes a school period longer than its months), in order and not overlapping.

``assessments:`` names kinds of assessment, each scored by several party roles (the teacher
and the mentor: 双导师) with weights; the weighted score must reach ``pass`` before the
transitions listed in ``before``.
"""
from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Count, Q
from django.utils.translation import gettext as _

from shidian.core.errors import ErrorCode
from shidian.orgs.models import User

from . import access
from .audit import audited
from .definitions import (
    E_REFERENCE,
    E_SHAPE,
    Actor,
    CaseTypeDef,
    Label,
    TransitionDef,
    case_type_get,
)
from .models import Case, CaseEvent, EventKind
from .relation_models import Assessment, Attendance, AttendanceStatus, CaseParty, SchedulePeriod
from .relations import (
    REASON_FORBIDDEN,
    REASON_INVALID,
    error,
    label_of,
    labels,
    read_actor,
    read_mapping,
    read_transitions,
    today_or,
)


@dataclass(frozen=True)
class TemplatePeriod:
    kind: str
    months: int
    label: Label | None = None


@dataclass(frozen=True)
class ScheduleDef:
    kinds: Mapping[str, Label]
    templates: Mapping[str, tuple[Label, tuple[TemplatePeriod, ...]]]
    by: Actor | None
    attendance_by: Actor | None
    min_attendance: Decimal | None
    before: tuple[str, ...]


@dataclass(frozen=True)
class AssessmentDef:
    key: str
    label: Label
    weights: Mapping[str, Decimal]  # assessor role → weight (adding up to 1)
    scale: Decimal
    passing: Decimal
    by: Actor | None
    before: tuple[str, ...]


def _decimal(loader: Any, where: str, value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        loader.problem(E_SHAPE, where, f"{value!r} is not a number")
        return None


def load_schedule(loader: Any, where: str, raw: Any, context: Mapping[str, Any]) -> ScheduleDef:
    raw = read_mapping(loader, where, raw)
    kinds = labels(loader, f"{where}.kinds", raw.get("kinds") or {})
    if not kinds:
        loader.problem(E_SHAPE, where, "a schedule names its kinds of period")
    templates = {}
    for key, item in read_mapping(loader, f"{where}.templates", raw.get("templates") or {}
                                  ).items():
        here = f"{where}.templates.{key}"
        item = read_mapping(loader, here, item)
        periods = []
        for i, period in enumerate(item.get("periods") or []):
            period = read_mapping(loader, f"{here}.periods[{i}]", period)
            kind, months = str(period.get("kind") or ""), period.get("months")
            if kind not in kinds:
                loader.problem(E_REFERENCE, f"{here}.periods[{i}]", f"unknown kind {kind!r}")
            if not isinstance(months, int) or months < 1:
                loader.problem(E_SHAPE, f"{here}.periods[{i}]", "months must be at least 1")
                months = 1
            periods.append(TemplatePeriod(kind, months, label_of(period["label"], kind)
                                          if period.get("label") else None))
        templates[str(key)] = (label_of(item.get("label"), str(key)), tuple(periods))
    minimum = _decimal(loader, f"{where}.min_attendance", raw.get("min_attendance"))
    if minimum is not None and not 0 <= minimum <= 1:
        loader.problem(E_SHAPE, f"{where}.min_attendance", "a rate between 0 and 1")
    return ScheduleDef(kinds=kinds, templates=templates,
                       by=read_actor(loader, f"{where}.by", raw.get("by")),
                       attendance_by=read_actor(loader, f"{where}.attendance_by",
                                                raw.get("attendance_by") or raw.get("by")),
                       min_attendance=minimum,
                       before=read_transitions(loader, f"{where}.before", raw.get("before"),
                                               context))


def load_assessments(loader: Any, where: str, raw: Any, context: Mapping[str, Any]
                     ) -> dict[str, AssessmentDef]:
    roles = set(context["sections"].get("parties") or {})
    out = {}
    for key, item in read_mapping(loader, where, raw).items():
        here = f"{where}.{key}"
        item = read_mapping(loader, here, item)
        weights = {}
        for role, weight in read_mapping(loader, f"{here}.assessors",
                                         item.get("assessors") or {}).items():
            if role not in roles:
                loader.problem(E_REFERENCE, f"{here}.assessors", f"unknown party role {role!r}")
            weights[str(role)] = _decimal(loader, f"{here}.assessors.{role}", weight) or Decimal(0)
        if not weights or sum(weights.values()) != 1:
            loader.problem(E_SHAPE, f"{here}.assessors", "the weights must add up to 1")
        out[str(key)] = AssessmentDef(
            key=str(key), label=label_of(item.get("label"), str(key)), weights=weights,
            scale=_decimal(loader, f"{here}.scale", item.get("scale", 100)) or Decimal(100),
            passing=_decimal(loader, f"{here}.pass", item.get("pass", 60)) or Decimal(0),
            by=read_actor(loader, f"{here}.by", item.get("by")),
            before=read_transitions(loader, f"{here}.before", item.get("before"), context))
    return out


def schedule_def(case_type: CaseTypeDef) -> ScheduleDef | None:
    return case_type.sections.get("schedule")


def assessment_defs(case_type: CaseTypeDef) -> dict[str, AssessmentDef]:
    return dict(case_type.sections.get("assessments") or {})


# --- schedules --------------------------------------------------------------------------------

def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def periods_from_template(definition: ScheduleDef, template: str, starts_on: dt.date
                          ) -> list[dict[str, Any]]:
    """Consecutive periods from ``starts_on``, each ending the day before the next begins."""
    try:
        _label, periods = definition.templates[template]
    except KeyError:
        raise error(ErrorCode.INVALID, REASON_INVALID, _("Unknown schedule template.")) from None
    out, start = [], starts_on
    for period in periods:
        end = add_months(start, period.months) - dt.timedelta(days=1)
        out.append({"kind": period.kind, "starts_on": start, "ends_on": end})
        start = end + dt.timedelta(days=1)
    return out


@audited
def schedule_set(*, user: User, case_id: int, periods: Iterable[Mapping[str, Any]]
                 ) -> list[SchedulePeriod]:
    """Set the case's periods (kind, start, end): in order, not overlapping. Periods with
    attendance already recorded keep their dates and kind."""
    with transaction.atomic():
        case = access.access_case_by_id(user=user, case_id=case_id)
        case = Case.objects.select_for_update().get(pk=case.pk)
        case_type = case_type_get(case.case_type)
        definition = schedule_def(case_type)
        if definition is None or case.outcome or not access.may_act(
                user, definition.by, case.division_id):
            raise error(ErrorCode.FORBIDDEN, REASON_FORBIDDEN,
                        _("You may not set the schedule of this case."))
        clean = _periods_clean(definition, periods)
        existing = list(SchedulePeriod.objects.filter(case=case).annotate(
            recorded=Count("attendance")))
        for old in existing:
            new = clean[old.position] if old.position < len(clean) else None
            if old.recorded and (new is None or (new["kind"], new["starts_on"], new["ends_on"])
                                 != (old.kind, old.starts_on, old.ends_on)):
                raise error(ErrorCode.CONFLICT, REASON_INVALID,
                            _("Period %(n)s has attendance recorded; its dates stay.")
                            % {"n": old.position + 1})
        SchedulePeriod.objects.filter(case=case).exclude(
            pk__in=[p.pk for p in existing if p.recorded]).delete()
        kept = {p.position for p in existing if p.recorded}
        SchedulePeriod.objects.bulk_create([
            SchedulePeriod(case=case, position=i, kind=p["kind"], starts_on=p["starts_on"],
                           ends_on=p["ends_on"]) for i, p in enumerate(clean) if i not in kept])
        CaseEvent.objects.create(case=case, kind=EventKind.SCHEDULE, actor=user,
                                 from_stage=case.stage, data={"periods": [
                                     [p["kind"], p["starts_on"].isoformat(),
                                      p["ends_on"].isoformat()] for p in clean]})
    return list(SchedulePeriod.objects.filter(case=case))


def _periods_clean(definition: ScheduleDef, periods: Iterable[Mapping[str, Any]]
                   ) -> list[dict[str, Any]]:
    from .engine import FieldError, parse_date

    clean: list[dict[str, Any]] = []
    for i, period in enumerate(periods, start=1):
        kind = str(period.get("kind") or "")
        if kind not in definition.kinds:
            raise error(ErrorCode.INVALID, REASON_INVALID,
                        _("Period %(n)s: unknown kind of period.") % {"n": i})
        try:
            start, end = parse_date(period.get("starts_on")), parse_date(period.get("ends_on"))
        except FieldError:
            raise error(ErrorCode.INVALID, REASON_INVALID,
                        _("Period %(n)s: give the first and last day as dates.") % {"n": i}
                        ) from None
        if end < start:
            raise error(ErrorCode.INVALID, REASON_INVALID,
                        _("Period %(n)s ends before it starts.") % {"n": i})
        if clean and start <= clean[-1]["ends_on"]:
            raise error(ErrorCode.INVALID, REASON_INVALID,
                        _("Period %(n)s starts before period %(m)s ends.") % {"n": i, "m": i - 1})
        clean.append({"kind": kind, "starts_on": start, "ends_on": end})
    if not clean:
        raise error(ErrorCode.INVALID, REASON_INVALID, _("A schedule has at least one period."))
    return clean


@audited
def attendance_record(*, user: User, case_id: int, entries: Iterable[Mapping[str, Any]],
                      today: dt.date | None = None) -> int:
    """Record (or correct) attendance days; each day must fall in a period of the schedule and
    not in the future. Returns the number of days written."""
    from .engine import FieldError, parse_date

    today = today_or(today)
    with transaction.atomic():
        case = access.access_case_by_id(user=user, case_id=case_id)
        case = Case.objects.select_for_update().get(pk=case.pk)
        definition = schedule_def(case_type_get(case.case_type))
        if definition is None or case.outcome or not access.may_act(
                user, definition.attendance_by, case.division_id):
            raise error(ErrorCode.FORBIDDEN, REASON_FORBIDDEN,
                        _("You may not record attendance of this case."))
        periods = list(SchedulePeriod.objects.filter(case=case))
        rows = []
        for i, entry in enumerate(entries, start=1):
            try:
                day = parse_date(entry.get("on"))
            except FieldError:
                raise error(ErrorCode.INVALID, REASON_INVALID,
                            _("Line %(n)s: the date is not a date.") % {"n": i}) from None
            status = str(entry.get("status") or "")
            if status not in AttendanceStatus.values:
                raise error(ErrorCode.INVALID, REASON_INVALID,
                            _("Line %(n)s: attendance is present, on leave or absent.")
                            % {"n": i})
            if day > today:
                raise error(ErrorCode.INVALID, REASON_INVALID,
                            _("Line %(n)s: %(day)s is in the future.") % {"n": i, "day": day})
            period = next((p for p in periods if p.starts_on <= day <= p.ends_on), None)
            if period is None:
                raise error(ErrorCode.INVALID, REASON_INVALID,
                            _("Line %(n)s: %(day)s is outside every period of the schedule.")
                            % {"n": i, "day": day})
            rows.append((period, day, status, str(entry.get("note") or "")[:200]))
        for period, day, status, note in rows:
            Attendance.objects.update_or_create(period=period, on=day, defaults={
                "status": status, "note": note, "recorded_by": user})
    return len(rows)


@dataclass
class PeriodSummary:
    period: SchedulePeriod
    label: str
    present: int
    leave: int
    absent: int

    @property
    def rate(self) -> Decimal | None:
        """Present days over the days that counted (leave is excused)."""
        counted = self.present + self.absent
        return (Decimal(self.present) / counted).quantize(Decimal("0.001")) if counted else None


def schedule_summary(case: Case) -> list[PeriodSummary]:
    definition = schedule_def(case_type_get(case.case_type))
    periods = SchedulePeriod.objects.filter(case=case).annotate(
        present=Count("attendance", filter=Q(attendance__status=AttendanceStatus.PRESENT)),
        leave=Count("attendance", filter=Q(attendance__status=AttendanceStatus.LEAVE)),
        absent=Count("attendance", filter=Q(attendance__status=AttendanceStatus.ABSENT)))
    return [PeriodSummary(p, str(definition.kinds.get(p.kind, p.kind)) if definition else p.kind,
                          p.present, p.leave, p.absent) for p in periods]


def attendance_rate(summaries: Iterable[PeriodSummary]) -> Decimal | None:
    present = absent = 0
    for s in summaries:
        present, absent = present + s.present, absent + s.absent
    return (Decimal(present) / (present + absent)).quantize(Decimal("0.001")) if (
        present + absent) else None


# --- assessments ------------------------------------------------------------------------------

@audited
def assessment_record(*, user: User, case_id: int, kind: str, assessor_role: str, score: Any,
                      assessed_on: dt.date, comment: str = "", today: dt.date | None = None
                      ) -> Assessment:
    """One assessor's score (the teacher's or the mentor's); a second record corrects it."""
    today = today_or(today)
    with transaction.atomic():
        case = access.access_case_by_id(user=user, case_id=case_id)
        case = Case.objects.select_for_update().get(pk=case.pk)
        case_type = case_type_get(case.case_type)
        try:
            definition = assessment_defs(case_type)[kind]
        except KeyError:
            raise error(ErrorCode.INVALID, REASON_INVALID, _("Unknown assessment.")) from None
        if case.outcome or not access.may_act(user, definition.by, case.division_id):
            raise error(ErrorCode.FORBIDDEN, REASON_FORBIDDEN,
                        _("You may not record assessments of this case."))
        if assessor_role not in definition.weights:
            raise error(ErrorCode.INVALID, REASON_INVALID,
                        _("This assessment is not scored by %(role)s.") % {"role": assessor_role})
        try:
            value = Decimal(str(score).strip())
        except InvalidOperation:
            value = Decimal(-1)
        if not value.is_finite() or not 0 <= value <= definition.scale:
            raise error(ErrorCode.INVALID, REASON_INVALID,
                        _("The score must be a number from 0 to %(max)s.")
                        % {"max": definition.scale}, field="score")
        if assessed_on > today:
            raise error(ErrorCode.INVALID, REASON_INVALID,
                        _("The assessment date cannot be in the future."), field="assessed_on")
        link = CaseParty.objects.filter(case=case, role=assessor_role,
                                        ended_at__isnull=True).first()
        if link is None:
            raise error(ErrorCode.INVALID, REASON_INVALID,
                        _("Assign the assessor to the case first."))
        record, _created = Assessment.objects.update_or_create(
            case=case, kind=kind, assessor_role=assessor_role,
            defaults={"party_id": link.party_id, "score": value, "assessed_on": assessed_on,
                      "comment": (comment or "").strip(), "recorded_by": user})
        CaseEvent.objects.create(case=case, kind=EventKind.ASSESSMENT, actor=user,
                                 from_stage=case.stage,
                                 data={"assessment": kind, "assessor": assessor_role,
                                       "score": str(value)})
    return record


@dataclass
class AssessmentResult:
    definition: AssessmentDef
    scores: dict[str, Decimal]

    @property
    def missing(self) -> list[str]:
        return [role for role in self.definition.weights if role not in self.scores]

    @property
    def total(self) -> Decimal | None:
        if self.missing:
            return None
        return sum((self.scores[r] * w for r, w in self.definition.weights.items()),
                   Decimal(0)).quantize(Decimal("0.01"))

    @property
    def passed(self) -> bool:
        return self.total is not None and self.total >= self.definition.passing


def assessment_results(case_type: CaseTypeDef, case: Case) -> list[AssessmentResult]:
    scores: dict[str, dict[str, Decimal]] = {}
    for a in Assessment.objects.filter(case=case):
        scores.setdefault(a.kind, {})[a.assessor_role] = a.score
    return [AssessmentResult(d, scores.get(d.key, {}))
            for d in assessment_defs(case_type).values()]


def schedule_problems(case_type: CaseTypeDef, case: Case, transition: TransitionDef,
                      env: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    definition = schedule_def(case_type)
    if definition is not None and transition.key in definition.before:
        summaries = schedule_summary(case)
        today = env.get("today") or dt.date.today()
        if not summaries:
            problems.append(_("Set the training schedule first."))
        elif summaries[-1].period.ends_on >= today:
            problems.append(_("The schedule runs until %(day)s.")
                            % {"day": summaries[-1].period.ends_on})
        rate = attendance_rate(summaries)
        if summaries and definition.min_attendance is not None and (
                rate is None or rate < definition.min_attendance):
            problems.append(_("Attendance is %(rate)s; at least %(min)s is required.") % {
                "rate": "—" if rate is None else f"{rate * 100:.1f}%",
                "min": f"{definition.min_attendance * 100:.0f}%"})
    wanted = [d for d in assessment_defs(case_type).values() if transition.key in d.before]
    if wanted:
        results = {r.definition.key: r for r in assessment_results(case_type, case)}
        roles = case_type.sections.get("parties") or {}
        for d in wanted:
            result = results[d.key]
            if result.missing:
                problems.append(_("%(assessment)s: waiting for the score of %(roles)s.") % {
                    "assessment": d.label,
                    "roles": "、".join(str(roles[r].label) if r in roles else r
                                      for r in result.missing)})
            elif not result.passed:
                problems.append(_("%(assessment)s: %(total)s is below the pass mark %(pass)s.")
                                % {"assessment": d.label, "total": result.total,
                                   "pass": d.passing})
    return problems
