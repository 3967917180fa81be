"""Pages of the case engine: programmes, case lists, the case page, notices and boards,
payments, imports, duplicate review, archives and the county progress report.

Views are thin: they read the request, reach every object through ``shidian.cases.access``
(missing and forbidden answer 404 alike), call one service or selector and render. A
``ShidianError`` becomes a message on the page, in Chinese, and nothing is saved.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shidian.cases import access, dedup, imports, progress, selectors, services
from shidian.cases.definitions import CaseTypeDef, FieldDef, case_type_get
from shidian.cases.engine import entitlement_compute, parse_date
from shidian.cases.models import (
    Case,
    CaseDocument,
    ImportStatus,
    NoticeObjection,
    Outcome,
    PairStatus,
    Payment,
)
from shidian.core.errors import ErrorCode, ShidianError
from shidian.ops.jobs import case_import_job, job_enqueue
from shidian.orgs.access import divisions_visible_to
from shidian.orgs.models import Division, User

PAGE_SIZE = 50
INLINE_IMPORT_ROWS = 3000  # larger files are checked and imported in the background
MEMBER_ROWS = 8


def _not_found(func: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Objects out of scope (or missing) answer 404 alike."""
    @wraps(func)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return func(request, *args, **kwargs)
        except ShidianError as err:
            if err.code == ErrorCode.NOT_FOUND:
                raise Http404(_("Not found.")) from err
            raise
    return wrapper


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _error_message(request: HttpRequest, err: ShidianError) -> None:
    messages.error(request, err.message)
    for message in (err.extra.get("errors") or {}).values():
        messages.error(request, message)


def _date(value: str | None, default: dt.date | None = None) -> dt.date | None:
    if not value:
        return default
    try:
        return parse_date(value)
    except ValueError:
        return default


# --- field inputs -----------------------------------------------------------------------------

def _field_rows(case_type: CaseTypeDef, fields: list[FieldDef], data: dict[str, Any],
                *, editing: bool) -> list[dict[str, Any]]:
    """What the field template needs for each input: label, type, current value, choices."""
    rows = []
    for f in fields:
        value = data.get(f.key)
        row: dict[str, Any] = {"f": f, "key": f.key, "label": str(f.label), "type": f.type,
                               "value": value, "required": f.required, "unit": f.unit,
                               "choices": [(c.key, str(c.label)) for c in f.choices]}
        if f.secret:
            row["masked"] = value if editing else ""
            row["value"] = ""
        if f.type == "members":
            members = list(value or [])
            row["relations"] = [(c.key, str(c.label)) for c in f.relations]
            row["members"] = [{"index": i, "keep": i + 1 if editing else "", **m}
                              for i, m in enumerate(members)]
            row["blank"] = list(range(len(members), len(members) + (
                3 if editing else MEMBER_ROWS)))
            row["count"] = len(members) + len(row["blank"])
        if f.type == "checklist":
            row["items"] = [{"key": c.key, "label": str(c.label),
                             "ok": bool(((value or {}).get(c.key) or {}).get("ok")),
                             "date": ((value or {}).get(c.key) or {}).get("date", "")}
                            for c in f.choices]
        rows.append(row)
    return rows


def _values_from_post(fields: list[FieldDef], post: Any, *, editing: bool) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for f in fields:
        key = f.key
        if f.type == "multichoice":
            if editing and f"{key}__present" not in post:
                continue
            values[key] = post.getlist(key)
        elif f.type == "checklist":
            items = {}
            for choice in f.choices:
                ok = post.get(f"{key}.{choice.key}") == "1"
                day = post.get(f"{key}.{choice.key}.date", "").strip()
                if ok or day:
                    items[choice.key] = {"ok": ok, **({"date": day} if day else {})}
            values[key] = items
        elif f.type == "members":
            members = []
            for i in range(int(post.get(f"{key}-count") or 0)):
                name = post.get(f"{key}-{i}-name", "").strip()
                if not name:
                    continue
                member = {"name": name, "relation": post.get(f"{key}-{i}-relation", ""),
                          "id_number": post.get(f"{key}-{i}-id_number", "").strip()}
                keep = post.get(f"{key}-{i}-keep", "")
                if keep.isdigit():
                    member["keep"] = int(keep)
                members.append(member)
            values[key] = members
        elif f.secret and editing:
            if post.get(key, "").strip():
                values[key] = post[key]
        elif key in post:
            values[key] = post.get(key, "")
    return values


