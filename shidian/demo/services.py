"""Load the demo: the seed plans under their programmes, agencies, users and some reports.

Everything goes through the product's own services (import, publish, report submission), so
the demo shows what a county office would see after a month of use. Safe to run twice: what
exists is kept, what is missing is added.
"""
from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from django.db import transaction

from shidian.indicators.demo import indicators_demo_load
from shidian.orgs.models import Agency, AgencyKind, Division, Role, User
from shidian.orgs.services import agency_create, divisions_load, user_create
from shidian.planparse import parse_file
from shidian.plans.models import Plan, Programme, TaskUnit, UnitRole
from shidian.plans.services import plan_import_file, plan_link_parent, plan_publish
from shidian.plans.services import programme_create
from shidian.reporting.cycles import rule_of
from shidian.reporting.models import CycleKind, ProgressReport
from shidian.reporting.services import ReportInput, cycle_set, report_submit

from .logins import DEMO_PASSWORD
from .oversight import oversight_demo_load
from .security import security_demo_load
from .selection import selection_demo_load

DEMO_DIR = Path(__file__).resolve().parent
SEED_DIR = DEMO_DIR / "seed_plans"
SHANGHAI = ZoneInfo("Asia/Shanghai")

# Names that stand for many bodies or for none in particular: a plan may make them doers,
# but no agency of that name can be registered.
COLLECTIVE_PREFIXES = ("各", "有关", "相关", "当地", "本地", "其他", "其它")
COLLECTIVE_INFIXES = ("等", "各级")
KIND_WORDS = [
    (AgencyKind.PARTY, ("宣传部", "组织部", "统战部", "政法委", "党委", "党校", "纪委", "编办",
                        "市委", "区委", "县委", "文明办", "网信办", "领导小组")),
    (AgencyKind.MASS_ORG, ("团委", "妇联", "工会", "残联", "科协", "红十字会", "共青团")),
    (AgencyKind.INSTITUTION, ("医院", "学校", "学院", "中心", "卫生院", "大学", "研究院")),
    (AgencyKind.ENTERPRISE, ("公司", "企业", "集团")),
]


@dataclass
class DemoResult:
    divisions: int = 0
    plans_added: list[str] = field(default_factory=list)
    agencies_added: int = 0
    users_added: list[str] = field(default_factory=list)
    reports_added: int = 0


def agency_kind_of(name: str) -> str:
    for kind, words in KIND_WORDS:
        if any(word in name for word in words):
            return kind
    return AgencyKind.GOVERNMENT


def is_registrable_unit(name: str) -> bool:
    """Whether a unit name as a plan writes it can be one registered agency."""
    name = name.strip()
    if len(name) < 2 or name.startswith(COLLECTIVE_PREFIXES):
        return False
    return not any(word in name for word in COLLECTIVE_INFIXES)


def demo_load(*, log: Callable[[str], None] = print, with_villages: bool = True) -> DemoResult:
    result = DemoResult()
    if not Division.objects.exists():
        log("载入行政区划……")
        loaded = divisions_load(levels=5 if with_villages else 4)
        result.divisions = loaded.created
    admin = _demo_user(result, "demo_admin", Role.ADMIN, None, (), "系统管理员", superuser=True)
    definition = yaml.safe_load((DEMO_DIR / "seeds.yaml").read_text(encoding="utf-8"))
    plans_by_stem: dict[str, Plan] = {}
    for programme_def in definition["programmes"]:
        programme = (Programme.objects.filter(name=programme_def["name"]).first()
                     or programme_create(user=admin, name=programme_def["name"],
                                         domain=programme_def["domain"]))
        for plan_def in programme_def["plans"]:
            plan = _demo_plan(result, admin, programme, plan_def, log)
            plans_by_stem[Path(plan_def["file"]).stem] = plan
    for programme_def in definition["programmes"]:
        for plan_def in programme_def["plans"]:
            parent = plans_by_stem.get(plan_def.get("parent") or "")
            plan = plans_by_stem[Path(plan_def["file"]).stem]
            if parent is not None and plan.parent_id != parent.pk:
                plan_link_parent(user=admin, plan=plan, parent=parent)
    _demo_people(result, plans_by_stem, definition)
    for programme_def in definition["programmes"]:
        for plan_def in programme_def["plans"]:
            if plan_def.get("reporting"):
                plan = plans_by_stem[Path(plan_def["file"]).stem]
                _demo_reports(result, admin, plan, plan_def["reporting"])
    log(indicators_demo_load(actor=admin, log=log))
    _demo_cases(result, log)
    selection_demo_load(log=log)
    oversight_demo_load(log=log)
    security_demo_load(log=log)
    return result


