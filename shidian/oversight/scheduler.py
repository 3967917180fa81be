"""The tick inside the web server, for the embedded default (one process, SQLite, no cron).

``shidian serve`` calls :func:`start_in_process` once: a daemon thread runs ``tick_run`` every
``SHIDIAN_TICK_SECONDS`` (300 by default). It is on by default only on SQLite; a PostgreSQL
deployment runs ``shidian tick`` from cron or a systemd timer (set ``SHIDIAN_TICK_IN_SERVER=1``
to run it in the server anyway, ``0`` to switch it off). Running both is harmless: the tick's
lease lets one run at a time, and each message is claimed before it is sent.
"""
from __future__ import annotations

import logging
import os
import threading
from typing import IO

from django.db import DatabaseError, close_old_connections, connections
from django.utils.translation import gettext as _

from shidian.core.errors import ShidianError

log = logging.getLogger(__name__)
DEFAULT_SECONDS = 300


def enabled() -> bool:
    setting = os.environ.get("SHIDIAN_TICK_IN_SERVER", "").strip().lower()
    if setting in ("0", "false", "no", "off"):
        return False
    if setting in ("1", "true", "yes", "on"):
        return True
    return connections["default"].vendor == "sqlite"


def interval() -> int:
    try:
        return max(30, int(os.environ.get("SHIDIAN_TICK_SECONDS", DEFAULT_SECONDS)))
    except ValueError:
        return DEFAULT_SECONDS


def _loop(stop: threading.Event, seconds: int) -> None:
    from .tick import tick_run

    while not stop.wait(seconds):
        close_old_connections()
        try:
            result = tick_run()
            if result.sent or result.failed:
                log.warning("tick: sent %s, failed %s", result.sent, result.failed)
        except (DatabaseError, ShidianError) as error:
            # A locked database or a calendar gap must not kill the thread: the next tick
            # tries again (and `shidian tick` says what is wrong when run by hand).
            log.error("tick failed: %s", error)
        finally:
            connections.close_all()


def start_in_process(out: IO[str] | None = None) -> threading.Event | None:
    """Start the tick thread when it is enabled; return the event that stops it."""
    if not enabled():
        return None
    seconds = interval()
    stop = threading.Event()
    threading.Thread(target=_loop, args=(stop, seconds), name="shidian-tick",
                     daemon=True).start()
    if out is not None:
        out.write(_("The tick runs in this process every %(seconds)s seconds "
                    "(SHIDIAN_TICK_IN_SERVER=0 switches it off).") % {"seconds": seconds} + "\n")
    return stop
