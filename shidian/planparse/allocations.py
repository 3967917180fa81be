"""Allocation tables (分配表): who gets how many pilot places, money or households.

Two layouts are read:

* TAB-separated rows (Word and web tables, OCR): ``省级团委<TAB>国有企业<TAB>非公企业`` then
  ``北京<TAB>1<TAB>5`` … ``合计<TAB>40<TAB>70``;
* flattened tables, one cell per line (text copied out of a page): a title line, the header
  cells, then each row as a label followed by as many number lines as there are columns.

A table is recognised only where at least two rows of the same width follow each other, so
running text with a stray number is not mistaken for one. ``check_allocations`` compares every
column with its 合计 row and with a count the text gives for the same thing (国有和国有控股企业30家).
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Any

from .model import Document

_NUMBER_RE = re.compile(r"^\s*(\d{1,9}(?:\.\d+)?)\s*$")
_TOTAL_RE = re.compile(r"^\s*(?:合\s*计|总\s*计|共\s*计|总\s*数|小\s*计|全\s*省|全\s*市|全\s*县|总\s*量)\s*$")
_MARKER_RE = re.compile(r"^\s*(?:[一二三四五六七八九十]+[、.．]|[(（][一二三四五六七八九十\d]+[)）]|\d{1,2}[、.．](?!\d)|"
                        r"附件\d*[:：]?|附表\d*[:：]?)")
_COUNT_UNITS = "家个所名户人项处村套间张台"
# a plan has a handful of allocation tables of tens of rows; these bound the work on odd input
MAX_TABLES = 100
MAX_ROWS = 5000
MAX_ROWS_SEEN = 20000
MAX_CHECKED_TABLES = 60
MAX_COLUMNS = 30


@dataclass
class Table:
    title: str
    unit_header: str | None
    columns: list[str]
    rows: list[dict[str, Any]] = field(default_factory=list)
    total_row: dict[str, Any] | None = None
    start: int = 0  # offsets of the table in Document.text
    end: int = 0
    line: int = 0  # 1-based line of the table's first row
    total_start: int | None = None
    total_end: int | None = None
    total_line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"table": self.title, "unit_header": self.unit_header, "columns": list(self.columns),
                "rows": [dict(r) for r in self.rows],
                "total_row": dict(self.total_row) if self.total_row else None}


def _number(text: str) -> int | float | None:
    match = _NUMBER_RE.match(text)
    if not match:
        return None
    value = float(match.group(1))
    return int(value) if value.is_integer() else value


def _short_cell(text: str) -> bool:
    text = text.strip()
    return bool(text) and len(text) <= 40 and "。" not in text and _number(text) is None


# ----------------------------------------------------------------- flattened: one cell a line

def _flattened_tables(doc: Document) -> list[Table]:
    cells = [(ln.text.strip(), ln) for ln in doc.lines if "\t" not in ln.text and ln.text.strip()]
    numeric = [text[0].isdigit() and _NUMBER_RE.match(text) is not None for text, _ in cells]
    n = len(cells)
    # a row label is a short non-number cell followed by a number cell: only those places are tried
    candidates = [i for i in range(n - 1) if numeric[i + 1] and not numeric[i]]
    tables: list[Table] = []
    rows_seen = 0
    position = 0  # candidates before this cell index were used by a table already
    for i in candidates:
        if i < position:
            continue
        width = _row_width(cells, numeric, i)
        if width == 0:
            continue
        rows_at = [i]
        j = i + 1 + width
        while j < n and len(rows_at) < MAX_ROWS and _row_width(cells, numeric, j) == width:
            rows_at.append(j)
            j += 1 + width
        rows_seen += len(rows_at)
        data_rows = [k for k in rows_at if not _TOTAL_RE.match(cells[k][0])]
        if len(data_rows) >= 2:
            tables.append(_make_flat_table(cells, i, rows_at, width))
            position = j
        if len(tables) >= MAX_TABLES or rows_seen >= MAX_ROWS_SEEN:
            break
    return tables


def _row_width(cells, numeric: list[bool], i: int) -> int:
    """How many number cells follow the label cell at i (0 if i is not a row label)."""
    if numeric[i] or not _short_cell(cells[i][0]) or _MARKER_RE.match(cells[i][0]):
        return 0
    k = i + 1
    while k < len(cells) and k - i <= 30 and numeric[k]:
        k += 1
    return k - i - 1


def _make_flat_table(cells, first: int, rows_at: list[int], width: int) -> Table:
    header: list[str] = []
    title = ""
    k = first - 1
    while (k >= 0 and len(header) < width + 1 and _short_cell(cells[k][0])
           and not _MARKER_RE.match(cells[k][0])):
        header.insert(0, cells[k][0])
        k -= 1
    before = cells[k][0] if k >= 0 else ""
    if before and len(before) <= 40 and "。" not in before and _number(before) is None:
        title = cells[k][0]
    unit_header = header[0] if len(header) == width + 1 else None
    columns = header[1:] if unit_header is not None else (header if len(header) == width else
                                                           [f"第{c + 1}列" for c in range(width)])
    table = Table(title=title, unit_header=unit_header, columns=columns)
    first_line = cells[first][1]
    table.start, table.line = first_line.start, first_line.index + 1
    for at in rows_at:
        label_line = cells[at][1]
        values = [_number(cells[at + 1 + c][0]) for c in range(width)]
        row = {"unit": cells[at][0], "values": values}
        last_line = cells[at + width][1]
        if _TOTAL_RE.match(cells[at][0]):
            table.total_row = row
            table.total_start, table.total_end = label_line.start, last_line.end
            table.total_line = label_line.index + 1
        else:
            table.rows.append(row)
        table.end = last_line.end
    return table


# ----------------------------------------------------------------- TAB-separated rows

def _tab_tables(doc: Document) -> list[Table]:
    tables: list[Table] = []
    block: list = []
    for line in [*doc.lines, None]:
        if line is not None and "\t" in line.text:
            block.append(line)
            continue
        if line is not None and not line.text.strip() and block:
            continue
        if len(block) >= 3:
            tables.extend(_tables_in_block(block[:MAX_ROWS + 2], _line_before(doc, block[0])))
            if len(tables) >= MAX_TABLES:
                break
        block = []
    return tables


def _line_before(doc: Document, line) -> str:
    """The nearest non-empty line above a table: its caption when it is short."""
    for index in range(line.index - 1, max(-1, line.index - 4), -1):
        text = doc.lines[index].text.strip()
        if text:
            return text if len(text) <= 40 and not text.endswith(("。", ";", "；", ":", "：")) else ""
    return ""


def _without_number_column(cells: list[str]) -> list[str]:
    """Drop a leading 序号 column: `序号 省份 …` / `3 河北 …`."""
    numbered = cells[0] in ("序号", "编号", "") or (cells[0].isdigit() and len(cells[0]) <= 3)
    if len(cells) >= 3 and numbered and _short_cell(cells[1]):
        return cells[1:]
    return cells


def _tables_in_block(block, caption: str = "") -> list[Table]:
    rows = [_without_number_column([c.strip() for c in line.text.split("\t")]) for line in block]
    out: list[Table] = []
    i = 0
    while i < len(rows):
        width = _tab_width(rows[i])
        if width == 0:
            i += 1
            continue
        j = i
        while j < len(rows) and _tab_width(rows[j]) == width:
            j += 1
        data = [r for r in rows[i:j] if not _TOTAL_RE.match(r[0])]
        if len(data) >= 2:
            header = rows[i - 1] if i > 0 and _tab_width(rows[i - 1]) == 0 else []
            header = [h for h in header if h]
            unit_header = header[0] if len(header) == width + 1 else None
            columns = header[1:] if unit_header else (header if len(header) == width else
                                                       [f"第{c + 1}列" for c in range(width)])
            first_in_block = i == 0 or (i == 1 and header)
            table = Table(title=caption if first_in_block else "", unit_header=unit_header,
                          columns=columns)
            table.start, table.end = block[i].start, block[j - 1].end
            table.line = block[i].index + 1
            for k in range(i, j):
                cells = rows[k]
                row = {"unit": cells[0], "values": [_number(c) for c in cells[1: 1 + width]]}
                if _TOTAL_RE.match(cells[0]):
                    table.total_row = row
                    table.total_start, table.total_end = block[k].start, block[k].end
                    table.total_line = block[k].index + 1
                else:
                    table.rows.append(row)
            out.append(table)
        i = max(j, i + 1)
    return out


def _tab_width(cells: list[str]) -> int:
    """Number columns of a TAB row whose first cell is a label and the rest are numbers."""
    if len(cells) < 2 or not _short_cell(cells[0]):
        return 0
    values = [c for c in cells[1:] if c != ""]
    if not values or any(_number(c) is None for c in values) or len(values) != len(cells) - 1:
        return 0
    return len(values)


def find_tables(doc: Document) -> list[Table]:
    tables = _tab_tables(doc) + _flattened_tables(doc)
    tables.sort(key=lambda t: t.start)
    return tables


def extract_allocations(doc: Document) -> list[Table]:
    """Allocation tables of the document (tables of labelled rows of numbers)."""
    return find_tables(doc)


# ----------------------------------------------------------------- checks


@dataclass
class TextCount:
    value: int | float
    quote: str
    start: int
    end: int
    line: int


class _Headings:
    """Numbered heading lines by their words, each with the end of its section (one pass)."""

    def __init__(self, doc: Document):
        self.by_words: dict[str, list[tuple[int, int]]] = {}
        lines = doc.lines
        found = []
        for index, line in enumerate(lines):
            text = line.text.strip()
            if not text or text[0] not in _MARKER_FIRST:
                continue
            marker = _MARKER_RE.match(text)
            if marker:
                found.append((index, _style(marker.group(0)), text[marker.end():].strip(" :：")))
        next_start: dict[str, int] = {}
        for index, style, words in reversed(found):
            end = next_start.get(style, len(doc.text))
            next_start[style] = lines[index].start
            if len(words) >= 4:
                self.by_words.setdefault(words, []).append((lines[index].start, end))

    def sections_for(self, title: str) -> list[tuple[int, int]]:
        """Spans of the body sections whose heading has the same words as a table title."""
        words = _MARKER_RE.sub("", title).strip(" :：")
        return sorted(self.by_words.get(words, [])) if len(words) >= 4 else []


_MARKER_FIRST = set("一二三四五六七八九十(（0123456789附")


def _style(marker: str) -> str:
    return re.sub(r"[一二三四五六七八九十]+", "C", re.sub(r"\d+", "N", marker.strip()))


def text_counts(doc: Document, column: str, tables: list[Table],
                within: list[tuple[int, int]] | None = None,
                line_starts: list[int] | None = None) -> list[TextCount]:
    """Places where the text gives a count for a column's thing: 国有和国有控股企业30家."""
    if len(column) < 2:
        return []
    if line_starts is None:
        line_starts = [line.start for line in doc.lines]
    spans = sorted((t.start, t.end) for t in tables)
    span_starts = [a for a, _ in spans]
    regex = re.compile(re.escape(column) + r"(?:试点|单位)?(?:共|各|约)?(\d{1,7})\s*"
                       + "([" + _COUNT_UNITS + "])")
    out = []
    for a, b in (within if within else [(0, len(doc.text))]):
        for match in regex.finditer(doc.text, a, b):
            k = bisect.bisect_right(span_starts, match.start()) - 1
            if k >= 0 and spans[k][0] <= match.start() <= spans[k][1]:
                continue  # the table's own cells
            line = bisect.bisect_right(line_starts, match.start())
            out.append(TextCount(value=int(match.group(1)), quote=match.group(0),
                                 start=match.start(), end=match.end(), line=line))
            if len(out) >= 50:
                return out
    return out


