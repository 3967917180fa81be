"""Excel ledgers (台账): selector output in, ``.xlsx`` bytes out.

- 任务分解表: one row per task, lead and responsible units in separate columns.
- 工作进展情况表: one row per report of a period (a task nobody reported on still gets a row,
  marked 未报送, so the office sees the gaps).
"""
from __future__ import annotations

import io
from collections.abc import Iterable, Sequence

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from shidian.core.periods import Period
from shidian.plans.models import Plan, TaskStatus
from shidian.reporting.models import ProgressReport
from shidian.reporting.selectors import DecompositionRow

FONT = "宋体"
_THIN = Side(style="thin", color="808080")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP = Alignment(wrap_text=True, vertical="top")
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)


def _sheet(workbook: Workbook, title: str, heading: str, subheading: str,
           columns: Sequence[tuple[str, int]]) -> Worksheet:
    sheet = workbook.active
    sheet.title = title[:31]
    width = len(columns)
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    sheet.cell(1, 1, heading).font = Font(name="黑体", size=16, bold=True)
    sheet.cell(1, 1).alignment = _CENTER
    sheet.row_dimensions[1].height = 30
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=width)
    sheet.cell(2, 1, subheading).font = Font(name=FONT, size=10)
    fill = PatternFill("solid", fgColor="DDE4EE")
    for index, (name, col_width) in enumerate(columns, start=1):
        cell = sheet.cell(3, index, name)
        cell.font = Font(name=FONT, bold=True, size=11)
        cell.alignment = _CENTER
        cell.fill = fill
        cell.border = _BORDER
        sheet.column_dimensions[get_column_letter(index)].width = col_width
    sheet.freeze_panes = "A4"
    return sheet


def _rows(sheet: Worksheet, rows: Iterable[Sequence[object]]) -> None:
    for values in rows:
        sheet.append(list(values))
        for cell in sheet[sheet.max_row]:
            cell.font = Font(name=FONT, size=10.5)
            cell.alignment = _WRAP
            cell.border = _BORDER
    sheet.auto_filter.ref = f"A3:{get_column_letter(sheet.max_column)}{sheet.max_row}"


def _bytes(workbook: Workbook) -> bytes:
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _units(names: list[str]) -> str:
    return "、".join(names)


def decomposition_xlsx(*, plan: Plan, rows: list[DecompositionRow]) -> bytes:
    """任务分解表 of a plan."""
    workbook = Workbook()
    columns = [(_("Row number"), 8), (_("Task title"), 40), (_("Task details"), 50), (_("Lead units of the task"), 22),
               (_("Responsible units of the task"), 30), (_("Completion deadline"), 14),
               (_("Deadline as the plan writes it"), 18), (_("Task phase"), 16), (_("Task status"), 10),
               (_("Progress (percent)"), 10)]
    sheet = _sheet(workbook, _("Task decomposition"), _("Task decomposition of %(plan)s")
                   % {"plan": plan.title}, plan.issuer or plan.area_name, columns)
    _rows(sheet, ([row.task.path, row.task.title, row.task.content, _units(row.leads),
                   _units(row.responsibles), row.task.deadline, row.task.deadline_text,
                   row.task.phase.name if row.task.phase else "",
                   str(TaskStatus(row.task.status).label), row.task.percent / 100]
                  for row in rows))
    for cell in sheet["F"][3:]:
        cell.number_format = "yyyy-mm-dd"
    for cell in sheet["J"][3:]:
        cell.number_format = "0%"
    return _bytes(workbook)


def progress_xlsx(*, plan: Plan, period: Period,
                  rows: list[tuple[DecompositionRow, list[ProgressReport]]]) -> bytes:
    """工作进展情况表 of a plan for one period."""
    workbook = Workbook()
    columns = [(_("Row number"), 8), (_("Task title"), 36), (_("Lead units of the task"), 20),
               (_("Responsible units of the task"), 24), (_("Reporting unit"), 20), (_("Reporting period"), 12),
               (_("Task status"), 10), (_("Progress (percent)"), 10), (_("Work done this period"), 40),
               (_("Problems met"), 30), (_("Next steps planned"), 30), (_("Submitted at"), 18),
               (_("Timeliness"), 8), (_("Report status"), 12)]
    sheet = _sheet(workbook, _("Progress ledger"), _("Progress of %(plan)s, %(period)s")
                   % {"plan": plan.title, "period": period.label},
                   plan.issuer or plan.area_name, columns)
    lines = []
    for row, reports in rows:
        base = [row.task.path, row.task.title, _units(row.leads), _units(row.responsibles)]
        if not reports:
            lines.append(base + ["", period.label, str(TaskStatus(row.task.status).label),
                                 row.task.percent / 100, "", "", "", None, "",
                                 _("Not reported")])
        for report in reports:
            submitted = (timezone.localtime(report.submitted_at).replace(tzinfo=None)
                         if report.submitted_at else None)
            lines.append(base + [
                report.agency.name, period.label, str(TaskStatus(report.task_status).label),
                report.percent / 100, report.done, report.problems, report.next_steps,
                submitted,
                "" if report.on_time is None else (_("Reported on time") if report.on_time else _("Reported late")),
                report.get_status_display()])
    _rows(sheet, lines)
    for cell in sheet["H"][3:]:
        cell.number_format = "0%"
    for cell in sheet["L"][3:]:
        cell.number_format = "yyyy-mm-dd hh:mm"
    return _bytes(workbook)
