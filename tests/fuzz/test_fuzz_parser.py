"""The parser on mutated plans: a seed plan damaged line by line still parses, and a damaged
.docx or .pdf gives its text or a one-line Chinese ReadError — never a traceback."""
from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shidian.planparse import ReadError, parse_text
from shidian.planparse.output import render_json
from shidian.planparse.readers import read_bytes
from shidian.planparse.tests.test_readers import print_pdf, printable

from .mutations import Blob, fuzz_settings, mutated_bytes, mutated_text, mutated_zip_member, seed_text


def assert_parses(text: str) -> None:
    draft = parse_text(text, name="fuzz")
    data = json.loads(render_json(draft))
    assert isinstance(data["tasks"], list)
    for finding in draft.findings:
        assert finding.message
        if finding.start is not None:
            assert 0 <= finding.start <= finding.end <= len(text)


def assert_reads_or_refuses(data: bytes, name: str) -> None:
    try:
        text = read_bytes(data, name)
    except ReadError as exc:
        message = str(exc)
        assert message and "\n" not in message and "Traceback" not in message
        assert any("\u4e00" <= ch <= "\u9fff" for ch in message), message  # said in Chinese
        return
    assert isinstance(text, str)
    assert_parses(text)


def docx_of(text: str) -> bytes:
    from docx import Document

    document = Document()
    for line in text.splitlines()[:120]:
        # Word itself cannot hold control characters: keep what a real .docx could contain.
        document.add_paragraph("".join(ch for ch in line if ch >= " " or ch == "\t"))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def plan_docx() -> bytes:
    return Blob(docx_of(seed_text(8)))


@pytest.fixture(scope="module")
def plan_pdf(tmp_path_factory) -> bytes:
    folder = tmp_path_factory.mktemp("pdf")
    path = folder / "plan.pdf"
    print_pdf(printable("\n".join(seed_text(2).splitlines()[:60])), path, folder)
    return Blob(Path(path).read_bytes())


@fuzz_settings
@given(mutated_text())
def test_a_damaged_seed_plan_still_parses(text):
    assert_parses(text)


@fuzz_settings
@given(st.data())
def test_a_damaged_docx_reads_or_is_refused_in_chinese(plan_docx, data):
    damaged = data.draw(mutated_zip_member(plan_docx) | mutated_bytes(plan_docx))
    assert_reads_or_refuses(damaged, "实施方案.docx")


@fuzz_settings
@given(st.data())
def test_a_damaged_pdf_reads_or_is_refused_in_chinese(plan_pdf, data):
    assert_reads_or_refuses(data.draw(mutated_bytes(plan_pdf)), "实施方案.pdf")


@fuzz_settings
@given(st.binary(max_size=4096), st.sampled_from(["a.txt", "a.docx", "a.pdf", "a.html", "a"]))
def test_any_bytes_under_any_name_read_or_are_refused(data, name):
    assert_reads_or_refuses(data, name)
