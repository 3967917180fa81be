"""Writes of the reporting app: cycles, reports (draft, submit, return, accept) and evidence.

Every function takes the acting user, checks role and scope through ``access``, validates
before it saves, and runs in one transaction; django-auditlog records each row it changes.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from shidian.core.errors import ErrorCode, ShidianError, not_found
from shidian.core.faults import checkpoint
from shidian.core.periods import Period, parse_period
from shidian.orgs.access import user_agency_ids
from shidian.orgs.models import User
from shidian.plans.models import Task, TaskStatus, TaskUnit, UnitRole

from . import access, files
from .cycles import (MONTHS_IN, PERIOD_KIND, CycleRule, PeriodState, rule_for_period,
                     rules_of)
from .models import (CycleKind, Evidence, ExtraCycle, ProgressReport, ReportingCycle,
                     ReportStatus)

MAX_TEXT = 4000


def _date(day: date) -> str:
    return formats.date_format(day, "DATE_FORMAT")


# -- cycles ---------------------------------------------------------------------------------
def _check_cycle(kind: str, due_day: int, grace_days: int, due_month: int) -> None:
    if kind not in CycleKind.values:
        raise ShidianError(ErrorCode.INVALID,
                           _("Choose weekly, monthly, quarterly, half-yearly or yearly."),
                           {"field": "kind", "value": kind})
    if kind == CycleKind.WEEKLY and not 1 <= due_day <= 7:
        raise ShidianError(ErrorCode.INVALID,
                           _("For a weekly cycle the due day is a weekday from 1 (Monday) "
                             "to 7 (Sunday)."))
    if not 1 <= due_day <= 31:
        raise ShidianError(ErrorCode.INVALID, _("The due day must lie between 1 and 31."))
    if not 0 <= grace_days <= 90:
        raise ShidianError(ErrorCode.INVALID,
                           _("A period may stay open between 0 and 90 days after it is due."))
    if due_month and not (kind != CycleKind.WEEKLY and 1 <= due_month <= MONTHS_IN[kind]):
        raise ShidianError(ErrorCode.INVALID,
                           _("The due month is a month of the period: from 1 to %(n)s.")
                           % {"n": MONTHS_IN.get(kind, 1)}, {"field": "due_month"})


def _kind_taken(plan, kind: str, *, extra_key: str | None) -> None:
    """A plan has one cycle of each kind: a report's period says which cycle it is of."""
    for rule in rules_of(plan):
        if rule.kind == kind and rule.key != (extra_key or ""):  # not the one being set
            raise ShidianError(
                ErrorCode.CONFLICT,
                _("The plan already reports %(cycle)s (%(report)s); a plan has one cycle of "
                  "each kind.") % {"cycle": CycleKind(kind).label,
                                   "report": rule.label or _("progress reports")},
                {"field": "kind"})


def cycle_set(*, user: User, plan_id: int | str, kind: str, due_day: int, grace_days: int,
              starts_on: date | None = None, due_month: int = 0) -> ReportingCycle:
    """Set how often and by when the units of a plan report (office of the plan only)."""
    plan = access.access_plan_for_review(user=user, plan_id=plan_id)
    _check_cycle(kind, due_day, grace_days, due_month)
    with transaction.atomic():
        _kind_taken(plan, kind, extra_key=None)
        cycle, created = ReportingCycle.objects.select_for_update().get_or_create(
            plan=plan, defaults={"kind": kind, "due_day": due_day, "grace_days": grace_days,
                                 "starts_on": starts_on, "due_month": due_month})
        if not created:
            changed = []
            for field, value in (("kind", kind), ("due_day", due_day),
                                 ("grace_days", grace_days), ("starts_on", starts_on),
                                 ("due_month", due_month)):
                if getattr(cycle, field) != value:
                    setattr(cycle, field, value)
                    changed.append(field)
            if changed:
                cycle.save(update_fields=changed)
    plan.cycle = cycle
    return cycle


