"""What an uploaded evidence file really is, judged by its content (magic bytes), not its name.

Allowed: PDF, Word (docx), Excel (xlsx), JPEG and PNG. A docx and an xlsx are both ZIP
packages: they are told apart by the part that only each has (``word/document.xml``,
``xl/workbook.xml``). The file name's extension must agree with the content, so an executable
renamed ``报告.pdf`` or a PDF renamed ``表.xlsx`` is refused.
"""
from __future__ import annotations

import zipfile
from typing import IO

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
JPEG = "image/jpeg"
PNG = "image/png"

TYPE_BY_EXTENSION = {
    "pdf": PDF,
    "docx": DOCX,
    "xlsx": XLSX,
    "jpg": JPEG,
    "jpeg": JPEG,
    "png": PNG,
}
ALLOWED_EXTENSIONS = ("pdf", "docx", "xlsx", "jpg", "png")


def extension_of(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def sniff_content_type(stream: IO[bytes]) -> str | None:
    """The allowed type ``stream`` holds, or None. The stream is rewound afterwards."""
    stream.seek(0)
    head = stream.read(16)
    stream.seek(0)
    try:
        if head.startswith(b"%PDF-"):
            return PDF
        if head.startswith(b"\x89PNG\r\n\x1a\n"):
            return PNG
        if head.startswith(b"\xff\xd8\xff"):
            return JPEG
        if head.startswith(b"PK\x03\x04"):
            return _office_type(stream)
        return None
    finally:
        stream.seek(0)


def _office_type(stream: IO[bytes]) -> str | None:
    try:
        with zipfile.ZipFile(stream) as package:
            names = set(package.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    if "word/document.xml" in names:
        return DOCX
    if "xl/workbook.xml" in names:
        return XLSX
    return None
