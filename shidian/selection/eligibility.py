"""Eligibility, pure: each condition of a call judged for one application.

A computed condition checks the figure the applicant gives with the condition's rule, written
in the case engine's expression language (``youth_members >= 30``; parsed, never ``eval``-ed).
A declared condition passes when the applicant declares it and, if it asks for one, attaches
a document.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from shidian.cases import expressions

FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,39}$")


@dataclass(frozen=True)
class Verdict:
    condition_id: int
    passed: bool | None  # None: not answered yet
    reason: str = ""     # "missing", "rule", "declaration", "document"


def rule_problem(rule: str, field_name: str) -> str | None:
    """Why a computed condition's rule cannot be used, or None when it is fine."""
    if not FIELD_NAME.match(field_name or "") or field_name in expressions.KEYWORDS:
        return "field"
    try:
        names, calls = expressions.unknown_names(rule, [field_name])
    except expressions.ExpressionError:
        return "syntax"
    if names or calls:
        return "names"
    return None


def judge_computed(*, condition_id: int, rule: str, field_name: str,
                   value: Decimal | None) -> Verdict:
    if value is None:
        return Verdict(condition_id, None, "missing")
    try:
        result = expressions.evaluate(rule, {field_name: expressions.to_value(value)})
    except expressions.EvaluationError:
        return Verdict(condition_id, False, "rule")
    return Verdict(condition_id, bool(result), "" if result else "rule")


def judge_declared(*, condition_id: int, declared: bool, needs_document: bool,
                   has_document: bool) -> Verdict:
    if not declared:
        return Verdict(condition_id, None, "declaration")
    if needs_document and not has_document:
        return Verdict(condition_id, False, "document")
    return Verdict(condition_id, True)
