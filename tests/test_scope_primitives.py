"""The scope primitives every app builds on: who sees which agencies."""
from __future__ import annotations

import pytest

from shidian.orgs.access import agencies_visible_to
from shidian.orgs.models import Role
from shidian.orgs.testing import make_agency, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def agencies():
    return {
        "luxian": make_agency("泸县卫生健康局", "510521"),
        "hejiang": make_agency("合江县卫生健康局", "510522"),
        "wuhan": make_agency("武汉市民政局", "4201"),
    }


def names(user):
    return set(agencies_visible_to(user=user).values_list("name", flat=True))


def test_a_superuser_and_a_national_office_see_every_agency(agencies):
    everything = {a.name for a in agencies.values()}
    assert names(make_user("root", superuser=True, agencies=(agencies["luxian"],))) == everything
    assert names(make_user("ministry", role=Role.OFFICE)) == everything


def test_a_county_office_sees_its_county_only(agencies):
    assert names(make_user("lx", role=Role.OFFICE, division_code="510521")) == {"泸县卫生健康局"}


def test_a_city_leader_sees_the_city_subtree(agencies):
    leader = make_user("lz", role=Role.LEADER, division_code="5105")
    assert names(leader) == {"泸县卫生健康局", "合江县卫生健康局"}


def test_a_liaison_sees_only_the_agencies_it_acts_for(agencies):
    liaison = make_user("lx_wjj", division_code="510521", agencies=(agencies["luxian"],))
    assert names(liaison) == {"泸县卫生健康局"}
    assert names(make_user("nobody", division_code="510521")) == set()


def test_an_inactive_user_sees_nothing(agencies):
    user = make_user("gone", role=Role.OFFICE)
    user.is_active = False
    assert names(user) == set()
