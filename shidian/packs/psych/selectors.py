"""Reads of the psych pack's pages: the follow-up board, the patient with its visits and
team, the room registry per village with its rates, and the training attendance grid.

Everything goes through ``shidian.cases.access`` (the need-to-know gate included): a user
sees names only of patients whose team they are on (or whose responsible doctor is of their
institution); everyone else in scope gets counts (``counts``)."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from shidian.cases import access as case_access
from shidian.cases import followups, needtoknow
from shidian.cases.definitions import case_type_get
from shidian.cases.models import Case, CaseProgramme, FollowUp, Outcome
from shidian.cases.services import case_secrets
from shidian.orgs.models import Division, User

from .figures import PATIENT, ROOM, room_figures
from .rules import training_hours
from .services import TRAINEE, module_rows


def programmes(*, user: User) -> dict[str, list[CaseProgramme]]:
    found: dict[str, list[CaseProgramme]] = defaultdict(list)
    for programme in case_access.programmes_visible_to(user=user).filter(
            case_type__in=[ROOM, TRAINEE, PATIENT]).order_by("-year", "name"):
        found[programme.case_type].append(programme)
    return dict(found)


def followup_board(*, user: User, programme: CaseProgramme, today: dt.date
                   ) -> list[dict[str, Any]]:
    """The patients the user may know, each with the next visit, whether it is missed, and
    the latest visit's danger grade and flag; missed first, then by due day."""
    cases = case_access.cases_visible_to(user=user).filter(
        programme=programme, outcome=Outcome.OPEN).select_related("division")
    latest: dict[int, FollowUp] = {}
    for visit in FollowUp.objects.filter(case__in=cases, done_on__isnull=False).order_by(
            "case_id", "done_on", "id"):
        latest[visit.case_id] = visit
    due = {v.case_id: v for v in followups.visits_open(cases)}
    rows = []
    for case in cases:
        visit = due.get(case.pk)
        last = followups.visit_data(latest[case.pk]) if case.pk in latest else {}
        rows.append({
            "case": case, "name": case.subject_name,  # the mask (张**): a list
            "due_on": visit.due_on if visit else None,
            "missed": bool(visit and visit.due_on < today),
            "days_late": (today - visit.due_on).days if visit and visit.due_on < today else 0,
            "last_on": latest[case.pk].done_on if case.pk in latest else None,
            "grade": last.get("risk_grade"), "flag": last.get("flag", "")})
    rows.sort(key=lambda r: (not r["missed"], r["due_on"] or dt.date.max, r["case"].pk))
    return rows


def counts(*, user: User, programme: CaseProgramme, today: dt.date) -> list[dict[str, Any]]:
    """Per township: patients on the register and visits missed — numbers, no names."""
    rows = {r["division"]: {"division": r["division"], "patients": r["count"], "missed": 0}
            for r in needtoknow.confidential_counts(user=user, programme=programme, level=4,
                                                    stages=["managed", "closing"])}
    if not rows:
        return []
    missed = FollowUp.objects.filter(case__programme=programme, done_on__isnull=True,
                                     due_on__lt=today, case__stage__in=["managed", "closing"])
    for division_id in missed.values_list("case__division_id", flat=True):
        row = rows.get(division_id[:9])
        if row is not None:
            row["missed"] += 1
    names = dict(Division.objects.filter(code__in=list(rows)).values_list("code", "name"))
    for code, row in rows.items():
        row["name"] = names.get(code, code)
    return [rows[k] for k in sorted(rows)]


