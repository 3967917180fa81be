"""Writes of the indicators app: definitions, data entry, imports, targets and roll-up refresh.

Every write runs in one transaction: values, their history, the form's completion and the
refreshed aggregates commit together or not at all.
"""
from __future__ import annotations

import calendar
import math
import re
import statistics
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from shidian.core.errors import ErrorCode, ShidianError, not_found
from shidian.core.periods import Period, PeriodKind, parse_period
from shidian.orgs.models import Agency, Division, User
from shidian.plans.models import Plan, Task

from . import access, rollup
from .selectors import Field, data_set_fields, local_today
from .formula import parse, parse_or_one
from .models import (Aggregation, Comparator, CompleteReport, DataElement, DataSet,
                     DataSetElement, DataValue, DataValueHistory, Disaggregation,
                     DisaggregationOption, Indicator, IndicatorStatus, PeriodType, Severity,
                     Target, TargetStatus, ValidationRule, ValueType)

TRUE_WORDS = {"1", "是", "yes", "y", "true", "有"}
FALSE_WORDS = {"0", "否", "no", "n", "false", "无"}
COUNT_UNITS = {"个", "户", "人", "万元", "元", "平方米", "家", "次", "所", "名", "学时", "天", "万户"}


def _require_manager(user: User) -> None:
    if not access.can_manage(user):
        raise ShidianError(ErrorCode.FORBIDDEN, _("Only the plan office may do this."))


# -- definitions ------------------------------------------------------------------------------
def disaggregation_create(*, user: User, name: str,
                          options: Sequence[tuple[str, str]]) -> Disaggregation:
    _require_manager(user)
    with transaction.atomic():
        made = Disaggregation.objects.create(name=name)
        for order, (code, label) in enumerate(options):
            DisaggregationOption.objects.create(disaggregation=made, code=code, name=label,
                                                order=order)
    return made


def data_element_create(*, user: User, code: str, name: str,
                        value_type: str = ValueType.NUMBER,
                        aggregation: str = Aggregation.SUM,
                        disaggregation: Disaggregation | None = None,
                        unit: str = "") -> DataElement:
    _require_manager(user)
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,48}", code or ""):
        raise ShidianError(ErrorCode.INVALID,
                           _("An element code uses only letters, digits, - and _."))
    if not (name or "").strip():
        raise ShidianError(ErrorCode.INVALID, _("Give a name."))
    if value_type not in ValueType.values or aggregation not in Aggregation.values:
        raise ShidianError(ErrorCode.INVALID, _("Choose a value type and an aggregation."))
    if DataElement.objects.filter(code=code).exists():
        raise ShidianError(ErrorCode.DUPLICATE, _("An element with this code exists already."))
    return DataElement.objects.create(code=code, name=name, value_type=value_type,
                                      aggregation=aggregation, disaggregation=disaggregation,
                                      unit=unit)


def data_set_create(*, user: User, name: str, period_type: str,
                    elements: Sequence[DataElement], division: Division | None,
                    level: int | None, agencies: Iterable[Agency] = (),
                    due_days: int = 10, expiry_days: int | None = None,
                    plan: Plan | None = None) -> DataSet:
    _require_manager(user)
    if division is not None and not access.readable_code(user=user, code=division.code):
        raise not_found("division")
    if period_type not in PeriodType.values:
        raise ShidianError(ErrorCode.INVALID, _("Choose a period type."))
    if level is not None and level not in range(1, 6):
        raise ShidianError(ErrorCode.INVALID, _("Choose a reporting level."))
    if level is not None and division is not None and level < division.level:
        raise ShidianError(ErrorCode.INVALID,
                           _("The reporting level must lie below the data set's area."))
    with transaction.atomic():
        data_set = DataSet.objects.create(name=name, period_type=period_type,
                                          division=division, level=level, due_days=due_days,
                                          expiry_days=expiry_days, plan=plan)
        for order, element in enumerate(elements):
            DataSetElement.objects.create(data_set=data_set, element=element, order=order)
        data_set.agencies.set(list(agencies))
    return data_set


def validation_rule_create(*, user: User, data_set: DataSet, left: str, operator: str,
                           right: str, message: str,
                           severity: str = Severity.BLOCK) -> ValidationRule:
    _require_manager(user)
    if operator not in Comparator.values:
        raise ShidianError(ErrorCode.INVALID, _("Choose a comparator."))
    codes = set(data_set.elements.values_list("code", flat=True))
    for text in (left, right):
        unknown = parse(text).codes - codes
        if unknown:
            raise ShidianError(ErrorCode.INVALID,
                               _("The rule names elements outside the data set: %(codes)s")
                               % {"codes": ", ".join(sorted(unknown))})
    return ValidationRule.objects.create(data_set=data_set, left=left, operator=operator,
                                         right=right, message=message, severity=severity)


