"""Readers: turn a plan file into plain text, one paragraph a line.

    read_file(path) -> str      .txt .docx .html/.htm .pdf (by suffix, else by content)
    read_bytes(data, filename) -> str

Table rows come out as TAB-separated cells, one row a line, in document order. An unreadable file
raises ``ReadError`` whose ``reason`` is one line of Chinese for the clerk.
"""
from __future__ import annotations

from pathlib import Path

from .errors import ReadError

MAX_BYTES = 64 * 1024 * 1024

_SUFFIX_KIND = {
    ".txt": "text", ".text": "text", ".md": "text", ".csv": "text", "": "",
    ".docx": "docx", ".docm": "docx",
    ".html": "html", ".htm": "html", ".xhtml": "html", ".shtml": "html",
    ".pdf": "pdf",
}
_UNSUPPORTED = {
    ".doc": "不支持旧版 Word(.doc)格式,请在 Word 或 WPS 中另存为 .docx 后再导入",
    ".wps": "不支持 WPS(.wps)格式,请另存为 .docx 后再导入",
    ".rtf": "不支持 RTF 格式,请另存为 .docx 后再导入",
    ".xls": "不支持表格文件,请导入方案正文(.docx、.pdf、.txt 或网页)",
    ".xlsx": "不支持表格文件,请导入方案正文(.docx、.pdf、.txt 或网页)",
    ".ofd": "不支持 OFD 版式文件,请另存为 PDF 后再导入",
}

__all__ = ["MAX_BYTES", "ReadError", "read_bytes", "read_file", "sniff_kind"]


def _too_big(size: int) -> str:
    return f"文件过大({size // (1024 * 1024)} MB),超过 {MAX_BYTES // (1024 * 1024)} MB 的上限"


def sniff_kind(data: bytes) -> str:
    """Guess the kind of a file from its first bytes: docx, pdf, html or text."""
    head = data[:1024]
    if head.startswith(b"PK\x03\x04"):
        return "docx"
    if head.lstrip().startswith(b"%PDF") or head.startswith(b"%PDF"):
        return "pdf"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "ole"
    probe = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if probe.startswith((b"<!doctype html", b"<html", b"<?xml")) or b"<html" in probe[:300]:
        return "html"
    return "text"


def read_bytes(data: bytes, filename: str | Path = "") -> str:
    """Text of a plan given as bytes; ``filename`` only chooses the format by its suffix."""
    path = Path(str(filename or "未命名"))
    suffix = path.suffix.lower()
    if suffix in _UNSUPPORTED:
        raise ReadError(path, _UNSUPPORTED[suffix])
    if len(data) > MAX_BYTES:
        raise ReadError(path, _too_big(len(data)))
    kind = _SUFFIX_KIND.get(suffix, "")
    sniffed = sniff_kind(data) if data else "text"
    if not kind or sniffed in ("docx", "pdf", "ole"):
        kind = sniffed  # a binary signature beats the name (.doc renamed .docx, PDF named .txt)
    if kind == "ole":
        raise ReadError(path, "这是旧版 Office 文件(.doc)或加密文档,请另存为 .docx 后再导入")
    try:
        if kind == "docx":
            from .worddoc import read_docx

            return read_docx(data)
        if kind == "pdf":
            from .pdftext import read_pdf

            return read_pdf(data)
        if kind == "html":
            from .webpage import read_html

            return read_html(data)
        from .plaintext import decode_text

        return decode_text(data)
    except ReadError as exc:
        raise ReadError(path, exc.reason) from exc
    except (MemoryError, RecursionError) as exc:
        raise ReadError(path, "文件内容过于复杂,无法读取") from exc


def read_file(path: str | Path) -> str:
    """Text of the plan file at ``path``; raises ``ReadError`` when it cannot be read."""
    path = Path(path)
    if path.is_dir():
        raise ReadError(path, "这是一个文件夹,不是文件")
    try:
        size = path.stat().st_size
    except FileNotFoundError as exc:
        raise ReadError(path, "文件不存在") from exc
    except OSError as exc:
        raise ReadError(path, f"无法访问文件({exc.strerror or exc})") from exc
    if size > MAX_BYTES:
        raise ReadError(path, _too_big(size))
    try:
        data = path.read_bytes()
    except PermissionError as exc:
        raise ReadError(path, "没有读取该文件的权限") from exc
    except OSError as exc:
        raise ReadError(path, f"无法读取文件({exc.strerror or exc})") from exc
    return read_bytes(data, path)
