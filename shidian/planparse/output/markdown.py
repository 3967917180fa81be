"""The 任务分解表, targets and findings as Markdown tables (a task's 序号 and 任务 are printed on
its first row only, which reads like the merged cells of the workbook)."""
from __future__ import annotations

from ..model import PlanDraft
from .table import (FINDING_HEADERS, HEADERS, INDICATOR_HEADERS, decomposition_rows, finding_rows,
                    indicator_rows)


def _cell(value: str) -> str:
    value = (value or "").replace("\\", "\\\\").replace("|", "\\|")
    parts = value.replace("\r", "").split("\n")
    return "<br>".join(part.strip(" \t") for part in parts if part.strip())


def _table(headers, rows) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    out.extend("| " + " | ".join(_cell(str(v)) for v in row) + " |" for row in rows)
    return out


def render_markdown(draft: PlanDraft) -> str:
    title = draft.title or draft.id or "实施方案"
    lines = [f"# {_cell(title)}", ""]
    facts = []
    if draft.issuer:
        facts.append(f"- 印发单位:{_cell(draft.issuer)}")
    if draft.period_start or draft.period_end:
        from ..findings import cn_date

        if draft.period_start and draft.period_end:
            period = f"{cn_date(draft.period_start)}至{cn_date(draft.period_end)}"
        elif draft.period_end:
            period = f"至{cn_date(draft.period_end)}"
        else:
            period = f"自{cn_date(draft.period_start)}起"
        facts.append(f"- 实施期:{period}")
    if draft.leading_group:
        def who(m):
            if m.name and m.post:
                return f"{m.role} {m.name}({m.post})"
            return f"{m.role} {m.name or m.post or ''}".strip()

        roster = "、".join(who(m) for m in draft.leading_group)
        facts.append(f"- 领导小组:{_cell(roster)}")
    if draft.office:
        facts.append(f"- 领导小组办公室:{_cell(draft.office)}")
    if facts:
        lines += facts + [""]

    lines += ["## 任务分解表", ""]
    body, previous = [], None
    for row in decomposition_rows(draft):
        if row.section is not None:
            body.append([f"**{row.section}**", "", "", "", "", ""])
            previous = None
            continue
        cells = row.cells()
        if row.group == previous:
            cells[0] = cells[1] = ""
        previous = row.group
        body.append(cells)
    lines += _table(HEADERS, body) if body else ["(未识别出任务)"]
    lines += ["", "## 目标指标", ""]
    targets = indicator_rows(draft)
    lines += _table(INDICATOR_HEADERS, targets) if targets else ["方案未提出量化目标。"]
    lines += ["", "## 问题提示", ""]
    findings = finding_rows(draft)
    lines += _table(FINDING_HEADERS, findings) if findings else ["未发现需要核对的问题。"]
    return "\n".join(lines) + "\n"
