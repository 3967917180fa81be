"""Title, issuer and domain of a plan."""
from __future__ import annotations

import pytest

from shidian.planparse.header import describe, find_title_line
from shidian.planparse.model import Document, PlanDraft

from .seedscore import seeds

SEEDS = seeds()


def header_of(text: str) -> PlanDraft:
    draft = PlanDraft(id="t")
    describe(Document.from_text("t", text), [], draft)
    return draft


@pytest.mark.parametrize("stem,text,gold", SEEDS, ids=[s for s, _t, _g in SEEDS])
def test_seed_domain_and_issuer(stem, text, gold):
    draft = header_of(text)
    assert draft.domain == gold["domain"]
    assert draft.issuer == gold["issuer"]


def test_title_line_is_read_without_compilation_tags():
    stem, text, gold = next(s for s in SEEDS if s[0].startswith("12c"))
    assert header_of(text).title == gold["title"] == "区社会心理服务体系建设试点工作实施方案"


def test_title_quoted_in_the_preamble_when_no_title_line():
    stem, text, gold = next(s for s in SEEDS if s[0].startswith("10"))
    assert header_of(text).title == gold["title"]


def test_a_stray_scraped_heading_is_not_the_title():
    stem, text, _gold = next(s for s in SEEDS if s[0].startswith("13"))
    assert "油菜" not in header_of(text).title


def test_descriptive_title_names_the_place_and_domain():
    stem, text, _gold = next(s for s in SEEDS if s[0].startswith("08"))
    assert header_of(text).title == "杭州市安宁疗护试点工作实施方案"


def test_issuer_from_a_national_document_title():
    text = ("国务院办公厅关于推进医养结合的实施意见\n各省、自治区、直辖市人民政府:\n"
            "为推进医养结合,经国务院同意,现提出以下意见。\n一、总体要求\n")
    draft = header_of(text)
    assert draft.issuer == "国务院办公厅" and draft.domain == "医养结合"


@pytest.mark.parametrize("text", ["", "\n\n", "。。。", "x" * 100_000, "一、总体要求\n(一)指导思想"])
def test_no_title_line_in_odd_text(text):
    doc = Document.from_text("t", text)
    find_title_line(doc)
    header_of(text)
