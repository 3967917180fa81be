"""The 任务分解表 as rows, shared by the Excel and Markdown writers.

Layout (what a clerk of the leading-group office types by hand):

* a section row for each part of the plan the tasks sit in (二、主要任务), across all columns;
* one group per top-level task: 序号 (1, 2, 3 …) and 任务 (the task's heading with the plan's own
  numbering) span the group's rows;
* a task without sub-items is one row whose 具体内容 is its text after the heading;
* a task with sub-items gets one row per sub-item (deeper items indented under theirs), each with
  its own 牵头单位, 责任单位 and 完成时限 (the task's own when the item names none).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..model import PlanDraft, Task

HEADERS = ("序号", "任务", "具体内容", "牵头单位", "责任单位", "完成时限")
RECURRENCE_CN = {"daily": "每日", "weekly": "每周", "monthly": "每月", "quarterly": "每季度",
                 "half-yearly": "每半年", "yearly": "每年", "once": "一次性"}
COMPARATOR_CN = {">=": "≥", "<=": "≤", "=": "=", ">": ">", "<": "<"}
FINDING_KIND_CN = {
    "allocation_sum": "分配表合计不符",
    "allocation_text": "分配表与正文数字不符",
    "deadline_after_period": "完成时限超出实施期",
    "phase_order": "阶段时间有误",
    "target_conflict": "同一指标数值不一",
    "lone_lead_unit": "牵头单位仅出现一次",
    "numbering_gap": "编号不连续",
}
MAX_CELL = 32000  # Excel holds at most 32,767 characters in a cell
INDENT = "\u3000\u3000"  # two ideographic spaces a level: survives Markdown and Excel alike


@dataclass
class DecompositionRow:
    section: str | None = None  # a section row: only this text, across the table
    number: str = ""
    task: str = ""
    content: str = ""
    lead: str = ""
    units: str = ""
    deadline: str = ""
    group: int = -1  # index of the top-level task the row belongs to
    depth: int = 0  # 0 for a task's own row, 1 for its items, 2 for their items …
    tasks: list[Task] = field(default_factory=list, repr=False)

    def cells(self) -> list[str]:
        return [self.number, self.task, self.content, self.lead, self.units, self.deadline]


def _components(path: str) -> list[str]:
    return [p for p in (path or "").split("/") if p]


def _marker(task: Task) -> str:
    parts = _components(task.path)
    marker = parts[-1] if parts else ""
    if marker in ("-", ""):
        return ""
    if re.fullmatch(r"[一二三四五六七八九十百]+", marker):
        return marker + "、"
    if re.fullmatch(r"\d+", marker):
        return marker + "."
    if marker == "——":
        return "——"
    return marker


def deadline_cell(task: Task) -> str:
    from ..findings import cn_date

    text = (task.deadline_text or "").strip()
    if not text and task.deadline:
        text = cn_date(task.deadline)
    if task.recurrence and task.recurrence in RECURRENCE_CN:
        label = RECURRENCE_CN[task.recurrence]
        if not text:
            text = label
        elif label not in text and task.recurrence != "once":
            text = f"{label}({text})"
    return text


def task_content(task: Task) -> str:
    """The task's own text after its heading (the measures), or "" when it is only a heading."""
    node = task.node
    if node is None or not node.body:
        return ""
    body = node.body.strip()
    marker = (node.marker or "").strip()
    if marker and marker != "-" and body.startswith(marker):
        body = body[len(marker):].lstrip(" 、.．")
    title = (task.title or "").strip()
    if title and body.startswith(title):
        body = body[len(title):]
    body = body.lstrip("。.:：;； \t\n")
    body = _ATTRIBUTION_LINE_RE.sub("", body)
    body = _ATTRIBUTION_PAREN_RE.sub("", body)
    return _unwrap(body.strip())[:MAX_CELL]


# who does the task is in its own columns; the text that says so is not repeated in 具体内容
_ATTRIBUTION_LINE_RE = re.compile(
    r"^[ \t\u3000]*(?:责任单位|牵头单位|配合单位|参与单位|协办单位|责任部门|牵头部门|责任小组(?:单位)?)[:：].*$\n?",
    re.M)
_ATTRIBUTION_PAREN_RE = re.compile(
    r"[(（](?:[^()（）\n]{0,80}?(?:牵头|配合|负责|参与)[^()（）\n]{0,80}?|(?:牵头单位|责任单位)[:：][^()（）\n]{0,160})[)）]"
    r"(?=[。;；]?[ \t\u3000]*(?:\n|$))")


_WRAP_RE = re.compile(r"(?<=[^。;；:：!?！？\n])\n(?![ \t\u3000]*(?:[一二三四五六七八九十]+、|"
                      r"[(（][一二三四五六七八九十\d]+[)）]|\d+[.．、]|——))")


def _unwrap(text: str) -> str:
    """Join lines broken inside a sentence; keep breaks after a sentence or before an item."""
    text = re.sub(r"\n[ \t\u3000]*\n+", "\n", text)
    return _WRAP_RE.sub("", text)


def _is_prefix(head: list[str], parts: list[str]) -> bool:
    return len(head) < len(parts) and parts[: len(head)] == head


