"""Need-to-know case types: a case team, a responsible institution, and every view logged.

A pack names its case type's team and marks it need-to-know::

    team:
      need_to_know: true
      duties:
        - {key: grid_worker, label: {zh: 网格员}}
        - {key: psych_doctor, label: {zh: 精防医生}, responsible: true}
      managers: {roles: [case_worker], levels: [township]}   # who changes the team
      auditors: {roles: [admin]}                            # who reads the access log

For such a case type the division scope of ``shidian.cases.access`` is not enough: a case is
visible only to the active members of its team and to the users of the institution (agency) of
a member whose duty is ``responsible`` (the 精防医生's 卫生院). Offices, leaders, liaisons,
administrators and the superuser see counts, never names (``confidential_counts``). Every
opening of such a case writes a ``viewed`` event on its timeline and an auditlog ACCESS entry,
once per request and user (``log_view``); the auditors read that log (``access_log``) without
seeing the case's data.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from shidian.core.errors import ErrorCode, ShidianError

from .audit import audited

if TYPE_CHECKING:
    from shidian.orgs.models import User

    from .definitions import Actor, CaseTypeDef, Label
    from .models import Case

REASON_FORBIDDEN = "forbidden"
REASON_TEAM = "team"


@dataclass(frozen=True)
class Duty:
    key: str
    label: Label
    responsible: bool = False


@dataclass(frozen=True)
class TeamDef:
    duties: tuple[Duty, ...]
    managers: Actor | None
    auditors: Actor | None
    need_to_know: bool = False
    registrar: str = ""  # the duty the registering worker takes on the team

    def duty(self, key: str) -> Duty:
        for d in self.duties:
            if d.key == key:
                return d
        raise KeyError(key)


def team_def(case_type: CaseTypeDef) -> TeamDef | None:
    return case_type.sections.get("team")


def load_team(loader: Any, where: str, raw: Any, context: Mapping[str, Any]) -> TeamDef | None:
    """The ``team:`` section of a case type (read by ``definitions``); problems go to the
    loader, nothing raises."""
    from .definitions import E_SHAPE, _as_list, _label

    if not isinstance(raw, Mapping):
        loader.problem(E_SHAPE, where, "must be a mapping")
        return None
    duties = []
    for item in _as_list(raw.get("duties")):
        if not isinstance(item, Mapping) or not item.get("key"):
            loader.problem(E_SHAPE, where, "a duty needs a key")
            continue
        duties.append(Duty(str(item["key"]), _label(item.get("label"), str(item["key"])),
                           bool(item.get("responsible"))))
    if not duties:
        loader.problem(E_SHAPE, where, "a team names at least one duty")
    keys = [d.key for d in duties]
    for key in {k for k in keys if keys.count(k) > 1}:
        loader.problem(E_SHAPE, where, f"duty {key!r} defined twice")
    need_to_know = bool(raw.get("need_to_know"))
    registrar = str(raw.get("registrar") or "")
    if registrar and registrar not in keys:
        loader.problem(E_SHAPE, where, f"registrar names unknown duty {registrar!r}")
    if need_to_know and not registrar:
        loader.problem(E_SHAPE, where,
                       "a need-to-know team names the registrar's duty (else the worker who "
                       "registers a case could not see it)")
    if need_to_know and not any(d.responsible for d in duties):
        loader.problem(E_SHAPE, where, "a need-to-know team names its responsible duty")
    return TeamDef(
        duties=tuple(duties),
        managers=loader.actor(f"{where}.managers", raw["managers"]) if raw.get("managers")
        else None,
        auditors=loader.actor(f"{where}.auditors", raw["auditors"]) if raw.get("auditors")
        else None, need_to_know=need_to_know, registrar=registrar)


# --- the gate ---------------------------------------------------------------------------------

def confidential_types() -> list[str]:
    from .definitions import case_types

    return sorted(k for k, t in case_types().items() if is_confidential_type(t))


def is_confidential_type(case_type: CaseTypeDef) -> bool:
    team = team_def(case_type)
    return bool(team and team.need_to_know)


def team_q(user: User) -> Q:
    """Cases whose team has the user, or a responsible member of one of the user's agencies."""
    from .models import CaseMember

    members = CaseMember.objects.filter(removed_at__isnull=True)
    mine = Q(user=user)
    agencies = list(user.agencies.values_list("pk", flat=True)) if user.pk else []
    if agencies:
        mine |= Q(responsible=True, agency_id__in=agencies)
    return Q(pk__in=members.filter(mine).values("case_id"))


