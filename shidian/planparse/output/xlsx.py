"""The 任务分解表 workbook (openpyxl).

Sheet 任务分解表: a title row, the header row (frozen, repeated on every printed page), section
rows across the table, and per top-level task the 序号 and 任务 cells merged over its rows;
牵头单位/责任单位/完成时限 are merged too where all rows of a task share them. A4 landscape,
fitted to the page width. Sheets 目标指标 and 问题提示 list the targets and the findings.
"""
from __future__ import annotations

from pathlib import Path

from ..model import PlanDraft
from .table import (FINDING_HEADERS, HEADERS, INDICATOR_HEADERS, DecompositionRow,
                    decomposition_rows, finding_rows, indicator_rows)

FONT_NAME = "宋体"
WIDTHS = {"任务分解表": (6, 24, 64, 20, 30, 18), "目标指标": (6, 30, 8, 10, 8, 14, 70),
          "问题提示": (6, 20, 90, 10)}


def _styles():
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    thin = Side(style="thin", color="808080")
    return {
        "title": Font(name=FONT_NAME, size=16, bold=True),
        "header": Font(name=FONT_NAME, size=11, bold=True),
        "body": Font(name=FONT_NAME, size=10.5),
        "section": Font(name=FONT_NAME, size=11, bold=True),
        "fill_header": PatternFill("solid", fgColor="D9E1F2"),
        "fill_section": PatternFill("solid", fgColor="F2F2F2"),
        "border": Border(left=thin, right=thin, top=thin, bottom=thin),
        "wrap": Alignment(wrap_text=True, vertical="top"),
        "center": Alignment(wrap_text=True, vertical="center", horizontal="center"),
        "middle": Alignment(wrap_text=True, vertical="center"),
    }


def _sheet_setup(ws, title_rows: str, widths: tuple[int, ...]) -> None:
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.properties import PageSetupProperties

    for index, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.print_title_rows = title_rows
    ws.oddFooter.center.text = "第 &P 页,共 &N 页"


def _title_and_header(ws, title: str, headers: tuple[str, ...], st) -> None:
    ws.append([title])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
    ws.cell(1, 1).font = st["title"]
    ws.cell(1, 1).alignment = st["center"]
    ws.row_dimensions[1].height = 30
    ws.append(list(headers))
    for col in range(1, len(headers) + 1):
        cell = ws.cell(2, col)
        cell.font, cell.fill = st["header"], st["fill_header"]
        cell.border, cell.alignment = st["border"], st["center"]
    ws.freeze_panes = "A3"


def _clean(value: str) -> str:
    # openpyxl refuses control characters other than TAB/CR/LF
    return "".join(ch for ch in value if ch >= " " or ch in "\t\n\r") if value else value


def _decomposition_sheet(ws, draft: PlanDraft, st) -> None:
    title = f"{draft.title or draft.id or '实施方案'}任务分解表"
    _title_and_header(ws, _clean(title), HEADERS, st)
    _sheet_setup(ws, "2:2", WIDTHS["任务分解表"])
    rows = decomposition_rows(draft)
    r = 3
    groups: dict[int, list[tuple[int, DecompositionRow]]] = {}
    for row in rows:
        if row.section is not None:
            ws.cell(r, 1, _clean(row.section))
            ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=len(HEADERS))
            ws.cell(r, 1).font, ws.cell(r, 1).fill = st["section"], st["fill_section"]
            ws.cell(r, 1).alignment = st["middle"]
            for col in range(1, len(HEADERS) + 1):
                ws.cell(r, col).border = st["border"]
        else:
            for col, value in enumerate(row.cells(), 1):
                cell = ws.cell(r, col, _clean(value) if value else None)
                cell.font, cell.border = st["body"], st["border"]
                cell.alignment = st["center"] if col in (1,) else st["wrap"]
            groups.setdefault(row.group, []).append((r, row))
        r += 1
    for members in groups.values():
        if len(members) < 2:
            continue
        first, last = members[0][0], members[-1][0]
        merge_cols = [1, 2]
        for col, attr in ((4, "lead"), (5, "units"), (6, "deadline")):
            values = {getattr(row, attr) for _, row in members}
            if len(values) == 1 and next(iter(values)):
                merge_cols.append(col)
        for col in merge_cols:
            ws.merge_cells(start_row=first, start_column=col, end_row=last, end_column=col)
            ws.cell(first, col).alignment = st["center"] if col == 1 else st["middle"]


def _list_sheet(ws, title: str, headers: tuple[str, ...], rows: list[list[str]], widths, st,
                empty: str) -> None:
    _title_and_header(ws, title, headers, st)
    _sheet_setup(ws, "2:2", widths)
    if not rows:
        ws.cell(3, 1, empty).font = st["body"]
        ws.merge_cells(start_row=3, start_column=1, end_row=3, end_column=len(headers))
        return
    for r, values in enumerate(rows, 3):
        for col, value in enumerate(values, 1):
            cell = ws.cell(r, col, _clean(value) if value else None)
            cell.font, cell.border = st["body"], st["border"]
            cell.alignment = st["center"] if col == 1 else st["wrap"]


def build_workbook(draft: PlanDraft):
    from openpyxl import Workbook

    st = _styles()
    wb = Workbook()
    ws = wb.active
    ws.title = "任务分解表"
    _decomposition_sheet(ws, draft, st)
    _list_sheet(wb.create_sheet("目标指标"), "目标指标", INDICATOR_HEADERS, indicator_rows(draft),
                WIDTHS["目标指标"], st, "方案未提出量化目标。")
    _list_sheet(wb.create_sheet("问题提示"), "问题提示", FINDING_HEADERS, finding_rows(draft),
                WIDTHS["问题提示"], st, "未发现需要核对的问题。")
    wb.properties.title = _clean(draft.title or draft.id)  # no control characters in XML
    wb.properties.creator = "Shidian 试点"
    return wb


def write_xlsx(draft: PlanDraft, path: str | Path) -> Path:
    path = Path(path)
    build_workbook(draft).save(path)
    return path
