"""Pages for the relations of cases: parties and agreements, schedules with attendance,
assessments, referrals between institutions, a programme's funds and annual report, and the
registration of cases owned by an institution.

Thin views over ``shidian.cases.parties``, ``schedules``, ``transfers`` and ``funds``: every
case is reached through ``shidian.cases.access`` (missing and forbidden answer 404 alike), each
write is one service call, a ``ShidianError`` becomes a message in Chinese and nothing is saved.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shidian.cases import access, funds, parties, schedules, transfers
from shidian.cases.definitions import case_type_get
from shidian.cases.models import Case
from shidian.cases.relation_models import AttendanceStatus, FundDirection, TransferStatus
from shidian.core.errors import ErrorCode, ShidianError, not_found
from shidian.web.views.cases import (
    _date,
    _error_message,
    _field_rows,
    _not_found,
    _user,
    _values_from_post,
)


def _back(case_id: int) -> HttpResponse:
    return redirect("careflows:case", case_id=case_id)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# --- the relations page of a case --------------------------------------------------------------

def _relations_context(request: HttpRequest, case: Case) -> dict[str, Any]:
    user = _user(request)
    case_type = case_type_get(case.case_type)
    today = timezone.localdate()
    roles = parties.party_roles(case_type)
    assigned = parties.case_parties(case)
    registered = list(parties.parties_visible_to(user=user, programme=case.programme)) if roles \
        else []
    load = parties.open_load([p.pk for p in registered])
    role_rows = []
    for key, role in roles.items():
        options = [(p, load.get(p.pk, 0)) for p in registered if p.role == key]
        role_rows.append({"role": role, "party": assigned.get(key),
                          "options": options,
                          "can": not case.outcome and access.may_act(user, role.by,
                                                                     case.division_id)})
    agreements = []
    signed = {a.kind: a for a in case.agreements.all()}
    for key, agreement in parties.agreement_defs(case_type).items():
        required = parties.required_parties(case_type, case, agreement, today)
        agreements.append({
            "def": agreement, "signed": signed.get(key),
            "required": [(role, parties._role_label(case_type, role), why)
                         for role, why in required],
            "optional": [(r, parties._role_label(case_type, r)) for r in
                         [parties.SUBJECT, *roles] if r not in {x for x, _w in required}],
            "can": not case.outcome and access.may_act(user, agreement.by, case.division_id)})
    schedule = schedules.schedule_def(case_type)
    summaries = schedules.schedule_summary(case) if schedule else []
    results = schedules.assessment_results(case_type, case)
    ownership = transfers.ownership_def(case_type)
    sensitive = [(f, case.data.get(f.key)) for f in case_type.fields
                 if f.sensitive and case.data.get(f.key)]
    return {
        "case": case, "case_type": case_type, "today": today,
        "sensitive": sensitive, "can_reveal": access.can_reveal(user, case_type, case),
        "role_rows": role_rows, "agreements": agreements,
        "schedule": schedule, "summaries": summaries,
        "attendance_rate": schedules.attendance_rate(summaries),
        "can_schedule": bool(schedule and not case.outcome and access.may_act(
            user, schedule.by, case.division_id)),
        "can_attend": bool(schedule and not case.outcome and access.may_act(
            user, schedule.attendance_by, case.division_id)),
        "statuses": AttendanceStatus.choices,
        "results": [{"result": r, "assessors": [
            (role, str(roles[role].label) if role in roles else role, r.scores.get(role))
            for role in r.definition.weights],
            "can": not case.outcome and access.may_act(user, r.definition.by,
                                                       case.division_id)}
            for r in results],
        "ownership": ownership,
        "transfers": list(transfers.case_transfers(case)) if ownership else [],
        "targets": list(transfers.sites_open(case.programme).exclude(pk=case.agency_id))
        if ownership and case.agency_id and not case.outcome
        and not case.transfers.filter(status=TransferStatus.PENDING).exists()
        and access.may_act(user, ownership.transfer_by, case.division_id) else [],
        "has_left": bool(roles or parties.agreement_defs(case_type) or schedule or results),
    }


@login_required
@require_GET
@_not_found
def case_relations(request: HttpRequest, case_id: int) -> HttpResponse:
    case = access.access_case_by_id(user=_user(request), case_id=case_id)
    return render(request, "web/careflows/case.html", _relations_context(request, case))


def _run(request: HttpRequest, case_id: int, action: Any, success: str) -> HttpResponse:
    try:
        action()
    except ShidianError as err:
        if err.code == ErrorCode.NOT_FOUND:
            raise
        _error_message(request, err)
    else:
        messages.success(request, success)
    return _back(case_id)


@login_required
@require_POST
@_not_found
def party_register(request: HttpRequest, case_id: int) -> HttpResponse:
    user = _user(request)
    case = access.access_case_by_id(user=user, case_id=case_id)
    post = request.POST
    return _run(request, case_id, lambda: parties.party_register(
        user=user, programme=case.programme, role=post.get("role", ""),
        name=post.get("name", ""), division_code=case.division_id,
        id_number=post.get("id_number", ""), phone=post.get("phone", "")),
        _("Registered."))


@login_required
@require_POST
@_not_found
def party_assign(request: HttpRequest, case_id: int) -> HttpResponse:
    user = _user(request)
    access.access_case_by_id(user=user, case_id=case_id)
    return _run(request, case_id, lambda: parties.party_assign(
        user=user, case_id=case_id, role=request.POST.get("role", ""),
        party_id=_int(request.POST.get("party")) or 0), _("Assigned."))


@login_required
@require_POST
@_not_found
def agreement_sign(request: HttpRequest, case_id: int) -> HttpResponse:
    user = _user(request)
    access.access_case_by_id(user=user, case_id=case_id)
    signed_on = _date(request.POST.get("signed_on"))
    if signed_on is None:
        messages.error(request, _("Give the signing date."))
        return _back(case_id)
    return _run(request, case_id, lambda: parties.agreement_sign(
        user=user, case_id=case_id, kind=request.POST.get("kind", ""), signed_on=signed_on,
        signatories=request.POST.getlist("signatory")), _("Agreement recorded."))


def _period_lines(text: str) -> list[dict[str, str]]:
    """``kind 2016-07-09 2016-11-08`` per line (commas or spaces)."""
    periods = []
    for line in text.splitlines():
        parts = line.replace(",", " ").replace("，", " ").split()
        if parts:
            periods.append({"kind": parts[0], "starts_on": parts[1] if len(parts) > 1 else "",
                            "ends_on": parts[2] if len(parts) > 2 else ""})
    return periods


@login_required
@require_POST
@_not_found
def schedule_set(request: HttpRequest, case_id: int) -> HttpResponse:
    user = _user(request)
    case = access.access_case_by_id(user=user, case_id=case_id)
    definition = schedules.schedule_def(case_type_get(case.case_type))

    def action() -> None:
        text = request.POST.get("periods", "").strip()
        if text:
            periods = _period_lines(text)
        else:
            start = _date(request.POST.get("start"))
            if definition is None or start is None:
                raise ShidianError(ErrorCode.INVALID, _("Give the first day of the schedule."),
                                   {"reason": "invalid"})
            periods = schedules.periods_from_template(definition,
                                                      request.POST.get("template", ""), start)
        schedules.schedule_set(user=user, case_id=case_id, periods=periods)

    return _run(request, case_id, action, _("Schedule saved."))


@login_required
@require_POST
@_not_found
def attendance_record(request: HttpRequest, case_id: int) -> HttpResponse:
    user = _user(request)
    access.access_case_by_id(user=user, case_id=case_id)
    first, last = _date(request.POST.get("from")), _date(request.POST.get("to"))
    status = request.POST.get("status", "")

    def action() -> None:
        if first is None:
            raise ShidianError(ErrorCode.INVALID, _("Give the day or the first day."),
                               {"reason": "invalid"})
        end = last or first
        if end < first or (end - first).days > 366:
            raise ShidianError(ErrorCode.INVALID, _("The days run from the first to the last, "
                                                    "within a year."), {"reason": "invalid"})
        days = [first + dt.timedelta(days=n) for n in range((end - first).days + 1)]
        if request.POST.get("weekdays"):
            days = [d for d in days if d.weekday() < 5]
        schedules.attendance_record(user=user, case_id=case_id, entries=[
            {"on": d, "status": status, "note": request.POST.get("note", "")} for d in days])

    return _run(request, case_id, action, _("Attendance recorded."))


@login_required
@require_POST
@_not_found
def assessment_record(request: HttpRequest, case_id: int) -> HttpResponse:
    user = _user(request)
    access.access_case_by_id(user=user, case_id=case_id)
    assessed_on = _date(request.POST.get("assessed_on"), timezone.localdate())
    return _run(request, case_id, lambda: schedules.assessment_record(
        user=user, case_id=case_id, kind=request.POST.get("kind", ""),
        assessor_role=request.POST.get("assessor", ""), score=request.POST.get("score", ""),
        assessed_on=assessed_on, comment=request.POST.get("comment", "")),
        _("Score recorded."))


@login_required
@require_POST
@_not_found
def transfer_request(request: HttpRequest, case_id: int) -> HttpResponse:
    user = _user(request)
    access.access_case_by_id(user=user, case_id=case_id)
    return _run(request, case_id, lambda: transfers.transfer_request(
        user=user, case_id=case_id, to_agency_id=_int(request.POST.get("to_agency")) or 0,
        reason=request.POST.get("reason", "")), _("Referral sent; the case stays here until "
                                                 "the receiving institution accepts it."))


# --- referrals waiting for the user's institutions ---------------------------------------------

@login_required
@require_GET
def referral_inbox(request: HttpRequest) -> HttpResponse:
    incoming = list(transfers.transfers_incoming(user=_user(request)).order_by("requested_at"))
    for record in incoming:
        case_type = case_type_get(record.case.case_type)
        record.case_label = case_type.label  # type: ignore[attr-defined]
    return render(request, "web/careflows/referrals.html", {"incoming": incoming})


@login_required
@require_POST
@_not_found
def referral_decide(request: HttpRequest, transfer_id: int) -> HttpResponse:
    user = _user(request)
    record = transfers.access_incoming_by_id(user=user, transfer_id=transfer_id)
    accept = request.POST.get("decision") == "accept"
    try:
        transfers.transfer_decide(user=user, transfer_id=record.pk, accept=accept,
                                  note=request.POST.get("note", ""))
    except ShidianError as err:
        if err.code == ErrorCode.NOT_FOUND:
            raise
        _error_message(request, err)
        return redirect("careflows:referrals")
    if accept:
        messages.success(request, _("Accepted: the case is now your institution's."))
        return redirect("careflows:case", case_id=record.case_id)
    messages.success(request, _("Declined."))
    return redirect("careflows:referrals")


# --- cases owned by an institution -------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
@_not_found
def owned_case_new(request: HttpRequest, programme_id: int) -> HttpResponse:
    user = _user(request)
    programme = access.access_programme_by_id(user=user, programme_id=programme_id)
    case_type = case_type_get(programme.case_type)
    if transfers.ownership_def(case_type) is None:
        return redirect("cases:new", programme_id=programme.pk)
    agencies = transfers.sites_open(programme)
    if not user.is_superuser and user.role == "pilot_site":
        agencies = agencies.filter(pk__in=user.agencies.all())
    elif not user.is_superuser:
        agencies = agencies.filter(access.prefix_q("division", user.division_id or "~"))
    fields = [f for f in case_type.fields if f.key != case_type.division
              and f.type != "members" and f.type != "checklist"]
    data: dict[str, Any] = {}
    status = 200
    if request.method == "POST":
        values = _values_from_post(fields, request.POST, editing=False)
        try:
            case = transfers.case_create_owned(user=user, programme=programme, values=values,
                                               agency_id=_int(request.POST.get("agency")) or 0)
        except ShidianError as err:
            _error_message(request, err)
            status = 400
            data = {k: v for k, v in values.items() if not case_type.field(k).secret}
        else:
            messages.success(request, _("Registered %(name)s.") % {"name": case.subject_name})
            return redirect("cases:detail", case_id=case.pk)
    return render(request, "web/careflows/owned_new.html", {
        "programme": programme, "case_type": case_type, "agencies": agencies,
        "rows": _field_rows(case_type, fields, data, editing=False)}, status=status)


# --- funds and the annual report ---------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
@_not_found
def programme_funds(request: HttpRequest, programme_id: int) -> HttpResponse:
    user = _user(request)
    programme = access.access_programme_by_id(user=user, programme_id=programme_id)
    case_type = case_type_get(programme.case_type)
    definition = funds.funds_def(case_type)
    if definition is None:
        raise not_found("funds", reason="not_found")
    year = _year(request, request.GET.get("year"), programme) or programme.year
    division = user.division_id or programme.division_id or ""
    if request.method == "POST":
        on = _date(request.POST.get("on"))
        try:
            if on is None:
                raise ShidianError(ErrorCode.INVALID, _("Give the date."), {"reason": "invalid"})
            funds.fund_record(user=user, programme=programme, division_code=division,
                              direction=request.POST.get("direction", ""),
                              category=request.POST.get("category", ""),
                              amount=request.POST.get("amount", ""), on=on,
                              note=request.POST.get("note", ""))
        except ShidianError as err:
            _error_message(request, err)
        else:
            messages.success(request, _("Recorded."))
        return redirect("careflows:funds", programme_id=programme.pk)
    entries = funds.funds_visible_to(user=user, programme=programme).select_related(
        "division").order_by("-on", "-id")[:200]
    return render(request, "web/careflows/funds.html", {
        "programme": programme, "definition": definition, "entries": entries,
        "lines": funds.funds_table(programme=programme, division=division, year=year),
        "year": year, "directions": FundDirection.choices,
        "can_record": access.may_act(user, definition.by, division) if division else False,
        "report": funds.report_def(case_type), "today": timezone.localdate()})


YEARS = range(1990, 2101)  # the years a report or a funds table may be asked for


def _year(request: HttpRequest, value: Any, programme: Any) -> int | None:
    """The year asked for, else the programme's; a year outside 1990–2100 (10000, -3) is
    refused with a message saying so, and ``None`` returned."""
    from shidian.catalogue.selfcheck import MSG_YEAR

    year = _int(value) or programme.year
    if year not in YEARS:
        messages.error(request, str(MSG_YEAR))
        return None
    return year


def _report_scope(request: HttpRequest, programme_id: int) -> tuple[Any, Any]:
    """The programme and the user's division, for those who write its report; else 404."""
    from shidian.catalogue import selfcheck
    from shidian.orgs.models import Division

    user = _user(request)
    programme = access.access_programme_by_id(user=user, programme_id=programme_id)
    division = Division.objects.filter(pk=user.division_id or "").first()
    if division is None or funds.report_def(case_type_get(programme.case_type)) is None \
            or not selfcheck.may_write(user, programme, division.code):
        raise not_found("report", reason="not_found")
    return programme, division


