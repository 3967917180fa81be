"""Phases, the plan's period, and each task's deadline and recurrence (NOTES.md conventions 3, 8).

- A phase is a step that carries a period: a heading with a bracketed period (``(一)确定试点
  (2019年8月)``, ``(一)试点启动阶段。(2020年6-7月)``), a ``TIME为X阶段`` sentence, a dated range
  in a sentence about a 阶段, or a goal sentence staged by year (``2020年…;2021年…;2022年5月…``).
- A task's deadline is the latest time limit of its own text; items of a step take the end of
  the step's period; a task that sets up a recurring duty keeps the per-cycle words (每月月底前)
  with deadline null; a limit that cannot be dated keeps its words with deadline null.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, replace

from .model import Document, OutlineNode, Phase, PlanDraft, Task
from .timeexpr import (
    TimeExpr, cycle_limit, date_key, doc_times, find_recurrences, find_times, find_vague_limits, fold,
    has_time, latest, mask_references,
)

# --------------------------------------------------------------------------- text helpers

_LINE_MARKER = re.compile(
    r"^\s*(?:第[一二三四五六七八九十]+(?:阶段|步)[:：、]?|[一二三四五六七八九十]+[、.．]|[(（][一二三四五六七八九十\d]+[)）]"
    r"|\d+[.．、](?!\d)|[①-⑳]|——)\s*")
_PAREN_TIME = re.compile(r"[(（]([^()（）]{2,40})[)）]")
_ORDINAL_STAGE = re.compile(r"第[一二三四五六七八九十\d]{1,2}阶段")
_STAGE_NAME = re.compile(r"[\u4e00-\u9fff]{2,4}阶段")
_FOR_STAGE = re.compile(r"(?:^|[。;;:：,，\n])\s*(?P<time>[^,,。;;:：\n为是]{1,40}?)[,,]?\s*(?:为|是)(?P<name>[^,,。;;\n为]{2,14}?阶段)")
# TIME,X阶段 / TIME:X阶段 (the time words alone before the comma)
_STAGE_AFTER_TIME = re.compile(r"(?:^|[。;;:：\n])\s*(?P<time>[^,,。;;:：\n]{4,30}?)[,,:：]\s*"
                               r"(?P<name>[\u4e00-\u9fff]{2,10}?阶段)(?=[。.,,;;:：\s(（]|$)")
_TIME_CHARS = re.compile(r"^[\d\s\-—~至到年月日号底初末上中下旬*×.]+$")
_SENT_SPLIT = re.compile(r"[^。!?！？\n]+[。!?！？]?")


@dataclass
class _PhaseFound:
    phase: Phase
    node: OutlineNode | None
    plan_level: bool  # counts for the plan's period


# patterns used below, compiled once
_HEAD_STOP = re.compile(r"[。:：]")
_SEMICOLON = re.compile(r"([;；])")


def node_text(doc: Document, node: OutlineNode) -> str:
    """The node's own text (heading included, children excluded)."""
    if 0 <= node.start <= node.end <= len(doc.text):
        own = doc.text[node.start:node.end]
        if own and (not node.body or own.startswith(node.body[:8])):
            block = node.meta.get("attr_block")
            if block:  # its attribution lines after its children (牵头单位:… 完成时限:…)
                own += "\n" + doc.text[block[0]:block[1]]
            return own
    return node.body or ""


def task_text(doc: Document, task: Task) -> str:
    if task.node is not None:
        return node_text(doc, task.node)
    if task.span and 0 <= task.span[0] <= task.span[1] <= len(doc.text):
        return doc.text[task.span[0]:task.span[1]]
    return task.title or ""


def _heading_line(text: str) -> str:
    return text.split("\n", 1)[0]


def _title_without_time(title: str, expr_text: str) -> str:
    name = title
    for opener, closer in (("(", ")"), ("（", "）")):
        name = name.replace(opener + expr_text + closer, "")
    name = name.replace(expr_text, "")
    return name.strip(" 。.,，:：;；、")


# --------------------------------------------------------------------------- phases

