"""The embedded default's worker: a daemon thread that runs the queued jobs.

Production runs ``shidian run_huey`` instead (a process of its own, deploy/). Here one thread
per process drains ``var/jobs.sqlite3``: jobs queued by this process and any left there by a
process that died before running them (the queue is a file, so nothing queued is lost).
"""
from __future__ import annotations

import logging
import threading
from typing import IO

from django.db import connections
from django.utils.translation import gettext as _
from huey import Huey
from huey.contrib.djhuey import HUEY

log = logging.getLogger(__name__)
POLL_SECONDS = 1.0

_lock = threading.Lock()
_thread: threading.Thread | None = None
_stop: threading.Event | None = None


def run_pending(huey: Huey = HUEY) -> int:
    """Run every job that is due now (delayed and retried ones included); how many ran."""
    for task in huey.read_schedule():
        huey.enqueue(task)
    ran = 0
    while (task := huey.dequeue()) is not None:
        huey.execute(task)
        ran += 1
    return ran


def _loop(stop: threading.Event, huey: Huey) -> None:
    while not stop.is_set():
        try:
            ran = run_pending(huey)
        finally:
            connections.close_all()
        if not ran:
            stop.wait(POLL_SECONDS)


def start_in_process(out: IO[str] | None = None, *, huey: Huey = HUEY) -> threading.Event | None:
    """Start the worker thread once per process (not in production, not in immediate mode);
    the event that stops it."""
    from .jobs import in_process

    global _thread, _stop
    if huey.immediate or not in_process():
        return None
    with _lock:
        if _thread is None or not _thread.is_alive() or _stop is None or _stop.is_set():
            _stop = threading.Event()
            _thread = threading.Thread(target=_loop, args=(_stop, huey), name="shidian-jobs",
                                       daemon=True)
            _thread.start()
            if out is not None:
                out.write(_("Background jobs run in this process.") + "\n")
        return _stop
