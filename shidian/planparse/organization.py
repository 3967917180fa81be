"""PLACEHOLDER until helper C writes this module."""
from __future__ import annotations

from .model import Document, OutlineNode, PlanDraft


def extract_organization(doc: Document, roots: list[OutlineNode], draft: PlanDraft) -> None:
    return None
