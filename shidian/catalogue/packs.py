"""The catalogue's view of a pack: what ``pack.yaml`` says beyond its case types.

The format is described in ``shidian/packs/README.md``. ``load_spec`` never raises on a bad
pack: it returns the problems with stable ids (``catalogue.E001 unknown key``), which
``shidian.catalogue.checks`` reports at ``shidian check``. The case types themselves are read by
``shidian.cases.definitions`` (``packs.E00x``); a pack with problems of either kind is left out
of the catalogue. ``packs_available()`` is loaded once per process on first use (never at
import time).
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from shidian.cases import definitions, expressions
from shidian.cases.definitions import Label, _label

SEED_DIR = Path(__file__).resolve().parent.parent / "demo" / "seed_plans"
PLAN_SUFFIXES = (".txt", ".docx", ".html", ".htm", ".pdf")

E_UNKNOWN = "catalogue.E001"  # unknown key
E_MISSING = "catalogue.E002"  # a required key is missing or empty
E_SHAPE = "catalogue.E003"  # a value of the wrong kind
E_REFERENCE = "catalogue.E004"  # a reference that does not exist
E_FORMULA = "catalogue.E005"  # a formula or expression that does not parse
E_TWICE = "catalogue.E006"  # a key defined twice
W_NOT_READY = "catalogue.W001"  # no description, adds or plans: not in the catalogue

TOP_KEYS = frozenset({
    "key", "label", "description", "domain", "sources", "adds", "plans", "case_types",
    "case_programmes", "indicators", "reporting", "oversight", "milestones", "lists",
})
PLAN_KEYS = frozenset({"key", "label", "seed", "file", "year"})
CASE_PROGRAMME_KEYS = frozenset({"case_type", "table", "params"})
INDICATOR_FILE_KEYS = frozenset({"elements", "data_sets", "indicators", "feeds"})
ELEMENT_KEYS = frozenset({"code", "name", "value_type", "aggregation", "unit", "description"})
DATA_SET_KEYS = frozenset({"key", "name", "period", "level", "elements", "due_days",
                           "expiry_days", "plans"})
INDICATOR_KEYS = frozenset({"key", "name", "numerator", "denominator", "factor", "decimals",
                            "unit", "period", "missing_as_zero", "targets", "plans"})
TARGET_KEYS = frozenset({"comparator", "value", "change", "baseline", "by", "from", "level",
                         "cumulative"})
FEED_KEYS = frozenset({"element", "data_set", "case_type", "figure", "count", "stage", "where",
                       "sum"})
CYCLE_KEYS = frozenset({"key", "label", "kind", "due_day", "due_month", "grace_days", "list",
                        "plan_cycle", "plans", "from"})
OVERSIGHT_KEYS = frozenset({"remind_days", "escalate_days", "reply_days",
                            "min_onsite_inspections"})
MILESTONE_KEYS = frozenset({"key", "label", "plans", "task", "indicator", "series"})
POINT_KEYS = frozenset({"value", "by"})
LIST_KEYS = frozenset({"key", "label", "open", "columns", "items", "plans", "description"})
ITEM_KEYS = frozenset({"owner", "duty", "partner", "basis", "note"})

VALUE_TYPES = frozenset({"number", "integer", "percentage", "boolean", "text"})
AGGREGATIONS = frozenset({"sum", "average", "last", "max", "min"})
PERIOD_TYPES = frozenset({"Y", "H", "Q", "M", "W"})
COMPARATORS = frozenset({">=", "<=", "=", ">", "<"})
# The kinds of shidian.reporting's CycleKind, with the months one period holds (weekly: none).
CYCLE_MONTHS = {"weekly": 0, "monthly": 1, "quarterly": 3, "half_yearly": 6, "yearly": 12}
CYCLE_KINDS = frozenset(CYCLE_MONTHS)
# Figures of shidian.cases.selectors.case_progress a feed may take.
CASE_FIGURES = frozenset({"registered", "approved", "started", "finished", "accepted",
                          "completed", "paid_amount", "entitled_amount"})
CODE_RE = re.compile(r"[A-Za-z0-9_-]{1,48}")
KEY_RE = re.compile(r"[A-Za-z0-9_]{1,32}")
DATE_RE = re.compile(r"(\d{4})-(\d{1,2})(?:-(\d{1,2}))?")
PERIOD_RE = re.compile(r"\d{4}(?:[HQ]\d|M\d{2}|W\d{2})?")
# A folded YAML scalar (>-) joins its lines with a space, which Chinese text does not have.
_CJK = "\u3000-\u9fff\uff00-\uffef"
_CJK_GAP = re.compile(rf"(?<=[{_CJK}])\s+|\s+(?=[{_CJK}])")


def _text(raw: Any, fallback: str = "") -> Label:
    label = _label(raw, fallback)
    return Label(zh=_CJK_GAP.sub("", label.zh), en=label.en)


# --- the specification ----------------------------------------------------------------------

@dataclass(frozen=True)
class StartPlan:
    key: str
    label: Label
    path: Path  # the plan text (a seed plan or a file of the pack)
    year: int | None
    seed: str = ""


@dataclass(frozen=True)
class CaseProgrammeSpec:
    case_type: str
    table: str
    params: Mapping[str, Any]


@dataclass(frozen=True)
class ElementSpec:
    code: str
    name: str
    value_type: str
    aggregation: str
    unit: str = ""
    description: str = ""


@dataclass(frozen=True)
class DataSetSpec:
    key: str
    name: str
    period: str
    level: int | None
    elements: tuple[str, ...]
    due_days: int = 10
    expiry_days: int | None = None
    plans: tuple[str, ...] = ()


@dataclass(frozen=True)
class TargetSpec:
    comparator: str
    by: dt.date
    value: float | None = None  # an absolute value, or
    change: float | None = None  # points added to the value of ``baseline`` (a period id)
    baseline: str = ""
    start: dt.date | None = None
    level: int | None = None
    cumulative: bool = False


@dataclass(frozen=True)
class IndicatorSpec:
    key: str
    name: str
    numerator: str
    denominator: str
    factor: float
    decimals: int
    unit: str
    period: str
    missing_as_zero: bool
    targets: tuple[TargetSpec, ...]
    plans: tuple[str, ...] = ()


@dataclass(frozen=True)
class FeedSpec:
    element: str
    data_set: str
    case_type: str
    figure: str = ""  # a case_progress figure, or
    count: bool = False  # a count of cases (optionally at/after ``stage``, matching ``where``)
    sum: str = ""  # a numeric field summed over the cases
    stage: str = ""
    where: str = ""


@dataclass(frozen=True)
class CycleSpec:
    key: str
    label: Label
    kind: str
    due_day: int
    grace_days: int
    list: str = ""
    plan_cycle: bool = False
    due_month: int = 0  # yearly, half-yearly, quarterly: the month of the period (0 = last)
    starts: dt.date | None = None
    plans: tuple[str, ...] = ()


@dataclass(frozen=True)
class OversightSpec:
    remind_days: int = 3
    escalate_days: int = 5
    reply_days: int = 5
    min_onsite_inspections: int = 0


@dataclass(frozen=True)
class MilestonePoint:
    value: float
    by: dt.date


@dataclass(frozen=True)
class MilestoneSpec:
    key: str
    label: Label
    indicator: str
    series: tuple[MilestonePoint, ...]
    task: str = ""
    plans: tuple[str, ...] = ()


@dataclass(frozen=True)
class ListItemSpec:
    owner: str = ""
    duty: str = ""
    partner: str = ""
    basis: str = ""
    note: str = ""


@dataclass(frozen=True)
class ListSpec:
    key: str
    label: Label
    open: bool
    columns: tuple[str, ...]
    items: tuple[ListItemSpec, ...]
    description: Label | None = None
    plans: tuple[str, ...] = ()


@dataclass(frozen=True)
class PackSpec:
    key: str
    path: Path
    label: Label
    description: Label
    domain: str
    sources: tuple[str, ...]
    adds: tuple[Label, ...]
    plans: tuple[StartPlan, ...]
    case_types: tuple[str, ...]
    case_programmes: tuple[CaseProgrammeSpec, ...] = ()
    elements: tuple[ElementSpec, ...] = ()
    data_sets: tuple[DataSetSpec, ...] = ()
    indicators: tuple[IndicatorSpec, ...] = ()
    feeds: tuple[FeedSpec, ...] = ()
    reporting: tuple[CycleSpec, ...] = ()
    oversight: OversightSpec | None = None
    milestones: tuple[MilestoneSpec, ...] = ()
    lists: tuple[ListSpec, ...] = ()
    case_type_labels: Mapping[str, Label] = field(default_factory=dict)

    def plan(self, key: str) -> StartPlan:
        for plan in self.plans:
            if plan.key == key:
                return plan
        raise KeyError(key)

    def indicator(self, key: str) -> IndicatorSpec:
        for indicator in self.indicators:
            if indicator.key == key:
                return indicator
        raise KeyError(key)


def applies(item: Any, plan_key: str) -> bool:
    """Whether an item restricted with ``plans: [...]`` applies to a programme's start plan."""
    plans = getattr(item, "plans", ())
    return not plans or plan_key in plans


