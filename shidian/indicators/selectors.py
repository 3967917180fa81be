"""Reads of the indicators app: entry forms, completeness, indicator values and attainment.

Dashboards read the precomputed ``AggregateValue`` / ``IndicatorValue`` rows (one query per
table for a drill-down), never raw data values.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Count, Q
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from shidian.core.periods import Period, PeriodKind, period_containing, periods_between
from shidian.orgs.models import CODE_LENGTHS, Agency, Division

from .models import (CompleteReport, Comparator, DataElement, DataSet, DataValue,
                     DataValueHistory, DisaggregationOption, Indicator, IndicatorValue, Target,
                     TargetStatus)
from .rollup import parent_of

COUNTRY = ""


def local_today() -> date:
    return timezone.localdate()


@dataclass(frozen=True)
class Field:
    """One input of a form: an element, or one option of a disaggregated element."""

    element: DataElement
    option: str = ""
    option_name: str = ""

    @property
    def key(self) -> str:
        return f"{self.element.code}.{self.option}" if self.option else self.element.code

    @property
    def label(self) -> str:
        if self.option_name:
            return f"{self.element.name}（{self.option_name}）"
        return self.element.name


def data_set_fields(data_set: DataSet) -> list[Field]:
    fields = []
    members = data_set.members.select_related("element", "element__disaggregation")
    options: dict[int, list[DisaggregationOption]] = {}
    for option in DisaggregationOption.objects.filter(
            disaggregation__elements__members__data_set=data_set).distinct():
        options.setdefault(option.disaggregation_id, []).append(option)
    for member in members:
        element = member.element
        if element.disaggregation_id:
            for option in sorted(options.get(element.disaggregation_id, []),
                                 key=lambda o: (o.order, o.code)):
                fields.append(Field(element, option.code, option.name))
        else:
            fields.append(Field(element))
    return fields


def division_names(codes: Sequence[str]) -> dict[str, str]:
    names = dict(Division.objects.filter(code__in=[c for c in codes if c]).values_list(
        "code", "name"))
    names[COUNTRY] = _("Whole country")
    return names


def child_length(code: str) -> int | None:
    """Code length of the level below ``code`` (None below villages)."""
    lengths = sorted(CODE_LENGTHS.values())
    for length in lengths:
        if length > len(code):
            return length
    return None


# -- entry -----------------------------------------------------------------------------------
@dataclass
class FormRow:
    field: Field
    value: str
    changed_at: object
    changed_by: str
    changes: int


@dataclass
class EntryForm:
    data_set: DataSet
    division: Division
    period: Period
    agency: Agency | None
    rows: list[FormRow]
    due: date
    locks: date | None
    locked: bool
    complete: CompleteReport | None


def _display(field_: Field, value: float | None, text: str) -> str:
    if field_.element.value_type == "text":
        return text
    if value is None:
        return ""
    if field_.element.value_type == "boolean":
        return "是" if value else "否"
    return f"{value:g}"


def entry_form(*, data_set: DataSet, division: Division, period: Period,
               agency: Agency | None = None, today: date | None = None) -> EntryForm:
    today = today or local_today()
    fields = data_set_fields(data_set)
    rows = DataValue.objects.filter(
        element__in={f.element for f in fields}, division=division, period=period.id,
        agency=agency).select_related("element", "updated_by")
    current = {(f"{r.element.code}.{r.option}" if r.option else r.element.code): r
               for r in rows}
    counts = {(row["element_id"], row["option"]): row["n"]
              for row in DataValueHistory.objects.filter(
                  element_id__in=[f.element.pk for f in fields], division_id=division.code,
                  period=period.id, agency_id=agency.pk if agency else None,
              ).values("element_id", "option").annotate(n=Count("id"))}
    form_rows = []
    for f in fields:
        row = current.get(f.key)
        form_rows.append(FormRow(
            f, _display(f, row.value, row.text) if row else "",
            row.updated_at if row else None,
            str(row.updated_by) if row and row.updated_by else "",
            counts.get((f.element.pk, f.option), 0)))
    locks = (period.end + timedelta(days=data_set.expiry_days)
             if data_set.expiry_days is not None else None)
    complete = CompleteReport.objects.filter(data_set=data_set, division=division,
                                             agency=agency, period=period.id).first()
    return EntryForm(data_set, division, period, agency, form_rows,
                     period.end + timedelta(days=data_set.due_days), locks,
                     bool(locks and today > locks), complete)


def value_history(*, data_set: DataSet, division: Division, period: Period,
                  agency: Agency | None = None) -> list[DataValueHistory]:
    ids = list(data_set.elements.values_list("pk", flat=True))
    labels = {"form": _("Entry form"), "excel": _("Excel upload"), "api": _("API"),
              "cases": _("Case records")}
    changes = list(DataValueHistory.objects.filter(
        element_id__in=ids, division_id=division.code, period=period.id,
        agency_id=agency.pk if agency else None).select_related("changed_by")[:200])
    for change in changes:
        change.source_label = labels.get(change.source, change.source)  # type: ignore[attr-defined]
    return changes


def recent_periods(kind: str, *, count: int, today: date | None = None) -> list[Period]:
    """The ``count`` periods of ``kind`` up to the one holding today, oldest first."""
    last = period_containing(today or local_today(), PeriodKind(kind))
    first = last
    for _step in range(count - 1):
        first = first.previous()
    return periods_between(first, last)


# -- completeness --------------------------------------------------------------------------------
@dataclass
class CompletenessCell:
    expected: int = 0
    actual: int = 0
    on_time: int = 0

    @property
    def rate(self) -> float | None:
        return None if not self.expected else 100.0 * self.actual / self.expected

    @property
    def timely_rate(self) -> float | None:
        return None if not self.expected else 100.0 * self.on_time / self.expected


@dataclass
class CompletenessRow:
    code: str
    name: str
    cells: list[CompletenessCell]


@dataclass
class CompletenessGrid:
    data_set: DataSet
    area_code: str
    periods: list[Period]
    rows: list[CompletenessRow]
    total: CompletenessRow


def _open_during(period: Period) -> Q:
    """Divisions open for at least one day of the period (DHIS2's top complaint: a closed or
    not-yet-opened division must count in neither numerator nor denominator)."""
    opened = Q(opened_on__isnull=True) | Q(opened_on__lte=period.end)
    not_closed = Q(closed_on__isnull=True) | Q(closed_on__gte=period.start)
    return opened & not_closed


def completeness(*, data_set: DataSet, periods: Sequence[Period],
                 area_code: str) -> CompletenessGrid:
    """Expected, actual and on-time reports for each period, by the area's child divisions.

    ``area_code`` is a division code the caller has checked (``""`` for the country)."""
    scope = data_set.division_id or ""
    if len(scope) > len(area_code) and not scope.startswith(area_code):
        scope = area_code
    prefix = scope if len(scope) > len(area_code) else area_code
    length = child_length(area_code) or len(area_code)
    level = data_set.level
    if level is not None and CODE_LENGTHS[level] < length:
        length = CODE_LENGTHS[level]
    cells: dict[str, dict[str, CompletenessCell]] = {}

    def cell(code: str, period: Period) -> CompletenessCell:
        return cells.setdefault(code, {}).setdefault(period.id, CompletenessCell())

    if level is not None:
        for period in periods:
            expected = Division.objects.filter(_open_during(period), level=level,
                                               code__startswith=prefix)
            for row in expected.annotate(c=Substr("code", 1, length)).values("c").annotate(
                    n=Count("code")):
                cell(row["c"], period).expected = row["n"]
            reports = CompleteReport.objects.filter(
                data_set=data_set, period=period.id, agency__isnull=True,
                division__in=expected)
            for row in reports.annotate(c=Substr("division_id", 1, length)).values(
                    "c").annotate(n=Count("id"), t=Count("id", filter=Q(on_time=True))):
                cell(row["c"], period).actual = row["n"]
                cell(row["c"], period).on_time = row["t"]
    agencies = data_set.agencies.filter(is_active=True, division__code__startswith=prefix)
    if agencies.exists():
        for period in periods:
            for row in agencies.annotate(c=Substr("division_id", 1, length)).values(
                    "c").annotate(n=Count("id")):
                cell(row["c"], period).expected += row["n"]
            reports = CompleteReport.objects.filter(data_set=data_set, period=period.id,
                                                    agency__in=agencies)
            for row in reports.annotate(c=Substr("division_id", 1, length)).values(
                    "c").annotate(n=Count("id"), t=Count("id", filter=Q(on_time=True))):
                cell(row["c"], period).actual += row["n"]
                cell(row["c"], period).on_time += row["t"]
    names = division_names([*cells, area_code])
    rows = [CompletenessRow(code, names.get(code, code),
                            [cells[code].get(p.id, CompletenessCell()) for p in periods])
            for code in sorted(cells)]
    total = CompletenessRow(area_code, names.get(area_code, area_code) if area_code else
                            _("Whole country"), [])
    for index, period in enumerate(periods):
        summed = CompletenessCell()
        for row in rows:
            summed.expected += row.cells[index].expected
            summed.actual += row.cells[index].actual
            summed.on_time += row.cells[index].on_time
        total.cells.append(summed)
    return CompletenessGrid(data_set, area_code, list(periods), rows, total)


# -- indicator values ---------------------------------------------------------------------------
@dataclass
class ValueRow:
    code: str
    name: str
    numerator: float | None
    denominator: float | None
    value: float | None
    has_children: bool = False


def rounded(indicator: Indicator, value: float | None) -> float | None:
    return None if value is None else round(value, indicator.decimals)


def indicator_drilldown(*, indicator: Indicator, period: Period,
                        code: str) -> tuple[ValueRow, list[ValueRow]]:
    """The area's own value and one row per child division (children without data too)."""
    rows = IndicatorValue.objects.filter(indicator_id=indicator.pk, period=period.id)
    # Both read one range of the key (period, indicator, parent, code).
    values = {row.code: row for row in rows.filter(parent=code)}
    values.update({row.code: row for row in rows.filter(parent=parent_of(code), code=code)})
    if code:
        children = list(Division.objects.filter(parent_id=code).values_list("code", "name"))
    else:
        children = list(Division.objects.filter(parent__isnull=True).values_list(
            "code", "name"))
    names = division_names([code])

    def row(c: str, name: str) -> ValueRow:
        found = values.get(c)
        if not found:
            return ValueRow(c, name, None, None, None, len(c) < 12)
        return ValueRow(c, name, found.numerator, found.denominator,
                        rounded(indicator, found.value), len(c) < 12)

    return row(code, names.get(code, code)), [row(c, n) for c, n in children]


