"""The tick inside the embedded server: on by default on SQLite, switched by the environment,
and its thread really ticks."""
from __future__ import annotations

import threading
import time

import pytest

from shidian.oversight import scheduler
from shidian.oversight.models import Message
from shidian.oversight.testing import make_oversight_world


def test_it_runs_in_the_server_on_sqlite_only_unless_told(monkeypatch, settings):
    from django.db import connections

    monkeypatch.delenv("SHIDIAN_TICK_IN_SERVER", raising=False)
    assert scheduler.enabled() is (connections["default"].vendor == "sqlite")
    monkeypatch.setenv("SHIDIAN_TICK_IN_SERVER", "0")
    assert scheduler.enabled() is False and scheduler.start_in_process() is None
    monkeypatch.setenv("SHIDIAN_TICK_IN_SERVER", "1")
    assert scheduler.enabled() is True
    monkeypatch.setenv("SHIDIAN_TICK_SECONDS", "5")
    assert scheduler.interval() == 30  # never more often than every 30 seconds
    monkeypatch.setenv("SHIDIAN_TICK_SECONDS", "soon")
    assert scheduler.interval() == scheduler.DEFAULT_SECONDS


@pytest.mark.django_db(transaction=True)
def test_the_thread_ticks_until_stopped():
    make_oversight_world()  # 合江县's plan has no end: its reports of this month are due
    stop = threading.Event()
    thread = threading.Thread(target=scheduler._loop, args=(stop, 0.05), daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not Message.objects.exists() and time.time() < deadline:
        time.sleep(0.2)
    stop.set()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert Message.objects.filter(status="sent").exists()
