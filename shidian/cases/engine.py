"""The pure part of the case engine: field values, rules, guards and entitlements.

Nothing here touches the database; ``services`` and ``selectors`` call these functions with a
case type definition and plain values, and the pack tests call them with scenario data.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from shidian.core import crypto
from shidian.core.errors import ShidianError

from . import expressions
from .definitions import (
    E_EXAMPLE,
    CaseTypeDef,
    FieldDef,
    GuardDef,
    Label,
    PackProblem,
    RuleDef,
    TableDef,
    TransitionDef,
)

_DATE_PATTERNS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$"),
)
_SPLIT = re.compile(r"[、,，;；/\s]+")
_TRUE = {"1", "true", "yes", "y", "是", "有", "√", "合格"}
_FALSE = {"0", "false", "no", "n", "否", "无", "×", "不合格", ""}
CENT = Decimal("0.01")


class FieldError(ValueError):
    """A value that does not fit its field; ``message`` is shown to the user."""

    def __init__(self, message: str, reason: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.reason = reason


# --- field values -----------------------------------------------------------------------------

def parse_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            try:
                return dt.date(*(int(g) for g in match.groups()))
            except ValueError:
                break
    raise FieldError(_("%(value)s is not a date (write it as 2016-05-03).") % {"value": text})


def _choice_key(f: FieldDef, value: Any, choices: Iterable[Any] | None = None) -> str:
    text = str(value).strip()
    for choice in choices if choices is not None else f.choices:
        if text in (choice.key, choice.label.zh, choice.label.en):
            return choice.key
    raise FieldError(_("%(value)s is not one of the choices of %(field)s.")
                     % {"value": text, "field": f.label})


def member_clean(f: FieldDef, raw: Any, *, today: dt.date | None = None) -> dict[str, Any]:
    """One household member: name, relation, ID number (validated), birth date from it."""
    if not isinstance(raw, Mapping):
        raise FieldError(_("A household member needs a name, relation and ID number."))
    name = str(raw.get("name") or "").strip()
    if not name:
        raise FieldError(_("A household member has no name."))
    relation = raw.get("relation") or "other"
    relation = _choice_key(f, relation, f.relations) if f.relations else str(relation)
    try:
        checked = crypto.id_number_check(str(raw.get("id_number") or ""), today=today)
    except ShidianError as exc:
        raise FieldError(_("Member %(name)s: %(problem)s") % {"name": name,
                                                               "problem": exc.message},
                         exc.extra.get("reason", "id")) from None
    return {"name": name, "relation": relation, "id_number": checked.number,
            "birth_date": checked.birth_date}


def field_clean(f: FieldDef, value: Any, *, today: dt.date | None = None) -> Any:
    """The stored form of ``value`` for field ``f`` (None when empty); raises FieldError."""
    if value is None or (isinstance(value, str) and not value.strip()) or (
            isinstance(value, list | dict) and not value and f.type not in ("members",)):
        if f.required:
            raise FieldError(_("%(field)s is required.") % {"field": f.label}, "required")
        return [] if f.type in ("members", "multichoice") else None
    kind = f.type
    if kind == "text":
        text = str(value).strip()
        if len(text) > f.max_length:
            raise FieldError(_("%(field)s is longer than %(n)s characters.")
                             % {"field": f.label, "n": f.max_length})
        return text
    if kind in ("integer", "decimal"):
        try:
            number = Decimal(str(value).strip().replace(",", ""))
        except InvalidOperation:
            raise FieldError(_("%(field)s must be a number.") % {"field": f.label}) from None
        if not number.is_finite():
            raise FieldError(_("%(field)s must be a number.") % {"field": f.label})
        if kind == "integer" and number != number.to_integral_value():
            raise FieldError(_("%(field)s must be a whole number.") % {"field": f.label})
        if f.minimum is not None and number < f.minimum:
            raise FieldError(_("%(field)s must be at least %(min)s.")
                             % {"field": f.label, "min": f.minimum})
        if f.maximum is not None and number > f.maximum:
            raise FieldError(_("%(field)s must be at most %(max)s.")
                             % {"field": f.label, "max": f.maximum})
        if kind == "integer":
            return int(number)
        return format(number.normalize(), "f")  # 40 → "40", 40.50 → "40.5", never "4E+1"
    if kind == "date":
        return parse_date(value).isoformat()
    if kind == "boolean":
        text = str(value).strip().lower()
        if isinstance(value, bool):
            return value
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise FieldError(_("%(field)s must be yes or no.") % {"field": f.label})
    if kind == "choice":
        return _choice_key(f, value)
    if kind == "multichoice":
        items = value if isinstance(value, list | tuple) else _SPLIT.split(str(value))
        keys = [_choice_key(f, item) for item in items if str(item).strip()]
        if f.required and not keys:
            raise FieldError(_("%(field)s is required.") % {"field": f.label}, "required")
        return sorted(set(keys), key=[c.key for c in f.choices].index)
    if kind == "id_number":
        try:
            return crypto.id_number_check(str(value), today=today).number
        except ShidianError as exc:
            raise FieldError(exc.message, exc.extra.get("reason", "id")) from None
    if kind == "account":
        account = crypto.normalize_account(str(value))
        if not account.isdigit() or not 10 <= len(account) <= 30:
            raise FieldError(_("%(field)s must be 10 to 30 digits.") % {"field": f.label})
        return account
    if kind == "division":
        code = re.sub(r"\D", "", str(value))
        if f.level == 5 and len(code) != 12:
            raise FieldError(_("A village code has 12 digits."), "division")
        return code.rstrip("0") if f.level != 5 and len(code) == 12 else code
    if kind == "members":
        if not isinstance(value, list | tuple):
            raise FieldError(_("%(field)s must be a list.") % {"field": f.label})
        members = [member_clean(f, item, today=today) for item in value]
        numbers = [m["id_number"] for m in members]
        if len(set(numbers)) != len(numbers):
            raise FieldError(_("The same ID number is listed twice among the members."),
                             "member_twice")
        return members
    if kind == "checklist":
        if not isinstance(value, Mapping):
            raise FieldError(_("%(field)s must list its items.") % {"field": f.label})
        keys = {c.key for c in f.choices}
        out = {}
        for item, result in value.items():
            if item not in keys:
                raise FieldError(_("%(item)s is not an item of %(field)s.")
                                 % {"item": item, "field": f.label})
            result = result if isinstance(result, Mapping) else {"ok": result}
            entry: dict[str, Any] = {"ok": field_clean(
                _BOOL, result.get("ok")) is True}
            if result.get("date"):
                entry["date"] = parse_date(result["date"]).isoformat()
            if result.get("note"):
                entry["note"] = str(result["note"]).strip()[:500]
            out[item] = entry
        return out
    raise FieldError(f"unknown field type {kind}")


_BOOL = FieldDef(key="ok", type="boolean", label=Label("ok"))


def values_clean(case_type: CaseTypeDef, raw: Mapping[str, Any], *, only: Iterable[str] | None
                 = None, today: dt.date | None = None) -> tuple[dict[str, Any], dict[str, str]]:
    """Clean the given fields (all, or ``only``); values and errors by field key."""
    keys = list(only) if only is not None else [f.key for f in case_type.fields]
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for key in keys:
        f = case_type.field(key)
        try:
            values[key] = field_clean(f, raw.get(key), today=today)
        except FieldError as exc:
            errors[key] = exc.message
    return values, errors


# --- rules ------------------------------------------------------------------------------------

def rule_env(case_type: CaseTypeDef, values: Mapping[str, Any], *,
             params: Mapping[str, Any] | None = None, table: TableDef | None = None,
             today: dt.date | None = None) -> dict[str, Any]:
    """The names a rule may use: fields (numbers as Decimal), computed values, parameters."""
    env: dict[str, Any] = {}
    for f in case_type.fields:
        value = values.get(f.key)
        if f.type in ("integer", "decimal") and value is not None:
            value = Decimal(str(value))
        elif f.type == "members":
            value = list(value or [])
        elif f.type == "multichoice":
            value = list(value or [])
        env[f.key] = value
    members = values.get(case_type.members) if case_type.members else None
    env["household_size"] = Decimal(1 + len(members or []))
    env["today"] = today or dt.date.today()
    if table is not None:
        env.update(table.params)
    for key, value in (params or {}).items():
        env[key] = expressions.to_value(Decimal(str(value)) if isinstance(value, int | float | str)
                                        and _is_number(value) else value)
    env["__functions__"] = {**expressions.FUNCTIONS, **case_type.functions}
    for key, text in case_type.computed.items():
        try:
            env[key] = expressions.evaluate(text, env)
        except expressions.EvaluationError:
            env[key] = None
    return env


def _is_number(value: Any) -> bool:
    try:
        Decimal(str(value))
    except InvalidOperation:
        return False
    return True


@dataclass(frozen=True)
class RuleResult:
    rule: str
    ok: bool
    message: str
    severity: str = "error"
    missing: tuple[str, ...] = ()
    value: Any = None


def rule_evaluate(case_type: CaseTypeDef, rule: RuleDef, env: Mapping[str, Any]) -> Any:
    if rule.function:
        return case_type.functions[rule.function](env)
    return expressions.evaluate(rule.expr, env)


def _missing_message(case_type: CaseTypeDef, names: Iterable[str]) -> str:
    labels = []
    for name in names:
        try:
            labels.append(str(case_type.field(name).label))
        except KeyError:
            labels.append(name)
    return _("Fill in first: %(fields)s.") % {"fields": "、".join(labels)}


def rule_check(case_type: CaseTypeDef, rule: RuleDef, env: Mapping[str, Any]) -> RuleResult:
    try:
        value = rule_evaluate(case_type, rule, env)
    except expressions.MissingValue as exc:
        return RuleResult(rule.key, False, _missing_message(case_type, exc.names),
                          rule.severity, exc.names)
    except expressions.EvaluationError as exc:
        return RuleResult(rule.key, False, str(exc), rule.severity)
    ok = bool(value)
    message = "" if ok else str(rule.message or rule.label)
    return RuleResult(rule.key, ok, message, rule.severity, value=value)


def guards_check(case_type: CaseTypeDef, guards: Iterable[GuardDef],
                 env: Mapping[str, Any]) -> list[RuleResult]:
    """Every guard's result, failures and warnings included (the page shows them all)."""
    results = []
    for guard in guards:
        if guard.rule:
            rule = case_type.rule(guard.rule)
            result = rule_check(case_type, rule, env)
            severity = guard.severity or rule.severity
            message = result.message
            if not result.ok and not result.missing and guard.message.zh:
                message = str(guard.message)
            results.append(RuleResult(result.rule, result.ok, message, severity,
                                      result.missing, result.value))
            continue
        try:
            ok = bool(expressions.evaluate(guard.expr, env))
            results.append(RuleResult(guard.expr, ok, "" if ok else str(guard.message),
                                      guard.severity))
        except expressions.MissingValue as exc:
            results.append(RuleResult(guard.expr, False, _missing_message(case_type, exc.names),
                                      guard.severity, exc.names))
        except expressions.EvaluationError as exc:
            results.append(RuleResult(guard.expr, False, str(exc), guard.severity))
    return results


