"""Writes of the plans app. Each runs in one transaction and is audited (django-auditlog).

The Task/Phase/TaskUnit rows of a plan are its working copy. ``plan_publish`` freezes them into
a ``PlanVersion``; the first edit after that puts the plan back into draft (version n+1
pending) and never touches a published snapshot.
"""
from __future__ import annotations

import calendar
import contextlib
import datetime as dt
import logging
import re
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from auditlog.context import auditlog_value, set_actor
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy

from shidian.core.errors import ErrorCode, ShidianError
from shidian.core.faults import checkpoint
from shidian.orgs.access import is_admin
from shidian.orgs.models import Agency, AgencyAlias, AgencyKind, Division, User
from shidian.orgs.selectors import agency_resolve, ancestor_codes

from .access import can_write_plans
from .models import (
    Phase, Plan, PlanFinding, PlanStatus, PlanVersion, Programme, Recurrence, Task, TaskUnit,
    UnitRole,
)

logger = logging.getLogger(__name__)

PLAN_FILE_TYPES = {".txt": b"", ".html": b"", ".htm": b"", ".docx": b"PK\x03\x04",
                   ".pdf": b"%PDF"}
PLAN_FILE_MAX_BYTES = 10 * 1024 * 1024
TASK_FIELDS = ("path", "title", "content", "deadline", "deadline_text", "recurrence", "phase")

# Messages the tests and callers refer to (the code is what callers branch on).
MSG_FORBIDDEN = gettext_lazy("You may not change plans.")
MSG_FILE_TYPE = gettext_lazy("Only .txt, .docx, .html and .pdf plan files can be imported.")
MSG_FILE_TOO_LARGE = gettext_lazy("The file is larger than %(limit)s MB.")
MSG_FILE_EMPTY = gettext_lazy("The file is empty.")
MSG_FILE_MISMATCH = gettext_lazy("The file's content does not match its type %(suffix)s.")
MSG_FILE_UNREADABLE = gettext_lazy("The file could not be read: %(reason)s")
MSG_FILE_NO_TEXT = gettext_lazy("No text was found in the file.")
MSG_FILE_NO_TASKS = gettext_lazy(
    "No tasks, phases or goals were found in the file, so no plan was created. Is it an "
    "implementation plan?")
MSG_PARSER_FAILED = gettext_lazy("The plan could not be analysed; no plan was created.")
MSG_DIVISION_SCOPE = gettext_lazy("The division is outside your scope.")
MSG_NAME_REQUIRED = gettext_lazy("A name is required.")
MSG_TITLE_REQUIRED = gettext_lazy("A task needs a title.")
MSG_BAD_RECURRENCE = gettext_lazy("Unknown recurrence.")
MSG_BAD_ROLE = gettext_lazy("Unknown unit role.")
MSG_BAD_PHASE = gettext_lazy("The phase belongs to another plan.")
MSG_UNIT_TWICE = gettext_lazy("%(name)s cannot be both a lead and a responsible unit of a task.")
MSG_AGENCY_OUT_OF_LINE = gettext_lazy(
    "%(agency)s belongs to %(division)s, which is neither the plan's division nor above or "
    "below it.")
MSG_AGENCY_EXISTS = gettext_lazy(
    "An agency named %(name)s already exists in %(division)s: choose it from the suggestions.")
MSG_ALREADY_PUBLISHED = gettext_lazy(
    "Version %(version)s is already published and nothing has changed since.")
MSG_NOTHING_TO_PUBLISH = gettext_lazy("The plan has no tasks to publish.")
MSG_UNRESOLVED_LEADS = gettext_lazy(
    "%(count)s lead unit(s) are not matched to an agency (%(names)s): nobody would see those "
    "tasks. Match them, or confirm publishing anyway.")
MSG_VERSION_FROZEN = gettext_lazy(
    "Published version %(version)s cannot be changed. Edit the plan: your changes become the "
    "next version.")
MSG_PARENT_NOT_HIGHER = gettext_lazy(
    "A plan can only be linked to a plan of its own or a higher division.")
