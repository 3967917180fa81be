"""Follow-up schedules: visits due at intervals that depend on a field's value.

A pack describes the schedule in its case type::

    followup:
      source: 严重精神障碍管理治疗工作规范（2018年版）
      fields: [...]               # the visit's findings (as case fields are written)
      by: risk_grade              # the finding whose value picks the interval
      stages: [managed]           # visits are scheduled while the case is at these stages
      first: {weeks: 2}           # the first visit after registration
      duties: [psych_doctor, grid_worker] # team duties that record visits (or ``actor:``)
      day_kind: working           # a due day on a rest day moves to the next working day
      intervals:
        "0": [{months: 3}]
        "1": [{weeks: 2}, {months: 1}]   # the first visit after two weeks, then monthly
        "3": [{weeks: 2}]
      flags: {"3": urgent_referral}     # a visit at this value raises a flag

After each visit the next one is due one interval after the visit: the interval list of the
value recorded, the n-th entry for the n-th visit in a row at that value (the last repeats).
A visit not made by its due day is *missed* (``visits_missed``); the schedule then goes on
from the missed visit when it is finally made. Dates past the holiday calendar stay as
computed (a calendar day), with the reason returned, instead of failing.
"""
from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from shidian.core import crypto, workdays
from shidian.core.errors import ErrorCode, ShidianError

from .audit import audited

if TYPE_CHECKING:
    from shidian.orgs.models import User

    from .definitions import Actor, CaseTypeDef, FieldDef
    from .models import Case, FollowUp

REASON_NO_SCHEDULE = "no_schedule"
REASON_FORBIDDEN = "forbidden"
REASON_DATE = "date"
REASON_FIELDS = "fields"
UNITS = ("days", "weeks", "months")


@dataclass(frozen=True)
class Interval:
    days: int = 0
    weeks: int = 0
    months: int = 0

    def after(self, day: dt.date) -> dt.date:
        if self.months:
            month = day.month - 1 + self.months
            year, month = day.year + month // 12, month % 12 + 1
            day = day.replace(year=year, month=month,
                              day=min(day.day, calendar.monthrange(year, month)[1]))
        return day + dt.timedelta(days=self.days + 7 * self.weeks)

    def __str__(self) -> str:
        parts = [(self.months, _("%(n)s months")), (self.weeks, _("%(n)s weeks")),
                 (self.days, _("%(n)s days"))]
        return " ".join(text % {"n": n} for n, text in parts if n)


@dataclass(frozen=True)
class FollowupDef:
    by: str
    fields: tuple[FieldDef, ...]
    stages: tuple[str, ...]
    first: Interval
    intervals: Mapping[str, tuple[Interval, ...]]
    flags: Mapping[str, str]
    duties: tuple[str, ...]
    actor: Actor | None
    day_kind: str
    source: str

    def steps(self, value: Any) -> tuple[Interval, ...]:
        return self.intervals.get(str(value), ())

    def field(self, key: str) -> FieldDef:
        for f in self.fields:
            if f.key == key:
                return f
        raise KeyError(key)


def followup_of(case_type: CaseTypeDef) -> FollowupDef | None:
    return case_type.sections.get("followup")


def _interval(loader: Any, where: str, step: Any) -> Interval | None:
    from .definitions import E_SHAPE

    if not isinstance(step, Mapping) or not set(step) <= set(UNITS) or not any(
            isinstance(step.get(u), int) and step[u] > 0 for u in UNITS):
        loader.problem(E_SHAPE, where, "an interval is {days|weeks|months: n}, n > 0")
        return None
    return Interval(**{u: int(step.get(u) or 0) for u in UNITS})


