"""The only gate of the catalogue: who creates programmes from packs, and which programmes'
pack pages a user reads or changes.

- Plan office and administrators (the roles that write plans) create programmes from a pack,
  at their own division or below (a national programme only from a national office).
- The pack page of a programme (what was installed, its lists) is read by offices, leaders and
  administrators whose subtree holds the programme's division; changed (list items) by offices
  and administrators of that subtree.
- Everyone else: nothing. Missing and forbidden answer alike (not found).
"""
from __future__ import annotations

from django.db.models import QuerySet

from shidian.core.errors import not_found
from shidian.orgs.access import division_q, sees_subtree
from shidian.orgs.models import Division, User
from shidian.plans.access import can_write_plans

from .models import DutyList, PackInstall


def can_create(user: User) -> bool:
    return can_write_plans(user)


def can_browse(user: User) -> bool:
    """The catalogue page: those who may create programmes, and leaders who read them."""
    return sees_subtree(user)


def division_for_create(*, user: User, code: str) -> Division | None:
    """The division a new programme goes to: inside the user's subtree; empty = national."""
    if not code:
        if user.is_superuser or user.division_id is None:
            return None
        raise not_found("division")
    division = Division.objects.filter(code=str(code)).first()
    if division is None:
        raise not_found("division")
    if not (user.is_superuser or user.division_id is None
            or division.code.startswith(user.division_id)):
        raise not_found("division")
    return division


def installs_visible_to(*, user: User) -> QuerySet[PackInstall]:
    if not sees_subtree(user):
        return PackInstall.objects.none()
    return PackInstall.objects.filter(division_q(user, "programme__division"))


def access_install_by_programme_id(*, user: User, programme_id: int | str) -> PackInstall:
    try:
        return (installs_visible_to(user=user).select_related("programme", "plan",
                                                              "programme__division")
                .get(programme_id=programme_id))
    except (PackInstall.DoesNotExist, ValueError, TypeError):
        raise not_found("programme") from None


def access_list_for_change(*, user: User, list_id: int | str) -> DutyList:
    if not can_write_plans(user):
        raise not_found("list")
    try:
        return (DutyList.objects.select_related("install__programme")
                .filter(install__in=installs_visible_to(user=user)).get(pk=list_id))
    except (DutyList.DoesNotExist, ValueError, TypeError):
        raise not_found("list") from None
