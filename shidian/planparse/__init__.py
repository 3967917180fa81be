"""Plan parser: from an implementation plan's text (实施方案) to its task-decomposition table.

Pure Python: nothing here imports Django, so the parser runs and is tested alone.

    from shidian.planparse import parse_file, parse_text
    draft = parse_text(text, name="03-gansu-hospice")
    draft.to_dict()   # the SCHEMA.md contract plus findings and unit_index
"""
from .model import PlanDraft
from .parse import parse_file, parse_text
from .readers import ReadError

__all__ = ["PlanDraft", "ReadError", "parse_file", "parse_text"]
