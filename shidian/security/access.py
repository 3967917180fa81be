"""Who may use the security pages (三员分立).

* the security administrator: the policy, locked accounts, role grants, authenticator resets;
* the audit administrator: the audit trail, the login log and the chain's verification, read
  only;
* both read the controls page. Nobody else, superusers included: a superuser is one person
  holding every power, which is what the separation forbids.
"""
from __future__ import annotations

from typing import Any

from shidian.core.errors import ErrorCode, ShidianError, not_found
from shidian.orgs.models import Role, User

# Roles whose holders must sign in with a second factor when the policy requires one.
TOTP_ROLES = frozenset({Role.ADMIN, Role.OFFICE, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN})
# The three separated roles; one user holds one role, so never two of these.
THREE_ROLES = (Role.ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN)


def _active(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def is_security_admin(user: Any) -> bool:
    return _active(user) and user.role == Role.SECURITY_ADMIN


def is_audit_admin(user: Any) -> bool:
    return _active(user) and user.role == Role.AUDIT_ADMIN


def can_read_controls(user: Any) -> bool:
    return is_security_admin(user) or is_audit_admin(user)


def require_security_admin(user: Any) -> None:
    if not is_security_admin(user):
        raise ShidianError(ErrorCode.FORBIDDEN, "security administrators only")


def require_audit_admin(user: Any) -> None:
    if not is_audit_admin(user):
        raise ShidianError(ErrorCode.FORBIDDEN, "audit administrators only")


def require_controls_reader(user: Any) -> None:
    if not can_read_controls(user):
        raise ShidianError(ErrorCode.FORBIDDEN, "security or audit administrators only")


def access_account_by_id(*, user: Any, user_id: int) -> User:
    """A user account the security administrator manages (every account but superusers and
    the security administrator's own)."""
    require_security_admin(user)
    try:
        return User.objects.exclude(pk=user.pk).exclude(is_superuser=True).get(pk=user_id)
    except (User.DoesNotExist, ValueError, TypeError):
        raise not_found("user") from None