_STAGE_WORD = re.compile(r"阶段|第[一二三四五六七八九十]+步")


def _heading_phase(heading: str, title: str) -> tuple[str, TimeExpr] | None:
    """(name, period) when a heading line carries a period: 确定试点(2019年8月), X阶段:2019年…

    The bracketed period must be part of the heading: inside the words before the first 。/:,
    or straight after them (``(一)试点启动阶段。(2020年6-7月)``); a cited title's years do not count.
    """
    if not has_time(heading[:130]):
        return None
    marker = _LINE_MARKER.match(heading)
    body = heading[marker.end():] if marker else heading
    masked = mask_references(fold(body[:120]))
    stop = _HEAD_STOP.search(masked)
    head_end = stop.end() if stop else len(masked)
    for m in _PAREN_TIME.finditer(masked):
        if m.start() > head_end:
            break
        inner = m.group(1).strip()
        exprs = find_times(inner)
        if len(exprs) == 1 and exprs[0].role in ("start", "limit") and exprs[0].suffix \
                and (exprs[0].text + exprs[0].suffix).strip() == inner \
                and _STAGE_WORD.search(heading[:m.start() + (marker.end() if marker else 0)]):
            # an open period of a stage: 实际付费阶段(2023年7月起) has a start only, 第一阶段:
            # 动员部署(2023年3月底前) an end only (a task's own (…底前) is its deadline, no phase)
            expr = exprs[0]
            expr = replace(expr, text=inner, until=None) if expr.role == "start" else \
                replace(expr, text=inner, begin=None)
            exprs = [expr]
        if len(exprs) == 1 and exprs[0].role in ("span", "point", "limit", "start") \
                and exprs[0].text.strip() == inner and (exprs[0].suffix == "" or exprs[0].text == inner):
            name = _title_without_time(title or body[:m.start()], inner) or body[:m.start()].strip(" 。.")
            name = _title_without_time(name, inner)
            if not name:  # 第一阶段(2021年1月—6月):动员部署
                after = _HEAD_STOP.split(body[m.end():].lstrip(" :："), maxsplit=1)[0].strip(" 。.")
                name = after[:20] or (marker.group(0).strip(" :：、") if marker else "")
            return name, exprs[0]
    k = masked.find("阶段")
    if 0 <= k < 20:
        for expr in find_times(body[:120], masked=masked):
            if expr.role in ("span", "point") and expr.start > k and expr.start < head_end + 2:
                name = (title or body[:k + 2]).strip(" 。.,，:：")
                return _title_without_time(name, expr.text), expr
    return None


def _abs_span(heading: str, words: str, offset: int) -> tuple[int, int]:
    k = heading.find(words)
    k = max(k, 0)
    return offset + k, offset + k + len(words)


def _phase(name: str | None, expr: TimeExpr | None, text: str, span) -> Phase:
    if expr is None:
        return Phase(name=name, start=None, end=None, text=text, span=span)
    return Phase(name=name, start=expr.begin, end=expr.until, text=text, span=span)