def cycle_add(*, user: User, plan_id: int | str, key: str, label: str, kind: str,
              due_day: int, grace_days: int, starts_on: date | None = None,
              due_month: int = 0) -> ExtraCycle:
    """Add (or, by its key, change) a further report the plan's units owe beside the progress
    reports of the plan's cycle (office of the plan only). Its periods are followed like the
    plan's own: 我的任务, the ladder's reminders, 催办 and escalation."""
    plan = access.access_plan_for_review(user=user, plan_id=plan_id)
    _check_cycle(kind, due_day, grace_days, due_month)
    key, label = (key or "").strip()[:32], (label or "").strip()[:200]
    if not key or not label:
        raise ShidianError(ErrorCode.INVALID, _("A further report needs a key and a name."))
    with transaction.atomic():
        _kind_taken(plan, kind, extra_key=key)
        cycle, _created = ExtraCycle.objects.update_or_create(plan=plan, key=key, defaults={
            "label": label, "kind": kind, "due_day": due_day, "grace_days": grace_days,
            "starts_on": starts_on, "due_month": due_month})
    return cycle


# -- reports --------------------------------------------------------------------------------
@dataclass
class ReportInput:
    """What a unit fills in. Evidence and included reports are given by id."""

    task_status: str = TaskStatus.IN_PROGRESS
    percent: int = 0
    done: str = ""
    problems: str = ""
    next_steps: str = ""
    evidence_ids: tuple[int, ...] = ()
    include_ids: tuple[int, ...] = ()


def _validate_input(data: ReportInput) -> None:
    if data.task_status not in TaskStatus.values:
        raise ShidianError(ErrorCode.INVALID, _("Choose a task status from the list."))
    if not isinstance(data.percent, int) or not 0 <= data.percent <= 100:
        raise ShidianError(ErrorCode.INVALID, _("Percent done must be a whole number from 0 "
                                                "to 100."))
    if data.task_status == TaskStatus.COMPLETED and data.percent != 100:
        raise ShidianError(ErrorCode.INVALID, _("A completed task is 100% done."))
    for text in (data.done, data.problems, data.next_steps):
        if len(text) > MAX_TEXT:
            raise ShidianError(ErrorCode.INVALID,
                               _("A text field holds at most %(n)s characters.") % {"n": MAX_TEXT})


def _check_period(*, task: Task, period_id: str, today: date,
                  report: ProgressReport | None) -> tuple[Period, CycleRule]:
    """The period, if the unit may report for it today, and the cycle it belongs to."""
    period = parse_period(period_id)
    rule = rule_for_period(task.plan, period)
    if rule is None:
        kinds = "、".join(str(CycleKind(r.kind).label) for r in rules_of(task.plan))
        raise ShidianError(ErrorCode.INVALID,
                           _("This plan reports %(cycle)s; %(period)s is not one of its periods.")
                           % {"cycle": kinds, "period": period.label})
    if not rule.is_expected(period):
        raise ShidianError(ErrorCode.INVALID,
                           _("%(period)s lies outside the plan's reporting time.")
                           % {"period": period.label})
    state = rule.state(period, today)
    if state == PeriodState.FUTURE:
        raise ShidianError(ErrorCode.INVALID, _("Reporting for %(period)s has not started yet.")
                           % {"period": period.label})
    reopened = report is not None and report.status == ReportStatus.RETURNED
    if state == PeriodState.CLOSED and not reopened:
        raise ShidianError(
            ErrorCode.PERIOD_CLOSED,
            _("Reporting for %(period)s closed on %(date)s; reports are no longer accepted.")
            % {"period": period.label, "date": _date(rule.closes_after(period))},
            {"period": period.id, "closed_after": rule.closes_after(period).isoformat()})
    return period, rule


def _check_evidence(agency_id: int, evidence_ids: Iterable[int]) -> list[int]:
    wanted = sorted({int(pk) for pk in evidence_ids})
    if not wanted:
        return []
    found = set(Evidence.objects.filter(pk__in=wanted, agency_id=agency_id)
                .values_list("pk", flat=True))
    if found != set(wanted):
        raise ShidianError(ErrorCode.INVALID, _("A report can only cite its own unit's evidence."))
    return wanted


def _check_includes(*, task: Task, agency_id: int, role: str, period: Period,
                    include_ids: Iterable[int]) -> list[int]:
    wanted = sorted({int(pk) for pk in include_ids})
    if not wanted:
        return []
    if role != UnitRole.LEAD:
        raise ShidianError(ErrorCode.INVALID,
                           _("Only a lead unit's report includes other units' reports."))
    found = set(ProgressReport.objects.filter(
        pk__in=wanted, task=task, period=period.id,
        status__in=(ReportStatus.SUBMITTED, ReportStatus.ACCEPTED),
    ).exclude(agency_id=agency_id).values_list("pk", flat=True))
    if found != set(wanted):
        raise ShidianError(ErrorCode.INVALID,
                           _("Only submitted reports of the cooperating units on the same task "
                             "and period can be included."))
    return wanted


