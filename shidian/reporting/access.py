"""The only gate to reports and evidence, built on the plans gate (``shidian.plans.access``).

- A unit liaison or pilot site sees the reports of the agencies it acts for, and, on a task
  where one of those agencies leads, the submitted reports of the cooperating units (a lead
  unit's report includes them). It writes reports only for its own agencies, on published
  tasks where the agency is a unit.
- The plan office, leaders and administrators see every report that is no longer a draft on
  the tasks of their division subtree; the office and administrators return and accept them.
- Evidence is seen by whoever may act for its agency or see a report that cites it.

Missing and forbidden objects are answered alike (not found), so ids cannot be probed.
"""
from __future__ import annotations

from django.db.models import Q, QuerySet

from shidian.core.errors import not_found
from shidian.orgs.access import division_q, sees_subtree, user_agency_ids
from shidian.orgs.models import Agency, Role, User
from shidian.plans.access import (access_plan_by_id, access_task_by_id, plans_visible_to,
                                  tasks_visible_to)
from shidian.plans.models import Plan, Task, TaskUnit, UnitRole

from .models import Evidence, ProgressReport, ReportStatus

# Roles that write reports for the agencies they act for.
REPORTER_ROLES = frozenset({Role.LIAISON, Role.PILOT_SITE})
# Roles that review reports (return, accept) and set reporting cycles in their subtree.
REVIEWER_ROLES = frozenset({Role.OFFICE, Role.ADMIN})
# Statuses another unit or the office may read: drafts stay with the unit that writes them.
SHARED_STATUSES = (ReportStatus.SUBMITTED, ReportStatus.RETURNED, ReportStatus.ACCEPTED)

__all__ = [
    "access_plan_by_id", "access_task_by_id", "plans_visible_to", "tasks_visible_to",
    "is_reporter", "is_reviewer", "sees_dashboards", "reports_visible_to",
    "access_report_by_id", "access_report_for_review", "reporting_agencies_for_task",
    "access_reporting_agency", "evidence_visible_to", "access_evidence_by_id",
    "access_plan_for_review",
]



def is_reporter(user: User) -> bool:
    return bool(user.is_active and user.role in REPORTER_ROLES and not sees_subtree(user))


def is_reviewer(user: User) -> bool:
    return bool(user.is_active and (user.is_superuser or user.role in REVIEWER_ROLES))


def sees_dashboards(user: User) -> bool:
    """Office, leaders and administrators read the 挂图作战 pages of their subtree."""
    return sees_subtree(user)


def _lead_task_ids(user: User) -> QuerySet[TaskUnit]:
    return TaskUnit.objects.filter(agency_id__in=user_agency_ids(user),
                                   role=UnitRole.LEAD).values("task_id")


def reports_visible_to(*, user: User) -> QuerySet[ProgressReport]:
    if not user.is_active:
        return ProgressReport.objects.none()
    if sees_subtree(user):
        return ProgressReport.objects.filter(
            division_q(user, "task__plan__division"),
            status__in=SHARED_STATUSES,
        )
    if is_reporter(user):
        own = Q(agency_id__in=user_agency_ids(user))
        led = Q(task_id__in=_lead_task_ids(user), status__in=SHARED_STATUSES)
        published = Q(task__in=tasks_visible_to(user=user))
        return ProgressReport.objects.filter(published & (own | led))
    return ProgressReport.objects.none()


def access_report_by_id(*, user: User, report_id: int | str) -> ProgressReport:
    try:
        return (reports_visible_to(user=user)
                .select_related("task", "task__plan", "agency", "submitted_by")
                .get(pk=report_id))
    except (ProgressReport.DoesNotExist, ValueError, TypeError):
        raise not_found("report") from None


def access_report_for_review(*, user: User, report_id: int | str) -> ProgressReport:
    """A report the user may return or accept (reviewers only, inside their subtree)."""
    if not is_reviewer(user):
        raise not_found("report")
    return access_report_by_id(user=user, report_id=report_id)


def access_plan_for_review(*, user: User, plan_id: int | str) -> Plan:
    """A plan whose cycle the user may set (reviewers only)."""
    if not is_reviewer(user):
        raise not_found("plan")
    return access_plan_by_id(user=user, plan_id=plan_id)


def reporting_agencies_for_task(*, user: User, task: Task) -> list[tuple[Agency, str]]:
    """The user's agencies that report on ``task``, each with its role (lead first)."""
    if not is_reporter(user):
        return []
    units = (TaskUnit.objects.filter(task=task, agency_id__in=user_agency_ids(user))
             .select_related("agency").order_by("role", "order"))
    found: dict[int, tuple[Agency, str]] = {}
    for unit in units:
        if unit.agency is None:
            continue
        # An agency named as lead and as responsible reports once, as the lead.
        if unit.agency_id not in found or unit.role == UnitRole.LEAD:
            found[unit.agency_id] = (unit.agency, unit.role)
    return sorted(found.values(), key=lambda pair: (pair[1] != UnitRole.LEAD, pair[0].name))


def access_reporting_agency(*, user: User, task: Task, agency_id: int | str | None
                            ) -> tuple[Agency, str]:
    """The agency the user reports for on ``task`` (the only one, or the one asked for)."""
    choices = reporting_agencies_for_task(user=user, task=task)
    if agency_id in (None, ""):
        if choices:
            return choices[0]
        raise not_found("task")
    for agency, role in choices:
        if str(agency.pk) == str(agency_id):
            return agency, role
    raise not_found("task")


def evidence_visible_to(*, user: User) -> QuerySet[Evidence]:
    if not user.is_active:
        return Evidence.objects.none()
    own = Q(agency_id__in=user_agency_ids(user)) if is_reporter(user) else Q(pk__in=[])
    cited = Q(pk__in=ProgressReport.evidence.through.objects.filter(
        progressreport__in=reports_visible_to(user=user)).values("evidence_id"))
    return Evidence.objects.filter(own | cited)


def access_evidence_by_id(*, user: User, evidence_id: int | str) -> Evidence:
    try:
        return evidence_visible_to(user=user).get(pk=evidence_id)
    except (Evidence.DoesNotExist, ValueError, TypeError):
        raise not_found("evidence") from None
