"""The only gate to cases: who sees which cases, and who may act on them.

Scope is the division subtree (``Case.division_id`` is the village code, so a subtree is a code
prefix, no join). A village clerk sees the village's cases, a township its townships', a county
its subtree. Acting needs more: the pack names, for each transition and editable stage, the roles
and division levels allowed (``Actor``). Missing and forbidden cases are answered alike.
"""
from __future__ import annotations

from django.db.models import Q, QuerySet

from shidian.core.errors import ShidianError, not_found
from shidian.orgs.models import LEVEL_BY_LENGTH, Role, User

from . import needtoknow
from .definitions import Actor, CaseTypeDef
from .models import Case, CaseProgramme, DuplicatePair, ImportBatch, PublicNotice

# Roles that work with cases at all; liaisons and experts have no case scope.
CASE_ROLES = frozenset({Role.CASE_WORKER, Role.OFFICE, Role.LEADER, Role.ADMIN,
                        Role.PILOT_SITE})
# Roles that run programmes (create them, choose the subsidy table) at their division.
PROGRAMME_ROLES = frozenset({Role.OFFICE, Role.ADMIN})
# Roles that review possible duplicates, at county level or above (审批 is the county's).
REVIEW_ROLES = frozenset({Role.CASE_WORKER, Role.OFFICE})
COUNTY = 3
REASON_NOT_FOUND = "not_found"


def prefix_q(field: str, code: str) -> Q:
    """Rows whose division ``field`` starts with ``code``, written as a range: ``LIKE 'x%'``
    uses no index on SQLite (case-insensitive LIKE) nor on PostgreSQL (non-C collation),
    while ``>= code AND < code~`` does on both ('~' sorts after every digit)."""
    return Q(**{f"{field}__gte": code, f"{field}__lt": code + "~"})


def _not_found(what: str) -> ShidianError:
    """Missing and forbidden look the same, so ids cannot be probed."""
    return not_found(what, reason=REASON_NOT_FOUND)


def user_level(user: User) -> int | None:
    """The division level of the user's scope (5 village … 1 province; None: national)."""
    if not user.division_id:
        return None
    return LEVEL_BY_LENGTH.get(len(user.division_id))


def _nationwide(user: User) -> bool:
    return bool(user.is_superuser or (user.division_id is None and user.role in CASE_ROLES
                                      and user.role != Role.CASE_WORKER))


def in_scope(user: User, division_code: str) -> bool:
    if not user.is_active:
        return False
    if _nationwide(user):
        return True
    return bool(user.division_id and user.role in CASE_ROLES
                and division_code.startswith(user.division_id))


def cases_visible_to(*, user: User) -> QuerySet[Case]:
    """Cases in the user's scope, less need-to-know ones the user is not entitled to
    (``needtoknow``: only their team and the responsible institution see them)."""
    return needtoknow.restrict(user, _cases_in_scope(user))


def _cases_in_scope(user: User) -> QuerySet[Case]:
    if not user.is_active:
        return Case.objects.none()
    if _nationwide(user):
        return Case.objects.all()
    if not user.division_id or user.role not in CASE_ROLES:
        return Case.objects.none()
    in_subtree = prefix_q("division", user.division_id)
    if user.role == Role.PILOT_SITE:
        # Staff of an institution see the cases their institutions own, wherever the patient
        # lives, and no other institution's (a referred case leaves with its patient).
        return Case.objects.filter(Q(agency__in=user.agencies.all())
                                   | (Q(agency__isnull=True) & in_subtree))
    return Case.objects.filter(in_subtree)


def access_case_by_id(*, user: User, case_id: int | str) -> Case:
    """The case if the user may see it; opening a need-to-know case is logged every time."""
    try:
        case = cases_visible_to(user=user).select_related("programme", "division").get(
            pk=int(case_id))
    except (Case.DoesNotExist, ValueError, TypeError):
        raise _not_found("case") from None
    if needtoknow.is_confidential(case):
        needtoknow.log_view(user=user, case=case)
    return case


def may_act(user: User, actor: Actor | None, division_code: str) -> bool:
    """The user has one of the actor's roles at one of its levels, over this division."""
    if actor is None or not in_scope(user, division_code):
        return False
    if user.is_superuser:
        return True
    if user.role not in actor.roles:
        return False
    return not actor.levels or user_level(user) in actor.levels


