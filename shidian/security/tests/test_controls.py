"""The MLPS 2.0 controls as a user meets them: passwords, lockout, idle timeout, second factor,
headers, and the pages of the security and audit administrators."""
from __future__ import annotations

import datetime as dt
import time

import pyotp
import pytest
from auditlog.models import LogEntry
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from shidian.core import crypto
from shidian.orgs.models import Role
from shidian.orgs.testing import PASSWORD, make_user
from shidian.security import validators
from shidian.security.middleware import SESSION_LAST_SEEN
from shidian.security.models import PasswordState, SecurityPolicy, TotpDevice
from shidian.security.policy import current_actor, policy_forget

pytestmark = pytest.mark.django_db


def set_policy(**values):
    SecurityPolicy.objects.update_or_create(pk=1, defaults=values)
    policy_forget()


def login(client, username, password=PASSWORD):
    return client.post(reverse("login"), {"username": username, "password": password})


# --- passwords ----------------------------------------------------------------------------------

def codes(password, user=None):
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        return {e.code for e in exc.error_list}
    return set()


def test_a_password_needs_length_mixed_characters_and_not_the_user_name():
    user = make_user("wangfang")
    assert "password_too_short" in codes("Ab1-short", user)
    assert "password_too_simple" in codes("onlylowercaseletters", user)
    assert "password_has_username" in codes("Wangfang-2026-x", user)
    assert codes("Luxian-Caiwu-2026", user) == set()


def test_the_last_passwords_cannot_be_used_again():
    user = make_user("wangfang")
    for password in ("First-Passw0rd", "Second-Passw0rd", "Third-Passw0rd"):
        validate_password(password, user=user)
        user.set_password(password)
        user.save()
    assert "password_reused" in codes("First-Passw0rd", user)
    assert "password_reused" in codes("Third-Passw0rd", user)
    set_policy(history_count=2)
    assert "password_reused" not in codes("First-Passw0rd", user)


def test_an_expired_password_must_be_changed_before_anything_else(client):
    user = make_user("wangfang", role=Role.OFFICE)
    PasswordState.objects.create(user=user, changed_at=timezone.now() - dt.timedelta(days=91))
    login(client, "wangfang")
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"] == reverse("security:password")
    api = client.get("/api/plans/")
    assert api.status_code == 403 and api.json()["code"] == "forbidden"
    response = client.post(reverse("security:password"), {
        "old_password": PASSWORD, "new_password1": "Fresh-Passw0rd-26",
        "new_password2": "Fresh-Passw0rd-26"})
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 302  # the office's start page now
    assert client.get(reverse("home"))["Location"] != reverse("security:password")


def test_a_password_set_by_an_administrator_must_be_changed_at_next_login(client):
    admin = make_user("sys_admin", role=Role.ADMIN)
    user = make_user("wangfang", role=Role.OFFICE)
    token = current_actor.set(admin)  # as in the administrator's request
    try:
        user.set_password("Reset-By-Admin-26")
        user.save()
    finally:
        current_actor.reset(token)
    assert PasswordState.objects.get(user=user).must_change
    login(client, "wangfang", "Reset-By-Admin-26")
    assert client.get(reverse("home"))["Location"] == reverse("security:password")


# --- lockout and unlock -------------------------------------------------------------------------

def test_five_failures_lock_the_account_until_the_security_admin_unlocks_it(client):
    make_user("wangfang", role=Role.OFFICE)
    security = make_user("sec_admin", role=Role.SECURITY_ADMIN)
    for _ in range(5):
        login(client, "wangfang", "wrong-password")
    locked = login(client, "wangfang")
    assert locked.status_code == 429 or "_auth_user_id" not in client.session
    assert "_auth_user_id" not in client.session

    client.force_login(security)
    page = client.get(reverse("security:accounts"))
    assert "wangfang" in page.content.decode()
    target = page.context["locked"][0]["user"]
    client.post(reverse("security:account-unlock", args=[target.pk]))
    entry = LogEntry.objects.filter(object_pk=str(target.pk),
                                    additional_data__event="unlock").get()
    assert entry.actor == security
    client.logout()
    login(client, "wangfang")
    assert client.session["_auth_user_id"] == str(target.pk)


