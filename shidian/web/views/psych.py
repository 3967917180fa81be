"""Pages of the psychological services pack (shidian/packs/psych) beyond the generic case
pages: the follow-up board with missed visits, a patient's visits and case team, the access
log of a patient for the audit administrator, the room registry per village with the 建成率,
and the training attendance grid with certificates of hours.

Every id-taking page reaches its case through ``shidian.cases.access`` (need-to-know
included: outsiders get 404 and opening a patient is logged) or, for the access log, through
``needtoknow.access_case_for_audit``."""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shidian.cases import access, followups, needtoknow
from shidian.cases.definitions import case_type_get
from shidian.cases.engine import parse_date
from shidian.cases.models import Case
from shidian.core.errors import ErrorCode, ShidianError
from shidian.orgs.models import User
from shidian.packs.psych import figures, selectors, services
from shidian.web.views.cases import _not_found

PATIENT, ROOM, TRAINEE = figures.PATIENT, figures.ROOM, services.TRAINEE


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _programme(request: HttpRequest, programme_id: int, case_type: str) -> Any:
    programme = access.access_programme_by_id(user=_user(request), programme_id=programme_id)
    if programme.case_type != case_type:
        raise Http404(_("Not found."))
    return programme


def _case(request: HttpRequest, case_id: int, case_type: str) -> Case:
    case = access.access_case_by_id(user=_user(request), case_id=case_id)
    if case.case_type != case_type:
        raise Http404(_("Not found."))
    return case


def _error(request: HttpRequest, err: ShidianError) -> None:
    messages.error(request, err.message)
    for field, text in (err.extra.get("errors") or {}).items():
        messages.error(request, f"{field}: {text}")


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "web/psych/home.html", {
        "programmes": selectors.programmes(user=_user(request))})


@login_required
@require_GET
@_not_found
def followup_board(request: HttpRequest, programme_id: int) -> HttpResponse:
    programme = _programme(request, programme_id, PATIENT)
    user = _user(request)
    today = timezone.localdate()
    # Missed visits of the patients this user may know go to their teams' inboxes (once).
    services.missed_visits_notify(today=today, cases=access.cases_visible_to(user=user).filter(
        programme=programme))
    rows = selectors.followup_board(user=user, programme=programme, today=today)
    needtoknow.log_list_view(user=user, cases=[r["case"] for r in rows], what="followup_board")
    return render(request, "web/psych/followups.html", {
        "programme": programme, "rows": rows, "today": today,
        "missed": sum(1 for r in rows if r["missed"]),
        "counts": selectors.counts(user=user, programme=programme, today=today),
        "schedule": followups.followup_of(case_type_get(PATIENT))})


@login_required
@require_GET
@_not_found
def patient(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case(request, case_id, PATIENT)
    definition = case_type_get(PATIENT)
    schedule = followups.followup_of(definition)
    return render(request, "web/psych/patient.html", {
        "case": case, **selectors.patient(case=case), "fields": schedule.fields,
        "today": timezone.localdate(),
        "can_audit": needtoknow.may_audit(_user(request), needtoknow.team_def(definition),
                                          case.division_id)})


@login_required
@require_POST
@_not_found
def visit_record(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case(request, case_id, PATIENT)
    schedule = followups.followup_of(case_type_get(PATIENT))
    values = {f.key: request.POST.get(f.key, "") for f in schedule.fields}
    try:
        visited_on = parse_date(request.POST.get("visited_on", ""))
    except ValueError:
        messages.error(request, _("Give the day of the visit as a date (2021-05-03)."))
        return redirect("psych:patient", case_id=case.pk)
    try:
        _made, following = followups.visit_record(user=_user(request), case_id=case.pk,
                                                  visited_on=visited_on, values=values)
    except ShidianError as err:
        if err.code == ErrorCode.NOT_FOUND:
            raise Http404(_("Not found.")) from err
        _error(request, err)
    else:
        messages.success(request, _("Visit recorded; the next one is due on %(day)s.") % {
            "day": following.due_on.isoformat() if following else "—"})
    return redirect("psych:patient", case_id=case.pk)


@login_required
@require_POST
@_not_found
def team_add(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case(request, case_id, PATIENT)
    member = User.objects.filter(username=request.POST.get("username", "").strip(),
                                 is_active=True).first()
    if member is None:
        messages.error(request, _("No active user with this user name."))
        return redirect("psych:patient", case_id=case.pk)
    try:
        needtoknow.member_add(user=_user(request), case=case, member=member,
                              duty=request.POST.get("duty", ""))
    except ShidianError as err:
        _error(request, err)
    else:
        messages.success(request, _("%(name)s joined the case team.") % {
            "name": member.display_name or member.username})
    return redirect("psych:patient", case_id=case.pk)


@login_required
@require_POST
@_not_found
def team_remove(request: HttpRequest, case_id: int, member_id: int) -> HttpResponse:
    case = _case(request, case_id, PATIENT)
    try:
        needtoknow.member_remove(user=_user(request), case=case, member_id=member_id)
    except ShidianError as err:
        _error(request, err)
    return redirect("psych:patient", case_id=case.pk)


@login_required
@require_GET
@_not_found
def access_log(request: HttpRequest, case_id: int) -> HttpResponse:
    """Who opened the patient's record, for the audit administrator (no health data)."""
    case = needtoknow.access_case_for_audit(user=_user(request), case_id=case_id)
    return render(request, "web/psych/access_log.html", {
        "case": case, "entries": needtoknow.access_log(case)})


@login_required
@require_http_methods(["GET", "POST"])
@_not_found
def rooms(request: HttpRequest, programme_id: int) -> HttpResponse:
    programme = _programme(request, programme_id, ROOM)
    user = _user(request)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "figures":
                changed = services.figures_refresh(user=user, programme=programme,
                                                   today=timezone.localdate())
                messages.success(request, _("%(n)s figures updated.") % {"n": changed})
            else:
                added = services.rooms_register_villages(user=user, programme=programme)
                messages.success(request, _("%(n)s villages added to the registry.") % {
                    "n": added})
        except ShidianError as err:
            _error(request, err)
        return redirect("psych:rooms", programme_id=programme.pk)
    try:
        day = parse_date(request.GET["day"]) if request.GET.get("day") else (
            timezone.localdate())
    except ValueError:
        day = timezone.localdate()
    return render(request, "web/psych/rooms.html", {
        "programme": programme, "day": day,
        **selectors.room_registry(user=user, programme=programme, day=day),
        "targets": figures.room_targets(programme=programme, day=day),
        "can_register": access.can_run_programme(user, programme.division_id or "")})


@login_required
@require_GET
@_not_found
def training(request: HttpRequest, programme_id: int) -> HttpResponse:
    programme = _programme(request, programme_id, TRAINEE)
    return render(request, "web/psych/training.html", {
        "programme": programme, **selectors.training_grid(user=_user(request),
                                                          programme=programme)})


@login_required
@require_GET
@_not_found
def certificate(request: HttpRequest, case_id: int) -> HttpResponse:
    try:
        name, content = services.certificate_docx(user=_user(request), case_id=case_id,
                                                  dated=timezone.localdate())
    except ShidianError as err:
        if err.code == ErrorCode.NOT_FOUND:
            raise
        messages.error(request, err.message)
        return redirect("cases:detail", case_id=case_id)
    response = HttpResponse(content, content_type=(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"))
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return response
