"""What the production profile (``SHIDIAN_ENV=production``) refuses to start without.

Plain Python over a mapping of environment variables, so that ``config/settings.py`` can call it
before Django is set up and the tests can call it without starting anything. Each problem says
which variable and what to put in it; settings raise them all at once.
"""
from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from urllib.parse import urlsplit

POSTGRES_SCHEMES = ("postgres", "postgresql", "pgsql", "postgis")
REDIS_SCHEMES = ("redis", "rediss", "unix")
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
SECRET_KEY_MIN_LENGTH = 50
HASH_KEY_MIN_LENGTH = 32


def _fernet_key_ok(key: str) -> bool:
    try:
        return len(base64.urlsafe_b64decode(key.encode())) == 32
    except (binascii.Error, ValueError):
        return False


def production_problems(env: Mapping[str, str]) -> list[str]:
    """Every unsafe or missing setting of a production start, as one line each."""
    problems: list[str] = []
    secret = env.get("SHIDIAN_SECRET_KEY", "")
    if not secret:
        problems.append("SHIDIAN_SECRET_KEY: missing (python3 -c 'import secrets; "
                        "print(secrets.token_urlsafe(50))')")
    elif (len(secret) < SECRET_KEY_MIN_LENGTH or len(set(secret)) < 5
          or secret.startswith("django-insecure-")):
        problems.append(f"SHIDIAN_SECRET_KEY: too weak (at least {SECRET_KEY_MIN_LENGTH} "
                        "random characters)")
    database = env.get("DATABASE_URL", "")
    if not database:
        problems.append("DATABASE_URL: missing (postgres://user:password@host:5432/name)")
    elif urlsplit(database).scheme not in POSTGRES_SCHEMES:
        problems.append("DATABASE_URL: production runs on PostgreSQL (SQLite is the embedded "
                        "profile: unset SHIDIAN_ENV for it)")
    hosts = [h.strip() for h in env.get("SHIDIAN_ALLOWED_HOSTS", "").split(",") if h.strip()]
    if not hosts:
        problems.append("SHIDIAN_ALLOWED_HOSTS: missing (the host names users type, "
                        "comma-separated)")
    elif "*" in hosts:
        problems.append("SHIDIAN_ALLOWED_HOSTS: '*' accepts any Host header; name the hosts")
    keys = [k.strip() for k in env.get("SHIDIAN_FIELD_KEYS", "").replace("\n", ",").split(",")
            if k.strip()]
    if not keys:
        problems.append("SHIDIAN_FIELD_KEYS: missing (personal information is encrypted with "
                        "it; shidian.core.crypto.generate_key() makes one)")
    elif not all(_fernet_key_ok(k) for k in keys):
        problems.append("SHIDIAN_FIELD_KEYS: each key must be a Fernet key (urlsafe base64 of "
                        "32 bytes)")
    if len(env.get("SHIDIAN_FIELD_HASH_KEY", "")) < HASH_KEY_MIN_LENGTH:
        problems.append(f"SHIDIAN_FIELD_HASH_KEY: missing or shorter than {HASH_KEY_MIN_LENGTH} "
                        "characters (the same on every app server)")
    if env.get("SHIDIAN_DEBUG", "").strip().lower() in {"1", "true", "yes", "on"}:
        problems.append("SHIDIAN_DEBUG: must be off in production (it shows settings and "
                        "stack traces to users)")
    redis = env.get("SHIDIAN_REDIS_URL", DEFAULT_REDIS_URL)
    if urlsplit(redis).scheme not in REDIS_SCHEMES:
        problems.append("SHIDIAN_REDIS_URL: must be a redis://, rediss:// or unix:// URL")
    return problems
