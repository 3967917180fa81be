"""Case type definitions: what a pack's YAML says, loaded into frozen dataclasses.

A pack is one folder under ``shidian/packs/`` (or a folder named in ``SHIDIAN_PACK_DIRS``)::

    pack.yaml           key, label, sources, the case type files
    case_type.yaml      fields, documents, stages, transitions, rules
    tables/*.yaml       decision tables (subsidy standards) a programme chooses from
    rules.py            optional: FUNCTIONS = {name: callable} for what an expression cannot say
    scenarios/*.yaml    households with their expected outcome, run by the pack's tests.py

``load_pack`` never raises on a bad pack: it returns the problems with stable ids (``packs.E002
rule named but not registered``), which ``shidian.cases.checks`` reports at start-up, so a broken
pack fails ``manage.py check`` instead of a page. ``case_types()`` holds the packs without
problems, loaded once per process on first use (never at import time).
"""
from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.utils.translation import get_language

from shidian.core.workdays import DayKind

from . import expressions

PACKS_DIR = Path(__file__).resolve().parent.parent / "packs"

FIELD_TYPES = frozenset({
    "text", "integer", "decimal", "date", "boolean", "choice", "multichoice", "id_number",
    "account", "division", "members", "checklist",
})
SECRET_TYPES = frozenset({"id_number", "account"})
LEVELS = {"province": 1, "city": 2, "county": 3, "township": 4, "village": 5}
TRANSITION_KINDS = frozenset({"forward", "return", "reject"})
REASON_MODES = frozenset({"required", "optional", "none"})
OUTCOMES = frozenset({"completed", "rejected", "withdrawn"})
SEVERITIES = frozenset({"error", "warning"})
HIT_POLICIES = frozenset({"max", "first"})
# Built-in names every rule may use besides the case type's fields.
BUILTIN_NAMES = frozenset({"household_size", "today"})


# --- labels -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Label:
    """A pack's own text in Chinese and English (pack data, not code: no gettext catalog)."""

    zh: str
    en: str = ""

    def __str__(self) -> str:
        language = (get_language() or "zh-hans").lower()
        if language.startswith("zh") or not self.en:
            return self.zh
        return self.en


def _label(raw: Any, fallback: str = "") -> Label:
    if isinstance(raw, Mapping):
        zh = str(raw.get("zh") or raw.get("en") or fallback)
        return Label(zh=zh, en=str(raw.get("en") or ""))
    if raw:
        return Label(zh=str(raw))
    return Label(zh=fallback)


# --- definitions ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Choice:
    key: str
    label: Label


@dataclass(frozen=True)
class FieldDef:
    key: str
    type: str
    label: Label
    required: bool = False
    choices: tuple[Choice, ...] = ()
    level: int | None = None  # for division fields
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    max_length: int = 200
    unit: str = ""
    column: str = ""  # header in import files; the Chinese label by default
    relations: tuple[Choice, ...] = ()  # for members
    help: Label | None = None
    # Health data and other sensitive text: kept in the encrypted envelope like ID numbers,
    # masked on pages, each full view logged.
    sensitive: bool = False

    @property
    def secret(self) -> bool:
        return self.type in SECRET_TYPES or self.sensitive

    def choice_label(self, key: str) -> str:
        for choice in (*self.choices, *self.relations):
            if choice.key == key:
                return str(choice.label)
        return key


@dataclass(frozen=True)
class DocumentKind:
    key: str
    label: Label


@dataclass(frozen=True)
class NoticeDef:
    days: int
    kind: DayKind
    place: Label
    title: Label
    on_objection: str


@dataclass(frozen=True)
class TimeLimit:
    days: int
    kind: DayKind


@dataclass(frozen=True)
class Actor:
    roles: tuple[str, ...]
    levels: tuple[int, ...]


@dataclass(frozen=True)
class StageDef:
    key: str
    label: Label
    terminal: bool = False
    outcome: str = ""
    documents: tuple[str, ...] = ()
    notice: NoticeDef | None = None
    time_limit: TimeLimit | None = None
    edit: tuple[str, ...] = ()
    editors: Actor | None = None
    payments: bool = False
    milestone: str = ""


@dataclass(frozen=True)
class GuardDef:
    expr: str
    message: Label
    severity: str = "error"
    rule: str = ""


