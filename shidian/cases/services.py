"""Writes of the case engine. Each function checks permission and input first, then changes
the database in one transaction, recording the change on the case's timeline (``CaseEvent``);
model saves are also audited by django-auditlog (registered in ``CasesConfig.ready``).

Domain errors are ``ShidianError`` with ``extra["reason"]`` one of the ``REASON_*`` constants
below, which callers and tests branch on (never on the Chinese message).
"""
from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import PurePath
from typing import Any

from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shidian.core import crypto, uploads, workdays
from shidian.core.errors import ErrorCode, ShidianError
from shidian.orgs.models import Division, User

from . import access, engine, followups, needtoknow, relations
from .audit import audited
from .definitions import CaseTypeDef, FieldDef, StageDef, TransitionDef, case_type_get
from .models import (
    Case,
    CaseDocument,
    CaseEvent,
    CasePerson,
    CaseProgramme,
    EventKind,
    NoticeEntry,
    NoticeObjection,
    NoticeStatus,
    ObjectionStatus,
    Outcome,
    Payment,
    PaymentStatus,
    PublicNotice,
)
from .names import name_pinyin, sealed_pinyin

REASON_FORBIDDEN = "forbidden"
REASON_FIELDS = "fields"
REASON_STAGE_MOVED = "stage_moved"
REASON_BLOCKED = "blocked"
REASON_REASON_MISSING = "reason_missing"
REASON_DUPLICATE = "duplicate"
REASON_RENOVATED = "renovated_before"
REASON_DIVISION = "division"
REASON_PROGRAMME = "programme"
REASON_FILE = "file"
REASON_NOTICE = "notice"
REASON_PAYMENT = "payment"
REASON_ENTITLEMENT = "entitlement"

ALLOWED_EXTENSIONS = frozenset({".pdf", ".jpg", ".jpeg", ".png", ".docx", ".xlsx", ".doc",
                                ".xls", ".tif", ".tiff"})
MAX_NOTICE_BACKDATE_DAYS = 60
ID_CHUNK = 900  # hashes per IN (…) lookup
SENSITIVE_MASK = "******"  # what pages show of a sensitive text field (health data)


def _error(code: ErrorCode, reason: str, message: str, **extra: Any) -> ShidianError:
    return ShidianError(code, message, {"reason": reason, **extra})


def _today(today: dt.date | None) -> dt.date:
    return today or timezone.localdate()


# --- programmes -------------------------------------------------------------------------------

@audited
def programme_create(*, user: User, name: str, case_type: str, division_code: str, year: int,
                     table: str, params: Mapping[str, Any] | None = None) -> CaseProgramme:
    definition = case_type_get(case_type)
    if not access.can_run_programme(user, division_code):
        raise _error(ErrorCode.FORBIDDEN, REASON_FORBIDDEN,
                     _("Only an office of this division may run a programme here."))
    name = (name or "").strip()
    if not name:
        raise _error(ErrorCode.INVALID, REASON_PROGRAMME, _("The programme needs a name."))
    try:
        # A case type without subsidy standards (a room, a patient) runs with none.
        standard = definition.table(table) if (table or definition.tables) else None
    except KeyError:
        raise _error(ErrorCode.INVALID, REASON_PROGRAMME,
                     _("There is no subsidy standard %(table)s.") % {"table": table}) from None
    clean: dict[str, str] = {}
    for key, value in (params or {}).items():
        if standard is None or key not in standard.params:
            raise _error(ErrorCode.INVALID, REASON_PROGRAMME,
                         _("The standard has no parameter %(name)s.") % {"name": key})
        if value in (None, ""):
            continue
        try:
            clean[key] = str(Decimal(str(value)))
        except ArithmeticError:
            raise _error(ErrorCode.INVALID, REASON_PROGRAMME,
                         _("Parameter %(name)s must be a number.") % {"name": key}) from None
    missing = [k for k in standard.required_params if k not in clean] if standard else []
    if missing:
        raise _error(ErrorCode.INVALID, REASON_PROGRAMME,
                     _("The standard leaves these figures to the programme: %(names)s.")
                     % {"names": "、".join(missing)}, missing=missing)
    if division_code and not Division.objects.filter(pk=division_code).exists():
        raise _error(ErrorCode.INVALID, REASON_DIVISION, _("Unknown division code."))
    with transaction.atomic():
        if CaseProgramme.objects.filter(case_type=case_type, name=name).exists():
            raise _error(ErrorCode.DUPLICATE, REASON_DUPLICATE,
                         _("A programme of this name exists already."))
        return CaseProgramme.objects.create(name=name, case_type=case_type,
                                            division_id=division_code or None, year=int(year),
                                            table=table, params=clean)


# --- values: what is stored where -------------------------------------------------------------

@dataclass
class Split:
    """Cleaned values divided into clear data, the encrypted envelope and the persons."""

    data: dict[str, Any] = field(default_factory=dict)
    secrets: dict[str, Any] = field(default_factory=dict)
    persons: list[dict[str, Any]] = field(default_factory=list)
    subject_name: str = ""
    subject_id: str = ""
    division: str = ""


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def values_split(case_type: CaseTypeDef, values: Mapping[str, Any],
                 secrets: Mapping[str, Any] | None = None) -> Split:
    """Cleaned field values → what the tables store (secrets only in the envelope)."""
    split = Split(secrets=dict(secrets or {}))
    for f in case_type.fields:
        if f.key not in values:
            continue
        value = values[f.key]
        if f.secret:
            if value:
                split.secrets[f.key] = value
                masked = (crypto.mask_id_number(value) if f.type == "id_number"
                          else crypto.mask_account(value) if f.type == "account"
                          else crypto.mask_name(value) if f.key == case_type.subject_name
                          else SENSITIVE_MASK)
                split.data[f.key] = masked
            else:
                split.secrets.pop(f.key, None)
                split.data[f.key] = None
        elif f.type == "members":
            split.secrets[f.key] = [m["id_number"] for m in value]
            split.data[f.key] = [{"name": m["name"], "relation": m["relation"],
                                  "id_masked": crypto.mask_id_number(m["id_number"]),
                                  "birth_date": _json_value(m["birth_date"])} for m in value]
        else:
            split.data[f.key] = _json_value(value)
    return split