def _village_choices(user: User, programme: Any) -> list[tuple[str, str]]:
    divisions = divisions_visible_to(user=user).filter(level=5)
    if programme.division_id:
        divisions = divisions.filter(access.prefix_q("code", programme.division_id))
    return [(d.code, f"{d.name}（{d.code}）") for d in divisions.order_by("code")[:500]]


# --- programmes and lists ---------------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
def programme_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    types = [case_type_get(k) for k in sorted(_case_type_keys())]
    if request.method == "POST":
        post = request.POST
        case_type = post.get("case_type", "")
        try:
            definition = case_type_get(case_type)
            table = post.get("table", "")
            params = {}
            if table:
                for key in definition.table(table).params:
                    if post.get(f"param-{key}", "").strip():
                        params[key] = post[f"param-{key}"].strip()
            programme = services.programme_create(
                user=user, name=post.get("name", ""), case_type=case_type,
                division_code=post.get("division", ""), year=int(post.get("year") or 0),
                table=table, params=params)
        except (ShidianError, KeyError, ValueError) as err:
            if isinstance(err, ShidianError):
                _error_message(request, err)
            else:
                messages.error(request, _("Please correct the form."))
        else:
            messages.success(request, _("Programme %(name)s created.") % {
                "name": programme.name})
            return redirect("cases:list", programme_id=programme.pk)
    programmes = list(selectors.programme_list(user=user))
    for programme in programmes:
        definition = case_type_get(programme.case_type)
        counts = selectors.stage_counts(user=user, programme=programme)
        rows = [(s, counts.get(s.key, 0)) for s in definition.stages]
        programme.stage_rows = rows  # type: ignore[attr-defined]
        programme.total = sum(counts.values())  # type: ignore[attr-defined]
        programme.type_label = definition.label  # type: ignore[attr-defined]
        # A case type without subsidy standards (rooms, patients) runs with no table.
        programme.table_label = (  # type: ignore[attr-defined]
            definition.table(programme.table).label if programme.table else "")
    can_create = user.is_superuser or user.role in access.PROGRAMME_ROLES
    divisions = (divisions_visible_to(user=user).filter(level__lte=3).order_by("code")[:400]
                 if can_create else [])
    return render(request, "web/cases/programme_list.html", {
        "programmes": programmes, "can_create": can_create, "types": types,
        "divisions": divisions, "this_year": timezone.localdate().year})


def _case_type_keys() -> list[str]:
    from shidian.cases.definitions import case_types

    return list(case_types())


@login_required
@require_GET
@_not_found
def case_list(request: HttpRequest, programme_id: int) -> HttpResponse:
    user = _user(request)
    programme = access.access_programme_by_id(user=user, programme_id=programme_id)
    case_type = case_type_get(programme.case_type)
    stage = request.GET.get("stage", "")
    division = request.GET.get("division", "").strip()
    overdue = request.GET.get("overdue") == "1"
    query = request.GET.get("q", "").strip()
    cases = selectors.case_list(user=user, programme=programme, stage=stage, division=division,
                                overdue=overdue, query=query)
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    stage_labels = {s.key: s.label for s in case_type.stages}
    today = timezone.localdate()
    for case in page.object_list:
        case.stage_label = stage_labels.get(case.stage, case.stage)  # type: ignore[attr-defined]
        late = bool(case.due_on and case.due_on < today and not case.outcome)
        case.overdue = late  # type: ignore[attr-defined]
        case.columns = [_display(case_type.field(k), case.data.get(k))  # type: ignore[attr-defined]
                        for k in case_type.list_fields]
    counts = selectors.stage_counts(user=user, programme=programme)
    creatable = bool(_village_choices(user, programme)) and access.may_act(
        user, case_type.create, user.division_id or "") or user.is_superuser
    return render(request, "web/cases/case_list.html", {
        "programme": programme, "case_type": case_type, "page": page, "stage": stage,
        "division": division, "overdue": overdue, "q": query,
        "stages": [(s, counts.get(s.key, 0)) for s in case_type.stages],
        "list_fields": [case_type.field(k).label for k in case_type.list_fields],
        "can_create": creatable, "can_review": access.can_review_duplicates(user),
        "querystring": _querystring(request)})


