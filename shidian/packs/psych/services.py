"""Writes of the psych pack beyond the case engine's: the room registry's villages, and the
certificate of hours (培训学时证明, seed 12c) as a Word document."""
from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from shidian.cases import access as case_access
from shidian.cases import services as case_services
from shidian.cases.definitions import case_type_get
from shidian.cases.models import Case, CaseProgramme
from shidian.core.errors import ErrorCode, ShidianError
from shidian.exports.docx import OfficialDocument, Section, official_docx
from shidian.orgs.models import Division, User

from .figures import ROOM, villages_open
from .rules import BASIC_HOURS, OPTIONAL_HOURS, attended, training_hours

TRAINEE = "psych_trainee"
REASON_NOT_CERTIFIED = "not_certified"


def rooms_register_villages(*, user: User, programme: CaseProgramme, area: str = "",
                            today: dt.date | None = None) -> int:
    """Put every village of the area on the room registry (未建成) that has no village room
    yet, so that the 建成率 counts every village; returns how many were added (0 the second
    time)."""
    if programme.case_type != ROOM:
        raise ShidianError(ErrorCode.INVALID, "not a room registry")
    area = area or programme.division_id or ""
    if not case_access.can_run_programme(user, area):
        raise ShidianError(ErrorCode.FORBIDDEN,
                           _("Only an office of this division may run a programme here."))
    day = today or dt.date.today()
    have = {c.division_id for c in Case.objects.filter(programme=programme).filter(
        case_access.prefix_q("division", area)) if c.data.get("room_kind") == "village"}
    names = dict(Division.objects.filter(level=5).filter(
        case_access.prefix_q("code", area)).values_list("code", "name"))
    added = 0
    with transaction.atomic():
        for code in villages_open(area, day):
            if code in have:
                continue
            case_services.case_create(user=user, programme=programme, today=today, values={
                "room_name": _("%(village)s counselling room") % {"village": names[code]},
                "village": code, "room_kind": "village"})
            added += 1
    return added


def module_rows(case: Case) -> list[dict[str, object]]:
    """The modules of the course with their hours and whether the trainee attended (and on
    which day), basic modules first."""
    definition = case_type_get(TRAINEE)
    modules = case.data.get("modules") or {}
    rows = []
    for choice in definition.field("modules").choices:
        entry = modules.get(choice.key) or {}
        hours = BASIC_HOURS.get(choice.key) or OPTIONAL_HOURS.get(choice.key)
        if choice.key == "other":
            hours = case.data.get("other_module_hours")
        rows.append({"key": choice.key, "label": str(choice.label), "hours": hours,
                     "basic": choice.key in BASIC_HOURS, "attended": bool(entry.get("ok")),
                     "date": entry.get("date") or ""})
    return rows


def certificate_docx(*, user: User, case_id: int, issuer: str = "",
                     dated: dt.date | None = None) -> tuple[str, bytes]:
    """The certificate of hours of a certified trainee: file name and Word bytes."""
    case = case_access.access_case_by_id(user=user, case_id=case_id)
    if case.case_type != TRAINEE or case.stage != "certified":
        raise ShidianError(ErrorCode.CONFLICT,
                           _("Only a trainee who completed the course gets a certificate."),
                           {"reason": REASON_NOT_CERTIFIED})
    done = attended(case.data.get("modules"))
    hours = training_hours(case.data.get("modules"), case.data.get("other_module_hours"))
    lines = [f"{r['label']}：{r['hours']}学时" for r in module_rows(case)
             if r["attended"] and r["hours"]]
    unit = case.data.get("unit") or ""
    body = _("%(name)s (%(unit)s) attended the grassroots training of the psychological "
             "services pilot: the eight basic modules and %(optional)s optional module(s), "
             "%(hours)s class hours in all, and completed the questionnaire.") % {
        "name": case.subject_name, "unit": unit or "—",
        "optional": len(done - set(BASIC_HOURS)), "hours": hours}
    doc = OfficialDocument(
        title=_("Certificate of training hours"),
        subtitle=case.programme.name,
        sections=[Section(heading=body, paragraphs=[]),
                  Section(heading=_("Modules attended"), paragraphs=lines)],
        signature=issuer or case.programme.division.name if case.programme.division_id
        else issuer, dated=dated or dt.date.today())
    return f"培训学时证明-{case.subject_name}.docx", official_docx(doc)


def missed_visits_notify(*, today: dt.date, cases: Any = None) -> int:
    """Tell the team members who record visits (the 精防医生, the 网格员) in their oversight
    inbox about each newly missed visit, once (``followups.missed_note`` marks it; the
    message key is unique). The message names the case number and the due day, not the
    patient. Returns how many messages were written."""
    from shidian.oversight.models import Channel, Message, MessageKind, MessageStatus
    from django.urls import reverse
    from django.utils import timezone

    from shidian.cases import followups
    from shidian.cases.models import CaseMember

    from .figures import PATIENT

    schedule = followups.followup_of(case_type_get(PATIENT))
    if cases is None:
        cases = Case.objects.filter(case_type=PATIENT)
    missed = followups.missed_note(cases=cases, today=today)
    if not missed:
        return 0
    now = timezone.now()
    members = CaseMember.objects.filter(case_id__in=[v.case_id for v in missed],
                                        removed_at__isnull=True, duty__in=schedule.duties)
    by_case: dict[int, list[Any]] = {}
    for member in members.select_related("user"):
        by_case.setdefault(member.case_id, []).append(member.user)
    made = []
    for visit in missed:
        for user in by_case.get(visit.case_id, []):
            made.append(Message(
                key=f"psych:missed:{visit.pk}|inbox|u{user.pk}", event=f"psych:missed:{visit.pk}",
                kind=MessageKind.REMIND, level="red", channel=Channel.INBOX, recipient=user,
                subject=_("Follow-up missed: case %(number)s") % {"number": visit.case.number},
                body=_("The follow-up of case %(number)s was due on %(day)s and has not been "
                       "recorded.") % {"number": visit.case.number,
                                       "day": visit.due_on.isoformat()},
                link=reverse("psych:patient", args=[visit.case_id]),
                status=MessageStatus.SENT, sent_at=now))
    Message.objects.bulk_create(made, ignore_conflicts=True)
    return len(made)


def figures_refresh(*, user: User, programme: CaseProgramme, today: dt.date) -> int:
    """Set up the pack's indicators for the programme's area if needed and write this month's
    figures of its registries (the rooms, and the patients of the same area and year)."""
    from shidian.core.periods import PeriodKind, period_containing

    from . import figures

    if not programme.division_id or not case_access.can_run_programme(user,
                                                                      programme.division_id):
        raise ShidianError(ErrorCode.FORBIDDEN,
                           _("Only an office of this division may run a programme here."))
    data_set = figures.indicators_setup(user=user, division=programme.division)
    patients = CaseProgramme.objects.filter(case_type=figures.PATIENT, year=programme.year,
                                            division_id=programme.division_id).first()
    period = period_containing(today, PeriodKind.MONTH).id
    return figures.figures_push(user=user, data_set=data_set, period=period,
                                rooms=programme if programme.case_type == figures.ROOM
                                else None, patients=patients)
