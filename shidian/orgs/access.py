"""The only gate to scoped data: which divisions and agencies a user may see.

Every other app's ``access.py`` builds on these primitives. A user's scope is
``user.division`` (a code-prefix subtree; empty means the whole country) and ``user.agencies``.
Missing and forbidden objects are answered alike (not found), so ids cannot be probed.
"""
from __future__ import annotations

from django.db.models import Q, QuerySet

from shidian.core.errors import ErrorCode, ShidianError, not_found

from .models import Agency, Division, Role, User

# Roles that see everything inside their division subtree (not only their own agencies' work).
SUBTREE_ROLES = frozenset({Role.OFFICE, Role.LEADER, Role.ADMIN})
# A condition that keeps every row and survives ``|``: an empty ``Q()`` is dropped when
# combined with ``|`` (``Q() | Q(pk__in=own)`` would keep only ``own``). Compiles to no WHERE.
EVERYTHING = ~Q(pk__in=[])
# 三员分立: the security and audit administrators are granted and managed by the security
# administrator (shidian.security), never by the system administrator, who neither sees nor
# changes their accounts (else a reset password would let one person act as two of them).
SEPARATED_ROLES = frozenset({Role.SECURITY_ADMIN, Role.AUDIT_ADMIN})


def is_admin(user: User) -> bool:
    return bool(user.is_active and (user.is_superuser or user.role == Role.ADMIN))


def sees_subtree(user: User) -> bool:
    return bool(user.is_active and (user.is_superuser or user.role in SUBTREE_ROLES))


def division_q(user: User, field: str = "division") -> Q:
    """A filter on ``<field>_id`` keeping rows inside the user's division subtree.

    ``field`` names a foreign key to Division (``plan__division``). A user without a
    division scope sees every division only if they are a superuser or a national office.
    """
    if user.is_superuser or (user.division_id is None and sees_subtree(user)):
        return EVERYTHING
    if user.division_id is None:
        return Q(pk__in=[])
    return Q(**{f"{field}__code__startswith": user.division_id})


def user_agency_ids(user: User) -> set[int]:
    """The agencies this user acts for (cached on the user object for one request)."""
    cached = getattr(user, "_agency_ids", None)
    if cached is None:
        cached = set(user.agencies.values_list("pk", flat=True)) if user.pk else set()
        user._agency_ids = cached  # type: ignore[attr-defined]
    return cached


def divisions_visible_to(*, user: User) -> QuerySet[Division]:
    """The user's division and everything under it (the whole tree for national users)."""
    if user.is_superuser or (user.division_id is None and sees_subtree(user)):
        return Division.objects.all()
    if user.division_id is None:
        return Division.objects.none()
    return Division.objects.filter(code__startswith=user.division_id)


def agencies_visible_to(*, user: User) -> QuerySet[Agency]:
    """Agencies in the user's division subtree, plus the agencies the user acts for."""
    if not user.is_active:
        return Agency.objects.none()
    scope = division_q(user) if sees_subtree(user) else Q(pk__in=[])
    if scope is EVERYTHING:  # the whole country: nothing to add "own" agencies to
        return Agency.objects.select_related("division")
    own = Q(pk__in=user_agency_ids(user))
    return Agency.objects.filter(scope | own).select_related("division")


def access_agency_by_id(*, user: User, agency_id: int) -> Agency:
    try:
        return agencies_visible_to(user=user).get(pk=agency_id)
    except (Agency.DoesNotExist, ValueError, TypeError):
        raise not_found("agency") from None


def require_admin(user: User) -> None:
    """Writes to the orgs register are for administrators (role admin or superuser)."""
    if not is_admin(user):
        raise ShidianError(ErrorCode.FORBIDDEN, "administrators only")


def can_read_orgs(user: User) -> bool:
    """Offices, leaders and administrators read the agencies of their subtree."""
    return sees_subtree(user)


def agencies_manageable_by(*, user: User) -> QuerySet[Agency]:
    """The agencies an administrator may change: those of the admin's division subtree."""
    if not is_admin(user):
        return Agency.objects.none()
    return Agency.objects.filter(division_q(user)).select_related("division")


def access_agency_for_change(*, user: User, agency_id: int) -> Agency:
    try:
        return agencies_manageable_by(user=user).get(pk=agency_id)
    except (Agency.DoesNotExist, ValueError, TypeError):
        raise not_found("agency") from None


def access_division_by_code(*, user: User, code: str) -> Division:
    """A division inside the user's subtree (a county admin cannot pick another county)."""
    try:
        return divisions_visible_to(user=user).get(code=str(code))
    except Division.DoesNotExist:
        raise not_found("division") from None


def users_visible_to(*, user: User) -> QuerySet[User]:
    """The users an administrator manages: those scoped inside the admin's division subtree.

    A county administrator never sees national users (no division) nor superusers.
    """
    if not is_admin(user):
        return User.objects.none()
    users = User.objects.filter(division_q(user))
    if not user.is_superuser:
        users = users.filter(is_superuser=False)
    return users.exclude(role__in=SEPARATED_ROLES)


def access_user_by_id(*, user: User, user_id: int) -> User:
    try:
        return users_visible_to(user=user).get(pk=user_id)
    except (User.DoesNotExist, ValueError, TypeError):
        raise not_found("user") from None