def _querystring(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _display(f: FieldDef, value: Any) -> str:
    if value in (None, "", []):
        return ""
    if f.type == "multichoice":
        return "、".join(f.choice_label(v) for v in value)
    if f.type == "choice":
        return f.choice_label(value)
    if f.type == "boolean":
        return _("Yes") if value else _("No")
    if f.type == "members":
        return "、".join(m["name"] for m in value)
    if f.type == "checklist":
        done = [f.choice_label(k) for k, v in value.items() if v.get("ok")]
        return "、".join(done)
    if f.unit:
        return f"{value} {f.unit}"
    return str(value)


@login_required
@require_http_methods(["GET", "POST"])
@_not_found
def case_new(request: HttpRequest, programme_id: int) -> HttpResponse:
    user = _user(request)
    programme = access.access_programme_by_id(user=user, programme_id=programme_id)
    case_type = case_type_get(programme.case_type)
    fields = [case_type.field(k) for k in (case_type.subject_name, case_type.subject_id,
                                           case_type.division) if k]  # a room has no ID
    for f in imports.household_fields(case_type):
        if f not in fields:
            fields.append(f)
    if case_type.members and case_type.field(case_type.members) not in fields:
        fields.append(case_type.field(case_type.members))
    data: dict[str, Any] = {}
    status = 200
    if request.method == "POST":
        values = _values_from_post(fields, request.POST, editing=False)
        try:
            case = services.case_create(user=user, programme=programme, values=values)
        except ShidianError as err:
            _error_message(request, err)
            status = 400
            data = {k: v for k, v in values.items() if not case_type.field(k).secret}
        else:
            messages.success(request, _("Registered %(name)s.") % {"name": case.subject_name})
            return redirect("cases:detail", case_id=case.pk)
    return render(request, "web/cases/case_new.html", {
        "programme": programme, "case_type": case_type,
        "rows": _field_rows(case_type, fields, data, editing=False),
        "villages": _village_choices(user, programme)}, status=status)


# --- the case page ----------------------------------------------------------------------------

def _case_context(request: HttpRequest, case: Case) -> dict[str, Any]:
    user = _user(request)
    case_type = case_type_get(case.case_type)
    stage = case_type.stage(case.stage)
    today = timezone.localdate()
    actions = services.available_transitions(user=user, case=case, today=today)
    editable = services.editable_fields(user, case_type, case)
    documents = list(case.documents.select_related("uploaded_by").order_by("uploaded_at"))
    kind_labels = {d.key: d.label for d in case_type.documents}
    for document in documents:
        label = kind_labels.get(document.kind, document.kind)
        document.kind_label = label  # type: ignore[attr-defined]
    have = {d.kind for d in documents}
    kinds = [{"key": d.key, "label": d.label, "needed": d.key in stage.documents,
              "have": d.key in have} for d in case_type.documents]
    shown = [f for f in case_type.fields if f.type != "members"]
    members_field = case_type.field(case_type.members) if case_type.members else None
    members = []
    if members_field:
        for i, m in enumerate(case.data.get(case_type.members) or [], start=1):
            members.append({**m, "position": i,
                            "relation_label": members_field.choice_label(m["relation"])})
    notice = None
    if stage.notice:
        entry = case.notice_entries.select_related("notice").order_by("-notice__created_at")
        entry = entry.filter(notice__created_at__gte=case.stage_entered_at).first()
        notice = entry.notice if entry else None
    programme = case.programme
    estimate = None
    if case.entitlement is None and not case.outcome and programme.table:
        result = entitlement_compute(case_type, case_type.table(programme.table), case.data,
                                     params=programme.params)
        estimate = result if result.base is not None else None
    return {
        "case": case, "case_type": case_type, "stage": stage, "today": today,
        "overdue": bool(case.due_on and case.due_on < today and not case.outcome),
        "actions": actions,
        "can_upload": not case.outcome and services._may_work_on(user, case_type, case),
        "fields": [(f, _display(f, case.data.get(f.key))) for f in shown],
        "members": members,
        "edit_rows": _field_rows(case_type, editable, case.data, editing=True),
        "documents": documents, "kinds": kinds,
        "payments": _payments(case_type, case),
        "can_pay": _can_pay(user, case_type, case),
        "timeline": selectors.case_timeline(case=case, case_type=case_type),
        "can_reveal": access.can_reveal(user, case_type, case),
        "notice": notice, "estimate": estimate,
        "objections": list(NoticeObjection.objects.filter(case=case).order_by("received_on")),
        "imported_from": case.import_batch,
    }


def _payments(case_type: CaseTypeDef, case: Case) -> list[Payment]:
    if not case.programme.table:
        return []
    labels = {t.key: t.label for t in case_type.table(case.programme.table).tranches}
    payments = list(case.payments.select_related("voucher").order_by("position"))
    for payment in payments:
        payment.label = labels.get(payment.tranche, payment.tranche)  # type: ignore[attr-defined]
    return payments


def _can_pay(user: User, case_type: CaseTypeDef, case: Case) -> bool:
    stage = case_type.stage(case.stage)
    return stage.payments and any(access.may_act(user, t.by, case.division_id)
                                  for t in case_type.transitions_from(case.stage))


@login_required
@require_GET
@_not_found
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    case = access.access_case_by_id(user=_user(request), case_id=case_id)
    return render(request, "web/cases/case_detail.html", _case_context(request, case))


def _back(case_id: int) -> HttpResponse:
    return redirect(reverse("cases:detail", args=[case_id]))


@login_required
@require_POST
@_not_found
def case_edit(request: HttpRequest, case_id: int) -> HttpResponse:
    user = _user(request)
    case = access.access_case_by_id(user=user, case_id=case_id)
    case_type = case_type_get(case.case_type)
    fields = services.editable_fields(user, case_type, case)
    if not fields:
        raise PermissionDenied
    values = _values_from_post(fields, request.POST, editing=True)
    try:
        services.case_update(user=user, case_id=case.pk, values=values)
    except ShidianError as err:
        _error_message(request, err)
    else:
        messages.success(request, _("Saved."))
    return _back(case.pk)


@login_required
@require_POST
@_not_found
def case_act(request: HttpRequest, case_id: int) -> HttpResponse:
    user = _user(request)
    try:
        case = services.case_transition(user=user, case_id=case_id,
                                        transition=request.POST.get("transition", ""),
                                        reason=request.POST.get("reason", ""))
    except ShidianError as err:
        if err.code == ErrorCode.NOT_FOUND:
            raise
        _error_message(request, err)
    else:
        stage = case_type_get(case.case_type).stage(case.stage)
        messages.success(request, _("Moved to %(stage)s.") % {"stage": stage.label})
    return _back(case_id)


@login_required
@require_POST
@_not_found
def case_document(request: HttpRequest, case_id: int) -> HttpResponse:
    user = _user(request)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("Choose a file."))
        return _back(case_id)
    try:
        services.document_add(user=user, case_id=case_id, kind=request.POST.get("kind", ""),
                              name=upload.name, content=upload.read(),
                              note=request.POST.get("note", ""))
    except ShidianError as err:
        if err.code == ErrorCode.NOT_FOUND:
            raise
        _error_message(request, err)
    else:
        messages.success(request, _("Document added."))
    return _back(case_id)


