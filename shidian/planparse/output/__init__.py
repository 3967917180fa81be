"""Writers for a parsed plan: JSON (the SCHEMA.md contract plus findings and unit_index), the
任务分解表 as an Excel workbook, and the same tables in Markdown.

    write(draft, path, "json" | "xlsx" | "md")
    render_json(draft) -> str;  render_markdown(draft) -> str;  write_xlsx(draft, path)
"""
from __future__ import annotations

from pathlib import Path

from ..model import PlanDraft
from .jsonout import render_json
from .markdown import render_markdown
from .table import DecompositionRow, decomposition_rows
from .xlsx import write_xlsx

FORMATS = ("json", "xlsx", "md")
SUFFIX = {"json": ".json", "xlsx": ".xlsx", "md": ".md"}

__all__ = ["FORMATS", "SUFFIX", "DecompositionRow", "decomposition_rows", "render_json",
           "render_markdown", "write", "write_xlsx"]


def write(draft: PlanDraft, path: str | Path, fmt: str) -> Path:
    path = Path(path)
    if fmt == "json":
        path.write_text(render_json(draft), encoding="utf-8")
    elif fmt == "md":
        path.write_text(render_markdown(draft), encoding="utf-8")
    elif fmt == "xlsx":
        write_xlsx(draft, path)
    else:
        raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    return path
