"""The only gate to selection data: who sees and who acts on calls, applications and reviews.

- The issuing office: an office (or administrator) whose division subtree holds the call's
  division (a national call: national offices only). It runs the call, sees applications once
  they are forwarded, assigns experts, approves.
- A provincial office: an office scoped to a province sees the applications of its province,
  forwards (报送) or returns them.
- An applicant: a liaison or pilot-site user acts for its own agencies' applications only; it
  sees the calls that are published.
- An expert: role expert, sees the calls it is named on and, for each application assigned to
  it, only the applicant's name until it has declared no conflict of interest.

Missing and forbidden objects are answered alike (``not_found``).
"""
from __future__ import annotations

from django.db.models import Q, QuerySet

from shidian.core.errors import not_found
from shidian.orgs.access import division_q, user_agency_ids
from shidian.orgs.models import Role, User

from .models import (Application, ApplicationDocument, ApplicationStatus, Call, PilotSite,
                     ReviewAssignment, ReviewStatus)

OFFICE_ROLES = frozenset({Role.OFFICE, Role.ADMIN})
APPLICANT_ROLES = frozenset({Role.LIAISON, Role.PILOT_SITE})
# What the issuing office sees of applications: nothing before its province forwards it.
OFFICE_STATUSES = (ApplicationStatus.FORWARDED, ApplicationStatus.APPROVED,
                   ApplicationStatus.REJECTED)



def is_office(user: User) -> bool:
    return bool(user.is_active and (user.is_superuser or user.role in OFFICE_ROLES))


def is_provincial_office(user: User) -> bool:
    return bool(user.is_active and user.role == Role.OFFICE and user.division_id
                and len(user.division_id) == 2)


def is_applicant(user: User) -> bool:
    return bool(user.is_active and user.role in APPLICANT_ROLES and user_agency_ids(user))


def is_expert(user: User) -> bool:
    return bool(user.is_active and user.role == Role.EXPERT)


def uses_selection(user: User) -> bool:
    return is_office(user) or is_applicant(user) or is_expert(user)


# -- calls ----------------------------------------------------------------------------------
def calls_run_by(*, user: User) -> QuerySet[Call]:
    """The calls the user's office issues (national calls: national offices only)."""
    if not is_office(user):
        return Call.objects.none()
    if user.is_superuser or user.division_id is None:
        return Call.objects.filter(division_q(user) | Q(division__isnull=True))
    return Call.objects.filter(division_q(user))


def calls_visible_to(*, user: User) -> QuerySet[Call]:
    if not user.is_active:
        return Call.objects.none()
    run = calls_run_by(user=user)
    if is_office(user):
        if is_provincial_office(user):
            forwarded = Call.objects.filter(applications__province_id=user.division_id)
            return Call.objects.filter(Q(pk__in=run.values("pk")) | Q(pk__in=forwarded.values(
                "pk")) | Q(is_open=True)).distinct()
        return run
    if is_applicant(user):
        return Call.objects.filter(is_open=True)
    if is_expert(user):
        return Call.objects.filter(experts=user)
    return Call.objects.none()


def access_call_by_id(*, user: User, call_id: int | str) -> Call:
    try:
        return (calls_visible_to(user=user).select_related("programme", "plan", "division")
                .get(pk=call_id))
    except (Call.DoesNotExist, ValueError, TypeError):
        raise not_found("call") from None


def access_call_for_office(*, user: User, call_id: int | str) -> Call:
    try:
        return (calls_run_by(user=user).select_related("programme", "plan", "division")
                .get(pk=call_id))
    except (Call.DoesNotExist, ValueError, TypeError):
        raise not_found("call") from None