def indicator_series(*, indicator: Indicator, code: str,
                     periods: Sequence[Period]) -> list[float | None]:
    values = dict(IndicatorValue.objects.filter(
        indicator_id=indicator.pk, parent=parent_of(code), code=code,
        period__in=[p.id for p in periods],
    ).values_list("period", "value"))
    return [rounded(indicator, values.get(p.id)) for p in periods]


# -- attainment ---------------------------------------------------------------------------------
AT_RISK_SHORTFALL = 0.10
TREND_POINTS = 6


class Standing:
    ATTAINED = "attained"
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    OFF_TRACK = "off_track"
    MISSED = "missed"
    NO_DATA = "no_data"


def standing_label(standing: str) -> str:
    return {
        Standing.ATTAINED: _("Attained"),
        Standing.ON_TRACK: _("On track"),
        Standing.AT_RISK: _("At risk"),
        Standing.OFF_TRACK: _("Off track"),
        Standing.MISSED: _("Missed"),
        Standing.NO_DATA: _("No data"),
    }[standing]


def projection_rule() -> str:
    return _("The projection extends the straight-line trend of the last %(points)s periods "
             "(for a cumulative target: the average per period so far) to the deadline. On "
             "track: the projection meets the target. At risk: it falls short by at most "
             "%(risk)s%% of the target. Off track: it falls short by more.") % {
        "points": TREND_POINTS, "risk": int(AT_RISK_SHORTFALL * 100)}