def _check_formula_codes(*texts: str) -> None:
    codes: set[str] = set()
    for text in texts:
        if (text or "").strip():
            codes |= parse(text).codes
    known = set(DataElement.objects.filter(code__in=codes).values_list("code", flat=True))
    unknown = codes - known
    if unknown:
        raise ShidianError(ErrorCode.INVALID, _("No data element has the code %(codes)s.")
                           % {"codes": ", ".join(sorted(unknown))})


def indicator_create(*, user: User, name: str, numerator: str, denominator: str = "",
                     factor: float = 1, decimals: int = 1, unit: str = "",
                     period_type: str = PeriodType.MONTH, missing_as_zero: bool = False,
                     plan: Plan | None = None) -> Indicator:
    _require_manager(user)
    if not (name or "").strip():
        raise ShidianError(ErrorCode.INVALID, _("Give a name."))
    if period_type not in PeriodType.values:
        raise ShidianError(ErrorCode.INVALID, _("Choose a period type."))
    parse(numerator)
    _check_formula_codes(numerator, denominator)
    with transaction.atomic():
        indicator = Indicator.objects.create(
            name=name, numerator=numerator, denominator=denominator, factor=factor,
            decimals=decimals, unit=unit, period_type=period_type,
            missing_as_zero=missing_as_zero, plan=plan, status=IndicatorStatus.ACTIVE)
        indicator_refresh(indicator=indicator)
    return indicator


def target_create(*, user: User, indicator: Indicator, value: float, deadline: date,
                  division: Division | None = None, level: int | None = None,
                  comparator: str = Comparator.GE, start: date | None = None,
                  cumulative: bool = False, plan: Plan | None = None,
                  task: Task | None = None) -> Target:
    """A target; ``task`` makes it a milestone of that task of ``plan``."""
    _require_manager(user)
    if division is not None and not access.readable_code(user=user, code=division.code):
        raise not_found("division")
    if level is not None and division is not None and level <= division.level:
        raise ShidianError(ErrorCode.INVALID,
                           _("The divisions of a target lie below its area."))
    if task is not None and (plan is None or task.plan_id != plan.pk):
        raise ShidianError(ErrorCode.INVALID,
                           _("A milestone belongs to a task of the target's own plan."),
                           {"field": "task"})
    return Target.objects.create(indicator=indicator, value=value, deadline=deadline,
                                 division=division, level=level, comparator=comparator,
                                 start=start, cumulative=cumulative, plan=plan, task=task,
                                 status=TargetStatus.CONFIRMED, created_by=user)


def target_allocate(*, user: User, target: Target,
                    shares: Mapping[str, float]) -> tuple[list[Target], list[str]]:
    """Split a target among the divisions one level below its area (an allocation table).

    Returns the shares and warnings (for instance when they do not add up to the whole)."""
    _require_manager(user)
    if not access.readable_code(user=user, code=target.division_id or ""):
        raise not_found("target")
    area = target.division
    child_level = (area.level + 1) if area else 1
    children = {d.code: d for d in Division.objects.filter(
        code__in=list(shares), level=child_level,
        **({"code__startswith": area.code} if area else {}))}
    unknown = sorted(set(shares) - set(children))
    if unknown:
        raise ShidianError(ErrorCode.INVALID,
                           _("Not a division directly below the target's area: %(codes)s")
                           % {"codes": ", ".join(unknown)})
    warnings = []
    total = sum(shares.values())
    if target.cumulative and not math.isclose(total, target.value, rel_tol=1e-9):
        warnings.append(_("The shares add up to %(total)s, the target is %(value)s.")
                        % {"total": f"{total:g}", "value": f"{target.value:g}"})
    made = []
    with transaction.atomic():
        Target.objects.filter(parent=target, division_id__in=list(children)).delete()
        for code, value in shares.items():
            made.append(Target.objects.create(
                indicator=target.indicator, plan=target.plan, division=children[code],
                comparator=target.comparator, value=value, start=target.start,
                deadline=target.deadline, cumulative=target.cumulative, parent=target,
                status=TargetStatus.CONFIRMED, created_by=user))
    return made, warnings