@login_required
@require_GET
@_not_found
def document_download(request: HttpRequest, document_id: int) -> FileResponse:
    user = _user(request)
    try:
        document = CaseDocument.objects.get(pk=document_id)
    except CaseDocument.DoesNotExist:
        raise Http404(_("Not found.")) from None
    access.access_case_by_id(user=user, case_id=document.case_id)
    return FileResponse(document.file.open("rb"), filename=document.name,
                        as_attachment=not document.name.lower().endswith(
                            (".png", ".jpg", ".jpeg", ".pdf")))


@login_required
@require_POST
@_not_found
def case_reveal(request: HttpRequest, case_id: int) -> HttpResponse:
    user = _user(request)
    position = request.POST.get("position", "")
    try:
        value = services.case_reveal(user=user, case_id=case_id,
                                     field_key=request.POST.get("field", ""),
                                     position=int(position) if position.isdigit() else None)
    except ShidianError as err:
        if err.code == ErrorCode.NOT_FOUND:
            raise
        return HttpResponse(err.message, status=403)
    return render(request, "web/cases/_reveal.html", {"value": value})


@login_required
@require_POST
@_not_found
def payment_pay(request: HttpRequest, payment_id: int) -> HttpResponse:
    user = _user(request)
    try:
        payment = Payment.objects.get(pk=payment_id)
    except Payment.DoesNotExist:
        raise Http404(_("Not found.")) from None
    access.access_case_by_id(user=user, case_id=payment.case_id)
    upload = request.FILES.get("voucher")
    paid_on = _date(request.POST.get("paid_on"))
    if upload is None or paid_on is None:
        messages.error(request, _("Enter the payment date and attach the voucher."))
        return _back(payment.case_id)
    try:
        services.payment_record(user=user, payment_id=payment.pk, paid_on=paid_on,
                                reference=request.POST.get("reference", ""),
                                voucher_name=upload.name, voucher_content=upload.read())
    except ShidianError as err:
        _error_message(request, err)
    else:
        messages.success(request, _("Payment recorded."))
    return _back(payment.case_id)


