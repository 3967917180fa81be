"""What an uploaded file really is, judged by its content (magic bytes), never by its name alone.

One checker for every upload path (progress-report evidence, inspection photos, selection
applications, case documents and payment vouchers): the file's extension must name a type the
caller allows, and the content must be that type. A docx and an xlsx are both ZIP packages, told
apart by the part only each has (``word/document.xml``, ``xl/workbook.xml``); the old binary
Office formats (.doc, .xls) share one OLE signature. An executable renamed ``报告.pdf``, or a PDF
renamed ``表.xlsx``, is refused. Size limits are the caller's (``SHIDIAN_EVIDENCE_MAX_BYTES``).
Files are stored under ``MEDIA_ROOT`` (outside the static web root) and served only by views that
check the user's scope.
"""
from __future__ import annotations

import io
import zipfile
from typing import IO

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
JPEG = "image/jpeg"
PNG = "image/png"
TIFF = "image/tiff"
OLE = "application/x-ole-storage"  # .doc and .xls (Office 97-2003)

TYPE_BY_EXTENSION = {
    "pdf": PDF,
    "docx": DOCX,
    "xlsx": XLSX,
    "jpg": JPEG,
    "jpeg": JPEG,
    "png": PNG,
    "tif": TIFF,
    "tiff": TIFF,
    "doc": OLE,
    "xls": OLE,
}
# What progress-report evidence accepts (the other callers pass their own list).
ALLOWED_EXTENSIONS = ("pdf", "docx", "xlsx", "jpg", "png")


def extension_of(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def sniff_content_type(stream: IO[bytes]) -> str | None:
    """The known type ``stream`` holds, or None. The stream is rewound afterwards."""
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
        if head.startswith((b"II*\x00", b"MM\x00*")):
            return TIFF
        if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
            return OLE
        if head.startswith(b"PK\x03\x04"):
            return _office_type(stream)
        return None
    finally:
        stream.seek(0)


def content_matches(name: str, content: bytes | IO[bytes]) -> bool:
    """Does the content hold the type the file name's extension claims?"""
    claimed = TYPE_BY_EXTENSION.get(extension_of(name))
    if claimed is None:
        return False
    stream = io.BytesIO(content) if isinstance(content, bytes | bytearray) else content
    return sniff_content_type(stream) == claimed


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