# -- plan indicators become targets -------------------------------------------------------------
def _deadline(text: str | None) -> date | None:
    if not text:
        return None
    match = re.fullmatch(r"(\d{4})-(\d{2})(?:-(\d{2}))?", text.strip())
    if not match:
        return None
    year, month = int(match[1]), int(match[2])
    if match[3]:
        return date(year, month, int(match[3]))
    return date(year, month, calendar.monthrange(year, month)[1])


def targets_from_plan(*, user: User, plan: Plan) -> list[Target]:
    """Turn the parser's ``plan.parsed['indicators']`` into draft indicators and targets.

    Each draft waits for the office: it confirms the formula over data elements, the scope and
    the numbers (``target_confirm``) or discards it. Running it again adds only what is new.
    """
    _require_manager(user)
    made = []
    parsed = (plan.parsed or {}).get("indicators") or []
    with transaction.atomic():
        existing = set(Target.objects.filter(plan=plan).values_list("source_key", flat=True))
        for number, item in enumerate(parsed):
            key = f"parsed:{number}"
            if key in existing or item.get("target") is None:
                continue
            try:
                value = float(item["target"])
            except (TypeError, ValueError):
                continue
            name = (item.get("name") or "").strip()[:200] or _("Indicator")
            unit = (item.get("unit") or "").strip()[:16]
            indicator = Indicator.objects.filter(name=name, plan=plan).first()
            if indicator is None:
                indicator = Indicator.objects.create(
                    name=name, unit=unit, factor=100 if unit == "%" else 1,
                    status=IndicatorStatus.DRAFT, plan=plan)
            comparator = item.get("comparator") or ">="
            if comparator not in Comparator.values:
                comparator = Comparator.GE
            made.append(Target.objects.create(
                indicator=indicator, plan=plan, division=plan.division, comparator=comparator,
                value=value, deadline=_deadline(item.get("deadline")) or plan.period_end,
                start=plan.period_start, cumulative=unit in COUNT_UNITS,
                status=TargetStatus.DRAFT, source_key=key,
                source_text=item.get("text") or "", created_by=user))
    return made


def target_confirm(*, user: User, target: Target, numerator: str, denominator: str,
                   factor: float, decimals: int, comparator: str, value: float,
                   deadline: date | None, level: int | None, cumulative: bool,
                   period_type: str = PeriodType.MONTH) -> Target:
    """The office's review of a draft: the indicator's formula and the target's numbers."""
    _require_manager(user)
    errors = []
    if not (numerator or "").strip():
        errors.append(_("Give the numerator: which data elements count."))
    if deadline is None:
        errors.append(_("Give the deadline."))
    if comparator not in Comparator.values:
        errors.append(_("Choose a comparator."))
    if level is not None and target.division is not None and level <= target.division.level:
        errors.append(_("The divisions of a target lie below its area."))
    if errors:
        raise ShidianError(ErrorCode.INVALID, errors[0], {"errors": errors})
    _check_formula_codes(numerator, denominator)
    with transaction.atomic():
        indicator = Indicator.objects.select_for_update().get(pk=target.indicator_id)
        indicator.numerator = numerator.strip()
        indicator.denominator = (denominator or "").strip()
        indicator.factor = factor
        indicator.decimals = decimals
        indicator.period_type = period_type
        indicator.status = IndicatorStatus.ACTIVE
        indicator.save(update_fields=["numerator", "denominator", "factor", "decimals",
                                      "period_type", "status"])
        target.comparator = comparator
        target.value = value
        target.deadline = deadline
        target.level = level
        target.cumulative = cumulative
        target.status = TargetStatus.CONFIRMED
        target.save(update_fields=["comparator", "value", "deadline", "level", "cumulative",
                                   "status"])
        indicator_refresh(indicator=indicator)
    return target


def target_discard(*, user: User, target: Target) -> None:
    _require_manager(user)
    target.status = TargetStatus.DISCARDED
    target.save(update_fields=["status"])


# -- data entry -------------------------------------------------------------------------------
@dataclass
class EntryResult:
    changed: int = 0
    warnings: list[str] = field(default_factory=list)


