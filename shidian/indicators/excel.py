"""Excel round trip of a data set: a prefilled sheet for a subtree, filled offline, uploaded.

Every bad cell is reported with its row, column and reason before anything is saved; by
default the upload is all-or-nothing.
"""
from __future__ import annotations

import io
from datetime import date
from dataclasses import dataclass
from typing import Any, BinaryIO

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from shidian.core.errors import ErrorCode, ShidianError
from shidian.core.periods import Period, parse_period
from shidian.core.workbooks import open_workbook
from shidian.orgs.models import User

from . import access, services
from .models import DataSet, DataValue, Indicator

KEY_ROW = 3
MAX_TEMPLATE_ROWS = 5000
FIRST_ROW = 4
HEADER_FILL = PatternFill("solid", fgColor="FDE9E7")


def template_xlsx(*, user: User, data_set: DataSet, period: Period, area_code: str) -> bytes:
    """A sheet with one row per division the user reports for under ``area_code``,
    prefilled with the values already entered."""
    fields = services.data_set_fields(data_set)
    divisions = access.divisions_for_entry(user=user, data_set=data_set).filter(
        code__startswith=area_code)
    count = divisions.count()
    if count > MAX_TEMPLATE_ROWS:
        raise ShidianError(ErrorCode.INVALID,
                           _("The sheet would have %(count)s rows; choose a smaller area.")
                           % {"count": count})
    divisions = list(divisions.order_by("code").values_list("code", "name"))
    values: dict[tuple[str, str], Any] = {}
    rows = DataValue.objects.filter(
        element__in={f.element for f in fields}, period=period.id, agency__isnull=True,
        division_id__in=[c for c, _n in divisions]).select_related("element")
    for row in rows.iterator():
        key = f"{row.element.code}.{row.option}" if row.option else row.element.code
        if row.element.value_type == "text":
            values[(row.division_id, key)] = row.text
        elif row.element.value_type == "boolean":
            values[(row.division_id, key)] = "是" if row.value else "否"
        else:
            values[(row.division_id, key)] = row.value
    book = Workbook()
    sheet = book.active
    sheet.title = _("Entry")
    sheet.append([_("Data set"), data_set.name, _("Period"), period.id, _("Data set number"),
                  data_set.pk])
    sheet.append([_("Division code"), _("Division"), *[f.label for f in fields]])
    sheet.append(["code", "name", *[f.key for f in fields]])
    sheet.row_dimensions[KEY_ROW].hidden = True
    for cell in sheet[2]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
    for code, name in divisions:
        sheet.append([code, name, *[values.get((code, f.key)) for f in fields]])
    sheet.column_dimensions["A"].width = 16
    sheet.column_dimensions["B"].width = 24
    for index in range(len(fields)):
        sheet.column_dimensions[get_column_letter(index + 3)].width = 18
    sheet.freeze_panes = "C4"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@dataclass
