"""Writes of the selection app. Each runs in one transaction, locks what it changes, and is
audited (django-auditlog names the acting user); a repeated click changes nothing.

The path of an application: the applicant drafts it, answers the conditions, attaches its
documents and submits before the deadline; its province forwards (报送) or returns it (kinds
the call names, and regions that are no province, go straight to the issuing office); experts
declare conflicts and score it; the office approves within the region's quota (beyond it only
with a stated reason, recorded), and the approved application becomes a pilot site with its own
plan: the task book, cascaded from the programme plan, published, reporting quarterly.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy

from shidian.cases.audit import audited
from shidian.core.errors import ErrorCode, ShidianError
from shidian.orgs.access import user_agency_ids
from shidian.orgs.models import Agency, Division, Role, User
from shidian.plans.access import access_plan_by_id
from shidian.plans.models import Task, TaskUnit, UnitRole
from shidian.reporting import files

from . import access, eligibility, quotas, scoring
from .models import (Application, ApplicationDocument, ApplicationStatus, Averaging, Call,
                     Category, Condition, ConditionAnswer, ConditionKind, PilotSite, Quota,
                     ReviewAssignment, ReviewScore, ReviewStatus, ScoreItem)

MSG_NOT_OFFICE = gettext_lazy("Only the office that issues the call may do this.")
MSG_TITLE = gettext_lazy("A title is required.")
MSG_DEADLINES = gettext_lazy(
    "The provinces' forwarding deadline cannot be earlier than the application deadline.")
MSG_PILOT_PERIOD = gettext_lazy("The pilot cannot end before it starts.")
MSG_TRIM_FROM = gettext_lazy(
    "The highest and lowest totals can be dropped only with at least 3 reviewers.")
MSG_NO_TABLE = gettext_lazy("The plan has no allocation table (分配表) to import.")
MSG_CONDITION_RULE = gettext_lazy(
    "The rule of “%(text)s” must use only its figure %(field)s, numbers and comparisons, "
    "such as %(field)s >= 30.")
MSG_CONDITION_TEXT = gettext_lazy("A condition needs its wording.")
MSG_WEIGHT = gettext_lazy("A scoring item needs a positive weight and maximum score.")
MSG_CALL_CLOSED = gettext_lazy("The call is not open for applications.")
MSG_PAST_DEADLINE = gettext_lazy("The deadline for applications was %(deadline)s; it has passed.")
MSG_PAST_FORWARD = gettext_lazy(
    "The deadline for forwarding applications was %(deadline)s; it has passed.")
MSG_KIND = gettext_lazy("“%(kind)s” is not one of the applicant kinds of this call (%(kinds)s).")
MSG_CATEGORY = gettext_lazy("Choose a category of this call.")
MSG_REGION = gettext_lazy("“%(region)s” has no places in %(category)s.")
MSG_REGION_PROVINCE = gettext_lazy(
    "%(agency)s is in %(province)s; it cannot apply for the places of %(region)s.")
MSG_NOT_YOUR_AGENCY = gettext_lazy("You do not act for this agency.")
MSG_ALREADY_APPLIED = gettext_lazy("%(agency)s has already applied to this call.")
MSG_NOT_EDITABLE = gettext_lazy("The application is %(status)s and can no longer be changed.")
MSG_BAD_FIGURE = gettext_lazy("“%(label)s”: %(value)s is not a number.")
MSG_NOT_ELIGIBLE = gettext_lazy("The application does not meet these conditions: %(items)s")
MSG_NO_DOCUMENT = gettext_lazy("Attach the application form (申报书) before submitting.")
MSG_FILE_EMPTY = gettext_lazy("The file %(name)s is empty.")
MSG_FILE_LARGE = gettext_lazy("The file %(name)s is larger than %(limit)s MB.")
MSG_FILE_TYPE = gettext_lazy("%(name)s: only PDF, Word, Excel, JPEG and PNG files are accepted.")
MSG_NOT_WAITING = gettext_lazy("The application is %(status)s, not waiting for the province.")
MSG_REASON = gettext_lazy("Give the reason.")
MSG_NOT_EXPERT = gettext_lazy("%(name)s is not an expert.")
MSG_SAME_UNIT = gettext_lazy("%(expert)s acts for the applicant %(agency)s and is excluded.")
MSG_RELATION_NOTE = gettext_lazy(
    "You are from the applicant's own area (%(relation)s): say why there is no conflict of "
    "interest, or declare one.")
MSG_DECLARE_FIRST = gettext_lazy("Declare whether you have a conflict of interest first.")
MSG_EXCLUDED = gettext_lazy("You declared a conflict of interest; you do not review this one.")
MSG_SCORED = gettext_lazy("Your scores for this application were submitted already.")
MSG_SCORE_RANGE = gettext_lazy("“%(item)s”: give a score from 0 to %(max)s.")
MSG_NOT_FORWARDED = gettext_lazy("Only forwarded applications can be decided; this one is %(status)s.")
MSG_NOT_SCORED = gettext_lazy("No expert has scored this application yet.")
MSG_OVER_QUOTA = gettext_lazy(
    "%(region)s has %(amount)s place(s) for %(category)s and %(used)s are taken. Approving one "
    "more needs a reason, which is recorded.")
MSG_NO_SHEET = gettext_lazy("The call has no scoring sheet yet.")


# A quota for the whole country (a call without an allocation table, such as seed 02's): any
# agency may apply for it, and its application goes through its own province. The other rows
# without a province (中央企业, 全国铁道 …) are national systems that apply directly.
NATIONAL_POOL = "全国"


def _error(code: ErrorCode, message: Any, **params: Any) -> ShidianError:
    text = str(message) % params if params else str(message)
    return ShidianError(code, text, extra={k: v for k, v in params.items()
                                           if isinstance(v, (str, int, list))})


def _when(moment: datetime) -> str:
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def _office_call(user: User, call_id: int | str, *, lock: bool = False) -> Call:
    call = access.access_call_for_office(user=user, call_id=call_id)
    if lock:
        call = Call.objects.select_for_update().get(pk=call.pk)
    return call


# -- the call -------------------------------------------------------------------------------
@dataclass
class CallInput:
    title: str
    deadline: datetime
    endorse_by: datetime | None = None
    applicant_kinds: list[str] = field(default_factory=list)
    direct_kinds: list[str] = field(default_factory=list)
    pilot_starts_on: date | None = None
    pilot_ends_on: date | None = None
    averaging: str = Averaging.TRIMMED
    trim_from: int = 5
    notice: str = ""


def _check_call(data: CallInput) -> None:
    if not (data.title or "").strip():
        raise _error(ErrorCode.INVALID, MSG_TITLE)
    if data.endorse_by is not None and data.endorse_by < data.deadline:
        raise _error(ErrorCode.INVALID, MSG_DEADLINES)
    if data.pilot_starts_on and data.pilot_ends_on and data.pilot_ends_on < data.pilot_starts_on:
        raise _error(ErrorCode.INVALID, MSG_PILOT_PERIOD)
    if data.averaging == Averaging.TRIMMED and data.trim_from < 3:
        raise _error(ErrorCode.INVALID, MSG_TRIM_FROM)


@audited
def call_create(*, user: User, plan_id: int | str, data: CallInput) -> Call:
    """A call of a plan the office may change (its programme and division are the plan's)."""
    if not access.is_office(user):
        raise _error(ErrorCode.NOT_FOUND, "plan not found")
    plan = access_plan_by_id(user=user, plan_id=plan_id, for_write=True)
    _check_call(data)
    kinds = [k.strip() for k in data.applicant_kinds if k.strip()]
    with transaction.atomic():
        return Call.objects.create(
            programme=plan.programme, plan=plan, division=plan.division,
            title=data.title.strip()[:300], notice=data.notice or "",
            applicant_kinds=kinds,
            direct_kinds=[k.strip() for k in data.direct_kinds if k.strip() in kinds],
            deadline=data.deadline, endorse_by=data.endorse_by or data.deadline,
            pilot_starts_on=data.pilot_starts_on, pilot_ends_on=data.pilot_ends_on,
            averaging=data.averaging, trim_from=data.trim_from, created_by=user)


@audited
def call_open(*, user: User, call_id: int | str) -> Call:
    """Publish the call: applicants see it from now on. Needs a scoring sheet."""
    with transaction.atomic():
        call = _office_call(user, call_id, lock=True)
        if call.is_open:
            return call
        if not call.score_items.exists():
            raise _error(ErrorCode.INVALID, MSG_NO_SHEET)
        call.is_open = True
        call.save(update_fields=["is_open"])
    return call


def _province_of(region: str) -> Division | None:
    """北京 → 北京市, 内蒙古 → 内蒙古自治区; None for 中央企业, 全国铁道 and other non-places."""
    if len(region) < 2:
        return None
    found = list(Division.objects.filter(level=1, name__startswith=region)[:2])
    return found[0] if len(found) == 1 else None


@audited
def quotas_import(*, user: User, call_id: int | str) -> list[Category]:
    """Categories and quotas from the plan's allocation table, with its checks (all or nothing;
    run again, it updates the places and keeps what applications point to)."""
    with transaction.atomic():
        call = _office_call(user, call_id, lock=True)
        allocation = quotas.read_allocation(call.plan.source_text, name=call.plan.source_name)
        if not allocation.columns:
            raise _error(ErrorCode.INVALID, MSG_NO_TABLE)
        plan_tasks = list(Task.objects.filter(plan=call.plan).order_by("order")
                          .values_list("pk", "path", "title"))
        parents = set(Task.objects.filter(plan=call.plan, parent__isnull=False)
                      .values_list("parent_id", flat=True))
        common = quotas.common_tasks(plan_tasks, parents)
        provinces = {d.name: d for d in Division.objects.filter(level=1)}

        def province_of(region: str) -> Division | None:
            found = [d for name, d in provinces.items() if len(region) >= 2
                     and name.startswith(region)]
            return found[0] if len(found) == 1 else None

        existing = {(q.category_id, q.region): q for q in call.quotas.all()}
        made = []
        for order, column in enumerate(allocation.columns):
            own = quotas.tasks_for_category(plan_tasks, group=column.group, name=column.name)
            category, _ = Category.objects.update_or_create(
                call=call, group=column.group[:200], name=column.name[:200],
                defaults={"order": order, "task_ids": common + [t for t in own
                                                                 if t not in common]})
            for region, amount in column.rows:
                quota = existing.get((category.pk, region[:64]))
                if quota is None:
                    Quota.objects.create(call=call, category=category, region=region[:64],
                                         amount=amount, province=province_of(region))
                elif quota.amount != amount:
                    quota.amount = amount
                    quota.save(update_fields=["amount"])
            made.append(category)
        call.quota_checks = allocation.checks
        call.save(update_fields=["quota_checks"])
    return made


@audited
def category_add(*, user: User, call_id: int | str, name: str, group: str = "",
                 task_ids: Iterable[int] = ()) -> Category:
    """A category by hand (a call without an allocation table: seed 02's kinds). Without
    tasks named, its task book holds the plan's general tasks (``quotas.common_tasks``)."""
    if not (name or "").strip():
        raise _error(ErrorCode.INVALID, MSG_TITLE)
    with transaction.atomic():
        call = _office_call(user, call_id, lock=True)
        wanted = [int(t) for t in task_ids]
        if not wanted:
            plan_tasks = list(Task.objects.filter(plan=call.plan).order_by("order")
                              .values_list("pk", "path", "title"))
            parents = set(Task.objects.filter(plan=call.plan, parent__isnull=False)
                          .values_list("parent_id", flat=True))
            wanted = quotas.common_tasks(plan_tasks, parents)
        valid = set(Task.objects.filter(plan=call.plan, pk__in=wanted).values_list("pk",
                                                                                     flat=True))
        order = (call.categories.aggregate(m=Max("order"))["m"] or 0) + 1
        category, _ = Category.objects.get_or_create(
            call=call, group=group.strip()[:200], name=name.strip()[:200],
            defaults={"order": order, "task_ids": [t for t in wanted if t in valid]})
    return category


@audited
def quota_set(*, user: User, call_id: int | str, category_id: int | str, region: str,
              amount: int) -> Quota:
    with transaction.atomic():
        call = _office_call(user, call_id, lock=True)
        category = Category.objects.filter(call=call, pk=category_id).first()
        if category is None:
            raise _error(ErrorCode.INVALID, MSG_CATEGORY)
        quota, _ = Quota.objects.update_or_create(
            call=call, category=category, region=region.strip()[:64],
            defaults={"amount": max(0, int(amount)), "province": _province_of(region.strip())})
    return quota


@audited
def condition_add(*, user: User, call_id: int | str, text: str, kind: str,
                  category_id: int | str | None = None, field_name: str = "",
                  field_label: str = "", rule: str = "", needs_document: bool = False
                  ) -> Condition:
    text = (text or "").strip()
    if not text:
        raise _error(ErrorCode.INVALID, MSG_CONDITION_TEXT)
    if kind not in ConditionKind.values:
        raise _error(ErrorCode.INVALID, MSG_CONDITION_TEXT)
    if kind == ConditionKind.COMPUTED and eligibility.rule_problem(rule, field_name):
        raise _error(ErrorCode.INVALID, MSG_CONDITION_RULE, text=text, field=field_name or "x")
    with transaction.atomic():
        call = _office_call(user, call_id, lock=True)
        category = None
        if category_id:
            category = Category.objects.filter(call=call, pk=category_id).first()
            if category is None:
                raise _error(ErrorCode.INVALID, MSG_CATEGORY)
        order = (call.conditions.aggregate(m=Max("order"))["m"] or 0) + 1
        computed = kind == ConditionKind.COMPUTED
        return Condition.objects.create(
            call=call, category=category, order=order, text=text[:500], kind=kind,
            field_name=field_name if computed else "",
            field_label=(field_label or text)[:200] if computed else "",
            rule=rule.strip()[:300] if computed else "",
            needs_document=bool(needs_document) and not computed)


@audited
def score_item_add(*, user: User, call_id: int | str, name: str, weight: Decimal | int | str,
                   max_score: Decimal | int | str = 100) -> ScoreItem:
    try:
        weight, max_score = Decimal(str(weight)), Decimal(str(max_score))
    except InvalidOperation:
        raise _error(ErrorCode.INVALID, MSG_WEIGHT) from None
    if not (name or "").strip():
        raise _error(ErrorCode.INVALID, MSG_TITLE)
    if weight <= 0 or max_score <= 0 or weight >= 10000 or max_score >= 10000:
        raise _error(ErrorCode.INVALID, MSG_WEIGHT)
    with transaction.atomic():
        call = _office_call(user, call_id, lock=True)
        order = (call.score_items.aggregate(m=Max("order"))["m"] or 0) + 1
        return ScoreItem.objects.create(call=call, order=order, name=name.strip()[:200],
                                        weight=weight, max_score=max_score)


# -- applications ---------------------------------------------------------------------------
def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _check_open(call: Call, now: datetime) -> None:
    if not call.is_open:
        raise _error(ErrorCode.INVALID, MSG_CALL_CLOSED)
    if now > call.deadline:
        raise _error(ErrorCode.PERIOD_CLOSED, MSG_PAST_DEADLINE, deadline=_when(call.deadline))


@audited
def application_create(*, user: User, call_id: int | str, agency_id: int | str,
                       category_id: int | str, region: str, title: str, kind: str = "",
                       summary: str = "", now: datetime | None = None) -> Application:
    """A draft application of one of the user's agencies (one per agency and call)."""
    if not access.is_applicant(user):
        raise _error(ErrorCode.NOT_FOUND, "call not found")
    call = access.access_call_by_id(user=user, call_id=call_id)
    if str(agency_id) not in {str(a) for a in user_agency_ids(user)}:
        raise _error(ErrorCode.FORBIDDEN, MSG_NOT_YOUR_AGENCY)
    agency = Agency.objects.select_related("division").get(pk=agency_id)
    _check_open(call, _now(now))
    if not (title or "").strip():
        raise _error(ErrorCode.INVALID, MSG_TITLE)
    if call.applicant_kinds and kind not in call.applicant_kinds:
        raise _error(ErrorCode.INVALID, MSG_KIND, kind=kind or "-",
                     kinds="、".join(call.applicant_kinds))
    category = Category.objects.filter(call=call, pk=category_id).first()
    if category is None:
        raise _error(ErrorCode.INVALID, MSG_CATEGORY)
    quota = Quota.objects.filter(category=category, region=(region or "").strip()).first()
    if quota is None or quota.amount == 0:  # the 分配表 gives the region no place here
        raise _error(ErrorCode.INVALID, MSG_REGION, region=region or "-", category=str(category))
    province = quota.province
    if province is not None and not agency.division_id.startswith(province.code):
        raise _error(ErrorCode.INVALID, MSG_REGION_PROVINCE, agency=agency.name,
                     province=str(agency.division), region=quota.region)
    if quota.region == NATIONAL_POOL:
        province = Division.objects.filter(code=agency.division_id[:2]).first()
    if province is not None and kind in call.direct_kinds:
        province = None
    try:
        with transaction.atomic():
            return Application.objects.create(
                call=call, agency=agency, kind=kind, category=category, region=quota.region,
                province=province, title=title.strip()[:300], summary=summary or "",
                created_by=user)
    except IntegrityError:
        raise _error(ErrorCode.DUPLICATE, MSG_ALREADY_APPLIED, agency=agency.name) from None


EDITABLE = (ApplicationStatus.DRAFT, ApplicationStatus.RETURNED)


def _lock_for_applicant(user: User, application_id: int | str) -> Application:
    application = access.access_application_of_applicant(user=user,
                                                         application_id=application_id)
    locked = Application.objects.select_for_update().get(pk=application.pk)
    if locked.status not in EDITABLE:
        raise _error(ErrorCode.CONFLICT, MSG_NOT_EDITABLE, status=locked.get_status_display())
    return locked


def conditions_of(application: Application) -> list[Condition]:
    """The call's conditions for every category and those of the application's own."""
    return list(Condition.objects.filter(call_id=application.call_id)
                .filter(Q(category__isnull=True) | Q(category_id=application.category_id))
                .order_by("order", "pk"))


@dataclass
class Answers:
    figures: Mapping[int, str] = field(default_factory=dict)       # condition id -> text
    declared: Mapping[int, bool] = field(default_factory=dict)     # condition id -> ticked
    documents: Mapping[int, int | None] = field(default_factory=dict)  # condition -> document


@audited
def application_update(*, user: User, application_id: int | str, title: str | None = None,
                       summary: str | None = None, answers: Answers | None = None,
                       now: datetime | None = None) -> Application:
    """Change the draft's words and its answers to the conditions (all checked, then saved)."""
    with transaction.atomic():
        application = _lock_for_applicant(user, application_id)
        _check_open(application.call, _now(now))
        changed = []
        if title is not None and title.strip() and title.strip() != application.title:
            application.title = title.strip()[:300]
            changed.append("title")
        if summary is not None and summary != application.summary:
            application.summary = summary
            changed.append("summary")
        if changed:
            application.save(update_fields=[*changed, "updated_at"])
        if answers is not None:
            _answers_save(application, answers)
    return application


def _answers_save(application: Application, answers: Answers) -> None:
    conditions = {c.pk: c for c in conditions_of(application)}
    documents = set(application.documents.values_list("pk", flat=True))
    rows: dict[int, dict[str, Any]] = {}
    for condition_id, text in answers.figures.items():
        condition = conditions.get(int(condition_id))
        if condition is None or condition.kind != ConditionKind.COMPUTED:
            continue
        text = (str(text) if text is not None else "").strip().replace(",", "")
        value = None
        if text:
            try:
                value = Decimal(text)
                if not value.is_finite() or abs(value) >= Decimal("1e12"):
                    raise InvalidOperation
            except InvalidOperation:
                raise _error(ErrorCode.INVALID, MSG_BAD_FIGURE, label=condition.field_label,
                             value=text) from None
        rows.setdefault(condition.pk, {})["value"] = value
    for condition_id, ticked in answers.declared.items():
        condition = conditions.get(int(condition_id))
        if condition is None or condition.kind != ConditionKind.DECLARED:
            continue
        rows.setdefault(condition.pk, {})["declared"] = bool(ticked)
    for condition_id, document_id in answers.documents.items():
        condition = conditions.get(int(condition_id))
        if condition is None or condition.kind != ConditionKind.DECLARED:
            continue
        ok = document_id is not None and int(document_id) in documents
        rows.setdefault(condition.pk, {})["document_id"] = int(document_id) if ok else None
    for condition_id, values in rows.items():
        answer, created = ConditionAnswer.objects.get_or_create(
            application=application, condition_id=condition_id, defaults=values)
        if created:
            continue
        changed = [k for k, v in values.items() if getattr(answer, k) != v]
        for key in changed:
            setattr(answer, key, values[key])
        if changed:
            answer.save(update_fields=changed)


@audited
def document_upload(*, user: User, application_id: int | str, upload: UploadedFile,
                    now: datetime | None = None) -> ApplicationDocument:
    """Keep a file of the application once (by SHA-256): PDF, docx, xlsx, JPEG or PNG."""
    name = (upload.name or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:200]
    limit = int(settings.SHIDIAN_EVIDENCE_MAX_BYTES)
    if not upload.size:
        raise _error(ErrorCode.BAD_FILE, MSG_FILE_EMPTY, name=name)
    if upload.size > limit:
        raise _error(ErrorCode.BAD_FILE, MSG_FILE_LARGE, name=name, limit=limit // 1048576)
    claimed = files.TYPE_BY_EXTENSION.get(files.extension_of(name))
    actual = files.sniff_content_type(upload.file)
    if claimed is None or actual != claimed:
        raise _error(ErrorCode.BAD_FILE, MSG_FILE_TYPE, name=name)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    sha256 = digest.hexdigest()
    upload.seek(0)
    with transaction.atomic():
        application = _lock_for_applicant(user, application_id)
        _check_open(application.call, _now(now))
        existing = application.documents.filter(sha256=sha256).first()
        if existing is not None:
            return existing
        document = ApplicationDocument(application=application, original_name=name,
                                       content_type=actual, size=upload.size, sha256=sha256,
                                       uploaded_by=user)
        document.file.save(name, upload, save=False)
        document.save()
    return document


def _failed_conditions(application: Application) -> list[str]:
    from .selectors import application_checklist

    return [row.condition.text for row in application_checklist(application=application)
            if row.verdict.passed is not True]


@audited
def application_submit(*, user: User, application_id: int | str,
                       now: datetime | None = None) -> Application:
    """Submit before the deadline, every condition met and the form attached. It goes to the
    province, or straight to the issuing office when its kind or region says so. Submitting
    again changes nothing."""
    moment = _now(now)
    with transaction.atomic():
        application = access.access_application_of_applicant(user=user,
                                                             application_id=application_id)
        locked = Application.objects.select_for_update().get(pk=application.pk)
        if locked.status not in EDITABLE:
            return locked  # a second click: already on its way
        _check_open(locked.call, moment)
        failed = _failed_conditions(locked)
        if failed:
            raise _error(ErrorCode.INVALID, MSG_NOT_ELIGIBLE, items="；".join(failed))
        if not locked.documents.exists():
            raise _error(ErrorCode.INVALID, MSG_NO_DOCUMENT)
        direct = locked.province_id is None
        locked.status = ApplicationStatus.FORWARDED if direct else ApplicationStatus.SUBMITTED
        locked.submitted_at = moment
        locked.return_reason = ""
        fields = ["status", "submitted_at", "return_reason", "updated_at"]
        if direct:
            locked.forwarded_at = moment
            fields.append("forwarded_at")
        locked.save(update_fields=fields)
    return locked


@audited
def application_forward(*, user: User, application_id: int | str,
                        now: datetime | None = None) -> Application:
    """The province forwards (报送) a submitted application to the issuing office."""
    moment = _now(now)
    with transaction.atomic():
        application = access.access_application_for_province(user=user,
                                                             application_id=application_id)
        locked = Application.objects.select_for_update().get(pk=application.pk)
        if locked.status == ApplicationStatus.FORWARDED:
            return locked
        if locked.status != ApplicationStatus.SUBMITTED:
            raise _error(ErrorCode.CONFLICT, MSG_NOT_WAITING, status=locked.get_status_display())
        if moment > locked.call.endorse_by:
            raise _error(ErrorCode.PERIOD_CLOSED, MSG_PAST_FORWARD,
                         deadline=_when(locked.call.endorse_by))
        locked.status = ApplicationStatus.FORWARDED
        locked.forwarded_at, locked.forwarded_by = moment, user
        locked.save(update_fields=["status", "forwarded_at", "forwarded_by", "updated_at"])
    return locked


@audited
def application_return(*, user: User, application_id: int | str, reason: str) -> Application:
    """The province sends a submitted application back to the applicant with its reason."""
    reason = (reason or "").strip()
    if not reason:
        raise _error(ErrorCode.INVALID, MSG_REASON)
    with transaction.atomic():
        application = access.access_application_for_province(user=user,
                                                             application_id=application_id)
        locked = Application.objects.select_for_update().get(pk=application.pk)
        if locked.status == ApplicationStatus.RETURNED and locked.return_reason == reason[:500]:
            return locked
        if locked.status != ApplicationStatus.SUBMITTED:
            raise _error(ErrorCode.CONFLICT, MSG_NOT_WAITING, status=locked.get_status_display())
        locked.status = ApplicationStatus.RETURNED
        locked.return_reason = reason[:500]
        locked.save(update_fields=["status", "return_reason", "updated_at"])
    return locked


# -- review ---------------------------------------------------------------------------------
def relation_between(expert: User, agency: Agency) -> tuple[bool, str]:
    """(same unit, relation): an expert acting for the applicant is excluded outright; one
    scoped to the applicant's division, or a division above or below it in the same province,
    must declare."""
    if agency.pk in user_agency_ids(expert):
        return True, agency.name
    code = expert.division_id or ""
    if code and (agency.division_id.startswith(code) or code.startswith(agency.division_id)
                 or code[:2] == agency.division_id[:2]):
        return False, str(expert.division) if expert.division else code
    return False, ""


@dataclass
class AssignResult:
    created: list[ReviewAssignment] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)


@audited
def reviews_assign(*, user: User, call_id: int | str, expert_ids: Iterable[int | str],
                   application_ids: Iterable[int | str] | None = None) -> AssignResult:
    """Ask experts to review the call's forwarded applications (or those named). An expert of
    the applicant's own unit is not assigned; one of its area must declare before seeing it."""
    result = AssignResult()
    with transaction.atomic():
        call = _office_call(user, call_id, lock=True)
        experts = list(User.objects.filter(pk__in=[int(e) for e in expert_ids])
                       .select_related("division"))
        for expert in experts:
            if expert.role != Role.EXPERT or not expert.is_active:
                raise _error(ErrorCode.INVALID, MSG_NOT_EXPERT, name=str(expert))
        call.experts.add(*experts)
        applications = call.applications.filter(status=ApplicationStatus.FORWARDED) \
            .select_related("agency")
        if application_ids is not None:
            applications = applications.filter(pk__in=[int(a) for a in application_ids])
        existing = set(ReviewAssignment.objects.filter(application__call=call)
                       .values_list("application_id", "expert_id"))
        for application in applications:
            for expert in experts:
                if (application.pk, expert.pk) in existing:
                    continue
                same_unit, relation = relation_between(expert, application.agency)
                if same_unit:
                    result.excluded.append(str(MSG_SAME_UNIT % {
                        "expert": str(expert), "agency": application.agency.name}))
                    continue
                result.created.append(ReviewAssignment.objects.create(
                    application=application, expert=expert, relation=relation[:200]))
    return result


@audited
def review_declare(*, user: User, review_id: int | str, conflict: bool, note: str = "",
                   now: datetime | None = None) -> ReviewAssignment:
    """The expert's conflict-of-interest declaration, before seeing the application. Declaring
    a conflict excludes the expert; an expert of the applicant's area must say why not."""
    note = (note or "").strip()
    with transaction.atomic():
        review = access.access_review_of_expert(user=user, review_id=review_id)
        locked = ReviewAssignment.objects.select_for_update().get(pk=review.pk)
        if locked.status != ReviewStatus.ASSIGNED:
            return locked
        if not conflict and locked.relation and not note:
            raise _error(ErrorCode.INVALID, MSG_RELATION_NOTE, relation=locked.relation)
        locked.status = ReviewStatus.EXCLUDED if conflict else ReviewStatus.DECLARED
        locked.declaration = note[:500]
        locked.declared_at = _now(now)
        locked.save(update_fields=["status", "declaration", "declared_at"])
    return locked


@audited
def review_submit(*, user: User, review_id: int | str, scores: Mapping[int, str | Decimal],
                  comment: str = "", now: datetime | None = None) -> ReviewAssignment:
    """The expert's scores, one per item of the sheet; then the application's score and the
    category's ranks are computed again. Submitted once: a second click changes nothing."""
    with transaction.atomic():
        review = access.access_review_of_expert(user=user, review_id=review_id)
        locked = ReviewAssignment.objects.select_for_update().get(pk=review.pk)
        if locked.status == ReviewStatus.SCORED:
            return locked
        if locked.status == ReviewStatus.ASSIGNED:
            raise _error(ErrorCode.INVALID, MSG_DECLARE_FIRST)
        if locked.status == ReviewStatus.EXCLUDED:
            raise _error(ErrorCode.FORBIDDEN, MSG_EXCLUDED)
        application = Application.objects.select_for_update().get(pk=locked.application_id)
        if application.status != ApplicationStatus.FORWARDED:
            raise _error(ErrorCode.CONFLICT, MSG_NOT_FORWARDED,
                         status=application.get_status_display())
        items = list(ScoreItem.objects.filter(call_id=application.call_id).order_by("order",
                                                                                    "pk"))
        if not items:
            raise _error(ErrorCode.INVALID, MSG_NO_SHEET)
        values = []
        for item in items:
            raw = scores.get(item.pk, scores.get(str(item.pk)))  # type: ignore[call-overload]
            try:
                value = Decimal(str(raw).strip())
                if not value.is_finite():
                    raise InvalidOperation
            except (InvalidOperation, TypeError, ValueError):
                raise _error(ErrorCode.INVALID, MSG_SCORE_RANGE, item=item.name,
                             max=_plain(item.max_score)) from None
            if not 0 <= value <= item.max_score:
                raise _error(ErrorCode.INVALID, MSG_SCORE_RANGE, item=item.name,
                             max=_plain(item.max_score))
            values.append(value)
        for item, value in zip(items, values, strict=True):
            ReviewScore.objects.create(review=locked, item=item, value=value)
        locked.total = scoring.reviewer_total([(i.weight, i.max_score) for i in items], values)
        locked.comment = comment or ""
        locked.status = ReviewStatus.SCORED
        locked.submitted_at = _now(now)
        locked.save(update_fields=["total", "comment", "status", "submitted_at"])
        _rescore(application)
    return locked


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _rescore(application: Application) -> None:
    call = application.call
    totals = list(application.reviews.filter(status=ReviewStatus.SCORED)
                  .values_list("total", flat=True))
    score, counted = scoring.combine(totals, rule=call.averaging, trim_from=call.trim_from)
    if (application.score, application.reviews_counted) != (score, counted):
        application.score, application.reviews_counted = score, counted
        application.save(update_fields=["score", "reviews_counted", "updated_at"])
    _rerank(call, application.category_id)


def _rerank(call: Call, category_id: int) -> None:
    rows = list(Application.objects.filter(
        call=call, category_id=category_id,
        status__in=(ApplicationStatus.FORWARDED, ApplicationStatus.APPROVED,
                    ApplicationStatus.REJECTED)).only("pk", "score", "rank"))
    ranks = scoring.competition_ranks({a.pk: a.score for a in rows})
    for row in rows:
        if row.rank != ranks[row.pk]:
            row.rank = ranks[row.pk]
            row.save(update_fields=["rank"])


# -- decision -------------------------------------------------------------------------------
@audited
def application_approve(*, user: User, application_id: int | str, override_reason: str = "",
                        now: datetime | None = None) -> PilotSite:
    """Approve within the region's quota for the category; beyond it only with a reason (kept
    on the application and in the audit trail). The site, its task book and its reporting are
    set up in the same transaction. Approving twice returns the same site."""
    moment = _now(now)
    override_reason = (override_reason or "").strip()
    with transaction.atomic():
        application = access.access_application_for_office(user=user,
                                                            application_id=application_id)
        locked = Application.objects.select_for_update().get(pk=application.pk)
        if locked.status == ApplicationStatus.APPROVED:
            return PilotSite.objects.get(application=locked)
        if locked.status != ApplicationStatus.FORWARDED:
            raise _error(ErrorCode.CONFLICT, MSG_NOT_FORWARDED,
                         status=locked.get_status_display())
        if locked.score is None:
            raise _error(ErrorCode.INVALID, MSG_NOT_SCORED)
        quota = (Quota.objects.select_for_update()
                 .filter(category_id=locked.category_id, region=locked.region).first())
        amount = quota.amount if quota else 0
        used = Application.objects.filter(call_id=locked.call_id, category_id=locked.category_id,
                                          region=locked.region,
                                          status=ApplicationStatus.APPROVED).count()
        over = used >= amount
        if over and not override_reason:
            raise _error(ErrorCode.CONFLICT, MSG_OVER_QUOTA, region=locked.region,
                         category=str(locked.category), amount=amount, used=used)
        locked.status = ApplicationStatus.APPROVED
        locked.decided_at, locked.decided_by = moment, user
        locked.over_quota = over
        locked.override_reason = override_reason[:500] if over else ""
        locked.save(update_fields=["status", "decided_at", "decided_by", "over_quota",
                                   "override_reason", "updated_at"])
        site = _site_create(user, locked)
    return site


@audited
def application_reject(*, user: User, application_id: int | str, reason: str = "",
                       now: datetime | None = None) -> Application:
    with transaction.atomic():
        application = access.access_application_for_office(user=user,
                                                            application_id=application_id)
        locked = Application.objects.select_for_update().get(pk=application.pk)
        if locked.status == ApplicationStatus.REJECTED:
            return locked
        if locked.status != ApplicationStatus.FORWARDED:
            raise _error(ErrorCode.CONFLICT, MSG_NOT_FORWARDED,
                         status=locked.get_status_display())
        locked.status = ApplicationStatus.REJECTED
        locked.decided_at, locked.decided_by = _now(now), user
        locked.return_reason = (reason or "").strip()[:500]
        locked.save(update_fields=["status", "decided_at", "decided_by", "return_reason",
                                   "updated_at"])
    return locked


def _site_create(user: User, application: Application) -> PilotSite:
    """The site's own plan: the category's tasks of the programme plan, led by the site,
    each due by its own deadline or the pilot's end; linked and mapped to the programme plan,
    published, reporting quarterly (seed 09: 至少每3个月…汇报)."""
    from shidian.plans.services import (plan_create_from_parsed, plan_link_parent,
                                        plan_publish, plan_tasks_map, unit_resolve)
    from shidian.reporting.models import CycleKind
    from shidian.reporting.services import cycle_set

    call = application.call
    agency = Agency.objects.select_related("division").get(pk=application.agency_id)
    wanted = list(application.category.task_ids)
    tasks = sorted(Task.objects.filter(plan=call.plan, pk__in=wanted), key=lambda t: t.order)
    ends = call.pilot_ends_on or call.plan.period_end
    parsed = {
        "title": f"{agency.name}{call.title}任务书",
        "issuer": call.plan.issuer,
        "domain": call.plan.domain,
        "period": {"start": call.pilot_starts_on.isoformat() if call.pilot_starts_on else None,
                   "end": ends.isoformat() if ends else None},
        "tasks": [{
            "path": task.path, "title": task.title, "lead_units": [agency.name], "units": [],
            "deadline": (task.deadline or ends).isoformat() if (task.deadline or ends) else None,
            "deadline_text": task.deadline_text or ("试点期末" if ends else ""),
            "recurrence": task.recurrence,
        } for task in tasks],
    }
    plan = plan_create_from_parsed(user=user, programme=call.programme, division=agency.division,
                                   parsed=parsed, title=parsed["title"][:300])
    for unit in TaskUnit.objects.filter(task__plan=plan, role=UnitRole.LEAD).exclude(
            agency=agency)[:1]:
        unit_resolve(user=user, unit=unit, agency=agency, remember_alias=False)
    plan_link_parent(user=user, plan=plan, parent=call.plan)
    site_tasks = list(plan.tasks.order_by("order"))
    plan_tasks_map(user=user, plan=plan,
                   mapping={s.pk: t.pk for s, t in zip(site_tasks, tasks, strict=True)})
    if site_tasks:
        plan_publish(user=user, plan=plan, note=str(gettext_lazy("Task book")))
    cycle_set(user=user, plan_id=plan.pk, kind=CycleKind.QUARTERLY, due_day=25, grace_days=10,
              starts_on=call.pilot_starts_on)
    serial = PilotSite.objects.filter(call=call).count() + 1
    return PilotSite.objects.create(application=application, call=call, agency=agency,
                                    plan=plan, number=f"{call.pk:03d}-{serial:03d}")
