"""The monthly progress report (工程进度月报, 07a 六/(七)): one Excel row per county.

Built from ``selectors.case_progress`` (the same figures the indicators engine pulls), so the
province's 一月一调度 and the county's Excel never disagree.
"""
from __future__ import annotations

import datetime as dt
import io

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from . import selectors
from .models import CaseProgramme


def progress_workbook(*, programme: CaseProgramme, division: str = "",
                      as_of: dt.date | None = None, level: int = 3) -> bytes:
    rows = selectors.case_progress(programme=programme, division=division, as_of=as_of,
                                   level=level)
    book = Workbook()
    sheet = book.active
    sheet.title = _("Progress")
    title = _("%(programme)s: progress as of %(date)s") % {
        "programme": programme.name, "date": (as_of or dt.date.today()).isoformat()}
    headers = [_("Division code"), _("Division"), _("Registered households"), _("Approved"),
               _("Started"), _("Finished"), _("Passed acceptance"), _("Paid and archived"),
               _("Subsidy fixed (yuan)"), _("Subsidy paid (yuan)")]
    sheet.append([title])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A1"].alignment = Alignment(horizontal="center")
    sheet.append(headers)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    totals = [0] * 8
    for row in rows:
        values = [row.registered, row.approved, row.started, row.finished, row.accepted,
                  row.completed, float(row.entitled_amount), float(row.paid_amount)]
        totals = [a + b for a, b in zip(totals, values, strict=True)]
        sheet.append([row.division, row.name, *values])
    sheet.append(["", _("Total"), *totals])
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for row_cells in sheet.iter_rows(min_row=3, min_col=9, max_col=10):
        for cell in row_cells:
            cell.number_format = "#,##0.00"
    for column, width in zip("ABCDEFGHIJ", (14, 18, 10, 10, 10, 10, 10, 12, 16, 16),
                             strict=True):
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