MSG_PARENT_SELF = gettext_lazy("A plan cannot be its own higher-level plan.")
MSG_NO_PARENT = gettext_lazy("Link the plan to a higher-level plan first.")
MSG_PARENT_TASK_OTHER_PLAN = gettext_lazy("The higher-level task is not in the linked plan.")
MSG_TASK_OTHER_PLAN = gettext_lazy("The task is not in this plan.")
MSG_TASK_HAS_CHILDREN = gettext_lazy("Delete or move the task's sub-tasks first.")
MSG_TASK_HAS_REPORTS = gettext_lazy("Units have reported on this task; it cannot be deleted.")
MSG_PLAN_TITLE_REQUIRED = gettext_lazy("A plan needs a title.")
MSG_PERIOD_ORDER = gettext_lazy("The plan period cannot end before it starts.")


def _error(code: ErrorCode, message: Any, **params: Any) -> ShidianError:
    text = str(message) % params if params else str(message)
    return ShidianError(code, text, extra={k: v for k, v in params.items()
                                           if isinstance(v, (str, int, list))})


# --- audit and locking helpers -------------------------------------------------------------


@contextlib.contextmanager
def _audited(user: User | None) -> Iterator[None]:
    """One transaction whose audit entries name ``user`` (and the request's address, if any)."""
    try:
        outer = auditlog_value.get()
    except LookupError:
        outer = None
    addr = outer.get("remote_addr") if outer else None
    port = outer.get("remote_port") if outer else None
    try:
        with transaction.atomic(), set_actor(user, remote_addr=addr, remote_port=port):
            yield
    finally:
        if outer is not None:
            auditlog_value.set(outer)  # the middleware's receiver goes on for the request


def _require_writer(user: User) -> None:
    if not can_write_plans(user):
        raise _error(ErrorCode.FORBIDDEN, MSG_FORBIDDEN)


def _lock_plan(plan: Plan) -> Plan:
    return Plan.objects.select_for_update().get(pk=plan.pk)


def _begin_edit(plan: Plan) -> Plan:
    """Lock the plan for an edit; a published plan goes back to draft (version n+1 pending)."""
    locked = _lock_plan(plan)
    if locked.status == PlanStatus.PUBLISHED:
        locked.status = PlanStatus.DRAFT
        locked.save(update_fields=["status", "updated_at"])
    plan.status, plan.version = locked.status, locked.version
    return locked


def _in_scope(user: User, division: Division | None) -> bool:
    if user.is_superuser:
        return True
    if user.division_id is None:
        return True
    return division is not None and division.code.startswith(user.division_id)


# --- parsing helpers ------------------------------------------------------------------------


DATE_RE = re.compile(r"^(\d{4})-(\d{1,2})(?:-(\d{1,2}))?$")


def parse_partial_date(value: str | None, *, end: bool) -> dt.date | None:
    """``2021-06`` → 2021-06-30 (``end``) or 2021-06-01; ``2021-06-15`` as it is; else None."""
    if not value:
        return None
    m = DATE_RE.match(str(value).strip())
    if not m:
        return None
    year, month = int(m.group(1)), int(m.group(2))
    if not 1 <= month <= 12:
        return None
    if m.group(3):
        try:
            return dt.date(year, month, int(m.group(3)))
        except ValueError:
            return None
    day = calendar.monthrange(year, month)[1] if end else 1
    return dt.date(year, month, day)


def _clean_names(names: Iterable[str]) -> list[str]:
    seen: list[str] = []
    for raw in names:
        name = (raw or "").strip()[:200]
        if name and name not in seen:
            seen.append(name)
    return seen


def _paragraph_end(text: str, minimum: int) -> int:
    end = text.find("\n", minimum)
    return len(text) if end == -1 else end