@login_required
@require_GET
@_not_found
def case_archive(request: HttpRequest, case_id: int) -> HttpResponse:
    """The household archive (一户一档): cover, contents, completeness, printable."""
    user = _user(request)
    case = access.access_case_by_id(user=user, case_id=case_id)
    case_type = case_type_get(case.case_type)
    archive = selectors.case_archive(case=case, case_type=case_type)
    shown = [f for f in case_type.fields if f.type not in ("members", "checklist")]
    return render(request, "web/cases/archive.html", {
        "case": case, "case_type": case_type, "archive": archive,
        "stage": case_type.stage(case.stage), "today": timezone.localdate(),
        "fields": [(f, _display(f, case.data.get(f.key))) for f in shown],
        "members": _members(case_type, case),
        "payments": _payments(case_type, case)})


def _members(case_type: CaseTypeDef, case: Case) -> list[dict[str, Any]]:
    if not case_type.members:
        return []
    f = case_type.field(case_type.members)
    return [{**m, "relation_label": f.choice_label(m["relation"])}
            for m in case.data.get(case_type.members) or []]


# --- notices ----------------------------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
@_not_found
def notices(request: HttpRequest, programme_id: int) -> HttpResponse:
    """Cases waiting for a notice, by village and stage, with the form to post one."""
    user = _user(request)
    programme = access.access_programme_by_id(user=user, programme_id=programme_id)
    case_type = case_type_get(programme.case_type)
    notice_stages = [s for s in case_type.stages if s.notice]
    if request.method == "POST":
        try:
            notice = services.notice_publish(
                user=user, programme=programme, stage=request.POST.get("stage", ""),
                case_ids=[int(i) for i in request.POST.getlist("case") if i.isdigit()],
                starts_on=_date(request.POST.get("starts_on"), timezone.localdate()),
                place=request.POST.get("place", ""))
        except ShidianError as err:
            _error_message(request, err)
        else:
            messages.success(request, _("Notice posted until %(day)s.") % {
                "day": notice.last_day.isoformat()})
            return redirect("cases:notice", notice_id=notice.pk)
    waiting = []
    for stage in notice_stages:
        cases = (access.cases_visible_to(user=user)
                 .filter(programme=programme, stage=stage.key, outcome=Outcome.OPEN)
                 .select_related("division").order_by("division_id", "id")[:2000])
        groups: dict[str, list[Case]] = {}
        for case in cases:
            if case.notice_entries.filter(notice__stage=stage.key,
                                          notice__created_at__gte=case.stage_entered_at
                                          ).exists():
                continue
            groups.setdefault(case.division_id, []).append(case)
        for code, items in groups.items():
            waiting.append({"stage": stage, "division": items[0].division, "cases": items})
    posted = (access.notices_visible_to(user=user).filter(programme=programme)
              .select_related("division").order_by("-starts_on", "-id")[:100])
    return render(request, "web/cases/notices.html", {
        "programme": programme, "waiting": waiting, "posted": posted,
        "today": timezone.localdate()})


