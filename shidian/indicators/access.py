"""The only gate to indicator data: who may read which divisions' figures and who may enter.

- Reading: a user sees the figures of the divisions in their subtree (``orgs.access``); a
  township clerk sees its township and villages, a county office its county downwards.
- Entering: offices, pilot sites, case workers, liaisons and administrators enter values for
  divisions in their own subtree only, and only for divisions the data set assigns; an
  agency's figures are entered by the people acting for that agency (or an office above it).
  Leaders and experts only read.
- Defining data sets, indicators and targets: offices and administrators.

Missing and forbidden are answered alike (``not_found``), so ids in URLs cannot be probed.
"""
from __future__ import annotations

from django.db.models import Q, QuerySet

from shidian.core.errors import not_found
from shidian.orgs.access import (divisions_visible_to, division_q, sees_subtree,
                                 user_agency_ids)
from shidian.orgs.models import CODE_LENGTHS, Agency, Division, Role, User
from shidian.plans.access import plans_visible_to

from .models import DataSet, Indicator, Target, TargetStatus

ENTRY_ROLES = frozenset({Role.OFFICE, Role.ADMIN, Role.PILOT_SITE, Role.CASE_WORKER,
                         Role.LIAISON})
MANAGER_ROLES = frozenset({Role.OFFICE, Role.ADMIN})



def can_enter_data(user: User) -> bool:
    return bool(user.is_active and (user.is_superuser or user.role in ENTRY_ROLES))


def can_manage(user: User) -> bool:
    """Define data sets, indicators and targets; confirm a plan's targets."""
    return bool(user.is_active and (user.is_superuser or user.role in MANAGER_ROLES))


def _national(user: User) -> bool:
    return bool(user.is_superuser or (user.division_id is None and sees_subtree(user)))


def _ancestors(code: str) -> list[str]:
    return [code[:n] for n in sorted(CODE_LENGTHS.values()) if n < len(code)]


def data_sets_visible_to(*, user: User) -> QuerySet[DataSet]:
    """Data sets whose area overlaps the user's subtree, and those of the user's agencies."""
    if not user.is_active:
        return DataSet.objects.none()
    if _national(user):
        return DataSet.objects.all()
    own_agencies = Q(agencies__in=user_agency_ids(user))
    if user.division_id is None:
        return DataSet.objects.filter(own_agencies).distinct()
    national = Q(division__isnull=True)
    above = Q(division_id__in=[*_ancestors(user.division_id), user.division_id])
    inside = Q(division__code__startswith=user.division_id)
    return DataSet.objects.filter(national | above | inside | own_agencies).distinct()


def access_data_set_by_id(*, user: User, data_set_id: int | str) -> DataSet:
    try:
        return data_sets_visible_to(user=user).select_related("division", "plan").get(
            pk=data_set_id)
    except (DataSet.DoesNotExist, ValueError, TypeError):
        raise not_found("data set") from None


def access_division_for_read(*, user: User, code: str | None) -> Division | None:
    """A division the user may read figures of; ``None`` (the country) for national users.

    An empty ``code`` means the top of the user's scope.
    """
    code = (code or "").strip()
    if not code:
        if _national(user):
            return None
        if user.division_id is None:
            raise not_found("division")
        code = user.division_id
    try:
        return divisions_visible_to(user=user).get(code=code)
    except Division.DoesNotExist:
        raise not_found("division") from None


def readable_code(*, user: User, code: str) -> bool:
    if _national(user):
        return True
    return bool(user.division_id) and code.startswith(user.division_id)


def data_set_assigns(data_set: DataSet, division: Division) -> bool:
    """Whether ``division`` is one of the data set's reporting divisions."""
    if data_set.level is None:
        return False
    inside = data_set.division_id is None or division.code.startswith(data_set.division_id)
    return bool(inside and division.level == data_set.level)


def divisions_for_entry(*, user: User, data_set: DataSet) -> QuerySet[Division]:
    """The divisions for which this user may enter the data set's values."""
    if not can_enter_data(user) or data_set.level is None:
        return Division.objects.none()
    divisions = Division.objects.filter(level=data_set.level)
    if not _national(user):
        if user.division_id is None:
            return Division.objects.none()
        divisions = divisions.filter(code__startswith=user.division_id)
    if data_set.division_id:
        divisions = divisions.filter(code__startswith=data_set.division_id)
    return divisions


def access_division_for_entry(*, user: User, data_set: DataSet, code: str) -> Division:
    try:
        return divisions_for_entry(user=user, data_set=data_set).get(code=str(code))
    except Division.DoesNotExist:
        raise not_found("division") from None


def agencies_for_entry(*, user: User, data_set: DataSet) -> QuerySet[Agency]:
    """The data set's agencies this user reports for (or, for an office, oversees)."""
    if not can_enter_data(user):
        return Agency.objects.none()
    agencies = data_set.agencies.all()
    own = Q(pk__in=user_agency_ids(user))
    if sees_subtree(user):
        return agencies.filter(own | division_q(user)).select_related("division")
    return agencies.filter(own).select_related("division")


def access_agency_for_entry(*, user: User, data_set: DataSet, agency_id: int | str) -> Agency:
    try:
        return agencies_for_entry(user=user, data_set=data_set).get(pk=agency_id)
    except (Agency.DoesNotExist, ValueError, TypeError):
        raise not_found("agency") from None


def indicators_visible_to(*, user: User) -> QuerySet[Indicator]:
    """Indicator definitions: confirmed ones for every signed-in user; drafts for managers
    of the plan they came from."""
    if not user.is_active:
        return Indicator.objects.none()
    confirmed = Q(status="active")
    if can_manage(user):
        drafts = Q(plan__in=plans_visible_to(user=user))
        return Indicator.objects.filter(confirmed | drafts)
    return Indicator.objects.filter(confirmed)


def access_indicator_by_id(*, user: User, indicator_id: int | str) -> Indicator:
    try:
        return indicators_visible_to(user=user).get(pk=indicator_id)
    except (Indicator.DoesNotExist, ValueError, TypeError):
        raise not_found("indicator") from None


def targets_visible_to(*, user: User) -> QuerySet[Target]:
    """Confirmed targets of visible plans or of areas overlapping the user's subtree."""
    if not user.is_active:
        return Target.objects.none()
    targets = Target.objects.exclude(status=TargetStatus.DISCARDED)
    if not can_manage(user):
        targets = targets.filter(status=TargetStatus.CONFIRMED)
    if _national(user):
        return targets
    of_plans = Q(plan__in=plans_visible_to(user=user))
    if user.division_id is None:
        return targets.filter(of_plans)
    area = Q(division__code__startswith=user.division_id) | Q(
        division_id__in=_ancestors(user.division_id)) | Q(division__isnull=True)
    return targets.filter(of_plans | area)


def targets_writable_by(*, user: User) -> QuerySet[Target]:
    if not can_manage(user):
        return Target.objects.none()
    if _national(user):
        return Target.objects.all()
    if user.division_id is None:
        return Target.objects.none()
    return Target.objects.filter(division__code__startswith=user.division_id)


def access_target_by_id(*, user: User, target_id: int | str, for_write: bool = False) -> Target:
    targets = targets_writable_by(user=user) if for_write else targets_visible_to(user=user)
    try:
        return targets.select_related("indicator", "division", "plan").get(pk=target_id)
    except (Target.DoesNotExist, ValueError, TypeError):
        raise not_found("target") from None
