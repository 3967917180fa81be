"""What the relation sections of a case type (``parties``, ``agreements``, ``schedule``,
``assessments``, ``ownership``, ``funds``, ``report``) have in common: reading an
actor or a label from a section, the errors of their services, and the problems they add to a
transition (an agreement to sign first, a schedule to finish, scores to give)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.utils import timezone

from shidian.core.errors import ErrorCode, ShidianError

from .definitions import E_REFERENCE, E_SHAPE, Actor, CaseTypeDef, Label, TransitionDef, _label

REASON_FORBIDDEN = "forbidden"
REASON_INVALID = "invalid"
REASON_LIMIT = "limit"
REASON_PARTIES = "parties"
REASON_TRANSFER = "transfer"
REASON_SITE = "site"
REASON_DUPLICATE = "duplicate"


def error(code: ErrorCode, reason: str, message: str, **extra: Any) -> ShidianError:
    return ShidianError(code, message, {"reason": reason, **extra})


def today_or(today: dt.date | None) -> dt.date:
    return today or timezone.localdate()


def label_of(raw: Any, fallback: str) -> Label:
    return _label(raw, fallback)


def read_actor(loader: Any, where: str, raw: Any) -> Actor | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        loader.problem(E_SHAPE, where, "an actor is {roles, levels}")
        return None
    return loader.actor(where, raw)


def read_mapping(loader: Any, where: str, raw: Any) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        loader.problem(E_SHAPE, where, "must be a mapping")
        return {}
    return raw


def read_transitions(loader: Any, where: str, raw: Any, context: Mapping[str, Any]
                     ) -> tuple[str, ...]:
    keys = tuple(str(k) for k in (raw if isinstance(raw, list | tuple) else
                                  [raw] if raw else []))
    for key in keys:
        if key not in context["transitions"]:
            loader.problem(E_REFERENCE, where, f"unknown transition {key!r}")
    return keys


def labels(loader: Any, where: str, raw: Any) -> dict[str, Label]:
    """``{key: label}`` from a mapping of keys to labels."""
    return {str(k): _label(v, str(k)) for k, v in read_mapping(loader, where, raw).items()}


def transition_problems(case_type: CaseTypeDef, case: Any, transition: TransitionDef,
                        env: Mapping[str, Any]) -> list[str]:
    """What the relation sections require before ``transition`` and the case lacks."""
    if not case_type.sections or not case.pk:
        return []
    problems: list[str] = []
    if "agreements" in case_type.sections:
        from . import parties

        problems += parties.agreement_problems(case_type, case, transition)
    if "schedule" in case_type.sections or "assessments" in case_type.sections:
        from . import schedules

        problems += schedules.schedule_problems(case_type, case, transition, env)
    return problems