def meets(value: float, comparator: str, target: float) -> bool:
    return {Comparator.GE: value >= target, Comparator.GT: value > target,
            Comparator.LE: value <= target, Comparator.LT: value < target,
            Comparator.EQ: abs(value - target) < 1e-9}[comparator]


def shortfall(value: float, comparator: str, target: float) -> float:
    """How far ``value`` is on the wrong side of the target (0 when it meets it)."""
    if meets(value, comparator, target):
        return 0.0
    if comparator in (Comparator.LE, Comparator.LT):
        return value - target
    return abs(target - value)


def trend_projection(points: Sequence[tuple[int, float]], at: int) -> float | None:
    """Least-squares line through ``(index, value)`` points, read at index ``at``."""
    if not points:
        return None
    if len(points) == 1:
        return points[0][1]
    n = len(points)
    mean_x = sum(x for x, _v in points) / n
    mean_y = sum(v for _x, v in points) / n
    sxx = sum((x - mean_x) ** 2 for x, _v in points)
    if sxx == 0:
        return mean_y
    slope = sum((x - mean_x) * (v - mean_y) for x, v in points) / sxx
    return mean_y + slope * (at - mean_x)


@dataclass
class Attainment:
    code: str
    name: str
    current: float | None
    as_of: str
    projected: float | None
    standing: str
    gap: float | None
    rank: int | None = None
    series: list[float | None] = field(default_factory=list)

    @property
    def label(self) -> str:
        return standing_label(self.standing)