def load_followup(loader: Any, where: str, raw: Any, context: Mapping[str, Any]
                  ) -> FollowupDef | None:
    """The ``followup:`` section of a case type (read by ``definitions``); problems go to the
    loader. Its ``fields`` are the visit's own (findings), kept in the visit's envelope."""
    from .definitions import E_REFERENCE, E_SHAPE, _as_list

    if not isinstance(raw, Mapping):
        loader.problem(E_SHAPE, where, "must be a mapping")
        return None
    fields = loader.fields(f"{where}.fields", raw.get("fields"))
    keys = {f.key for f in fields}
    by = str(raw.get("by") or "")
    if by not in keys:
        loader.problem(E_REFERENCE, where, f"by names {by!r}, not a field of the visit")
    for stage in _as_list(raw.get("stages")):
        if stage not in context["stages"]:
            loader.problem(E_REFERENCE, where, f"unknown stage {stage!r}")
    team = (context.get("sections") or {}).get("team")
    duties = {d.key for d in team.duties} if team else set()
    for duty in _as_list(raw.get("duties")):
        if duty not in duties:
            loader.problem(E_REFERENCE, where, f"unknown duty {duty!r}")
    actor = loader.actor(f"{where}.actor", raw["actor"]) if raw.get("actor") else None
    if actor is None and not raw.get("duties"):
        loader.problem(E_SHAPE, where, "name the duties or the actor who record visits")
    intervals: dict[str, tuple[Interval, ...]] = {}
    for value, steps in (raw.get("intervals") or {}).items():
        parsed = [_interval(loader, f"{where}.intervals.{value}", s) for s in _as_list(steps)]
        intervals[str(value)] = tuple(i for i in parsed if i is not None)
    if not intervals:
        loader.problem(E_SHAPE, where, "a schedule names at least one interval")
    if by in keys:
        by_field = next(f for f in fields if f.key == by)
        for choice in by_field.choices:
            if choice.key not in intervals:
                loader.problem(E_REFERENCE, where, f"no interval for {by} = {choice.key!r}")
    day_kind = str(raw.get("day_kind") or "calendar")
    if day_kind not in ("calendar", "working"):
        loader.problem(E_SHAPE, where, f"unknown day kind {day_kind!r}")
    first = _interval(loader, f"{where}.first", raw.get("first") or {"weeks": 2})
    return FollowupDef(
        by=by, fields=fields, stages=tuple(str(s) for s in _as_list(raw.get("stages"))),
        first=first or Interval(weeks=2), intervals=intervals,
        flags={str(k): str(v) for k, v in (raw.get("flags") or {}).items()},
        duties=tuple(str(d) for d in _as_list(raw.get("duties"))), actor=actor,
        day_kind=day_kind, source=str(raw.get("source") or ""))


# --- the schedule (pure) ----------------------------------------------------------------------

def next_due(schedule: FollowupDef, *, value: Any, visited_on: dt.date,
             run: int) -> tuple[dt.date | None, str]:
    """The day the next visit is due after a visit on ``visited_on`` at ``value``, the
    ``run``-th visit in a row at that value (1 for the first). On a working-day schedule a
    rest day moves to the next working day; past the holiday calendar the calendar day stays,
    with the reason."""
    steps = schedule.steps(value)
    if not steps:
        return None, ""
    day = steps[min(run, len(steps)) - 1].after(visited_on)
    if schedule.day_kind != "working":
        return day, ""
    try:
        return workdays.next_workday(day), ""
    except ShidianError as exc:
        if exc.extra.get("reason") != workdays.REASON_NOT_COVERED:
            raise
        return day, exc.message


def run_length(values: list[Any], value: Any) -> int:
    """How many of the latest ``values`` (oldest first) equal ``value``, in a row."""
    n = 0
    for v in reversed(values):
        if str(v) != str(value):
            break
        n += 1
    return n


# --- reads ------------------------------------------------------------------------------------

def visit_data(visit: FollowUp) -> dict[str, Any]:
    return crypto.decrypt_json(visit.data) if visit.data else {}


def visits_of(case: Case) -> list[FollowUp]:
    from .models import FollowUp

    return list(FollowUp.objects.filter(case=case).select_related("visited_by")
                .order_by("due_on", "id"))


def visits_open(cases: QuerySet[Case]) -> QuerySet[FollowUp]:
    """The next visit of each case (not yet made), soonest first."""
    from .models import FollowUp

    return (FollowUp.objects.filter(case__in=cases, done_on__isnull=True)
            .select_related("case", "case__division").order_by("due_on", "case_id"))


def visits_missed(cases: QuerySet[Case], *, today: dt.date) -> QuerySet[FollowUp]:
    """Visits due before ``today`` and not made."""
    return visits_open(cases).filter(due_on__lt=today)


