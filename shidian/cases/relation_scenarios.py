"""Runs a pack's relation scenarios (parties, agreements, schedules, assessments, transfers,
funds) for its ``tests.py``: named institutions and users, then steps carried out through the
services as those users, each with its expected refusal (``fails: <reason>``) or outcome.

    case_type: apprentice
    programme: {division: "5105", year: 2016}
    agencies: {school: {name: 乾县职业教育中心, division: "510521"}}
    users: {clerk: {role: pilot_site, division: "510521", agencies: [school]}}
    setup: [...]    # optional steps shared by scenarios (through a YAML anchor), run first
    steps:
      - {as: clerk, register: {student_name: 张三, born: 2000-03-01}, case: a}
      - {as: clerk, party: {key: li, role: mentor, name: 李师傅}}
      - {as: clerk, assign: {case: a, role: mentor, party: li}}
      - {as: clerk, sign: {case: a, agreement: training, signed: 2016-11-07,
                           by: [subject, school, enterprise]}, fails: parties}
      - {expect: {case: a, stage: training, visible_to: [clerk], hidden_from: [other]}}
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from shidian.core.errors import ShidianError
from shidian.orgs.models import Agency, AgencyKind, Role, User

from . import access, funds, parties, schedules, services, transfers
from .definitions import CaseTypeDef
from .models import Case, CaseProgramme, EventKind
from .relation_models import CaseTransfer, Party
from .testing import PNG, id_number, make_case_divisions, make_worker


def _date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def _weekdays(start: dt.date, end: dt.date) -> list[dt.date]:
    days, day = [], start
    while day <= end:
        if day.weekday() < 5:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


class Run:
    """The state of one scenario: its programmes, institutions, users, cases and parties."""

    def __init__(self, case_type: CaseTypeDef, scenario: dict[str, Any]):
        make_case_divisions()
        self.case_type = case_type
        self.scenario = scenario
        self.agencies: dict[str, Agency] = {}
        for key, spec in (scenario.get("agencies") or {}).items():
            self.agencies[key], _ = Agency.objects.get_or_create(
                name=spec["name"], division_id=str(spec["division"]),
                defaults={"kind": spec.get("kind", AgencyKind.INSTITUTION)})
        self.users: dict[str, User] = {}
        for key, spec in (scenario.get("users") or {}).items():
            user = make_worker(f"s-{key}", role=spec.get("role", Role.CASE_WORKER),
                               division_code=spec.get("division"))
            user.agencies.set([self.agencies[a] for a in spec.get("agencies") or []])
            self.users[key] = user
        self.programmes: dict[str, CaseProgramme] = {}
        self.cases: dict[str, Case] = {}
        self.parties: dict[str, Party] = {}

    def programme(self, case_type: str | None = None) -> CaseProgramme:
        key = case_type or self.case_type.key
        if key not in self.programmes:
            spec = self.scenario.get("programme") or {}
            self.programmes[key] = CaseProgramme.objects.create(
                name=f"{spec.get('year', 2020)} {key}", case_type=key,
                division_id=str(spec.get("division", "51")), year=int(spec.get("year", 2020)),
                table=spec.get("tables", {}).get(key, ""), params={})
        return self.programmes[key]

    def register(self, user: User, raw: dict[str, Any], today: dt.date) -> Case:
        from .definitions import case_type_get

        raw = dict(raw)
        case_type = case_type_get(raw.pop("case_type", self.case_type.key))
        born = raw.pop("born", None)
        owner = raw.pop("owned_by", None)
        if born is not None and case_type.subject_id:
            raw[case_type.subject_id] = id_number(born=_date(born))
        programme = self.programme(case_type.key)
        if owner:
            return transfers.case_create_owned(user=user, programme=programme, values=raw,
                                               agency_id=self.agencies[owner].pk, today=today)
        return services.case_create(user=user, programme=programme, values=raw, today=today)

    def step(self, step: dict[str, Any], today: dt.date) -> None:
        user = self.users.get(step.get("as", ""))
        if "register" in step:
            self.cases[step.get("case", "a")] = self.register(user, step["register"], today)
        elif "set" in step:
            spec = dict(step["set"])
            case = self.cases[spec.pop("case", "a")]
            services.case_update(user=user, case_id=case.pk, values=spec, today=today)
        elif "upload" in step:
            spec = step["upload"]
            for kind in spec["kinds"]:
                services.document_add(user=user, case_id=self.cases[spec.get("case", "a")].pk,
                                      kind=kind, name=f"{kind}.png", content=PNG)
        elif "party" in step:
            spec = dict(step["party"])
            key = spec.pop("key")
            born = spec.pop("born", None)
            agency = spec.pop("agency", None)
            self.parties[key] = parties.party_register(
                user=user, programme=self.programme(), role=spec["role"], name=spec["name"],
                division_code=str(spec.get("division") or user.division_id),
                agency_id=self.agencies[agency].pk if agency else None,
                id_number=id_number(born=_date(born)) if born else "", today=today)
        elif "assign" in step:
            spec = step["assign"]
            parties.party_assign(user=user, case_id=self.cases[spec["case"]].pk,
                                 role=spec["role"], party_id=self.parties[spec["party"]].pk)
        elif "sign" in step:
            spec = step["sign"]
            parties.agreement_sign(user=user, case_id=self.cases[spec["case"]].pk,
                                   kind=spec["agreement"], signed_on=_date(spec["signed"]),
                                   signatories=spec["by"], today=today)
        elif "schedule" in step:
            spec = step["schedule"]
            definition = schedules.schedule_def(self.case_type)
            periods = spec.get("periods") or schedules.periods_from_template(
                definition, spec["template"], _date(spec["start"]))
            schedules.schedule_set(user=user, case_id=self.cases[spec["case"]].pk,
                                   periods=periods)
        elif "attend" in step:
            spec = step["attend"]
            case = self.cases[spec["case"]]
            entries = []
            for period in (case.periods.all() if "absent_every" in spec else []):
                days = _weekdays(period.starts_on, min(period.ends_on, today))
                absent = set(spec.get("absent_every") and days[::int(spec["absent_every"])]
                             or [])
                entries += [{"on": d, "status": "absent" if d in absent else "present"}
                            for d in days]
            entries += [{"on": _date(e["day"]), "status": e["status"]}
                        for e in spec.get("entries") or []]
            schedules.attendance_record(user=user, case_id=case.pk, entries=entries,
                                        today=today)
        elif "assess" in step:
            spec = step["assess"]
            schedules.assessment_record(user=user, case_id=self.cases[spec["case"]].pk,
                                        kind=spec["assessment"], assessor_role=spec["assessor"],
                                        score=spec["score"], assessed_on=today, today=today)
        elif "do" in step:
            spec = step["do"]
            services.case_transition(user=user, case_id=self.cases[spec["case"]].pk,
                                     transition=spec["transition"],
                                     reason=spec.get("reason", ""), today=today)
        elif "refer" in step:
            spec = step["refer"]
            transfers.transfer_request(user=user, case_id=self.cases[spec["case"]].pk,
                                       to_agency_id=self.agencies[spec["to"]].pk,
                                       reason=spec.get("reason", ""))
        elif "decide" in step:
            spec = step["decide"]
            record = CaseTransfer.objects.filter(case=self.cases[spec["case"]]).latest("id")
            transfers.transfer_decide(user=user, transfer_id=record.pk,
                                      accept=bool(spec["accept"]), note=spec.get("note", ""))
        elif "reveal" in step:
            spec = step["reveal"]
            value = services.case_reveal(user=user, case_id=self.cases[spec["case"]].pk,
                                         field_key=spec["field"])
            assert value == spec["value"], f"revealed {value!r}"
        elif "fund" in step:
            spec = step["fund"]
            funds.fund_record(user=user, programme=self.programme(),
                              division_code=str(spec.get("division") or user.division_id),
                              direction=spec["direction"], category=spec["category"],
                              amount=spec["amount"], on=_date(spec["day"]))
        elif "expect" not in step:
            raise AssertionError(f"unknown step {step}")

    def expect(self, expect: dict[str, Any], where: str) -> None:
        case = Case.objects.get(pk=self.cases[expect.get("case", "a")].pk)
        for key, wanted in expect.items():
            if key == "case":
                continue
            if key == "agency":
                assert case.agency_id == self.agencies[wanted].pk, (
                    f"{where}: owned by {case.agency}, expected {wanted}")
            elif key in ("visible_to", "hidden_from"):
                for name in wanted:
                    seen = access.cases_visible_to(user=self.users[name]).filter(
                        pk=case.pk).exists()
                    assert seen == (key == "visible_to"), f"{where}: {name} sees it: {seen}"
            elif key == "pii_views":
                got = case.events.filter(kind=EventKind.PII_VIEW).count()
                assert got == wanted, f"{where}: {got} full views logged"
            elif key == "masked":
                for name, value in wanted.items():
                    assert case.data.get(name) == services.SENSITIVE_MASK, f"{where}: {name}"
                    assert value not in case.pii and value not in str(case.data), where
                    assert services.case_secrets(case)[name] == value, where
            elif key == "signatories":
                got = sorted(s["role"] for s in case.agreements.get().signatories)
                assert got == sorted(wanted), f"{where}: signed by {got}"
            else:
                got = getattr(case, key)
                assert got == wanted, f"{where}: {key} is {got!r}, expected {wanted!r}"


def run_relation_scenario(case_type: CaseTypeDef, scenario: dict[str, Any]) -> Run:
    run = Run(case_type, scenario)
    today = _date(scenario.get("today")) or dt.date(2020, 1, 1)
    steps = list(scenario.get("setup") or []) + list(scenario["steps"])
    for number, step in enumerate(steps, start=1):
        today = _date(step.get("date")) or today
        where = f"step {number} {step}"
        try:
            run.step(step, today)
        except ShidianError as exc:
            if step.get("fails") != exc.extra.get("reason"):
                raise AssertionError(f"{where}: refused with {exc.extra.get('reason')}: "
                                     f"{exc.message}") from exc
            if step.get("message"):
                assert step["message"] in exc.message, f"{where}: said {exc.message!r}"
        else:
            assert "fails" not in step, f"{where}: expected a refusal ({step['fails']})"
        if "expect" in step:
            run.expect(step["expect"], where)
    return run
