"""The pipeline: each step fills its part of the draft, in an order where later steps may read
what earlier ones found (deadlines need the phases; findings need everything)."""
from __future__ import annotations

from pathlib import Path

from . import duties, findings, header, indicators, organization, outline, rules, schedule, tasks
from . import units
from .model import Document, PlanDraft
from .readers import read_file


def parse_text(text: str, *, name: str = "") -> PlanDraft:
    doc = Document.from_text(name, text)
    roots = outline.build_outline(doc)
    draft = PlanDraft(id=name)
    header.describe(doc, roots, draft)
    tasks.extract_tasks(doc, roots, draft)
    schedule.extract_schedule(doc, roots, draft)
    indicators.extract_goals_and_indicators(doc, roots, draft)
    duties.extract_reporting(doc, roots, draft)
    organization.extract_organization(doc, roots, draft)
    rules.extract_rules(doc, roots, draft)
    draft.unit_index = units.build_unit_index(doc, draft)
    draft.findings = findings.find_inconsistencies(doc, roots, draft)
    return draft


def parse_file(path: str | Path) -> PlanDraft:
    """Read a .txt/.docx/.html/.pdf file and parse it; raises ``ReadError`` if unreadable."""
    path = Path(path)
    return parse_text(read_file(path), name=path.stem)
