"""Builders for reporting tests (reporting, exports, web, api): two counties, their units,
liaisons and offices, a published plan with a monthly cycle (每月25日前, open 10 days more).

Real names (泸县 and 合江县 of 泸州市) so pages and exports read like the product.
"""
from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.core.files.uploadedfile import SimpleUploadedFile

from shidian.orgs.models import Agency, Role, User
from shidian.orgs.testing import make_agency, make_user
from shidian.plans.models import Phase, Plan, Task
from shidian.plans.testing import make_plan

from .models import CycleKind, ReportingCycle

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: date, hour: int = 10) -> datetime:
    """A moment on ``day`` in Beijing time (reports are judged by the local date)."""
    return datetime.combine(day, time(hour), tzinfo=SHANGHAI)


@dataclass
class World:
    health: Agency          # 泸县卫生健康局: leads task 1 and 2
    civil: Agency           # 泸县民政局: responsible on task 1, leads task 3
    finance: Agency         # 泸县财政局: responsible on task 2
    other_health: Agency    # 合江县卫生健康局: the other county's unit
    liaison_health: User
    liaison_civil: User
    liaison_finance: User
    liaison_other: User
    office: User            # 泸县 plan office
    office_other: User      # 合江县 plan office
    leader: User            # 泸州市 leader (sees both counties)
    plan: Plan
    other_plan: Plan
    tasks: list[Task]
    other_task: Task


def make_world() -> World:
    health = make_agency("泸县卫生健康局", "510521", aliases=("县卫健局",))
    civil = make_agency("泸县民政局", "510521")
    finance = make_agency("泸县财政局", "510521")
    other_health = make_agency("合江县卫生健康局", "510522")
    plan = make_plan("泸县安宁疗护试点工作实施方案", "510521", tasks=[
        {"title": "建立安宁疗护服务体系", "leads": (health,), "units": (civil,),
         "deadline": date(2021, 6, 30)},
        {"title": "落实安宁疗护收费政策", "leads": (health,), "units": (finance,),
         "deadline": date(2021, 12, 31)},
        {"title": "开展困难群众救助", "leads": (civil,), "units": (),
         "deadline": date(2021, 9, 30)},
    ])
    plan.period_start, plan.period_end = date(2021, 1, 1), date(2022, 12, 31)
    plan.save(update_fields=["period_start", "period_end"])
    first = Phase.objects.create(plan=plan, order=0, name="启动部署阶段",
                                 start=date(2021, 1, 1), end=date(2021, 6, 30))
    second = Phase.objects.create(plan=plan, order=1, name="全面实施阶段",
                                  start=date(2021, 7, 1), end=date(2022, 6, 30))
    tasks = list(plan.tasks.order_by("order"))
    tasks[0].phase = first
    tasks[0].save(update_fields=["phase"])
    for task in tasks[1:]:
        task.phase = second
        task.save(update_fields=["phase"])
    ReportingCycle.objects.create(plan=plan, kind=CycleKind.MONTHLY, due_day=25, grace_days=10,
                                  starts_on=date(2021, 1, 1))
    other_plan = make_plan("合江县安宁疗护试点工作实施方案", "510522", tasks=[
        {"title": "合江县建立安宁疗护病区", "leads": (other_health,), "units": (),
         "deadline": date(2021, 6, 30)},
    ])
    ReportingCycle.objects.create(plan=other_plan, kind=CycleKind.MONTHLY, due_day=25,
                                  grace_days=10, starts_on=date(2021, 1, 1))
    return World(
        health=health, civil=civil, finance=finance, other_health=other_health,
        liaison_health=make_user("lx_wjj", agencies=(health,), division_code="510521"),
        liaison_civil=make_user("lx_mzj", agencies=(civil,), division_code="510521"),
        liaison_finance=make_user("lx_czj", agencies=(finance,), division_code="510521"),
        liaison_other=make_user("hj_wjj", agencies=(other_health,), division_code="510522"),
        office=make_user("lx_office", role=Role.OFFICE, division_code="510521"),
        office_other=make_user("hj_office", role=Role.OFFICE, division_code="510522"),
        leader=make_user("lz_leader", role=Role.LEADER, division_code="5105"),
        plan=plan, other_plan=other_plan, tasks=tasks, other_task=other_plan.tasks.get(),
    )


# -- files ----------------------------------------------------------------------------------
def pdf_bytes(text: str = "evidence") -> bytes:
    body = f"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\n% {text}\ntrailer<<>>\n%%EOF\n"
    return body.encode()


def png_bytes() -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    raw = b"\x00\xff\x00\x00"  # one red pixel
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def docx_bytes(text: str = "工作台账") -> bytes:
    from docx import Document

    document = Document()
    document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def fake_office_zip() -> bytes:
    """A ZIP that is neither a docx nor an xlsx."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        package.writestr("readme.txt", "not an office document")
    return out.getvalue()


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def ensure_catalogs() -> None:
    from shidian.core.testing import reload_catalogs

    reload_catalogs()
