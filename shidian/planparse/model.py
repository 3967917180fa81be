"""What the parser reads and what it produces.

``Document`` is the text being parsed, split into lines with their offsets.
``OutlineNode`` is one numbered or headed item of the plan (built by ``outline``).
``PlanDraft`` is the result; ``PlanDraft.to_dict()`` gives exactly the schema of
``seed_plans/SCHEMA.md`` plus ``findings`` and ``unit_index``. The Python objects carry more
(text spans, the outline node of each task) for callers such as the platform's review page.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Line:
    index: int
    start: int  # offset of the line's first character in Document.text
    end: int  # offset just past the line's last character (newline excluded)
    text: str


@dataclass
class Document:
    name: str
    text: str
    lines: list[Line]

    @classmethod
    def from_text(cls, name: str, text: str) -> Document:
        lines, offset = [], 0
        for index, raw in enumerate(text.split("\n")):
            lines.append(Line(index=index, start=offset, end=offset + len(raw), text=raw))
            offset += len(raw) + 1
        return cls(name=name, text=text, lines=lines)


@dataclass
class OutlineNode:
    """One item of the plan's outline: a part (一、), a group ((一)), an item (1.) and so on."""

    marker: str  # the numbering as printed, '(一)', '1.', '①', '——', '-' for unnumbered
    style: str  # numbering style key, e.g. 'cn、', '(cn)', 'num.', 'num、', '(num)', 'circled'
    title: str
    body: str  # the item's own text, heading included, children excluded
    start: int
    end: int  # span of the item's own text in Document.text
    depth: int = 0
    part_kind: str = ""  # for parts: guiding|principles|goals|tasks|steps|safeguards|other
    children: list[OutlineNode] = field(default_factory=list)
    parent: OutlineNode | None = field(default=None, repr=False, compare=False)
    # 'part' (a part heading such as 二、主要任务), 'item' (a numbered or headed item) or
    # 'container' (the unnumbered paragraph that holds an inline 一是…二是… list). Items inherit
    # part_kind from their part, so part_kind is set on every node (see outline.py).
    role: str = ""
    meta: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def path(self) -> str:
        markers, node = [], self
        while node is not None:
            markers.append(node.marker)
            node = node.parent
        return "/".join(reversed(markers))

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass
class Task:
    path: str
    title: str
    lead_units: list[str] = field(default_factory=list)
    units: list[str] = field(default_factory=list)
    deadline: str | None = None
    deadline_text: str | None = None
    recurrence: str | None = None
    span: tuple[int, int] | None = None
    node: OutlineNode | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path, "title": self.title, "lead_units": list(self.lead_units),
            "units": list(self.units), "deadline": self.deadline,
            "deadline_text": self.deadline_text, "recurrence": self.recurrence,
        }


@dataclass
class Phase:
    name: str
    start: str | None
    end: str | None
    text: str
    span: tuple[int, int] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "start": self.start, "end": self.end, "text": self.text}


@dataclass
class Indicator:
    name: str
    comparator: str
    target: float | int
    unit: str
    deadline: str | None
    text: str
    span: tuple[int, int] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "comparator": self.comparator, "target": self.target,
                "unit": self.unit, "deadline": self.deadline, "text": self.text}


@dataclass
class Reporting:
    what: str
    recurrence: str | None
    due_text: str | None
    to: str | None
    span: tuple[int, int] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"what": self.what, "recurrence": self.recurrence, "due_text": self.due_text,
                "to": self.to}


@dataclass
class GroupMember:
    role: str
    name: str | None
    post: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"role": self.role, "name": self.name, "post": self.post}


@dataclass
class Rule:
    kind: str
    text: str
    value: str
    span: tuple[int, int] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "text": self.text, "value": self.value}


@dataclass
class Finding:
    kind: str  # allocation_sum|allocation_text|deadline_after_period|phase_order|
    #            target_conflict|lone_lead_unit|numbering_gap
    message: str  # in Chinese, for the clerk
    start: int | None = None
    end: int | None = None
    line: int | None = None  # 1-based line number

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "message": self.message,
                "location": {"start": self.start, "end": self.end, "line": self.line}}


@dataclass
class PlanDraft:
    id: str
    title: str = ""
    domain: str = "other"
    issuer: str | None = None
    period_start: str | None = None
    period_end: str | None = None
    goals: list[str] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)
    phases: list[Phase] = field(default_factory=list)
    indicators: list[Indicator] = field(default_factory=list)
    reporting: list[Reporting] = field(default_factory=list)
    leading_group: list[GroupMember] = field(default_factory=list)
    office: str | None = None
    rules: list[Rule] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    # canonical unit name -> the names as written that mean it
    unit_index: dict[str, list[str]] = field(default_factory=dict)
    # extra structured data some plans carry (seed 09's allocation tables)
    allocations: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "domain": self.domain,
            "issuer": self.issuer,
            "period": {"start": self.period_start, "end": self.period_end},
            "goals": list(self.goals),
            "tasks": [t.to_dict() for t in self.tasks],
            "phases": [p.to_dict() for p in self.phases],
            "indicators": [i.to_dict() for i in self.indicators],
            "reporting": [r.to_dict() for r in self.reporting],
            "organization": {
                "leading_group": [m.to_dict() for m in self.leading_group],
                "office": self.office,
            },
            "rules": [r.to_dict() for r in self.rules],
            "findings": [f.to_dict() for f in self.findings],
            "unit_index": {k: list(v) for k, v in self.unit_index.items()},
        }
