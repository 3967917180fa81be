"""PDF text layer through pdfplumber.

A PDF knows lines, not paragraphs: lines that run to the right margin are joined with the next
line unless that one is indented or starts with a numbering marker. Tables found by pdfplumber
come out as TAB-separated rows at their place on the page. The spaces pdfplumber inserts between
Chinese and digits (`2019 年 8-11 月`) are removed; page numbers at the page edges are dropped.
A PDF without a text layer (a scan) is an error: it needs OCR first.
"""
from __future__ import annotations

import io
import logging
import re
import statistics

from .errors import ReadError
from .normalize import clean_text, join_wrapped, squeeze_cjk_spaces

MAX_PAGES = 2000

_MARKER_RE = re.compile(
    r"^\s*(?:[一二三四五六七八九十百]+[、.．]|[(（][一二三四五六七八九十百]+[)）]|\d{1,3}[、.．](?!\d)|"
    r"[(（]\d{1,3}[)）]|[①-⑳]|——|第[一二三四五六七八九十百\d]+[章节条部分]|附件|[-•●■◆]\s)")
_PAGE_NO_RE = re.compile(r"^\s*(?:[-—–－]\s*\d{1,4}\s*[-—–－]|"
                         r"第\s*\d{1,4}\s*页(?:\s*[,，/]?\s*共\s*\d{1,4}\s*页)?|"
                         r"\d{1,4}\s*/\s*\d{1,4}|\d{1,4})\s*$")


def _page_lines(page) -> list[dict]:
    """Lines and table rows of one page, top to bottom, each with its geometry."""
    try:
        tables = page.find_tables()
    except Exception:  # pdfplumber's table finder on odd vector graphics
        tables = []
    boxes = [t.bbox for t in tables if len(t.rows) >= 2]

    def outside(obj) -> bool:
        if obj.get("object_type") != "char":
            return True
        x = (obj["x0"] + obj["x1"]) / 2
        y = (obj["top"] + obj["bottom"]) / 2
        return not any(b[0] <= x <= b[2] and b[1] <= y <= b[3] for b in boxes)

    source = page.filter(outside) if boxes else page
    lines = []
    for line in source.extract_text_lines(strip=True, return_chars=True):
        text = line["text"]
        if not text.strip():
            continue
        chars = [c for c in line.get("chars", []) if c.get("text", "").strip()]
        width = statistics.median([c["x1"] - c["x0"] for c in chars]) if chars else 10.0
        lines.append({"text": text, "x0": line["x0"], "x1": line["x1"], "top": line["top"],
                      "cw": width, "table": False})
    for table, bbox in ((t, t.bbox) for t in tables if t.bbox in boxes):
        try:
            rows = table.extract()
        except Exception:
            continue
        top = bbox[1]
        for i, row in enumerate(rows):
            cells = [" ".join((c or "").split()) for c in row]
            while cells and not cells[-1]:
                cells.pop()
            if any(cells):
                lines.append({"text": "\t".join(cells), "x0": bbox[0], "x1": bbox[2],
                              "top": top + i * 0.001, "cw": 10.0, "table": True})
    lines.sort(key=lambda item: item["top"])
    return lines


def _drop_page_numbers(lines: list[dict], page_height: float) -> list[dict]:
    keep = list(lines)
    for index in (-1, 0):
        if not keep:
            break
        line = keep[index]
        if index == -1:
            near_edge = line["top"] > page_height * 0.85
        else:
            near_edge = line["top"] < page_height * 0.12
        if near_edge and not line["table"] and _PAGE_NO_RE.match(line["text"]):
            keep.pop(index)
    return keep


def _paragraphs(pages: list[list[dict]]) -> list[str]:
    body = [ln for page in pages for ln in page if not ln["table"]]
    if not body:
        return [ln["text"] for page in pages for ln in page]
    left = statistics.median(sorted(ln["x0"] for ln in body)[: max(1, len(body) // 4)])
    full_lines = [ln["x1"] for ln in body if len(ln["text"]) >= 10]
    right = max(full_lines) if full_lines else max(ln["x1"] for ln in body)
    out: list[str] = []
    previous: dict | None = None
    for page in pages:
        for line in page:
            text = squeeze_cjk_spaces(line["text"]) if not line["table"] else "\t".join(
                squeeze_cjk_spaces(cell) for cell in line["text"].split("\t"))
            joins = (
                previous is not None and out and not line["table"] and not previous["table"]
                and previous["x1"] >= right - 2.6 * previous["cw"]
                and line["x0"] <= left + 0.8 * line["cw"]
                and not _MARKER_RE.match(text)
            )
            if joins:
                out[-1] = join_wrapped(out[-1], text.strip())
            else:
                out.append(text.strip() if not line["table"] else text)
            previous = line
    return out


def read_pdf(data: bytes) -> str:
    try:
        import pdfplumber
        from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
        from pdfminer.pdfparser import PDFSyntaxError
    except ImportError as exc:  # pragma: no cover - pinned dependency
        raise ReadError(None, "缺少读取 PDF 所需的 pdfplumber 组件") from exc
    for name in ("pdfminer", "pdfplumber"):
        logging.getLogger(name).setLevel(logging.ERROR)
    pages: list[list[dict]] = []
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            if len(pdf.pages) > MAX_PAGES:
                raise ReadError(None, f"PDF 页数过多({len(pdf.pages)} 页),超过 {MAX_PAGES} 页的上限")
            for page in pdf.pages:
                lines = _page_lines(page)
                pages.append(_drop_page_numbers(lines, float(page.height or 1)))
                page.flush_cache()
    except ReadError:
        raise
    except (PDFPasswordIncorrect, PDFEncryptionError) as exc:
        raise ReadError(None, "PDF 已加密,无法读取文字,请先解除密码保护") from exc
    except PDFSyntaxError as exc:
        raise ReadError(None, "不是有效的 PDF 文件(文件已损坏或格式不对)") from exc
    except Exception as exc:  # pdfminer raises many kinds of errors on damaged files
        if "password" in str(exc).lower() or "encrypt" in str(exc).lower():
            raise ReadError(None, "PDF 已加密,无法读取文字,请先解除密码保护") from exc
        raise ReadError(None, f"PDF 文件已损坏,无法读取({type(exc).__name__})") from exc
    if not any(pages):
        raise ReadError(None, "PDF 没有文字层(可能是扫描件),请先做文字识别(OCR)后再导入")
    text = "\n".join(_paragraphs(pages))
    return clean_text(text)
