"""PLACEHOLDER until helper B writes this module."""
from __future__ import annotations

from .model import Document, OutlineNode, PlanDraft


def extract_reporting(doc: Document, roots: list[OutlineNode], draft: PlanDraft) -> None:
    return None
