"""Seed 09's selection end to end, against its own allocation table (分配表): the call, county
youth-league committees of 四川, 湖北 and 北京 applying, their provinces forwarding, experts
declaring and scoring, approval within 四川's two places for 县级团委 (the third refused, then
approved only with a recorded reason), task books, and a pilot site finding its tasks in 我的任务.
"""
from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from docx import Document

from shidian.core.errors import ErrorCode, ShidianError
from shidian.orgs.models import Role
from shidian.orgs.testing import make_agency, make_user
from shidian.plans.models import Plan, PlanStatus, Task, UnitRole
from shidian.reporting.models import CycleKind
from shidian.reporting.selectors import workspace_items
from shidian.reporting.testing import pdf_bytes, upload
from shidian.selection import access, services
from shidian.selection.models import (Application, ApplicationStatus, PilotSite,
                                      ReviewAssignment, ReviewStatus)
from shidian.selection.taskbook import taskbook_docx
from shidian.selection.testing import at

pytestmark = pytest.mark.django_db
MARCH_5, MARCH_10, MARCH_25 = at(date(2009, 3, 5)), at(date(2009, 3, 10)), at(date(2009, 3, 25))


def apply(world, key, category, region, *, kind="团县(市、区、旗)委", now=MARCH_5):
    user = world.applicants[key]
    application = services.application_create(
        user=user, call_id=world.call.pk, agency_id=world.agencies[key].pk,
        category_id=category.pk, region=region, kind=kind,
        title=f"{world.agencies[key].name}基层组织建设试点申报书", now=now)
    leaders = world.call.conditions.get(text="党政领导重视支持共青团工作")
    services.application_update(user=user, application_id=application.pk, now=now,
                                answers=services.Answers(declared={leaders.pk: True}))
    services.document_upload(user=user, application_id=application.pk, now=now,
                             upload=upload("申报书.pdf", pdf_bytes(key)))
    return application


