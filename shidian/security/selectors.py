"""Reads of the security pages: locked accounts, the audit trail, the login log, the controls."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from dataclasses import dataclass
from typing import Any

from auditlog.models import LogEntry
from django.conf import settings
from django.db.models import Count, Max, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shidian.orgs.models import Role, User

from . import access
from .chain import retention_days, streams
from .middleware import csp_header
from .models import AuditChain, AuditRedaction, AuditVerifyRun, TotpDevice
from .policy import policy_get


def accounts_locked() -> list[dict[str, Any]]:
    """User names django-axes has locked (failures at the limit), with the last attempt."""
    from axes.models import AccessAttempt

    limit = int(getattr(settings, "AXES_FAILURE_LIMIT", 5))
    rows = (AccessAttempt.objects.filter(failures_since_start__gte=limit)
            .order_by("-attempt_time").values("username", "failures_since_start",
                                              "attempt_time", "ip_address"))
    users = {u.username: u for u in User.objects.filter(
        username__in=[r["username"] for r in rows])}
    return [{**row, "user": users.get(row["username"])} for row in rows]


def accounts_list(*, actor: User, text: str = "") -> QuerySet[User]:
    """Accounts the security administrator manages: holders of the three roles first, or the
    ones matching ``text``."""
    access.require_security_admin(actor)
    users = User.objects.exclude(pk=actor.pk).exclude(is_superuser=True)
    text = (text or "").strip()
    if text:
        users = users.filter(Q(username__icontains=text) | Q(display_name__icontains=text))
    else:
        users = users.filter(role__in=access.THREE_ROLES)
    return users.select_related("division").order_by("role", "username")


def audit_entries(*, actor: User, text: str = "", action: str = "", day_from: dt.date | None = None,
                  day_to: dt.date | None = None) -> QuerySet[LogEntry]:
    """The audit trail, newest first, for the audit administrator."""
    access.require_audit_admin(actor)
    entries = LogEntry.objects.select_related("actor", "content_type")
    if text:
        entries = entries.filter(Q(object_repr__icontains=text)
                                 | Q(actor__username__icontains=text)
                                 | Q(object_pk=text))
    if action.isdigit():
        entries = entries.filter(action=int(action))
    if day_from:
        entries = entries.filter(timestamp__date__gte=day_from)
    if day_to:
        entries = entries.filter(timestamp__date__lte=day_to)
    return entries.order_by("-timestamp", "-pk")


def changes_display(entry: LogEntry) -> str:
    """An audit record's changes as one line: ``field: old → new``; also for a value that is
    null (a need-to-know view logs ``[what, None]``) or a many-to-many change, on which
    django-auditlog's ``changes_str`` raises (and records are never rewritten to suit it)."""
    parts = []
    for name, values in (entry.changes_dict or {}).items():
        if isinstance(values, list | tuple) and len(values) == 2:
            old, new = ("—" if v is None else str(v) for v in values)
            parts.append(f"{name}: {old} → {new}")
        elif isinstance(values, dict):
            objects = "、".join(str(o) for o in values.get("objects") or ())
            parts.append(f"{name}: {values.get('operation', '')} {objects}".rstrip())
        else:
            parts.append(f"{name}: {values}")
    return "; ".join(parts)


def redactions_summary() -> list[dict[str, Any]]:
    """The redactions of audit records by day, security administrator and reason, newest
    first: who removed personal information from the trail, when and why."""
    rows = (AuditRedaction.objects.annotate(day=TruncDate("created_at"))
            .values("day", "actor__username", "reason")
            .annotate(records=Count("pk"), last=Max("created_at")).order_by("-last"))
    return [{"day": row["day"], "actor": row["actor__username"] or "-", "reason": row["reason"],
             "records": row["records"]} for row in rows]


def _redaction_control(last: AuditVerifyRun | None) -> Control:
    latest = AuditRedaction.objects.select_related("actor").order_by("-pk").first()
    if latest is None:
        status = _("no audit record redacted")
    else:
        status = _("%(n)d records redacted in the last verification; latest %(day)s by "
                   "%(who)s: %(reason)s") % {
            "n": last.redacted if last else 0,
            "day": timezone.localtime(latest.created_at).strftime("%Y-%m-%d"),
            "who": latest.actor.username if latest.actor else "-", "reason": latest.reason}
    return Control(
        "audit_redaction", _("Personal information in the audit trail (PIPL)"),
        _("Values a case type seals (patients' and guardians' names, phones) that audit "
          "records written before the sealing hold in clear are masked by the security "
          "administrator with a reason ('shidian audit redact-sealed'); each redaction is "
          "itself audited, and verification accepts a redacted record only exactly as the "
          "redaction left it."),
        status, latest is None or bool(last and last.ok and last.started_at
                                       >= latest.created_at))


def logins_list(*, actor: User, text: str = "") -> QuerySet[Any]:
    """Sign-ins and sign-outs (django-axes access log), newest first."""
    from axes.models import AccessLog

    access.require_audit_admin(actor)
    rows = AccessLog.objects.all()
    if text:
        rows = rows.filter(Q(username__icontains=text) | Q(ip_address=text))
    return rows.order_by("-attempt_time")


