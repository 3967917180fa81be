"""Faults: the process dies in the middle of a write, or the database goes away.

Each operation runs in its own process (tests/fault_driver.py) against a real database — a
SQLite file, or a PostgreSQL database of its own when the suite runs on PostgreSQL. The process
is stopped at a checkpoint inside the operation's transaction and killed with SIGKILL: nothing
it wrote may be there afterwards, and running the operation again must succeed exactly once.
With the database behind a proxy that the test cuts, a request gets a clear 503 page in
Chinese instead of a traceback, and the next request after the database returns works.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHIDIAN = str(Path(sys.executable).with_name("shidian"))
PG = os.environ.get("DATABASE_URL", "").startswith("postgres")


def _pg_server() -> str:
    url = os.environ["DATABASE_URL"]
    return url.rsplit("/", 1)[0]


def _psql(sql: str) -> None:
    import psycopg

    with psycopg.connect(_pg_server() + "/postgres", autocommit=True) as conn:
        conn.execute(sql)


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    """A migrated database with the 泸县 world, outside the test transaction."""
    folder = tmp_path_factory.mktemp("faults")
    env = {**os.environ, "SHIDIAN_VAR_DIR": str(folder),
           "SHIDIAN_MEDIA_ROOT": str(folder / "media"), "PYTHONPATH": str(ROOT),
           "DJANGO_SETTINGS_MODULE": "config.settings"}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    name = None
    if PG:
        name = f"shidian_faults_{uuid.uuid4().hex[:8]}"
        _psql(f'CREATE DATABASE "{name}"')
        env["DATABASE_URL"] = f"{_pg_server()}/{name}"
    else:
        env["DATABASE_URL"] = f"sqlite:///{folder / 'shidian.sqlite3'}"
    ids = drive(env, "setup", timeout=600)
    yield env, ids
    if name:
        _psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def drive(env, *args, timeout=300):
    done = subprocess.run([sys.executable, "-m", "tests.fault_driver", *map(str, args)],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def killed_at(env, point, *args, tmp_path):
    """Start the operation, wait until it is inside its transaction, SIGKILL it."""
    marker = tmp_path / f"{point}.reached"
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fault_driver", *map(str, args)], cwd=ROOT,
        env={**env, "SHIDIAN_FAULT_AT": point, "SHIDIAN_FAULT_MARKER": str(marker)},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while not marker.exists():
        if process.poll() is not None:
            pytest.fail(f"{point} never reached: {process.stderr.read()[-3000:]}")
        assert time.monotonic() < deadline, f"{point} not reached in 300 s"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL


def test_a_plan_import_killed_midway_leaves_no_plan_and_can_be_retried(database, tmp_path):
    env, _ids = database
    before = drive(env, "counts")
    killed_at(env, "plan_import.written", "plan_import", tmp_path=tmp_path)
    after = drive(env, "counts")
    for key in ("plans", "tasks", "units", "phases", "findings", "audit"):
        assert after[key] == before[key], f"{key} half written: {before[key]} -> {after[key]}"
    retried = drive(env, "plan_import")
    final = drive(env, "counts")
    assert final["plans"] == before["plans"] + 1
    assert final["tasks"] == before["tasks"] + retried["tasks"] and retried["tasks"] > 5


def test_a_report_submission_killed_midway_is_not_saved_and_resubmits_once(database,
                                                                            tmp_path):
    env, ids = database
    assert drive(env, "counts")["reports"] == 0
    killed_at(env, "report_submit.written", "report_submit", ids["task"], ids["agency"],
              tmp_path=tmp_path)
    assert drive(env, "counts")["reports"] == 0
    drive(env, "report_submit", ids["task"], ids["agency"])
    drive(env, "report_submit", ids["task"], ids["agency"])  # the user presses send again
    final = drive(env, "counts")
    assert final["reports"] == 1 and final["report_status"] == ["submitted"]


def test_a_household_import_killed_after_its_first_chunk_leaves_no_case(database, tmp_path):
    env, ids = database
    before = drive(env, "counts")
    batch = drive(env, "household_upload", ids["programme"])
    assert batch["valid"] == 30
    killed_at(env, "household_import.chunk_written", "household_run", batch["batch"],
              tmp_path=tmp_path)
    after = drive(env, "counts")
    assert after["cases"] == before["cases"] and after["persons"] == before["persons"]
    assert after["batches"][str(batch["batch"])] == "running"  # shown as stopped, rerunnable
    drive(env, "age_progress", batch["batch"])
    result = drive(env, "household_run", batch["batch"])
    assert result["status"] == "done" and result["imported"] == 30
    assert drive(env, "counts")["cases"] == before["cases"] + 30


# ---- the database goes away ------------------------------------------------------------------

class Proxy:
    """A TCP relay to PostgreSQL that the test can cut and restore, like a database server
    stopped and started again (the real server is shared and must not be stopped)."""

    def __init__(self, target=("127.0.0.1", 5432)):
        self.target = target
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self.sockets: list[socket.socket] = []
        self.listener = None
        self.restore()

    def restore(self):
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen(32)
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self):
        try:  # wakes the accepting thread; close() alone would leave it listening
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listener.close()
        for s in self.sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass
        self.sockets.clear()


class Browser:
    """urllib with a cookie jar: enough to send the login form with its CSRF token."""

    def __init__(self, base):
        import http.cookiejar

        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def fetch(self, path, form=None):
        data = None
        if form is not None:
            token = next((c.value for c in self.jar if c.name == "csrftoken"), "")
            data = urllib.parse.urlencode({**form, "csrfmiddlewaretoken": token}).encode()
        request = urllib.request.Request(self.base + path, data=data,
                                         headers={"Referer": self.base + path})
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()


@pytest.mark.skipif(not PG, reason="a database server that stops needs PostgreSQL")
def test_the_database_going_away_gives_a_clear_page_and_the_app_recovers(database):
    env, _ids = database
    proxy = Proxy()
    name = env["DATABASE_URL"].rsplit("/", 1)[1]
    server_env = {**env, "DATABASE_URL": f"postgres://postgres@127.0.0.1:{proxy.port}/{name}",
                  "SHIDIAN_DEBUG": "0"}
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    server = subprocess.Popen([SHIDIAN, "serve", "--port", str(port)], env=server_env,
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    browser = Browser(f"http://127.0.0.1:{port}")
    login = {"username": "lx_office", "password": "wrong password"}
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                status, _ = browser.fetch("/login/")
                break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.5)
        assert status == 200
        status, body = browser.fetch("/login/", login)  # reads the user table: refused login
        assert status == 200 and "数据库" not in body
        proxy.cut()
        status, body = browser.fetch("/login/", login)
        assert status == 503, (status, body[:300])
        assert "数据库暂时无法连接" in body and "Traceback" not in body
        proxy.restore()
        deadline = time.monotonic() + 60
        while True:
            status, body = browser.fetch("/login/", login)
            if status != 503:
                break
            assert time.monotonic() < deadline, "the app did not reconnect"
            time.sleep(1)
        assert status == 200
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        proxy.cut()
