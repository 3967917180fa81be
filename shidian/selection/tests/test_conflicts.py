"""Conflicts of interest: an expert of the applicant's own unit is never assigned; one of its
area must declare, with a reason, before seeing the application; a declared conflict excludes."""
from __future__ import annotations

import pytest

from shidian.core.errors import ErrorCode, ShidianError
from shidian.orgs.models import Role
from shidian.orgs.testing import make_agency, make_user
from shidian.selection.services import relation_between

pytestmark = pytest.mark.django_db


@pytest.fixture
def applicant():
    return make_agency("共青团泸县委员会", "510521")


def test_an_expert_acting_for_the_applicant_is_the_same_unit(applicant):
    expert = make_user("e_own", role=Role.EXPERT, division_code="510521", agencies=(applicant,))
    assert relation_between(expert, applicant) == (True, "共青团泸县委员会")


@pytest.mark.parametrize("code", ["51", "5105", "510521", "510522"])
def test_an_expert_of_the_applicants_province_must_declare(applicant, code):
    expert = make_user(f"e_{code}", role=Role.EXPERT, division_code=code)
    same_unit, relation = relation_between(expert, applicant)
    assert not same_unit and relation


@pytest.mark.parametrize("code", [None, "42", "4201"])
def test_a_national_or_other_province_expert_has_no_relation(applicant, code):
    expert = make_user(f"e_{code}", role=Role.EXPERT, division_code=code)
    assert relation_between(expert, applicant) == (False, "")


def test_the_declaration_gates_what_the_expert_sees(world):
    from datetime import date

    from shidian.selection import access, services
    from shidian.selection.models import ReviewAssignment, ReviewStatus
    from shidian.selection.testing import at, submitted_application

    application = submitted_application(world, "luxian")
    services.application_forward(user=world.office_sc, application_id=application.pk,
                                 now=at(date(2009, 3, 25)))
    result = services.reviews_assign(
        user=world.office, call_id=world.call.pk,
        expert_ids=[world.expert_own.pk, world.expert_sc.pk, world.experts[0].pk])
    assert {r.expert for r in result.created} == {world.expert_sc, world.experts[0]}
    assert result.excluded and "共青团泸县委员会" in result.excluded[0]
    with pytest.raises(ShidianError) as not_expert:  # only experts review
        services.reviews_assign(user=world.office, call_id=world.call.pk,
                                expert_ids=[world.office_sc.pk])
    assert not_expert.value.code == ErrorCode.INVALID

    sc = ReviewAssignment.objects.get(application=application, expert=world.expert_sc)
    assert sc.relation == "四川省"
    with pytest.raises(ShidianError):
        access.access_application_by_id(user=world.expert_sc, application_id=application.pk)
    with pytest.raises(ShidianError) as reason:
        services.review_declare(user=world.expert_sc, review_id=sc.pk, conflict=False)
    assert "四川省" in reason.value.message
    services.review_declare(user=world.expert_sc, review_id=sc.pk, conflict=True)
    assert ReviewAssignment.objects.get(pk=sc.pk).status == ReviewStatus.EXCLUDED
    with pytest.raises(ShidianError):
        access.access_application_by_id(user=world.expert_sc, application_id=application.pk)
    with pytest.raises(ShidianError) as excluded:
        services.review_submit(user=world.expert_sc, review_id=sc.pk, scores={})
    assert excluded.value.code == ErrorCode.FORBIDDEN
    # Another expert cannot act on this review at all.
    with pytest.raises(ShidianError) as other:
        services.review_declare(user=world.experts[0], review_id=sc.pk, conflict=False)
    assert other.value.code == ErrorCode.NOT_FOUND
