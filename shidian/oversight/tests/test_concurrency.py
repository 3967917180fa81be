"""Two processes at once on the embedded SQLite database (a file, as `shidian serve` and a
cron job share it): two ticks send each message once, two offices never get the same number.

The in-memory test database cannot hold two writers, so these tests build their own database
file in a temporary folder and drive real ``shidian`` processes against it.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from shidian.oversight.testing import FakeRobotServer

ROOT = Path(__file__).resolve().parents[3]
SHIDIAN = str(Path(sys.executable).with_name("shidian"))


@pytest.fixture(scope="module")
def sqlite_env(tmp_path_factory):
    folder = tmp_path_factory.mktemp("embedded")
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{folder / 'shidian.sqlite3'}",
           "SHIDIAN_VAR_DIR": str(folder), "SHIDIAN_MEDIA_ROOT": str(folder / "media"),
           "DJANGO_SETTINGS_MODULE": "config.settings", "PYTHONPATH": str(ROOT)}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env


@pytest.fixture(scope="module")
def robots():
    server = FakeRobotServer(delay=0.15)
    yield server
    server.close()


@pytest.fixture(scope="module")
def embedded(sqlite_env, robots):
    subprocess.run([sys.executable, "-m", "shidian.oversight.tests.concurrent", "setup",
                    robots.base], env=sqlite_env, cwd=ROOT, check=True, capture_output=True,
                   timeout=300)
    return sqlite_env


def _start(args, env):
    return subprocess.Popen(args, env=env, cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_two_tick_processes_at_once_send_each_message_once(embedded, robots):
    runs = [_start([SHIDIAN, "tick", "--date", "2021-07-01"], embedded) for _ in range(2)]
    outputs = [run.communicate(timeout=300) for run in runs]
    assert all(run.returncode == 0 for run in runs), outputs
    last = sorted(out.strip().splitlines()[-1] for out, _err in outputs)
    sent = [int(line.split()[1]) for line in last]
    assert last[0] == "sent 0" and sent[1] > 0, outputs
    # Each robot post went out once (DingTalk and WeCom, one per event).
    posts = [(r.path, json.dumps(r.body, sort_keys=True)) for r in robots.received]
    assert len(posts) == len(set(posts)) and len(posts) > 0
    again = subprocess.run([SHIDIAN, "tick", "--date", "2021-07-01"], env=embedded, cwd=ROOT,
                           capture_output=True, text=True, timeout=300, check=True)
    assert again.stdout.strip().splitlines()[-1] == "sent 0"


def test_two_offices_issuing_at_once_get_different_numbers(embedded):
    script = [sys.executable, "-m", "shidian.oversight.tests.concurrent", "issue", "6"]
    runs = [_start(script, embedded) for _ in range(2)]
    outputs = [run.communicate(timeout=300) for run in runs]
    assert all(run.returncode == 0 for run in runs), outputs
    numbers = [int(n) for out, _err in outputs for n in out.split()]
    assert sorted(numbers) == list(range(1, 13))