# --- idle timeout -------------------------------------------------------------------------------

def test_an_idle_session_is_signed_out(client):
    make_user("wangfang", role=Role.OFFICE)
    login(client, "wangfang")
    assert client.get(reverse("home")).status_code == 302
    session = client.session
    session[SESSION_LAST_SEEN] = int(time.time()) - 31 * 60
    session.save()
    response = client.get(reverse("reporting:plans"))
    assert response["Location"].startswith(reverse("login"))
    assert "_auth_user_id" not in client.session
    set_policy(idle_minutes=60)
    login(client, "wangfang")
    session = client.session
    session[SESSION_LAST_SEEN] = int(time.time()) - 31 * 60
    session.save()
    assert client.get(reverse("reporting:plans")).status_code == 200


def test_activity_keeps_the_session_without_writing_it_on_every_request(client):
    make_user("wangfang", role=Role.OFFICE)
    login(client, "wangfang")
    client.get(reverse("reporting:plans"))
    seen = client.session[SESSION_LAST_SEEN]
    client.get(reverse("reporting:plans"))  # within the minute: the session is not rewritten
    assert client.session[SESSION_LAST_SEEN] == seen
    session = client.session
    session[SESSION_LAST_SEEN] = int(time.time()) - 29 * 60  # active 29 minutes ago
    session.save()
    assert client.get(reverse("reporting:plans")).status_code == 200
    assert client.session[SESSION_LAST_SEEN] >= int(time.time()) - 5  # the clock restarts


# --- the second factor --------------------------------------------------------------------------

def current_code(user, *, offset=0):
    device = TotpDevice.objects.get(user=user)
    totp = pyotp.TOTP(crypto.decrypt_text(device.secret))
    return totp.at(int(time.time()) + offset * 30)


def test_offices_set_up_and_use_an_authenticator_when_the_policy_requires_it(client):
    office = make_user("wangfang", role=Role.OFFICE)
    liaison = make_user("lisi", role=Role.LIAISON)
    set_policy(totp_required=True)
    login(client, "lisi")
    assert client.get(reverse("home"))["Location"] != reverse("security:otp")  # not required
    client.logout()

    login(client, "wangfang")
    assert client.get(reverse("home"))["Location"] == reverse("security:otp")
    assert client.get(reverse("security:otp"))["Location"] == reverse("security:otp-setup")
    setup = client.get(reverse("security:otp-setup"))
    assert setup.status_code == 200
    qr = client.get(reverse("security:otp-qr"))
    assert qr["Content-Type"] == "image/svg+xml" and b"<svg" in qr.content
    wrong = client.post(reverse("security:otp-setup"), {"code": "000000"})
    assert wrong.status_code == 200 and not TotpDevice.objects.get(user=office).confirmed_at
    done = client.post(reverse("security:otp-setup"), {"code": current_code(office)})
    assert done.status_code == 302
    assert client.get(reverse("reporting:plans")).status_code == 200

    client.logout()
    login(client, "wangfang")
    assert client.get(reverse("reporting:plans"))["Location"] == reverse("security:otp")
    used = current_code(office)  # the code that confirmed the set-up cannot sign in again
    response = client.post(reverse("security:otp"), {"code": used})
    if response.status_code == 200:  # same 30-second step: refused as a replay
        response = client.post(reverse("security:otp"), {"code": current_code(office, offset=1)})
    assert response.status_code == 302
    assert client.get(reverse("reporting:plans")).status_code == 200
    assert liaison.pk != office.pk


# --- headers ------------------------------------------------------------------------------------

def test_pages_carry_the_security_headers(client):
    response = client.get(reverse("login"))
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_hsts_is_sent_over_https_in_production(client, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    response = client.get(reverse("login"), secure=True)
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")


def test_validators_are_in_force():
    from django.contrib.auth.password_validation import get_default_password_validators

    kinds = {type(v) for v in get_default_password_validators()}
    assert {validators.ComplexityValidator, validators.HistoryValidator} <= kinds
