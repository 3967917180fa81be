"""Cases owned by institutions, and their transfer from one institution to another (转介).

A case type with ``ownership:`` belongs to an institution (``Case.agency``): the case's
division is the institution's, and institution staff (the pilot-site role) see only the cases
their institutions own (``access.cases_visible_to``). A transfer is asked for by the owner's
staff (``ownership.transfer.by``) with a reason, to an institution taking part in the programme
(``sites``: an institution owning a case of a site case type that has reached a stage,
e.g. a 安宁疗护 pilot site that is serving); the receiving institution's staff accept it or
decline it. On acceptance the case moves to the receiver (its institution and division), and the sender no
longer sees it. Every step is on the case's timeline and in the audit log.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from shidian.core.errors import ErrorCode
from shidian.orgs.models import Agency, Role, User

from . import access
from .audit import audited
from .definitions import E_REFERENCE, E_SHAPE, Actor, CaseTypeDef, case_type_get
from .models import Case, CaseEvent, CasePerson, CaseProgramme, EventKind
from .relation_models import CaseTransfer, TransferStatus
from .relations import (
    REASON_FORBIDDEN,
    REASON_INVALID,
    REASON_SITE,
    REASON_TRANSFER,
    error,
    read_actor,
    read_mapping,
)


@dataclass(frozen=True)
class OwnershipDef:
    transfer_by: Actor | None
    accept_by: Actor | None
    stages: tuple[str, ...]  # stages a case may be transferred from (empty: any open stage)
    # Institutions that may own these cases: owners of a case of ``site_type`` that has reached
    # ``site_stage`` (empty: any active institution).
    site_type: str = ""
    site_stage: str = ""


def load_ownership(loader: Any, where: str, raw: Any, context: Mapping[str, Any]
                   ) -> OwnershipDef:
    raw = read_mapping(loader, where, raw)
    transfer = read_mapping(loader, f"{where}.transfer", raw.get("transfer") or {})
    stages = tuple(str(s) for s in transfer.get("stages") or [])
    for stage in stages:
        if stage not in context["stages"]:
            loader.problem(E_REFERENCE, f"{where}.transfer", f"unknown stage {stage!r}")
    sites = read_mapping(loader, f"{where}.sites", raw.get("sites") or {})
    if sites and not (sites.get("case_type") and sites.get("stage")):
        loader.problem(E_SHAPE, f"{where}.sites", "sites name a case_type and a stage")
    return OwnershipDef(transfer_by=read_actor(loader, f"{where}.transfer.by", transfer.get("by")),
                        accept_by=read_actor(loader, f"{where}.transfer.accept_by",
                                             transfer.get("accept_by")),
                        stages=stages, site_type=str(sites.get("case_type") or ""),
                        site_stage=str(sites.get("stage") or ""))


def ownership_def(case_type: CaseTypeDef) -> OwnershipDef | None:
    return case_type.sections.get("ownership")


def _works_at(user: User, agency_id: int) -> bool:
    return bool(user.is_superuser or user.agencies.filter(pk=agency_id).exists())


def _is_site(programme: CaseProgramme, agency_id: int) -> bool:
    """The institution is a site of the pack (owns a site case that reached the stage)."""
    definition = ownership_def(case_type_get(programme.case_type))
    if definition is None or not definition.site_type:
        return True
    site_type = case_type_get(definition.site_type)
    return Case.objects.filter(case_type=site_type.key, agency_id=agency_id,
                               stage__in=site_type.stages_from(definition.site_stage)).exists()


def sites_open(programme: CaseProgramme) -> QuerySet[Agency]:
    """The institutions a case of this programme may be registered at or referred to."""
    definition = ownership_def(case_type_get(programme.case_type))
    agencies = Agency.objects.filter(is_active=True).select_related("division")
    if definition is None or not definition.site_type:
        return agencies
    site_type = case_type_get(definition.site_type)
    return agencies.filter(cases__case_type=site_type.key,
                           cases__stage__in=site_type.stages_from(definition.site_stage)
                           ).distinct()


@audited
def case_create_owned(*, user: User, programme: CaseProgramme, values: Mapping[str, Any],
                      agency_id: int, today: Any = None) -> Case:
    """Register a case owned by an institution (the case's division is the institution's)."""
    from .services import case_create

    case_type = case_type_get(programme.case_type)
    if ownership_def(case_type) is None:
        raise error(ErrorCode.INVALID, REASON_INVALID,
                    _("Cases of this kind are not owned by institutions."))
    agency = Agency.objects.filter(pk=agency_id, is_active=True).first()
    # Institution staff register for their own institutions; offices and clerks for any
    # institution inside their scope (``case_create`` checks the division).
    if agency is None or (user.role == Role.PILOT_SITE and not _works_at(user, agency.pk)):
        raise error(ErrorCode.FORBIDDEN, REASON_FORBIDDEN,
                    _("You may register cases only for your own institution."))
    if not _is_site(programme, agency.pk):
        raise error(ErrorCode.INVALID, REASON_SITE,
                    _("%(agency)s does not take part in this programme.") % {"agency": agency})
    return case_create(user=user, programme=programme,
                       values={**values, case_type.division: agency.division_id},
                       today=today, agency_id=agency.pk)


@audited
def transfer_request(*, user: User, case_id: int, to_agency_id: int, reason: str
                     ) -> CaseTransfer:
    """Ask another institution to take the case over; it stays with the sender until then."""
    reason = (reason or "").strip()
    with transaction.atomic():
        case = access.access_case_by_id(user=user, case_id=case_id)
        case = (Case.objects.select_for_update(of=("self",)).select_related("programme")
                .get(pk=case.pk))
        definition = ownership_def(case_type_get(case.case_type))
        if (definition is None or case.agency_id is None or case.outcome
                or not access.may_act(user, definition.transfer_by, case.division_id)
                or not (user.role != Role.PILOT_SITE or _works_at(user, case.agency_id))):
            raise error(ErrorCode.FORBIDDEN, REASON_FORBIDDEN,
                        _("You may not refer this case."))
        if definition.stages and case.stage not in definition.stages:
            raise error(ErrorCode.CONFLICT, REASON_TRANSFER,
                        _("A case is not referred at this stage."))
        if not reason:
            raise error(ErrorCode.INVALID, REASON_TRANSFER,
                        _("Give the reason for the referral."), field="reason")
        target = Agency.objects.filter(pk=to_agency_id, is_active=True).first()
        if target is None or target.pk == case.agency_id:
            raise error(ErrorCode.INVALID, REASON_TRANSFER,
                        _("Choose another institution to refer the case to."), field="to_agency")
        if not _is_site(case.programme, target.pk):
            raise error(ErrorCode.INVALID, REASON_SITE,
                        _("%(agency)s does not take part in this programme.")
                        % {"agency": target})
        if CaseTransfer.objects.filter(case=case, status=TransferStatus.PENDING).exists():
            raise error(ErrorCode.CONFLICT, REASON_TRANSFER,
                        _("A referral of this case is waiting already."))
        record = CaseTransfer.objects.create(case=case, from_agency_id=case.agency_id,
                                             to_agency=target, reason=reason, requested_by=user)
        CaseEvent.objects.create(case=case, kind=EventKind.TRANSFER, actor=user,
                                 from_stage=case.stage, reason=reason,
                                 data={"transfer": record.pk, "status": record.status,
                                       "from": case.agency_id, "to": target.pk})
    return record


def transfers_incoming(*, user: User) -> QuerySet[CaseTransfer]:
    """Referrals waiting for an institution the user works at."""
    transfers = CaseTransfer.objects.filter(status=TransferStatus.PENDING).select_related(
        "case", "from_agency", "to_agency")
    if user.is_superuser:
        return transfers
    if not user.is_active or user.role not in access.CASE_ROLES:
        return transfers.none()  # a liaison of the receiving unit is no institution staff
    return transfers.filter(to_agency__in=user.agencies.all())


def access_incoming_by_id(*, user: User, transfer_id: int | str) -> CaseTransfer:
    try:
        return transfers_incoming(user=user).get(pk=int(transfer_id))
    except (CaseTransfer.DoesNotExist, ValueError, TypeError):
        raise access._not_found("transfer") from None


@audited
def transfer_decide(*, user: User, transfer_id: int, accept: bool, note: str = ""
                    ) -> CaseTransfer:
    """The receiving institution takes the case over (it moves there) or declines it."""
    with transaction.atomic():
        record = access_incoming_by_id(user=user, transfer_id=transfer_id)
        record = CaseTransfer.objects.select_for_update().get(pk=record.pk)
        case = Case.objects.select_for_update().get(pk=record.case_id)
        definition = ownership_def(case_type_get(case.case_type))
        target = record.to_agency
        if record.status != TransferStatus.PENDING:
            raise error(ErrorCode.CONFLICT, REASON_TRANSFER,
                        _("This referral has been decided already."))
        actor_ok = definition is not None and (
            user.is_superuser or (definition.accept_by is not None
                                  and user.role in definition.accept_by.roles))
        if not actor_ok:
            raise error(ErrorCode.FORBIDDEN, REASON_FORBIDDEN,
                        _("You may not decide on this referral."))
        if not accept and not (note or "").strip():
            raise error(ErrorCode.INVALID, REASON_TRANSFER,
                        _("Say why the referral is declined."), field="note")
        now = timezone.now()
        record.status = TransferStatus.ACCEPTED if accept else TransferStatus.DECLINED
        record.decided_by, record.decided_at = user, now
        record.note = (note or "").strip()
        record.save(update_fields=["status", "decided_by", "decided_at", "note"])
        data = {"transfer": record.pk, "status": record.status, "from": record.from_agency_id,
                "to": record.to_agency_id}
        if accept:
            data["from_division"] = case.division_id
            case.agency_id, case.division_id = target.pk, target.division_id
            case.save(update_fields=["agency", "division", "updated_at"])
            CasePerson.objects.filter(case=case).update(division_code=target.division_id)
        CaseEvent.objects.create(case=case, kind=EventKind.TRANSFER, actor=user, at=now,
                                 from_stage=case.stage, reason=record.note, data=data)
    return record


def case_transfers(case: Case) -> QuerySet[CaseTransfer]:
    return CaseTransfer.objects.filter(case=case).select_related("from_agency", "to_agency")
