"""Start-up checks of the security settings (ids security.E00x / W00x)."""
from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.security)
def check_audit_retention(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    from .chain import MIN_RETENTION_DAYS

    days = int(getattr(settings, "SHIDIAN_AUDIT_RETENTION_DAYS", 183))
    if days < MIN_RETENTION_DAYS:
        return [Error(f"SHIDIAN_AUDIT_RETENTION_DAYS is {days}: audit records must be kept at "
                      f"least {MIN_RETENTION_DAYS} days (six months, MLPS 2.0).",
                      id="security.E001")]
    return []


@register(Tags.security, deploy=True)
def check_content_security_policy(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    middleware = "shidian.security.middleware.SecurityMiddleware"
    if middleware not in settings.MIDDLEWARE:
        return [Warning(f"{middleware} is not in MIDDLEWARE: no Content-Security-Policy, no "
                        "password expiry, no second factor, no idle timeout.",
                        id="security.W001")]
    csp = getattr(settings, "SHIDIAN_CSP", "")
    if "'unsafe-inline'" in csp or "'unsafe-eval'" in csp:
        return [Warning("SHIDIAN_CSP allows inline or evaluated scripts.", id="security.W002")]
    return []