def find_phases(doc: Document, roots: list[OutlineNode], tasks: list[Task]) -> list[_PhaseFound]:
    found: list[_PhaseFound] = []
    node_headings: list[tuple[int, int]] = []
    for node in (n for r in roots for n in r.walk()):
        text = node_text(doc, node)
        heading = _heading_line(text)
        got = _heading_phase(heading, node.title)
        if got:
            name, expr = got
            found.append(_PhaseFound(_phase(name, expr, expr.text, _abs_span(heading, expr.text, node.start)),
                                     node, True))
            node_headings.append((node.start, node.start + len(heading)))
    taken = _Spans(node_headings)
    # numbered sentences the outline did not take (no outline, or text run into one line)
    for line in doc.lines:
        if not has_time(line.text):
            continue
        for m in _SENT_SPLIT.finditer(line.text):
            pos = line.start + m.start()
            if not _LINE_MARKER.match(m.group(0)) or taken.contains(pos):
                continue
            heading = line.text[m.start():m.end() + 40]
            got = _heading_phase(heading, "")
            if got:
                name, expr = got
                found.append(_PhaseFound(_phase(name, expr, expr.text, _abs_span(heading, expr.text, pos)),
                                         None, True))
    static = _Spans(p.phase.span for p in found if p.phase.span)
    added: list[tuple[int, int]] = []  # in text order

    def inside_found(pos: int) -> bool:
        if static.contains(pos):
            return True
        i = bisect.bisect_right(added, (pos, float("inf"))) - 1
        return i >= 0 and added[i][0] <= pos < added[i][1]

    task_spans = _Spans(_span_of(t) for t in tasks)
    for line in doc.lines:
        if not line.text.strip():
            continue
        if "阶段" not in line.text:
            if (";" in line.text or "；" in line.text or _COMMA_STAGES.search(line.text)) \
                    and has_time(line.text):
                found.extend(_staged_goal(line, task_spans))
            continue
        # TIME为X阶段 (the time may be redacted down to a dash: '-为巩固提升阶段')
        for m in _FOR_STAGE.finditer(line.text):
            time_part = m.group("time").strip()
            exprs = find_times(time_part)
            pos = line.start + m.start("time")
            if inside_found(pos):
                continue
            if exprs and exprs[0].role != "cycle":
                expr = exprs[0] if len(exprs) == 1 else None
                if expr is None:
                    # 2019年10月至2019年12月 read as two points
                    lo, hi = exprs[0], exprs[-1]
                    ph = Phase(name=m.group("name"), start=lo.begin, end=hi.until,
                               text=time_part, span=(pos, pos + len(time_part)))
                else:
                    ph = Phase(name=m.group("name"), start=expr.begin, end=expr.until,
                               text=expr.text if expr.text == time_part else time_part,
                               span=(pos, pos + len(time_part)))
                found.append(_PhaseFound(ph, None, True))
            elif _TIME_CHARS.match(time_part):
                words = line.text[m.start("time"):m.end("name")].strip()
                found.append(_PhaseFound(Phase(name=m.group("name"), start=None, end=None, text=words,
                                               span=(pos, line.start + m.end("name"))), None, True))
        for m in _STAGE_AFTER_TIME.finditer(line.text):
            time_part = m.group("time").strip()
            exprs = find_times(time_part)
            pos = line.start + m.start("time")
            if len(exprs) != 1 or exprs[0].text != time_part or inside_found(pos) or exprs[0].role == "cycle":
                continue
            expr = exprs[0]
            found.append(_PhaseFound(Phase(name=m.group("name"), start=expr.begin, end=expr.until, text=expr.text,
                                           span=(pos, pos + len(time_part))), None, True))
            added.append((pos, pos + len(time_part)))
        # a dated range in a sentence about a 阶段
        for sm in _SENT_SPLIT.finditer(line.text):
            sentence = sm.group(0)
            if "阶段" not in sentence:
                continue
            for expr in find_times(sentence):
                pos = line.start + sm.start() + expr.start
                if not expr.is_range or expr.role == "start" or inside_found(pos) or not expr.until:
                    continue
                ordinal = list(_ORDINAL_STAGE.finditer(sentence))
                names = [(abs(nm.start() - expr.start), nm.group(0))
                         for nm in (ordinal or list(_STAGE_NAME.finditer(sentence)))]
                name = min(names)[1] if names else None
                found.append(_PhaseFound(Phase(name=name, start=expr.begin, end=expr.until, text=expr.text,
                                               span=(pos, pos + len(expr.text))), None, False))
                added.append((pos, pos + len(expr.text)))
        # a goal staged by year: 2020年…;2021年…;2022年5月…
        if ";" in line.text or "；" in line.text or _COMMA_STAGES.search(line.text):
            found.extend(_staged_goal(line, task_spans))
    return _dedupe(found)


class _Spans:
    """Offset ranges with a fast 'is this offset inside one of them' test."""

    def __init__(self, spans):
        merged: list[list[int]] = []
        for a, b in sorted((a, b) for a, b in spans if a is not None and b is not None and b > a):
            if merged and a <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        self.starts = [a for a, _ in merged]
        self.ends = [b for _, b in merged]

    def __bool__(self) -> bool:
        return bool(self.starts)

    def contains(self, pos: int) -> bool:
        i = bisect.bisect_right(self.starts, pos) - 1
        return i >= 0 and pos < self.ends[i]


