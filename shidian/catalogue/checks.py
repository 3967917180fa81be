"""System checks: a pack whose catalogue sections are broken fails ``shidian check``.

Ids are stable (``catalogue.E001`` unknown key, ``E002`` missing, ``E003`` wrong kind, ``E004``
unknown reference, ``E005`` bad formula or expression, ``E006`` defined twice); see
``shidian/packs/README.md``. The case types' own problems are ``packs.E00x`` (shidian.cases).
"""
from __future__ import annotations

from typing import Any

from django.core import checks

from shidian.cases.definitions import pack_dirs

from .packs import load_spec


def check_pack_specs(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    for path in pack_dirs():
        _spec, problems = load_spec(path)
        for problem in problems:
            kind = checks.Warning if problem.id.startswith("catalogue.W") else checks.Error
            errors.append(kind(f"{problem.where}: {problem.message}",
                               obj=f"pack {problem.pack} ({path})", id=problem.id))
    return errors
