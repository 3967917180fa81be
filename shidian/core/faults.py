"""Named points inside long writes where the fault tests stop the process.

``tests/test_faults.py`` starts a server or worker with ``SHIDIAN_FAULT_AT=<point>`` and
``SHIDIAN_FAULT_MARKER=<file>``: when the process reaches that point it writes the marker and
waits, the test kills it with SIGKILL, and then checks that nothing was half written and that
the operation can be retried. Anywhere else (and always in the production profile) a
checkpoint costs one dictionary lookup.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

from django.conf import settings


def checkpoint(name: str) -> None:
    if os.environ.get("SHIDIAN_FAULT_AT") != name or getattr(settings, "PRODUCTION", False):
        return
    marker = os.environ.get("SHIDIAN_FAULT_MARKER")
    if marker:
        Path(marker).write_text(f"{os.getpid()} {name}\n", encoding="utf-8")
    while True:  # until the test kills this process
        time.sleep(60)