def transition_guards(case_type: CaseTypeDef, transition: TransitionDef,
                      env: Mapping[str, Any]) -> list[RuleResult]:
    return guards_check(case_type, transition.guards, env)


# --- entitlements -----------------------------------------------------------------------------

@dataclass(frozen=True)
class EntitlementLine:
    label: str
    amount: Decimal


@dataclass(frozen=True)
class Entitlement:
    table: str
    base: EntitlementLine | None
    addons: tuple[EntitlementLine, ...] = ()
    minimum: bool = False
    missing: tuple[str, ...] = field(default_factory=tuple)

    @property
    def total(self) -> Decimal:
        base = self.base.amount if self.base else Decimal(0)
        return (base + sum((a.amount for a in self.addons), Decimal(0))).quantize(CENT)

    @property
    def lines(self) -> list[EntitlementLine]:
        return ([self.base] if self.base else []) + list(self.addons)


def _row_amount(row: Any, env: Mapping[str, Any]) -> Decimal:
    value = expressions.evaluate(row.amount, env)
    if value is None:
        raise expressions.MissingValue(expressions.parse(row.amount).names())
    return Decimal(str(value))


def entitlement_compute(case_type: CaseTypeDef, table: TableDef, values: Mapping[str, Any], *,
                        params: Mapping[str, Any] | None = None) -> Entitlement:
    """The subsidy by ``table``: the base row (highest of those that apply, 就高不就低, or the
    first), plus every add-on that applies (政策叠加)."""
    env = rule_env(case_type, values, params=params, table=table)
    matching: list[EntitlementLine] = []
    missing: set[str] = set()
    for row in table.rows:
        try:
            if expressions.evaluate(row.when, env):
                matching.append(EntitlementLine(str(row.label), _row_amount(row, env)))
        except expressions.MissingValue as exc:
            missing |= set(exc.names)
        if matching and table.hit == "first":
            break
    base = max(matching, key=lambda line: line.amount) if matching else None
    addons = []
    for row in table.addons:
        try:
            if expressions.evaluate(row.when, env):
                addons.append(EntitlementLine(str(row.label), _row_amount(row, env)))
        except expressions.MissingValue as exc:
            missing |= set(exc.names)
    return Entitlement(table=table.key, base=base, addons=tuple(addons), minimum=table.minimum,
                       missing=tuple(sorted(missing)))