@dataclass(frozen=True)
class TransitionDef:
    key: str
    label: Label
    sources: tuple[str, ...]
    target: str
    by: Actor
    kind: str = "forward"
    guards: tuple[GuardDef, ...] = ()
    documents: tuple[str, ...] = ()
    reason: str = "none"
    fix_entitlement: bool = False


@dataclass(frozen=True)
class RuleExample:
    given: Mapping[str, Any]
    expect: Any
    note: str = ""


@dataclass(frozen=True)
class RuleDef:
    key: str
    kind: str  # eligibility, check, entitlement
    label: Label
    expr: str = ""
    function: str = ""
    message: Label | None = None
    severity: str = "error"
    examples: tuple[RuleExample, ...] = ()


@dataclass(frozen=True)
class TableRow:
    when: str
    amount: str  # an expression: a number, a parameter, or e.g. max(new_build_amount, 10000)
    label: Label


@dataclass(frozen=True)
class Tranche:
    key: str
    label: Label
    share: Decimal
    after_stage: str


@dataclass(frozen=True)
class TableDef:
    """A subsidy standard (补助标准): base rows (one applies) and add-ons (all that apply)."""

    key: str
    label: Label
    source: str
    hit: str
    rows: tuple[TableRow, ...]
    addons: tuple[TableRow, ...]
    params: Mapping[str, Decimal | None]  # None: the programme must set it
    tranches: tuple[Tranche, ...]
    minimum: bool = False  # amounts are floors (不低于): a programme may pay more
    examples: tuple[RuleExample, ...] = ()

    @property
    def required_params(self) -> list[str]:
        """Parameters the table leaves to the programme (the plan gives no figure)."""
        return [k for k, v in self.params.items() if v is None]


@dataclass(frozen=True)
class CaseTypeDef:
    key: str
    pack: str
    label: Label
    fields: tuple[FieldDef, ...]
    documents: tuple[DocumentKind, ...]
    stages: tuple[StageDef, ...]
    transitions: tuple[TransitionDef, ...]
    rules: tuple[RuleDef, ...]
    tables: tuple[TableDef, ...]
    computed: Mapping[str, str]
    create: Actor
    reveal: Actor
    subject_name: str
    subject_id: str
    members: str
    division: str
    archive: tuple[str, ...]
    list_fields: tuple[str, ...]
    functions: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    # Sections read by other modules of this app (``SECTIONS``): parties, agreements, …
    sections: Mapping[str, Any] = field(default_factory=dict)

    @property
    def initial_stage(self) -> StageDef:
        return self.stages[0]

    def field(self, key: str) -> FieldDef:
        for f in self.fields:
            if f.key == key:
                return f
        raise KeyError(key)

    def stage(self, key: str) -> StageDef:
        for s in self.stages:
            if s.key == key:
                return s
        raise KeyError(key)

    def transition(self, key: str) -> TransitionDef:
        for t in self.transitions:
            if t.key == key:
                return t
        raise KeyError(key)

    def transitions_from(self, stage: str) -> list[TransitionDef]:
        return [t for t in self.transitions if stage in t.sources]

    def rule(self, key: str) -> RuleDef:
        for r in self.rules:
            if r.key == key:
                return r
        raise KeyError(key)

    def table(self, key: str) -> TableDef:
        for t in self.tables:
            if t.key == key:
                return t
        raise KeyError(key)

    def document(self, key: str) -> DocumentKind:
        for d in self.documents:
            if d.key == key:
                return d
        raise KeyError(key)

    def stage_order(self, key: str) -> int:
        return [s.key for s in self.stages].index(key)

    def stages_from(self, key: str) -> list[str]:
        """``key`` and every later stage on the way to completion (not rejected/withdrawn)."""
        start = self.stage_order(key)
        return [s.key for s in self.stages[start:] if s.outcome in ("", "completed")]

    def milestone_stage(self, milestone: str) -> str | None:
        for s in self.stages:
            if s.milestone == milestone:
                return s.key
        return None

    @property
    def secret_fields(self) -> list[FieldDef]:
        return [f for f in self.fields if f.secret]


@dataclass(frozen=True)
class PackDef:
    key: str
    path: Path
    label: Label
    sources: tuple[str, ...]
    case_types: tuple[CaseTypeDef, ...]


