"""The allocation table (分配表) of a plan, read by the parser, as categories and quotas.

Pure: plan text in, tables and checks out. Each column of a table is a category (its group is
the table's title); each row a region with its places. The checks compare each column's rows
with its printed 合计 and with the count the text gives (国有和国有控股企业30家); a mismatch is a
finding the office must see before it approves against the numbers.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from shidian.planparse.allocations import check_allocations, extract_allocations
from shidian.planparse.model import Document

_MARKER = re.compile(r"^\s*(?:[一二三四五六七八九十]+[、.．]|\d{1,2}[、.．]|[(（][一二三四五六七八九十\d]+[)）])\s*")


@dataclass
class Column:
    group: str
    name: str
    rows: list[tuple[str, int]] = field(default_factory=list)
    printed_total: int | None = None


@dataclass
class Allocation:
    columns: list[Column]
    checks: list[dict[str, Any]]

    @property
    def mismatches(self) -> list[dict[str, Any]]:
        return [c for c in self.checks if c["finding"] == "mismatch"]


def bare(title: str) -> str:
    """A heading without its number: 一、企业基层团组织建设试点 → 企业基层团组织建设试点."""
    return _MARKER.sub("", title or "").strip(" :：")


def read_allocation(text: str, *, name: str = "") -> Allocation:
    doc = Document.from_text(name, text)
    tables = extract_allocations(doc)
    columns = []
    for table in tables:
        for c, column in enumerate(table.columns):
            rows = []
            for row in table.rows:
                value = row["values"][c] if c < len(row["values"]) else None
                if value is not None:
                    rows.append((row["unit"], int(value)))
            printed = None
            if table.total_row and c < len(table.total_row["values"]):
                total = table.total_row["values"][c]
                printed = int(total) if total is not None else None
            columns.append(Column(group=table.title, name=column, rows=rows,
                                  printed_total=printed))
    checks = [{k: v for k, v in check.items() if not k.startswith("_")}
              for check in check_allocations(doc, tables)]
    for check, raw in zip(checks, check_allocations(doc, tables), strict=True):
        text_count = raw.get("_text")
        check["text_line"] = text_count.line if text_count is not None else None
    return Allocation(columns=columns, checks=checks)


def _chars(text: str) -> set[str]:
    return set(re.sub(r"[\s、,，()（）或和及与]", "", text))


def likeness(a: str, b: str) -> float:
    """Dice coefficient of the characters: 农村社区、专业合作组织 ~ 专业合作组织、农村社区, and
    县级团委 ~ 团县(市、区、旗)委 rather than 乡(镇)团委."""
    x, y = _chars(a), _chars(b)
    if not x or not y:
        return 0.0
    return 2 * len(x & y) / (len(x) + len(y))


def tasks_for_category(tasks: list[tuple[int, str, str]], *, group: str, name: str
                       ) -> list[int]:
    """The ids of the plan's tasks a site of this category takes on.

    ``tasks`` are (id, path, title) in plan order. The group's task is the one titled like the
    table (农村基层团组织建设试点); under it, the child most like the column (乡(镇)团委) and its
    own children; when no child is alike, the whole group.
    """
    head = next((t for t in tasks if bare(t[2]) == bare(group) and bare(group)), None)
    if head is None:
        return []
    prefix = head[1] + "/"
    start = tasks.index(head)
    inside = []
    for task in tasks[start + 1:]:
        if not task[1].startswith(prefix):
            break
        inside.append(task)
    depth = prefix.count("/")
    children = [t for t in inside if t[1].count("/") == depth and not t[1].endswith("——")]
    best = max(children, key=lambda t: likeness(t[2], name), default=None)
    if best is None or likeness(best[2], name) < 0.5:
        return [head[0]] + [t[0] for t in inside]
    position = inside.index(best)
    chosen = [best]
    for task in inside[position + 1:]:
        if task[1].count("/") <= depth:
            break
        chosen.append(task)
    return [head[0]] + [t[0] for t in chosen]


def common_tasks(tasks: list[tuple[int, str, str]], parents: set[int]) -> list[int]:
    """Tasks every site takes on: the first part's top-level items that have no children
    (seed 09: 二/1–5, 结合党建新格局推动团的工作 …), before the first grouped item."""
    out = []
    first_part = tasks[0][1].split("/")[0] if tasks else ""
    for task_id, path, _title in tasks:
        if path.split("/")[0] != first_part or task_id in parents:
            break
        if path.count("/") == 1:
            out.append(task_id)
    return out
