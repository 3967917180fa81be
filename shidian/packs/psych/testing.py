"""Builders for the psych pack's tests: a township of 泸县 with five villages, the case team's
workers, outsiders, and the three programmes (rooms, trainees, patients)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from shidian.cases import services as case_services
from shidian.cases.models import CaseProgramme
from shidian.cases.testing import (COUNTY, OTHER_VILLAGE, TOWNSHIP, VILLAGE, id_number,
                                   make_case_divisions, make_worker)
from shidian.orgs.models import Agency, AgencyKind, Division, Role, User

VILLAGES = [VILLAGE, "510521100002", "510521100003", "510521100004", "510521100005"]
NAMES = ["玉蟾社区", "大田村", "龙池村", "石桥村", "白鹤村"]
HOSPITAL = "玉蟾街道社区卫生服务中心"


@dataclass
class World:
    office: User
    admin: User
    liaison: User
    grid: User  # the grid worker of 玉蟾社区, who registers the patient
    doctor: User  # the 精防医生 of the township health centre
    colleague: User  # another doctor of the same health centre (the institution)
    police: User
    township: User  # a township case worker not on the team
    other_village: User  # the case worker of another village of the township
    neighbour: User  # a case worker of another county
    rooms: CaseProgramme
    trainees: CaseProgramme
    patients: CaseProgramme
    hospital: Agency


def make_villages() -> None:
    make_case_divisions()
    for code, name in zip(VILLAGES, NAMES, strict=True):
        Division.objects.get_or_create(code=code, defaults={
            "name": name, "level": 5, "parent_id": TOWNSHIP})


def make_world(year: int = 2020) -> World:
    make_villages()
    hospital, _ = Agency.objects.get_or_create(
        name=HOSPITAL, division_id=TOWNSHIP, defaults={"kind": AgencyKind.INSTITUTION})
    doctor = make_worker("jingfang", division_code=TOWNSHIP)
    colleague = make_worker("jingfang2", division_code=TOWNSHIP)
    for user in (doctor, colleague):
        user.agencies.set([hospital])
    office = make_worker("xianban", role=Role.OFFICE, division_code=COUNTY)
    world = World(
        office=office,
        admin=make_worker("anquan", role=Role.ADMIN, division_code=COUNTY),
        liaison=make_worker("lianluo", role=Role.LIAISON, division_code=COUNTY),
        grid=make_worker("wangge", division_code=VILLAGE),
        doctor=doctor, colleague=colleague,
        police=make_worker("minjing", division_code=TOWNSHIP),
        township=make_worker("zhen", division_code=TOWNSHIP),
        other_village=make_worker("dacun", division_code=VILLAGES[1]),
        neighbour=make_worker("gebi", division_code=OTHER_VILLAGE),
        rooms=_programme(office, "心理咨询室台账", "psych_room", year),
        trainees=_programme(office, "社会心理服务基层人员培训", "psych_trainee", year),
        patients=_programme(office, "严重精神障碍患者管理", "psych_patient", year),
        hospital=hospital)
    return world


def _programme(office: User, name: str, case_type: str, year: int) -> CaseProgramme:
    existing = CaseProgramme.objects.filter(case_type=case_type, name=f"{year}年{name}").first()
    return existing or case_services.programme_create(
        user=office, name=f"{year}年{name}", case_type=case_type, division_code=COUNTY,
        year=year, table="")


def patient_values(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "patient_name": "李建国",
        "patient_id_number": id_number(born=dt.date(1975, 4, 9)),
        "village": VILLAGE,
        "diagnosis": "schizophrenia",
        "guardian_name": "李秀兰",
        "guardian_phone": "13900002222",
        "consent": True,
    }
    values.update(overrides)
    return values
