"""Parties of cases and the agreements they sign.

A case type may name **party roles** (``parties:``): people or organisations that take part in
its cases besides the subject (企业师傅, 学校, 合作企业, 监护人). A role may cap how many open cases
one party holds at once (``limit: 3``: 一个师傅不宜超过三个学生); the cap is enforced when the
party is assigned, under a row lock on the party, so two clerks assigning the same mentor at
once cannot both take the last place.

It may also name **agreements** (``agreements:``), each signed by a set of roles (``subject``
is the case's own subject) plus roles required only when a condition holds (``also:`` with a
``when`` expression that may use the case's fields and ``age``, the subject's age in whole years
on the signing day, from the ID number), and requirements that must hold that day (``require``).
An agreement listed ``before`` a transition must be signed before the case can take it; the
scan of the kind named ``document``, if already attached, is linked to the record.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count
from django.utils.translation import gettext as _

from shidian.core import crypto
from shidian.core.errors import ErrorCode
from shidian.orgs.models import Agency, Division, User

from . import access, expressions
from .audit import audited
from .definitions import (
    E_EXAMPLE,
    E_REFERENCE,
    E_SHAPE,
    Actor,
    CaseTypeDef,
    Label,
    PackProblem,
    RuleExample,
    TransitionDef,
    case_type_get,
)
from .models import Case, CaseEvent, CasePerson, CaseProgramme, EventKind, Outcome
from .relation_models import Agreement, CaseParty, Party
from .relations import (
    REASON_DUPLICATE,
    REASON_FORBIDDEN,
    REASON_INVALID,
    REASON_LIMIT,
    REASON_PARTIES,
    error,
    label_of,
    read_actor,
    read_mapping,
    read_transitions,
    today_or,
)

SUBJECT = "subject"
PARTY_KINDS = frozenset({"person", "organisation"})


@dataclass(frozen=True)
class PartyRoleDef:
    key: str
    label: Label
    kind: str = "person"
    limit: int | None = None  # open cases one party may hold at once
    id_number: bool = False  # a person identified by an ID number (kept encrypted)
    by: Actor | None = None  # who registers and assigns parties in this role


@dataclass(frozen=True)
class ConditionalParty:
    party: str
    when: str
    message: Label
    examples: tuple[RuleExample, ...] = ()


@dataclass(frozen=True)
class AgreementDef:
    key: str
    label: Label
    parties: tuple[str, ...]
    also: tuple[ConditionalParty, ...]
    by: Actor | None
    before: tuple[str, ...]
    document: str = ""
    # Conditions the case must meet on the signing day (``when`` must hold), with why.
    require: tuple[ConditionalParty, ...] = ()


# --- reading the sections ---------------------------------------------------------------------

def load_parties(loader: Any, where: str, raw: Any, context: Mapping[str, Any]
                 ) -> dict[str, PartyRoleDef]:
    roles = {}
    for key, item in read_mapping(loader, where, raw).items():
        here = f"{where}.{key}"
        item = read_mapping(loader, here, item)
        kind = str(item.get("kind") or "person")
        if kind not in PARTY_KINDS:
            loader.problem(E_SHAPE, here, f"unknown party kind {kind!r}")
        limit = item.get("limit")
        if limit is not None and (not isinstance(limit, int) or limit < 1):
            loader.problem(E_SHAPE, here, "limit must be a whole number of at least 1")
            limit = None
        if str(key) == SUBJECT:
            loader.problem(E_SHAPE, here, "'subject' is the case's own subject")
        roles[str(key)] = PartyRoleDef(
            key=str(key), label=label_of(item.get("label"), str(key)), kind=kind, limit=limit,
            id_number=bool(item.get("id_number")),
            by=read_actor(loader, f"{here}.by", item.get("by")))
    return roles


def load_agreements(loader: Any, where: str, raw: Any, context: Mapping[str, Any]
                    ) -> dict[str, AgreementDef]:
    roles = set(context["sections"].get("parties") or {}) | {SUBJECT}
    known = set(context["names"]) | {"age"}
    agreements = {}
    for key, item in read_mapping(loader, where, raw).items():
        here = f"{where}.{key}"
        item = read_mapping(loader, here, item)
        parties = tuple(str(p) for p in item.get("parties") or [])
        for role in parties:
            if role not in roles:
                loader.problem(E_REFERENCE, here, f"unknown party role {role!r}")
        also = []
        for i, extra in enumerate(item.get("also") or []):
            extra_where = f"{here}.also[{i}]"
            extra = read_mapping(loader, extra_where, extra)
            role, when = str(extra.get("party") or ""), str(extra.get("when") or "")
            if role not in roles:
                loader.problem(E_REFERENCE, extra_where, f"unknown party role {role!r}")
            if not when or not loader.expression(extra_where, when, known, context["functions"]):
                if not when:
                    loader.problem(E_SHAPE, extra_where, "a conditional party needs when")
                continue
            condition = ConditionalParty(
                party=role, when=when, message=label_of(extra.get("message"), role),
                examples=loader.examples(extra_where, extra.get("examples")))
            _check_examples(loader, extra_where, condition, context)
            also.append(condition)
        require = []
        for i, extra in enumerate(item.get("require") or []):
            extra_where = f"{here}.require[{i}]"
            extra = read_mapping(loader, extra_where, extra)
            when = str(extra.get("when") or "")
            if not when:
                loader.problem(E_SHAPE, extra_where, "a requirement needs when")
                continue
            if not loader.expression(extra_where, when, known, context["functions"]):
                continue
            condition = ConditionalParty(
                party="", when=when, message=label_of(extra.get("message"), when),
                examples=loader.examples(extra_where, extra.get("examples")))
            _check_examples(loader, extra_where, condition, context)
            require.append(condition)
        document = str(item.get("document") or "")
        if document and document not in context["documents"]:
            loader.problem(E_REFERENCE, here, f"unknown document {document!r}")
        agreements[str(key)] = AgreementDef(
            key=str(key), label=label_of(item.get("label"), str(key)), parties=parties,
            also=tuple(also), by=read_actor(loader, f"{here}.by", item.get("by")),
            before=read_transitions(loader, f"{here}.before", item.get("before"), context),
            document=document, require=tuple(require))
    return agreements


def _check_examples(loader: Any, where: str, condition: ConditionalParty,
                    context: Mapping[str, Any]) -> None:
    for i, example in enumerate(condition.examples):
        env = {k: expressions.to_value(Decimal(str(v)) if isinstance(v, int | float) else v)
               for k, v in example.given.items()}
        env["__functions__"] = {**expressions.FUNCTIONS, **context["functions"]}
        try:
            value: Any = bool(expressions.evaluate(condition.when, env))
        except expressions.EvaluationError as exc:
            value = f"error: {exc}"
        if value != example.expect:
            loader.problems.append(PackProblem(
                E_EXAMPLE, loader.pack, f"{where}.examples[{i}]",
                f"expected {example.expect!r}, got {value!r} for {dict(example.given)}"))


def party_roles(case_type: CaseTypeDef) -> dict[str, PartyRoleDef]:
    return dict(case_type.sections.get("parties") or {})


def agreement_defs(case_type: CaseTypeDef) -> dict[str, AgreementDef]:
    return dict(case_type.sections.get("agreements") or {})


def _role(case_type: CaseTypeDef, role: str) -> PartyRoleDef:
    try:
        return party_roles(case_type)[role]
    except KeyError:
        raise error(ErrorCode.INVALID, REASON_INVALID,
                    _("This kind of case has no party role %(role)s.") % {"role": role}) from None


# --- parties ----------------------------------------------------------------------------------

@audited
def party_register(*, user: User, programme: CaseProgramme, role: str, name: str,
                   division_code: str, agency_id: int | None = None, id_number: str = "",
                   phone: str = "", today: dt.date | None = None) -> Party:
    """Register a person or organisation who may take part in cases of the programme."""
    case_type = case_type_get(programme.case_type)
    definition = _role(case_type, role)
    if not access.may_act(user, definition.by, division_code):
        raise error(ErrorCode.FORBIDDEN, REASON_FORBIDDEN,
                    _("You may not register parties here."))
    name = (name or "").strip()
    if not name or len(name) > 128:
        raise error(ErrorCode.INVALID, REASON_INVALID,
                    _("Give the name (at most 128 characters)."), field="name")
    if not Division.objects.filter(pk=division_code).exists():
        raise error(ErrorCode.INVALID, REASON_INVALID, _("Unknown division code."),
                    field="division")
    agency = None
    if agency_id:
        agency = Agency.objects.filter(pk=agency_id, is_active=True).first()
        if agency is None:
            raise error(ErrorCode.INVALID, REASON_INVALID, _("Unknown institution."),
                        field="agency")
    number = ""
    if definition.id_number or id_number:
        number = crypto.id_number_check(id_number, today=today).number
    id_hash = crypto.search_hash(number) if number else ""
    with transaction.atomic():
        same = (Party.objects.filter(id_hash=id_hash) if id_hash else Party.objects.filter(
            name=name, division_id=division_code, id_hash=""))
        if same.filter(programme=programme, role=role).exists():
            raise error(ErrorCode.DUPLICATE, REASON_DUPLICATE,
                        _("This party is registered in this role already."))
        return Party.objects.create(
            programme=programme, role=role, name=name, agency=agency, division_id=division_code,
            id_hash=id_hash, id_masked=crypto.mask_id_number(number) if number else "",
            pii=crypto.encrypt_text(number) if number else "", phone=(phone or "")[:20])


def parties_visible_to(*, user: User, programme: CaseProgramme) -> Any:
    """Parties of a programme registered inside the user's scope."""
    parties = Party.objects.filter(programme=programme).select_related("agency")
    if access._nationwide(user):
        return parties
    if not user.is_active or not user.division_id or user.role not in access.CASE_ROLES:
        return parties.none()
    return parties.filter(access.prefix_q("division", user.division_id))