def _locked_report(task: Task, agency_id: int, period: Period) -> ProgressReport | None:
    return (ProgressReport.objects.select_for_update()
            .filter(task=task, agency_id=agency_id, period=period.id).first())


def _same_content(report: ProgressReport, data: ReportInput, evidence: list[int],
                  includes: list[int]) -> bool:
    return (report.task_status == data.task_status and report.percent == data.percent
            and report.done == data.done and report.problems == data.problems
            and report.next_steps == data.next_steps
            and sorted(report.evidence.values_list("pk", flat=True)) == evidence
            and sorted(report.includes.values_list("pk", flat=True)) == includes)


def _write(*, user: User, task_id: int | str, agency_id: int | str | None, period_id: str,
           data: ReportInput, submit: bool, now: datetime | None,
           uploads: Sequence[UploadedFile]) -> ProgressReport:
    now = now or timezone.now()
    today = timezone.localdate(now)
    task = access.access_task_by_id(user=user, task_id=task_id)
    agency, role = access.access_reporting_agency(user=user, task=task, agency_id=agency_id)
    _validate_input(data)
    checked = [_check_upload(upload) for upload in uploads]
    with _files_removed_on_failure() as written, transaction.atomic():
        # Lock the task: the lead unit's report moves its status, and two clicks on 报送
        # must queue behind each other, not both insert.
        # of=("self",): lock the task row only, not the plan row joined in, or every
        # report on the plan would queue behind the others (bench/load.py).
        task = (Task.objects.select_for_update(of=("self",)).select_related("plan")
                .get(pk=task.pk))
        period = parse_period(period_id)
        report = _locked_report(task, agency.pk, period)
        period, rule = _check_period(task=task, period_id=period_id, today=today,
                                     report=report)
        evidence = _check_evidence(agency.pk, data.evidence_ids)
        if checked:
            # The new files are kept in the report's transaction: a refused or interrupted
            # submission leaves no evidence row behind (and no file, see above).
            evidence = sorted({*evidence, *(
                _evidence_keep(user=user, agency_id=agency.pk, upload=upload,
                               written=written).pk for upload in checked)})
        includes = _check_includes(task=task, agency_id=agency.pk, role=role, period=period,
                                   include_ids=data.include_ids)
        if report is not None and report.status in (ReportStatus.SUBMITTED,
                                                     ReportStatus.ACCEPTED):
            # A double click or a resent form: the same content is the same report.
            if submit and _same_content(report, data, evidence, includes):
                return report
            raise ShidianError(
                ErrorCode.CONFLICT,
                _("This report has already been submitted; it can be changed only after the "
                  "office returns it."), {"report": report.pk})
        if report is None:
            try:
                with transaction.atomic():
                    report = ProgressReport.objects.create(task=task, agency=agency,
                                                           period=period.id)
            except IntegrityError:
                report = _locked_report(task, agency.pk, period)
                if report is None:
                    raise
                raise ShidianError(ErrorCode.CONFLICT,
                                   _("This report was just saved by someone else; reload the "
                                     "page.")) from None
        report.task_status = data.task_status
        report.percent = data.percent
        report.done = data.done.strip()
        report.problems = data.problems.strip()
        report.next_steps = data.next_steps.strip()
        fields = ["task_status", "percent", "done", "problems", "next_steps", "updated_at"]
        if submit:
            if report.on_time is None:
                # Timeliness is judged on the first submission (a return does not make an
                # on-time unit late, nor a late one on time).
                report.on_time = today <= rule.due_date(period)
            report.status = ReportStatus.SUBMITTED
            report.submitted_at = now
            report.submitted_by = user
            report.return_reason = ""
            fields += ["on_time", "status", "submitted_at", "submitted_by", "return_reason"]
        report.save(update_fields=fields)
        report.evidence.set(evidence)
        report.includes.set(includes)
        if submit and role == UnitRole.LEAD:
            _task_follow_lead_report(task, report, today)
        checkpoint("report_submit.written")
    return report


