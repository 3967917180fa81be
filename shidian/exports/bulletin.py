"""工作简报 (progress bulletin) of a plan for one period, written from the dashboard's figures.

Content: the overall progress, the reporting completeness and timeliness (and who has not
reported), the overdue tasks, highlights from the units' reports, and the problems they raised.
"""
from __future__ import annotations

from datetime import date

from django.utils import formats
from django.utils.translation import gettext as _

from shidian.plans.models import TaskStatus
from shidian.reporting.models import ProgressReport, ReportStatus
from shidian.reporting.selectors import Dashboard

from .docx import OfficialDocument, Section, official_docx

HIGHLIGHTS = 5
PROBLEMS = 5
_CN_NUMBERS = "一二三四五六七八九十"


def _date(day: date) -> str:
    return formats.date_format(day, "DATE_FORMAT")


def _heading(index: int, text: str) -> str:
    return f"{_CN_NUMBERS[index]}、{text}"


def _excerpt(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "……"


def _highlights(reports: list[ProgressReport]) -> list[ProgressReport]:
    """Completed tasks first, then the furthest along; each needs something written."""
    counted = [r for r in reports if r.status in (ReportStatus.SUBMITTED, ReportStatus.ACCEPTED)
               and r.done.strip()]
    counted.sort(key=lambda r: (r.task_status != TaskStatus.COMPLETED, -r.percent, r.pk))
    return counted[:HIGHLIGHTS]


def bulletin_document(board: Dashboard, *, issued: date) -> OfficialDocument:
    plan = board.plan
    task_titles = {t.pk: t.title for t in board.tasks}
    sections: list[Section] = []

    counts = board.by_status
    sections.append(Section(_heading(0, _("Overall progress")), [
        _("The plan has %(total)s tasks: %(completed)s completed, %(progress)s in progress, "
          "%(not_started)s not started and %(suspended)s suspended; on average they are "
          "%(percent)s%% done.") % {
            "total": len(board.tasks), "completed": counts.get(TaskStatus.COMPLETED, 0),
            "progress": counts.get(TaskStatus.IN_PROGRESS, 0),
            "not_started": counts.get(TaskStatus.NOT_STARTED, 0),
            "suspended": counts.get(TaskStatus.SUSPENDED, 0),
            "percent": board.average_percent},
    ]))

    reporting = [
        _("For %(period)s, %(expected)s reports were expected (due %(due)s) and %(reported)s "
          "came in, a completeness of %(rate)s%%; %(on_time)s on time and %(late)s late.") % {
            "period": board.period.label, "expected": board.expected, "due": _date(board.due_date),
            "reported": board.reported, "rate": board.completeness_rate,
            "on_time": board.on_time, "late": board.late},
    ]
    missing = [row for row in board.completeness if row.missing]
    if missing:
        reporting.append(_("Not yet reported: %(units)s.") % {"units": "；".join(
            _("%(unit)s (%(n)s tasks)") % {"unit": row.agency.name, "n": len(row.missing)}
            for row in missing)})
    else:
        reporting.append(_("Every unit has reported."))
    if board.returned:
        reporting.append(_("%(n)s reports were returned for rework.") % {"n": board.returned})
    sections.append(Section(_heading(1, _("Reporting this period")), reporting))

    overdue = [_("%(number)s %(task)s (lead: %(leads)s; due %(deadline)s, %(percent)s%% done)")
               % {"number": t.path, "task": t.title,
                  "leads": "、".join(board.leads.get(t.pk, [])) or _("not assigned"),
                  "deadline": _date(t.deadline), "percent": t.percent}
               for t in board.overdue]
    sections.append(Section(_heading(2, _("Overdue tasks")), overdue or [
        _("No task is overdue.")]))

    highlights = [_("%(unit)s, %(task)s: %(done)s") % {
        "unit": r.agency.name, "task": task_titles.get(r.task_id, ""), "done": _excerpt(r.done)}
        for r in _highlights(board.reports)]
    sections.append(Section(_heading(3, _("Highlights of the period")), highlights or [
        _("No progress was reported for this period yet.")]))

    problems = [_("%(unit)s, %(task)s: %(problems)s") % {
        "unit": r.agency.name, "task": task_titles.get(r.task_id, ""),
        "problems": _excerpt(r.problems)}
        for r in board.reports if r.problems.strip()
        and r.status in (ReportStatus.SUBMITTED, ReportStatus.ACCEPTED)][:PROBLEMS]
    if problems:
        sections.append(Section(_heading(4, _("Problems raised")), problems))

    office = plan.office.name if plan.office_id else (plan.issuer or plan.area_name)
    return OfficialDocument(
        title=_("Progress bulletin"),
        subtitle=_("%(plan)s · %(period)s") % {"plan": plan.title, "period": board.period.label},
        sections=sections, signature=office, dated=issued)


def bulletin_docx(board: Dashboard, *, issued: date) -> bytes:
    return official_docx(bulletin_document(board, issued=issued))