@dataclass
class TargetBoard:
    target: Target
    periods: list[Period]
    rows: list[Attainment]

    @property
    def counts(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for row in self.rows:
            found[row.standing] = found.get(row.standing, 0) + 1
        return found

    @property
    def attained(self) -> int:
        return self.counts.get(Standing.ATTAINED, 0)

    def furthest_behind(self, count: int = 5) -> list[Attainment]:
        behind = [r for r in self.rows if r.gap]
        return sorted(behind, key=lambda r: -(r.gap or 0))[:count]


def target_divisions(target: Target) -> list[tuple[str, str]]:
    """``(code, name)`` of the divisions a target is judged at."""
    area = target.division_id or ""
    if target.level is None:
        return [(area, target.division.name if target.division else _("Whole country"))]
    divisions = Division.objects.filter(level=target.level, code__startswith=area)
    if target.deadline:
        divisions = divisions.filter(Q(opened_on__isnull=True) | Q(opened_on__lte=target.deadline))
    start = target.start or target.deadline
    if start:
        divisions = divisions.filter(Q(closed_on__isnull=True) | Q(closed_on__gte=start))
    return list(divisions.order_by("code").values_list("code", "name"))


def target_periods(target: Target, today: date) -> tuple[list[Period], int]:
    """The indicator's periods from the target's start to today (or the deadline), and the
    index of the deadline's period in that sequence."""
    kind = PeriodKind(target.indicator.period_type)
    deadline = target.deadline or today
    last = period_containing(min(today, deadline), kind)
    if target.start:
        first = period_containing(min(target.start, deadline), kind)
    else:
        first = last
        for _step in range(11):
            first = first.previous()
    periods = periods_between(first, last)
    ahead = len(periods_between(last, period_containing(deadline, kind))) - 1
    return periods, len(periods) - 1 + max(ahead, 0)


def target_board(*, target: Target, today: date | None = None,
                 codes: Sequence[tuple[str, str]] | None = None) -> TargetBoard:
    """Current value, attainment and projection of a target at each of its divisions,
    furthest behind first; ``rank`` orders peers by value (best first)."""
    today = today or local_today()
    indicator = target.indicator
    periods, deadline_index = target_periods(target, today)
    divisions = list(codes) if codes is not None else target_divisions(target)
    codes = [c for c, _n in divisions]
    stored = IndicatorValue.objects.filter(
        indicator_id=indicator.pk, period__in=[p.id for p in periods],
        parent__in={parent_of(c) for c in codes}, code__in=codes,
    ).values_list("code", "period", "value")
    table: dict[str, dict[str, float | None]] = {}
    for code, period, value in stored:
        table.setdefault(code, {})[period] = value
    deadline_passed = bool(target.deadline and today > target.deadline)
    rows = []
    for code, name in divisions:
        series = [table.get(code, {}).get(p.id) for p in periods]
        points = [(i, v) for i, v in enumerate(series) if v is not None]
        if not points:
            rows.append(Attainment(code, name, None, "", None, Standing.NO_DATA, None,
                                   series=[rounded(indicator, v) for v in series]))
            continue
        if target.cumulative:
            current = sum(v for _i, v in points)
            per_period = current / (points[-1][0] + 1)
            projected = current + per_period * (deadline_index - points[-1][0])
            as_of = periods[points[-1][0]].label
        else:
            current = points[-1][1]
            recent = points[-TREND_POINTS:]
            projected = trend_projection(recent, deadline_index)
            as_of = periods[points[-1][0]].label
        current = rounded(indicator, current)
        projected = rounded(indicator, projected)
        assert current is not None and projected is not None
        gap = shortfall(current, target.comparator, target.value)
        if gap == 0:
            standing = Standing.ATTAINED
        elif deadline_passed:
            standing = Standing.MISSED
        else:
            short = shortfall(projected, target.comparator, target.value)
            if short == 0:
                standing = Standing.ON_TRACK
            elif short <= AT_RISK_SHORTFALL * abs(target.value or 1):
                standing = Standing.AT_RISK
            else:
                standing = Standing.OFF_TRACK
        rows.append(Attainment(code, name, current, as_of, projected, standing, gap,
                               series=[rounded(indicator, v) for v in series]))
    descending = target.comparator not in (Comparator.LE, Comparator.LT)
    ranked = sorted((r for r in rows if r.current is not None),
                    key=lambda r: -(r.current or 0) if descending else (r.current or 0))
    for position, row in enumerate(ranked, start=1):
        row.rank = position
    order = {Standing.MISSED: 0, Standing.OFF_TRACK: 1, Standing.AT_RISK: 2,
             Standing.NO_DATA: 3, Standing.ON_TRACK: 4, Standing.ATTAINED: 5}
    rows.sort(key=lambda r: (order[r.standing], -(r.gap or 0), r.code))
    return TargetBoard(target, periods, rows)


def plan_targets(*, plan_id: int, statuses: Sequence[str] = (TargetStatus.CONFIRMED,)
                 ) -> list[Target]:
    return list(Target.objects.filter(plan_id=plan_id, status__in=statuses, parent__isnull=True)
                .select_related("indicator", "division").order_by("indicator__name",
                                                                   "deadline", "id"))


def target_series(*, target: Target) -> list[Target]:
    """The confirmed targets of the same indicator and area over time (50% by 2020, 80% by
    2021), for the target line of a chart."""
    return list(Target.objects.filter(
        indicator=target.indicator, division=target.division, level=target.level,
        status=TargetStatus.CONFIRMED, parent=target.parent).order_by("deadline"))