def test_seed_09_selection_against_its_quotas_end_to_end(world):
    call = world.call
    county = world.category("县级团委")
    coop = world.category("专业合作组织、农村社区或专业市场")
    district = world.category("市辖区团委", group="二、城市社区基层团组织建设试点")

    # The allocation table is imported with its totals and its quarrel with the text.
    assert sum(q.amount for q in county.quotas.all()) == 50
    assert county.quotas.get(region="四川").amount == 2
    assert county.quotas.get(region="四川").province_id == "51"
    assert county.quotas.get(region="新疆兵团").province_id is None
    soe = next(c for c in call.quota_checks if c["column"] == "国有和国有控股企业")
    assert (soe["finding"], soe["rows_sum"], soe["text_count"]) == ("mismatch", 40, 30)
    # A county committee's task book holds the common tasks and its own group's.
    titles = list(Task.objects.filter(pk__in=county.task_ids).values_list("title", flat=True))
    assert "结合党建新格局推动团的工作" in titles and "团县(市、区、旗)委" in titles
    assert "乡(镇)团委" not in titles and "普通高校" not in titles

    # Applications from three provinces.
    luxian = apply(world, "luxian", county, "四川")
    hejiang = apply(world, "hejiang", county, "四川")
    jiangyang = apply(world, "jiangyang", county, "四川")
    jiangan = apply(world, "jiangan", county, "湖北")
    dongcheng = apply(world, "dongcheng", district, "北京", kind="团县(市、区、旗)委")
    with pytest.raises(ShidianError) as wrong_region:  # 合江 is in 四川, not 湖北
        services.application_create(
            user=world.applicants["hejiang"], call_id=call.pk,
            agency_id=world.agencies["hejiang"].pk, category_id=county.pk, region="湖北",
            kind="团县(市、区、旗)委", title="重复", now=MARCH_5)
    assert wrong_region.value.code == ErrorCode.INVALID
    with pytest.raises(ShidianError) as twice:
        apply(world, "luxian", county, "四川")
    assert twice.value.code == ErrorCode.DUPLICATE

    # The cooperative's figure is checked by the rule: 25 young members are not enough.
    coop_app = apply(world, "coop", coop, "四川", kind="专业合作组织")
    youth = call.conditions.get(field_name="youth_members")
    founded = call.conditions.get(text="已经成立团的组织或具备建团条件")
    proof = services.document_upload(user=world.applicants["coop"], application_id=coop_app.pk,
                                     upload=upload("团支部成立批复.pdf", pdf_bytes("批复")),
                                     now=MARCH_5)
    services.application_update(user=world.applicants["coop"], application_id=coop_app.pk,
                                now=MARCH_5, answers=services.Answers(
                                    figures={youth.pk: "25"}, declared={founded.pk: True},
                                    documents={founded.pk: proof.pk}))
    with pytest.raises(ShidianError) as ineligible:
        services.application_submit(user=world.applicants["coop"], application_id=coop_app.pk,
                                    now=MARCH_10)
    assert "参加专业合作组织的青年人数在30人以上" in ineligible.value.message
    services.application_update(user=world.applicants["coop"], application_id=coop_app.pk,
                                now=MARCH_10,
                                answers=services.Answers(figures={youth.pk: "36"}))

    for key, application in (("luxian", luxian), ("hejiang", hejiang),
                             ("jiangyang", jiangyang), ("jiangan", jiangan),
                             ("dongcheng", dongcheng), ("coop", coop_app)):
        user = world.applicants[key]
        submitted = services.application_submit(user=user, application_id=application.pk,
                                                now=MARCH_10)
        again = services.application_submit(user=user, application_id=application.pk,
                                            now=MARCH_10)  # a double click
        assert submitted.status == again.status == ApplicationStatus.SUBMITTED
    # Late: the deadline (20 March, 18:00) has passed.
    street = make_agency("共青团江岸区大智街道工作委员会", "420102")
    late = make_user("applicant_late", role=Role.LIAISON, division_code="420102",
                     agencies=(street,))
    with pytest.raises(ShidianError) as too_late:
        services.application_create(user=late, call_id=call.pk, agency_id=street.pk,
                                    category_id=county.pk, region="湖北",
                                    kind="团县(市、区、旗)委", title="迟到的申报", now=MARCH_25)
    assert too_late.value.code == ErrorCode.PERIOD_CLOSED

    # Nothing reaches 团中央 before the province forwards it.
    assert not access.applications_visible_to(user=world.office).exists()
    # 湖北 cannot touch 四川's applications.
    with pytest.raises(ShidianError) as other_province:
        services.application_forward(user=world.office_hb, application_id=luxian.pk,
                                     now=MARCH_25)
    assert other_province.value.code == ErrorCode.NOT_FOUND
    # 四川 returns 江阳区's for a missing seal; it is resubmitted before the deadline.
    services.application_return(user=world.office_sc, application_id=jiangyang.pk,
                                 reason="申报书未加盖公章")
    services.application_update(user=world.applicants["jiangyang"],
                                application_id=jiangyang.pk, now=MARCH_10,
                                summary="已加盖公章")
    services.application_submit(user=world.applicants["jiangyang"],
                                application_id=jiangyang.pk, now=MARCH_10)
    for application in (luxian, hejiang, jiangyang, coop_app):
        services.application_forward(user=world.office_sc, application_id=application.pk,
                                     now=MARCH_25)
    services.application_forward(user=world.office_hb, application_id=jiangan.pk,
                                 now=MARCH_25)
    office_bj = make_user("office_beijing", role=Role.OFFICE, division_code="11")
    services.application_forward(user=office_bj, application_id=dongcheng.pk, now=MARCH_25)
    assert access.applications_visible_to(user=world.office).count() == 6

    # Experts: the one acting for 共青团泸县委员会 is never assigned to its application.
    panel = [*world.experts, world.expert_sc, world.expert_own]
    result = services.reviews_assign(user=world.office, call_id=call.pk,
                                     expert_ids=[e.pk for e in panel])
    assert any("共青团泸县委员会" in line for line in result.excluded)
    assert not ReviewAssignment.objects.filter(application=luxian,
                                               expert=world.expert_own).exists()
    # Before declaring, an expert cannot open the application.
    review = ReviewAssignment.objects.get(application=luxian, expert=world.experts[0])
    with pytest.raises(ShidianError):
        access.access_application_by_id(user=world.experts[0], application_id=luxian.pk)
    with pytest.raises(ShidianError) as undeclared:
        services.review_submit(user=world.experts[0], review_id=review.pk, scores={})
    assert undeclared.value.code == ErrorCode.INVALID
    # The 四川 expert must say why there is no conflict; it declares one for 泸县.
    sc_review = ReviewAssignment.objects.get(application=hejiang, expert=world.expert_sc)
    with pytest.raises(ShidianError):
        services.review_declare(user=world.expert_sc, review_id=sc_review.pk, conflict=False)
    services.review_declare(user=world.expert_sc, review_id=sc_review.pk, conflict=False,
                            note="与合江县团委无隶属、任职或合作关系")
    conflicted = ReviewAssignment.objects.get(application=luxian, expert=world.expert_sc)
    services.review_declare(user=world.expert_sc, review_id=conflicted.pk, conflict=True,
                            note="曾在泸县团委任职")
    assert ReviewAssignment.objects.get(pk=conflicted.pk).status == ReviewStatus.EXCLUDED

    items = list(call.score_items.order_by("order"))
    # Five experts score 四川's three committees; 泸县 best, then 江阳区, then 合江县.
    marks = {luxian.pk: [95, 90, 88, 86, 40], jiangyang.pk: [85, 84, 83, 82, 81],
             hejiang.pk: [70, 72, 74, 76, 99]}
    for application_id, per_expert in marks.items():
        for expert, mark in zip(world.experts, per_expert, strict=True):
            review = ReviewAssignment.objects.get(application_id=application_id, expert=expert)
            services.review_declare(user=expert, review_id=review.pk, conflict=False)
            assert access.access_application_by_id(user=expert, application_id=application_id)
            services.review_submit(user=expert, review_id=review.pk,
                                   scores={i.pk: str(mark) for i in items})
            again = services.review_submit(user=expert, review_id=review.pk,
                                           scores={i.pk: "1" for i in items})
            assert again.total == Decimal(mark)  # a second submit changes nothing
    for application in (jiangan, dongcheng, coop_app):
        for expert in world.experts[:3]:
            review = ReviewAssignment.objects.get(application=application, expert=expert)
            services.review_declare(user=expert, review_id=review.pk, conflict=False)
            services.review_submit(user=expert, review_id=review.pk,
                                   scores={i.pk: "80" for i in items})
    for application in (luxian, jiangyang, hejiang, jiangan):
        application.refresh_from_db()
    # Five reviewers: the highest and the lowest are dropped (trimmed rule); three: the mean.
    assert luxian.score == Decimal("88.00") and luxian.reviews_counted == 3
    assert jiangan.score == Decimal("80.00") and jiangan.reviews_counted == 3
    # Ranked within the category across provinces: 88, 83, 80 (湖北), 74.
    assert (luxian.rank, jiangyang.rank, jiangan.rank, hejiang.rank) == (1, 2, 3, 4)

    # Approval within 四川's two places; the third is refused, then approved with a reason.
    site = services.application_approve(user=world.office, application_id=luxian.pk,
                                        now=MARCH_25)
    assert services.application_approve(user=world.office, application_id=luxian.pk) == site
    services.application_approve(user=world.office, application_id=jiangyang.pk, now=MARCH_25)
    with pytest.raises(ShidianError) as over:
        services.application_approve(user=world.office, application_id=hejiang.pk,
                                     now=MARCH_25)
    assert over.value.code == ErrorCode.CONFLICT and "四川" in over.value.message
    assert Application.objects.get(pk=hejiang.pk).status == ApplicationStatus.FORWARDED
    services.application_approve(user=world.office, application_id=hejiang.pk, now=MARCH_25,
                                 override_reason="合江县为革命老区，经书记处同意增加1个名额")
    hejiang.refresh_from_db()
    assert hejiang.over_quota and "革命老区" in hejiang.override_reason
    entry = LogEntry.objects.get_for_object(hejiang).filter(actor=world.office).first()
    assert entry is not None and "override_reason" in entry.changes_dict
    services.application_approve(user=world.office, application_id=jiangan.pk, now=MARCH_25)
    services.application_reject(user=world.office, application_id=dongcheng.pk, now=MARCH_25)
    assert PilotSite.objects.filter(call=call).count() == 4

    # The task book: the site's own plan, cascaded from seed 09, published, reporting quarterly.
    plan = Plan.objects.get(pk=site.plan_id)
    assert plan.parent_id == world.plan.pk and plan.status == PlanStatus.PUBLISHED
    assert plan.division_id == "510521" and plan.cycle.kind == CycleKind.QUARTERLY
    site_tasks = list(plan.tasks.order_by("order"))
    assert len(site_tasks) == len(county.task_ids)
    assert all(t.parent_task_id in county.task_ids for t in site_tasks)
    assert all(t.deadline == date(2010, 3, 31) for t in site_tasks)
    assert all(t.units.get(role=UnitRole.LEAD).agency_id == world.agencies["luxian"].pk
               for t in site_tasks)

    # The pilot site's user finds the tasks in 我的任务; the other county's site does not.
    pilot = make_user("pilot_luxian", role=Role.PILOT_SITE, division_code="510521",
                      agencies=(world.agencies["luxian"],))
    mine = workspace_items(user=pilot, today=date(2009, 6, 1))
    assert {item.task.pk for item in mine} == {t.pk for t in site_tasks}
    assert all(item.due_period is not None for item in mine)
    assert not [i for i in workspace_items(user=world.applicants["jiangan"],
                                           today=date(2009, 6, 1)) if i.task.plan_id == plan.pk]

    # And it prints: 公文 layout, the site named, its tasks with their deadlines.
    document = Document(io.BytesIO(taskbook_docx(site)))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "共青团泸县委员会" in text and site.number in text
    cells = [c.text for row in document.tables[0].rows for c in row.cells]
    assert "团县(市、区、旗)委" in cells and "2010年3月31日" in cells
