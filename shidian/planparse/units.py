"""PLACEHOLDER until helper A writes this module."""
from __future__ import annotations

from .model import Document, PlanDraft


def build_unit_index(doc: Document, draft: PlanDraft) -> dict[str, list[str]]:
    return {}