def parse_cell(element: DataElement, raw: object) -> tuple[float | None, str]:
    """``(number, text)`` for one entered cell; a ShidianError (invalid) names the reason."""
    if raw is None:
        return None, ""
    if isinstance(raw, bool):
        raw = "1" if raw else "0"
    text = str(raw).strip()
    if text == "":
        return None, ""
    kind = element.value_type
    if kind == ValueType.TEXT:
        return None, text[:2000]
    if kind == ValueType.BOOLEAN:
        word = text.lower()
        if word in TRUE_WORDS:
            return 1.0, ""
        if word in FALSE_WORDS:
            return 0.0, ""
        raise ShidianError(ErrorCode.INVALID, _("Enter 是 or 否."))
    cleaned = text.replace(",", "").replace("，", "")
    if kind == ValueType.PERCENTAGE:
        cleaned = cleaned.rstrip("%％")
    try:
        number = float(cleaned)
    except ValueError:
        raise ShidianError(ErrorCode.INVALID, _("Not a number.")) from None
    if not math.isfinite(number):
        raise ShidianError(ErrorCode.INVALID, _("Not a number."))
    if kind == ValueType.INTEGER and number != int(number):
        raise ShidianError(ErrorCode.INVALID, _("Enter a whole number."))
    if kind == ValueType.PERCENTAGE and not 0 <= number <= 100:
        raise ShidianError(ErrorCode.INVALID, _("A percentage lies between 0 and 100."))
    return number, ""


def check_entry_open(data_set: DataSet, period: Period, *, today: date | None = None) -> None:
    """Entry opens with the period and locks ``expiry_days`` after its end."""
    today = today or local_today()
    if period.kind != PeriodKind(data_set.period_type):
        raise ShidianError(ErrorCode.INVALID, _("This data set is not reported for %(period)s.")
                           % {"period": period.label})
    if period.start > today:
        raise ShidianError(ErrorCode.PERIOD_CLOSED,
                           _("%(period)s has not begun; its values cannot be entered yet.")
                           % {"period": period.label})
    if data_set.expiry_days is not None and \
            today > period.end + timedelta(days=data_set.expiry_days):
        raise ShidianError(ErrorCode.LOCKED,
                           _("Entry for %(period)s closed on %(day)s.")
                           % {"period": period.label,
                              "day": date_format(period.end + timedelta(
                                  days=data_set.expiry_days))})


def check_division_open(division: Division, period: Period) -> None:
    if not period.overlaps(division.opened_on, division.closed_on):
        raise ShidianError(ErrorCode.INVALID,
                           _("%(division)s was not open during %(period)s.")
                           % {"division": division.name, "period": period.label})


def _compare(left: float, operator: str, right: float) -> bool:
    tolerance = 1e-9 * max(1.0, abs(left), abs(right))
    return {">=": left >= right - tolerance, ">": left > right + tolerance,
            "<=": left <= right + tolerance, "<": left < right - tolerance,
            "=": abs(left - right) <= tolerance}[operator]


def rules_check(data_set: DataSet, values: Mapping[str, float | None]) -> tuple[list[str],
                                                                                list[str]]:
    """``(blocking, warning)`` messages of the data set's rules for one form's values.

    A rule whose sides cannot be computed (a value missing) is not judged."""
    blocking, warning = [], []
    for rule in data_set.validation_rules.all():
        left = parse(rule.left).evaluate(values)
        right = parse(rule.right).evaluate(values)
        if left is None or right is None or _compare(left, rule.operator, right):
            continue
        text = _("%(message)s (%(left)s %(operator)s %(right)s does not hold)") % {
            "message": rule.message, "left": f"{left:g}", "operator": rule.operator,
            "right": f"{right:g}"}
        (blocking if rule.severity == Severity.BLOCK else warning).append(text)
    return blocking, warning


OUTLIER_HISTORY = 12
OUTLIER_MIN_POINTS = 3
OUTLIER_SIGMAS = 3


def outlier_bounds(history: Sequence[float]) -> tuple[float, float] | None:
    """``mean ± 3σ`` of the division's earlier values (σ at least 10% of the mean, and 1)."""
    if len(history) < OUTLIER_MIN_POINTS:
        return None
    mean = statistics.fmean(history)
    spread = max(statistics.pstdev(history), 0.1 * abs(mean), 1.0)
    return mean - OUTLIER_SIGMAS * spread, mean + OUTLIER_SIGMAS * spread


