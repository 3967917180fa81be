"""PLACEHOLDER until helper C writes this module."""
from __future__ import annotations

from .model import Document, Finding, OutlineNode, PlanDraft


def find_inconsistencies(doc: Document, roots: list[OutlineNode], draft: PlanDraft) -> list[Finding]:
    return []
