"""Tasks: the numbered or headed items of the plan's work parts, with their units.

A task is every outline item whose part is a work part (tasks, steps, safeguards), parents
included; items under 指导思想 / 基本原则 / 目标 and parts that only say who may take part are
not. Each Task carries its outline node and the span of its own text (heading and body, children
excluded) so later steps (deadlines, findings) can read it. Tables whose header names the
columns of a task-decomposition table (任务 / 牵头单位 / 责任单位 …) give one task per row.
"""
from __future__ import annotations

import re

from . import units as unitmod
from .model import Document, OutlineNode, PlanDraft, Task
from .outline import is_task, walk
from .textutil import squeeze


def task_path(node: OutlineNode) -> str:
    markers = []
    n: OutlineNode | None = node
    while n is not None:
        markers.append(n.marker.rstrip("、.").strip() or "-")
        n = n.parent
    return "/".join(reversed(markers))


def extract_tasks(doc: Document, roots: list[OutlineNode], draft: PlanDraft) -> None:
    tasks: list[Task] = []
    lead_rule = unitmod.first_is_lead_rule(doc.text)
    for node in walk(roots):
        if not is_task(node):
            continue
        task = Task(path=task_path(node), title=squeeze(node.title), span=(node.start, node.end),
                    node=node)
        tasks.append(task)
    unitmod.assign_units(doc, tasks, lead_rule, roots)
    tasks.extend(_table_tasks(doc, {t.span[0] for t in tasks if t.span}))
    draft.tasks = tasks


# --------------------------------------------------------------------------- tables

_COL_TASK = re.compile(r"任务|事项|工作内容|具体内容|具体措施|主要内容|工作措施|重点工作|项目名称")
_COL_LEAD = re.compile(r"牵头")
_COL_UNITS = re.compile(r"责任单位|责任部门|配合|协办|参与|责任主体|实施单位|承办")
_COL_NO = re.compile(r"^(?:序号|编号|序)$")
_COL_TIME = re.compile(r"时限|时间|期限|进度")


def _table_tasks(doc: Document, taken: set[int]) -> list[Task]:
    """Rows of TAB-separated task-decomposition tables (序号 / 任务 / 牵头单位 / 责任单位 …)."""
    out: list[Task] = []
    header: dict[str, int] | None = None
    extra_cols: list[int] = []
    last_no = ""
    for line in doc.lines:
        text = line.text.strip("\r\n")
        if "\t" not in text:
            header = None
            continue
        cells = [c.strip() for c in text.split("\t")]
        if header is None:
            cols: dict[str, int] = {}
            more_units: list[int] = []
            for i, c in enumerate(cells):
                c2 = squeeze(c)
                if not c2 or len(c2) > 12:
                    continue
                if _COL_NO.match(c2) and "no" not in cols:
                    cols["no"] = i
                elif _COL_LEAD.search(c2) and "lead" not in cols:
                    cols["lead"] = i
                elif _COL_UNITS.search(c2):
                    if "units" not in cols:
                        cols["units"] = i
                    else:
                        more_units.append(i)  # 责任单位 and 配合单位 columns
                elif _COL_TIME.search(c2) and "time" not in cols:
                    cols["time"] = i
                elif _COL_TASK.search(c2) and "task" not in cols:
                    cols["task"] = i
            if "task" in cols and ("lead" in cols or "units" in cols):
                header = cols
                extra_cols = more_units
            continue
        start = line.start + line.text.find(cells[header["task"]]) if header["task"] < len(
            cells) else line.start
        if start in taken:
            continue
        get = lambda key: cells[header[key]] if key in header and header[key] < len(cells) else ""
        title = squeeze(get("task"))
        if not title:
            continue
        no = squeeze(get("no")).rstrip("、.") or last_no
        last_no = no
        title = unitmod.clean_title_text(title)
        task = Task(path=no or "-", title=title, span=(line.start, line.end))
        lead = unitmod.split_unit_list(get("lead"))
        rest = unitmod.split_unit_list(get("units"))
        for i in extra_cols:
            if i < len(cells):
                rest += [u for u in unitmod.split_unit_list(cells[i]) if u not in rest]
        if "lead" not in header and rest and unitmod.first_is_lead_rule(doc.text):
            lead, rest = rest[:1], rest[1:]
        task.lead_units = lead
        task.units = [u for u in rest if u not in lead]
        out.append(task)
    return out
