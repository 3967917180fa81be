"""Agencies and users are written through services that validate first and respect scope."""
from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from stdnum.cn import uscc

from shidian.core.errors import ErrorCode, ShidianError
from shidian.orgs import services
from shidian.orgs.models import Agency, AgencyKind, Division, Role, User
from shidian.orgs.testing import PASSWORD, make_agency, make_divisions, make_user

pytestmark = pytest.mark.django_db
GOOD_PASSWORD = "Luxian-liaison-2026"


def credit_code(body: str = "12510521MB0000000") -> str:
    """A unified social credit code with its computed check character."""
    return body + uscc.calc_check_digit(body)


@pytest.fixture
def tree():
    return make_divisions()


@pytest.fixture
def county_admin(tree):
    return make_user("luxian_admin", role=Role.ADMIN, division_code="510521")


@pytest.fixture
def national_admin(tree):
    return make_user("root_admin", role=Role.ADMIN)


def test_agency_create_keeps_pinyin_initials_and_aliases(county_admin, tree):
    agency = services.agency_create(actor=county_admin, name="泸县卫生健康局",
                                    division=tree["510521"], aliases=["县卫健局", "县卫健局"])
    assert agency.initials == "lxwsjkj"
    assert [a.name for a in agency.aliases.all()] == ["县卫健局"]


def test_agency_create_is_audited(county_admin, tree):
    agency = services.agency_create(actor=county_admin, name="泸县民政局", division=tree["510521"])
    assert LogEntry.objects.get_for_object(agency).count() == 1


def test_agency_name_is_unique_within_a_division_only(county_admin, national_admin, tree):
    services.agency_create(actor=county_admin, name="卫生健康局", division=tree["510521"])
    with pytest.raises(ShidianError) as caught:
        services.agency_create(actor=county_admin, name=" 卫生健康局 ", division=tree["510521"])
    assert caught.value.code == ErrorCode.DUPLICATE
    services.agency_create(actor=national_admin, name="卫生健康局", division=tree["510522"])
    assert Agency.objects.filter(name="卫生健康局").count() == 2


def test_credit_code_is_checked_and_unique(county_admin, tree):
    good = credit_code()
    agency = services.agency_create(actor=county_admin, name="泸县人民医院",
                                    division=tree["510521"], kind=AgencyKind.INSTITUTION,
                                    credit_code=good.lower())
    assert agency.credit_code == good
    wrong_check = good[:-1] + ("0" if good[-1] != "0" else "1")
    with pytest.raises(ShidianError) as caught:
        services.agency_create(actor=county_admin, name="泸县中医医院", division=tree["510521"],
                               credit_code=wrong_check)
    assert caught.value.code == ErrorCode.INVALID
    assert not Agency.objects.filter(name="泸县中医医院").exists()
    with pytest.raises(ShidianError) as caught:
        services.agency_create(actor=county_admin, name="泸县中医医院", division=tree["510521"],
                               credit_code=good)
    assert caught.value.code == ErrorCode.DUPLICATE


def test_county_admin_cannot_create_in_another_county(county_admin, tree):
    with pytest.raises(ShidianError) as caught:
        services.agency_create(actor=county_admin, name="合江县民政局", division=tree["510522"])
    assert caught.value.code == ErrorCode.NOT_FOUND
    assert not Agency.objects.exists()


def test_only_admins_write(tree):
    office = make_user("office", role=Role.OFFICE, division_code="510521")
    with pytest.raises(ShidianError) as caught:
        services.agency_create(actor=office, name="泸县民政局", division=tree["510521"])
    assert caught.value.code == ErrorCode.FORBIDDEN


def test_agency_update_renames_and_recomputes_initials(county_admin, tree):
    agency = make_agency("泸县卫计局", "510521")
    services.agency_update(actor=county_admin, agency=agency, name="泸县卫生健康局")
    agency.refresh_from_db()
    assert (agency.name, agency.initials) == ("泸县卫生健康局", "lxwsjkj")


def test_agency_update_cannot_take_a_name_in_use(county_admin, tree):
    make_agency("泸县民政局", "510521")
    other = make_agency("泸县民政办", "510521")
    with pytest.raises(ShidianError):
        services.agency_update(actor=county_admin, agency=other, name="泸县民政局")
    other.refresh_from_db()
    assert other.name == "泸县民政办"


def test_agency_update_out_of_scope_is_not_found(county_admin, tree):
    other = make_agency("合江县民政局", "510522")
    with pytest.raises(ShidianError) as caught:
        services.agency_update(actor=county_admin, agency=other, name="改名")
    assert caught.value.code == ErrorCode.NOT_FOUND