@dataclass(frozen=True)
class PackProblem:
    id: str  # packs.E001 ...
    pack: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.pack}: {self.where}: {self.message}"


E_FILE = "packs.E001"  # a file is missing or is not valid YAML
E_UNREGISTERED = "packs.E002"  # rule named but not registered
E_REFERENCE = "packs.E003"  # a stage, field, document, table or role that does not exist
E_EXPRESSION = "packs.E004"  # a rule that does not parse or uses unknown names
E_EXAMPLE = "packs.E005"  # a rule's shipped example gives another result
E_SHAPE = "packs.E006"  # a value of the wrong kind (bad type, duplicate key, missing key)

# Optional case type sections and the module of this app that reads each one, in reading order
# (a later section may refer to an earlier one). Each module has ``load_<section>(loader,
# where, raw, context)`` returning the parsed section and reporting problems on the loader.
SECTIONS = {
    "parties": "parties", "agreements": "parties",
    "schedule": "schedules", "assessments": "schedules",
    "ownership": "transfers", "funds": "funds", "report": "funds",
    "team": "needtoknow", "followup": "followups",
}


class _Loader:
    """Collects problems while reading a pack; never raises on bad content."""

    def __init__(self, path: Path):
        self.path = path
        self.pack = path.name
        self.problems: list[PackProblem] = []

    def problem(self, pid: str, where: str, message: str) -> None:
        self.problems.append(PackProblem(pid, self.pack, where, message))

    def read(self, name: str | Path) -> Any:
        target = self.path / name
        try:
            with open(target, encoding="utf-8") as handle:
                return yaml.safe_load(handle)
        except FileNotFoundError:
            self.problem(E_FILE, str(name), "file not found")
        except yaml.YAMLError as exc:
            self.problem(E_FILE, str(name), f"not valid YAML: {exc}")
        return None

    def decimal(self, where: str, value: Any) -> Decimal | None:
        if value is None:
            return None
        try:
            return Decimal(str(value))
        except InvalidOperation:
            self.problem(E_SHAPE, where, f"{value!r} is not a number")
            return None

    def actor(self, where: str, raw: Any) -> Actor:
        from shidian.orgs.models import Role

        raw = raw or {}
        roles = tuple(str(r) for r in _as_list(raw.get("roles")))
        for role in roles:
            if role not in Role.values:
                self.problem(E_REFERENCE, where, f"unknown role {role!r}")
        levels = []
        for level in _as_list(raw.get("levels") or raw.get("level")):
            if level not in LEVELS:
                self.problem(E_REFERENCE, where, f"unknown division level {level!r}")
            else:
                levels.append(LEVELS[level])
        if not roles:
            self.problem(E_SHAPE, where, "names no role allowed to act")
        return Actor(roles=roles, levels=tuple(levels))

    def load(self) -> PackDef | None:
        meta = self.read("pack.yaml")
        if not isinstance(meta, Mapping):
            if meta is not None:
                self.problem(E_SHAPE, "pack.yaml", "must be a mapping")
            return None
        key = str(meta.get("key") or self.path.name)
        self.pack = key
        functions = self.functions(meta)
        case_types = []
        # Absent: the default file; an empty list: a data pack without case types.
        names = meta["case_types"] if "case_types" in meta else ["case_type.yaml"]
        for name in _as_list(names):
            raw = self.read(name)
            if isinstance(raw, Mapping):
                case_types.append(self.case_type(str(name), raw, functions))
            elif raw is not None:
                self.problem(E_SHAPE, str(name), "must be a mapping")
        return PackDef(key=key, path=self.path, label=_label(meta.get("label"), key),
                       sources=tuple(str(s) for s in _as_list(meta.get("sources"))),
                       case_types=tuple(case_types))

    def functions(self, meta: Mapping[str, Any]) -> dict[str, Callable[..., Any]]:
        module_file = self.path / "rules.py"
        if not module_file.exists():
            return {}
        spec = importlib.util.spec_from_file_location(f"shidian_pack_{self.pack}_rules",
                                                      module_file)
        if spec is None or spec.loader is None:
            self.problem(E_FILE, "rules.py", "cannot be imported")
            return {}
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except Exception as exc:  # noqa: BLE001 - any import failure is a pack problem to report
            self.problem(E_FILE, "rules.py", f"cannot be imported: {exc!r}")
            return {}
        registered = getattr(module, "FUNCTIONS", {})
        if not isinstance(registered, Mapping):
            self.problem(E_SHAPE, "rules.py", "FUNCTIONS must be a dict of name -> callable")
            return {}
        return {str(k): v for k, v in registered.items() if callable(v)}

    # The case type, section by section.
    def case_type(self, name: str, raw: Mapping[str, Any],
                  functions: Mapping[str, Callable[..., Any]]) -> CaseTypeDef:
        key = str(raw.get("key") or self.pack)
        fields = self.fields(name, raw.get("fields"))
        field_keys = {f.key for f in fields}
        computed = {str(k): str(v) for k, v in (raw.get("computed") or {}).items()}
        known_names = field_keys | set(computed) | BUILTIN_NAMES
        documents = self.documents(name, raw.get("documents"))
        doc_keys = {d.key for d in documents}
        tables = tuple(self.table(f"tables/{p.name}", p) for p in
                       sorted((self.path / "tables").glob("*.yaml")))
        table_params = set().union(*(t.params.keys() for t in tables)) if tables else set()
        rules = self.rules(name, raw.get("rules"), known_names | table_params, functions)
        rule_keys = {r.key for r in rules}
        stages = self.stages(name, raw.get("stages"), field_keys, doc_keys)
        stage_keys = {s.key for s in stages}
        transitions = self.transitions(name, raw.get("transitions"), stage_keys, doc_keys,
                                       rule_keys, known_names | table_params, functions)
        subject = raw.get("subject") or {}
        refs = {
            "subject.name": (subject.get("name"), {"text"}),
            "subject.id_number": (subject.get("id_number"), {"id_number"}),
            "subject.members": (subject.get("members"), {"members"}),
            "subject.division": (subject.get("division"), {"division"}),
        }
        types = {f.key: f.type for f in fields}
        for where, (ref, wanted) in refs.items():
            if ref is None and where in ("subject.members", "subject.id_number"):
                continue  # a case about one person has no members; a room has no ID number
            if ref is None or types.get(str(ref)) not in wanted:
                self.problem(E_REFERENCE, f"{name}: {where}",
                             f"must name a field of type {'/'.join(sorted(wanted))}")
        for expr_key, text in computed.items():
            self.expression(f"{name}: computed.{expr_key}", text, known_names | table_params,
                            functions)
        for table in tables:
            for row in (*table.rows, *table.addons):
                for text in (row.when, row.amount):
                    self.expression(f"tables/{table.key}", text, known_names | table_params,
                                    functions)
            for tranche in table.tranches:
                if tranche.after_stage not in stage_keys:
                    self.problem(E_REFERENCE, f"tables/{table.key}",
                                 f"tranche {tranche.key!r} after unknown stage "
                                 f"{tranche.after_stage!r}")
        self.table_names(name, tables, rules, transitions, computed,
                         field_keys | set(computed) | BUILTIN_NAMES)
        archive = tuple(str(d) for d in _as_list(raw.get("archive")))
        for doc in archive:
            if doc not in doc_keys:
                self.problem(E_REFERENCE, f"{name}: archive", f"unknown document {doc!r}")
        list_fields = tuple(str(f) for f in _as_list(raw.get("list_fields")))
        for f in list_fields:
            if f not in field_keys:
                self.problem(E_REFERENCE, f"{name}: list_fields", f"unknown field {f!r}")
        if stages and stages[0].terminal:
            self.problem(E_SHAPE, f"{name}: stages", "the first stage cannot be terminal")
        sections = self.sections(name, raw, {
            "fields": {f.key: f for f in fields}, "names": known_names | table_params,
            "stages": stage_keys, "transitions": {t.key for t in transitions},
            "documents": doc_keys, "functions": functions})
        return CaseTypeDef(
            key=key, pack=self.pack, label=_label(raw.get("label"), key), fields=fields,
            documents=documents, stages=stages, transitions=transitions, rules=rules,
            tables=tables, computed=computed,
            create=self.actor(f"{name}: create", raw.get("create")),
            reveal=self.actor(f"{name}: reveal", raw.get("reveal")),
            subject_name=str(subject.get("name") or ""),
            subject_id=str(subject.get("id_number") or ""),
            members=str(subject.get("members") or ""),
            division=str(subject.get("division") or ""),
            archive=archive, list_fields=list_fields, functions=dict(functions),
            sections=sections)

    def sections(self, name: str, raw: Mapping[str, Any],
                 context: dict[str, Any]) -> dict[str, Any]:
        parsed: dict[str, Any] = {}
        for section, module_name in SECTIONS.items():
            if raw.get(section) is None:
                continue
            module = importlib.import_module(f"{__package__}.{module_name}")
            context["sections"] = parsed
            parsed[section] = getattr(module, f"load_{section}")(
                self, f"{name}: {section}", raw[section], context)
        return parsed

    def table_names(self, name: str, tables: tuple[TableDef, ...], rules: tuple[RuleDef, ...],
                    transitions: tuple[TransitionDef, ...], computed: Mapping[str, str],
                    own: set[str]) -> None:
        """A parameter a rule uses must be given by every table a programme may choose."""
        texts = [r.expr for r in rules if r.expr] + list(computed.values())
        texts += [g.expr for t in transitions for g in t.guards if g.expr]
        for table in tables:
            texts_here = texts + [text for row in (*table.rows, *table.addons)
                                  for text in (row.when, row.amount)]
            for text in texts_here:
                try:
                    used = expressions.parse(text).names()
                except expressions.ExpressionError:
                    continue  # reported as packs.E004 already
                for missing in sorted(used - own - set(table.params)):
                    if any(missing in t.params for t in tables):
                        self.problem(E_REFERENCE, f"tables/{table.key}",
                                     f"parameter {missing!r} used by {text!r} is not set")

    def fields(self, name: str, raw: Any) -> tuple[FieldDef, ...]:
        fields: list[FieldDef] = []
        seen: set[str] = set()
        for i, item in enumerate(_as_list(raw)):
            where = f"{name}: fields[{i}]"
            if not isinstance(item, Mapping) or not item.get("key"):
                self.problem(E_SHAPE, where, "a field needs a key")
                continue
            key, ftype = str(item["key"]), str(item.get("type") or "text")
            if key in seen:
                self.problem(E_SHAPE, where, f"field {key!r} defined twice")
            seen.add(key)
            if ftype not in FIELD_TYPES:
                self.problem(E_SHAPE, where, f"unknown field type {ftype!r}")
            choices = self.choices(where, item.get("choices"))
            if ftype in ("choice", "multichoice", "checklist") and not choices:
                self.problem(E_SHAPE, where, f"a {ftype} field needs choices")
            level = item.get("level")
            if level == "any":  # a division at any level (an institution's division)
                level = None
            elif ftype == "division" and level not in LEVELS:
                self.problem(E_REFERENCE, where, f"unknown division level {level!r}")
            label = _label(item.get("label"), key)
            fields.append(FieldDef(
                key=key, type=ftype, label=label, required=bool(item.get("required")),
                choices=choices, level=LEVELS.get(level) if level else None,
                minimum=self.decimal(where, item.get("min")),
                maximum=self.decimal(where, item.get("max")),
                max_length=int(item.get("max_length") or 200), unit=str(item.get("unit") or ""),
                column=str(item.get("column") or label.zh),
                relations=self.choices(where, item.get("relations")),
                help=_label(item["help"]) if item.get("help") else None,
                sensitive=bool(item.get("sensitive"))))
            if item.get("sensitive") and ftype not in ("text", "choice"):
                self.problem(E_SHAPE, where, "only a text or choice field can be sensitive")
        return tuple(fields)

    def choices(self, where: str, raw: Any) -> tuple[Choice, ...]:
        choices = []
        for item in _as_list(raw):
            if not isinstance(item, Mapping) or not item.get("key"):
                self.problem(E_SHAPE, where, "a choice needs a key")
                continue
            choices.append(Choice(str(item["key"]), _label(item.get("label"), str(item["key"]))))
        return tuple(choices)

    def documents(self, name: str, raw: Any) -> tuple[DocumentKind, ...]:
        docs = []
        for item in _as_list(raw):
            if not isinstance(item, Mapping) or not item.get("key"):
                self.problem(E_SHAPE, f"{name}: documents", "a document needs a key")
                continue
            docs.append(DocumentKind(str(item["key"]), _label(item.get("label"), item["key"])))
        return tuple(docs)

    def stages(self, name: str, raw: Any, field_keys: set[str],
               doc_keys: set[str]) -> tuple[StageDef, ...]:
        stages: list[StageDef] = []
        for i, item in enumerate(_as_list(raw)):
            where = f"{name}: stages[{i}]"
            if not isinstance(item, Mapping) or not item.get("key"):
                self.problem(E_SHAPE, where, "a stage needs a key")
                continue
            key = str(item["key"])
            for doc in _as_list(item.get("documents")):
                if doc not in doc_keys:
                    self.problem(E_REFERENCE, where, f"unknown document {doc!r}")
            for f in _as_list(item.get("edit")):
                if f not in field_keys:
                    self.problem(E_REFERENCE, where, f"unknown field {f!r}")
            outcome = str(item.get("outcome") or "")
            if outcome and outcome not in OUTCOMES:
                self.problem(E_SHAPE, where, f"unknown outcome {outcome!r}")
            stages.append(StageDef(
                key=key, label=_label(item.get("label"), key),
                terminal=bool(item.get("terminal") or outcome),
                outcome=outcome,
                documents=tuple(str(d) for d in _as_list(item.get("documents"))),
                notice=self.notice(where, item.get("notice")),
                time_limit=self.time_limit(where, item.get("time_limit")),
                edit=tuple(str(f) for f in _as_list(item.get("edit"))),
                editors=self.actor(where, item["editors"]) if item.get("editors") else None,
                payments=bool(item.get("payments")),
                milestone=str(item.get("milestone") or "")))
            if item.get("edit") and not item.get("editors"):
                self.problem(E_SHAPE, where, "a stage with editable fields must name editors")
        keys = [s.key for s in stages]
        for key in {k for k in keys if keys.count(k) > 1}:
            self.problem(E_SHAPE, f"{name}: stages", f"stage {key!r} defined twice")
        for stage in stages:
            if stage.notice and stage.notice.on_objection not in keys:
                self.problem(E_REFERENCE, f"{name}: stages.{stage.key}.notice",
                             f"unknown stage {stage.notice.on_objection!r}")
        return tuple(stages)

    def notice(self, where: str, raw: Any) -> NoticeDef | None:
        if not raw:
            return None
        kind = str(raw.get("kind") or "calendar")
        if kind not in DayKind.__members__.values():
            self.problem(E_SHAPE, where, f"unknown day kind {kind!r}")
            kind = "calendar"
        return NoticeDef(days=int(raw.get("days") or 0), kind=DayKind(kind),
                         place=_label(raw.get("place"), ""), title=_label(raw.get("title"), ""),
                         on_objection=str(raw.get("on_objection") or ""))

    def time_limit(self, where: str, raw: Any) -> TimeLimit | None:
        if not raw:
            return None
        kind = str(raw.get("kind") or "working")
        if kind not in DayKind.__members__.values():
            self.problem(E_SHAPE, where, f"unknown day kind {kind!r}")
            kind = "working"
        return TimeLimit(days=int(raw.get("days") or 0), kind=DayKind(kind))

    def expression(self, where: str, text: str, known: set[str],
                   functions: Mapping[str, Any]) -> bool:
        try:
            names, calls = expressions.unknown_names(text, known, functions)
        except expressions.ExpressionError as exc:
            self.problem(E_EXPRESSION, where, f"{text!r}: {exc}")
            return False
        if names:
            self.problem(E_EXPRESSION, where, f"{text!r} uses unknown names {sorted(names)}")
        if calls:
            self.problem(E_UNREGISTERED, where,
                         f"{text!r} calls functions not registered: {sorted(calls)}")
        return not names and not calls

    def examples(self, where: str, raw: Any) -> tuple[RuleExample, ...]:
        examples = []
        for item in _as_list(raw):
            if not isinstance(item, Mapping) or "given" not in item or "expect" not in item:
                self.problem(E_SHAPE, where, "an example needs given and expect")
                continue
            examples.append(RuleExample(given=dict(item["given"] or {}), expect=item["expect"],
                                        note=str(item.get("note") or "")))
        return tuple(examples)

    def rules(self, name: str, raw: Any, known: set[str],
              functions: Mapping[str, Any]) -> tuple[RuleDef, ...]:
        rules = []
        for key, item in (raw or {}).items():
            where = f"{name}: rules.{key}"
            if not isinstance(item, Mapping):
                self.problem(E_SHAPE, where, "a rule must be a mapping")
                continue
            expr, function = str(item.get("expr") or ""), str(item.get("function") or "")
            if bool(expr) == bool(function):
                self.problem(E_SHAPE, where, "a rule has either expr or function")
            if expr:
                self.expression(where, expr, known, functions)
            if function and function not in functions:
                self.problem(E_UNREGISTERED, where,
                             f"rule named {function!r} but not registered in rules.py")
            severity = str(item.get("severity") or "error")
            if severity not in SEVERITIES:
                self.problem(E_SHAPE, where, f"unknown severity {severity!r}")
            rules.append(RuleDef(
                key=str(key), kind=str(item.get("kind") or "check"),
                label=_label(item.get("label"), str(key)), expr=expr, function=function,
                message=_label(item["message"]) if item.get("message") else None,
                severity=severity, examples=self.examples(where, item.get("examples"))))
        return tuple(rules)

    def transitions(self, name: str, raw: Any, stages: set[str], docs: set[str],
                    rules: set[str], known: set[str],
                    functions: Mapping[str, Any]) -> tuple[TransitionDef, ...]:
        transitions: list[TransitionDef] = []
        seen: set[str] = set()
        for i, item in enumerate(_as_list(raw)):
            where = f"{name}: transitions[{i}]"
            if not isinstance(item, Mapping) or not item.get("key"):
                self.problem(E_SHAPE, where, "a transition needs a key")
                continue
            key = str(item["key"])
            if key in seen:
                self.problem(E_SHAPE, where, f"transition {key!r} defined twice")
            seen.add(key)
            sources = tuple(str(s) for s in _as_list(item.get("from")))
            target = str(item.get("to") or "")
            if not sources:
                self.problem(E_SHAPE, where, "a transition needs from")
            for end in (*sources, target):
                if end not in stages:
                    self.problem(E_REFERENCE, where, f"unknown stage {end!r}")
            kind = str(item.get("kind") or "forward")
            if kind not in TRANSITION_KINDS:
                self.problem(E_SHAPE, where, f"unknown kind {kind!r}")
            reason = str(item.get("reason") or ("none" if kind == "forward" else "required"))
            if reason not in REASON_MODES:
                self.problem(E_SHAPE, where, f"unknown reason mode {reason!r}")
            for doc in _as_list(item.get("documents")):
                if doc not in docs:
                    self.problem(E_REFERENCE, where, f"unknown document {doc!r}")
            guards = []
            for j, guard in enumerate(_as_list(item.get("guards"))):
                gwhere = f"{where}.guards[{j}]"
                if isinstance(guard, str):
                    guard = {"rule": guard}
                if not isinstance(guard, Mapping):
                    self.problem(E_SHAPE, gwhere, "a guard is a rule name or {expr, message}")
                    continue
                if guard.get("rule"):
                    if guard["rule"] not in rules:
                        self.problem(E_UNREGISTERED, gwhere,
                                     f"rule named {guard['rule']!r} but not defined")
                    guards.append(GuardDef(expr="", rule=str(guard["rule"]),
                                           message=_label(guard.get("message"), ""),
                                           severity=str(guard.get("severity") or "")))
                elif guard.get("expr"):
                    self.expression(gwhere, str(guard["expr"]), known, functions)
                    guards.append(GuardDef(expr=str(guard["expr"]),
                                           message=_label(guard.get("message"), guard["expr"]),
                                           severity=str(guard.get("severity") or "error")))
                else:
                    self.problem(E_SHAPE, gwhere, "a guard needs a rule or an expr")
            transitions.append(TransitionDef(
                key=key, label=_label(item.get("label"), key), sources=sources, target=target,
                by=self.actor(where, item.get("by")), kind=kind, guards=tuple(guards),
                documents=tuple(str(d) for d in _as_list(item.get("documents"))),
                reason=reason, fix_entitlement=bool(item.get("fix_entitlement"))))
        return tuple(transitions)

    def table(self, where: str, path: Path) -> TableDef:
        raw = self.read(Path("tables") / path.name) or {}
        if not isinstance(raw, Mapping):
            self.problem(E_SHAPE, where, "must be a mapping")
            raw = {}
        params: dict[str, Decimal | None] = {}
        for key, value in (raw.get("params") or {}).items():
            params[str(key)] = self.decimal(f"{where}: params.{key}", value)
        hit = str(raw.get("hit") or "max")
        if hit not in HIT_POLICIES:
            self.problem(E_SHAPE, where, f"unknown hit policy {hit!r}")

        def rows(section: str) -> tuple[TableRow, ...]:
            out = []
            for i, item in enumerate(_as_list(raw.get(section))):
                rwhere = f"{where}: {section}[{i}]"
                if not isinstance(item, Mapping) or not item.get("when"):
                    self.problem(E_SHAPE, rwhere, "a row needs when")
                    continue
                amount = str(item.get("amount", 0))
                out.append(TableRow(when=str(item["when"]), amount=amount,
                                    label=_label(item.get("label"), str(item["when"]))))
            return tuple(out)

        tranches = []
        for i, item in enumerate(_as_list(raw.get("tranches"))):
            share = self.decimal(f"{where}: tranches[{i}]", item.get("share")) or Decimal(0)
            tranches.append(Tranche(key=str(item.get("key") or i), label=_label(
                item.get("label"), str(item.get("key") or i)), share=share,
                after_stage=str(item.get("after_stage") or "")))
        if tranches and sum(t.share for t in tranches) != 1:
            self.problem(E_SHAPE, f"{where}: tranches", "the shares must add up to 1")
        if not tranches:
            self.problem(E_SHAPE, f"{where}: tranches", "a table names at least one tranche")
        return TableDef(
            key=str(raw.get("key") or path.stem), label=_label(raw.get("label"), path.stem),
            source=str(raw.get("source") or ""), hit=hit, rows=rows("rows"),
            addons=rows("addons"), params=params, tranches=tuple(tranches),
            minimum=bool(raw.get("minimum")),
            examples=self.examples(where, raw.get("examples")))


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