# Households of the demo's renovation programme: (head, birth date, poverty category, moves).
DEMO_HOUSEHOLDS = [
    ("王德明", "19580312", "dibao", ["accept", "submit_review"]),
    ("李秀芬", "19620705", "wubao", ["accept", "submit_review"]),
    ("张国强", "19550120", "jdlk", ["accept"]),
    ("陈建华", "19700816", "disabled", ["accept"]),
    ("刘玉兰", "19490302", "wubao", ["accept"]),
    ("杨志勇", "19661111", "dibao", []),
    ("赵桂英", "19530927", "jdlk", []),
    ("黄明福", "19680430", "other_poor", []),
]
DEMO_CASE_VILLAGE = "510521100015"  # 大田社区, 玉蟾街道, 泸县


def demo_pdf(text: str) -> bytes:
    """A minimal one-page PDF standing in for a scanned paper."""
    return (f"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\n% {text}\ntrailer<<>>\n%%EOF\n"
            .encode())


def _demo_cases(result: DemoResult, log: Callable[[str], None]) -> None:
    """A 泸县 renovation programme with households at the first stages of 07a's workflow."""
    from shidian.cases.models import CaseProgramme
    from shidian.cases.services import case_create, case_transition, document_add
    from shidian.cases.services import programme_create as case_programme_create
    from shidian.core.crypto import id_number_make

    if not Division.objects.filter(pk=DEMO_CASE_VILLAGE).exists():
        log("未载入村级区划，跳过农房改造演示")
        return
    if CaseProgramme.objects.filter(name="泸县2026年农村危房改造").exists():
        return
    office = User.objects.get(username="demo_office_510521")
    admin = User.objects.get(username="demo_admin")
    worker = _demo_user(result, "demo_caseworker_village", Role.CASE_WORKER,
                        Division.objects.get(pk=DEMO_CASE_VILLAGE), (), "大田社区经办人",
                        actor=admin)
    with transaction.atomic():
        programme = case_programme_create(user=office, name="泸县2026年农村危房改造",
                                          case_type="housing", division_code="510521",
                                          year=2026, table="shandong-2016")
        for serial, (name, born, category, moves) in enumerate(DEMO_HOUSEHOLDS, start=1):
            case = case_create(user=worker, programme=programme, values={
                "head_name": name,
                "head_id_number": id_number_make(f"510521{born}{serial * 2 + 1:03d}"),
                "village": DEMO_CASE_VILLAGE, "poverty_categories": [category],
                "area_before": str(40 + serial * 3), "phone": f"1380000{serial:04d}",
                "bank_name": "泸县农村信用社", "bank_account": f"62146701000{serial:08d}",
                "members": []})
            if moves:  # the application's papers, scanned (a one-page PDF stands in)
                for kind, label in (("application", "农户申请书"), ("identity", "身份证件及户口簿"),
                                    ("poverty_proof", "低保五保证明")):
                    document_add(user=worker, case_id=case.pk, kind=kind,
                                 name=f"{name}{label}.pdf", content=demo_pdf(f"{name} {label}"))
            for move in moves:
                case_transition(user=worker, case_id=case.pk, transition=move)
    log(f"农房改造演示：{len(DEMO_HOUSEHOLDS)} 户")


def _demo_plan(result: DemoResult, admin: User, programme: Programme, plan_def: dict,
               log: Callable[[str], None]) -> Plan:
    path = SEED_DIR / plan_def["file"]
    existing = Plan.objects.filter(programme=programme, source_name=path.name).first()
    if existing is not None:
        return existing
    division = Division.objects.get(pk=plan_def["division"]) if plan_def["division"] else None
    log(f"导入 {path.name} ……")
    with transaction.atomic():  # an interrupted demo leaves no half-imported plan behind
        if division is not None:
            _register_units(result, admin, division, path)
        with path.open("rb") as handle:
            plan = plan_import_file(user=admin, programme=programme, division=division,
                                    file_name=path.name, file=handle, size=path.stat().st_size)
        if plan.tasks.exists():  # a plan with goals and phases only stays a draft
            plan_publish(user=admin, plan=plan, note="演示数据", accept_unresolved=True)
    result.plans_added.append(plan.title)
    return plan


def _register_units(result: DemoResult, admin: User, division: Division, path: Path) -> None:
    """Register the agencies a plan names, as the county would have before importing it."""
    draft = parse_file(path)
    for canonical, written in draft.unit_index.items():
        names = [n for n in dict.fromkeys([*written, canonical]) if is_registrable_unit(n)]
        if not names:
            continue
        name = max(names, key=len)  # the fullest spelling is the registered name
        if Agency.objects.filter(division=division, name=name).exists():
            continue
        aliases = [n for n in names if n != name]
        agency_create(actor=admin, name=name[:128], division=division,
                      kind=agency_kind_of(name), aliases=aliases)
        result.agencies_added += 1