def cases_regular(cases: QuerySet[Case], *, start: dt.date, end: dt.date) -> set[int]:
    """Ids of ``cases`` followed up as their schedule asks over ``start``..``end``
    (规范管理): at least one visit made by ``end``, and every visit due in the period made by
    its due day. Read from the visits' dates only, so a past period's answer does not move."""
    from django.db.models import F, Q

    from .models import FollowUp

    made = set(FollowUp.objects.filter(case__in=cases, done_on__lte=end)
               .values_list("case_id", flat=True))
    late = set(FollowUp.objects.filter(case__in=cases, due_on__gte=start, due_on__lte=end)
               .filter(Q(done_on__isnull=True, due_on__lt=end) | Q(done_on__gt=F("due_on")))
               .values_list("case_id", flat=True))
    return made - late


# --- writes -----------------------------------------------------------------------------------

def _may_record(user: User, schedule: FollowupDef, case: Case) -> bool:
    from . import access
    from .models import CaseMember

    if schedule.actor is not None and access.may_act(user, schedule.actor, case.division_id):
        return True
    return bool(schedule.duties) and CaseMember.objects.filter(
        case=case, user=user, duty__in=schedule.duties, removed_at__isnull=True).exists()


def schedule_start(*, case: Case, start: dt.date) -> FollowUp | None:
    """Put the first visit on the schedule, the pack's ``first`` interval after ``start``
    (registration); nothing when the case already has a visit waiting."""
    from .definitions import case_type_get
    from .models import FollowUp

    schedule = followup_of(case_type_get(case.case_type))
    if schedule is None:
        return None
    existing = FollowUp.objects.filter(case=case, done_on__isnull=True).first()
    if existing is not None:
        return existing
    day = schedule.first.after(start)
    if schedule.day_kind == "working":
        try:
            day = workdays.next_workday(day)
        except ShidianError as exc:
            if exc.extra.get("reason") != workdays.REASON_NOT_COVERED:
                raise
    return FollowUp.objects.create(case=case, due_on=day, basis="start")


@audited
def visit_record(*, user: User, case_id: int, visited_on: dt.date, values: Mapping[str, Any],
                 today: dt.date | None = None) -> tuple[FollowUp, FollowUp | None]:
    """Record the case's due visit as made on ``visited_on`` with its findings ``values``
    (the schedule's visit fields, kept encrypted on the visit), and schedule the next one.
    Returns the visit made and the next visit (None when the value has no interval)."""
    from . import access, engine
    from .definitions import case_type_get
    from .models import Case, CaseEvent, EventKind, FollowUp

    today = today or timezone.localdate()
    if visited_on > today:
        raise ShidianError(ErrorCode.INVALID, _("A visit cannot be dated in the future."),
                           {"reason": REASON_DATE})
    with transaction.atomic():
        case = access.access_case_by_id(user=user, case_id=case_id)
        case = (Case.objects.select_for_update(of=("self",)).select_related("programme")
                .get(pk=case.pk))
        case_type = case_type_get(case.case_type)
        schedule = followup_of(case_type)
        if schedule is None or case.outcome or (schedule.stages
                                                and case.stage not in schedule.stages):
            raise ShidianError(ErrorCode.CONFLICT, _("This case has no follow-up due."),
                               {"reason": REASON_NO_SCHEDULE})
        if not _may_record(user, schedule, case):
            raise ShidianError(ErrorCode.FORBIDDEN, _("You may not record visits of this case."),
                               {"reason": REASON_FORBIDDEN})
        findings: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for f in schedule.fields:
            try:
                findings[f.key] = _plain(engine.field_clean(f, values.get(f.key), today=today))
            except engine.FieldError as exc:
                errors[f.key] = exc.message
        if errors:
            raise ShidianError(ErrorCode.INVALID, _("Some fields need correcting."),
                               {"reason": REASON_FIELDS, "errors": errors})
        now = timezone.now()
        repeat = _same_visit_just_recorded(case, user, visited_on, findings, now)
        if repeat is not None:
            return repeat  # a double submit of the form: the visit is recorded once
        last_done = FollowUp.objects.filter(case=case, done_on__isnull=False).order_by(
            "-done_on").values_list("done_on", flat=True).first()
        if last_done and visited_on < last_done:
            raise ShidianError(ErrorCode.INVALID,
                               _("A visit cannot be dated before the previous one."),
                               {"reason": REASON_DATE})
        due = FollowUp.objects.select_for_update().filter(
            case=case, done_on__isnull=True).order_by("due_on").first()
        value = findings.get(schedule.by)
        history = [visit_data(v).get(schedule.by) for v in FollowUp.objects.filter(
            case=case, done_on__isnull=False).order_by("done_on", "id")]
        run = run_length(history, value) + 1
        flag = schedule.flags.get(str(value), "")
        if flag:
            findings["flag"] = flag
        if due is None:
            due = FollowUp(case=case, due_on=visited_on, basis="unscheduled")
        late = due.due_on < visited_on
        due.done_on = visited_on
        due.data = crypto.encrypt_json(findings)
        due.visited_by = user
        due.recorded_at = now
        due.save()
        next_day, problem = next_due(schedule, value=value, visited_on=visited_on, run=run)
        following = None
        if next_day is not None:
            following = FollowUp.objects.create(case=case, due_on=next_day, basis=str(value))
        case.save(update_fields=["updated_at"])
        CaseEvent.objects.create(
            case=case, kind=EventKind.FOLLOWUP, actor=user, at=now, from_stage=case.stage,
            data={"visit": due.pk, "visited_on": visited_on.isoformat(),
                  "due_on": due.due_on.isoformat(), "late": late, "flag": flag,
                  "next_due": next_day.isoformat() if next_day else None,
                  **({"due_unknown": problem} if problem else {})})
    return due, following