def subject_name_of(case_type: CaseTypeDef, data: Mapping[str, Any],
                    secrets: Mapping[str, Any]) -> tuple[str, str]:
    """What the case row keeps of the subject's name: the name (its mask when the name field
    is sensitive) and the keyed hash of a sensitive name (for search by the exact name)."""
    name = str(data.get(case_type.subject_name) or "")
    clear = secrets.get(case_type.subject_name) if name_sealed(case_type) else None
    return name, crypto.name_hash(clear) if clear else ""


def name_sealed(case_type: CaseTypeDef) -> bool:
    """Whether the case type keeps its subjects' names in the envelope (health data)."""
    return bool(case_type.subject_name) and case_type.field(case_type.subject_name).secret


def persons_of(case_type: CaseTypeDef, secrets: Mapping[str, Any],
               data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The subject (position 0) and members with hashes, masks, birth dates and pinyin (for
    a sensitive name, its mask and the keyed hash of its pinyin: ``names.sealed_pinyin``)."""
    persons = []
    head_id = secrets.get(case_type.subject_id)
    name = str(data.get(case_type.subject_name) or "")
    if head_id:
        persons.append(_person(0, "head", name, head_id))
        if name_sealed(case_type):
            persons[0]["name_pinyin"] = sealed_pinyin(
                str(secrets.get(case_type.subject_name) or ""))
    member_ids = secrets.get(case_type.members) or []
    for i, (member, number) in enumerate(zip(data.get(case_type.members) or [], member_ids,
                                             strict=False), start=1):
        persons.append(_person(i, member["relation"], member["name"], number))
    return persons


def _person(position: int, relation: str, name: str, number: str) -> dict[str, Any]:
    return {"position": position, "relation": relation, "name": name,
            "name_pinyin": name_pinyin(name), "id_hash": crypto.search_hash(number),
            "id_masked": crypto.mask_id_number(number),
            "birth_date": dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))}


def case_values(case_type: CaseTypeDef, case: Case) -> dict[str, Any]:
    """The case's values as rules see them (secret fields as their masks)."""
    return dict(case.data)


def case_env(case_type: CaseTypeDef, case: Case, *, today: dt.date | None = None
             ) -> dict[str, Any]:
    programme = case.programme
    table = case_type.table(programme.table) if programme.table else None
    return engine.rule_env(case_type, case_values(case_type, case), params=programme.params,
                           table=table, today=today)


# --- duplicates at registration ---------------------------------------------------------------

def id_conflicts(*, case_type: CaseTypeDef, programme: CaseProgramme, hashes: Iterable[str],
                 exclude_case: int | None = None) -> dict[str, tuple[Case, str]]:
    """Hash → (case, reason) for ID numbers that may not be registered again: a subject of
    an open or completed case of this programme, or anyone in a household renovated in an
    earlier year (07a: 已改造 households do not apply again)."""
    hashes = list(set(hashes))
    found: dict[str, tuple[Case, str]] = {}
    for start in range(0, len(hashes), ID_CHUNK):
        chunk = hashes[start:start + ID_CHUNK]
        persons = (CasePerson.objects.filter(id_hash__in=chunk, case__case_type=case_type.key)
                   .exclude(case__outcome__in=[Outcome.REJECTED, Outcome.WITHDRAWN,
                                               Outcome.MERGED])
                   .select_related("case__programme"))
        if exclude_case:
            persons = persons.exclude(case_id=exclude_case)
        for person in persons:
            case = person.case
            if case.programme.year < programme.year and case.outcome == Outcome.COMPLETED:
                found[person.id_hash] = (case, REASON_RENOVATED)
            elif case.programme_id == programme.pk and person.position == 0:
                found.setdefault(person.id_hash, (case, REASON_DUPLICATE))
    return found


def conflict_message(case: Case, reason: str) -> str:
    if reason == REASON_RENOVATED:
        return _("This household was renovated in %(year)s (case %(number)s) and may not "
                 "apply again.") % {"year": case.programme.year, "number": case.number}
    return _("Already registered in this programme (case %(number)s).") % {
        "number": case.number}


# --- cases ------------------------------------------------------------------------------------

def _village(case_type: CaseTypeDef, programme: CaseProgramme, code: str) -> Division:
    division_field = case_type.field(case_type.division)
    try:
        division = Division.objects.get(pk=code)
    except Division.DoesNotExist:
        raise _error(ErrorCode.INVALID, REASON_DIVISION,
                     _("Village code %(code)s is unknown.") % {"code": code},
                     field=case_type.division) from None
    if division_field.level and division.level != division_field.level:
        raise _error(ErrorCode.INVALID, REASON_DIVISION,
                     _("%(code)s is not a village code.") % {"code": code},
                     field=case_type.division)
    if programme.division_id and not code.startswith(programme.division_id):
        raise _error(ErrorCode.INVALID, REASON_DIVISION,
                     _("Village %(code)s is outside the programme's area.") % {"code": code},
                     field=case_type.division)
    return division


def _due_on(stage: StageDef, entered_on: dt.date) -> tuple[dt.date | None, str]:
    """The stage's deadline; past the holiday calendar the deadline is left open, with why."""
    if stage.time_limit is None or stage.terminal:
        return None, ""
    try:
        return workdays.deadline_after(entered_on, stage.time_limit.days,
                                       stage.time_limit.kind), ""
    except ShidianError as exc:
        if exc.extra.get("reason") != workdays.REASON_NOT_COVERED:
            raise
        return None, exc.message


@audited
def case_create(*, user: User, programme: CaseProgramme, values: Mapping[str, Any],
                today: dt.date | None = None, agency_id: int | None = None) -> Case:
    """Register a case at the first stage (a household on the survey list). A case type owned
    by institutions needs the owner (``transfers.case_create_owned`` checks and passes it)."""
    case_type = case_type_get(programme.case_type)
    if "ownership" in case_type.sections and agency_id is None:
        raise _error(ErrorCode.INVALID, REASON_FIELDS,
                     _("Choose the institution the case belongs to."))
    if not programme.is_open:
        raise _error(ErrorCode.CONFLICT, REASON_PROGRAMME,
                     _("This programme takes no new cases."))
    cleaned, errors = engine.values_clean(case_type, values, today=today)
    if errors:
        raise _error(ErrorCode.INVALID, REASON_FIELDS, _("Some fields need correcting."),
                     errors=errors)
    code = cleaned[case_type.division]
    if not access.can_create(user, case_type, code):
        raise _error(ErrorCode.FORBIDDEN, REASON_FORBIDDEN,
                     _("You may not register cases in this village."))
    _village(case_type, programme, code)
    split = values_split(case_type, cleaned)
    persons = persons_of(case_type, split.secrets, split.data)
    subject_name, subject_name_hash = subject_name_of(case_type, split.data, split.secrets)
    conflicts = id_conflicts(case_type=case_type, programme=programme,
                             hashes=[p["id_hash"] for p in persons])
    for person in persons:
        hit = conflicts.get(person["id_hash"])
        if hit and (hit[1] == REASON_RENOVATED or person["position"] == 0):
            raise _error(ErrorCode.DUPLICATE, hit[1], conflict_message(*hit),
                         case=hit[0].pk, person=person["id_masked"])
    stage = case_type.initial_stage
    now = timezone.now()
    due_on, due_problem = _due_on(stage, _today(today))
    with transaction.atomic():
        case = Case.objects.create(
            programme=programme, case_type=case_type.key, division_id=code, stage=stage.key,
            stage_entered_at=now, due_on=due_on, subject_name=subject_name,
            subject_name_hash=subject_name_hash,
            subject_id_masked=persons[0]["id_masked"] if persons else "",
            subject_id_hash=persons[0]["id_hash"] if persons else "",
            data=split.data, pii=crypto.encrypt_json(split.secrets), created_by=user,
            agency_id=agency_id,
            created_at=now)
        CasePerson.objects.bulk_create([CasePerson(case=case, division_code=code, **p)
                                        for p in persons])
        CaseEvent.objects.create(case=case, kind=EventKind.CREATED, to_stage=stage.key,
                                 actor=user, at=now,
                                 data={"due_unknown": due_problem} if due_problem else {})
        # The registering worker joins a need-to-know case's team; a visit schedule starts.
        needtoknow.registrar_join(case=case, user=user)
        followups.schedule_start(case=case, start=_today(today))
    return case


def case_secrets(case: Case) -> dict[str, Any]:
    return crypto.decrypt_json(case.pii) if case.pii else {}


def editable_fields(user: User, case_type: CaseTypeDef, case: Case) -> list[FieldDef]:
    stage = case_type.stage(case.stage)
    if not stage.edit or not access.may_act(user, stage.editors, case.division_id):
        return []
    return [case_type.field(key) for key in stage.edit]


def _keep_members(case_type: CaseTypeDef, values: Mapping[str, Any],
                  secrets: Mapping[str, Any]) -> dict[str, Any]:
    """Members given as ``{"keep": n, ...}`` without an ID number keep member n's number, so
    a page can edit names and relations without showing the full numbers."""
    values = dict(values)
    key = case_type.members
    if not key or not isinstance(values.get(key), list | tuple):
        return values
    stored = secrets.get(key) or []
    members = []
    for member in values[key]:
        member = dict(member)
        keep = member.pop("keep", None)
        if keep and not member.get("id_number") and 1 <= int(keep) <= len(stored):
            member["id_number"] = stored[int(keep) - 1]
        members.append(member)
    values[key] = members
    return values


@audited
def case_update(*, user: User, case_id: int, values: Mapping[str, Any],
                today: dt.date | None = None) -> Case:
    """Change fields the current stage lets this user edit; the timeline records old → new."""
    with transaction.atomic():
        case = access.access_case_by_id(user=user, case_id=case_id)
        case = (Case.objects.select_for_update(of=("self",)).select_related("programme")
                .get(pk=case.pk))
        case_type = case_type_get(case.case_type)
        allowed = {f.key for f in editable_fields(user, case_type, case)}
        asked = set(values)
        if not allowed or asked - allowed:
            raise _error(ErrorCode.FORBIDDEN, REASON_FORBIDDEN,
                         _("These fields cannot be changed by you at this stage."),
                         fields=sorted(asked - allowed))
        secrets = case_secrets(case)
        values = _keep_members(case_type, values, secrets)
        cleaned, errors = engine.values_clean(case_type, values, only=sorted(asked), today=today)
        if errors:
            raise _error(ErrorCode.INVALID, REASON_FIELDS, _("Some fields need correcting."),
                         errors=errors)
        split = values_split(case_type, cleaned, secrets)
        changes = {k: [case.data.get(k), v] for k, v in split.data.items()
                   if case.data.get(k) != v}
        secret_changed = any(
            (split.secrets.get(f.key) != secrets.get(f.key)) for f in case_type.fields
            if f.key in asked and (f.secret or f.type == "members"))
        if not changes and not secret_changed:
            return case
        data = {**case.data, **split.data}
        persons = persons_of(case_type, split.secrets, data)
        if secret_changed:
            conflicts = id_conflicts(case_type=case_type, programme=case.programme,
                                     hashes=[p["id_hash"] for p in persons], exclude_case=case.pk)
            for person in persons:
                hit = conflicts.get(person["id_hash"])
                if hit and (hit[1] == REASON_RENOVATED or person["position"] == 0):
                    raise _error(ErrorCode.DUPLICATE, hit[1], conflict_message(*hit),
                                 case=hit[0].pk, person=person["id_masked"])
        case.data = data
        fields = ["data", "updated_at"]
        if case_type.subject_name in split.data:
            case.subject_name, case.subject_name_hash = subject_name_of(case_type, data,
                                                                        split.secrets)
            fields += ["subject_name", "subject_name_hash"]
        if secret_changed:
            case.pii = crypto.encrypt_json(split.secrets)
            case.subject_id_masked = persons[0]["id_masked"]
            case.subject_id_hash = persons[0]["id_hash"]
            fields += ["pii", "subject_id_masked", "subject_id_hash"]
        if secret_changed or case_type.subject_name in split.data:
            CasePerson.objects.filter(case=case).delete()
            CasePerson.objects.bulk_create([CasePerson(case=case, division_code=case.division_id,
                                                       **p) for p in persons])
        case.save(update_fields=fields)
        CaseEvent.objects.create(case=case, kind=EventKind.EDITED, actor=user,
                                 from_stage=case.stage, data={"changes": changes})
    return case


# --- transitions ------------------------------------------------------------------------------

@dataclass
class TransitionCheck:
    transition: TransitionDef
    allowed: bool  # the user has the role and level, over this case
    problems: list[str] = field(default_factory=list)  # what blocks it
    warnings: list[str] = field(default_factory=list)  # shown, recorded, not blocking

    @property
    def ok(self) -> bool:
        return self.allowed and not self.problems


def _documents_missing(case_type: CaseTypeDef, case: Case, kinds: Iterable[str]) -> list[str]:
    have = set(CaseDocument.objects.filter(case=case).values_list("kind", flat=True))
    return [str(case_type.document(k).label) for k in kinds if k not in have]


def notice_state(case: Case, stage: StageDef, today: dt.date) -> tuple[bool, str]:
    """Whether the case's notice for this stage has run without an upheld or open objection."""
    entry = (NoticeEntry.objects.filter(case=case, notice__stage=stage.key,
                                        notice__created_at__gte=case.stage_entered_at)
             .select_related("notice").order_by("-notice__created_at").first())
    if entry is None:
        return False, _("The public notice has not been posted yet.")
    notice = entry.notice
    if today <= notice.last_day:
        return False, _("The public notice runs until %(day)s; the case may move on the day "
                        "after.") % {"day": notice.last_day.isoformat()}
    open_objections = NoticeObjection.objects.filter(
        notice=notice, case=case, status__in=[ObjectionStatus.PENDING, ObjectionStatus.UPHELD])
    if open_objections.exists():
        return False, _("An objection to the notice has not been resolved.")
    return True, ""


def _payments_state(case: Case) -> list[str]:
    payments = list(Payment.objects.filter(case=case))
    if not payments:
        return [_("No subsidy has been fixed for this case.")]
    problems = []
    for payment in payments:
        if payment.status != PaymentStatus.PAID:
            problems.append(_("Tranche %(tranche)s is not paid yet.") % {
                "tranche": payment.tranche})
        elif payment.voucher_id is None:
            problems.append(_("Tranche %(tranche)s has no payment voucher.") % {
                "tranche": payment.tranche})
    return problems


def transition_check(*, user: User, case: Case, transition: TransitionDef,
                     today: dt.date | None = None) -> TransitionCheck:
    """Everything that stands between this user and this transition, in words."""
    case_type = case_type_get(case.case_type)
    today = _today(today)
    check = TransitionCheck(transition, access.may_act(user, transition.by, case.division_id))
    if case.stage not in transition.sources:
        check.problems.append(_("The case is no longer at this stage."))
        return check
    if case.outcome:
        check.problems.append(_("The case is closed."))
        return check
    if transition.kind != "forward":
        return check
    stage = case_type.stage(case.stage)
    missing = _documents_missing(case_type, case, transition.documents or stage.documents)
    if missing:
        check.problems.append(_("Missing documents: %(docs)s.") % {"docs": "、".join(missing)})
    if stage.notice:
        ok, message = notice_state(case, stage, today)
        if not ok:
            check.problems.append(message)
    if stage.payments:
        check.problems += _payments_state(case)
    env = case_env(case_type, case, today=today)
    for result in engine.transition_guards(case_type, transition, env):
        if result.ok:
            continue
        (check.warnings if result.severity == "warning" else check.problems).append(
            result.message)
    check.problems += relations.transition_problems(case_type, case, transition, env)
    if transition.fix_entitlement:
        entitlement = engine.entitlement_compute(
            case_type, case_type.table(case.programme.table), case_values(case_type, case),
            params=case.programme.params)
        if entitlement.base is None:
            check.problems.append(_("No subsidy standard applies to this case."))
    return check


def _fix_entitlement(case_type: CaseTypeDef, case: Case) -> None:
    table = case_type.table(case.programme.table)
    result = engine.entitlement_compute(case_type, table, case_values(case_type, case),
                                        params=case.programme.params)
    if result.base is None or result.missing:
        raise _error(ErrorCode.INVALID, REASON_ENTITLEMENT,
                     _("No subsidy standard applies to this case."), missing=result.missing)
    case.entitlement = result.total
    case.entitlement_detail = [{"label": line.label, "amount": str(line.amount)}
                               for line in result.lines]
    Payment.objects.filter(case=case, status=PaymentStatus.PLANNED).delete()
    paid = set(Payment.objects.filter(case=case).values_list("tranche", flat=True))
    Payment.objects.bulk_create([
        Payment(case=case, tranche=tranche.key, position=i, amount=amount)
        for i, (tranche, amount) in enumerate(engine.tranche_amounts(table, result.total))
        if tranche.key not in paid])


def _move(case: Case, case_type: CaseTypeDef, target: str, now: dt.datetime,
          today: dt.date | None = None) -> list[str]:
    stage = case_type.stage(target)
    case.stage = target
    case.stage_entered_at = now
    case.due_on, due_problem = _due_on(stage, _today(today))
    case.outcome = stage.outcome or Outcome.OPEN
    return [due_problem] if due_problem else []


@audited
def case_transition(*, user: User, case_id: int, transition: str, reason: str = "",
                    today: dt.date | None = None) -> Case:
    """Move a case along one transition of its pack, if the user may and the guards pass."""
    reason = (reason or "").strip()
    with transaction.atomic():
        case = access.access_case_by_id(user=user, case_id=case_id)
        case = (Case.objects.select_for_update(of=("self",)).select_related("programme")
                .get(pk=case.pk))
        case_type = case_type_get(case.case_type)
        try:
            definition = case_type.transition(transition)
        except KeyError:
            raise _error(ErrorCode.INVALID, REASON_BLOCKED, _("Unknown action.")) from None
        if case.stage not in definition.sources:
            raise _error(ErrorCode.CONFLICT, REASON_STAGE_MOVED,
                         _("The case is no longer at this stage; reload the page."))
        check = transition_check(user=user, case=case, transition=definition, today=today)
        if not check.allowed:
            raise _error(ErrorCode.FORBIDDEN, REASON_FORBIDDEN,
                         _("You may not take this action on this case."))
        if check.problems:
            raise _error(ErrorCode.INVALID, REASON_BLOCKED, "；".join(check.problems),
                         problems=check.problems)
        if definition.reason == "required" and not reason:
            raise _error(ErrorCode.INVALID, REASON_REASON_MISSING,
                         _("Give the reason (it is shown to the applicant)."))
        if definition.fix_entitlement:
            _fix_entitlement(case_type, case)
        old = case.stage
        now = timezone.now()
        notes = _move(case, case_type, definition.target, now, today)
        case.save(update_fields=["stage", "stage_entered_at", "due_on", "outcome",
                                 "entitlement", "entitlement_detail", "updated_at"])
        data: dict[str, Any] = {}
        if check.warnings:
            data["warnings"] = check.warnings
        if notes:
            data["due_unknown"] = notes[0]
        CaseEvent.objects.create(case=case, kind=EventKind.TRANSITION,
                                 transition=definition.key, from_stage=old,
                                 to_stage=definition.target, actor=user, at=now, reason=reason,
                                 data=data)
    return case


@dataclass
class BulkResult:
    moved: int = 0
    blocked: dict[str, int] = field(default_factory=dict)  # first problem → count


@audited
def cases_transition_bulk(*, user: User, case_ids: Iterable[int], transition: str,
                          today: dt.date | None = None, chunk: int = 2000) -> BulkResult:
    """One transition on many cases (a township moving a village's list on): each case is
    checked like ``case_transition``; those that pass move, in chunks of one transaction each,
    with their timeline events and audit entries written in bulk. Transitions that need a
    reason, fix an entitlement or wait for a notice or payment are refused here: they are
    decided case by case."""
    result = BulkResult()
    ids = list(case_ids)
    today = _today(today)
    content_type = ContentType.objects.get_for_model(Case)
    for start in range(0, len(ids), chunk):
        with transaction.atomic():
            cases = list(access.cases_visible_to(user=user).select_for_update()
                         .filter(pk__in=ids[start:start + chunk]).select_related("programme"))
            moving: list[Case] = []
            events: list[CaseEvent] = []
            logs: list[LogEntry] = []
            now = timezone.now()
            have_docs: dict[int, set[str]] = {}
            for doc_case, kind in CaseDocument.objects.filter(
                    case__in=cases).values_list("case_id", "kind"):
                have_docs.setdefault(doc_case, set()).add(kind)
            for case in cases:
                case_type = case_type_get(case.case_type)
                definition = case_type.transition(transition)
                problem = _bulk_problem(user, case, case_type, definition, have_docs, today)
                if problem:
                    result.blocked[problem] = result.blocked.get(problem, 0) + 1
                    continue
                old = case.stage
                _move(case, case_type, definition.target, now, today)
                moving.append(case)
                events.append(CaseEvent(case=case, kind=EventKind.TRANSITION,
                                        transition=definition.key, from_stage=old,
                                        to_stage=definition.target, actor=user, at=now))
                logs.append(LogEntry(content_type=content_type, object_pk=str(case.pk),
                                     object_id=case.pk, object_repr=str(case)[:200],
                                     action=LogEntry.Action.UPDATE, actor=user, timestamp=now,
                                     changes={"stage": [old, definition.target]}))
            # Cases moved together share their new values: one UPDATE per distinct set.
            groups: dict[tuple[Any, ...], list[int]] = {}
            for case in moving:
                groups.setdefault((case.stage, case.due_on, case.outcome), []).append(case.pk)
            for (stage, due_on, outcome), pks in groups.items():
                for at in range(0, len(pks), 900):
                    Case.objects.filter(pk__in=pks[at:at + 900]).update(
                        stage=stage, stage_entered_at=now, due_on=due_on, outcome=outcome,
                        updated_at=now)
            CaseEvent.objects.bulk_create(events, batch_size=1000)
            LogEntry.objects.bulk_create(logs, batch_size=1000)
            result.moved += len(moving)
    return result


def _bulk_problem(user: User, case: Case, case_type: CaseTypeDef, definition: TransitionDef,
                  have_docs: Mapping[int, set[str]], today: dt.date) -> str:
    stage = case_type.stage(case.stage)
    if case.stage not in definition.sources or case.outcome:
        return "stage"
    if definition.reason == "required" or definition.fix_entitlement or stage.notice or (
            stage.payments):
        return "case_by_case"
    if not access.may_act(user, definition.by, case.division_id):
        return "forbidden"
    needed = definition.documents or stage.documents
    if needed and not set(needed) <= have_docs.get(case.pk, set()):
        return "documents"
    env = case_env(case_type, case, today=today)
    for result in engine.transition_guards(case_type, definition, env):
        if not result.ok and result.severity != "warning":
            return result.rule
    return ""


def available_transitions(*, user: User, case: Case,
                          today: dt.date | None = None) -> list[TransitionCheck]:
    """The actions of the current stage this user could take, each with what blocks it."""
    case_type = case_type_get(case.case_type)
    checks = [transition_check(user=user, case=case, transition=t, today=today)
              for t in case_type.transitions_from(case.stage)]
    return [c for c in checks if c.allowed]


# --- documents --------------------------------------------------------------------------------

def _may_work_on(user: User, case_type: CaseTypeDef, case: Case) -> bool:
    stage = case_type.stage(case.stage)
    actors = [t.by for t in case_type.transitions_from(case.stage)]
    if stage.editors:
        actors.append(stage.editors)
    return any(access.may_act(user, actor, case.division_id) for actor in actors)


def _check_file(name: str, content: bytes) -> str:
    name = PurePath(name or "").name[:200]
    suffix = PurePath(name).suffix.lower()
    if suffix not in ALLOWED_EXTENSIONS:
        raise _error(ErrorCode.BAD_FILE, REASON_FILE,
                     _("Documents must be PDF, image, Word or Excel files."))
    if not content:
        raise _error(ErrorCode.BAD_FILE, REASON_FILE, _("The file is empty."))
    if len(content) > settings.SHIDIAN_EVIDENCE_MAX_BYTES:
        raise _error(ErrorCode.BAD_FILE, REASON_FILE,
                     _("The file is larger than %(mb)s MB.") % {
                         "mb": settings.SHIDIAN_EVIDENCE_MAX_BYTES // (1024 * 1024)})
    if not uploads.content_matches(name, content):  # the content, not only the name
        raise _error(ErrorCode.BAD_FILE, REASON_FILE,
                     _("%(name)s is not really a %(ext)s file: its content is of another "
                       "kind.") % {"name": name, "ext": suffix.lstrip(".").upper()})
    return name


def _store_document(*, user: User, case: Case, kind: str, name: str, content: bytes,
                    note: str = "") -> CaseDocument:
    digest = hashlib.sha256(content).hexdigest()
    stored_name = f"{kind}-{digest[:12]}{PurePath(name).suffix.lower()}"
    document = CaseDocument(case=case, kind=kind, stage=case.stage, name=name,
                            size=len(content), sha256=digest, note=(note or "")[:200],
                            uploaded_by=user)
    document.file.save(stored_name, ContentFile(content), save=False)
    document.save()
    CaseEvent.objects.create(case=case, kind=EventKind.DOCUMENT, actor=user,
                             from_stage=case.stage,
                             data={"document": document.pk, "kind": kind, "name": name})
    return document


@audited
def document_add(*, user: User, case_id: int, kind: str, name: str, content: bytes,
                 note: str = "") -> CaseDocument:
    """Attach a document (申请书, 鉴定报告, photos …) to the case at its current stage."""
    name = _check_file(name, content)
    with transaction.atomic():
        case = access.access_case_by_id(user=user, case_id=case_id)
        case = Case.objects.select_for_update().get(pk=case.pk)
        case_type = case_type_get(case.case_type)
        try:
            case_type.document(kind)
        except KeyError:
            raise _error(ErrorCode.INVALID, REASON_FILE, _("Unknown kind of document.")) from None
        if case.outcome or not _may_work_on(user, case_type, case):
            raise _error(ErrorCode.FORBIDDEN, REASON_FORBIDDEN,
                         _("You may not add documents to this case at this stage."))
        return _store_document(user=user, case=case, kind=kind, name=name, content=content,
                               note=note)


# --- public notices ---------------------------------------------------------------------------

@audited
def notice_publish(*, user: User, programme: CaseProgramme, stage: str, case_ids: Iterable[int],
                   starts_on: dt.date, place: str = "", today: dt.date | None = None
                   ) -> PublicNotice:
    """Post a notice for cases of one village waiting at a notice stage (张榜公示)."""
    case_type = case_type_get(programme.case_type)
    try:
        stage_def = case_type.stage(stage)
    except KeyError:
        stage_def = None
    if stage_def is None or stage_def.notice is None:
        raise _error(ErrorCode.INVALID, REASON_NOTICE, _("This stage has no public notice."))
    today = _today(today)
    if starts_on > today + dt.timedelta(days=MAX_NOTICE_BACKDATE_DAYS) or (
            starts_on < today - dt.timedelta(days=MAX_NOTICE_BACKDATE_DAYS)):
        raise _error(ErrorCode.INVALID, REASON_NOTICE,
                     _("The posting date must be within %(n)s days of today.")
                     % {"n": MAX_NOTICE_BACKDATE_DAYS})
    ids = sorted({int(i) for i in case_ids})
    if not ids:
        raise _error(ErrorCode.INVALID, REASON_NOTICE, _("Choose the cases to post."))
    with transaction.atomic():
        cases = list(access.cases_visible_to(user=user).select_for_update()
                     .filter(pk__in=ids, programme=programme))
        if len(cases) != len(ids):
            raise _error(ErrorCode.NOT_FOUND, REASON_NOTICE, _("Some cases were not found."))
        villages = {c.division_id for c in cases}
        if len(villages) != 1:
            raise _error(ErrorCode.INVALID, REASON_NOTICE,
                         _("A notice is posted in one village; choose cases of one village."))
        if any(c.stage != stage for c in cases):
            raise _error(ErrorCode.CONFLICT, REASON_STAGE_MOVED,
                         _("Some of the cases are not waiting for this notice."))
        movers = [t.by for t in case_type.transitions_from(stage)]
        village = villages.pop()
        if not any(access.may_act(user, actor, village) for actor in movers):
            raise _error(ErrorCode.FORBIDDEN, REASON_FORBIDDEN,
                         _("You may not post notices in this village."))
        notice_def = stage_def.notice
        last_day = workdays.period_last_day(starts_on, notice_def.days, notice_def.kind)
        notice = PublicNotice.objects.create(
            programme=programme, division_id=village, stage=stage,
            title=str(notice_def.title) or str(stage_def.label),
            place=(place or "").strip()[:100] or str(notice_def.place), starts_on=starts_on,
            days=notice_def.days, day_kind=notice_def.kind, last_day=last_day,
            created_by=user)
        NoticeEntry.objects.bulk_create([NoticeEntry(notice=notice, case=c) for c in cases])
        CaseEvent.objects.bulk_create([
            CaseEvent(case=c, kind=EventKind.NOTICE, actor=user, from_stage=stage,
                      data={"notice": notice.pk, "starts_on": starts_on.isoformat(),
                            "last_day": last_day.isoformat(), "place": notice.place})
            for c in cases])
    return notice


@audited
def objection_record(*, user: User, notice_id: int, case_id: int, received_on: dt.date,
                     content: str, objector: str = "",
                     today: dt.date | None = None) -> NoticeObjection:
    """Record an objection raised against one household of a notice (异议)."""
    content = (content or "").strip()
    if not content:
        raise _error(ErrorCode.INVALID, REASON_NOTICE, _("Write down what the objection says."))
    with transaction.atomic():
        notice = access.access_notice_by_id(user=user, notice_id=notice_id)
        case = access.access_case_by_id(user=user, case_id=case_id)
        if not NoticeEntry.objects.filter(notice=notice, case=case).exists():
            raise _error(ErrorCode.INVALID, REASON_NOTICE, _("This case is not on the notice."))
        if received_on > _today(today):
            raise _error(ErrorCode.INVALID, REASON_NOTICE,
                         _("An objection cannot be received in the future."))
        case_type = case_type_get(case.case_type)
        if not _may_work_on(user, case_type, case):
            raise _error(ErrorCode.FORBIDDEN, REASON_FORBIDDEN,
                         _("You may not record objections for this case."))
        objection = NoticeObjection.objects.create(
            notice=notice, case=case, received_on=received_on, content=content,
            objector=(objector or "").strip()[:64], recorded_by=user)
        CaseEvent.objects.create(case=case, kind=EventKind.OBJECTION, actor=user,
                                 from_stage=case.stage, reason=content,
                                 data={"notice": notice.pk, "objection": objection.pk,
                                       "status": ObjectionStatus.PENDING})
    return objection


@audited
def objection_decide(*, user: User, objection_id: int, upheld: bool, decision: str,
                     today: dt.date | None = None) -> Case:
    """Decide an objection. Upheld: the case goes back to the stage the pack names, with the
    decision as the reason; dismissed: the notice may run out and the case move on."""
    decision = (decision or "").strip()
    if not decision:
        raise _error(ErrorCode.INVALID, REASON_REASON_MISSING,
                     _("Write down the decision and why."))
    with transaction.atomic():
        objection = (NoticeObjection.objects.select_for_update()
                     .select_related("notice").get(pk=int(objection_id)))
        case = access.access_case_by_id(user=user, case_id=objection.case_id)
        case = (Case.objects.select_for_update(of=("self",)).select_related("programme")
                .get(pk=case.pk))
        case_type = case_type_get(case.case_type)
        if objection.status != ObjectionStatus.PENDING:
            raise _error(ErrorCode.CONFLICT, REASON_NOTICE,
                         _("This objection has been decided already."))
        if not _may_work_on(user, case_type, case):
            raise _error(ErrorCode.FORBIDDEN, REASON_FORBIDDEN,
                         _("You may not decide objections for this case."))
        now = timezone.now()
        objection.status = ObjectionStatus.UPHELD if upheld else ObjectionStatus.DISMISSED
        objection.decision = decision
        objection.decided_by = user
        objection.decided_at = now
        objection.save(update_fields=["status", "decision", "decided_by", "decided_at"])
        CaseEvent.objects.create(case=case, kind=EventKind.OBJECTION, actor=user, at=now,
                                 from_stage=case.stage, reason=decision,
                                 data={"objection": objection.pk, "status": objection.status})
        stage = case_type.stage(case.stage)
        if upheld and stage.notice and objection.notice.stage == case.stage:
            old = case.stage
            _move(case, case_type, stage.notice.on_objection, now, today)
            case.save(update_fields=["stage", "stage_entered_at", "due_on", "outcome",
                                     "updated_at"])
            CaseEvent.objects.create(case=case, kind=EventKind.TRANSITION,
                                     transition="objection_upheld", from_stage=old,
                                     to_stage=case.stage, actor=user, at=now, reason=decision)
    return case


@audited
def notice_close(*, user: User, notice_id: int) -> PublicNotice:
    """Take a notice down from the board (the record stays in every case's archive)."""
    with transaction.atomic():
        notice = access.access_notice_by_id(user=user, notice_id=notice_id)
        if not access.in_scope(user, notice.division_id) or user.role not in (
                access.REVIEW_ROLES | access.PROGRAMME_ROLES) and not user.is_superuser:
            raise _error(ErrorCode.FORBIDDEN, REASON_FORBIDDEN,
                         _("You may not take this notice down."))
        if notice.status != NoticeStatus.CLOSED:
            notice.status = NoticeStatus.CLOSED
            notice.save(update_fields=["status"])
    return notice


# --- payments ---------------------------------------------------------------------------------

@audited
def payment_record(*, user: User, payment_id: int, paid_on: dt.date, reference: str,
                   voucher_name: str, voucher_content: bytes,
                   today: dt.date | None = None) -> Payment:
    """Record a tranche as paid into the household's account, with the voucher's photo
    (07a 五/(二): 在信息系统中上传补助资金支付到农户账户凭单的照片)."""
    name = _check_file(voucher_name, voucher_content)
    reference = (reference or "").strip()
    if not reference:
        raise _error(ErrorCode.INVALID, REASON_PAYMENT, _("Enter the bank's reference."))
    if paid_on > _today(today):
        raise _error(ErrorCode.INVALID, REASON_PAYMENT,
                     _("A payment cannot be dated in the future."))
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=int(payment_id))
        case = access.access_case_by_id(user=user, case_id=payment.case_id)
        case = (Case.objects.select_for_update(of=("self",)).select_related("programme")
                .get(pk=case.pk))
        case_type = case_type_get(case.case_type)
        table = case_type.table(case.programme.table)
        tranche = next((t for t in table.tranches if t.key == payment.tranche), None)
        if payment.status == PaymentStatus.PAID:
            raise _error(ErrorCode.CONFLICT, REASON_PAYMENT, _("This tranche is paid already."))
        if tranche is None or case.outcome or case_type.stage_order(case.stage) < (
                case_type.stage_order(tranche.after_stage)):
            raise _error(ErrorCode.CONFLICT, REASON_PAYMENT,
                         _("This tranche cannot be paid at the case's stage."))
        payers = [t.by for t in case_type.transitions_from(tranche.after_stage)]
        if not any(access.may_act(user, actor, case.division_id) for actor in payers):
            raise _error(ErrorCode.FORBIDDEN, REASON_FORBIDDEN,
                         _("You may not record payments for this case."))
        if not case_secrets(case).get(_account_field(case_type)):
            raise _error(ErrorCode.INVALID, REASON_PAYMENT,
                         _("The household has no account to pay into."))
        voucher = _store_document(user=user, case=case, kind=_voucher_kind(case_type),
                                  name=name, content=voucher_content)
        payment.status = PaymentStatus.PAID
        payment.paid_on = paid_on
        payment.reference = reference[:64]
        payment.voucher = voucher
        payment.recorded_by = user
        payment.recorded_at = timezone.now()
        payment.save(update_fields=["status", "paid_on", "reference", "voucher", "recorded_by",
                                    "recorded_at"])
        CaseEvent.objects.create(case=case, kind=EventKind.PAYMENT, actor=user,
                                 from_stage=case.stage,
                                 data={"tranche": payment.tranche, "amount": str(payment.amount),
                                       "paid_on": paid_on.isoformat(), "reference": reference})
    return payment


def _account_field(case_type: CaseTypeDef) -> str:
    accounts = [f.key for f in case_type.fields if f.type == "account"]
    return accounts[0] if accounts else ""


def _voucher_kind(case_type: CaseTypeDef) -> str:
    """The document kind payment vouchers are filed under: the archive's last paper."""
    for doc in case_type.documents:
        if "voucher" in doc.key:
            return doc.key
    return case_type.archive[-1] if case_type.archive else case_type.documents[-1].key


# --- personal information ---------------------------------------------------------------------

@audited
def case_reveal(*, user: User, case_id: int, field_key: str, position: int | None = None) -> str:
    """The full number of a secret field (or a member's ID number), for roles the pack allows;
    every view is written to the timeline and the audit log."""
    with transaction.atomic():
        case = access.access_case_by_id(user=user, case_id=case_id)
        case_type = case_type_get(case.case_type)
        try:
            f = case_type.field(field_key)
        except KeyError:
            raise _error(ErrorCode.NOT_FOUND, REASON_FIELDS, "field not found") from None
        if not (f.secret or f.type == "members") or not access.can_reveal(user, case_type, case):
            raise _error(ErrorCode.FORBIDDEN, REASON_FORBIDDEN,
                         _("You may not see the full number."))
        secrets = case_secrets(case)
        if f.type == "members":
            members = secrets.get(f.key) or []
            if position is None or not 1 <= position <= len(members):
                raise _error(ErrorCode.NOT_FOUND, REASON_FIELDS, "member not found")
            value = members[position - 1]
        else:
            value = secrets.get(f.key) or ""
        CaseEvent.objects.create(case=case, kind=EventKind.PII_VIEW, actor=user,
                                 from_stage=case.stage,
                                 data={"field": field_key, "position": position})
        LogEntry.objects.log_create(case, force_log=True, action=LogEntry.Action.ACCESS,
                                    changes={"viewed": [field_key, position]}, actor=user)
    return value
