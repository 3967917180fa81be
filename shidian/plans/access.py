"""The only gate to plans and tasks: who may see and who may change them.

- Plan office, leader, administrator: every plan whose division lies in their subtree (drafts
  included). Only the office and administrators change them; leaders read.
- Unit liaison and pilot site: the tasks of published plans in which one of their agencies is a
  unit (lead or responsible), and those plans as a read-only summary.
- Everyone else: nothing.

Missing and forbidden objects are answered alike (``not_found``), so ids cannot be probed; a
read-only user asking to change a plan gets the same answer.
"""
from __future__ import annotations

from django.db.models import Q, QuerySet

from shidian.core.errors import not_found
from shidian.orgs.access import division_q, sees_subtree, user_agency_ids
from shidian.orgs.models import Role, User

from .models import Plan, Programme, Task, TaskUnit

# Roles that change plans inside their subtree.
WRITER_ROLES = frozenset({Role.OFFICE, Role.ADMIN})
# Roles that see the tasks their agencies take part in.
AGENCY_ROLES = frozenset({Role.LIAISON, Role.PILOT_SITE})


def can_write_plans(user: User) -> bool:
    return bool(user.is_active and (user.is_superuser or user.role in WRITER_ROLES))


def sees_agency_tasks(user: User) -> bool:
    return bool(user.is_active and user.role in AGENCY_ROLES and not sees_subtree(user))



def _agency_task_q(user: User, prefix: str = "") -> Q:
    """Published tasks in which one of the user's agencies is a unit."""
    task_ids = TaskUnit.objects.filter(agency_id__in=user_agency_ids(user)).values("task_id")
    return Q(**{
        f"{prefix}plan__version__gt": 0,
        f"{prefix}first_version__isnull": False,
        f"{prefix}pk__in": task_ids,
    })


def programmes_visible_to(*, user: User) -> QuerySet[Programme]:
    """Programmes of the user's subtree, of the divisions above it, and national ones.

    A county office imports its plan into the programme its city started, so programmes of the
    higher divisions are visible to it (their plans are not, unless they are in its subtree).
    """
    if not sees_subtree(user):
        return Programme.objects.filter(pk__in=plans_visible_to(user=user).values("programme_id"))
    if user.is_superuser or user.division_id is None:
        return Programme.objects.filter(division_q(user))
    code = user.division_id
    higher = [code[:n] for n in (2, 4, 6, 9) if n < len(code)]
    inside = division_q(user)
    above = Q(division_id__in=higher)
    national = Q(division__isnull=True)
    return Programme.objects.filter(inside | above | national)


def plans_visible_to(*, user: User) -> QuerySet[Plan]:
    if not user.is_active:
        return Plan.objects.none()
    if sees_subtree(user):
        return Plan.objects.filter(division_q(user))
    if sees_agency_tasks(user):
        task_plans = Task.objects.filter(_agency_task_q(user)).values("plan_id")
        return Plan.objects.filter(pk__in=task_plans)
    return Plan.objects.none()


def plans_writable_by(*, user: User) -> QuerySet[Plan]:
    if not can_write_plans(user):
        return Plan.objects.none()
    return Plan.objects.filter(division_q(user))


def access_plan_by_id(*, user: User, plan_id: int | str, for_write: bool = False) -> Plan:
    plans = plans_writable_by(user=user) if for_write else plans_visible_to(user=user)
    try:
        return plans.select_related("programme", "division", "parent").get(pk=plan_id)
    except (Plan.DoesNotExist, ValueError, TypeError):
        raise not_found("plan") from None


def tasks_visible_to(*, user: User) -> QuerySet[Task]:
    if not user.is_active:
        return Task.objects.none()
    if sees_subtree(user):
        return Task.objects.filter(division_q(user, "plan__division"))
    if sees_agency_tasks(user):
        return Task.objects.filter(_agency_task_q(user))
    return Task.objects.none()


def tasks_writable_by(*, user: User) -> QuerySet[Task]:
    if not can_write_plans(user):
        return Task.objects.none()
    return Task.objects.filter(division_q(user, "plan__division"))


def access_task_by_id(*, user: User, task_id: int | str, for_write: bool = False) -> Task:
    tasks = tasks_writable_by(user=user) if for_write else tasks_visible_to(user=user)
    try:
        return tasks.select_related("plan", "plan__division", "parent", "phase").get(pk=task_id)
    except (Task.DoesNotExist, ValueError, TypeError):
        raise not_found("task") from None


def access_task_unit_by_id(*, user: User, unit_id: int | str) -> TaskUnit:
    """A unit row of a task the user may change (units are only ever fetched to be changed)."""
    units = TaskUnit.objects.filter(task__in=tasks_writable_by(user=user))
    try:
        return units.select_related("task", "task__plan", "task__plan__division",
                                    "agency").get(pk=unit_id)
    except (TaskUnit.DoesNotExist, ValueError, TypeError):
        raise not_found("unit") from None


def access_programme_by_id(*, user: User, programme_id: int | str) -> Programme:
    try:
        return programmes_visible_to(user=user).get(pk=programme_id)
    except (Programme.DoesNotExist, ValueError, TypeError):
        raise not_found("programme") from None