class UploadResult:
    period: Period
    forms: int
    changed: int
    warnings: list[str]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def upload_xlsx(*, user: User, data_set: DataSet, file: BinaryIO,
                all_or_nothing: bool = True, today: date | None = None) -> UploadResult:
    """Check every cell of an uploaded template, then save (all rows, or only the good ones
    when ``all_or_nothing`` is off). Errors carry ``row``, ``column`` and ``message``."""
    book = open_workbook(file, message=_("This is not an Excel file (.xlsx)."))
    sheet = book.worksheets[0]
    if _text(sheet["F1"].value) != str(data_set.pk):
        raise ShidianError(ErrorCode.BAD_FILE,
                           _("This sheet belongs to another data set; download its template."))
    period = parse_period(_text(sheet["D1"].value))
    services.check_entry_open(data_set, period, today=today)
    fields = {f.key: f for f in services.data_set_fields(data_set)}
    allowed = {d.code: d for d in access.divisions_for_entry(user=user, data_set=data_set)
               .filter(code__in=[_text(r[0]) for r in sheet.iter_rows(
                   min_row=FIRST_ROW, max_col=1, values_only=True)])}
    errors: list[dict[str, Any]] = []
    columns: dict[int, str] = {}
    for index, cell in enumerate(sheet[KEY_ROW][2:], start=3):
        key = _text(cell.value)
        if not key:
            continue
        if key not in fields:
            errors.append({"row": KEY_ROW, "column": get_column_letter(index),
                           "message": _("Not an element of this data set.")})
        columns[index] = key
    forms: list[services.PreparedForm] = []
    bad_rows: set[int] = set()
    for number, row in enumerate(sheet.iter_rows(min_row=FIRST_ROW, values_only=True),
                                 start=FIRST_ROW):
        code = _text(row[0] if row else None)
        if not code and not any(v not in (None, "") for v in row):
            continue
        division = allowed.get(code)
        if division is None:
            errors.append({"row": number, "column": "A",
                           "message": _("Not a division you report for in this data set.")})
            bad_rows.add(number)
            continue
        try:
            services.check_division_open(division, period)
        except ShidianError as error:
            errors.append({"row": number, "column": "A", "message": error.message})
            bad_rows.add(number)
            continue
        raw: dict[str, object] = {}
        row_errors = []
        for index, key in columns.items():
            value = row[index - 1] if index - 1 < len(row) else None
            if key not in fields:
                continue
            try:
                services.parse_cell(fields[key].element, value)
            except ShidianError as error:
                row_errors.append({"row": number, "column": get_column_letter(index),
                                   "message": error.message})
                continue
            raw[key] = value
        if row_errors:
            errors.extend(row_errors)
            bad_rows.add(number)
            continue
        try:
            forms.append(services.form_prepare(
                data_set=data_set, fields=list(fields.values()), division=division,
                period=period, raw=raw, agency=None, check_outliers=False))
        except ShidianError as error:
            for item in error.extra.get("errors", [{"message": error.message}]):
                errors.append({"row": number, "column": "", "message": item["message"]})
            bad_rows.add(number)
    if errors and (all_or_nothing or not forms):
        raise ShidianError(ErrorCode.INVALID,
                           _("%(count)s problems found; nothing was saved.")
                           % {"count": len(errors)}, {"errors": errors})
    changed = services.forms_save(user=user, data_set=data_set, period=period, forms=forms,
                                  source="excel", today=today)
    warnings = [_("Row %(row)s, column %(column)s: %(message)s") % e for e in errors]
    return UploadResult(period, len(forms), changed, warnings)


def drilldown_xlsx(*, indicator: Indicator, period: Period, area: str,
                   rows: list[Any]) -> bytes:
    """The drill-down table of an indicator as a sheet (area first, then its children)."""
    book = Workbook()
    sheet = book.active
    sheet.title = _("Indicator")
    sheet.append([indicator.name, period.label, area])
    sheet.append([_("Division code"), _("Division"), _("Numerator"), _("Denominator"),
                  _("Value")])
    for cell in sheet[2]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
    for row in rows:
        sheet.append([row.code, row.name, row.numerator, row.denominator, row.value])
    sheet.column_dimensions["A"].width = 16
    sheet.column_dimensions["B"].width = 24
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def board_xlsx(*, boards: list[Any]) -> bytes:
    """The attainment board of a plan: one block per target."""
    from .selectors import standing_label

    book = Workbook()
    sheet = book.active
    sheet.title = _("Attainment")
    for board in boards:
        target = board.target
        sheet.append([target.indicator.name, f"{target.get_comparator_display()} "
                      f"{target.value:g}{target.indicator.unit}",
                      target.deadline.isoformat() if target.deadline else ""])
        sheet.append([_("Division code"), _("Division"), _("Current value"), _("Projected"),
                      _("Standing"), _("Rank")])
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
            cell.fill = HEADER_FILL
        for row in board.rows:
            sheet.append([row.code, row.name, row.current, row.projected,
                          standing_label(row.standing), row.rank])
        sheet.append([])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