def open_load(party_ids: Iterable[int]) -> dict[int, int]:
    """How many open cases each party holds now (for the limit and the pages)."""
    rows = (CaseParty.objects.filter(party_id__in=list(party_ids), ended_at__isnull=True,
                                     case__outcome=Outcome.OPEN)
            .values("party_id").annotate(n=Count("id")))
    return {row["party_id"]: row["n"] for row in rows}


@audited
def party_assign(*, user: User, case_id: int, role: str, party_id: int) -> CaseParty:
    """Put a party on the case in a role (replacing the one before), within the role's limit."""
    from django.utils import timezone

    with transaction.atomic():
        case = access.access_case_by_id(user=user, case_id=case_id)
        case = Case.objects.select_for_update().get(pk=case.pk)
        case_type = case_type_get(case.case_type)
        definition = _role(case_type, role)
        if case.outcome or not access.may_act(user, definition.by, case.division_id):
            raise error(ErrorCode.FORBIDDEN, REASON_FORBIDDEN,
                        _("You may not assign parties to this case."))
        # The party's row is the lock every assignment of this party takes: the count below
        # cannot change until this transaction ends.
        party = (Party.objects.select_for_update()
                 .filter(pk=party_id, programme_id=case.programme_id, role=role).first())
        if party is None:
            raise error(ErrorCode.NOT_FOUND, REASON_INVALID,
                        _("No such %(role)s in this programme.") % {"role": definition.label})
        current = CaseParty.objects.filter(case=case, role=role, ended_at__isnull=True).first()
        if current is not None and current.party_id == party.pk:
            return current
        if definition.limit is not None:
            held = open_load([party.pk]).get(party.pk, 0)
            if held >= definition.limit:
                raise error(ErrorCode.CONFLICT, REASON_LIMIT,
                            _("%(name)s already has %(n)s open cases as %(role)s; the limit is "
                              "%(limit)s.") % {"name": party.name, "n": held,
                                               "role": definition.label,
                                               "limit": definition.limit},
                            held=held, limit=definition.limit)
        now = timezone.now()
        if current is not None:
            current.ended_at = now
            current.save(update_fields=["ended_at"])
        link = CaseParty.objects.create(case=case, party=party, role=role, assigned_at=now,
                                        assigned_by=user)
        CaseEvent.objects.create(
            case=case, kind=EventKind.PARTY, actor=user, at=now, from_stage=case.stage,
            data={"role": role, "party": party.pk, "name": party.name,
                  "replaced": current.party_id if current else None})
    return link