REPEAT_WINDOW = dt.timedelta(minutes=10)


def _same_visit_just_recorded(case: Case, user: User, visited_on: dt.date,
                              findings: dict[str, Any], now: dt.datetime
                              ) -> tuple[FollowUp, FollowUp | None] | None:
    """The visit this user recorded for the same day with the same findings minutes ago, with
    the visit it scheduled: a second click on 保存 (or a resent API call) records nothing more.
    A second visit on the same day with other findings is a real visit and is recorded."""
    from .models import FollowUp

    last = (FollowUp.objects.filter(case=case, done_on=visited_on, visited_by=user,
                                    recorded_at__gte=now - REPEAT_WINDOW)
            .order_by("-recorded_at", "-id").first())
    if last is None:
        return None
    kept = {k: v for k, v in visit_data(last).items() if k != "flag"}
    if kept != findings:
        return None
    following = (FollowUp.objects.filter(case=case, done_on__isnull=True, id__gt=last.pk)
                 .order_by("id").first())
    return last, following


def latest_findings(cases: Iterable[Case]) -> dict[int, dict[str, Any]]:
    """Each case's latest visit findings (decrypted), for counts such as 治疗率."""
    from .models import FollowUp

    latest: dict[int, FollowUp] = {}
    for visit in FollowUp.objects.filter(case__in=list(cases), done_on__isnull=False).order_by(
            "case_id", "done_on", "id"):
        latest[visit.case_id] = visit
    return {case_id: visit_data(v) for case_id, v in latest.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value) if not isinstance(value, str | int | float | bool | list | dict |
                                        type(None)) else value


def missed_note(*, cases: QuerySet[Case], today: dt.date) -> list[FollowUp]:
    """Mark newly missed visits (once each) and return them, for reminders: idempotent."""
    from .models import CaseEvent, EventKind, FollowUp

    found = []
    with transaction.atomic():
        for visit in (visits_missed(cases, today=today).filter(missed_noted_on__isnull=True)
                      .select_for_update(of=("self",))):
            FollowUp.objects.filter(pk=visit.pk).update(missed_noted_on=today)
            CaseEvent.objects.create(case_id=visit.case_id, kind=EventKind.FOLLOWUP,
                                     from_stage=visit.case.stage,
                                     data={"missed": visit.pk,
                                           "due_on": visit.due_on.isoformat()})
            found.append(visit)
    return found