def outliers_check(fields: Sequence[Field], division: Division, period: Period,
                   values: Mapping[str, float | None], agency: Agency | None) -> list[str]:
    warnings = []
    numeric = [f for f in fields if f.element.value_type not in (ValueType.TEXT,
                                                                 ValueType.BOOLEAN)]
    if not numeric:
        return warnings
    earlier = DataValue.objects.filter(
        element__in=[f.element for f in numeric], division=division, agency=agency,
        period_end__lt=period.start, value__isnull=False,
    ).order_by("-period_end").values_list("element__code", "option", "value")
    history: dict[str, list[float]] = {}
    for code, option, value in earlier:
        key = f"{code}.{option}" if option else code
        if len(history.setdefault(key, [])) < OUTLIER_HISTORY:
            history[key].append(value)
    for f in numeric:
        value = values.get(f.key)
        bounds = outlier_bounds(history.get(f.key, []))
        if value is None or bounds is None:
            continue
        low, high = bounds
        if not low <= value <= high:
            warnings.append(
                _("%(field)s: %(value)s is far from earlier values (expected %(low)s to "
                  "%(high)s).") % {"field": f.label, "value": f"{value:g}",
                                   "low": f"{max(low, 0):.0f}", "high": f"{high:.0f}"})
    return warnings


def _current_values(fields: Sequence[Field], division: Division, period: Period,
                    agency: Agency | None, *, lock: bool = False) -> dict[str, DataValue]:
    rows = DataValue.objects.select_for_update() if lock else DataValue.objects
    rows = rows.filter(element__in={f.element for f in fields}, division=division,
                                    period=period.id, agency=agency).select_related("element")
    return {(f"{r.element.code}.{r.option}" if r.option else r.element.code): r for r in rows}


@dataclass
class PreparedForm:
    """One form's values parsed and checked, ready to be written."""

    division: Division
    agency: Agency | None
    parsed: dict[str, tuple[float | None, str]]
    warnings: list[str]


def form_prepare(*, data_set: DataSet, fields: Sequence[Field], division: Division,
                 period: Period, raw: Mapping[str, object], agency: Agency | None,
                 check_outliers: bool = True) -> PreparedForm:
    """Parse and check one form; a ShidianError (invalid) carries every problem found."""
    by_key = {f.key: f for f in fields}
    errors: list[dict[str, str]] = []
    parsed: dict[str, tuple[float | None, str]] = {}
    for key, value in raw.items():
        if key not in by_key:
            errors.append({"field": key, "message": _("Not an element of this data set.")})
            continue
        try:
            parsed[key] = parse_cell(by_key[key].element, value)
        except ShidianError as error:
            errors.append({"field": key, "message": error.message})
    if errors:
        raise ShidianError(ErrorCode.INVALID, _("Some values cannot be saved."),
                           {"errors": errors})
    current = _current_values(fields, division, period, agency)
    merged = {key: row.value for key, row in current.items()}
    merged.update({key: number for key, (number, _text) in parsed.items()})
    blocking, warnings = rules_check(data_set, merged)
    if blocking:
        raise ShidianError(ErrorCode.INVALID, blocking[0],
                           {"errors": [{"field": "", "message": m} for m in blocking]})
    if check_outliers:
        changed = {k: v for k, v in merged.items() if k in parsed}
        warnings += outliers_check(fields, division, period, changed, agency)
    return PreparedForm(division, agency, parsed, warnings)


def _write_form(*, user: User, data_set: DataSet, fields: Sequence[Field], period: Period,
                form: PreparedForm, source: str, now: datetime,
                today: date | None = None) -> int:
    """Write one prepared form's changes with their history; mark the form complete."""
    by_key = {f.key: f for f in fields}
    current = _current_values(fields, form.division, period, form.agency, lock=True)
    changed = 0
    history = []
    for key, (number, text) in form.parsed.items():
        f = by_key[key]
        row = current.get(key)
        if row is None and number is None and not text:
            continue
        if row is not None and row.value == number and row.text == text:
            continue
        old_value, old_text = (row.value, row.text) if row else (None, "")
        if number is None and not text:
            row.delete()  # type: ignore[union-attr]
        elif row is None:
            DataValue.objects.create(element=f.element, division=form.division,
                                     period=period.id, period_start=period.start,
                                     period_end=period.end, option=f.option,
                                     agency=form.agency, value=number, text=text,
                                     updated_by=user, updated_at=now)
        else:
            row.value, row.text, row.updated_by, row.updated_at = number, text, user, now
            row.save(update_fields=["value", "text", "updated_by", "updated_at"])
        history.append(DataValueHistory(
            element_id=f.element.pk, division_id=form.division.code, period=period.id,
            option=f.option, agency_id=form.agency.pk if form.agency else None,
            old_value=old_value, new_value=number, old_text=old_text, new_text=text,
            source=source, changed_by=user, changed_at=now))
        changed += 1
    DataValueHistory.objects.bulk_create(history)
    if changed:
        period_leaf_refresh(elements=[f.element for f in fields], code=form.division.code,
                            period=period)
    due = period.end + timedelta(days=data_set.due_days)
    CompleteReport.objects.get_or_create(
        data_set=data_set, division=form.division, agency=form.agency, period=period.id,
        defaults={"submitted_at": now, "submitted_by": user,
                  "on_time": (today or timezone.localtime(now).date()) <= due})
    return changed