def _parents(tasks: list[Task]) -> list[int | None]:
    """Index of each task's parent task (the nearest earlier task whose path is a prefix)."""
    parents: list[int | None] = []
    stack: list[tuple[list[str], int]] = []
    for index, task in enumerate(tasks):
        parts = _components(task.path)
        while stack and not _is_prefix(stack[-1][0], parts):
            stack.pop()
        parents.append(stack[-1][1] if stack else None)
        stack.append((parts, index))
    return parents


def _section_title(task: Task) -> str | None:
    node = task.node
    parent = node.parent if node is not None else None
    if parent is not None and parent.title:
        marker = (parent.marker or "").strip()
        if marker in ("-", ""):
            return parent.title
        if re.fullmatch(r"[一二三四五六七八九十百]+", marker):
            marker += "、"
        return f"{marker}{parent.title}" if not parent.title.startswith(marker) else parent.title
    parts = _components(task.path)
    if len(parts) > 1:
        head = parts[0]
        return head + "、" if re.fullmatch(r"[一二三四五六七八九十百]+", head) else None
    return None


def _join(units: list[str]) -> str:
    return "、".join(u for u in units if u)


def decomposition_rows(draft: PlanDraft) -> list[DecompositionRow]:
    tasks = list(draft.tasks)
    parents = _parents(tasks)
    children: dict[int, list[int]] = {}
    for index, parent in enumerate(parents):
        if parent is not None:
            children.setdefault(parent, []).append(index)
    rows: list[DecompositionRow] = []
    section_key: tuple | None = None
    group = 0
    for index, task in enumerate(tasks):
        if parents[index] is not None:
            continue
        parts = _components(task.path)
        key = tuple(parts[:-1])
        if key != section_key:
            title = _section_title(task)
            if title:
                rows.append(DecompositionRow(section=title))
        section_key = key
        group += 1
        heading = f"{_marker(task)}{task.title}".strip() or "(无标题)"
        descendants: list[tuple[int, int]] = []
        pending = [(child, 1) for child in reversed(children.get(index, []))]
        while pending:  # depth-first, in document order, without recursion
            child, depth = pending.pop()
            descendants.append((child, depth))
            below = reversed(children.get(child, []))
            pending.extend((grandchild, depth + 1) for grandchild in below)
        own = task_content(task)
        group_rows: list[DecompositionRow] = []
        has_own = own or task.lead_units or task.units or task.deadline or task.deadline_text
        if not descendants or has_own:
            group_rows.append(DecompositionRow(
                content=own, lead=_join(task.lead_units), units=_join(task.units),
                deadline=deadline_cell(task), depth=0, tasks=[task]))
        for child_index, depth in descendants:
            child = tasks[child_index]
            text = f"{_marker(child)}{child.title}".strip()
            content = task_content(child)
            if content:
                ends = text.endswith(("。", ":", "："))
                text = f"{text}。{content}" if text and not ends else text + content
            inherited = child
            if not (child.lead_units or child.units):
                inherited = _nearest_with_units(child_index, parents, tasks)
            deadline = deadline_cell(child)
            if not deadline:
                deadline = deadline_cell(_nearest_with_deadline(child_index, parents, tasks))
            group_rows.append(DecompositionRow(
                content=(INDENT * (depth - 1) + text)[:MAX_CELL],
                lead=_join(inherited.lead_units), units=_join(inherited.units),
                deadline=deadline, depth=depth, tasks=[child]))
        for row in group_rows:
            row.number = str(group)
            row.task = heading[:MAX_CELL]
            row.group = group
        rows.extend(group_rows)
    return rows


def _nearest_with_units(index: int, parents: list[int | None], tasks: list[Task]) -> Task:
    current = parents[index]
    while current is not None:
        if tasks[current].lead_units or tasks[current].units:
            return tasks[current]
        current = parents[current]
    return tasks[index]


def _nearest_with_deadline(index: int, parents: list[int | None], tasks: list[Task]) -> Task:
    current = parents[index]
    while current is not None:
        if tasks[current].deadline or tasks[current].deadline_text:
            return tasks[current]
        current = parents[current]
    return tasks[index]


def indicator_rows(draft: PlanDraft) -> list[list[str]]:
    from ..findings import cn_date

    rows = []
    for number, ind in enumerate(draft.indicators, 1):
        target = ind.target
        if isinstance(target, float) and target.is_integer():
            target = int(target)
        unit = "" if ind.unit in ("other",) else ("比例" if ind.unit == "ratio" else ind.unit)
        rows.append([str(number), ind.name, COMPARATOR_CN.get(ind.comparator, ind.comparator),
                     str(target), unit, cn_date(ind.deadline) if ind.deadline else "", ind.text])
    return rows


INDICATOR_HEADERS = ("序号", "指标", "要求", "目标值", "单位", "期限", "原文")
FINDING_HEADERS = ("序号", "问题类型", "说明", "位置")


def finding_rows(draft: PlanDraft) -> list[list[str]]:
    rows = []
    for number, finding in enumerate(draft.findings, 1):
        where = f"第{finding.line}行" if finding.line else ""
        kind = FINDING_KIND_CN.get(finding.kind, finding.kind)
        rows.append([str(number), kind, finding.message, where])
    return rows
