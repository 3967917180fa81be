"""System checks: a broken pack fails ``manage.py check`` at start-up, never a page.

Ids are stable (``packs.E001`` file, ``E002`` rule named but not registered, ``E003`` unknown
reference, ``E004`` bad expression, ``E005`` a shipped example gives another result, ``E006``
wrong shape); see ``shidian.cases.definitions``.
"""
from __future__ import annotations

from typing import Any

from django.core import checks

from .definitions import pack_dirs, load_pack


def check_packs(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    for path in pack_dirs():
        _pack, problems = load_pack(path)
        for problem in problems:
            errors.append(checks.Error(f"{problem.where}: {problem.message}",
                                       obj=f"pack {problem.pack} ({path})", id=problem.id))
    return errors
