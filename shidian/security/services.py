"""Writes of the security administrator and of each user's own second factor.

Every action runs in one transaction and leaves an audit record (django-auditlog ``LogEntry``,
which joins the hash chain): who did what to whom. The security administrator manages the
policy, locked accounts, the three separated roles and authenticators, never business data.
"""
from __future__ import annotations

from typing import Any

import pyotp
from auditlog.context import set_actor
from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from shidian.core import crypto
from shidian.core.errors import ErrorCode, ShidianError
from shidian.orgs.models import Role, User

from . import access
from .models import PasswordState, SecurityPolicy, TotpDevice
from .policy import defaults, policy_forget, policy_get

ROLE_NOT_SEPARATED = gettext_lazy(
    "The security administrator grants and takes back only the roles of system, security and "
    "audit administrator.")
ROLE_SUPERUSER = gettext_lazy(
    "%(name)s is a superuser: a superuser holds every power and cannot take one of the three "
    "separated roles.")
ROLE_UNKNOWN = gettext_lazy("Unknown role: %(role)s.")
POLICY_RANGE = gettext_lazy("%(field)s must be between %(low)d and %(high)d.")
CODE_WRONG = gettext_lazy("The code is wrong or has expired. Enter the 6 digits the app shows now.")
NO_AUTHENTICATOR = gettext_lazy("No authenticator is being set up: start again.")

# Allowed ranges of the policy's numbers (MLPS 2.0 asks for at least 8 characters, 3 classes).
# The idle timeout cannot pass the session cookie's age (SESSION_COOKIE_AGE), which ends an
# idle session anyway.
POLICY_RANGES = {
    "min_length": (8, 64), "min_classes": (2, 4), "expiry_days": (0, 365),
    "history_count": (0, 24), "idle_minutes": (5, 240),
}
TOTP_ISSUER = "Shidian"


def _audit(*, actor: Any, obj: models.Model, event: str, changes: dict[str, list[str]]) -> None:
    LogEntry.objects.create(
        content_type=ContentType.objects.get_for_model(obj), object_pk=str(obj.pk),
        object_id=obj.pk if isinstance(obj.pk, int) else None, object_repr=str(obj)[:200],
        action=LogEntry.Action.UPDATE, changes=changes, actor=actor,
        additional_data={"event": event})


# --- the policy ---------------------------------------------------------------------------------