def _task_follow_lead_report(task: Task, report: ProgressReport, today: date) -> None:
    """The task shows what its lead unit last reported (a later period is never overwritten)."""
    later = ProgressReport.objects.filter(
        task=task, period__gt=report.period,
        status__in=(ReportStatus.SUBMITTED, ReportStatus.ACCEPTED),
        agency_id__in=TaskUnit.objects.filter(task=task, role=UnitRole.LEAD).values("agency_id"),
    ).exists()
    if later:
        return
    changed = []
    if task.status != report.task_status:
        task.status = report.task_status
        changed.append("status")
    if task.percent != report.percent:
        task.percent = report.percent
        changed.append("percent")
    completed_on = (task.completed_on or today) if report.task_status == TaskStatus.COMPLETED \
        else None
    if task.completed_on != completed_on:
        task.completed_on = completed_on
        changed.append("completed_on")
    if changed:
        task.save(update_fields=changed)


def report_save_draft(*, user: User, task_id: int | str, agency_id: int | str | None,
                      period: str, data: ReportInput, now: datetime | None = None,
                      uploads: Sequence[UploadedFile] = ()) -> ProgressReport:
    """Keep what the unit has written so far; the office does not see drafts.

    ``uploads`` are new evidence files, checked like ``evidence_attach``'s and kept in the
    same transaction as the report: all of them with it, or none."""
    return _write(user=user, task_id=task_id, agency_id=agency_id, period_id=period, data=data,
                  submit=False, now=now, uploads=uploads)


def report_submit(*, user: User, task_id: int | str, agency_id: int | str | None, period: str,
                  data: ReportInput, now: datetime | None = None,
                  uploads: Sequence[UploadedFile] = ()) -> ProgressReport:
    """Send the report to the office: one per task, unit and period; a resend is harmless.

    ``uploads`` as for ``report_save_draft``; resending the same files cites the evidence
    kept the first time."""
    return _write(user=user, task_id=task_id, agency_id=agency_id, period_id=period, data=data,
                  submit=True, now=now, uploads=uploads)


def report_return(*, user: User, report_id: int | str, reason: str) -> ProgressReport:
    """The office sends a report back for rework, saying why; the unit resubmits it."""
    # Scope first: someone who may not see the report learns nothing from validation.
    report = access.access_report_for_review(user=user, report_id=report_id)
    reason = (reason or "").strip()
    if not reason:
        raise ShidianError(ErrorCode.INVALID, _("Say why the report goes back for rework."))
    if len(reason) > 500:
        raise ShidianError(ErrorCode.INVALID, _("The reason holds at most 500 characters."))
    with transaction.atomic():
        report = ProgressReport.objects.select_for_update().get(pk=report.pk)
        if report.status != ReportStatus.SUBMITTED:
            raise ShidianError(ErrorCode.CONFLICT,
                               _("Only a submitted report can be returned; this one is %(status)s.")
                               % {"status": report.get_status_display()})
        report.status = ReportStatus.RETURNED
        report.return_reason = reason
        report.save(update_fields=["status", "return_reason", "updated_at"])
    return report


def report_accept(*, user: User, report_id: int | str) -> ProgressReport:
    """The office accepts a submitted report; it can no longer be changed."""
    report = access.access_report_for_review(user=user, report_id=report_id)
    with transaction.atomic():
        report = ProgressReport.objects.select_for_update().get(pk=report.pk)
        if report.status == ReportStatus.ACCEPTED:
            return report
        if report.status != ReportStatus.SUBMITTED:
            raise ShidianError(ErrorCode.CONFLICT,
                               _("Only a submitted report can be accepted; this one is %(status)s.")
                               % {"status": report.get_status_display()})
        report.status = ReportStatus.ACCEPTED
        report.save(update_fields=["status", "updated_at"])
    return report


# -- evidence -------------------------------------------------------------------------------
def _max_bytes() -> int:
    return int(settings.SHIDIAN_EVIDENCE_MAX_BYTES)


@dataclass(frozen=True)
class CheckedUpload:
    """An uploaded evidence file that passed the checks, with what they found out."""

    upload: UploadedFile
    name: str
    content_type: str
    sha256: str


