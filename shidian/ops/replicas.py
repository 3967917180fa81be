"""Dashboards read from PostgreSQL read replicas; everything else uses the primary.

``SHIDIAN_REPLICA_URLS`` (comma-separated) adds the aliases ``replica1``, ``replica2``... and
this router. A request to one of ``DASHBOARD_VIEWS`` (GET or HEAD only) reads its tables from a
replica; writes, sessions, logins and the audit trail always go to the primary. A dashboard may
then be a few seconds behind a report just submitted (the replication lag), which dashboards
of monthly figures can afford, and forms and submissions never see.
"""
from __future__ import annotations

import contextvars
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db.models import Model
from django.http import HttpRequest, HttpResponse

# The read-only pages whose queries may go to a replica (view names, namespace:name).
DASHBOARD_VIEWS = frozenset({
    "reporting:dashboard",      # 挂图作战
    "indicators:plan_board",    # a plan's target board
    "indicators:completeness",  # data-set completeness
    "cases:board",              # case-programme board of a division
    "oversight:plan_lights",    # a plan's red/yellow/green lights
    "oversight:rankings",
})
# Tables whose rows must be read where they were just written.
PRIMARY_ONLY_APPS = frozenset({"sessions", "auth", "axes", "auditlog", "contenttypes", "admin"})

_replica_reads: contextvars.ContextVar[bool] = contextvars.ContextVar("shidian_replica_reads",
                                                                      default=False)


@contextmanager
def replica_reads() -> Iterator[None]:
    """Reads inside this block go to a replica (when one is configured)."""
    token = _replica_reads.set(True)
    try:
        yield
    finally:
        _replica_reads.reset(token)


class ReplicaRouter:
    def db_for_read(self, model: type[Model], **hints: Any) -> str | None:
        replicas = getattr(settings, "SHIDIAN_READ_REPLICAS", [])
        if not replicas or not _replica_reads.get():
            return None
        if model._meta.app_label in PRIMARY_ONLY_APPS:
            return None
        return random.choice(replicas)  # noqa: S311  (spreading load, not a secret)

    def db_for_write(self, model: type[Model], **hints: Any) -> str | None:
        return "default"

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool:
        return True  # the replicas hold the primary's rows

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == "default"  # replicas follow the primary's schema by replication


class ReplicaMiddleware:
    """Marks the dashboard requests (see ``DASHBOARD_VIEWS``) as replica reads."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = None
        try:
            response = self.get_response(request)
        finally:
            token = getattr(request, "_shidian_replica_token", None)
            if token is not None:
                _replica_reads.reset(token)
        return response

    def process_view(self, request: HttpRequest, view_func: Any, view_args: Any,
                     view_kwargs: Any) -> None:
        if (getattr(settings, "SHIDIAN_READ_REPLICAS", [])
                and request.method in ("GET", "HEAD")
                and request.resolver_match is not None
                and request.resolver_match.view_name in DASHBOARD_VIEWS):
            request._shidian_replica_token = _replica_reads.set(True)  # type: ignore[attr-defined]