def login_failures(*, actor: User) -> QuerySet[Any]:
    from axes.models import AccessAttempt

    access.require_audit_admin(actor)
    return AccessAttempt.objects.order_by("-attempt_time")


def media_outside_static() -> bool:
    """Uploaded files are not under the folder the web server serves as static files."""
    media = Path(settings.MEDIA_ROOT).resolve()
    static = Path(settings.STATIC_ROOT).resolve()
    return static != media and static not in media.parents and media not in static.parents


@dataclass
class Control:
    key: str
    name: Any
    how: Any
    status: Any
    ok: bool


def controls(*, actor: User) -> list[Control]:
    """Each MLPS 2.0 control with how it is met and its live status."""
    access.require_controls_reader(actor)
    policy = policy_get()
    last = AuditVerifyRun.objects.first()
    heads = {h.stream: h for h in AuditChain.objects.all()}
    superusers = User.objects.filter(is_superuser=True, is_active=True).count()
    holders = {role: User.objects.filter(role=role, is_active=True).count()
               for role in access.THREE_ROLES}
    enrolled = TotpDevice.objects.filter(confirmed_at__isnull=False).count()
    csp = csp_header()
    hsts = int(getattr(settings, "SECURE_HSTS_SECONDS", 0) or 0)
    upload_mb = int(getattr(settings, "SHIDIAN_EVIDENCE_MAX_BYTES", 0)) // (1024 * 1024)
    sealed = sum(h.last_seq - h.anchor_seq for h in heads.values())
    rows = [
        Control("audit_chain", _("Tamper-evident audit trail"),
                _("Every audit record (the audit log and the case timelines) is sealed into a "
                  "SHA-256 hash chain; 'shidian audit verify' names any record edited or "
                  "deleted. Records cannot be changed through the application; on PostgreSQL "
                  "a trigger refuses UPDATE and DELETE."),
                _("%(sealed)d records in %(streams)d chains; last verification: %(last)s") % {
                    "sealed": sealed, "streams": len(streams()),
                    "last": (_("passed") if last.ok else _("FAILED")) + " "
                    + last.started_at.strftime("%Y-%m-%d %H:%M") if last else _("never")},
                bool(last and last.ok)),
        _redaction_control(last),
        Control("audit_retention", _("Audit retention"),
                _("Audit records are kept at least six months: 'shidian audit purge' refuses "
                  "younger records and leaves an anchor so the rest still verifies."),
                _("%(days)d days") % {"days": retention_days()}, retention_days() >= 180),
        Control("password", _("Password complexity and expiry"),
                _("Checked on every password change (validators of the security policy); the "
                  "last passwords cannot be reused; an expired or reset password must be "
                  "changed before anything else."),
                _("at least %(len)d characters of %(classes)d classes, not the user name; "
                  "expires after %(days)d days; last %(hist)d refused") % {
                    "len": policy.min_length, "classes": policy.min_classes,
                    "days": policy.expiry_days, "hist": policy.history_count},
                policy.min_length >= 8 and policy.min_classes >= 3),
        Control("lockout", _("Login lockout"),
                _("After repeated failures the user name is locked (django-axes) until a "
                  "security administrator unlocks it on the accounts page (audited)."),
                _("%(n)d failures; %(locked)d accounts locked now") % {
                    "n": int(getattr(settings, "AXES_FAILURE_LIMIT", 5)),
                    "locked": len(accounts_locked())},
                int(getattr(settings, "AXES_FAILURE_LIMIT", 5)) <= 5),
        Control("idle", _("Session idle timeout"),
                _("A session idle longer than the limit is signed out on its next request."),
                _("%(min)d minutes") % {"min": policy.idle_minutes}, policy.idle_minutes <= 30),
        Control("totp", _("Second factor (TOTP)"),
                _("Authenticator codes (RFC 6238); required for administrators and plan "
                  "offices when the policy says so; the QR code is drawn on the server."),
                (_("required") if policy.totp_required else _("optional"))
                + " · " + _("%(n)d authenticators") % {"n": enrolled},
                policy.totp_required),
        Control("separation", _("Separation of the three administrators (三员分立)"),
                _("System, security and audit administrators are separate roles of separate "
                  "people; the system administrator sees no audit records and cannot change "
                  "the other two; the security administrator sees no business data; the "
                  "audit administrator only reads."),
                _("system %(sys)d · security %(sec)d · audit %(aud)d; superusers %(su)d") % {
                    "sys": holders[Role.ADMIN], "sec": holders[Role.SECURITY_ADMIN],
                    "aud": holders[Role.AUDIT_ADMIN], "su": superusers},
                all(holders.values()) and superusers == 0),
        Control("headers", _("Security headers"),
                _("Content-Security-Policy without inline scripts or styles, X-Frame-Options "
                  "DENY, Referrer-Policy, nosniff; HSTS in production."),
                csp + (" · HSTS %(s)ds" % {"s": hsts} if hsts else " · HSTS off"),
                bool(csp) and "'unsafe-inline'" not in csp),
        Control("uploads", _("Uploaded files"),
                _("Files are judged by their content (magic bytes), not their name, limited in "
                  "size, stored outside the web root and served only through permission "
                  "checks."),
                _("at most %(mb)d MB") % {"mb": upload_mb}, media_outside_static()),
    ]
    return rows