def values_save(*, user: User, data_set: DataSet, division: Division, period: str,
                values: Mapping[str, object], agency: Agency | None = None,
                source: str = "form", today: date | None = None) -> EntryResult:
    """Save one form (data set × division × period [× agency]) and refresh the roll-ups.

    ``values`` maps ``element`` or ``element.option`` to the entered text; an empty text
    clears the value. Everything is checked first; nothing is saved when a check blocks.
    """
    the_period = parse_period(period)
    if agency is None:
        division = access.access_division_for_entry(user=user, data_set=data_set,
                                                    code=division.code)
    else:
        agency = access.access_agency_for_entry(user=user, data_set=data_set,
                                                agency_id=agency.pk)
        division = agency.division
    check_entry_open(data_set, the_period, today=today)
    check_division_open(division, the_period)
    fields = data_set_fields(data_set)
    form = form_prepare(data_set=data_set, fields=fields, division=division,
                        period=the_period, raw=values, agency=agency)
    with transaction.atomic():
        changed = _write_form(user=user, data_set=data_set, fields=fields, period=the_period,
                              form=form, source=source, now=timezone.now(), today=today)
        if changed:
            aggregates_refresh_chain(elements=[f.element for f in fields],
                                     code=division.code, period=the_period)
    return EntryResult(changed=changed, warnings=form.warnings)


def forms_save(*, user: User, data_set: DataSet, period: Period,
               forms: Sequence[PreparedForm], source: str,
               today: date | None = None) -> int:
    """Write several prepared forms in one transaction (an Excel upload), then refresh."""
    fields = data_set_fields(data_set)
    elements = list({f.element.pk: f.element for f in fields}.values())
    now = timezone.now()
    changed = 0
    with transaction.atomic():
        touched = []
        # In code order: two uploads overlapping in divisions lock them in one order
        # (period_leaf_refresh), not in each file's, so neither waits for the other in turn.
        for form in sorted(forms, key=lambda f: (f.division.code,
                                                 f.agency.pk if f.agency else 0)):
            count = _write_form(user=user, data_set=data_set, fields=fields, period=period,
                                form=form, source=source, now=now, today=today)
            if count:
                touched.append(form.division.code)
            changed += count
        if len(touched) > CHAIN_REFRESH_LIMIT:
            for each in [period, *period.coarser()]:
                aggregates_refresh(elements=elements, period=each)
        else:
            for code in touched:
                aggregates_refresh_chain(elements=elements, code=code, period=period)
    return changed


# -- roll-up refresh ------------------------------------------------------------------------------
CHAIN_REFRESH_LIMIT = 40


def element_specs(elements: Iterable[DataElement]) -> list[rollup.ElementSpec]:
    return [rollup.ElementSpec(e.pk, e.code, e.aggregation, e.disaggregation_id is not None)
            for e in elements if e.value_type != ValueType.TEXT]


def indicator_spec(indicator: Indicator) -> rollup.IndicatorSpec | None:
    if indicator.status != IndicatorStatus.ACTIVE or not indicator.numerator.strip():
        return None
    return rollup.IndicatorSpec(indicator.pk, parse(indicator.numerator),
                                parse_or_one(indicator.denominator), indicator.factor,
                                indicator.missing_as_zero)


def _indicators_using(codes: set[str]) -> list[rollup.IndicatorSpec]:
    found = []
    for indicator in Indicator.objects.filter(status=IndicatorStatus.ACTIVE):
        spec = indicator_spec(indicator)
        if spec and (spec.numerator.codes | spec.denominator.codes) & codes:
            found.append(spec)
    return found


def _execute(statements: Iterable[str]) -> None:
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def _spec_map(specs: Iterable[rollup.IndicatorSpec]) -> dict[str, rollup.ElementSpec]:
    codes: set[str] = set()
    for spec in specs:
        codes |= spec.numerator.codes | spec.denominator.codes
    return {s.code: s for s in element_specs(DataElement.objects.filter(code__in=codes))}


# The key of the PostgreSQL advisory lock that roll-up writers take (any 64-bit number that
# no other advisory lock of the application uses).
ROLLUP_LOCK = 0x5348_4944_524F_4C4C  # "SHIDROLL"