@dataclass(frozen=True)
class Problem:
    id: str
    pack: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.pack}: {self.where}: {self.message}"


# --- reading --------------------------------------------------------------------------------

def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


def parse_date(text: Any, *, end: bool = True) -> dt.date | None:
    """``YYYY-MM`` (the month's last day, or first with ``end=False``) or ``YYYY-MM-DD``."""
    if isinstance(text, dt.date):
        return text
    match = DATE_RE.fullmatch(str(text or "").strip())
    if not match:
        return None
    year, month = int(match[1]), int(match[2])
    try:
        if match[3]:
            return dt.date(year, month, int(match[3]))
        if not end:
            return dt.date(year, month, 1)
        next_month = dt.date(year + month // 12, month % 12 + 1, 1)
        return next_month - dt.timedelta(days=1)
    except ValueError:
        return None


class _SpecLoader:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.pack = self.path.name
        self.problems: list[Problem] = []

    def problem(self, pid: str, where: str, message: str) -> None:
        self.problems.append(Problem(pid, self.pack, where, message))

    def read(self, name: str) -> Any:
        try:
            with open(self.path / name, encoding="utf-8") as handle:
                return yaml.safe_load(handle)
        except FileNotFoundError:
            self.problem(E_REFERENCE, name, "file not found")
        except yaml.YAMLError as exc:
            self.problem(E_SHAPE, name, f"not valid YAML: {exc}")
        return None

    def mapping(self, where: str, raw: Any, allowed: frozenset[str]) -> Mapping[str, Any]:
        if not isinstance(raw, Mapping):
            self.problem(E_SHAPE, where, "must be a mapping")
            return {}
        for key in raw:
            if key not in allowed:
                self.problem(E_UNKNOWN, where, f"unknown key {key!r}")
        return raw

    def items(self, where: str, raw: Any, allowed: frozenset[str]) -> list[Mapping[str, Any]]:
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.problem(E_SHAPE, where, "must be a list")
            return []
        return [self.mapping(f"{where}[{i}]", item, allowed) for i, item in enumerate(raw)]

    def keyed(self, where: str, raw: Mapping[str, Any], seen: set[str],
              name: str = "key") -> str:
        key = str(raw.get(name) or "")
        if not key:
            self.problem(E_MISSING, where, f"{name} is required")
        elif name == "key" and not KEY_RE.fullmatch(key):
            self.problem(E_SHAPE, where, f"{key!r}: a key uses letters, digits and _")
        elif key in seen:
            self.problem(E_TWICE, where, f"{key!r} defined twice")
        seen.add(key)
        return key

    def integer(self, where: str, raw: Any, default: int, low: int, high: int) -> int:
        if raw is None:
            return default
        if not isinstance(raw, int) or isinstance(raw, bool) or not low <= raw <= high:
            self.problem(E_SHAPE, where, f"{raw!r}: a whole number from {low} to {high}")
            return default
        return raw

    def number(self, where: str, raw: Any) -> float | None:
        if raw is None:
            return None
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            self.problem(E_SHAPE, where, f"{raw!r} is not a number")
            return None
        return float(raw)

    def date(self, where: str, raw: Any, *, end: bool = True) -> dt.date | None:
        if raw is None:
            return None
        found = parse_date(raw, end=end)
        if found is None:
            self.problem(E_SHAPE, where, f"{raw!r}: a date is YYYY-MM or YYYY-MM-DD")
        return found

    def choice(self, where: str, raw: Any, allowed: frozenset[str], default: str) -> str:
        value = str(raw) if raw is not None else default
        if value not in allowed:
            self.problem(E_SHAPE, where, f"{value!r} is not one of {sorted(allowed)}")
            return default
        return value

    def level(self, where: str, raw: Any) -> int | None:
        if raw is None:
            return None
        if raw not in definitions.LEVELS:
            self.problem(E_SHAPE, where, f"unknown division level {raw!r}")
            return None
        return definitions.LEVELS[raw]

    def plan_keys(self, where: str, raw: Any, known: set[str]) -> tuple[str, ...]:
        keys = tuple(str(k) for k in _as_list(raw))
        for key in keys:
            if key not in known:
                self.problem(E_REFERENCE, where, f"unknown starting plan {key!r}")
        return keys

    # The sections.
    def load(self) -> PackSpec | None:
        meta = self.read("pack.yaml")
        if meta is None:
            return None
        meta = self.mapping("pack.yaml", meta, TOP_KEYS)
        if not meta:
            return None
        key = str(meta.get("key") or self.path.name)
        self.pack = key
        if not meta.get("label"):
            self.problem(E_MISSING, "pack.yaml", "label is required")
        for wanted in ("description", "adds", "plans"):
            if not meta.get(wanted):
                self.problem(W_NOT_READY, "pack.yaml",
                             f"no {wanted}: the pack is left out of the catalogue")
        case_defs = self.case_types(meta)
        plans = self.plans(meta.get("plans"))
        plan_keys = {p.key for p in plans}
        raw_ind = meta.get("indicators")
        if isinstance(raw_ind, str):
            raw_ind = self.read(raw_ind)
        ind = self.mapping("indicators", raw_ind, INDICATOR_FILE_KEYS) if raw_ind else {}
        elements = self.elements(ind.get("elements"))
        codes = {e.code for e in elements}
        data_sets = self.data_sets(ind.get("data_sets"), codes, plan_keys)
        indicators = self.indicators(ind.get("indicators"), codes, plan_keys)
        feeds = self.feeds(ind.get("feeds"), codes, {d.key: d for d in data_sets}, case_defs)
        raw_lists = meta.get("lists")
        if isinstance(raw_lists, str):
            raw_lists = self.read(raw_lists)
        lists = self.lists(raw_lists, plan_keys)
        reporting = self.reporting(meta.get("reporting"), {x.key for x in lists}, plan_keys)
        oversight = self.oversight(meta.get("oversight"))
        milestones = self.milestones(meta.get("milestones"),
                                     {i.key for i in indicators}, plan_keys)
        case_programmes = self.case_programmes(meta.get("case_programmes"), case_defs)
        return PackSpec(
            key=key, path=self.path, label=_label(meta.get("label"), key),
            description=_text(meta.get("description"), ""),
            domain=str(meta.get("domain") or ""),
            sources=tuple(str(s) for s in _as_list(meta.get("sources"))),
            adds=tuple(_text(a) for a in _as_list(meta.get("adds"))),
            plans=plans, case_types=tuple(case_defs), case_programmes=case_programmes,
            elements=elements, data_sets=data_sets, indicators=indicators, feeds=feeds,
            reporting=reporting, oversight=oversight, milestones=milestones, lists=lists,
            case_type_labels={k: v.label for k, v in case_defs.items()})

    def case_types(self, meta: Mapping[str, Any]) -> dict[str, definitions.CaseTypeDef]:
        """The pack's case types as the case engine reads them (its problems are its own)."""
        pack, _problems = definitions.load_pack(self.path)
        if pack is None:
            return {}
        return {c.key: c for c in pack.case_types}

    def plans(self, raw: Any) -> tuple[StartPlan, ...]:
        plans = []
        seen: set[str] = set()
        for i, item in enumerate(self.items("plans", raw, PLAN_KEYS)):
            where = f"plans[{i}]"
            key = self.keyed(where, item, seen)
            seed, file = str(item.get("seed") or ""), str(item.get("file") or "")
            if bool(seed) == bool(file):
                self.problem(E_MISSING, where, "a starting plan names either seed or file")
                continue
            path = SEED_DIR / f"{seed}.txt" if seed else self.path / file
            if path.suffix.lower() not in PLAN_SUFFIXES:
                self.problem(E_SHAPE, where, f"{path.name}: not a plan file "
                             f"({', '.join(PLAN_SUFFIXES)})")
            elif not path.is_file():
                self.problem(E_REFERENCE, where, f"plan file {path.name} not found")
            year = item.get("year")
            if year is not None:
                year = self.integer(f"{where}.year", year, 0, 1990, 2100) or None
            plans.append(StartPlan(key=key, label=_label(item.get("label"), key), path=path,
                                   year=year, seed=seed))
        return tuple(plans)

    def case_programmes(self, raw: Any, case_defs: Mapping[str, definitions.CaseTypeDef],
                        ) -> tuple[CaseProgrammeSpec, ...]:
        found = []
        for i, item in enumerate(self.items("case_programmes", raw, CASE_PROGRAMME_KEYS)):
            where = f"case_programmes[{i}]"
            key = str(item.get("case_type") or "")
            definition = case_defs.get(key)
            if definition is None:
                self.problem(E_REFERENCE, where, f"unknown case type {key!r}")
                continue
            table = str(item.get("table") or "")
            params = item.get("params") or {}
            if not isinstance(params, Mapping):
                self.problem(E_SHAPE, f"{where}.params", "must be a mapping")
                params = {}
            if table:
                try:
                    standard = definition.table(table)
                except KeyError:
                    self.problem(E_REFERENCE, where, f"unknown table {table!r}")
                else:
                    for name in params:
                        if name not in standard.params:
                            self.problem(E_REFERENCE, where, f"unknown parameter {name!r}")
                    missing = [p for p in standard.required_params if params.get(p) is None]
                    if missing:
                        self.problem(E_MISSING, where,
                                     f"the table leaves {missing} to the programme")
            elif definition.tables:
                self.problem(E_MISSING, where, "table is required (the case type has tables)")
            found.append(CaseProgrammeSpec(case_type=key, table=table, params=dict(params)))
        return tuple(found)

    def elements(self, raw: Any) -> tuple[ElementSpec, ...]:
        found = []
        seen: set[str] = set()
        for i, item in enumerate(self.items("indicators.elements", raw, ELEMENT_KEYS)):
            where = f"indicators.elements[{i}]"
            code = self.keyed(where, item, seen, name="code")
            if code and not CODE_RE.fullmatch(code):
                self.problem(E_SHAPE, where, f"{code!r}: a code uses letters, digits, - and _")
            if not item.get("name"):
                self.problem(E_MISSING, where, "name is required")
            found.append(ElementSpec(
                code=code, name=str(item.get("name") or code),
                value_type=self.choice(f"{where}.value_type", item.get("value_type"),
                                       VALUE_TYPES, "number"),
                aggregation=self.choice(f"{where}.aggregation", item.get("aggregation"),
                                        AGGREGATIONS, "sum"),
                unit=str(item.get("unit") or "")[:16],
                description=str(item.get("description") or "")))
        return tuple(found)

    def data_sets(self, raw: Any, codes: set[str],
                  plan_keys: set[str]) -> tuple[DataSetSpec, ...]:
        found = []
        seen: set[str] = set()
        for i, item in enumerate(self.items("indicators.data_sets", raw, DATA_SET_KEYS)):
            where = f"indicators.data_sets[{i}]"
            key = self.keyed(where, item, seen)
            elements = tuple(str(c) for c in _as_list(item.get("elements")))
            if not elements:
                self.problem(E_MISSING, where, "elements is required")
            for code in elements:
                if code not in codes:
                    self.problem(E_REFERENCE, where, f"unknown element {code!r}")
            found.append(DataSetSpec(
                key=key, name=str(item.get("name") or key),
                period=self.choice(f"{where}.period", item.get("period"), PERIOD_TYPES, "M"),
                level=self.level(f"{where}.level", item.get("level")), elements=elements,
                due_days=self.integer(f"{where}.due_days", item.get("due_days"), 10, 0, 366),
                expiry_days=(self.integer(f"{where}.expiry_days", item.get("expiry_days"), 0,
                                          0, 3660) if item.get("expiry_days") is not None
                             else None),
                plans=self.plan_keys(where, item.get("plans"), plan_keys)))
        return tuple(found)

    def formula(self, where: str, text: str, codes: set[str]) -> None:
        from shidian.core.errors import ShidianError
        from shidian.indicators.formula import parse

        try:
            used = parse(text).codes
        except ShidianError as exc:
            self.problem(E_FORMULA, where, f"{text!r}: {exc.message}")
            return
        for code in sorted(used - codes):
            self.problem(E_REFERENCE, where, f"{text!r} uses unknown element {code!r}")

    def indicators(self, raw: Any, codes: set[str],
                   plan_keys: set[str]) -> tuple[IndicatorSpec, ...]:
        found = []
        seen: set[str] = set()
        for i, item in enumerate(self.items("indicators.indicators", raw, INDICATOR_KEYS)):
            where = f"indicators.indicators[{i}]"
            key = self.keyed(where, item, seen)
            numerator = str(item.get("numerator") or "")
            denominator = str(item.get("denominator") or "")
            if not numerator:
                self.problem(E_MISSING, where, "numerator is required")
            else:
                self.formula(f"{where}.numerator", numerator, codes)
            if denominator:
                self.formula(f"{where}.denominator", denominator, codes)
            targets = []
            for j, target in enumerate(self.items(f"{where}.targets", item.get("targets"),
                                                  TARGET_KEYS)):
                targets.append(self.target(f"{where}.targets[{j}]", target))
            found.append(IndicatorSpec(
                key=key, name=str(item.get("name") or key), numerator=numerator,
                denominator=denominator,
                factor=self.number(f"{where}.factor", item.get("factor")) or 1.0,
                decimals=self.integer(f"{where}.decimals", item.get("decimals"), 1, 0, 6),
                unit=str(item.get("unit") or "")[:16],
                period=self.choice(f"{where}.period", item.get("period"), PERIOD_TYPES, "M"),
                missing_as_zero=bool(item.get("missing_as_zero")),
                targets=tuple(t for t in targets if t is not None),
                plans=self.plan_keys(where, item.get("plans"), plan_keys)))
        return tuple(found)

    def target(self, where: str, raw: Mapping[str, Any]) -> TargetSpec | None:
        value, change = self.number(f"{where}.value", raw.get("value")), None
        if raw.get("change") is not None:
            change = self.number(f"{where}.change", raw.get("change"))
        if (value is None) == (change is None):
            self.problem(E_MISSING, where, "a target gives either value or change")
            return None
        baseline = str(raw.get("baseline") or "")
        if change is not None and not PERIOD_RE.fullmatch(baseline):
            self.problem(E_MISSING, where, "a change needs its baseline period (e.g. 2018)")
        by = self.date(f"{where}.by", raw.get("by"))
        if by is None:
            if raw.get("by") is None:
                self.problem(E_MISSING, where, "by is required")
            return None
        return TargetSpec(
            comparator=self.choice(f"{where}.comparator", raw.get("comparator"), COMPARATORS,
                                   ">="),
            by=by, value=value, change=change, baseline=baseline,
            start=self.date(f"{where}.from", raw.get("from"), end=False),
            level=self.level(f"{where}.level", raw.get("level")),
            cumulative=bool(raw.get("cumulative")))

    def feeds(self, raw: Any, codes: set[str], data_sets: Mapping[str, DataSetSpec],
              case_defs: Mapping[str, definitions.CaseTypeDef]) -> tuple[FeedSpec, ...]:
        found = []
        for i, item in enumerate(self.items("indicators.feeds", raw, FEED_KEYS)):
            where = f"indicators.feeds[{i}]"
            element, data_set = str(item.get("element") or ""), str(item.get("data_set") or "")
            if element not in codes:
                self.problem(E_REFERENCE, where, f"unknown element {element!r}")
            spec = data_sets.get(data_set)
            if spec is None:
                self.problem(E_REFERENCE, where, f"unknown data set {data_set!r}")
            else:
                if element not in spec.elements:
                    self.problem(E_REFERENCE, where,
                                 f"element {element!r} is not in data set {data_set!r}")
                if spec.level is None:
                    self.problem(E_MISSING, where,
                                 f"data set {data_set!r} needs a level to be fed by divisions")
            key = str(item.get("case_type") or "")
            definition = case_defs.get(key) or definitions.case_types().get(key)
            if definition is None:
                self.problem(E_REFERENCE, where, f"unknown case type {key!r}")
            figure = str(item.get("figure") or "")
            count = item.get("count")
            total = str(item.get("sum") or "")
            if sum(bool(x) for x in (figure, count, total)) != 1:
                self.problem(E_MISSING, where, "a feed gives one of figure, count or sum")
            if figure and figure not in CASE_FIGURES:
                self.problem(E_SHAPE, where, f"unknown figure {figure!r}")
            if count is not None and count != "cases":
                self.problem(E_SHAPE, where, "count takes the value cases")
            stage, condition = str(item.get("stage") or ""), str(item.get("where") or "")
            if figure and (stage or condition):
                self.problem(E_SHAPE, where, "a figure takes no stage or where")
            if definition is not None:
                fields = {f.key: f for f in definition.fields}
                if stage and stage not in {s.key for s in definition.stages}:
                    self.problem(E_REFERENCE, where, f"unknown stage {stage!r}")
                if total and (total not in fields
                              or fields[total].type not in ("integer", "decimal")):
                    self.problem(E_REFERENCE, where, f"sum needs a number field, not {total!r}")
                if condition:
                    known = set(fields) | set(definition.computed) | definitions.BUILTIN_NAMES
                    try:
                        names, calls = expressions.unknown_names(condition, known,
                                                                 definition.functions)
                    except expressions.ExpressionError as exc:
                        self.problem(E_FORMULA, where, f"{condition!r}: {exc}")
                    else:
                        if names or calls:
                            self.problem(E_REFERENCE, where, f"{condition!r} uses unknown "
                                         f"names {sorted(names | calls)}")
            found.append(FeedSpec(element=element, data_set=data_set, case_type=key,
                                  figure=figure, count=count == "cases", sum=total,
                                  stage=stage, where=condition))
        return tuple(found)

    def lists(self, raw: Any, plan_keys: set[str]) -> tuple[ListSpec, ...]:
        found = []
        seen: set[str] = set()
        for i, item in enumerate(self.items("lists", raw, LIST_KEYS)):
            where = f"lists[{i}]"
            key = self.keyed(where, item, seen)
            columns = tuple(str(c) for c in _as_list(item.get("columns"))) or ("owner", "duty")
            for column in columns:
                if column not in ITEM_KEYS:
                    self.problem(E_UNKNOWN, f"{where}.columns", f"unknown column {column!r}")
            items = []
            for j, entry in enumerate(self.items(f"{where}.items", item.get("items"),
                                                 ITEM_KEYS)):
                items.append(ListItemSpec(**{k: str(v or "") for k, v in entry.items()
                                             if k in ITEM_KEYS}))
            if not items and not item.get("open"):
                self.problem(E_MISSING, where, "a closed list needs items")
            found.append(ListSpec(
                key=key, label=_label(item.get("label"), key), open=bool(item.get("open")),
                columns=columns, items=tuple(items),
                description=_label(item["description"]) if item.get("description") else None,
                plans=self.plan_keys(where, item.get("plans"), plan_keys)))
        return tuple(found)

    def reporting(self, raw: Any, list_keys: set[str],
                  plan_keys: set[str]) -> tuple[CycleSpec, ...]:
        found = []
        seen: set[str] = set()
        for i, item in enumerate(self.items("reporting", raw, CYCLE_KEYS)):
            where = f"reporting[{i}]"
            key = self.keyed(where, item, seen)
            kind = self.choice(f"{where}.kind", item.get("kind"), CYCLE_KINDS, "monthly")
            high = 7 if kind == "weekly" else 31
            due_day = self.integer(f"{where}.due_day", item.get("due_day"),
                                   5 if kind == "weekly" else 25, 1, high)
            due_month = self.integer(f"{where}.due_month", item.get("due_month"), 0, 0,
                                     CYCLE_MONTHS[kind])
            list_key = str(item.get("list") or "")
            if list_key and list_key not in list_keys:
                self.problem(E_REFERENCE, where, f"unknown list {list_key!r}")
            found.append(CycleSpec(
                key=key, label=_label(item.get("label"), key), kind=kind, due_day=due_day,
                due_month=due_month,
                grace_days=self.integer(f"{where}.grace_days", item.get("grace_days"), 10, 0,
                                        90),
                list=list_key, plan_cycle=bool(item.get("plan_cycle")),
                starts=self.date(f"{where}.from", item.get("from"), end=False),
                plans=self.plan_keys(where, item.get("plans"), plan_keys)))
        for plan in plan_keys or {""}:
            marked = [c.key for c in found if c.plan_cycle and (not c.plans or plan in c.plans)]
            if len(marked) > 1:
                self.problem(E_TWICE, "reporting",
                             f"more than one plan_cycle for one plan: {marked}")
            # A report's period id says which cycle it is of: one cycle of each kind per plan.
            kinds: dict[str, str] = {}
            for c in found:
                if c.plans and plan not in c.plans:
                    continue
                if c.kind in kinds:
                    self.problem(E_TWICE, f"reporting: {c.key}",
                                 f"a second {c.kind} cycle for one plan (beside "
                                 f"{kinds[c.kind]!r}): a plan has one cycle of each kind")
                kinds.setdefault(c.kind, c.key)
        return tuple(found)

    def oversight(self, raw: Any) -> OversightSpec | None:
        if raw is None:
            return None
        raw = self.mapping("oversight", raw, OVERSIGHT_KEYS)
        return OversightSpec(
            remind_days=self.integer("oversight.remind_days", raw.get("remind_days"), 3, 0, 30),
            escalate_days=self.integer("oversight.escalate_days", raw.get("escalate_days"), 5,
                                       1, 60),
            reply_days=self.integer("oversight.reply_days", raw.get("reply_days"), 5, 1, 60),
            min_onsite_inspections=self.integer(
                "oversight.min_onsite_inspections", raw.get("min_onsite_inspections"), 0, 0,
                20))

    def milestones(self, raw: Any, indicator_keys: set[str],
                   plan_keys: set[str]) -> tuple[MilestoneSpec, ...]:
        found = []
        seen: set[str] = set()
        for i, item in enumerate(self.items("milestones", raw, MILESTONE_KEYS)):
            where = f"milestones[{i}]"
            key = self.keyed(where, item, seen)
            indicator = str(item.get("indicator") or "")
            if indicator not in indicator_keys:
                self.problem(E_REFERENCE, where, f"unknown indicator {indicator!r}")
            points = []
            for j, point in enumerate(self.items(f"{where}.series", item.get("series"),
                                                 POINT_KEYS)):
                value = self.number(f"{where}.series[{j}].value", point.get("value"))
                by = self.date(f"{where}.series[{j}].by", point.get("by"))
                if value is None or by is None:
                    self.problem(E_MISSING, f"{where}.series[{j}]", "value and by are required")
                    continue
                points.append(MilestonePoint(value=value, by=by))
            if not points:
                self.problem(E_MISSING, where, "series is required")
            if [p.by for p in points] != sorted(p.by for p in points):
                self.problem(E_SHAPE, f"{where}.series", "the dates must be in order")
            found.append(MilestoneSpec(
                key=key, label=_label(item.get("label"), key), indicator=indicator,
                series=tuple(points), task=str(item.get("task") or ""),
                plans=self.plan_keys(where, item.get("plans"), plan_keys)))
        return tuple(found)


def load_spec(path: Path) -> tuple[PackSpec | None, list[Problem]]:
    """Read one pack folder's catalogue sections; problems are returned, not raised."""
    loader = _SpecLoader(path)
    spec = loader.load()
    return spec, loader.problems


@lru_cache(maxsize=1)
def _loaded() -> tuple[dict[str, PackSpec], tuple[Problem, ...]]:
    specs: dict[str, PackSpec] = {}
    problems: list[Problem] = []
    for path in definitions.pack_dirs():
        spec, found = load_spec(path)
        _pack, case_problems = definitions.load_pack(path)
        problems += found
        if spec is None or found or case_problems:
            continue
        if spec.key in specs:
            problems.append(Problem(E_TWICE, spec.key, "pack.yaml", "pack key used twice"))
            continue
        specs[spec.key] = spec
    return specs, tuple(problems)


def packs_available() -> dict[str, PackSpec]:
    """Every pack that loads without problems, by key (sorted)."""
    return dict(sorted(_loaded()[0].items()))


def spec_problems() -> tuple[Problem, ...]:
    return _loaded()[1]


def reload_specs() -> None:
    """Forget the loaded packs (tests that add a pack folder)."""
    _loaded.cache_clear()