def locate_tasks(text: str, titles: list[str]) -> list[tuple[int, int] | None]:
    """Where each task stands in the source text: the paragraph that holds its title, searched
    forward in task order (a title repeated later in the text is found at its own place)."""
    spans: list[tuple[int, int] | None] = []
    cursor = 0
    for title in titles:
        title = (title or "").strip()
        if not title:
            spans.append(None)
            continue
        found = -1
        for probe in (title, title[:12]):
            found = text.find(probe, cursor)
            if found == -1:
                found = text.find(probe)
            if found != -1:
                break
        if found == -1:
            spans.append(None)
            continue
        spans.append((found, _paragraph_end(text, found + min(len(title), 12))))
        cursor = found + 1
    return spans


class _Resolver:
    """Resolves each unit name once per import, within the plan's division and above."""

    def __init__(self, division: Division | None):
        self.division = division
        self.cache: dict[str, Agency | None] = {}

    def __call__(self, name: str) -> Agency | None:
        if name not in self.cache:
            self.cache[name] = agency_resolve(name=name, division=self.division)
        return self.cache[name]


def _add_units(task: Task, role: str, names: list[str], resolve: _Resolver,
               skip: Iterable[str] = ()) -> None:
    skipped = set(skip)
    for order, name in enumerate(n for n in names if n not in skipped):
        TaskUnit.objects.create(task=task, role=role, name=name, agency=resolve(name),
                                order=order)


# --- programmes and import ------------------------------------------------------------------


def programme_create(*, user: User, name: str, domain: str = "",
                     division: Division | None = None, description: str = "") -> Programme:
    _require_writer(user)
    name = (name or "").strip()
    if not name:
        raise _error(ErrorCode.INVALID, MSG_NAME_REQUIRED)
    if not _in_scope(user, division):
        raise _error(ErrorCode.FORBIDDEN, MSG_DIVISION_SCOPE)
    with _audited(user):
        return Programme.objects.create(name=name[:200], domain=(domain or "")[:32],
                                        division=division, description=description or "")


def plan_create_from_parsed(*, user: User, programme: Programme, division: Division | None,
                            parsed: dict[str, Any], source_text: str = "",
                            source_name: str = "",
                            spans: list[tuple[int, int] | None] | None = None,
                            title: str = "") -> Plan:
    """A draft plan from the parser's output (the SCHEMA.md dict: tasks, phases, findings).

    Tasks nest by their path (``二/（一）/1`` under ``二/（一）``); lead_units become lead units and
    units responsible ones, each resolved to an agency of the plan's division or above when the
    name is unambiguous. ``spans`` locate each task in ``source_text``; when missing, the
    task's title is looked up in the text.
    """
    _require_writer(user)
    if not _in_scope(user, division):
        raise _error(ErrorCode.FORBIDDEN, MSG_DIVISION_SCOPE)
    tasks = list(parsed.get("tasks") or [])
    period = parsed.get("period") or {}
    located = locate_tasks(source_text, [t.get("title", "") for t in tasks])
    spans = list(spans or [])
    with _audited(user):
        plan = Plan.objects.create(
            programme=programme, division=division,
            title=(title or parsed.get("title") or Path(source_name).stem or "?")[:300],
            issuer=(parsed.get("issuer") or "")[:200], domain=(parsed.get("domain") or "")[:32],
            period_start=parse_partial_date(period.get("start"), end=False),
            period_end=parse_partial_date(period.get("end"), end=True),
            source_name=source_name[:255], source_text=source_text,
            parsed={k: v for k, v in parsed.items() if k not in ("tasks", "phases")},
            created_by=user if user.pk else None)
        phases = []
        for order, raw in enumerate(parsed.get("phases") or []):
            phases.append(Phase.objects.create(
                plan=plan, order=order, name=(raw.get("name") or "")[:200] or "-",
                start=parse_partial_date(raw.get("start"), end=False),
                end=parse_partial_date(raw.get("end"), end=True),
                text=(raw.get("text") or "")[:200]))
        resolve = _Resolver(division)
        by_path: dict[str, Task] = {}
        for order, raw in enumerate(tasks):
            span = spans[order] if order < len(spans) and spans[order] else located[order]
            path = (raw.get("path") or "")[:100]
            deadline = parse_partial_date(raw.get("deadline"), end=True)
            recurrence = raw.get("recurrence") or ""
            task = Task.objects.create(
                plan=plan, order=order, path=path, parent=_parent_by_path(by_path, path),
                title=(raw.get("title") or "").strip()[:500] or path or "?",
                deadline=deadline, deadline_text=(raw.get("deadline_text") or "")[:200],
                recurrence=recurrence if recurrence in Recurrence.values else "",
                phase=_phase_of(phases, deadline),
                source_start=span[0] if span else None, source_end=span[1] if span else None)
            if path and path != "-":
                by_path[path] = task  # a repeated number: its children follow it
            leads = _clean_names(raw.get("lead_units") or [])
            _add_units(task, UnitRole.LEAD, leads, resolve)
            _add_units(task, UnitRole.RESPONSIBLE, _clean_names(raw.get("units") or []),
                       resolve, skip=leads)
        for raw in parsed.get("findings") or []:
            PlanFinding.objects.create(plan=plan, kind=(raw.get("kind") or "other")[:32],
                                       message=(raw.get("message") or "")[:500],
                                       location=raw.get("location") or {})
        checkpoint("plan_import.written")
    return plan