@login_required
@require_http_methods(["GET", "POST"])
@_not_found
def notice_detail(request: HttpRequest, notice_id: int) -> HttpResponse:
    """One notice as posted (printable), with its objections and the form to record one."""
    user = _user(request)
    notice = access.access_notice_by_id(user=user, notice_id=notice_id)
    if request.method == "POST":
        try:
            services.objection_record(
                user=user, notice_id=notice.pk, case_id=int(request.POST.get("case") or 0),
                received_on=_date(request.POST.get("received_on"), timezone.localdate()),
                content=request.POST.get("content", ""),
                objector=request.POST.get("objector", ""))
        except ShidianError as err:
            _error_message(request, err)
        else:
            messages.success(request, _("Objection recorded."))
        return redirect("cases:notice", notice_id=notice.pk)
    case_type = case_type_get(notice.programme.case_type)
    cases = list(Case.objects.filter(notice_entries__notice=notice).order_by("id"))
    rows = [_notice_row(case_type, case) for case in cases]
    return render(request, "web/cases/notice_detail.html", {
        "notice": notice, "rows": rows, "case_type": case_type,
        "list_fields": [case_type.field(k).label for k in case_type.list_fields],
        "objections": list(notice.objections.select_related("case").order_by("received_on")),
        "today": timezone.localdate(), "print": request.GET.get("print") == "1"})


def _notice_row(case_type: CaseTypeDef, case: Case) -> dict[str, Any]:
    """A household as a notice shows it: name, persons, the pack's list columns (no IDs)."""
    persons = 1 + (len(case.data.get(case_type.members) or []) if case_type.members else 0)
    return {"case": case, "members": persons,
            "columns": [_display(case_type.field(k), case.data.get(k))
                        for k in case_type.list_fields]}


@login_required
@require_POST
@_not_found
def objection_decide(request: HttpRequest, objection_id: int) -> HttpResponse:
    user = _user(request)
    try:
        objection = NoticeObjection.objects.get(pk=objection_id)
    except NoticeObjection.DoesNotExist:
        raise Http404(_("Not found.")) from None
    access.access_notice_by_id(user=user, notice_id=objection.notice_id)
    try:
        services.objection_decide(user=user, objection_id=objection.pk,
                                  upheld=request.POST.get("upheld") == "1",
                                  decision=request.POST.get("decision", ""))
    except ShidianError as err:
        _error_message(request, err)
    else:
        messages.success(request, _("Decision recorded."))
    return redirect("cases:notice", notice_id=objection.notice_id)