def test_alias_rules(county_admin, tree):
    agency = make_agency("泸县卫生健康局", "510521")
    make_agency("泸县民政局", "510521")
    alias = services.agency_alias_add(actor=county_admin, agency=agency, name="县卫健局")
    for bad in ("县卫健局", "泸县卫生健康局", "泸县民政局", "  "):
        with pytest.raises(ShidianError):
            services.agency_alias_add(actor=county_admin, agency=agency, name=bad)
    services.agency_alias_remove(actor=county_admin, agency=agency, alias_id=alias.pk)
    assert not agency.aliases.exists()


def test_user_create_hashes_with_argon2_and_scopes(county_admin, tree):
    bureau = make_agency("泸县卫生健康局", "510521")
    user = services.user_create(actor=county_admin, username="lx_wjj", password=GOOD_PASSWORD,
                                role=Role.LIAISON, division=tree["510521"], agencies=[bureau],
                                display_name="张三")
    assert user.password.startswith("argon2")
    assert list(user.agencies.all()) == [bureau]
    assert user.check_password(GOOD_PASSWORD)


@pytest.mark.parametrize("password", ["short", "12345678901", "password123", "lx_wjj2026"])
def test_user_create_rejects_weak_passwords(county_admin, tree, password):
    bureau = make_agency("泸县卫生健康局", "510521")
    with pytest.raises(ShidianError) as caught:
        services.user_create(actor=county_admin, username="lx_wjj", password=password,
                             role=Role.LIAISON, division=tree["510521"], agencies=[bureau])
    assert caught.value.extra["field"] == "password"
    assert not User.objects.filter(username="lx_wjj").exists()


def test_user_create_checks_role_division_and_agencies(county_admin, tree):
    hejiang = make_agency("合江县民政局", "510522")
    city = make_agency("泸州市民政局", "5105")
    cases = [
        dict(role="mayor", division=tree["510521"]),
        dict(role=Role.LIAISON, division=tree["510521"]),  # a liaison needs an agency
        dict(role=Role.OFFICE, division=None),  # a county admin cannot make national users
        dict(role=Role.OFFICE, division=tree["510522"]),
        dict(role=Role.LIAISON, division=tree["510521"], agencies=[hejiang]),
        dict(role=Role.LIAISON, division=tree["510521"], agencies=[city]),
    ]
    for case in cases:
        with pytest.raises(ShidianError):
            services.user_create(actor=county_admin, username="someone",
                                 password=GOOD_PASSWORD, **case)
    assert not User.objects.filter(username="someone").exists()


def test_user_names_are_unique_ignoring_case(county_admin, tree):
    make_user("Zhang")
    with pytest.raises(ShidianError) as caught:
        services.user_create(actor=county_admin, username="zhang", password=GOOD_PASSWORD,
                             role=Role.OFFICE, division=tree["510521"])
    assert caught.value.code == ErrorCode.DUPLICATE


def test_user_update_changes_role_and_agencies(county_admin, tree):
    bureau = make_agency("泸县卫生健康局", "510521")
    user = make_user("lx_office", role=Role.OFFICE, division_code="510521")
    services.user_update(actor=county_admin, user=user, role=Role.LIAISON, agencies=[bureau])
    user.refresh_from_db()
    assert user.role == Role.LIAISON and list(user.agencies.all()) == [bureau]


def test_admin_cannot_lock_themselves_out(county_admin):
    with pytest.raises(ShidianError):
        services.user_update(actor=county_admin, user=county_admin, role=Role.OFFICE)
    with pytest.raises(ShidianError):
        services.user_update(actor=county_admin, user=county_admin, is_active=False)
    county_admin.refresh_from_db()
    assert county_admin.role == Role.ADMIN and county_admin.is_active


def test_county_admin_cannot_update_another_countys_user(county_admin):
    other = make_user("hj_office", role=Role.OFFICE, division_code="510522")
    with pytest.raises(ShidianError) as caught:
        services.user_update(actor=county_admin, user=other, display_name="改")
    assert caught.value.code == ErrorCode.NOT_FOUND


def test_user_unlock_resets_the_failure_count(county_admin, client, settings):
    user = make_user("lx_locked", role=Role.OFFICE, division_code="510521")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/login/", {"username": "lx_locked", "password": "wrong-password"})
    response = client.post("/login/", {"username": "lx_locked", "password": PASSWORD})
    assert "_auth_user_id" not in client.session, "locked: even the right password is refused"
    assert services.user_unlock(actor=county_admin, user=user) >= 1
    response = client.post("/login/", {"username": "lx_locked", "password": PASSWORD})
    assert client.session.get("_auth_user_id") == str(user.pk)
    unlock = LogEntry.objects.get(object_pk=str(user.pk), additional_data__event="unlock")
    assert unlock.actor == county_admin  # in the audit trail


def test_divisions_load_rejects_unknown_province():
    with pytest.raises(ShidianError):
        services.divisions_load(levels=1, province="99")
    assert not Division.objects.exists()