def _parent_by_path(by_path: dict[str, Task], path: str) -> Task | None:
    parts = path.split("/")
    for cut in range(len(parts) - 1, 0, -1):
        found = by_path.get("/".join(parts[:cut]))
        if found is not None:
            return found
    return None


def _phase_of(phases: list[Phase], deadline: dt.date | None) -> Phase | None:
    if deadline is None:
        return None
    for phase in phases:
        if phase.start and phase.end and phase.start <= deadline <= phase.end:
            return phase
    return None


def plan_import_file(*, user: User, programme: Programme, division: Division | None,
                     file_name: str, file: BinaryIO, size: int | None = None,
                     title: str = "") -> Plan:
    """Import an uploaded plan file (.txt/.docx/.html/.pdf) into a new draft plan.

    The file is checked (type, size, content), read and parsed before anything is saved: a
    file that cannot be read, or in which nothing of a plan is found, leaves the database
    untouched.
    """
    from shidian.planparse import ReadError, parse_text
    from shidian.planparse.readers import read_file

    _require_writer(user)
    if not _in_scope(user, division):
        raise _error(ErrorCode.FORBIDDEN, MSG_DIVISION_SCOPE)
    suffix = Path(file_name or "").suffix.lower()
    if suffix not in PLAN_FILE_TYPES:
        raise _error(ErrorCode.BAD_FILE, MSG_FILE_TYPE)
    limit = getattr(settings, "SHIDIAN_PLAN_FILE_MAX_BYTES", PLAN_FILE_MAX_BYTES)
    if size is not None and size > limit:
        raise _error(ErrorCode.BAD_FILE, MSG_FILE_TOO_LARGE, limit=limit // (1024 * 1024))
    content = file.read(limit + 1)
    if len(content) > limit:
        raise _error(ErrorCode.BAD_FILE, MSG_FILE_TOO_LARGE, limit=limit // (1024 * 1024))
    if not content.strip():
        raise _error(ErrorCode.BAD_FILE, MSG_FILE_EMPTY)
    if not content.startswith(PLAN_FILE_TYPES[suffix]) or (
            suffix in (".txt", ".html", ".htm") and content[:4] in (b"PK\x03\x04", b"%PDF")):
        raise _error(ErrorCode.BAD_FILE, MSG_FILE_MISMATCH, suffix=suffix)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"plan{suffix}"
        path.write_bytes(content)
        try:
            text = read_file(path)
        except ReadError as exc:
            raise _error(ErrorCode.BAD_FILE, MSG_FILE_UNREADABLE, reason=exc.reason) from exc
    if not text.strip():
        raise _error(ErrorCode.BAD_FILE, MSG_FILE_NO_TEXT)
    try:
        draft = parse_text(text, name=Path(file_name).stem)
    # The parser reads arbitrary documents; a fault in it must cost the user a message, not a
    # server error, and must be logged for the parser's authors.
    except Exception as exc:  # noqa: BLE001
        logger.exception("planparse failed on %s", file_name)
        raise _error(ErrorCode.BAD_FILE, MSG_PARSER_FAILED) from exc
    # A plan may have no numbered tasks (seed 15b only sets goals and phases); a file with
    # nothing of a plan at all is not one.
    if not (draft.tasks or draft.phases or draft.goals or draft.indicators):
        raise _error(ErrorCode.BAD_FILE, MSG_FILE_NO_TASKS)
    return plan_create_from_parsed(
        user=user, programme=programme, division=division, parsed=draft.to_dict(),
        source_text=text, source_name=Path(file_name).name,
        spans=[t.span for t in draft.tasks], title=title)


# --- editing the decomposition --------------------------------------------------------------


def task_update(*, user: User, task: Task, data: dict[str, Any]) -> Task:
    """Change a task's own fields (``TASK_FIELDS``); unchanged values are not written."""
    _require_writer(user)
    values = {k: v for k, v in data.items() if k in TASK_FIELDS}
    if "title" in values:
        values["title"] = (values["title"] or "").strip()[:500]
        if not values["title"]:
            raise _error(ErrorCode.INVALID, MSG_TITLE_REQUIRED)
    for key in ("path", "deadline_text", "content"):
        if key in values:
            values[key] = (values[key] or "").strip()
    if "path" in values:
        values["path"] = values["path"][:100]
    if "deadline_text" in values:
        values["deadline_text"] = values["deadline_text"][:200]
    if values.get("recurrence") and values["recurrence"] not in Recurrence.values:
        raise _error(ErrorCode.INVALID, MSG_BAD_RECURRENCE)
    if "recurrence" in values:
        values["recurrence"] = values["recurrence"] or ""
    if values.get("phase") is not None and values["phase"].plan_id != task.plan_id:
        raise _error(ErrorCode.INVALID, MSG_BAD_PHASE)
    changed = [k for k, v in values.items() if getattr(task, k) != v]
    if not changed:
        return task
    with _audited(user):
        _begin_edit(task.plan)
        for key in changed:
            setattr(task, key, values[key])
        task.save(update_fields=changed)
    return task


def task_create(*, user: User, plan: Plan, title: str, parent: Task | None = None,
                path: str = "") -> Task:
    _require_writer(user)
    title = (title or "").strip()[:500]
    if not title:
        raise _error(ErrorCode.INVALID, MSG_TITLE_REQUIRED)
    if parent is not None and parent.plan_id != plan.pk:
        raise _error(ErrorCode.INVALID, MSG_TASK_OTHER_PLAN)
    with _audited(user):
        _begin_edit(plan)
        last = plan.tasks.order_by("-order").values_list("order", flat=True).first()
        return Task.objects.create(plan=plan, parent=parent, title=title,
                                   path=(path or "").strip()[:100],
                                   order=(last or 0) + 1)


def task_delete(*, user: User, task: Task) -> None:
    """Remove a task from the working copy (published versions keep it in their snapshot)."""
    _require_writer(user)
    if task.children.exists():
        raise _error(ErrorCode.CONFLICT, MSG_TASK_HAS_CHILDREN)
    reports = getattr(task, "reports", None)
    if reports is not None and reports.exists():
        raise _error(ErrorCode.CONFLICT, MSG_TASK_HAS_REPORTS)
    with _audited(user):
        _begin_edit(task.plan)
        for unit in task.units.all():
            unit.delete()
        task.delete()


def task_units_set(*, user: User, task: Task, role: str, names: Iterable[str]) -> list[TaskUnit]:
    """Make ``names`` (as written) the task's units of ``role``, in that order.

    Names already there keep their agency; new names are resolved; names no longer listed are
    removed. A name cannot be lead and responsible unit of the same task.
    """
    if role not in UnitRole.values:
        raise _error(ErrorCode.INVALID, MSG_BAD_ROLE)
    task_save(user=user, task=task, data={}, **{"leads" if role == UnitRole.LEAD else "units":
                                                 list(names)})
    return list(task.units.filter(role=role).order_by("order"))


def task_save(*, user: User, task: Task, data: dict[str, Any],
              leads: Iterable[str] | None = None, units: Iterable[str] | None = None) -> Task:
    """One edit of a review-table row: the task's fields and, when given, its lead and
    responsible units (names as written), all or nothing."""
    _require_writer(user)
    current = {role: [u.name for u in task.units.filter(role=role).order_by("order", "pk")]
               for role in UnitRole.values}
    wanted = {UnitRole.LEAD: _clean_names(leads) if leads is not None else current["lead"],
              UnitRole.RESPONSIBLE: (_clean_names(units) if units is not None
                                     else current["responsible"])}
    for name in wanted[UnitRole.LEAD]:
        if name in wanted[UnitRole.RESPONSIBLE]:
            raise _error(ErrorCode.INVALID, MSG_UNIT_TWICE, name=name)
    with _audited(user):
        task_update(user=user, task=task, data=data)
        if any(wanted[role] != current[role] for role in UnitRole.values):
            _begin_edit(task.plan)
            _units_replace(task, wanted)
    return task


def _units_replace(task: Task, wanted: dict[str, list[str]]) -> None:
    existing = {(u.role, u.name): u for u in task.units.all()}
    for key, unit in existing.items():
        if key[1] not in wanted[key[0]]:
            unit.delete()
    resolve = _Resolver(task.plan.division)
    for role, names in wanted.items():
        for order, name in enumerate(names):
            unit = existing.get((role, name))
            if unit is None:
                TaskUnit.objects.create(task=task, role=role, name=name, agency=resolve(name),
                                        order=order)
            elif unit.order != order:
                unit.order = order
                unit.save(update_fields=["order"])


def _in_line(plan: Plan, division_code: str) -> bool:
    """The agency's division is the plan's, above it, or below it."""
    if plan.division_id is None:
        return True
    return (division_code in ancestor_codes(plan.division_id)
            or division_code.startswith(plan.division_id))


def unit_resolve(*, user: User, unit: TaskUnit, agency: Agency, same_name: bool = True,
                 remember_alias: bool = True) -> int:
    """Match a unit as written to ``agency``; with ``same_name`` every unit of the plan written
    the same way. ``remember_alias`` records the written name as the agency's alias, so the
    next plan that writes it resolves by itself. Returns the number of units changed."""
    _require_writer(user)
    plan = unit.task.plan
    if not _in_line(plan, agency.division_id):
        raise _error(ErrorCode.INVALID, MSG_AGENCY_OUT_OF_LINE, agency=agency.name,
                     division=str(agency.division))
    units = (TaskUnit.objects.filter(task__plan=plan, name=unit.name) if same_name
             else TaskUnit.objects.filter(pk=unit.pk))
    changed = [u for u in units.select_related("task") if u.agency_id != agency.pk]
    with _audited(user):
        if changed:
            _begin_edit(plan)
        for u in changed:
            u.agency = agency
            u.save(update_fields=["agency"])
        if remember_alias and unit.name not in (agency.name, agency.short_name):
            _agency_alias_add(user=user, agency=agency, name=unit.name)
    return len(changed)


def _agency_alias_add(*, user: User, agency: Agency, name: str) -> None:
    """Remember a written name as the agency's alias, unless it is the agency's own name, is
    known already, or is the name of another agency of the same division."""
    alias = " ".join((name or "").split())[:128]
    if not alias or alias == agency.name or agency.aliases.filter(name=alias).exists():
        return
    if Agency.objects.filter(division_id=agency.division_id, name=alias).exclude(
            pk=agency.pk).exists():
        return
    AgencyAlias.objects.create(agency=agency, name=alias)


def agency_create_for_unit(*, user: User, unit: TaskUnit, name: str, kind: str = "",
                           division: Division | None = None) -> Agency:
    """Create the agency a unit names (in place, from the review page) and match the plan's
    units written the same way to it."""
    _require_writer(user)
    plan = unit.task.plan
    name = (name or "").strip()[:128]
    division = division or plan.division
    if not name:
        raise _error(ErrorCode.INVALID, MSG_NAME_REQUIRED)
    if division is None or not _in_scope(user, division):
        raise _error(ErrorCode.FORBIDDEN, MSG_DIVISION_SCOPE)
    if not _in_line(plan, division.code):
        raise _error(ErrorCode.INVALID, MSG_AGENCY_OUT_OF_LINE, agency=name,
                     division=division.name)
    if Agency.objects.filter(division=division, name=name).exists():
        raise _error(ErrorCode.DUPLICATE, MSG_AGENCY_EXISTS, name=name, division=division.name)
    kind = kind if kind in AgencyKind.values else AgencyKind.GOVERNMENT
    with _audited(user):
        agency = _agency_create(user=user, name=name, kind=kind, division=division)
        unit_resolve(user=user, unit=unit, agency=agency, same_name=True)
    return agency


def _agency_create(*, user: User, name: str, kind: str, division: Division) -> Agency:
    """An administrator goes through the orgs register's own service. A plan office may
    register, inside its area, a unit its plan names (the register is otherwise the
    administrators'): same cleaning, audited through the Agency model."""
    from shidian.orgs import names
    from shidian.orgs import services as orgs_services

    if is_admin(user):
        return orgs_services.agency_create(actor=user, name=name, kind=kind, division=division)
    name = orgs_services.clean_name(name)
    return Agency.objects.create(name=name, kind=orgs_services.clean_kind(kind),
                                 division=division, initials=names.initials(name))


# --- the plan's own particulars ------------------------------------------------------------


def plan_update(*, user: User, plan: Plan, title: str, issuer: str,
                period_start: dt.date | None, period_end: dt.date | None) -> Plan:
    """Correct what the parser read of the plan itself (title, issuer, period).

    The period decides which reporting periods the units owe, so a wrong year is worth
    fixing before publishing; after publishing, the change starts the next version.
    """
    _require_writer(user)
    title = " ".join((title or "").split())[:300]
    if not title:
        raise _error(ErrorCode.INVALID, MSG_PLAN_TITLE_REQUIRED)
    if period_start and period_end and period_end < period_start:
        raise _error(ErrorCode.INVALID, MSG_PERIOD_ORDER)
    wanted = {"title": title, "issuer": " ".join((issuer or "").split())[:200],
              "period_start": period_start, "period_end": period_end}
    with _audited(user):
        locked = _lock_plan(plan)
        changed = [field for field, value in wanted.items() if getattr(locked, field) != value]
        if not changed:
            return plan
        locked = _begin_edit(locked)
        for field in changed:
            setattr(locked, field, wanted[field])
        locked.save(update_fields=[*changed, "updated_at"])
    for field in changed:
        setattr(plan, field, wanted[field])
    plan.status = locked.status
    return plan


# --- publishing -----------------------------------------------------------------------------


def plan_publish(*, user: User, plan: Plan, note: str = "",
                 accept_unresolved: bool = False) -> PlanVersion:
    """Freeze the working copy as version n+1.

    Refused when nothing changed since the last version (a second click of the button), when
    there are no tasks, and, unless ``accept_unresolved``, when a lead unit is not matched to an
    agency: its liaison could not see the task, so the office decides that knowingly.
    """
    from .selectors import plan_snapshot

    _require_writer(user)
    with _audited(user):
        locked = _lock_plan(plan)
        if locked.status == PlanStatus.PUBLISHED:
            raise _error(ErrorCode.CONFLICT, MSG_ALREADY_PUBLISHED, version=locked.version)
        if not locked.tasks.exists():
            raise _error(ErrorCode.INVALID, MSG_NOTHING_TO_PUBLISH)
        leads = sorted(set(TaskUnit.objects.filter(
            task__plan=locked, role=UnitRole.LEAD, agency__isnull=True
        ).values_list("name", flat=True)))
        if leads and not accept_unresolved:
            raise _error(ErrorCode.INVALID, MSG_UNRESOLVED_LEADS, count=len(leads),
                         names="、".join(leads[:5]) + ("…" if len(leads) > 5 else ""))
        number = locked.version + 1
        try:
            with transaction.atomic():
                version = PlanVersion.objects.create(
                    plan=locked, number=number, snapshot=plan_snapshot(plan=locked),
                    note=(note or "")[:300], published_by=user if user.pk else None)
        except IntegrityError as exc:  # a concurrent publish won the race
            raise _error(ErrorCode.CONFLICT, MSG_ALREADY_PUBLISHED, version=number) from exc
        locked.version, locked.status = number, PlanStatus.PUBLISHED
        locked.save(update_fields=["version", "status", "updated_at"])
        locked.tasks.filter(first_version__isnull=True).update(first_version=number)
    plan.version, plan.status = locked.version, locked.status
    return version


def plan_version_refuse_change(*, version: PlanVersion) -> None:
    """A published version is frozen: every attempt to change one ends here."""
    raise _error(ErrorCode.PUBLISHED, MSG_VERSION_FROZEN, version=version.number)


# --- cascade --------------------------------------------------------------------------------


def plan_link_parent(*, user: User, plan: Plan, parent: Plan | None) -> Plan:
    """Link a plan to the higher-level plan it implements (county → city, a pilot college's
    → the ministry's); a new link drops the task mappings made against the old one."""
    _require_writer(user)
    if parent is not None:
        if parent.pk == plan.pk:
            raise _error(ErrorCode.INVALID, MSG_PARENT_SELF)
        if not _is_higher_or_same(parent.division_id, plan.division_id):
            raise _error(ErrorCode.INVALID, MSG_PARENT_NOT_HIGHER)
        up, seen = parent, set()
        while up is not None and up.pk not in seen:  # no loops: a plan under its own child
            if up.pk == plan.pk:
                raise _error(ErrorCode.INVALID, MSG_PARENT_SELF)
            seen.add(up.pk)
            up = up.parent
    if plan.parent_id == (parent.pk if parent else None):
        return plan
    with _audited(user):
        locked = _lock_plan(plan)
        for task in locked.tasks.filter(parent_task__isnull=False):
            task.parent_task = None
            task.save(update_fields=["parent_task"])
        locked.parent = parent
        locked.save(update_fields=["parent", "updated_at"])
    plan.parent = parent
    return plan


def _is_higher_or_same(parent_code: str | None, child_code: str | None) -> bool:
    """A national plan is above every plan; otherwise the parent's division is the child's
    (a pilot institution's plan under its county's) or one above it."""
    if parent_code is None:
        return True
    if child_code is None:
        return False
    return parent_code == child_code or parent_code in ancestor_codes(child_code)


def plan_tasks_map(*, user: User, plan: Plan, mapping: dict[int, int | None]) -> int:
    """Map tasks of ``plan`` (ids) to tasks of its higher-level plan (ids, or None to unmap).
    All or nothing; returns the number of tasks changed."""
    _require_writer(user)
    if plan.parent_id is None:
        raise _error(ErrorCode.INVALID, MSG_NO_PARENT)
    tasks = {t.pk: t for t in plan.tasks.filter(pk__in=list(mapping))}
    if len(tasks) != len(mapping):
        raise _error(ErrorCode.INVALID, MSG_TASK_OTHER_PLAN)
    targets = {v for v in mapping.values() if v is not None}
    found = set(Task.objects.filter(plan_id=plan.parent_id, pk__in=targets)
                .values_list("pk", flat=True))
    if found != targets:
        raise _error(ErrorCode.INVALID, MSG_PARENT_TASK_OTHER_PLAN)
    changed = [t for pk, t in tasks.items() if t.parent_task_id != mapping[pk]]
    with _audited(user):
        for task in changed:
            task.parent_task_id = mapping[task.pk]
            task.save(update_fields=["parent_task"])
    return len(changed)