def _same(a, b) -> bool | None:
    """Whether two figures agree; None when one of them is unknown."""
    return None if a is None or b is None else a == b


def check_allocations(doc: Document, tables: list[Table]) -> list[dict[str, Any]]:
    """One check per table column: rows against 合计, and the total against the text's count."""
    checks = []
    if not tables:
        return checks
    headings = _Headings(doc)
    line_starts = [line.start for line in doc.lines]
    counts_cache: dict[tuple, list[TextCount]] = {}

    def counts_for(column: str, sections: list[tuple[int, int]] | None) -> list[TextCount]:
        key = (column, tuple(sections or ()))
        if key not in counts_cache:
            counts_cache[key] = text_counts(doc, column, tables, sections, line_starts)
        return counts_cache[key]

    for table in tables[:MAX_CHECKED_TABLES]:
        sections = headings.sections_for(table.title) if table.title else []
        for c, column in enumerate(table.columns[:MAX_COLUMNS]):
            values = [r["values"][c] for r in table.rows
                      if c < len(r["values"]) and r["values"][c] is not None]
            rows_sum = sum(values) if values else None
            if isinstance(rows_sum, float):
                rows_sum = round(rows_sum, 6)
            printed = None
            if table.total_row and c < len(table.total_row["values"]):
                printed = table.total_row["values"][c]
            counts = counts_for(column, sections or None) if not column.startswith("第") else []
            if not counts and sections:
                counts = counts_for(column, None)
            distinct = {cnt.value for cnt in counts}
            text_count = counts[0] if len(distinct) == 1 else None
            total = printed if printed is not None else rows_sum
            check = {
                "table": table.title, "column": column, "rows_transcribed": len(table.rows),
                "rows_sum": rows_sum, "printed_total": printed,
                "rows_sum_matches_printed_total": _same(rows_sum, printed),
                "text_count": text_count.value if text_count else None,
                "text_quote": text_count.quote if text_count else None,
                "printed_total_matches_text": _same(printed, text_count.value if text_count else None),
                "rows_sum_matches_text": _same(rows_sum, text_count.value if text_count else None),
                "_table": table, "_text": text_count, "_total": total,
            }
            mismatched = (check["rows_sum_matches_printed_total"] is False
                          or _same(total, text_count.value if text_count else None) is False)
            check["finding"] = "mismatch" if mismatched else "ok"
            checks.append(check)
    return checks
