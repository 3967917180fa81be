"""Builders for tests: seed 09 (共青团基层组织建设和基层工作试点) imported through the parser by
a national office, a call with its allocation table imported, and the people of a selection:
provincial offices of 四川 and 湖北 (and 北京), county youth-league committees applying, experts.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from shidian.orgs.models import LEVEL_BY_LENGTH, Agency, AgencyKind, Division, Role, User
from shidian.orgs.testing import make_agency, make_divisions, make_user
from shidian.plans.models import Plan, Programme

from .models import Call, Category, Condition, ConditionKind

SEED_09 = (Path(__file__).resolve().parent.parent / "demo" / "seed_plans"
           / "09-youth-league.txt")
SHANGHAI = ZoneInfo("Asia/Shanghai")
MORE_DIVISIONS = [
    ("510502", "江阳区", "5105"),
    ("11", "北京市", None),
    ("1101", "北京市市辖区", "11"),
    ("110101", "东城区", "1101"),
]
# Seed 02's review criteria (优先选择目标明确、方案完善、支持力度大、示范性强的申报单位).
SHEET = [("目标明确", 30), ("方案完善", 30), ("支持力度大", 20), ("示范性强", 20)]
COUNTY = "四、农村基层团组织建设试点"


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


def more_divisions() -> None:
    make_divisions()
    for code, name, parent in MORE_DIVISIONS:
        Division.objects.get_or_create(code=code, defaults={
            "name": name, "level": LEVEL_BY_LENGTH[len(code)], "parent_id": parent})


def import_seed_09(office: User) -> Plan:
    from shidian.plans.services import plan_import_file, plan_publish, programme_create

    programme = programme_create(user=office, name="共青团基层组织建设和基层工作试点",
                                 domain="共青团基层组织建设")
    with SEED_09.open("rb") as handle:
        plan = plan_import_file(user=office, programme=programme, division=None,
                                file_name=SEED_09.name, file=handle,
                                size=SEED_09.stat().st_size)
    plan_publish(user=office, plan=plan, accept_unresolved=True)
    return plan


@dataclass
class SelectionWorld:
    plan: Plan
    programme: Programme
    call: Call
    office: User                      # 团中央 (national office)
    office_sc: User                   # 四川 provincial office
    office_hb: User                   # 湖北 provincial office
    office_county: User               # 泸县 office: an outsider to the selection
    agencies: dict[str, Agency] = field(default_factory=dict)
    applicants: dict[str, User] = field(default_factory=dict)
    experts: list[User] = field(default_factory=list)
    expert_sc: User | None = None     # an expert scoped to 四川: must declare
    expert_own: User | None = None    # an expert acting for 共青团泸县委员会: excluded
    outsider_liaison: User | None = None

    def category(self, name: str, group: str = COUNTY) -> Category:
        return self.call.categories.get(group=group, name=name)


def make_selection_world(*, today: date = date(2009, 3, 1), with_call: bool = True
                         ) -> SelectionWorld:
    from . import services

    more_divisions()
    office = make_user("tzy_office", role=Role.OFFICE)
    plan = import_seed_09(office)
    world = SelectionWorld(
        plan=plan, programme=plan.programme, call=None,  # type: ignore[arg-type]
        office=office,
        office_sc=make_user("office_sichuan", role=Role.OFFICE, division_code="51"),
        office_hb=make_user("office_hubei", role=Role.OFFICE, division_code="42"),
        office_county=make_user("office_luxian", role=Role.OFFICE, division_code="510521"))
    for key, name, code in [
        ("luxian", "共青团泸县委员会", "510521"),
        ("hejiang", "共青团合江县委员会", "510522"),
        ("jiangyang", "共青团泸州市江阳区委员会", "510502"),
        ("jiangan", "共青团武汉市江岸区委员会", "420102"),
        ("coop", "泸县玉蟾蔬菜专业合作社团支部", "510521"),
        ("dongcheng", "共青团北京市东城区委员会", "110101"),
    ]:
        agency = make_agency(name, code, kind=AgencyKind.MASS_ORG)
        world.agencies[key] = agency
        world.applicants[key] = make_user(f"applicant_{key}", role=Role.LIAISON,
                                          division_code=code, agencies=(agency,))
    world.outsider_liaison = make_user("liaison_other", role=Role.LIAISON,
                                       division_code="510521",
                                       agencies=(make_agency("泸县民政局", "510521"),))
    world.experts = [make_user(f"expert_{n}", role=Role.EXPERT) for n in range(1, 6)]
    world.expert_sc = make_user("expert_sichuan", role=Role.EXPERT, division_code="51")
    world.expert_own = make_user("expert_luxian", role=Role.EXPERT, division_code="510521",
                                 agencies=(world.agencies["luxian"],))
    if with_call:
        world.call = make_call(world, today=today)
    return world


def make_call(world: SelectionWorld, *, today: date) -> Call:
    """The 2009 call: applications by 20 March, provinces forward by 31 March, the pilot runs
    a year from April 2009 (团中央决定自2009年4月起…开展为期一年的试点工作)."""
    from . import services

    call = services.call_create(user=world.office, plan_id=world.plan.pk, data=services.CallInput(
        title="共青团基层组织建设和基层工作试点申报", deadline=at(today + timedelta(days=19), 18),
        endorse_by=at(today + timedelta(days=30), 18),
        applicant_kinds=["团县(市、区、旗)委", "乡(镇)团委", "专业合作组织", "行业协会"],
        direct_kinds=["行业协会"],
        pilot_starts_on=date(2009, 4, 1), pilot_ends_on=date(2010, 3, 31)))
    services.quotas_import(user=world.office, call_id=call.pk)
    for name, weight in SHEET:
        services.score_item_add(user=world.office, call_id=call.pk, name=name, weight=weight)
    coop = call.categories.get(group=COUNTY, name="专业合作组织、农村社区或专业市场")
    rule_text = next(r["text"] for r in world.plan.parsed.get("rules", [])
                     if "专业合作组织的青年人数" in r["text"])
    services.condition_add(user=world.office, call_id=call.pk, category_id=coop.pk,
                           text=rule_text, kind=ConditionKind.COMPUTED,
                           field_name="youth_members", field_label="参加专业合作组织的青年人数",
                           rule="youth_members >= 30")
    services.condition_add(user=world.office, call_id=call.pk, text="党政领导重视支持共青团工作",
                           kind=ConditionKind.DECLARED)
    services.condition_add(user=world.office, call_id=call.pk, category_id=coop.pk,
                           text="已经成立团的组织或具备建团条件", kind=ConditionKind.DECLARED,
                           needs_document=True)
    services.call_open(user=world.office, call_id=call.pk)
    call.refresh_from_db()
    return call


def declared_conditions(call: Call) -> list[Condition]:
    return list(call.conditions.filter(kind=ConditionKind.DECLARED))


def pdf(text: str = "申报书") -> object:
    from shidian.reporting.testing import pdf_bytes, upload

    return upload(f"{text}.pdf", pdf_bytes(text))


def submitted_application(world: SelectionWorld, key: str = "luxian", *,
                          category: str = "县级团委", region: str = "四川",
                          now: datetime | None = None):
    """An application of ``key``'s agency with the leaders' declaration and its form,
    submitted to its province."""
    from . import services

    now = now or at(date(2009, 3, 5))
    user = world.applicants[key]
    application = services.application_create(
        user=user, call_id=world.call.pk, agency_id=world.agencies[key].pk,
        category_id=world.category(category).pk, region=region, kind="团县(市、区、旗)委",
        title=f"{world.agencies[key].name}试点申报书", summary="（申报内容）", now=now)
    leaders = world.call.conditions.get(text="党政领导重视支持共青团工作")
    services.application_update(user=user, application_id=application.pk, now=now,
                                answers=services.Answers(declared={leaders.pk: True}))
    services.document_upload(user=user, application_id=application.pk, upload=pdf(key),
                             now=now)
    return services.application_submit(user=user, application_id=application.pk, now=now)


def scored_application(world: SelectionWorld, key: str = "luxian", *, marks=(90, 80, 70),
                       province_office: User | None = None, **kwargs):
    """Submitted, forwarded by its province and scored by the first experts."""
    from . import services

    application = submitted_application(world, key, **kwargs)
    services.application_forward(user=province_office or world.office_sc,
                                 application_id=application.pk, now=at(date(2009, 3, 25)))
    experts = world.experts[:len(marks)]
    services.reviews_assign(user=world.office, call_id=world.call.pk,
                            expert_ids=[e.pk for e in experts],
                            application_ids=[application.pk])
    items = list(world.call.score_items.all())
    for expert, mark in zip(experts, marks, strict=True):
        review = application.reviews.get(expert=expert)
        services.review_declare(user=expert, review_id=review.pk, conflict=False)
        services.review_submit(user=expert, review_id=review.pk,
                               scores={i.pk: str(mark) for i in items})
    application.refresh_from_db()
    return application