def tranche_amounts(table: TableDef, total: Decimal) -> list[tuple[Any, Decimal]]:
    """The amount of each tranche; the last takes the rounding remainder."""
    out = []
    left = total
    for i, tranche in enumerate(table.tranches):
        if i == len(table.tranches) - 1:
            amount = left
        else:
            amount = (total * tranche.share).quantize(CENT, rounding=ROUND_HALF_UP)
            left -= amount
        out.append((tranche, amount))
    return out


# --- shipped examples -------------------------------------------------------------------------

def example_values(case_type: CaseTypeDef, given: Mapping[str, Any]) -> dict[str, Any]:
    """Scenario/example input in its written form → cleaned values (members need no IDs)."""
    values: dict[str, Any] = {}
    for f in case_type.fields:
        if f.key not in given:
            continue
        raw = given[f.key]
        if f.type == "members" and isinstance(raw, int):
            values[f.key] = [{"name": f"m{i}", "relation": "other"} for i in range(raw)]
            continue
        if f.type == "members":
            values[f.key] = list(raw)
            continue
        try:
            values[f.key] = field_clean(f, raw)
        except FieldError:
            values[f.key] = raw
    return values


def _expect_matches(value: Any, expect: Any) -> bool:
    if isinstance(expect, bool) or isinstance(value, bool):
        return bool(value) is expect if isinstance(expect, bool) else value == expect
    try:
        return Decimal(str(value)) == Decimal(str(expect))
    except InvalidOperation:
        return value == expect


