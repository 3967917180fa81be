#!/usr/bin/env python3
"""Set up and run Shidian on a machine that has nothing but Python 3.11.

    python3 dev.py start    install into .venv, migrate SQLite, load the demo, serve on :8000
    python3 dev.py test     install into .venv (with test tools and chromium), run every test
                            on SQLite and again on PostgreSQL (DATABASE_URL or 127.0.0.1:5432)

Only the standard library is used here: this file runs before anything is installed.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / "bin" / "python"
CHROMIUM = Path("/usr/bin/chromium")
DEFAULT_PG_SERVER = "postgres://postgres@127.0.0.1:5432"


def run(*args: str | os.PathLike[str], env: dict[str, str] | None = None) -> None:
    print("+", " ".join(str(a) for a in args), flush=True)
    completed = subprocess.run([str(a) for a in args], cwd=ROOT, env=env)
    if completed.returncode:
        sys.exit(completed.returncode)


def ensure_venv(*, extras: str = "") -> None:
    """Create .venv and install the pinned tree, once per change of the pins."""
    if sys.version_info[:2] != (3, 11):
        sys.exit(f"Shidian needs Python 3.11; this is {sys.version.split()[0]}")
    if not PYTHON.exists():
        run(sys.executable, "-m", "venv", VENV)
    digest = hashlib.sha256()
    for name in ("requirements.lock", "pyproject.toml"):
        digest.update((ROOT / name).read_bytes())
    digest.update(extras.encode())
    stamp = VENV / f".installed-{digest.hexdigest()[:16]}"
    if stamp.exists():
        return
    run(PYTHON, "-m", "pip", "install", "--quiet", "-r", ROOT / "requirements.lock")
    target = f".[{extras}]" if extras else "."
    run(PYTHON, "-m", "pip", "install", "--quiet", "--no-deps", "-e", target)
    for old in VENV.glob(".installed-*"):
        old.unlink()
    stamp.touch()


def ensure_chromium() -> None:
    """Browser tests drive Debian's chromium; install it (and CJK fonts) when missing."""
    if CHROMIUM.exists():
        return
    apt = ["apt-get", "install", "-y", "--no-install-recommends", "chromium", "fonts-noto-cjk"]
    if os.geteuid() != 0:
        if not shutil.which("sudo"):
            sys.exit("chromium is missing and this user cannot install it: "
                     "run `apt-get install -y chromium fonts-noto-cjk` as root")
        apt.insert(0, "sudo")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    if subprocess.run(apt, env=env).returncode:
        update = (["sudo"] if apt[0] == "sudo" else []) + ["apt-get", "update"]
        run(*update, env=env)
        run(*apt, env=env)


def shidian(*args: str, env: dict[str, str] | None = None) -> None:
    run(VENV / "bin" / "shidian", *args, env=env)


def start(argv: list[str]) -> None:
    ensure_venv()
    shidian("migrate", "--no-input")
    shidian("demo")
    os.execv(str(VENV / "bin" / "shidian"), ["shidian", "serve", *argv])


def test(argv: list[str]) -> None:
    ensure_venv(extras="test")
    ensure_chromium()
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    env.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    shidian("check", env=env)  # system checks; also compiles the translation catalogs
    print("== tests on SQLite ==", flush=True)
    run(PYTHON, "-m", "pytest", *argv, env=env)
    server = os.environ.get("SHIDIAN_PG_SERVER", DEFAULT_PG_SERVER)
    name = f"shidian_ci_{uuid.uuid4().hex[:8]}"
    env["DATABASE_URL"] = f"{server}/{name}"
    print(f"== tests on PostgreSQL ({server}, test database test_{name}) ==", flush=True)
    run(PYTHON, "-m", "pytest", *argv, env=env)


COMMANDS = {"start": start, "test": test}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    COMMANDS[sys.argv[1]](sys.argv[2:])
