"""Roll-up of data values over the division tree, as GROUP BYs on code prefixes.

No tree walk: a division's code is the prefix of every code below it (``51`` → ``5105`` →
``510521`` → ``510521100`` → ``510521100001``), so a level's values are one GROUP BY on
``substr(code, 1, n)``. The work goes in two steps per period:

1. *leaf*: each element's values at each division where they were entered are combined over
   the period's sub-periods by the element's rule (sum, average, last value, max, min);
2. *cascade*: level by level from villages to the country (code ``""``), each level groups
   the level below it plus the values entered at that level itself, carrying
   ``total``/``n``/``vmin``/``vmax`` so that every rule combines correctly.

Indicator values are then one more statement per indicator: a pivot of the aggregates it
refers to and its formula translated to SQL (``formula.Formula.to_sql``).

The statements are plain SQL that SQLite, PostgreSQL and DuckDB all run; the benchmark uses
the same builders on DuckDB as its reference. Literals are inlined only from validated values
(integer ids, digit-only codes, slug option codes, ISO dates), never from user text.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from .formula import Formula, Ref

DV = "indicators_datavalue"
AGG = "indicators_aggregatevalue"
IV = "indicators_indicatorvalue"
LEAF = "indicators_leaf_tmp"
CASCADE = "indicators_cascade_tmp"

# Significant code length of each level (0 = the country) and of its parent level.
LENGTHS = (12, 9, 6, 4, 2, 0)
LEVEL_OF_LENGTH = {12: 5, 9: 4, 6: 3, 4: 2, 2: 1, 0: 0}
LENGTH_OF_LEVEL = {level: length for length, level in LEVEL_OF_LENGTH.items()}
PARENT_LENGTH = {12: 9, 9: 6, 6: 4, 4: 2, 2: 0}
NO_PARENT = "-"
_SAFE = re.compile(r"^[A-Za-z0-9_-]*$")

Execute = Callable[[str], None]


@dataclass(frozen=True)
class ElementSpec:
    """What the roll-up needs to know of a data element."""

    id: int
    code: str
    aggregation: str  # sum | average | last | max | min
    disaggregated: bool = False


@dataclass(frozen=True)
class IndicatorSpec:
    id: int
    numerator: Formula
    denominator: Formula
    factor: float
    missing_as_zero: bool = False


def _code(value: str) -> str:
    if not value.isdigit() and value != "":
        raise ValueError(f"not a division code: {value!r}")
    return value


def _safe(value: str) -> str:
    if not _SAFE.match(value):
        raise ValueError(f"unsafe literal: {value!r}")
    return value


def _ids(elements: Iterable[ElementSpec]) -> str:
    return ", ".join(str(int(e.id)) for e in elements)


def parent_of(code: str) -> str:
    return code[:PARENT_LENGTH[len(code)]] if code else NO_PARENT


def chain(code: str) -> list[str]:
    """The code and its ancestors up to the country, nearest first."""
    found = [code]
    while code:
        code = parent_of(code)
        found.append(code)
    return found


# -- step 1: values at the division where they were entered ----------------------------------
_TIME_FUNCTION = {"sum": "SUM", "average": "AVG", "max": "MAX", "min": "MIN"}


def leaf_select(elements: Sequence[ElementSpec], start: date, end: date, *,
                code: str | None = None) -> str:
    """``element_id, opt, code, v``: each element combined over the sub-periods of
    ``[start, end]`` at each division (only at ``code`` when given). Disaggregated elements
    get their total as option ``""`` besides one row per option."""

    def window(alias: str = "") -> str:
        text = (f"{alias}period_start >= '{start.isoformat()}' "
                f"AND {alias}period_end <= '{end.isoformat()}' AND {alias}value IS NOT NULL")
        if code is not None:
            text += f" AND {alias}division_id = '{_code(code)}'"
        return text

    parts: list[str] = []
    for rule, function in _TIME_FUNCTION.items():
        group = [e for e in elements if e.aggregation == rule]
        if not group:
            continue
        parts.append(
            f"SELECT element_id, opt, division_id AS code, {function}(value) AS v FROM {DV} "
            f"WHERE element_id IN ({_ids(group)}) AND {window()} "
            f"GROUP BY element_id, opt, division_id")
        split = [e for e in group if e.disaggregated]
        if split:
            parts.append(
                f"SELECT element_id, '' AS opt, division_id AS code, {function}(value) AS v "
                f"FROM {DV} WHERE element_id IN ({_ids(split)}) AND {window()} "
                f"GROUP BY element_id, division_id")
    last = [e for e in elements if e.aggregation == "last"]
    if last:
        # The value of the last period with one (several agencies' values at it add up).
        by_option = (
            f"SELECT d.element_id, d.opt, d.division_id AS code, SUM(d.value) AS v "
            f"FROM {DV} d JOIN (SELECT element_id, opt, division_id, MAX(period_end) AS pe "
            f"FROM {DV} WHERE element_id IN ({_ids(last)}) AND {window()} "
            f"GROUP BY element_id, opt, division_id) m "
            f"ON d.element_id = m.element_id AND d.opt = m.opt "
            f"AND d.division_id = m.division_id AND d.period_end = m.pe "
            f"WHERE {window('d.')} GROUP BY d.element_id, d.opt, d.division_id")
        parts.append(by_option)
        split = [e for e in last if e.disaggregated]
        if split:
            parts.append(
                f"SELECT element_id, '' AS opt, code, SUM(v) AS v FROM ({by_option}) lo "
                f"WHERE element_id IN ({_ids(split)}) GROUP BY element_id, code")
    if not parts:
        return "SELECT 0 AS element_id, '' AS opt, '' AS code, 0.0 AS v WHERE 1 = 0"
    return " UNION ALL ".join(parts)


# -- step 2: the cascade up the tree ------------------------------------------------------------
_COLUMNS = "element_id, opt, code, parent, level, period, total, n, vmin, vmax"


def full_refresh_statements(elements: Sequence[ElementSpec], period: str, start: date,
                            end: date) -> list[str]:
    """Statements that rebuild every aggregate of ``elements`` for ``period``.

    The levels are built in a temporary table, each from the one below it (read
    sequentially), and written to the aggregate table in one insert at the end."""
    if not elements:
        return []
    period = _safe(period)
    ids = _ids(elements)
    columns = "element_id, opt, code, parent, level, total, n, vmin, vmax"
    statements = [
        f"DROP TABLE IF EXISTS {LEAF}",
        f"DROP TABLE IF EXISTS {CASCADE}",
        f"CREATE TEMPORARY TABLE {LEAF} AS {leaf_select(elements, start, end)}",
        f"CREATE TEMPORARY TABLE {CASCADE} AS SELECT element_id, opt, code, "
        f"substr(code, 1, 9) AS parent, 5 AS level, v AS total, 1 AS n, v AS vmin, "
        f"v AS vmax FROM {LEAF} WHERE length(code) = 12",
    ]
    for length in LENGTHS[1:]:
        level = LEVEL_OF_LENGTH[length]
        parent = f"MAX(substr(c, 1, {PARENT_LENGTH[length]}))" if length else f"'{NO_PARENT}'"
        statements.append(
            f"INSERT INTO {CASCADE} ({columns}) "
            f"SELECT element_id, opt, c, {parent}, {level}, SUM(total), SUM(n), "
            f"MIN(vmin), MAX(vmax) FROM ("
            f"SELECT element_id, opt, substr(code, 1, {length}) AS c, total, n, vmin, vmax "
            f"FROM {CASCADE} WHERE level = {level + 1} "
            f"UNION ALL SELECT element_id, opt, code AS c, v, 1, v, v FROM {LEAF} "
            f"WHERE length(code) = {length}) x GROUP BY element_id, opt, c")
    statements += [
        f"DELETE FROM {AGG} WHERE period = '{period}' AND element_id IN ({ids})",
        f"INSERT INTO {AGG} ({_COLUMNS}) SELECT element_id, opt, code, parent, level, "
        f"'{period}', total, n, vmin, vmax FROM {CASCADE}",
        f"DROP TABLE IF EXISTS {CASCADE}",
        f"DROP TABLE IF EXISTS {LEAF}",
    ]
    return statements


def chain_refresh_statements(elements: Sequence[ElementSpec], period: str, start: date,
                             end: date, code: str) -> list[str]:
    """Statements that recompute the aggregates of ``code`` and its ancestors only: each one
    from its children's aggregates plus the values entered at it (after one form's entry)."""
    if not elements:
        return []
    period = _safe(period)
    ids = _ids(elements)
    statements = []
    for current in chain(_code(code)):
        level = LEVEL_OF_LENGTH[len(current)]
        statements.append(f"DELETE FROM {AGG} WHERE period = '{period}' "
                          f"AND element_id IN ({ids}) AND code = '{current}'")
        leaf = leaf_select(elements, start, end, code=current) if current else None
        own = f" UNION ALL SELECT element_id, opt, v, 1, v, v FROM ({leaf}) l" if leaf else ""
        statements.append(
            f"INSERT INTO {AGG} ({_COLUMNS}) "
            f"SELECT element_id, opt, '{current}', '{parent_of(current)}', {level}, "
            f"'{period}', SUM(total), SUM(n), MIN(vmin), MAX(vmax) FROM ("
            f"SELECT element_id, opt, total, n, vmin, vmax FROM {AGG} "
            f"WHERE period = '{period}' AND parent = '{current}' AND element_id IN ({ids})"
            f"{own}) x GROUP BY element_id, opt")
    return statements


# -- step 3: indicators ---------------------------------------------------------------------------
_READ = {"sum": "total", "last": "total", "average": "total / NULLIF(n, 0)",
         "max": "vmax", "min": "vmin"}


def indicator_statements(indicator: IndicatorSpec, elements: dict[str, ElementSpec],
                         period: str, *, codes: Sequence[str] | None = None) -> list[str]:
    """Rebuild the indicator's values for ``period`` (only at ``codes`` when given)."""
    period = _safe(period)
    refs = sorted(indicator.numerator.refs | indicator.denominator.refs,
                  key=lambda r: (r.code, r.option))
    where_codes = ""
    if codes is not None:
        where_codes = " AND code IN (" + ", ".join(f"'{_code(c)}'" for c in codes) + ")"
    delete = (f"DELETE FROM {IV} WHERE period = '{period}' "
              f"AND indicator_id = {int(indicator.id)}{where_codes}")
    known = [r for r in refs if r.code in elements]
    if not known:
        return [delete]
    columns = {r: f"c{i}" for i, r in enumerate(known)}

    def column(ref: Ref) -> str:
        return columns.get(ref, "CAST(NULL AS DOUBLE PRECISION)")

    pivots = ", ".join(
        f"MAX(CASE WHEN element_id = {int(elements[r.code].id)} AND opt = '{_safe(r.option)}' "
        f"THEN {_READ[elements[r.code].aggregation]} END) AS {columns[r]}" for r in known)
    ids = ", ".join(sorted({str(int(elements[r.code].id)) for r in known}))
    numerator = indicator.numerator.to_sql(column, missing_as_zero=indicator.missing_as_zero)
    denominator = indicator.denominator.to_sql(column,
                                               missing_as_zero=indicator.missing_as_zero)
    insert = (
        f"INSERT INTO {IV} (indicator_id, code, parent, level, period, numerator, denominator, "
        f"value) SELECT {int(indicator.id)}, code, parent, level, '{period}', num, den, "
        f"{float(indicator.factor)!r} * num / NULLIF(den, 0.0) FROM ("
        f"SELECT code, parent, level, {numerator} AS num, {denominator} AS den FROM ("
        f"SELECT code, MAX(parent) AS parent, MAX(level) AS level, {pivots} FROM {AGG} "
        f"WHERE period = '{period}' AND element_id IN ({ids}){where_codes} GROUP BY code) pv) q "
        f"WHERE num IS NOT NULL OR den IS NOT NULL")
    return [delete, insert]


def run(execute: Execute, statements: Iterable[str]) -> None:
    for statement in statements:
        execute(statement)
