"""The security policy in force: read once per minute per process, changed by the security admin.

Defaults come from the settings (``SHIDIAN_PASSWORD_*``, ``SHIDIAN_SESSION_IDLE_MINUTES``,
``SHIDIAN_TOTP_REQUIRED``) until the security administrator saves the policy page.
"""
from __future__ import annotations

import contextvars
from typing import Any

from django.conf import settings
from django.core.cache import cache

from .models import SecurityPolicy

CACHE_KEY = "shidian:security:policy"
CACHE_SECONDS = 60

# The user acting in the current request (set by the middleware): a password set by someone
# else must be changed by its owner at next login.
current_actor: contextvars.ContextVar[Any] = contextvars.ContextVar("shidian_security_actor",
                                                                    default=None)


def defaults() -> dict[str, Any]:
    return {
        "min_length": int(getattr(settings, "SHIDIAN_PASSWORD_MIN_LENGTH", 10)),
        "min_classes": int(getattr(settings, "SHIDIAN_PASSWORD_MIN_CLASSES", 3)),
        "expiry_days": int(getattr(settings, "SHIDIAN_PASSWORD_EXPIRY_DAYS", 90)),
        "history_count": int(getattr(settings, "SHIDIAN_PASSWORD_HISTORY", 5)),
        "idle_minutes": int(getattr(settings, "SHIDIAN_SESSION_IDLE_MINUTES", 30)),
        "totp_required": bool(getattr(settings, "SHIDIAN_TOTP_REQUIRED", False)),
        "change_after_reset": bool(getattr(settings, "SHIDIAN_PASSWORD_CHANGE_AFTER_RESET",
                                           True)),
    }


def policy_get() -> SecurityPolicy:
    """The saved policy, or an unsaved one with the settings' defaults."""
    cached = cache.get(CACHE_KEY)
    if isinstance(cached, SecurityPolicy):
        return cached
    policy = SecurityPolicy.objects.filter(pk=1).first() or SecurityPolicy(pk=1, **defaults())
    cache.set(CACHE_KEY, policy, CACHE_SECONDS)
    return policy


def policy_forget() -> None:
    cache.delete(CACHE_KEY)
