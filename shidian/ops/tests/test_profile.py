"""The production profile refuses unsafe settings and passes Django's deploy checks when set."""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from shidian.ops.profile import production_problems

ROOT = Path(__file__).resolve().parents[3]
PG_SERVER = os.environ.get("SHIDIAN_PG_SERVER", "postgres://postgres@127.0.0.1:5432")


def good_env() -> dict[str, str]:
    return {
        "SHIDIAN_ENV": "production",
        "SHIDIAN_SECRET_KEY": "k7Qw2vXz9LmPq4RtYu8IoAsDf6GhJkL3ZxCvBnM1qWeRtYuIoP0aSdFgHjKl",
        "DATABASE_URL": f"{PG_SERVER}/shidian_ops_profile",
        "SHIDIAN_ALLOWED_HOSTS": "shidian.example.gov.cn",
        "SHIDIAN_FIELD_KEYS": Fernet.generate_key().decode(),
        "SHIDIAN_FIELD_HASH_KEY": "h" * 10 + "Xq8Lm2Zp7Wv4Rt9Ys3Nb6Kc1Dj5Gf0",
    }


def shidian(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("SHIDIAN_", "DATABASE_URL", "DJANGO_"))}
    return subprocess.run([sys.executable, "-m", "shidian.cli", *args], cwd=ROOT,
                          env={**base, **env}, capture_output=True, text=True, timeout=300)


def test_a_complete_production_environment_has_no_problem():
    assert production_problems(good_env()) == []


@pytest.mark.parametrize(("name", "value", "says"), [
    ("SHIDIAN_SECRET_KEY", None, "SHIDIAN_SECRET_KEY: missing"),
    ("SHIDIAN_SECRET_KEY", "django-insecure-" + "x" * 50, "SHIDIAN_SECRET_KEY: too weak"),
    ("DATABASE_URL", None, "DATABASE_URL: missing"),
    ("DATABASE_URL", "sqlite:////srv/shidian.sqlite3", "production runs on PostgreSQL"),
    ("SHIDIAN_ALLOWED_HOSTS", None, "SHIDIAN_ALLOWED_HOSTS: missing"),
    ("SHIDIAN_ALLOWED_HOSTS", "*", "accepts any Host header"),
    ("SHIDIAN_FIELD_KEYS", None, "SHIDIAN_FIELD_KEYS: missing"),
    ("SHIDIAN_FIELD_KEYS", "not-a-key", "must be a Fernet key"),
    ("SHIDIAN_FIELD_HASH_KEY", "short", "SHIDIAN_FIELD_HASH_KEY: missing or shorter"),
    ("SHIDIAN_DEBUG", "1", "SHIDIAN_DEBUG: must be off"),
    ("SHIDIAN_REDIS_URL", "http://127.0.0.1:6379", "SHIDIAN_REDIS_URL"),
])
def test_each_unsafe_or_missing_setting_is_named(name, value, says):
    env = good_env()
    if value is None:
        env.pop(name)
    else:
        env[name] = value
    problems = production_problems(env)
    assert len(problems) == 1
    assert says in problems[0]


def test_production_refuses_to_start_without_its_keys(tmp_path):
    """Nothing of the embedded default (generated key files, SQLite) is used silently."""
    result = shidian("check", env={"SHIDIAN_ENV": "production",
                                   "SHIDIAN_VAR_DIR": str(tmp_path)})
    assert result.returncode != 0
    for name in ("SHIDIAN_SECRET_KEY", "DATABASE_URL", "SHIDIAN_ALLOWED_HOSTS",
                 "SHIDIAN_FIELD_KEYS", "SHIDIAN_FIELD_HASH_KEY"):
        assert name in result.stderr
    assert not (tmp_path / "secret_key").exists()
    assert not (tmp_path / "shidian.sqlite3").exists()


def _redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _redis_up(), reason="needs redis-server on 127.0.0.1:6379")
def test_deploy_checks_pass_in_production_once_static_files_are_collected(tmp_path):
    env = {**good_env(), "SHIDIAN_VAR_DIR": str(tmp_path),
           "SHIDIAN_STATIC_ROOT": str(tmp_path / "static")}
    before = shidian("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert before.returncode != 0
    assert "ops.W001" in before.stderr + before.stdout  # static files not collected yet
    collected = shidian("collectstatic", "--no-input", env=env)
    assert collected.returncode == 0, collected.stderr
    after = shidian("check", "--deploy", env=env)
    assert after.returncode == 0, after.stderr + after.stdout
    found = set(re.findall(r"\(([a-z_]+)\.([EW])\d{3}\)", after.stderr + after.stdout))
    # Django's security checks and ours are clean; other apps' warnings (the API schema's,
    # the holiday calendar's end) are theirs to answer and say nothing about the deployment.
    assert {app for app, _level in found} & {"security", "ops", "sessions", "csrf"} == set()


@pytest.mark.django_db
def test_deploy_check_warns_when_postgresql_keeps_no_statistics(settings):
    """ops.W002 follows the server's autovacuum setting (off on some development machines)."""
    from django.db import connection

    from shidian.ops.checks import check_autovacuum

    settings.PRODUCTION = True
    found = [w.id for w in check_autovacuum()]
    if connection.vendor != "postgresql":
        assert found == []
        return
    with connection.cursor() as cursor:
        cursor.execute("SHOW autovacuum")
        (value,) = cursor.fetchone()
    assert found == ([] if value == "on" else ["ops.W002"])
    settings.PRODUCTION = False
    assert check_autovacuum() == []