def _staged_goal(line, task_spans: _Spans | None = None) -> list[_PhaseFound]:
    """Goal sentences staged by year, outside the tasks (a task's dated steps are its own)."""
    out = []
    in_item = bool(_LINE_MARKER.match(line.text))  # a numbered item's dated steps are its own
    for m in _SENT_SPLIT.finditer(line.text):
        pos = line.start + m.start()
        if (task_spans and task_spans.contains(pos)) or (in_item and not task_spans):
            continue
        if ";" in m.group(0) or "；" in m.group(0):
            out.extend(_staged_sentence(m.group(0), line.start + m.start()))
        elif _COMMA_STAGES.match(m.group(0).lstrip()):
            out.extend(_staged_sentence(m.group(0), line.start + m.start(), commas=True))
    return out


# 2024年通过…,2025年…,2026年…: a sentence that opens with a year and stages its goal by year
_COMMA_STAGES = re.compile(r"(?:^|(?<=[。\n]))\s*20\d\d年[^,，。;；]{2,60}[,，]\s*20\d\d年")
_COMMA = re.compile(r"([,，])")


def _staged_sentence(sentence: str, base: int, commas: bool = False) -> list[_PhaseFound]:
    clauses, offset = [], 0
    for part in (_COMMA if commas else _SEMICOLON).split(sentence):
        if part not in (";", "；", ",", "，"):
            clauses.append((offset, part))
        offset += len(part)
    if len(clauses) < 2:
        return []
    staged = []
    for off, clause in clauses:
        lead = len(clause) - len(clause.lstrip())
        exprs = find_times(clause[:40])
        expr = exprs[0] if exprs else None
        if expr is None or expr.start - lead > 1 or not expr.until or expr.role in ("start", "cycle"):
            if off == 0:
                return []  # the sentence must open with its first stage
            continue
        staged.append((off, expr))
    if len(staged) < 2:
        return []
    if commas:  # by commas only when each stage is a later year (2024年…,2025年…,2026年…)
        years = [e.until[:4] for _, e in staged]
        if len(staged) < 3 or any(a >= b for a, b in zip(years, years[1:])):
            return []
    out = []
    for off, expr in staged:
        start = expr.begin if expr.granularity == "year" or expr.is_range else None
        out.append(_PhaseFound(Phase(name=None, start=start, end=expr.until, text=expr.text,
                                     span=(base + off + expr.start, base + off + expr.end)),
                               None, True))
    return out


def _dedupe(found: list[_PhaseFound]) -> list[_PhaseFound]:
    out, seen = [], set()
    for f in sorted(found, key=lambda f: (f.phase.span or (0, 0))[0]):
        key = (f.phase.start, f.phase.end, f.phase.name) if f.phase.end else (f.phase.text, f.phase.name)
        where = ("at", f.phase.span[0]) if f.phase.span else None
        if key in seen or where in seen:
            continue
        seen.update((key, where))
        out.append(f)
    return out


def _span_of(task: Task) -> tuple[int | None, int | None]:
    if task.node is not None:
        return task.node.start, task.node.end
    if task.span:
        return task.span
    return None, None


# --------------------------------------------------------------------------- period

_PERIOD_WORDS = re.compile(r"历时|为期|期限|周期|试点期|实施期|时间为|时间跨度|起止")