def _rollup_lock() -> None:
    """Wait until no other transaction is writing roll-ups, then hold that right until this
    transaction ends (PostgreSQL; SQLite runs one writer at a time anyway).

    Two forms of one township's villages saved at once both recompute the township (and
    every level above) from the villages' values. Without the lock, each computes it without
    the other's uncommitted value and the later write wins: the township misses a village
    until the next rebuild. With it, the second waits here until the first has committed,
    and its statements, each reading what is committed at its start (READ COMMITTED), then
    count both. Taken just before the refresh, so only the refresh and the commit are
    serialised, not the writing and checking of the values."""
    if connection.vendor == "postgresql":
        _execute([f"SELECT pg_advisory_xact_lock({ROLLUP_LOCK})"])


def aggregates_refresh_chain(*, elements: Sequence[DataElement], code: str,
                             period: Period) -> None:
    """After one division's entry: its aggregates and its ancestors', for the period and
    every coarser period, then the indicators that use these elements at those divisions.
    Runs in the writer's transaction (``_rollup_lock``)."""
    specs = element_specs(elements)
    if not specs:
        return
    _rollup_lock()
    indicators = _indicators_using({s.code for s in specs})
    by_code = _spec_map(indicators)
    codes = rollup.chain(code)
    for each in [period, *period.coarser()]:
        _execute(rollup.chain_refresh_statements(specs, each.id, each.start, each.end, code,
                                                 dialect=connection.vendor))
        for indicator in indicators:
            _execute(rollup.indicator_statements(indicator, by_code, each.id, each.start,
                                                 each.end, codes=codes,
                                                 dialect=connection.vendor))


# SQLite settings of a rebuild, restored after it: page caches of 256 MB instead of 2 MB for
# the database and for the temporary tables, and the database file read through mmap.
# (temp_store cannot change inside a transaction once temporary tables were used, nor can
# synchronous or journal_mode; the temporary schema's cache keeps those tables in memory.)
_SQLITE_REBUILD = {"cache_size": -262144, "temp.cache_size": -262144, "mmap_size": 1 << 33}


@contextmanager
def _rebuild_settings() -> Iterator[None]:
    """Session settings of a full rebuild, which groups millions of rows and so may use more
    memory than a page request; inside the rebuild's transaction only."""
    if connection.vendor == "postgresql":
        # JIT compiled each big statement's expressions in 0.1–0.7 s, more than it saved on
        # these group-bys (15 M values: ~1.5 s slower in all with it). The temporary tables
        # (the leaf: 1.2 M rows) get 256 MB of local buffers instead of 8 MB, which PostgreSQL
        # honours only before a session's first temporary table (later, the SET does nothing).
        _execute(["SET LOCAL work_mem = '256MB'", "SET LOCAL jit = off",
                  "SET LOCAL temp_buffers = '256MB'"])
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        saved = {}
        for name in _SQLITE_REBUILD:
            cursor.execute(f"PRAGMA {name}")
            row = cursor.fetchone()
            if row is not None:  # an in-memory database has no mmap_size
                saved[name] = row[0]
        try:
            for name in saved:
                cursor.execute(f"PRAGMA {name} = {int(_SQLITE_REBUILD[name])}")
            yield
        finally:
            for name, value in saved.items():
                cursor.execute(f"PRAGMA {name} = {int(value)}")


def aggregates_refresh(*, elements: Sequence[DataElement], period: Period) -> None:
    """Rebuild every aggregate of ``elements`` for ``period`` and the indicators using them.

    A period of ``rollup.LEAF_KINDS`` (the year) reads its stored leaf (``PeriodLeaf``, one
    row per division and element, kept at entry) instead of every value entered in it."""
    specs = element_specs(elements)
    indicators = _indicators_using({s.code for s in specs})
    by_code = _spec_map(indicators)
    with transaction.atomic(), _rebuild_settings():
        _rollup_lock()
        _execute(rollup.rebuild_statements(specs, indicators, by_code, period.id, period.start,
                                           period.end, dialect=connection.vendor,
                                           stored=period.kind in rollup.LEAF_KINDS))


