"""Uploads are judged by their content: each accepted type is recognised, a renamed file is not."""
from __future__ import annotations

import io

import pytest
from docx import Document
from openpyxl import Workbook

from shidian.core import uploads


def docx_bytes() -> bytes:
    out = io.BytesIO()
    Document().save(out)
    return out.getvalue()


def xlsx_bytes() -> bytes:
    out = io.BytesIO()
    Workbook().save(out)
    return out.getvalue()


@pytest.mark.parametrize(("name", "content"), [
    ("报告.pdf", b"%PDF-1.7\n1 0 obj"),
    ("照片.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 16),
    ("照片.JPG", b"\xff\xd8\xff\xe0" + b"\x00" * 16),
    ("扫描件.tif", b"II*\x00" + b"\x00" * 16),
    ("旧表.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 16),
])
def test_each_accepted_type_is_recognised_by_its_content(name, content):
    assert uploads.content_matches(name, content)


def test_office_packages_are_told_apart():
    assert uploads.content_matches("方案.docx", docx_bytes())
    assert uploads.content_matches("台账.xlsx", xlsx_bytes())
    assert not uploads.content_matches("台账.xlsx", docx_bytes())


@pytest.mark.parametrize(("name", "content"), [
    ("报告.pdf", b"MZ\x90\x00\x03" + b"\x00" * 32),   # an executable renamed
    ("照片.png", b"%PDF-1.4"),                         # a PDF renamed
    ("脚本.html", b"<html><script>"),                  # a type nobody accepts
    ("无扩展名", b"%PDF-1.4"),
])
def test_a_file_whose_content_differs_from_its_name_is_refused(name, content):
    assert not uploads.content_matches(name, content)


def test_the_old_module_name_still_answers():
    from shidian.reporting import files

    assert files.sniff_content_type is uploads.sniff_content_type