def patient(*, case: Case) -> dict[str, Any]:
    """The patient's page: the diagnosis from the envelope, the visits with their findings,
    the team. The caller has opened the case through the gate (and so logged the view)."""
    definition = case_type_get(case.case_type)
    schedule = followups.followup_of(definition)
    secrets = case_secrets(case)
    diagnosis = definition.field("diagnosis").choice_label(secrets.get("diagnosis") or "")
    visits = []
    for visit in followups.visits_of(case):
        data = followups.visit_data(visit)
        visits.append({"visit": visit, "late": bool(visit.done_on and visit.done_on >
                                                     visit.due_on),
                       "findings": [(str(f.label), _shown(f, data.get(f.key)))
                                    for f in schedule.fields if data.get(f.key) not in
                                    (None, "")],
                       "flag": data.get("flag", "")})
    # Need-to-know: whoever opened the case through the gate (and so was logged) is on its
    # team or of the responsible doctor's institution, and sees the names in full.
    people = {key: secrets.get(key) or case.data.get(key) or ""
              for key in (definition.subject_name, "guardian_name", "guardian_phone")}
    return {"diagnosis": diagnosis, "name": people[definition.subject_name],
            "guardian_name": people["guardian_name"],
            "guardian_phone": people["guardian_phone"],
            "visits": visits, "team": needtoknow.team_of(case),
            "duties": needtoknow.team_def(definition).duties, "schedule": schedule}


def _shown(f: Any, value: Any) -> str:
    if f.type == "choice":
        return f.choice_label(str(value))
    if f.type == "boolean":
        return "是" if value else "否"
    return str(value)


def room_registry(*, user: User, programme: CaseProgramme, day: dt.date
                  ) -> dict[str, Any]:
    """Per township and village: the village rooms and whether built by ``day``, the 建成率 of
    each township and of the user's area; the other rooms (schools, agencies) listed."""
    area = user.division_id or programme.division_id or ""
    if programme.division_id and not area.startswith(programme.division_id):
        area = programme.division_id
    rooms = list(case_access.cases_visible_to(user=user).filter(programme=programme)
                 .select_related("division").order_by("division_id", "id"))
    figures = room_figures(programme=programme, area=area, day=day)
    by_village: dict[str, list[Case]] = defaultdict(list)
    for room in rooms:
        by_village[room.division_id].append(room)
    names = dict(Division.objects.filter(code__in={c[:9] for c in figures} | set(figures))
                 .values_list("code", "name"))
    townships: dict[str, dict[str, Any]] = {}
    for code, row in sorted(figures.items()):
        town = townships.setdefault(code[:9], {"code": code[:9], "name": names.get(code[:9]),
                                               "villages": [], "built": 0, "total": 0})
        town["villages"].append({"code": code, "name": names.get(code, code),
                                 "built": bool(row["built"]),
                                 "rooms": by_village.get(code, [])})
        town["built"] += row["built"]
        town["total"] += 1
    for town in townships.values():
        town["rate"] = round(100 * town["built"] / town["total"], 1) if town["total"] else None
    built = sum(t["built"] for t in townships.values())
    total = sum(t["total"] for t in townships.values())
    return {"townships": list(townships.values()), "built": built, "total": total,
            "rate": round(100 * built / total, 1) if total else None,
            "others": [r for r in rooms if r.data.get("room_kind") != "village"]}


def training_grid(*, user: User, programme: CaseProgramme) -> dict[str, Any]:
    trainees = list(case_access.cases_visible_to(user=user).filter(programme=programme)
                    .exclude(outcome=Outcome.MERGED).select_related("division")
                    .order_by("division_id", "subject_name"))
    definition = case_type_get(TRAINEE)
    modules = [(c.key, str(c.label)) for c in definition.field("modules").choices]
    rows = []
    for case in trainees:
        cells = module_rows(case)
        rows.append({"case": case, "cells": cells,
                     "hours": training_hours(case.data.get("modules"),
                                             case.data.get("other_module_hours")),
                     "questionnaire": all(case.data.get(k) for k in (
                         "questionnaire_opinion", "questionnaire_case",
                         "questionnaire_reflection")),
                     "certified": case.stage == "certified"})
    attended = {key: sum(1 for r in rows for c in r["cells"] if c["key"] == key
                         and c["attended"]) for key, _label in modules}
    return {"modules": modules, "rows": rows, "attended": attended}
