"""Word (.docx) through python-docx: paragraphs and tables in document order.

Automatic list numbering (一、 (一) 1. …) is not part of a paragraph's text in Word; it is rendered
here from the numbering definitions so that the outline parser sees the numbers a reader sees.
Table rows become one line each with TAB-separated cells (merged cells once).
"""
from __future__ import annotations

import io
import re
import zipfile

from .errors import ReadError
from .normalize import clean_text, is_cjk

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _cn_number(n: int) -> str:
    digits = "零一二三四五六七八九"
    if n <= 0:
        return str(n)
    if n < 10:
        return digits[n]
    if n < 20:
        return "十" + (digits[n % 10] if n % 10 else "")
    if n < 100:
        return digits[n // 10] + "十" + (digits[n % 10] if n % 10 else "")
    if n < 1000:
        rest = n % 100
        if not rest:
            tail = ""
        elif rest < 10:
            tail = "零" + digits[rest]
        else:
            tail = digits[rest // 10] + "十" + (digits[rest % 10] if rest % 10 else "")
        return digits[n // 100] + "百" + tail
    return str(n)


def _roman(n: int) -> str:
    if not 0 < n < 4000:
        return str(n)
    out = []
    for value, sym in ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
                       (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        while n >= value:
            out.append(sym)
            n -= value
    return "".join(out)


def _letters(n: int) -> str:
    if n <= 0:
        return str(n)
    return chr(ord("a") + (n - 1) % 26) * ((n - 1) // 26 + 1)


def format_number(n: int, fmt: str) -> str:
    if fmt in ("chineseCounting", "chineseCountingThousand", "chineseLegalSimplified",
               "taiwaneseCounting", "taiwaneseCountingThousand", "japaneseCounting"):
        return _cn_number(n)
    if fmt == "ideographTraditional":
        return "甲乙丙丁戊己庚辛壬癸"[(n - 1) % 10] if n > 0 else str(n)
    if fmt == "ideographZodiac":
        return "子丑寅卯辰巳午未申酉戌亥"[(n - 1) % 12] if n > 0 else str(n)
    if fmt in ("decimalEnclosedCircle", "decimalEnclosedCircleChinese"):
        return chr(0x2460 + n - 1) if 0 < n <= 20 else str(n)
    if fmt == "decimalEnclosedParen":
        return chr(0x2474 + n - 1) if 0 < n <= 20 else str(n)
    if fmt == "lowerLetter":
        return _letters(n)
    if fmt == "upperLetter":
        return _letters(n).upper()
    if fmt == "lowerRoman":
        return _roman(n).lower()
    if fmt == "upperRoman":
        return _roman(n)
    if fmt == "decimalZero":
        return f"{n:02d}"
    if fmt in ("none", "bullet"):
        return ""
    return str(n)


class _Numbering:
    """Counters of Word's automatic numbering, rendered as the reader sees them."""

    def __init__(self, document):
        self.abstract: dict[str, dict[int, dict]] = {}
        self.num_to_abstract: dict[str, str] = {}
        self.start_overrides: dict[str, dict[int, int]] = {}
        self.counters: dict[str, dict[int, int]] = {}
        self.seen_nums: set[str] = set()
        try:
            root = document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError, ValueError):
            return
        for absnum in root.iter(_W + "abstractNum"):
            aid = absnum.get(_W + "abstractNumId")
            levels = {}
            for lvl in absnum.iter(_W + "lvl"):
                levels[int(lvl.get(_W + "ilvl", "0") or 0)] = self._level(lvl)
            self.abstract[aid] = levels
        for num in root.iter(_W + "num"):
            nid = num.get(_W + "numId")
            ref = num.find(_W + "abstractNumId")
            if ref is None:
                continue
            self.num_to_abstract[nid] = ref.get(_W + "val")
            overrides = {}
            for ov in num.iter(_W + "lvlOverride"):
                so = ov.find(_W + "startOverride")
                if so is not None:
                    level = int(ov.get(_W + "ilvl", "0") or 0)
                    overrides[level] = int(so.get(_W + "val", "1") or 1)
            if overrides:
                self.start_overrides[nid] = overrides

    @staticmethod
    def _level(lvl) -> dict:
        def val(tag, default=""):
            el = lvl.find(_W + tag)
            return el.get(_W + "val", default) if el is not None else default

        try:
            start = int(val("start", "1") or 1)
        except ValueError:
            start = 1
        return {"start": start, "fmt": val("numFmt", "decimal"), "text": val("lvlText", ""),
                "legal": lvl.find(_W + "isLgl") is not None}

    def render(self, num_id: str, ilvl: int) -> str:
        aid = self.num_to_abstract.get(num_id)
        levels = self.abstract.get(aid) if aid is not None else None
        if not levels or ilvl not in levels:
            return ""
        counters = self.counters.setdefault(aid, {})
        if num_id not in self.seen_nums:
            self.seen_nums.add(num_id)
            for level, start in self.start_overrides.get(num_id, {}).items():
                counters[level] = start - 1
        level = levels[ilvl]
        counters[ilvl] = counters.get(ilvl, level["start"] - 1) + 1
        for deeper in [k for k in counters if k > ilvl]:
            del counters[deeper]
        if level["fmt"] == "bullet":
            return "——" if level["text"] in ("—", "——", "-", "–") else ""

        def sub(match: re.Match[str]) -> str:
            k = int(match.group(1)) - 1
            info = levels.get(k)
            if info is None:
                return ""
            n = counters.get(k, info["start"])
            return format_number(n, "decimal" if level["legal"] and k != ilvl else info["fmt"])

        return re.sub(r"%(\d)", sub, level["text"])


def _num_pr(paragraph) -> tuple[str, int] | None:
    ppr = paragraph._p.pPr
    numpr = ppr.numPr if ppr is not None else None
    style = paragraph.style if numpr is None else None
    depth = 0
    while numpr is None and style is not None and depth < 10:
        spr = style.element.pPr
        numpr = spr.numPr if spr is not None else None
        style = style.base_style
        depth += 1
    if numpr is None or numpr.numId is None:
        return None
    num_id = str(numpr.numId.val)
    if num_id == "0":
        return None
    ilvl = numpr.ilvl.val if numpr.ilvl is not None else 0
    return num_id, int(ilvl or 0)


def _join_cell_lines(parts: list[str]) -> str:
    out = ""
    for part in parts:
        part = part.strip()
        if not part:
            continue
        if out and not (is_cjk(out[-1]) or is_cjk(part[0])):
            out += " "
        out += part
    return out


def _table_lines(table, numbering: _Numbering, depth: int = 0) -> list[str]:
    lines: list[str] = []
    for row in table.rows:
        cells, seen = [], set()
        try:
            row_cells = row.cells
        except (ValueError, IndexError):  # malformed grid
            row_cells = []
        for cell in row_cells:
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            parts = [p.text.replace("\t", " ") for p in cell.paragraphs]
            if depth < 3:
                for inner in cell.tables:
                    inner_rows = _table_lines(inner, numbering, depth + 1)
                    parts.extend(" ".join(r.split("\t")) for r in inner_rows)
            cells.append(_join_cell_lines(parts))
        if len(cells) == 1 and len(row_cells) <= 1:
            # a one-column layout table holds running text: keep its paragraphs as lines
            for cell in row_cells[:1]:
                lines.extend(_paragraph_text(p, numbering) for p in cell.paragraphs)
            continue
        while cells and not cells[-1]:
            cells.pop()
        if any(cells):
            lines.append("\t".join(c.replace("\n", " ") for c in cells))
    return lines


def _paragraph_text(paragraph, numbering: _Numbering) -> str:
    text = paragraph.text
    num = _num_pr(paragraph)
    if num is not None:
        label = numbering.render(*num)
        if label and text.strip():
            text = label + text.lstrip()
    return text


def _iter_blocks(parent_element, document):
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    for child in parent_element.iterchildren():
        tag = child.tag
        if tag == _W + "p":
            yield Paragraph(child, document)
        elif tag == _W + "tbl":
            yield Table(child, document)
        elif tag == _W + "sdt":
            content = child.find(_W + "sdtContent")
            if content is not None:
                yield from _iter_blocks(content, document)


def read_docx(data: bytes) -> str:
    try:
        import docx
        from docx.opc.exceptions import PackageNotFoundError
    except ImportError as exc:  # pragma: no cover - python-docx is a pinned dependency
        raise ReadError(None, "缺少读取 Word 文件所需的 python-docx 组件") from exc
    from docx.table import Table

    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise ReadError(None, "不是有效的 Word(.docx)文件(文件已损坏或格式不对)")
    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, zipfile.BadZipFile, ValueError, TypeError,
            AttributeError) as exc:
        raise ReadError(None, "不是有效的 Word(.docx)文件(缺少正文部分或已损坏)") from exc
    except Exception as exc:  # lxml syntax errors and the like from a damaged package
        raise ReadError(None, f"Word 文件已损坏,无法读取({type(exc).__name__})") from exc
    numbering = _Numbering(document)
    lines: list[str] = []
    try:
        for block in _iter_blocks(document.element.body, document):
            if isinstance(block, Table):
                lines.extend(_table_lines(block, numbering))
            else:
                lines.extend(_paragraph_text(block, numbering).split("\n"))
    except ReadError:
        raise
    except Exception as exc:
        raise ReadError(None, f"Word 文件结构异常,无法读取({type(exc).__name__})") from exc
    return clean_text("\n".join(lines))
