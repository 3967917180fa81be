"""Word documents in 公文 layout (GB/T 9704-2012): a document structure in, ``.docx`` bytes out.

- A4, margins top 37 mm, bottom 35 mm, left 28 mm, right 26 mm.
- Title in 方正小标宋简体 22 pt (二号), centred; body in 仿宋_GB2312 16 pt (三号), fixed line
  spacing of 28.95 pt (22 lines a page); first-level headings (一、) in 黑体, second-level (（一）)
  in 楷体_GB2312.
- Page numbers "— 1 —" in 宋体 14 pt (四号): odd pages on the right, even pages on the left.
- The Chinese font names are set on ``w:eastAsia`` (Word ignores the Latin slot for Chinese
  text), and the font table names Noto Serif/Sans CJK SC as ``w:altName`` for machines that lack
  the official fonts (LibreOffice and Word both fall back to it).
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date

from django.utils import formats
from docx import Document
from docx.enum.section import WD_SECTION_START
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docx.text.paragraph import Paragraph
from lxml import etree

TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋_GB2312"
HEADING_FONT = "黑体"
SUBHEADING_FONT = "楷体_GB2312"
PAGE_NUMBER_FONT = "宋体"
FALLBACKS = {
    TITLE_FONT: "Noto Serif CJK SC",
    BODY_FONT: "Noto Serif CJK SC",
    SUBHEADING_FONT: "Noto Serif CJK SC",
    PAGE_NUMBER_FONT: "Noto Serif CJK SC",
    HEADING_FONT: "Noto Sans CJK SC",
}
TITLE_SIZE = Pt(22)
BODY_SIZE = Pt(16)
PAGE_NUMBER_SIZE = Pt(14)
LINE = Pt(28.95)
MARGINS = {"top": Mm(37), "bottom": Mm(35), "left": Mm(28), "right": Mm(26)}


@dataclass
class Section:
    """A first-level part of the document: its heading (一、…) and paragraphs."""

    heading: str
    paragraphs: list[str] = field(default_factory=list)


@dataclass
class OfficialDocument:
    title: str
    subtitle: str = ""          # the issue line under the title (2021年第6期 · 泸县…办公室)
    sections: list[Section] = field(default_factory=list)
    signature: str = ""         # the issuing body, above the date
    dated: date | None = None


def set_font(run, name: str, size: Pt | None = None, *, bold: bool = False) -> None:
    """Give a run one font for Latin and Chinese text alike (``w:eastAsia`` included)."""
    run.font.name = name
    if size is not None:
        run.font.size = size
    run.font.bold = bold
    r_pr = run._element.get_or_add_rPr()
    fonts = r_pr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        r_pr.insert(0, fonts)
    for slot in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(slot), name)
    fonts.set(qn("w:hint"), "eastAsia")


def _fixed_lines(paragraph: Paragraph, *, first_indent: bool) -> None:
    fmt = paragraph.paragraph_format
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = LINE
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(0)
    if first_indent:
        fmt.first_line_indent = Pt(32)  # two characters of 16 pt


def _page_number(paragraph: Paragraph, align: WD_ALIGN_PARAGRAPH) -> None:
    """"— N —" with N from Word's PAGE field."""
    paragraph.alignment = align
    indent = Pt(14)  # one character from the edge, as the standard asks
    if align == WD_ALIGN_PARAGRAPH.RIGHT:
        paragraph.paragraph_format.right_indent = indent
    else:
        paragraph.paragraph_format.left_indent = indent

    def text(value: str) -> None:
        set_font(paragraph.add_run(value), PAGE_NUMBER_FONT, PAGE_NUMBER_SIZE)

    def field_char(kind: str) -> None:
        run = paragraph.add_run()
        set_font(run, PAGE_NUMBER_FONT, PAGE_NUMBER_SIZE)
        char = OxmlElement("w:fldChar")
        char.set(qn("w:fldCharType"), kind)
        run._element.append(char)

    text("— ")
    field_char("begin")
    instr_run = paragraph.add_run()
    set_font(instr_run, PAGE_NUMBER_FONT, PAGE_NUMBER_SIZE)
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = " PAGE "
    instr_run._element.append(instr)
    field_char("separate")
    text("1")
    field_char("end")
    text(" —")