@login_required
@require_GET
def board(request: HttpRequest, division: str) -> HttpResponse:
    """A village's notice board (村务公开栏): every notice running there, printable."""
    user = _user(request)
    try:
        place = Division.objects.get(code=division)
    except Division.DoesNotExist:
        raise Http404(_("Not found.")) from None
    if not access.in_scope(user, division):
        raise Http404(_("Not found."))
    notices_here = selectors.notice_board(user=user, division=division)
    for notice in notices_here:
        case_type = case_type_get(notice.programme.case_type)
        notice.rows = [_notice_row(case_type, c)  # type: ignore[attr-defined]
                       for c in notice.entry_cases]  # type: ignore[attr-defined]
        headers = [case_type.field(k).label for k in case_type.list_fields]
        notice.list_fields = headers  # type: ignore[attr-defined]
    return render(request, "web/cases/board.html", {"place": place, "notices": notices_here,
                                                     "today": timezone.localdate()})


# --- duplicates -------------------------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
@_not_found
def duplicates(request: HttpRequest, programme_id: int) -> HttpResponse:
    user = _user(request)
    programme = access.access_programme_by_id(user=user, programme_id=programme_id)
    if not access.can_review_duplicates(user):
        raise Http404(_("Not found."))
    if request.method == "POST":
        result = dedup.dedup_run(programme=programme)
        messages.success(request, _(
            "Checked for duplicates: %(exact)s new pairs with the same ID number, %(fuzzy)s "
            "with similar names.") % {"exact": result.exact, "fuzzy": result.fuzzy})
        return redirect("cases:duplicates", programme_id=programme.pk)
    status = request.GET.get("status", PairStatus.PENDING)
    pairs = (access.duplicate_pairs_visible_to(user=user).filter(programme=programme,
                                                                 status=status)
             .select_related("case_a__division", "case_b__division", "case_a__programme",
                             "case_b__programme"))
    page = Paginator(pairs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "web/cases/duplicates.html", {
        "programme": programme, "page": page, "status": status,
        "statuses": PairStatus.choices})


@login_required
@require_http_methods(["GET", "POST"])
@_not_found
def pair_detail(request: HttpRequest, pair_id: int) -> HttpResponse:
    user = _user(request)
    pair = access.access_pair_by_id(user=user, pair_id=pair_id)
    if request.method == "POST":
        try:
            dedup.pair_decide(user=user, pair_id=pair.pk,
                              decision=request.POST.get("decision", ""),
                              keep=request.POST.get("keep", ""),
                              note=request.POST.get("note", ""))
        except ShidianError as err:
            if err.code == ErrorCode.NOT_FOUND:
                raise
            _error_message(request, err)
            return redirect("cases:pair", pair_id=pair.pk)
        messages.success(request, _("Decision recorded."))
        return redirect("cases:duplicates", programme_id=pair.programme_id)
    sides = []
    for side, case in (("a", pair.case_a), ("b", pair.case_b)):
        case_type = case_type_get(case.case_type)
        shown = [f for f in case_type.fields if f.type not in ("members", "checklist")]
        sides.append({"side": side, "case": case,
                      "stage": case_type.stage(case.stage).label,
                      "fields": [(f.label, _display(f, case.data.get(f.key))) for f in shown],
                      "persons": list(case.persons.order_by("position")),
                      "documents": case.documents.count()})
    matched = {(r.get("a"), r.get("b")) for r in pair.reasons}
    return render(request, "web/cases/pair_detail.html", {
        "pair": pair, "sides": sides, "matched_a": {a for a, _b in matched},
        "matched_b": {b for _a, b in matched}})


