"""三员分立: system, security and audit administrators are separate, and none reaches the
others' work; outsiders get nothing from the account routes and change nothing."""
from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from shidian.core.errors import ShidianError
from shidian.orgs import access as orgs_access
from shidian.orgs import services as orgs_services
from shidian.orgs.models import Role, User
from shidian.orgs.testing import make_agency, make_user
from shidian.plans.access import plans_visible_to
from shidian.security import chain
from shidian.security.models import PasswordState

pytestmark = pytest.mark.django_db


@pytest.fixture
def three():
    return {
        "system": make_user("sys_admin", role=Role.ADMIN),
        "security": make_user("sec_admin", role=Role.SECURITY_ADMIN),
        "audit": make_user("aud_admin", role=Role.AUDIT_ADMIN),
    }


def test_the_system_administrator_cannot_read_the_audit_trail(client, three):
    client.force_login(three["system"])
    for name in ("security:controls", "security:audit", "security:logins", "security:policy",
                 "security:accounts"):
        assert client.get(reverse(name)).status_code == 403, name
    assert client.post(reverse("security:audit-verify")).status_code == 403
    assert client.get("/admin/auditlog/logentry/").status_code in (302, 403)


def test_the_system_administrator_neither_sees_nor_makes_security_or_audit_admins(three):
    system = three["system"]
    visible = orgs_access.users_visible_to(user=system)
    assert three["security"] not in visible and three["audit"] not in visible
    with pytest.raises(ShidianError) as refused:
        orgs_access.access_user_by_id(user=system, user_id=three["audit"].pk)
    assert refused.value.code == "not_found"
    with pytest.raises(ShidianError) as refused:
        orgs_services.user_create(actor=system, username="new_auditor",
                                  password="Auditor-Passw0rd", role=Role.AUDIT_ADMIN)
    assert refused.value.extra["field"] == "role"
    assert not User.objects.filter(username="new_auditor").exists()


def test_the_security_administrator_sees_no_business_data(client, three):
    make_agency("泸县民政局", "510521")
    assert not plans_visible_to(user=three["security"]).exists()
    assert not plans_visible_to(user=three["audit"]).exists()
    client.force_login(three["security"])
    assert client.get(reverse("security:audit")).status_code == 403
    assert client.get(reverse("orgs:users")).status_code == 403
    assert client.get(reverse("security:accounts")).status_code == 200
    assert client.get(reverse("security:controls")).status_code == 200


def test_the_audit_administrator_only_reads_the_trail_and_the_login_log(client, three):
    orgs_services.agency_create(actor=three["system"], name="泸县卫生健康局",
                                division=make_agency("泸县民政局", "510521").division)
    client.force_login(three["audit"])
    page = client.get(reverse("security:audit"), {"q": "泸县卫生健康局"})
    assert page.status_code == 200 and "泸县卫生健康局" in page.content.decode()
    assert client.get(reverse("security:logins")).status_code == 200
    assert client.post(reverse("security:audit-verify")).status_code == 302
    assert "通过" in client.get(reverse("security:controls")).content.decode()
    for name in ("security:policy", "security:accounts"):
        assert client.get(reverse(name)).status_code == 403
    assert client.get(reverse("orgs:users")).status_code == 403


def test_the_security_administrator_grants_the_separated_roles_audited(client, three):
    person = make_user("zhangwei", role=Role.EXPERT)
    client.force_login(three["security"])
    client.post(reverse("security:account-role", args=[person.pk]), {"role": Role.AUDIT_ADMIN})
    person.refresh_from_db()
    assert person.role == Role.AUDIT_ADMIN  # one role: an audit admin holds no other
    change = LogEntry.objects.get_for_object(person).filter(action=LogEntry.Action.UPDATE).get()
    assert change.actor == three["security"] and change.changes["role"][1] == Role.AUDIT_ADMIN
    # business roles are the system administrator's to give
    other = make_user("lisi", role=Role.LIAISON)
    client.post(reverse("security:account-role", args=[other.pk]), {"role": Role.OFFICE})
    other.refresh_from_db()
    assert other.role == Role.LIAISON
    root = make_user("root", superuser=True)
    assert client.post(reverse("security:account-role", args=[root.pk]),
                       {"role": Role.AUDIT_ADMIN}).status_code == 404
    assert client.post(reverse("security:account-role", args=[three["security"].pk]),
                       {"role": Role.AUDIT_ADMIN}).status_code == 404  # not oneself


ACCOUNT_ROUTES = ("security:account-unlock", "security:account-password",
                  "security:account-role", "security:account-totp")


def test_outsiders_reach_no_account_route_and_change_nothing(client, three):
    target = make_user("wangfang", role=Role.OFFICE, division_code="510521")
    outsiders = [three["system"], three["audit"],
                 make_user("hj_office", role=Role.OFFICE, division_code="510522"),
                 make_user("hj_liaison", role=Role.LIAISON, division_code="510522",
                           agencies=(make_agency("合江县民政局", "510522"),))]
    chain.seal_all()
    before = (LogEntry.objects.count(), PasswordState.objects.count(),
              list(User.objects.order_by("pk").values_list("role", flat=True)))
    for outsider in outsiders:
        client.force_login(outsider)
        for name in ACCOUNT_ROUTES:
            for method in (client.get, client.post):
                response = method(reverse(name, args=[target.pk]), {"role": Role.AUDIT_ADMIN})
                assert response.status_code in (403, 404, 405), (outsider, name, method)
    after = (LogEntry.objects.count(), PasswordState.objects.count(),
             list(User.objects.order_by("pk").values_list("role", flat=True)))
    assert after == before


def test_the_controls_page_lists_each_control_with_its_live_status(client, three):
    client.force_login(three["security"])
    saved = client.post(reverse("security:policy"), {
        "min_length": 12, "min_classes": 3, "expiry_days": 90, "history_count": 5,
        "idle_minutes": 20, "totp_required": "on", "change_after_reset": "on"})
    assert saved.status_code == 302, saved.context["form"].errors
    page = client.get(reverse("security:controls"))
    keys = [c.key for c in page.context["controls"]]
    assert keys == ["audit_chain", "audit_redaction", "audit_retention", "password", "lockout", "idle", "totp",
                    "separation", "headers", "uploads"]
    text = page.content.decode()
    assert "至少 12 位" in text and "20 分钟" in text and "强制" in text
    assert LogEntry.objects.filter(content_type__model="securitypolicy",
                                   actor=three["security"]).exists()


def test_the_audit_page_lists_views_of_a_patient_and_many_to_many_changes(client, three):
    """Records django-auditlog cannot format itself (a null value, a many-to-many change) are
    shown, not an error: they are never rewritten, so the page must cope."""
    from shidian.cases import needtoknow
    from shidian.cases import services as case_services
    from shidian.packs.psych.testing import make_world, patient_values

    world = make_world()  # the doctors join the health centre: a many-to-many change
    case = case_services.case_create(user=world.grid, programme=world.patients,
                                     values=patient_values(registered_on="2020-06-03"))
    needtoknow.member_add(user=world.grid, case=case, member=world.doctor,
                          duty="psych_doctor", initial=True)
    case_services.case_update(user=world.doctor, case_id=case.pk,
                              values={"guardian_phone": "13700001111"})  # opens the patient
    client.force_login(three["audit"])
    page = client.get(reverse("security:audit"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "viewed: record → —" in text
    assert "agencies: add 玉蟾街道社区卫生服务中心" in text