def case_parties(case: Case) -> dict[str, Party]:
    """The open party of each role on the case."""
    return {link.role: link.party for link in
            CaseParty.objects.filter(case=case, ended_at__isnull=True).select_related("party")}


# --- agreements -------------------------------------------------------------------------------

def subject_age(case: Case, on: dt.date) -> int | None:
    """The subject's age in whole years on ``on``, from the birth date in the ID number."""
    born = (CasePerson.objects.filter(case=case, position=0)
            .values_list("birth_date", flat=True).first())
    if born is None:
        return None
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _agreement_env(case_type: CaseTypeDef, case: Case, on: dt.date) -> dict[str, Any]:
    from .services import case_env

    env = case_env(case_type, case, today=on)
    age = subject_age(case, on)
    env["age"] = Decimal(age) if age is not None else None
    return env


def required_parties(case_type: CaseTypeDef, case: Case, agreement: AgreementDef,
                     on: dt.date) -> list[tuple[str, Label | None]]:
    """The roles that must sign on ``on``: the fixed ones, then each condition that holds
    (with the pack's message saying why)."""
    required: list[tuple[str, Label | None]] = [(role, None) for role in agreement.parties]
    if agreement.also:
        env = _agreement_env(case_type, case, on)
        for condition in agreement.also:
            try:
                holds = bool(expressions.evaluate(condition.when, env))
            except expressions.EvaluationError:
                holds = True  # unknown (no birth date): ask for the party rather than skip it
            if holds:
                required.append((condition.party, condition.message))
    return required


