"""In Chromium, under the Content-Security-Policy: pages work and the browser reports no
violation (an inline script, style or handler would be refused and logged)."""
from __future__ import annotations

import pyotp
import pytest

from shidian.core import crypto
from shidian.orgs.models import Role
from shidian.orgs.testing import PASSWORD, make_agency, make_user
from shidian.security.models import SecurityPolicy, TotpDevice
from shidian.security.policy import policy_forget

pytestmark = pytest.mark.browser


def watch_csp(page) -> list[str]:
    seen: list[str] = []
    page.on("console", lambda msg: seen.append(msg.text)
            if "Content Security Policy" in msg.text or "Content-Security-Policy" in msg.text
            else None)
    return seen


def log_in(page, base, username):
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")


def log_out(page):
    page.click("nav form button[type=submit]")
    page.wait_for_url("**/login/**")


def test_pages_work_under_the_csp_with_no_violation(page, live_server, transactional_db):
    base = live_server.url
    make_user("sys_admin", role=Role.ADMIN, division_code="510521")
    make_agency("泸县民政局", "510521")
    make_user("sec_admin", role=Role.SECURITY_ADMIN)
    make_user("aud_admin", role=Role.AUDIT_ADMIN)
    office = make_user("lx_office", role=Role.OFFICE, division_code="510521")
    violations = watch_csp(page)

    # the system administrator's pages (htmx, Bootstrap dropdowns)
    log_in(page, base, "sys_admin")
    page.wait_for_selector("[data-testid=current-user]")
    page.goto(f"{base}/orgs/users/new/")
    page.click("[data-testid=nav-orgs]")
    page.wait_for_selector("[data-testid=nav-users]", state="visible")
    log_out(page)

    # the audit administrator verifies the chain
    log_in(page, base, "aud_admin")
    page.wait_for_url("**/security/audit/")  # the audit administrator's start page
    page.click("[data-testid=verify]")
    page.wait_for_selector(".alert-success")
    assert "通过" in page.inner_text("[data-testid=last-verify]")
    page.screenshot(path=str(page.artifacts / "audit.png"), full_page=True)
    log_out(page)

    # the security administrator requires a second factor for offices
    log_in(page, base, "sec_admin")
    page.goto(f"{base}/security/policy/")
    page.check("#id_totp_required")
    page.click("[data-testid=policy-form] button[type=submit]")
    page.wait_for_selector(".alert-success")
    page.goto(f"{base}/security/")
    page.wait_for_selector("[data-testid=controls]")
    page.screenshot(path=str(page.artifacts / "controls.png"), full_page=True)
    assert page.inner_text("[data-testid=status-totp]").startswith("强制")
    log_out(page)

    # the office sets up its authenticator: the QR code is drawn by the server, as SVG
    policy_forget()
    log_in(page, base, "lx_office")
    page.wait_for_url("**/security/otp/setup/")
    page.wait_for_selector("[data-testid=otp-qr]")
    page.wait_for_function("document.querySelector('[data-testid=otp-qr]').naturalWidth > 0")
    secret = crypto.decrypt_text(TotpDevice.objects.get(user=office).secret)
    page.fill("#id_code", pyotp.TOTP(secret).now())
    page.click("[data-testid=otp-setup-form] button[type=submit]")
    page.wait_for_selector("[data-testid=current-user]")
    assert "/security/otp" not in page.url
    log_out(page)

    assert SecurityPolicy.objects.get(pk=1).totp_required
    assert violations == []
    # and the browser does enforce the policy: an inline style is refused and reported
    with page.expect_console_message(lambda m: "Content Security Policy" in m.text):
        page.evaluate("document.body.setAttribute('style', 'color: red')")
