"""Writes of the psych pack beyond the case engine's: the room registry's villages, and the
certificate of hours (培训学时证明, seed 12c) as a Word document."""
from __future__ import annotations

import datetime as dt

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