# --- imports ----------------------------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
@_not_found
def import_list(request: HttpRequest, programme_id: int) -> HttpResponse:
    user = _user(request)
    programme = access.access_programme_by_id(user=user, programme_id=programme_id)
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, _("Choose a file."))
            return redirect("cases:imports", programme_id=programme.pk)
        try:
            batch = imports.import_upload(user=user, programme=programme, name=upload.name,
                                          content=upload.read())
        except ShidianError as err:
            _error_message(request, err)
            return redirect("cases:imports", programme_id=programme.pk)
        _start(request, batch, "validate")
        return redirect("cases:import", batch_id=batch.pk)
    batches = access.imports_visible_to(user=user).filter(programme=programme)[:50]
    case_type = case_type_get(programme.case_type)
    return render(request, "web/cases/imports.html", {
        "programme": programme, "batches": batches,
        "columns": imports.import_columns(case_type)})


def _start(request: HttpRequest, batch: Any, mode: str) -> None:
    """Small files are handled within the request; large ones by the job queue (the worker
    process in production, a thread of this process in the embedded default); the page polls
    the progress."""
    user = _user(request)
    size = batch.file.size if batch.file else 0
    if size > INLINE_IMPORT_ROWS * 200:
        job_enqueue(case_import_job, batch.pk, user.pk, mode)
        return
    try:
        if mode == "validate":
            imports.import_validate(user=user, batch_id=batch.pk)
        else:
            imports.import_run(user=user, batch_id=batch.pk, mode=mode)
            messages.success(request, _("Import finished."))
    except ShidianError as err:
        _error_message(request, err)


@login_required
@require_http_methods(["GET", "POST"])
@_not_found
def import_detail(request: HttpRequest, batch_id: int) -> HttpResponse:
    user = _user(request)
    batch = access.access_import_by_id(user=user, batch_id=batch_id)
    if request.method == "POST":
        mode = request.POST.get("mode", "")
        if mode in ("all", "valid", "validate"):
            _start(request, batch, mode)
        return redirect("cases:import", batch_id=batch.pk)
    errors = Paginator(batch.row_errors.all(), 100).get_page(request.GET.get("page"))
    return render(request, "web/cases/import_detail.html", {
        "batch": batch, "errors": errors, "progress": imports.import_progress(batch),
        "working": batch.status in (ImportStatus.UPLOADED, ImportStatus.RUNNING)})


@login_required
@require_GET
@_not_found
def import_progress(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = access.access_import_by_id(user=_user(request), batch_id=batch_id)
    response = render(request, "web/cases/_import_progress.html", {
        "batch": batch, "progress": imports.import_progress(batch),
        "working": batch.status in (ImportStatus.UPLOADED, ImportStatus.RUNNING)})
    if batch.status not in (ImportStatus.UPLOADED, ImportStatus.RUNNING):
        response["HX-Refresh"] = "true"  # done: reload the page with the report
    return response


@login_required
@require_GET
@_not_found
def import_template(request: HttpRequest, programme_id: int) -> HttpResponse:
    programme = access.access_programme_by_id(user=_user(request), programme_id=programme_id)
    content = imports.import_template(case_type_get(programme.case_type))
    response = HttpResponse(content, content_type=(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
    response["Content-Disposition"] = "attachment; filename*=UTF-8''huamingce.xlsx"
    return response


# --- progress report --------------------------------------------------------------------------

@login_required
@require_GET
@_not_found
def progress_report(request: HttpRequest, programme_id: int) -> HttpResponse:
    """The monthly progress report (进度月报) by county, as Excel, for the user's subtree."""
    user = _user(request)
    programme = access.access_programme_by_id(user=user, programme_id=programme_id)
    if not (user.is_superuser or user.role in access.PROGRAMME_ROLES | access.REVIEW_ROLES):
        raise Http404(_("Not found."))
    as_of = _date(request.GET.get("as_of"), timezone.localdate())
    content = progress.progress_workbook(programme=programme, division=user.division_id or "",
                                         as_of=as_of)
    response = HttpResponse(content, content_type=(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
    response["Content-Disposition"] = (
        f"attachment; filename*=UTF-8''progress-{programme.pk}-{as_of:%Y%m}.xlsx")
    return response

