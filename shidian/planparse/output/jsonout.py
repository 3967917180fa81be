from __future__ import annotations

import json

from ..model import PlanDraft


def render_json(draft: PlanDraft) -> str:
    """The plan as SCHEMA.md JSON (plus findings and unit_index), UTF-8 text, Chinese unescaped."""
    return json.dumps(draft.to_dict(), ensure_ascii=False, indent=1) + "\n"
