"""Oversight documents in 公文 layout: the 督办通知单 and the unit's reply, the 通报.

They are built on ``exports.docx``: the document (page, margins, fonts, page numbers, title,
sections, signature and date) comes from ``official_docx``; this module adds what a notice has
besides: the red masthead (版头) with the issuing office and the document number over a red
rule, the addressee (主送), and tables (the tasks under supervision, a ranking).
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date

from django.utils import formats, timezone
from django.utils.translation import gettext as _
from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor
from docx.text.paragraph import Paragraph

from .docx import (BODY_FONT, BODY_SIZE, HEADING_FONT, TITLE_FONT, OfficialDocument, Section,
                   official_docx, set_font)

RED = RGBColor(0xC0, 0x00, 0x00)
MASTHEAD_SIZE = Pt(26)
TABLE_SIZE = Pt(12)  # 小四: tables in 公文 are set smaller than the body
_CN_NUMBERS = "一二三四五六七八九十"


@dataclass
class Table:
    """A table placed right after the heading of the section named ``after``."""

    after: str
    header: list[str]
    rows: list[list[str]]
    widths: list[float] = field(default_factory=list)  # relative column widths


@dataclass
class Masthead:
    issuer: str
    number: str


def _heading(index: int, text: str) -> str:
    return f"{_CN_NUMBERS[index]}、{text}"


def _date(day: date) -> str:
    return formats.date_format(day, "DATE_FORMAT")


def _red_rule(paragraph: Paragraph) -> None:
    """A red line under the paragraph (the 版头's 红色分隔线)."""
    p_pr = paragraph._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    bottom.set(qn("w:val"), "single")
    bottom.set(qn("w:sz"), "12")  # eighths of a point: 1.5 pt
    bottom.set(qn("w:space"), "4")
    bottom.set(qn("w:color"), "C00000")
    borders.append(bottom)
    p_pr.append(borders)


def _cell_text(cell, text: str, *, bold: bool = False, center: bool = False) -> None:
    paragraph = cell.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER if center else WD_ALIGN_PARAGRAPH.LEFT
    run = paragraph.add_run(text)
    set_font(run, HEADING_FONT if bold else BODY_FONT, TABLE_SIZE, bold=False)


def _add_table(document, anchor: Paragraph, table: Table) -> None:
    grid = document.add_table(rows=1, cols=len(table.header))
    grid.style = "Table Grid"
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(grid.rows[0].cells, table.header, strict=True):
        _cell_text(cell, text, bold=True, center=True)
    for row in table.rows:
        cells = grid.add_row().cells
        for index, (cell, text) in enumerate(zip(cells, row, strict=True)):
            _cell_text(cell, text, center=index == 0)
    if table.widths:
        from docx.shared import Mm

        total = sum(table.widths)
        usable = 156  # mm between the 28 mm and 26 mm margins of A4
        grid.autofit = False
        widths = [Mm(usable * share / total) for share in table.widths]
        # Word reads the cells' widths, LibreOffice the grid's: set both.
        for column, width in zip(grid.columns, widths, strict=True):
            column.width = width
        for row in grid.rows:
            for cell, width in zip(row.cells, widths, strict=True):
                cell.width = width
    anchor._p.addnext(grid._tbl)


def official_notice_docx(doc: OfficialDocument, *, masthead: Masthead | None = None,
                         addressee: str = "", tables: list[Table] | None = None) -> bytes:
    """``official_docx`` plus the masthead, the addressee line and tables."""
    document = Document(io.BytesIO(official_docx(doc)))
    paragraphs = document.paragraphs
    title = paragraphs[0]
    if masthead is not None:
        issuer = title.insert_paragraph_before()
        issuer.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = issuer.add_run(masthead.issuer)
        set_font(run, TITLE_FONT, MASTHEAD_SIZE)
        run.font.color.rgb = RED
        number = title.insert_paragraph_before()
        number.alignment = WD_ALIGN_PARAGRAPH.CENTER
        set_font(number.add_run(masthead.number), BODY_FONT, BODY_SIZE)
        number.paragraph_format.space_before = Pt(16)
        number.paragraph_format.space_after = Pt(24)
        _red_rule(number)
    if addressee:
        # After the empty line that follows the title block (and its subtitle).
        after_title = [p for p in document.paragraphs]
        start = next(i for i, p in enumerate(after_title) if p._p is title._p) + 1
        blank = next(p for p in after_title[start:] if not p.text)
        line = _insert_after(blank)
        line.paragraph_format.line_spacing = Pt(28.95)
        set_font(line.add_run(addressee), BODY_FONT, BODY_SIZE)
    for table in tables or []:
        anchor = next((p for p in document.paragraphs if p.text == table.after), None)
        if anchor is None:
            raise ValueError(f"no heading {table.after!r} to put the table after")
        _add_table(document, anchor, table)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _insert_after(paragraph: Paragraph) -> Paragraph:
    new = OxmlElement("w:p")
    paragraph._p.addnext(new)
    return Paragraph(new, paragraph._parent)


# -- the 督办通知单 ----------------------------------------------------------------------------
def _task_rows(notice) -> list[list[str]]:
    rows = []
    for index, task in enumerate(sorted(notice.tasks.all(), key=lambda t: t.order), start=1):
        rows.append([str(index), f"{task.path} {task.title}".strip(),
                     _date(task.deadline) if task.deadline else (task.deadline_text or "—"),
                     f"{task.percent}%", task.get_status_display()])
    return rows


def notice_document(notice) -> tuple[OfficialDocument, Masthead, str, list[Table]]:
    tasks_heading = _heading(0, _("Matters under supervision"))
    requirements = [line.strip() for line in notice.body.splitlines() if line.strip()]
    doc = OfficialDocument(
        title=notice.title,
        sections=[
            Section(tasks_heading, []),
            Section(_heading(1, _("Requirements")), requirements),
            Section(_heading(2, _("Reply")), [
                _("Please reply in writing to %(issuer)s by %(date)s with the measures taken "
                  "and the date the work will be completed.")
                % {"issuer": notice.issuer_name, "date": _date(notice.reply_due)}]),
        ],
        signature=notice.issuer_name, dated=timezone.localdate(notice.issued_at))
    table = Table(after=tasks_heading,
                  header=[_("No."), _("Task"), _("Deadline"), _("Progress"), _("Status")],
                  rows=_task_rows(notice), widths=[1, 6, 2.4, 1.4, 1.6])
    return doc, Masthead(issuer=notice.issuer_name, number=notice.display_number), \
        f"{notice.agency.name}：", [table]


def notice_docx(notice) -> bytes:
    """The 督办通知单 of ``notice`` (tasks prefetched)."""
    doc, masthead, addressee, tables = notice_document(notice)
    return official_notice_docx(doc, masthead=masthead, addressee=addressee, tables=tables)


def reply_docx(notice, reply) -> bytes:
    """The unit's reply (办理情况回复) to ``notice``: the matters, the measures, the date."""
    tasks_heading = _heading(0, _("Matters under supervision"))
    attachments = [e.original_name for e in reply.evidence.all()]
    sections = [
        Section(tasks_heading, []),
        Section(_heading(1, _("Measures taken")),
                [line.strip() for line in reply.measures.splitlines() if line.strip()]),
        Section(_heading(2, _("Completion")), [
            _("The work will be completed by %(date)s.") % {"date": _date(reply.done_by)}]),
    ]
    if attachments:
        sections.append(Section(_heading(3, _("Attachments")), [
            f"{index}. {name}" for index, name in enumerate(attachments, start=1)]))
    doc = OfficialDocument(
        title=_("Reply on the handling of %(number)s") % {"number": notice.display_number},
        subtitle=notice.title, sections=sections, signature=notice.agency.name,
        dated=timezone.localdate(reply.replied_at))
    table = Table(after=tasks_heading,
                  header=[_("No."), _("Task"), _("Deadline"), _("Progress"), _("Status")],
                  rows=_task_rows(notice), widths=[1, 6, 2.4, 1.4, 1.6])
    return official_notice_docx(doc, addressee=f"{notice.issuer_name}：", tables=[table])


# -- 通报 -----------------------------------------------------------------------------------
def _change(change: int | None) -> str:
    if change is None:
        return "—"
    if change > 0:
        return _("up %(n)s") % {"n": change}
    if change < 0:
        return _("down %(n)s") % {"n": -change}
    return _("unchanged")


def bulletin_document(bulletin) -> tuple[OfficialDocument, Masthead, str, list[Table]]:
    """A 通报 from its (frozen) ranking and the office's wording: the overall results with the
    ranking table, the commended (red list), the criticised (black list), the requirements."""
    snapshot = bulletin.snapshot or {}
    rows = snapshot.get("rows", [])
    by_evaluation = bulletin.evaluation_id is not None
    parts = [(_("Overall results"), [bulletin.opening] if bulletin.opening else []),
             (_("Commended"), [bulletin.praise] if bulletin.praise else []),
             (_("Criticised"), [bulletin.criticism] if bulletin.criticism else []),
             (_("Next requirements"), [bulletin.requirements] if bulletin.requirements else [])]
    sections = []
    for index, (heading, paragraphs) in enumerate(
            [p for i, p in enumerate(parts) if i == 0 or p[1]]):
        sections.append(Section(_heading(index, heading), paragraphs))
    if by_evaluation:
        header = [_("Place"), _("Unit ranked"), _("Score rate"), _("Grade"), _("Since last time")]
        body = [[str(r["rank"] or "—"), r["name"],
                 "—" if r["value"] is None else f"{r['value']:.2f}%", r["grade"] or "—",
                 _change(r["change"])] for r in rows]
    else:
        header = [_("Place"), _("Unit ranked"), snapshot.get("title", ""), _("Done / expected"),
                  _("Since last time")]
        body = [[str(r["rank"] or "—"), r["name"],
                 "—" if r["value"] is None else f"{r['value']:.2f}%", r["detail"] or "—",
                 _change(r["change"])] for r in rows]
    number = bulletin_number(bulletin)
    dated = timezone.localdate(bulletin.issued_at if bulletin.number else bulletin.created_at)
    doc = OfficialDocument(title=bulletin.title, sections=sections,
                           signature=bulletin.issuer_name, dated=dated)
    table = Table(after=sections[0].heading, header=header, rows=body,
                  widths=[1.2, 5, 2, 2, 2])
    return doc, Masthead(issuer=bulletin.issuer_name, number=number), \
        _("To all units concerned:"), [table]


def bulletin_number(bulletin) -> str:
    """通报〔2026〕3号 once issued; a draft says it is one."""
    if bulletin.number:
        return _("Bulletin [%(year)s] No. %(number)s") % {"year": bulletin.year,
                                                         "number": bulletin.number}
    return _("(draft for comment)")


def bulletin_docx(bulletin) -> bytes:
    doc, masthead, addressee, tables = bulletin_document(bulletin)
    return official_notice_docx(doc, masthead=masthead, addressee=addressee, tables=tables)


# -- 工作简报 -------------------------------------------------------------------------------
def briefing_docx(briefing, *, today: date) -> bytes:
    """An issue of a plan's 工作简报 series: the progress bulletin of ``exports.bulletin`` for
    the issue's period, with the issue's number in its subtitle."""
    from shidian.core.periods import parse_period
    from shidian.reporting.selectors import plan_dashboard

    from .bulletin import bulletin_document as progress_document

    board = plan_dashboard(plan=briefing.plan, period=parse_period(briefing.period), today=today)
    doc = progress_document(board, issued=timezone.localdate(briefing.issued_at))
    doc.subtitle = _("Issue %(number)s of %(year)s · %(rest)s") % {
        "year": briefing.year, "number": briefing.number, "rest": doc.subtitle}
    return official_docx(doc)