def unmet_requirements(case_type: CaseTypeDef, case: Case, agreement: AgreementDef,
                       on: dt.date) -> list[str]:
    """The pack's messages for each requirement the case does not meet on ``on``."""
    if not agreement.require:
        return []
    env = _agreement_env(case_type, case, on)
    unmet = []
    for condition in agreement.require:
        try:
            holds = bool(expressions.evaluate(condition.when, env))
        except expressions.EvaluationError:
            holds = False
        if not holds:
            unmet.append(str(condition.message))
    return unmet


def _role_label(case_type: CaseTypeDef, role: str) -> str:
    if role == SUBJECT:
        return str(case_type.label)
    return str(party_roles(case_type)[role].label)


@audited
def agreement_sign(*, user: User, case_id: int, kind: str, signed_on: dt.date,
                   signatories: Iterable[str], today: dt.date | None = None) -> Agreement:
    """Record that the listed roles signed the agreement; every required role must be among
    them (a guardian when the subject is a minor the pack names) and assigned on the case."""
    today = today_or(today)
    signatories = list(dict.fromkeys(str(s) for s in signatories))
    with transaction.atomic():
        case = access.access_case_by_id(user=user, case_id=case_id)
        case = (Case.objects.select_for_update(of=("self",)).select_related("programme")
                .get(pk=case.pk))
        case_type = case_type_get(case.case_type)
        try:
            agreement = agreement_defs(case_type)[kind]
        except KeyError:
            raise error(ErrorCode.INVALID, REASON_INVALID, _("Unknown agreement.")) from None
        if case.outcome or not access.may_act(user, agreement.by, case.division_id):
            raise error(ErrorCode.FORBIDDEN, REASON_FORBIDDEN,
                        _("You may not record agreements of this case."))
        if signed_on > today:
            raise error(ErrorCode.INVALID, REASON_INVALID,
                        _("The signing date cannot be in the future."), field="signed_on")
        if Agreement.objects.filter(case=case, kind=kind).exists():
            raise error(ErrorCode.DUPLICATE, REASON_DUPLICATE,
                        _("This agreement is recorded already."))
        assigned = case_parties(case)
        problems = unmet_requirements(case_type, case, agreement, signed_on)
        for role, why in required_parties(case_type, case, agreement, signed_on):
            if role not in signatories:
                problems.append(str(why) if why else _("%(role)s has not signed.") % {
                    "role": _role_label(case_type, role)})
            elif role != SUBJECT and role not in assigned:
                problems.append(_("No %(role)s is assigned to the case.") % {
                    "role": _role_label(case_type, role)})
        for role in signatories:
            if role != SUBJECT and role not in party_roles(case_type):
                problems.append(_("%(role)s is not a party of this kind of case.")
                                % {"role": role})
        if problems:
            raise error(ErrorCode.INVALID, REASON_PARTIES, "；".join(problems),
                        problems=problems)
        names = [{"role": role, "party": assigned[role].pk if role in assigned else None,
                  "name": case.subject_name if role == SUBJECT else assigned[role].name}
                 for role in signatories]
        scan = (case.documents.filter(kind=agreement.document).order_by("-uploaded_at").first()
                if agreement.document else None)
        record = Agreement.objects.create(case=case, kind=kind, signed_on=signed_on,
                                          signatories=names, document=scan, recorded_by=user)
        CaseEvent.objects.create(case=case, kind=EventKind.AGREEMENT, actor=user,
                                 from_stage=case.stage,
                                 data={"agreement": kind, "signed_on": signed_on.isoformat(),
                                       "signatories": signatories})
    return record


def agreement_problems(case_type: CaseTypeDef, case: Case, transition: TransitionDef
                       ) -> list[str]:
    wanted = [a for a in agreement_defs(case_type).values() if transition.key in a.before]
    if not wanted:
        return []
    signed = set(Agreement.objects.filter(case=case).values_list("kind", flat=True))
    return [_("Sign the %(agreement)s first.") % {"agreement": a.label}
            for a in wanted if a.key not in signed]


def agreements_with_parties(programme: CaseProgramme, kind: str) -> dict[int, int]:
    """Signed agreements of a kind by number of signatories (三方 3, 四方 4)."""
    counts: dict[int, int] = {}
    for signatories in Agreement.objects.filter(
            case__programme=programme, kind=kind).values_list("signatories", flat=True):
        counts[len(signatories)] = counts.get(len(signatories), 0) + 1
    return counts

