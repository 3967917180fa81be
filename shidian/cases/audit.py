"""The actor of audit entries written by the case services, in or outside a request.

django-auditlog's middleware names the actor during a request; service functions are also
called from background imports, the bench and tests. Each write service runs under
``audited``: the ``user`` keyword argument becomes the actor (keeping the request's address
when there is one), and the context found before is put back afterwards, since auditlog's own
context manager does not restore it.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from auditlog.context import auditlog_value, set_actor

F = TypeVar("F", bound=Callable[..., Any])


def audited(func: F) -> F:
    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        user = kwargs.get("user")
        if user is None:
            return func(*args, **kwargs)
        before = auditlog_value.get(None)
        where = {k: before.get(k) for k in ("remote_addr", "remote_port")} if before else {}
        try:
            with set_actor(user, **where):
                return func(*args, **kwargs)
        finally:
            if before is not None:
                auditlog_value.set(before)
    return wrapper  # type: ignore[return-value]
