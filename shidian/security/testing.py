"""Helpers for tests that must change audit records behind the application's back."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection


@contextmanager
def bypassing_triggers() -> Iterator[None]:
    """Let raw SQL change audit tables, as an intruder with database access could (PostgreSQL
    triggers are switched off for the session; SQLite has none)."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = DEFAULT")
