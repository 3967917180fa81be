"""Seed 02 (现代学徒制试点): no allocation table, four applicant kinds (地级市、行业、企业、职业
院校), materials by 2015年1月30日; 地级市, 职业院校 and 企业 go through their province's education
department, 行业 may apply directly (行业申报材料可单独直接报送)."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from shidian.core.errors import ErrorCode, ShidianError
from shidian.orgs.models import AgencyKind, Role
from shidian.orgs.testing import make_agency, make_user
from shidian.plans.models import Task
from shidian.plans.services import plan_import_file, plan_publish, programme_create
from shidian.selection import services
from shidian.selection.models import ApplicationStatus
from shidian.selection.testing import at, more_divisions, pdf

pytestmark = pytest.mark.django_db
SEED_02 = (Path(__file__).resolve().parents[2] / "demo" / "seed_plans"
           / "02-apprenticeship-moe.txt")
KINDS = ["地级市", "行业", "企业", "职业院校"]


def _submit(call, user, agency, category, kind, now):
    application = services.application_create(
        user=user, call_id=call.pk, agency_id=agency.pk, category_id=category.pk,
        region=services.NATIONAL_POOL, kind=kind, title=f"{agency.name}现代学徒制试点申报书",
        now=now)
    services.document_upload(user=user, application_id=application.pk, upload=pdf(), now=now)
    return services.application_submit(user=user, application_id=application.pk, now=now)


def test_seed_02_kinds_route_through_the_province_except_industries():
    more_divisions()
    office = make_user("moe_office", role=Role.OFFICE)
    programme = programme_create(user=office, name="现代学徒制试点", domain="现代学徒制")
    with SEED_02.open("rb") as handle:
        plan = plan_import_file(user=office, programme=programme, division=None,
                                file_name=SEED_02.name, file=handle,
                                size=SEED_02.stat().st_size)
    plan_publish(user=office, plan=plan, accept_unresolved=True)
    call = services.call_create(user=office, plan_id=plan.pk, data=services.CallInput(
        title="现代学徒制试点申报", deadline=at(date(2015, 1, 30), 18),
        endorse_by=at(date(2015, 1, 30), 18), applicant_kinds=KINDS, direct_kinds=["行业"],
        averaging="mean"))
    with pytest.raises(ShidianError) as no_table:
        services.quotas_import(user=office, call_id=call.pk)
    assert no_table.value.code == ErrorCode.INVALID
    categories = {}
    for kind in KINDS:
        categories[kind] = services.category_add(user=office, call_id=call.pk, name=kind)
        services.quota_set(user=office, call_id=call.pk, category_id=categories[kind].pk,
                           region=services.NATIONAL_POOL, amount=50)
    services.score_item_add(user=office, call_id=call.pk, name="目标明确", weight=1)
    services.call_open(user=office, call_id=call.pk)
    # The task book of every kind holds seed 02's five main tasks (二、主要内容).
    titles = list(Task.objects.filter(pk__in=categories["职业院校"].task_ids)
                  .values_list("title", flat=True))
    assert titles[0] == "探索校企协同育人机制" and len(titles) == 5

    january = at(date(2015, 1, 20))
    college = make_agency("泸州职业技术学院", "5105", kind=AgencyKind.INSTITUTION)
    liaison = make_user("lzy", role=Role.LIAISON, division_code="5105", agencies=(college,))
    school = _submit(call, liaison, college, categories["职业院校"], "职业院校", january)
    assert school.status == ApplicationStatus.SUBMITTED and school.province_id == "51"
    trade = make_agency("中国机械工业联合会", "11", kind=AgencyKind.MASS_ORG)
    liaison = make_user("cmif", role=Role.LIAISON, division_code="11", agencies=(trade,))
    industry = _submit(call, liaison, trade, categories["行业"], "行业", january)
    assert industry.status == ApplicationStatus.FORWARDED and industry.province_id is None
    # After 30 January nothing more is taken.
    late = make_agency("泸州市人民政府", "5105")
    liaison = make_user("lzs", role=Role.LIAISON, division_code="5105", agencies=(late,))
    with pytest.raises(ShidianError) as closed:
        _submit(call, liaison, late, categories["地级市"], "地级市", at(date(2015, 2, 2)))
    assert closed.value.code == ErrorCode.PERIOD_CLOSED