@login_required
@require_http_methods(["GET", "POST"])
@_not_found
def programme_selfcheck(request: HttpRequest, programme_id: int) -> HttpResponse:
    """The year's self-inspection report on a page: the generated parts, and the written ones
    (改进措施和计划) to fill in with the computed problems as prompts, saved and audited."""
    from shidian.catalogue import selfcheck

    programme, division = _report_scope(request, programme_id)
    source = request.POST if request.method == "POST" else request.GET
    year = _year(request, source.get("year"), programme)
    if year is None and request.method == "POST":  # nothing saved under another year
        return redirect("careflows:selfcheck", programme_id=programme.pk)
    year = year or programme.year
    definition = funds.report_def(case_type_get(programme.case_type))
    if request.method == "POST":
        try:
            selfcheck.selfcheck_text_save(
                user=_user(request), programme=programme, division_code=division.code,
                year=year, texts={p.key: request.POST.get(p.key, "")
                                  for p in definition.parts if not p.generated})
        except ShidianError as err:
            _error_message(request, err)
        else:
            messages.success(request, _("Saved."))
        return redirect(f"{reverse('careflows:selfcheck', args=[programme.pk])}?year={year}")
    today = timezone.localdate()
    texts = selfcheck.selfcheck_texts(programme=programme, division=division, year=year)
    return render(request, "web/careflows/selfcheck.html", {
        "programme": programme, "division": division, "year": year, "today": today,
        "title": str(definition.title).replace("{year}", str(year)),
        "sections": [(section, texts.get(section.part.key, "")) for section in
                     selfcheck.selfcheck_sections(programme=programme, division=division,
                                                  year=year, today=today)],
        "plan": selfcheck.case_programme_plan(programme=programme)})


@login_required
@require_POST
@_not_found
def programme_report(request: HttpRequest, programme_id: int) -> HttpResponse:
    """The report as Word: written parts from the form, else as saved."""
    from shidian.catalogue import selfcheck

    programme, division = _report_scope(request, programme_id)
    year = _year(request, request.POST.get("year"), programme)
    if year is None:
        return redirect("careflows:selfcheck", programme_id=programme.pk)
    report = funds.report_def(case_type_get(programme.case_type))
    texts = {part.key: request.POST.get(part.key, "") for part in report.parts} if report else {}
    content = selfcheck.selfcheck_docx(programme=programme, division=division, year=year,
                                       today=timezone.localdate(), texts=texts,
                                       signature=request.POST.get("signature", ""),
                                       dated=_date(request.POST.get("dated"),
                                                   timezone.localdate()))
    response = HttpResponse(content, content_type=(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"))
    response["Content-Disposition"] = f'attachment; filename="self-inspection-{year}.docx"'
    return response