def load_pack(path: Path) -> tuple[PackDef | None, list[PackProblem]]:
    """Read one pack folder; problems are returned, not raised."""
    loader = _Loader(Path(path))
    pack = loader.load()
    if pack is not None:
        from .engine import example_problems

        for case_type in pack.case_types:
            loader.problems.extend(example_problems(case_type))
    return pack, loader.problems


def pack_dirs() -> list[Path]:
    """Every pack folder: those shipped under shidian/packs and those named in settings."""
    dirs = sorted(p.parent for p in PACKS_DIR.glob("*/pack.yaml"))
    extra = getattr(settings, "SHIDIAN_PACK_DIRS", None) or os.environ.get(
        "SHIDIAN_PACK_DIRS", "")
    if isinstance(extra, str):
        extra = [p for p in extra.split(os.pathsep) if p]
    dirs += [Path(p) for p in extra]
    return dirs


@lru_cache(maxsize=1)
def _loaded() -> tuple[dict[str, CaseTypeDef], tuple[PackProblem, ...]]:
    types: dict[str, CaseTypeDef] = {}
    problems: list[PackProblem] = []
    for path in pack_dirs():
        pack, found = load_pack(path)
        problems += found
        if pack is None or found:
            continue
        for case_type in pack.case_types:
            if case_type.key in types:
                problems.append(PackProblem(E_SHAPE, pack.key, case_type.key,
                                            "case type key used by another pack"))
                continue
            types[case_type.key] = case_type
    return types, tuple(problems)


def case_types() -> dict[str, CaseTypeDef]:
    """The case types of every pack that loads without problems."""
    return _loaded()[0]


def pack_problems() -> tuple[PackProblem, ...]:
    return _loaded()[1]


def case_type_get(key: str) -> CaseTypeDef:
    try:
        return case_types()[key]
    except KeyError:
        from shidian.core.errors import not_found

        raise not_found("case type", case_type=key) from None


def reload_packs() -> None:
    """Forget the loaded packs (tests that add a pack folder)."""
    _loaded.cache_clear()


def all_labels(items: Iterable[Choice]) -> dict[str, str]:
    return {c.key: str(c.label) for c in items}
