"""The selection demo on seed 09 (共青团基层组织建设和基层工作试点): 团中央's call with the
allocation table imported (and its 40-versus-30 finding), county youth-league committees of 四川
and 湖北 applying, 四川 and 湖北 forwarding, four experts' scores in, and 泸县 and 合江县
approved by ``demo_office`` within 四川's two places for 县级团委: each a pilot site with its
task book (the category's tasks of the plan) and its quarterly reporting, so ``demo_pilot_youth``
(共青团泸县委员会) finds the task book's tasks in 我的任务. Left for a visitor: ``demo_expert``
declares and scores 江岸区, ``demo_office`` approves it on the board, ``demo_office_51``
forwards 江阳区 (a third 四川 site needs a reason to go beyond the quota).

Everything goes through the selection services; run twice, it adds nothing.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from shidian.orgs.models import Agency, AgencyKind, Division, Role, User
from shidian.orgs.services import agency_create, user_create
from shidian.plans.models import Plan
from shidian.selection import services
from shidian.selection.models import ApplicationStatus, Call, ConditionKind, PilotSite

from .logins import DEMO_PASSWORD

CALL_TITLE = "共青团基层组织建设和基层工作试点单位申报"
COUNTY = "四、农村基层团组织建设试点"
SHEET = [("目标明确", 30), ("方案完善", 30), ("支持力度大", 20), ("示范性强", 20)]
# The applications the demo approves: 四川's two places for 县级团委, in rank order.
APPROVED = ("共青团泸县委员会", "共青团合江县委员会")
# (key, agency, division, forwarded by its province, marks of four experts)
APPLICANTS = [
    ("luxian", "共青团泸县委员会", "510521", True, (92, 90, 88, 86)),
    ("hejiang", "共青团合江县委员会", "510522", True, (84, 82, 86, 80)),
    ("jiangyang", "共青团泸州市江阳区委员会", "510502", False, ()),
    ("jiangan", "共青团武汉市江岸区委员会", "420102", True, (78, 80, 76, 82)),
]


def _user(admin: User, username: str, role: str, division: Division | None,
          agencies: tuple[Agency, ...], name: str) -> User:
    found = User.objects.filter(username=username).first()
    return found or user_create(actor=admin, username=username, password=DEMO_PASSWORD,
                                role=role, division=division, agencies=agencies,
                                display_name=name)


def _agency(admin: User, name: str, division: Division) -> Agency:
    found = Agency.objects.filter(division=division, name=name).first()
    return found or agency_create(actor=admin, name=name, division=division,
                                  kind=AgencyKind.MASS_ORG)


def selection_demo_load(*, log: Callable[[str], None] = print) -> None:
    plan = Plan.objects.filter(source_name="09-youth-league.txt", version__gt=0).first()
    codes = {code for _, _, code, _, _ in APPLICANTS} | {"51", "42"}
    if plan is None or Division.objects.filter(code__in=codes).count() < len(codes):
        log("未载入共青团试点方案或所需区划，跳过试点遴选演示")
        return
    call = Call.objects.filter(plan=plan, title=CALL_TITLE).first()
    if call is None:
        _call_load(plan, codes)
        log(f"试点遴选演示：{len(APPLICANTS)} 份申报")
        call = Call.objects.get(plan=plan, title=CALL_TITLE)
    sites = _approve(call)
    log(f"试点遴选演示：{len(sites)} 个试点单位已批准并下达任务书")


def _approve(call: Call) -> list[PilotSite]:
    """Approve 四川's county committees within the quota, best ranked first (once: an approved
    application is left alone, so a second run writes nothing, not even to the audit trail)."""
    office = User.objects.get(username="demo_office")
    for application in (call.applications.filter(agency__name__in=APPROVED,
                                                 status=ApplicationStatus.FORWARDED)
                        .order_by("rank", "pk")):
        services.application_approve(user=office, application_id=application.pk)
    return list(PilotSite.objects.filter(call=call))


def _call_load(plan: Plan, codes: set[str]) -> None:
    admin = User.objects.get(username="demo_admin")
    office = User.objects.get(username="demo_office")
    divisions = {d.code: d for d in Division.objects.filter(code__in=codes)}
    with transaction.atomic():
        office_sc = _user(admin, "demo_office_51", Role.OFFICE, divisions["51"], (),
                          "四川省试点办公室")
        office_hb = _user(admin, "demo_office_42", Role.OFFICE, divisions["42"], (),
                          "湖北省试点办公室")
        experts = [_user(admin, "demo_expert", Role.EXPERT, None, (), "评审专家")]
        experts += [_user(admin, f"demo_expert_{n}", Role.EXPERT, None, (), f"评审专家{n}")
                    for n in range(2, 6)]
        today = timezone.localdate()
        starts = (today.replace(day=1) + timedelta(days=32)).replace(day=1)

        def at(day: date) -> datetime:
            return timezone.make_aware(datetime.combine(day, time(18, 0)))

        call = services.call_create(user=office, plan_id=plan.pk, data=services.CallInput(
            title=CALL_TITLE, deadline=at(today + timedelta(days=20)),
            endorse_by=at(today + timedelta(days=30)),
            applicant_kinds=["团县(市、区、旗)委", "乡(镇)团委", "专业合作组织", "行业协会"],
            direct_kinds=["行业协会"], pilot_starts_on=starts,
            pilot_ends_on=starts.replace(year=starts.year + 1) - timedelta(days=1),
            notice="各省级团委：根据《共青团基层组织建设和基层工作试点实施方案》，现组织申报试点单位。"
                   "请按分配表名额组织本省申报，审核后统一报送。"))
        services.quotas_import(user=office, call_id=call.pk)
        for name, weight in SHEET:
            services.score_item_add(user=office, call_id=call.pk, name=name, weight=weight)
        coop = call.categories.get(group=COUNTY, name="专业合作组织、农村社区或专业市场")
        services.condition_add(user=office, call_id=call.pk, category_id=coop.pk,
                               text="参加专业合作组织的青年人数在30人以上,有一定的经济规模",
                               kind=ConditionKind.COMPUTED, field_name="youth_members",
                               field_label="参加专业合作组织的青年人数",
                               rule="youth_members >= 30")
        leaders = services.condition_add(user=office, call_id=call.pk,
                                         text="党政领导重视支持共青团工作",
                                         kind=ConditionKind.DECLARED)
        services.call_open(user=office, call_id=call.pk)
        county = call.categories.get(group=COUNTY, name="县级团委")
        forwarded = []
        for key, name, code, forward, marks in APPLICANTS:
            agency = _agency(admin, name, divisions[code])
            role = Role.PILOT_SITE if key == "luxian" else Role.LIAISON
            username = "demo_pilot_youth" if key == "luxian" else f"demo_applicant_{key}"
            user = _user(admin, username, role, divisions[code], (agency,), f"{name}联络员")
            region = "四川" if code.startswith("51") else "湖北"
            application = services.application_create(
                user=user, call_id=call.pk, agency_id=agency.pk, category_id=county.pk,
                region=region, kind="团县(市、区、旗)委", title=f"{name}基层组织建设试点申报书",
                summary="依托党建带团建，建立农村共青团工作联席会议制度，推进乡村团组织同步换届。")
            services.application_update(
                user=user, application_id=application.pk,
                answers=services.Answers(declared={leaders.pk: True}))
            services.document_upload(user=user, application_id=application.pk,
                                     upload=_pdf(f"{name}申报书"))
            services.application_submit(user=user, application_id=application.pk)
            if forward:
                services.application_forward(user=office_sc if region == "四川" else office_hb,
                                             application_id=application.pk)
                forwarded.append((application, marks))
        services.reviews_assign(user=office, call_id=call.pk, expert_ids=[e.pk for e in experts])
        items = list(call.score_items.all())
        for application, marks in forwarded:
            for expert, mark in zip(experts[1:], marks, strict=True):
                review = application.reviews.get(expert=expert)
                services.review_declare(user=expert, review_id=review.pk, conflict=False)
                services.review_submit(user=expert, review_id=review.pk,
                                       scores={i.pk: str(mark) for i in items})


def _pdf(text: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from .services import demo_pdf

    return SimpleUploadedFile(f"{text}.pdf", demo_pdf(text), content_type="application/pdf")
