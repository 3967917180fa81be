"""The psych pack's part of ``shidian tick``: tell each patient's team about visits missed."""
from __future__ import annotations

import datetime as dt

from .services import missed_visits_notify


def run(*, today: dt.date) -> int:
    """Messages written (each missed visit once; a second run writes none)."""
    return missed_visits_notify(today=today)