# -- the stored leaf of the longer periods (PeriodLeaf) -------------------------------------------
def period_leaf_refresh(*, elements: Iterable[DataElement], code: str, period: Period) -> None:
    """After values of ``period`` were written at division ``code``: recompute that
    division's stored leaf rows of ``elements`` for every kept period holding ``period``,
    from its values (one division's rows: a few index pages). Runs in the writer's
    transaction; ``_write_form``, the one writer of values, calls it.

    Two forms of one division (two agencies there) may be written at once on PostgreSQL:
    the division's row is locked first (``FOR NO KEY UPDATE``, which the values' foreign-key
    checks do not wait for), so the second recomputes after the first committed, from
    both forms' values, instead of inserting beside it. SQLite has one writer at a time."""
    specs = element_specs(elements)
    if not specs:
        return
    list(Division.objects.select_for_update(no_key=True).filter(code=code)
         .values_list("code", flat=True))
    for each in rollup.leaf_periods(period):
        _execute(rollup.period_leaf_statements(specs, each.id, each.start, each.end, code=code,
                                               dialect=connection.vendor))


def period_leaf_fill(*, periods: Iterable[Period] | None = None,
                     elements: Iterable[DataElement] | None = None) -> list[Period]:
    """Recompute the stored leaf of ``periods`` (by default every kept period that holds
    values) for ``elements`` (by default every element) at every division, from the values:
    for a bulk load that wrote values past the entry services, or a repair. Returns the
    periods filled."""
    if elements is None:
        elements = DataElement.objects.all()
    specs = element_specs(elements)
    if periods is None:
        found = {p.id: p for value in DataValue.objects.values_list("period", flat=True)
                 .distinct() for p in rollup.leaf_periods(parse_period(value))}
        periods = [found[key] for key in sorted(found)]
    periods = [p for p in periods if p.kind in rollup.LEAF_KINDS]
    with transaction.atomic(), _rebuild_settings():
        for each in periods:
            _execute(rollup.period_leaf_statements(specs, each.id, each.start, each.end,
                                                   dialect=connection.vendor))
    return periods


def indicator_refresh(*, indicator: Indicator) -> None:
    """Compute an indicator's values for every period its elements have aggregates for."""
    from .models import AggregateValue, IndicatorValue

    spec = indicator_spec(indicator)
    if spec is None:
        IndicatorValue.objects.filter(indicator_id=indicator.pk).delete()
        return
    by_code = _spec_map([spec])
    ids = [s.id for s in by_code.values()]
    periods = AggregateValue.objects.filter(element_id__in=ids).values_list(
        "period", flat=True).distinct()
    with transaction.atomic():
        IndicatorValue.objects.filter(indicator_id=indicator.pk).delete()
        for period in sorted(periods):
            each = parse_period(period)
            _execute(rollup.indicator_statements(spec, by_code, each.id, each.start, each.end,
                                                 dialect=connection.vendor))


# -- figures the case engine already knows (一表通: entered once, counted everywhere) ------------
CASE_FIGURES = ("registered", "approved", "started", "finished", "accepted", "completed",
                "paid_amount", "entitled_amount")


def case_figures_pull(*, user: User, data_set: DataSet, programme: object, period: str,
                      figures: Mapping[str, str], area_code: str = "") -> int:
    """Fill the data set's elements from a case programme's progress (households registered,
    started, finished, paid …) at each reporting division the user enters for, as of the
    period's end; returns the number of values changed. ``figures`` maps an element code to
    a figure of ``shidian.cases.selectors.case_progress``."""
    from shidian.cases.selectors import case_progress

    the_period = parse_period(period)
    check_entry_open(data_set, the_period)
    if data_set.level is None:
        raise ShidianError(ErrorCode.INVALID, _("This data set is not reported by divisions."))
    fields = {f.key: f for f in data_set_fields(data_set)}
    unknown = [k for k, v in figures.items() if k not in fields or v not in CASE_FIGURES]
    if unknown:
        raise ShidianError(ErrorCode.INVALID, _("Not an element of this data set.")
                           + " " + ", ".join(sorted(unknown)))
    allowed = {d.code: d for d in access.divisions_for_entry(
        user=user, data_set=data_set).filter(code__startswith=area_code)}
    scope = area_code or (user.division_id or "")
    progress = case_progress(programme=programme, level=data_set.level,  # type: ignore[arg-type]
                             division=scope, as_of=the_period.end)
    forms = []
    for row in progress:
        division = allowed.get(row.division)
        if division is None:
            continue
        raw = {key: str(getattr(row, figure)) for key, figure in figures.items()}
        forms.append(form_prepare(data_set=data_set, fields=list(fields.values()),
                                  division=division, period=the_period, raw=raw, agency=None,
                                  check_outliers=False))
    return forms_save(user=user, data_set=data_set, period=the_period, forms=forms,
                      source="cases")