@transaction.atomic
def policy_update(*, actor: User, **values: Any) -> SecurityPolicy:
    access.require_security_admin(actor)
    policy = SecurityPolicy.objects.select_for_update().filter(pk=1).first() \
        or SecurityPolicy(pk=1, **defaults())
    ranges = {**POLICY_RANGES, "idle_minutes": (5, max(5, min(
        POLICY_RANGES["idle_minutes"][1], int(settings.SESSION_COOKIE_AGE) // 60)))}
    for name, (low, high) in ranges.items():
        if name in values and not low <= int(values[name]) <= high:
            field = SecurityPolicy._meta.get_field(name)
            raise ShidianError(ErrorCode.INVALID, POLICY_RANGE % {
                "field": field.verbose_name, "low": low, "high": high}, {"field": name})
    changed = []
    for name in (*POLICY_RANGES, "totp_required", "change_after_reset"):
        if name in values:
            value = bool(values[name]) if name in ("totp_required", "change_after_reset") \
                else int(values[name])
            if getattr(policy, name) != value or policy._state.adding:
                setattr(policy, name, value)
                changed.append(name)
    if changed:
        with set_actor(actor):
            policy.save()
        policy_forget()  # now, and again once committed (a reader may cache the old row)
        transaction.on_commit(policy_forget)
    return policy


# --- accounts -----------------------------------------------------------------------------------

@transaction.atomic
def account_unlock(*, actor: User, user_id: int) -> bool:
    """Lift a login lock (django-axes counts failures per user name); audited."""
    from axes.utils import reset

    target = access.access_account_by_id(user=actor, user_id=user_id)
    removed = reset(username=target.username)
    if removed:
        _audit(actor=actor, obj=target, event="unlock", changes={"login lock": ["locked",
                                                                                "unlocked"]})
    return bool(removed)


@transaction.atomic
def account_force_password_change(*, actor: User, user_id: int) -> None:
    target = access.access_account_by_id(user=actor, user_id=user_id)
    PasswordState.objects.update_or_create(user_id=target.pk, defaults={"must_change": True})
    _audit(actor=actor, obj=target, event="force_password_change",
           changes={"must change password": ["False", "True"]})


@transaction.atomic
def account_role_set(*, actor: User, user_id: int, role: str) -> User:
    """Grant or take back one of the three separated roles (系统/安全/审计管理员)."""
    target = access.access_account_by_id(user=actor, user_id=user_id)
    target = User.objects.select_for_update().get(pk=target.pk)
    if role not in Role.values:
        raise ShidianError(ErrorCode.INVALID, ROLE_UNKNOWN % {"role": role}, {"field": "role"})
    if role == target.role:
        return target
    if role not in access.THREE_ROLES and target.role not in access.THREE_ROLES:
        raise ShidianError(ErrorCode.INVALID, str(ROLE_NOT_SEPARATED), {"field": "role"})
    if role in access.THREE_ROLES and target.is_superuser:
        raise ShidianError(ErrorCode.INVALID, ROLE_SUPERUSER % {"name": target.username},
                           {"field": "role"})
    target.role = role
    target.is_staff = role == Role.ADMIN
    with set_actor(actor):
        target.save(update_fields=["role", "is_staff"])
    return target


@transaction.atomic
def account_totp_reset(*, actor: User, user_id: int) -> bool:
    target = access.access_account_by_id(user=actor, user_id=user_id)
    deleted, _ = TotpDevice.objects.filter(user_id=target.pk).delete()
    if deleted:
        _audit(actor=actor, obj=target, event="totp_reset",
               changes={"authenticator": ["set", "removed"]})
    return bool(deleted)


# --- the second factor (each user's own) --------------------------------------------------------

def totp_required(user: Any) -> bool:
    """Must this user sign in with a one-time code? (has one, or the policy says so)"""
    if not getattr(user, "is_authenticated", False):
        return False
    if TotpDevice.objects.filter(user_id=user.pk, confirmed_at__isnull=False).exists():
        return True
    return bool(policy_get().totp_required and user.role in access.TOTP_ROLES)


def totp_uri(*, user: User, device: TotpDevice) -> str:
    return pyotp.TOTP(crypto.decrypt_text(device.secret)).provisioning_uri(
        name=user.username, issuer_name=getattr(settings, "SHIDIAN_TOTP_ISSUER", TOTP_ISSUER))


@transaction.atomic
def totp_enroll_start(*, user: User) -> TotpDevice:
    """The authenticator being set up: a new secret, or the one already shown (so the QR code
    scanned stays valid until it is confirmed)."""
    device = TotpDevice.objects.select_for_update().filter(user_id=user.pk).first()
    if device is not None:
        return device
    return TotpDevice.objects.create(user_id=user.pk,
                                     secret=crypto.encrypt_text(pyotp.random_base32()))


def _accept(device: TotpDevice, code: str, *, now: Any = None) -> bool:
    """A code of the current 30-second step (or one either side), each step used once."""
    code = "".join((code or "").split())
    if not (code.isdigit() and len(code) == 6):
        return False
    totp = pyotp.TOTP(crypto.decrypt_text(device.secret))
    moment = now or timezone.now()
    step = int(moment.timestamp()) // totp.interval
    for candidate in (step, step - 1, step + 1):
        if candidate <= device.last_step:
            continue
        if totp.at(candidate * totp.interval) == code:
            device.last_step = candidate
            return True
    return False


@transaction.atomic
def totp_confirm(*, user: User, code: str, now: Any = None) -> TotpDevice:
    device = TotpDevice.objects.select_for_update().filter(user_id=user.pk).first()
    if device is None:
        raise ShidianError(ErrorCode.INVALID, str(NO_AUTHENTICATOR))
    if not _accept(device, code, now=now):
        raise ShidianError(ErrorCode.INVALID, str(CODE_WRONG), {"field": "code"})
    first = device.confirmed_at is None
    device.confirmed_at = device.confirmed_at or timezone.now()
    device.save(update_fields=["confirmed_at", "last_step"])
    if first:
        _audit(actor=user, obj=user, event="totp_enrolled",
               changes={"authenticator": ["none", "set"]})
    return device


@transaction.atomic
def totp_verify(*, user: User, code: str, now: Any = None) -> None:
    """Check a sign-in code; a wrong code counts as a failed login (django-axes lockout)."""
    device = TotpDevice.objects.select_for_update().filter(
        user_id=user.pk, confirmed_at__isnull=False).first()
    if device is None or not _accept(device, code, now=now):
        raise ShidianError(ErrorCode.INVALID, str(CODE_WRONG), {"field": "code"})
    device.save(update_fields=["last_step"])