def _check_upload(upload: UploadedFile) -> CheckedUpload:
    """Refuse files over ``SHIDIAN_EVIDENCE_MAX_BYTES``, empty files, and anything that is not
    really a PDF, docx, xlsx, JPEG or PNG, whatever its name says."""
    name = (upload.name or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:200]
    limit = _max_bytes()
    if upload.size is None or upload.size == 0:
        raise ShidianError(ErrorCode.BAD_FILE, _("The file %(name)s is empty.") % {"name": name})
    if upload.size > limit:
        raise ShidianError(
            ErrorCode.BAD_FILE,
            _("The file %(name)s is %(size)s MB; evidence files may be at most %(limit)s MB.")
            % {"name": name, "size": f"{upload.size / 1048576:.1f}",
               "limit": f"{limit / 1048576:.0f}" if limit >= 1048576 else f"{limit / 1048576:.2f}"},
            {"size": upload.size, "limit": limit})
    extension = files.extension_of(name)
    claimed = files.TYPE_BY_EXTENSION.get(extension)
    allowed = ", ".join(files.ALLOWED_EXTENSIONS)
    if claimed is None:
        raise ShidianError(ErrorCode.BAD_FILE,
                           _("%(name)s: only these file types are accepted: %(types)s.")
                           % {"name": name, "types": allowed})
    actual = files.sniff_content_type(upload.file)
    if actual != claimed:
        raise ShidianError(ErrorCode.BAD_FILE,
                           _("%(name)s is not really a .%(ext)s file; only these file types are "
                             "accepted: %(types)s.") % {"name": name, "ext": extension,
                                                        "types": allowed})
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return CheckedUpload(upload=upload, name=name, content_type=actual,
                         sha256=digest.hexdigest())


@contextmanager
def _files_removed_on_failure() -> Iterator[list[str]]:
    """Yield a list for the names of files written to storage; if the block fails, remove
    them, so that a refused or failed write leaves no file without its row.

    (A process killed inside the block leaves its file: ``evidence_files_sweep`` removes
    such files once they are a day old.)"""
    written: list[str] = []
    try:
        yield written
    except BaseException:
        storage = Evidence._meta.get_field("file").storage
        for name in written:
            storage.delete(name)
        raise


def _evidence_keep(*, user: User, agency_id: int, upload: CheckedUpload,
                   written: list[str]) -> Evidence:
    """The unit's evidence row for this content: the one it has, or a new one whose file is
    stored at its content address (names of files written are added to ``written``).

    Runs inside the caller's transaction."""
    existing = Evidence.objects.filter(agency_id=agency_id, sha256=upload.sha256).first()
    if existing is not None:
        return existing
    evidence = Evidence(agency_id=agency_id, original_name=upload.name,
                        content_type=upload.content_type, size=upload.upload.size,
                        sha256=upload.sha256, uploaded_by=user)
    evidence.file.save(upload.name, upload.upload, save=False)
    written.append(evidence.file.name)
    try:
        with transaction.atomic():
            evidence.save()
    except IntegrityError:
        # The same file arrived twice at once: keep the first, drop our copy of the bytes.
        evidence.file.storage.delete(written.pop())
        return Evidence.objects.get(agency_id=agency_id, sha256=upload.sha256)
    return evidence


def evidence_attach(*, user: User, agency_id: int | str, upload: UploadedFile) -> Evidence:
    """Keep a unit's evidence file once (by its SHA-256) and return it for reports to cite.

    Refused as by ``_check_upload``. A report form with files uses ``report_submit``'s
    ``uploads`` instead, so that the files and the report are kept together.
    """
    if not access.is_reporter(user) or str(agency_id) not in {str(a) for a in
                                                              user_agency_ids(user)}:
        raise not_found("agency")
    checked = _check_upload(upload)
    with _files_removed_on_failure() as written, transaction.atomic():
        return _evidence_keep(user=user, agency_id=int(agency_id), upload=checked,
                              written=written)


def _stored_names(storage, folder: str) -> Iterator[str]:
    try:
        folders, names = storage.listdir(folder)
    except FileNotFoundError:
        return
    for name in names:
        yield f"{folder}/{name}"
    for sub in folders:
        yield from _stored_names(storage, f"{folder}/{sub}")


def evidence_files_sweep(*, older_than: timedelta = timedelta(days=1),
                         now: datetime | None = None) -> list[str]:
    """Remove evidence files that no evidence row names and that are older than
    ``older_than`` (left by a process killed between storing a file and committing its row),
    and return their names. Younger files may belong to a write still in progress."""
    now = now or timezone.now()
    storage = Evidence._meta.get_field("file").storage
    known = set(Evidence.objects.values_list("file", flat=True))
    removed = []
    for name in _stored_names(storage, "evidence"):
        if name in known or now - storage.get_modified_time(name) < older_than:
            continue
        storage.delete(name)
        removed.append(name)
    return removed


__all__ = ["ReportInput", "cycle_set", "cycle_add", "report_save_draft", "report_submit",
           "report_return", "report_accept", "evidence_attach", "evidence_files_sweep",
           "PERIOD_KIND"]