def _plan_period(doc: Document, roots: list[OutlineNode], phases: list[_PhaseFound],
                 tasks: list[Task]) -> tuple[str | None, str | None]:
    dated = [p.phase for p in phases if p.plan_level and (p.phase.start or p.phase.end)]
    if dated:
        starts = [p.start for p in dated if p.start]
        ends = [p.end for p in dated if p.end]
        start = min(starts, key=date_key) if starts else None
        return start, latest(ends)
    head = "\n".join(line.text for line in doc.lines[:6] if len(line.text) < 4000)
    first_task = min((s for s, _ in (_span_of(t) for t in tasks) if s is not None), default=len(doc.text))
    preamble = doc.text[:min(first_task, 20000)]
    # the plan's own title: 《…方案(2011—2013)》 or a bracketed range on the first lines
    for expr in find_times(head):
        if expr.is_range and expr.until and expr.begin:
            return expr.begin, expr.until
    times = doc_times(doc.text)
    # 历时三年时间(2020年—2022年), 试点期为…
    for expr in times.exprs:
        if expr.is_range and expr.until and expr.begin \
                and _PERIOD_WORDS.search(doc.text[max(0, expr.start - 12):expr.start]):
            return expr.begin, expr.until
    start = None
    for expr in times.within(0, len(preamble)):
        if expr.role == "start" and expr.begin:
            start = expr.begin
            break
    ends = []
    goal_spans = [(n.start, n.end) for r in roots for n in r.walk() if _in_kind(n, "goals")]
    if not goal_spans:
        goal_spans = [(0, len(preamble))]
    for a, b in goal_spans:
        for expr in times.within(a, b):
            if expr.role == "limit" and expr.until and expr.year_given:
                ends.append(expr.until)
    return start, latest(ends)


def _in_kind(node: OutlineNode, kind: str) -> bool:
    while node is not None:
        if node.part_kind == kind:
            return True
        node = node.parent
    return False


# --------------------------------------------------------------------------- deadlines

def task_deadline(text: str, *, context: tuple[str | None, str | None] | None = None,
                  exprs: list[TimeExpr] | None = None) -> tuple[str | None, str | None]:
    """(deadline, deadline_text) from a task's own text: its latest time limit.

    ``exprs``: the text's time expressions when already found (offsets in ``text``)."""
    if exprs is None:
        exprs = find_times(text, context=context)
    exprs = [e for e in exprs if e.role in ("limit", "span")
             and not (e.role == "span" and _PERIOD_WORDS.search(text[max(0, e.start - 12):e.start]))]
    dated = [e for e in exprs if e.until]
    vague = find_vague_limits(text)
    if dated:
        best = max(dated, key=lambda e: (date_key(e.until), e.start))
        later_vague = [v for v in vague if v[0] > best.end]
        if later_vague:
            return None, later_vague[-1][2]
        return best.until, best.phrase
    undated = [(e.phrase_start, e.phrase) for e in exprs] + [(v[0], v[2]) for v in vague]
    if undated:
        with_limit = [u for u in undated if u[1].endswith(("前", "以前", "之前"))]
        return None, (with_limit or undated)[0][1]
    return None, None


def extract_schedule(doc: Document, roots: list[OutlineNode], draft: PlanDraft) -> None:
    found = find_phases(doc, roots, draft.tasks)
    draft.phases = [f.phase for f in found]
    draft.period_start, draft.period_end = _plan_period(doc, roots, found, draft.tasks)
    by_node = {id(f.node): f.phase for f in found if f.node is not None}
    year = _plan_year(doc, draft) if not any(f.phase.end for f in found) else None
    loose = _LoosePhases(found)
    for task in draft.tasks:
        _schedule_task(doc, task, by_node, loose, year)
    _inherit_block_deadlines(draft.tasks)


def _inherit_block_deadlines(tasks: list[Task]) -> None:
    """Children of an item whose attribution block (完成时限:…) follows them share its limit
    when they give none of their own."""
    by_node = {id(t.node): t for t in tasks if t.node is not None}
    for task in tasks:
        if task.node is None or task.deadline or task.deadline_text or task.recurrence:
            continue
        anc = task.node.parent
        while anc is not None and not anc.meta.get("attr_block"):
            anc = anc.parent
        owner = by_node.get(id(anc)) if anc is not None else None
        if owner is not None and owner.deadline:
            task.deadline, task.deadline_text = owner.deadline, owner.deadline_text


_TITLE_YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)\s*年度?(?![\d\-—~至到])")


