"""The only gate to scoped data: which divisions and agencies a user may see.

Every other app's ``access.py`` builds on these primitives. A user's scope is
``user.division`` (a code-prefix subtree; empty means the whole country) and ``user.agencies``.
Missing and forbidden objects are answered alike (not found), so ids cannot be probed.
"""
from __future__ import annotations

from django.db.models import Q, QuerySet

from shidian.core.errors import ErrorCode, ShidianError

from .models import Agency, Division, Role, User

# Roles that see everything inside their division subtree (not only their own agencies' work).
SUBTREE_ROLES = frozenset({Role.OFFICE, Role.LEADER, Role.ADMIN})


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
        return Q()
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
    own = Q(pk__in=user_agency_ids(user))
    return Agency.objects.filter(scope | own).select_related("division")


def access_agency_by_id(*, user: User, agency_id: int) -> Agency:
    try:
        return agencies_visible_to(user=user).get(pk=agency_id)
    except (Agency.DoesNotExist, ValueError, TypeError):
        raise ShidianError(ErrorCode.NOT_FOUND, "agency not found") from None