# -- applications ---------------------------------------------------------------------------
def applications_visible_to(*, user: User) -> QuerySet[Application]:
    if not user.is_active:
        return Application.objects.none()
    rows = Q(pk__in=[])
    if is_office(user):
        rows |= Q(call__in=calls_run_by(user=user), status__in=OFFICE_STATUSES)
        if is_provincial_office(user):
            rows |= Q(province_id=user.division_id) & ~Q(status=ApplicationStatus.DRAFT)
    if is_applicant(user):
        rows |= Q(agency_id__in=user_agency_ids(user))
    if is_expert(user):
        rows |= Q(pk__in=ReviewAssignment.objects.filter(
            expert=user, status__in=(ReviewStatus.DECLARED, ReviewStatus.SCORED))
            .values("application_id"))
    return Application.objects.filter(rows)


def access_application_by_id(*, user: User, application_id: int | str) -> Application:
    try:
        return (applications_visible_to(user=user)
                .select_related("call", "agency", "agency__division", "category", "province")
                .get(pk=application_id))
    except (Application.DoesNotExist, ValueError, TypeError):
        raise not_found("application") from None


def access_application_of_applicant(*, user: User, application_id: int | str) -> Application:
    """An application of one of the user's own agencies (to edit, upload, submit)."""
    if not is_applicant(user):
        raise not_found("application")
    try:
        return (Application.objects.filter(agency_id__in=user_agency_ids(user))
                .select_related("call", "agency", "category").get(pk=application_id))
    except (Application.DoesNotExist, ValueError, TypeError):
        raise not_found("application") from None


def access_application_for_province(*, user: User, application_id: int | str) -> Application:
    """An application of the provincial office's province (to forward or return)."""
    if not is_provincial_office(user):
        raise not_found("application")
    try:
        return (Application.objects.filter(province_id=user.division_id)
                .exclude(status=ApplicationStatus.DRAFT)
                .select_related("call", "agency").get(pk=application_id))
    except (Application.DoesNotExist, ValueError, TypeError):
        raise not_found("application") from None


def access_application_for_office(*, user: User, application_id: int | str) -> Application:
    """A forwarded application of a call the user's office runs (to review and decide)."""
    try:
        return (Application.objects.filter(call__in=calls_run_by(user=user),
                                           status__in=OFFICE_STATUSES)
                .select_related("call", "agency", "category").get(pk=application_id))
    except (Application.DoesNotExist, ValueError, TypeError):
        raise not_found("application") from None


def access_document_by_id(*, user: User, document_id: int | str) -> ApplicationDocument:
    try:
        return (ApplicationDocument.objects
                .filter(application__in=applications_visible_to(user=user))
                .select_related("application").get(pk=document_id))
    except (ApplicationDocument.DoesNotExist, ValueError, TypeError):
        raise not_found("document") from None


# -- reviews --------------------------------------------------------------------------------
def access_review_of_expert(*, user: User, review_id: int | str) -> ReviewAssignment:
    """One of the expert's own review assignments (to declare and to score)."""
    if not is_expert(user):
        raise not_found("review")
    try:
        return (ReviewAssignment.objects.filter(expert=user)
                .select_related("application", "application__call", "application__agency",
                                "application__category").get(pk=review_id))
    except (ReviewAssignment.DoesNotExist, ValueError, TypeError):
        raise not_found("review") from None


def sites_visible_to(*, user: User) -> QuerySet[PilotSite]:
    if not user.is_active:
        return PilotSite.objects.none()
    rows = Q(pk__in=[])
    if is_office(user):
        rows |= Q(call__in=calls_run_by(user=user))
        if is_provincial_office(user):
            rows |= Q(application__province_id=user.division_id)
    if user.role in APPLICANT_ROLES:
        rows |= Q(agency_id__in=user_agency_ids(user))
    return PilotSite.objects.filter(rows)


def access_site_by_id(*, user: User, site_id: int | str) -> PilotSite:
    try:
        return (sites_visible_to(user=user)
                .select_related("application", "application__category", "call", "agency",
                                "agency__division", "plan").get(pk=site_id))
    except (PilotSite.DoesNotExist, ValueError, TypeError):
        raise not_found("pilot site") from None