def _demo_user(result: DemoResult, username: str, role: str, division: Division | None,
               agencies: tuple[Agency, ...], display_name: str, *, actor: User | None = None,
               superuser: bool = False) -> User:
    existing = User.objects.filter(username=username).first()
    if existing is not None:
        return existing
    if actor is None:
        user = User(username=username, role=role, division=division, display_name=display_name,
                    is_superuser=superuser, is_staff=True)
        user.set_password(DEMO_PASSWORD)
        user.save()
    else:
        user = user_create(actor=actor, username=username, password=DEMO_PASSWORD, role=role,
                           division=division, agencies=agencies, display_name=display_name)
    result.users_added.append(username)
    return user


def _demo_people(result: DemoResult, plans: dict[str, Plan], definition: dict) -> None:
    admin = User.objects.get(username="demo_admin")

    def add(username: str, role: str, division_code: str | None, display: str,
            agencies: tuple[Agency, ...] = ()) -> None:
        division = Division.objects.get(pk=division_code) if division_code else None
        _demo_user(result, username, role, division, agencies, display, actor=admin)

    add("demo_office", Role.OFFICE, None, "部试点办公室")
    add("demo_leader", Role.LEADER, None, "分管领导")
    add("demo_expert", Role.EXPERT, None, "评审专家")
    for stem, plan in plans.items():
        plan_def = next(p for g in definition["programmes"] for p in g["plans"]
                        if Path(p["file"]).stem == stem)
        if plan.division_id is None or not (plan_def.get("reporting") or plan_def.get("office")):
            continue
        code = plan.division_id
        add(f"demo_office_{code}", Role.OFFICE, code, f"{plan.division.name}试点办公室")
        if not plan_def.get("reporting"):
            continue
        leads = (Agency.objects.filter(task_units__task__plan=plan,
                                       task_units__role=UnitRole.LEAD)
                 .distinct().order_by("name"))
        for number, agency in enumerate(leads, start=1):
            add(f"demo_liaison_{code}_{number:02d}", Role.LIAISON, code,
                f"{agency.name}联络员", (agency,))
    add("demo_caseworker", Role.CASE_WORKER, "510521100", "玉蟾街道经办人")
    pilot_division = Division.objects.get(pk="510521")
    pilot = Agency.objects.filter(division=pilot_division, name="泸县人民医院").first() \
        or agency_create(actor=admin, name="泸县人民医院", division=pilot_division,
                         kind=AgencyKind.PILOT_SITE)
    add("demo_pilot", Role.PILOT_SITE, "510521", "泸县人民医院试点联络员", (pilot,))


def _demo_reports(result: DemoResult, admin: User, plan: Plan, kind: str) -> None:
    """Reports of the lead units for the plan's last periods: most on time, some late, some
    missing, so the dashboard has something to show in every panel."""
    if ProgressReport.objects.filter(task__plan=plan).exists():
        return
    cycle_set(user=admin, plan_id=plan.pk, kind=CycleKind(kind), due_day=25, grace_days=10,
              starts_on=plan.period_start)
    rule = rule_of(plan)
    today = (plan.period_end or datetime.now(SHANGHAI).date())
    periods = list(reversed(rule.recent_periods(today, 3)))
    chooser = random.Random(plan.pk)  # the same demo every time
    units = (TaskUnit.objects.filter(task__plan=plan, role=UnitRole.LEAD, agency__isnull=False)
             .select_related("task", "agency").order_by("task__order"))
    for index, period in enumerate(periods):
        latest = index == len(periods) - 1
        for unit in units:
            liaison = unit.agency.users.filter(role=Role.LIAISON).first()
            if liaison is None or chooser.random() < (0.45 if latest else 0.15):
                continue
            late = chooser.random() < 0.2
            day = rule.due_date(period) + timedelta(days=chooser.randint(1, 6) if late
                                                    else -chooser.randint(0, 8))
            now = datetime.combine(day, time(10, 30), tzinfo=SHANGHAI)
            percent = min(100, 30 + 25 * index + chooser.randint(0, 20))
            with transaction.atomic():
                report_submit(user=liaison, task_id=unit.task_id, agency_id=unit.agency_id,
                              period=period.id, now=now, data=ReportInput(
                                  percent=percent,
                                  done=f"按照方案要求推进“{unit.task.title[:30]}”，"
                                       f"{period.label}完成阶段工作。",
                                  problems="基层人员力量不足。" if chooser.random() < 0.3 else "",
                                  next_steps="继续推进，按时完成。"))
            result.reports_added += 1
