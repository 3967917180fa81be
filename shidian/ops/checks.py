"""Deploy checks of the production profile (``shidian check --deploy``).

The settings already refuse a production start without its keys; these checks look at what
only a running process can: the cache and the job queue answer, static files were collected,
PostgreSQL keeps its statistics current (autovacuum).
"""
from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.db import connection
from django.db.utils import DatabaseError


@register(Tags.caches, deploy=True)
def check_production_services(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    if not settings.PRODUCTION:
        return []
    problems: list[Any] = []
    from django.core.cache import cache
    from redis.exceptions import RedisError

    try:
        cache.set("shidian:check", "1", 5)
    except (RedisError, OSError) as error:
        problems.append(Error(f"the cache at SHIDIAN_REDIS_URL does not answer: {error}",
                              hint="start redis-server or correct SHIDIAN_REDIS_URL",
                              id="ops.E001"))
    manifest = settings.STATIC_ROOT / "staticfiles.json"
    if not manifest.exists():
        problems.append(Warning("static files were not collected",
                                hint="run `shidian collectstatic --no-input`", id="ops.W001"))
    return problems


@register(Tags.database, deploy=True)
def check_autovacuum(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """With autovacuum off, PostgreSQL never refreshes its statistics: plans chosen for
    empty tables stay in use as they grow (the audit chain's sweep read the whole log on
    every write, bench/load.py)."""
    if not settings.PRODUCTION or connection.vendor != "postgresql":
        return []
    try:
        with connection.cursor() as cursor:
            cursor.execute("SHOW autovacuum")
            (value,) = cursor.fetchone()
    except DatabaseError:
        return []  # no database yet: the settings checks say so
    if value == "on":
        return []
    return [Warning("PostgreSQL runs with autovacuum off: table statistics go stale and "
                    "queries slow down as tables grow",
                    hint="set autovacuum = on in postgresql.conf (the default), or run "
                         "VACUUM ANALYZE regularly", id="ops.W002")]