def restrict(user: User, cases: QuerySet[Case]) -> QuerySet[Case]:
    """``cases`` less the confidential ones the user has no need to know."""
    hidden = confidential_types()
    if not hidden:
        return cases
    if not user.is_active or not user.pk:
        return cases.exclude(case_type__in=hidden)
    return cases.filter(~Q(case_type__in=hidden) | team_q(user))


# The (user, case) views logged during the current request; None outside a request. A page or
# API call opens the case through the gate and the service it calls opens it again through the
# same gate (``followups.visit_record``): one request is one view, logged by the first. Jobs,
# the shell and tests that call services directly log every opening.
_REQUEST_VIEWS: ContextVar[set[tuple[int, int]] | None] = ContextVar("needtoknow_views",
                                                                     default=None)


def request_started(**_kwargs: Any) -> None:
    """A request begins (``django.core.signals.request_started``): no view logged yet."""
    _REQUEST_VIEWS.set(set())


def request_finished(**_kwargs: Any) -> None:
    """The request is over: later openings (outside any request) are logged each."""
    _REQUEST_VIEWS.set(None)


def log_view(*, user: User, case: Case, what: str = "record") -> None:
    """Write that ``user`` opened ``case`` (a confidential one): timeline and audit log; once
    per request (the first opening's ``what``)."""
    from auditlog.models import LogEntry

    from .models import CaseEvent, EventKind

    seen = _REQUEST_VIEWS.get()
    if seen is not None:
        if (user.pk, case.pk) in seen:
            return
        seen.add((user.pk, case.pk))

    CaseEvent.objects.create(case=case, kind=EventKind.VIEWED, actor=user,
                             from_stage=case.stage, data={"what": what})
    LogEntry.objects.log_create(case, force_log=True, action=LogEntry.Action.ACCESS,
                                changes={"viewed": [what, None]}, actor=user)


def log_list_view(*, user: User, cases: Iterable[Case], what: str) -> None:
    """Write that ``user`` saw ``cases`` in a list (a follow-up board: masked names, but each
    patient's danger grade and visits): each case's timeline and the audit log, as for
    opening one (``log_view``). Health data: every view is logged, lists included."""
    for case in cases:
        log_view(user=user, case=case, what=what)


def is_confidential(case: Case) -> bool:
    from .definitions import case_types

    definition = case_types().get(case.case_type)
    return bool(definition and is_confidential_type(definition))


def access_case_for_audit(*, user: User, case_id: int | str) -> Case:
    """The case for its access log: auditors (administrators in scope, by default) only."""
    from . import access
    from .definitions import case_type_get
    from .models import Case

    try:
        case = Case.objects.select_related("programme").get(pk=int(case_id))
    except (Case.DoesNotExist, ValueError, TypeError):
        raise access._not_found("case") from None
    definition = case_type_get(case.case_type)
    if not is_confidential_type(definition) or not may_audit(user, team_def(definition),
                                                              case.division_id):
        raise access._not_found("case")
    return case


def may_audit(user: User, team: TeamDef | None, division_code: str) -> bool:
    from shidian.orgs.models import Role

    from . import access

    if not user.is_active:
        return False
    if user.is_superuser:
        return True
    auditors = team.auditors if team else None
    roles = auditors.roles if auditors else (Role.ADMIN,)
    levels = auditors.levels if auditors else ()
    if user.role not in roles:
        return False
    if levels and access.user_level(user) not in levels:
        return False
    return user.division_id is None or division_code.startswith(user.division_id)


def access_log(case: Case) -> list[Any]:
    """Who opened the case, when, and what (newest first)."""
    from .models import CaseEvent, EventKind

    return list(CaseEvent.objects.filter(case=case, kind__in=[EventKind.VIEWED,
                                                              EventKind.PII_VIEW])
                .select_related("actor").order_by("-at", "-id"))


# --- counts for those who may not see names ---------------------------------------------------