def can_create(user: User, case_type: CaseTypeDef, division_code: str) -> bool:
    return may_act(user, case_type.create, division_code)


def can_reveal(user: User, case_type: CaseTypeDef, case: Case) -> bool:
    return may_act(user, case_type.reveal, case.division_id)


def programmes_visible_to(*, user: User) -> QuerySet[CaseProgramme]:
    """Programmes run above the user (a village sees its province's) or inside the subtree."""
    if not user.is_active:
        return CaseProgramme.objects.none()
    if _nationwide(user):
        return CaseProgramme.objects.all()
    if not user.division_id or user.role not in CASE_ROLES:
        return CaseProgramme.objects.none()
    code = user.division_id
    ancestors = [code[:n] for n in (2, 4, 6, 9, 12) if n <= len(code)]
    return CaseProgramme.objects.filter(Q(division__isnull=True) | Q(division_id__in=ancestors)
                                        | Q(division__code__startswith=code))


def access_programme_by_id(*, user: User, programme_id: int | str) -> CaseProgramme:
    try:
        return programmes_visible_to(user=user).get(pk=int(programme_id))
    except (CaseProgramme.DoesNotExist, ValueError, TypeError):
        raise _not_found("programme") from None


def can_run_programme(user: User, division_code: str) -> bool:
    """Offices and administrators create programmes at their own division or below (a
    national programme, with no division, only from a national office)."""
    if not user.is_active:
        return False
    if user.is_superuser:
        return True
    if not division_code:
        return user.role in PROGRAMME_ROLES and user.division_id is None
    return user.role in PROGRAMME_ROLES and in_scope(user, division_code)


def can_review_duplicates(user: User) -> bool:
    if not user.is_active:
        return False
    if user.is_superuser:
        return True
    level = user_level(user)
    return user.role in REVIEW_ROLES and (level is None or level <= COUNTY) and (
        user.division_id is not None or user.role == Role.OFFICE)


def duplicate_pairs_visible_to(*, user: User) -> QuerySet[DuplicatePair]:
    """Pairs whose two cases are both inside the user's scope."""
    if not can_review_duplicates(user):
        return DuplicatePair.objects.none()
    pairs = DuplicatePair.objects.all()
    if not _nationwide(user):
        pairs = pairs.filter(prefix_q("case_a__division", user.division_id),
                             prefix_q("case_b__division", user.division_id))
    return pairs


def access_pair_by_id(*, user: User, pair_id: int | str) -> DuplicatePair:
    try:
        return duplicate_pairs_visible_to(user=user).select_related(
            "case_a", "case_b", "programme").get(pk=int(pair_id))
    except (DuplicatePair.DoesNotExist, ValueError, TypeError):
        raise _not_found("pair") from None


def notices_visible_to(*, user: User) -> QuerySet[PublicNotice]:
    if not user.is_active:
        return PublicNotice.objects.none()
    if _nationwide(user):
        return PublicNotice.objects.all()
    if not user.division_id or user.role not in CASE_ROLES:
        return PublicNotice.objects.none()
    return PublicNotice.objects.filter(prefix_q("division", user.division_id))


def access_notice_by_id(*, user: User, notice_id: int | str) -> PublicNotice:
    try:
        return notices_visible_to(user=user).select_related("programme", "division").get(
            pk=int(notice_id))
    except (PublicNotice.DoesNotExist, ValueError, TypeError):
        raise _not_found("notice") from None


def imports_visible_to(*, user: User) -> QuerySet[ImportBatch]:
    """A user sees the imports they uploaded; offices see those of their programmes' scope."""
    if not user.is_active:
        return ImportBatch.objects.none()
    if user.is_superuser:
        return ImportBatch.objects.all()
    own = Q(uploaded_by=user)
    if user.role in PROGRAMME_ROLES and user.division_id:
        own |= Q(uploaded_by__division__code__startswith=user.division_id)
    return ImportBatch.objects.filter(own)


def access_import_by_id(*, user: User, batch_id: int | str) -> ImportBatch:
    try:
        return imports_visible_to(user=user).select_related("programme").get(pk=int(batch_id))
    except (ImportBatch.DoesNotExist, ValueError, TypeError):
        raise _not_found("import") from None