def _plan_year(doc: Document, draft: PlanDraft) -> tuple[str, str] | None:
    """The one year a plan is for (《2016年农村危房改造实施方案》): the year of a month it leaves out."""
    title = draft.title or next((line.text for line in doc.lines[:5] if line.text.strip()), "")
    years = set(_TITLE_YEAR.findall(fold(title[:80])))
    if len(years) != 1 or not _PLAN_WORDS.search(title):
        return None
    y = years.pop()
    return f"{y}-01", f"{y}-12"


_PLAN_WORDS = re.compile(r"方案|计划|安排|要点|通知|意见")


class _LoosePhases:
    """Phases read from sentences (TIME为X阶段), looked up by where a task's text starts."""

    def __init__(self, found: list[_PhaseFound]):
        loose = sorted(((f.phase.span[0], i, f.phase) for i, f in enumerate(found)
                        if f.node is None and f.plan_level and f.phase.span), key=lambda t: t[:2])
        self.starts = [t[0] for t in loose]
        self.phases = [t[2] for t in loose]

    def opening(self, start: int | None, end: int | None) -> Phase | None:
        """The phase whose period opens the text start..end (within its first 60 characters)."""
        if start is None or end is None or not self.starts:
            return None
        i = bisect.bisect_left(self.starts, start)
        if i < len(self.starts) and self.starts[i] < min(end, start + 60):
            # a text that sets out several stages (…为实施阶段,…为总结评估阶段) ends with the last
            j = bisect.bisect_left(self.starts, end)
            ends = [p for p in self.phases[i:j] if p.end]
            return max(ends, key=lambda p: date_key(p.end)) if len(ends) > 1 else self.phases[i]
        return None


def _phase_of(task: Task, by_node: dict[int, Phase], loose: _LoosePhases) -> tuple[Phase | None, bool]:
    """(phase, is_the_phase_itself) for a task that is a step or lies in one."""
    node = task.node
    own = True
    while node is not None:
        if id(node) in by_node:
            return by_node[id(node)], own
        phase = loose.opening(node.start, node.end)
        if phase is not None:
            return phase, own
        own = False
        node = node.parent
    if task.node is None and task.span:
        phase = loose.opening(*task.span)
        if phase is not None:
            return phase, True
    return None, False


def _schedule_task(doc: Document, task: Task, by_node, loose: _LoosePhases, year=None) -> None:
    text = task_text(doc, task)
    phase, itself = _phase_of(task, by_node, loose)
    if phase is not None:
        task.recurrence = None
        if phase.end:
            task.deadline, task.deadline_text = phase.end, phase.text
            return
        deadline, words = task_deadline(text, context=(phase.start, phase.end))
        task.deadline = deadline
        task.deadline_text = words if words and (itself or deadline) else phase.text
        if not itself and not words:
            task.deadline_text = phase.text
        return
    exprs = None
    span = _span_of(task)
    if span[0] is not None and doc.text[span[0]:span[1]] == text:
        exprs = doc_times(doc.text).within(span[0], span[1])
    if year is not None and exprs and any(not e.year_given and e.until is None and not e.redacted
                                          and e.role == "limit" for e in exprs):
        exprs = None  # months without a year: resolve them in the plan's year
    deadline, words = task_deadline(text, exprs=exprs, context=year if exprs is None else None)
    task.deadline, task.deadline_text = deadline, words
    task.recurrence = _task_recurrence(_without_titles(text))
    if task.recurrence and not deadline:
        cyc = cycle_limit(text)
        task.deadline_text = cyc[2] if cyc else None


_RATE_AFTER = re.compile(r"[^,,。;;]{0,12}?(?:\d|[一二两三四五六七八九十百千万])\s*(?:万元|亿元|元)")


def _task_recurrence(text: str) -> str | None:
    """The cycle of the duty a task sets up; 每户每月不超过20元 is a rate, not a cycle."""
    kinds = {r.kind for r in find_recurrences(text) if not _RATE_AFTER.match(text, r.end)}
    return kinds.pop() if len(kinds) == 1 else None


def _without_titles(text: str) -> str:
    """Cited titles (《年度…》) do not set cycles."""
    return mask_references(fold(text))
