"""Where an application goes when submitted: to its province, or straight to the issuing
office for the kinds the call names (seed 02: 行业申报材料可单独直接报送) and for regions of the
分配表 that are no province (中央企业); and nowhere for a region the table gives no place."""
from __future__ import annotations

from datetime import date

import pytest

from shidian.core.errors import ErrorCode, ShidianError
from shidian.orgs.models import Role
from shidian.orgs.testing import make_agency, make_user
from shidian.selection import access, services
from shidian.selection.models import ApplicationStatus
from shidian.selection.testing import at, pdf

pytestmark = pytest.mark.django_db
NOW = at(date(2009, 3, 5))


def _submit(world, user, agency, category, region, kind):
    application = services.application_create(
        user=user, call_id=world.call.pk, agency_id=agency.pk, category_id=category.pk,
        region=region, kind=kind, title=f"{agency.name}申报书", now=NOW)
    leaders = world.call.conditions.get(text="党政领导重视支持共青团工作")
    services.application_update(user=user, application_id=application.pk, now=NOW,
                                answers=services.Answers(declared={leaders.pk: True}))
    services.document_upload(user=user, application_id=application.pk, upload=pdf(), now=NOW)
    return services.application_submit(user=user, application_id=application.pk, now=NOW)


def test_direct_kinds_and_non_province_regions_skip_the_province(world):
    soe = world.category("国有和国有控股企业", group="一、企业基层团组织建设试点")
    # 中央企业 has 8 places and no province: its applications reach 团中央 at once.
    central = make_agency("中国石油天然气集团公司团委", "42")
    user = make_user("applicant_cnpc", role=Role.LIAISON, division_code="42",
                     agencies=(central,))
    application = _submit(world, user, central, soe, "中央企业", "团县(市、区、旗)委")
    assert application.status == ApplicationStatus.FORWARDED and application.province is None
    assert application in access.applications_visible_to(user=world.office)
    # An association applying as 行业协会 (a direct kind) skips 湖北's office too.
    association = make_agency("湖北省青年企业家协会", "42")
    user = make_user("applicant_assoc", role=Role.LIAISON, division_code="42",
                     agencies=(association,))
    direct = _submit(world, user, association, soe, "湖北", "行业协会")
    assert direct.status == ApplicationStatus.FORWARDED
    assert direct not in access.applications_visible_to(user=world.office_hb)


def test_a_region_without_places_cannot_apply(world):
    # 分配表: 北京 has no 县级团委 place (0).
    assert world.category("县级团委").quotas.get(region="北京").amount == 0
    with pytest.raises(ShidianError) as refused:
        services.application_create(
            user=world.applicants["dongcheng"], call_id=world.call.pk,
            agency_id=world.agencies["dongcheng"].pk,
            category_id=world.category("县级团委").pk, region="北京",
            kind="团县(市、区、旗)委", title="东城区申报书", now=NOW)
    assert refused.value.code == ErrorCode.INVALID and "北京" in refused.value.message