def _font_table_fallbacks(document) -> None:
    """Name each Chinese font in the font table with its Noto CJK fallback (``w:altName``)."""
    part = next(rel.target_part for rel in document.part.rels.values()
                if rel.reltype == RT.FONT_TABLE)
    root = etree.fromstring(part.blob)
    ns = {"w": "http://schemas.openxmlformats.org/wordprocessingml/2006/main"}
    for name, fallback in FALLBACKS.items():
        for old in root.findall(f"w:font[@w:name='{name}']", ns):
            root.remove(old)
        font = etree.SubElement(root, qn("w:font"))
        font.set(qn("w:name"), name)
        alt = etree.SubElement(font, qn("w:altName"))
        alt.set(qn("w:val"), fallback)
        charset = etree.SubElement(font, qn("w:charset"))
        charset.set(qn("w:val"), "86")  # GB2312
        family = etree.SubElement(font, qn("w:family"))
        family.set(qn("w:val"), "modern" if name == HEADING_FONT else "roman")
        pitch = etree.SubElement(font, qn("w:pitch"))
        pitch.set(qn("w:val"), "variable")
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _default_style(document) -> None:
    normal = document.styles["Normal"]
    normal.font.name = BODY_FONT
    normal.font.size = BODY_SIZE
    r_pr = normal.element.get_or_add_rPr()
    fonts = r_pr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        r_pr.insert(0, fonts)
    for slot in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(slot), BODY_FONT)
    # Chinese: lines break anywhere, the language is zh-CN.
    lang = r_pr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        r_pr.append(lang)
    lang.set(qn("w:eastAsia"), "zh-CN")


def official_docx(doc: OfficialDocument) -> bytes:
    """The document as a 公文 layout ``.docx``."""
    document = Document()
    _default_style(document)
    _font_table_fallbacks(document)
    section = document.sections[0]
    section.start_type = WD_SECTION_START.NEW_PAGE
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin = MARGINS["top"]
    section.bottom_margin = MARGINS["bottom"]
    section.left_margin = MARGINS["left"]
    section.right_margin = MARGINS["right"]
    section.footer_distance = Mm(28) - Mm(7)  # the page number sits ~7 mm below the text block
    document.settings.odd_and_even_pages_header_footer = True
    _page_number(section.footer.paragraphs[0], WD_ALIGN_PARAGRAPH.RIGHT)
    _page_number(section.even_page_footer.paragraphs[0], WD_ALIGN_PARAGRAPH.LEFT)

    body = document.paragraphs[0] if document.paragraphs else document.add_paragraph()
    title = body
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.paragraph_format.space_after = Pt(0)
    title.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    title.paragraph_format.line_spacing = Pt(35)
    set_font(title.add_run(doc.title), TITLE_FONT, TITLE_SIZE)
    if doc.subtitle:
        line = document.add_paragraph()
        line.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _fixed_lines(line, first_indent=False)
        set_font(line.add_run(doc.subtitle), SUBHEADING_FONT, BODY_SIZE)
    # One empty line between the title block and the body.
    _fixed_lines(document.add_paragraph(), first_indent=False)
    for part in doc.sections:
        heading = document.add_paragraph()
        _fixed_lines(heading, first_indent=True)
        set_font(heading.add_run(part.heading), HEADING_FONT, BODY_SIZE)
        for text in part.paragraphs:
            paragraph = document.add_paragraph()
            _fixed_lines(paragraph, first_indent=True)
            paragraph.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
            set_font(paragraph.add_run(text), BODY_FONT, BODY_SIZE)
    if doc.signature or doc.dated:
        _fixed_lines(document.add_paragraph(), first_indent=False)
        for text in (doc.signature, _chinese_date(doc.dated) if doc.dated else ""):
            if not text:
                continue
            paragraph = document.add_paragraph()
            paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            _fixed_lines(paragraph, first_indent=False)
            paragraph.paragraph_format.right_indent = Pt(64)  # four characters, as 公文 sign
            set_font(paragraph.add_run(text), BODY_FONT, BODY_SIZE)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _chinese_date(day: date) -> str:
    """公文 dates use Arabic numerals without leading zeros: 2021年6月30日 (zh-hans format)."""
    return formats.date_format(day, "DATE_FORMAT")