def example_problems(case_type: CaseTypeDef) -> list[PackProblem]:
    """Run every example shipped with the rules and tables; a wrong result is packs.E005."""
    problems = []
    for rule in case_type.rules:
        if rule.expr:
            try:
                expressions.parse(rule.expr)
            except expressions.ExpressionError:
                continue  # reported as packs.E004 by the loader
        if rule.function and rule.function not in case_type.functions:
            continue  # reported as packs.E002
        for i, example in enumerate(rule.examples):
            values = example_values(case_type, example.given)
            params = {k: v for k, v in example.given.items()
                      if not _is_field(case_type, k)}
            env = rule_env(case_type, values, params=params)
            try:
                value = rule_evaluate(case_type, rule, env)
            except (expressions.EvaluationError, KeyError) as exc:
                value = f"error: {exc}"
            if not _expect_matches(value, example.expect):
                problems.append(PackProblem(
                    E_EXAMPLE, case_type.pack, f"rules.{rule.key}.examples[{i}]",
                    f"expected {example.expect!r}, got {value!r} for {dict(example.given)}"))
    for table in case_type.tables:
        for i, example in enumerate(table.examples):
            values = example_values(case_type, example.given)
            params = {k: v for k, v in example.given.items() if not _is_field(case_type, k)}
            try:
                result: Any = entitlement_compute(case_type, table, values, params=params).total
            except (expressions.ExpressionError, expressions.EvaluationError) as exc:
                result = f"error: {exc}"
            if not _expect_matches(result, example.expect):
                problems.append(PackProblem(
                    E_EXAMPLE, case_type.pack, f"tables/{table.key}.examples[{i}]",
                    f"expected {example.expect!r}, got {result} for {dict(example.given)}"))
    return problems


def _is_field(case_type: CaseTypeDef, key: str) -> bool:
    try:
        case_type.field(key)
    except KeyError:
        return False
    return True
