"""The escalation ladder (提醒 → 催办 → 督办) as date arithmetic on the official calendar.

For something due on ``due`` (a task's deadline, a period's report due date) and a plan's rule:

* **remind** from the ``remind_days``-th working day before ``due`` up to ``due`` itself
  (remind 3 working days before a Friday deadline: from Tuesday);
* **urge** (催办) the day after ``due``, while it is not done;
* **escalate** once ``escalate_days`` more working days have run out after ``due`` (the due day
  not counted, as for every time limit): the unit's leaders are told and the office is proposed
  a 督办 notice.

Working days are the State Council's (``shidian.core.workdays``): holidays do not count, the
adjusted weekend days (调休) do. The lights follow the stage: green while on schedule (reminders
included), yellow once 催办 starts, red once escalated.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, timedelta

from shidian.core.workdays import DayKind, deadline_after, is_workday
from shidian.plans.models import Plan

from .models import OversightRule


class Stage(enum.StrEnum):
    NONE = "none"
    REMIND = "remind"
    URGE = "urge"
    ESCALATE = "escalate"


class Light(enum.StrEnum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


LIGHT_OF_STAGE = {Stage.NONE: Light.GREEN, Stage.REMIND: Light.GREEN, Stage.URGE: Light.YELLOW,
                  Stage.ESCALATE: Light.RED}
LIGHT_ORDER = {Light.GREEN: 0, Light.YELLOW: 1, Light.RED: 2}


@dataclass(frozen=True)
class LadderRule:
    """The plain facts of a plan's rule, detached from the database row."""

    remind_days: int = 3
    escalate_days: int = 5
    reply_days: int = 5
    min_onsite_inspections: int = 0
    is_active: bool = True
    send_email: bool = True


DEFAULT_RULE = LadderRule()


def rule_of(plan: Plan) -> LadderRule:
    """The plan's saved rule, or the defaults when its office has not set one.

    A rule loaded with the plan (``select_related``) is used as is; an absence remembered by a
    plan object is not trusted (the rule may have been saved since), so it is looked up.
    """
    row = plan._state.fields_cache.get("oversight_rule")
    if not isinstance(row, OversightRule):
        row = OversightRule.objects.filter(plan_id=plan.pk).first()
    if row is None:
        return DEFAULT_RULE
    return LadderRule(remind_days=row.remind_days, escalate_days=row.escalate_days,
                      reply_days=row.reply_days,
                      min_onsite_inspections=row.min_onsite_inspections,
                      is_active=row.is_active, send_email=row.send_email)


def workdays_before(day: date, n: int) -> date:
    """The ``n``-th working day before ``day`` (``day`` not counted); ``day`` itself for 0."""
    if n < 0:
        raise ValueError("n must not be negative")
    while n:
        day -= timedelta(days=1)
        if is_workday(day):
            n -= 1
    return day


def remind_from(due: date, rule: LadderRule) -> date:
    return workdays_before(due, rule.remind_days)


def escalate_after(due: date, rule: LadderRule) -> date:
    """The last day of 催办: from the next day on, the matter is escalated."""
    return deadline_after(due, rule.escalate_days, DayKind.WORKING)


def stage_on(due: date, today: date, rule: LadderRule) -> Stage:
    """Where something due on ``due`` and not done stands on ``today``."""
    if today > due:
        return Stage.ESCALATE if today > escalate_after(due, rule) else Stage.URGE
    # Far from due: no calendar lookup (a deadline years ahead may lie past the calendar).
    if (due - today).days > 3 * rule.remind_days + 21:
        return Stage.NONE
    return Stage.REMIND if today >= remind_from(due, rule) else Stage.NONE


def light_of(stage: Stage) -> Light:
    return LIGHT_OF_STAGE[stage]


def worst(lights) -> Light:
    """The worst of several lights (green when there are none)."""
    found = Light.GREEN
    for light in lights:
        if LIGHT_ORDER[light] > LIGHT_ORDER[found]:
            found = light
    return found