def confidential_counts(*, user: User, programme: Any, level: int = 4,
                        stages: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """Cases per division at ``level`` inside the user's division scope: counts only."""
    from . import access
    from .models import Case, Outcome

    if not user.is_active:
        return []
    width = {1: 2, 2: 4, 3: 6, 4: 9, 5: 12}[level]
    cases = Case.objects.filter(programme=programme).exclude(outcome=Outcome.MERGED)
    if not user.is_superuser:
        if user.role not in access.CASE_ROLES:
            return []
        if user.division_id is not None:
            cases = cases.filter(access.prefix_q("division", user.division_id))
    if stages is not None:
        cases = cases.filter(stage__in=list(stages))
    rows = (cases.annotate(p=Substr("division_id", 1, width)).values("p")
            .annotate(n=Count("id")).order_by("p"))
    return [{"division": r["p"], "count": r["n"]} for r in rows]


# --- the team ---------------------------------------------------------------------------------

def team_of(case: Case) -> list[Any]:
    from .models import CaseMember

    return list(CaseMember.objects.filter(case=case, removed_at__isnull=True)
                .select_related("user", "agency").order_by("duty", "id"))


def _may_manage(user: User, team: TeamDef, case: Case) -> bool:
    from . import access

    if team.managers is not None and access.may_act(user, team.managers, case.division_id):
        return True
    from .models import CaseMember

    # A responsible member (the 精防医生) manages the team of the cases in their charge.
    return CaseMember.objects.filter(case=case, user=user, responsible=True,
                                     removed_at__isnull=True).exists()


@audited
def member_add(*, user: User, case: Case, member: User, duty: str,
               agency_id: int | None = None, initial: bool = False) -> Any:
    """Put ``member`` on the case's team with ``duty``; the responsible duty carries the
    member's institution (their agency, or the one named), whose users then see the case.
    ``initial``: the registering worker joins the team of the case they just created."""
    from .definitions import case_type_get
    from .models import CaseEvent, CaseMember, EventKind

    team = team_def(case_type_get(case.case_type))
    if team is None:
        raise ShidianError(ErrorCode.INVALID, _("This kind of case has no team."),
                           {"reason": REASON_TEAM})
    try:
        duty_def = team.duty(duty)
    except KeyError:
        raise ShidianError(ErrorCode.INVALID, _("Unknown duty in the case team."),
                           {"reason": REASON_TEAM}) from None
    if not initial and not _may_manage(user, team, case):
        raise ShidianError(ErrorCode.FORBIDDEN, _("You may not change this case's team."),
                           {"reason": REASON_FORBIDDEN})
    if not member.is_active:
        raise ShidianError(ErrorCode.INVALID, _("This user account is not active."),
                           {"reason": REASON_TEAM})
    agency = None
    if duty_def.responsible:
        agencies = list(member.agencies.all())
        agency = next((a for a in agencies if a.pk == agency_id), None) if agency_id else (
            agencies[0] if len(agencies) == 1 else None)
        if agency is None:
            raise ShidianError(ErrorCode.INVALID, _(
                "The responsible member must belong to exactly one institution, or name it."),
                {"reason": REASON_TEAM})
    with transaction.atomic():
        existing = CaseMember.objects.filter(case=case, user=member, duty=duty,
                                             removed_at__isnull=True).first()
        if existing is not None:
            return existing
        row = CaseMember.objects.create(case=case, user=member, duty=duty,
                                        responsible=duty_def.responsible, agency=agency,
                                        added_by=user)
        CaseEvent.objects.create(case=case, kind=EventKind.TEAM, actor=user,
                                 from_stage=case.stage,
                                 data={"added": member.pk, "duty": duty,
                                       "agency": agency.pk if agency else None})
    return row


def registrar_join(*, case: Case, user: User) -> None:
    """The worker who registered a case joins its team with the pack's registrar duty."""
    from .definitions import case_type_get

    team = team_def(case_type_get(case.case_type))
    if team is None or not team.registrar:
        return
    member_add(user=user, case=case, member=user, duty=team.registrar, initial=True)


@audited
def member_remove(*, user: User, case: Case, member_id: int) -> None:
    from .definitions import case_type_get
    from .models import CaseEvent, CaseMember, EventKind

    team = team_def(case_type_get(case.case_type))
    if team is None or not _may_manage(user, team, case):
        raise ShidianError(ErrorCode.FORBIDDEN, _("You may not change this case's team."),
                           {"reason": REASON_FORBIDDEN})
    with transaction.atomic():
        row = CaseMember.objects.select_for_update().filter(
            case=case, pk=int(member_id), removed_at__isnull=True).first()
        if row is None:
            return
        row.removed_at = timezone.now()
        row.save(update_fields=["removed_at"])
        CaseEvent.objects.create(case=case, kind=EventKind.TEAM, actor=user,
                                 from_stage=case.stage,
                                 data={"removed": row.user_id, "duty": row.duty})
