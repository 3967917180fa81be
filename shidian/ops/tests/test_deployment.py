"""The production deployment of deploy/README.md, through nginx, in Chromium.

Runs only where that deployment is up (nginx with TLS in front of gunicorn, the worker, Redis,
PostgreSQL, the demo loaded): on the development machine after following deploy/README.md,
or anywhere with ``SHIDIAN_DEPLOY_URL=https://host``. Skipped everywhere else (CI).
"""
from __future__ import annotations

import http.client
import os
import re
import ssl
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

BASE = os.environ.get("SHIDIAN_DEPLOY_URL", "https://127.0.0.1").rstrip("/")
DEMO_PASSWORD = "Shidian@2026"  # the demo's, printed by `shidian serve` and in README.md
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "deployment"


def _deployment_up() -> bool:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with urllib.request.urlopen(f"{BASE}/login/", timeout=30, context=context) as response:
            return (response.status == 200 and "nginx" in response.headers.get("Server", "")
                    and "csrfmiddlewaretoken" in response.read().decode())
    except (urllib.error.URLError, OSError):
        return False


needs_deployment = pytest.mark.skipif(
    not _deployment_up(), reason=f"no Shidian deployment behind nginx at {BASE} "
                                 "(deploy/README.md; set SHIDIAN_DEPLOY_URL)")


@needs_deployment
def test_an_office_user_logs_in_through_nginx_and_opens_the_dashboard(browser):
    context = browser.new_context(ignore_https_errors=True, locale="zh-CN",
                                  timezone_id="Asia/Shanghai")
    page = context.new_page()
    page.set_default_timeout(30000)
    failed = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400
            else None)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        # Plain HTTP is sent to HTTPS by nginx.
        page.goto(BASE.replace("https://", "http://") + "/login/")
        assert page.url.startswith("https://")
        page.fill("#id_username", "demo_office")
        page.fill("#id_password", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("[data-testid=current-user]")
        page.goto(f"{BASE}/reporting/plans/")
        page.locator("a[href^='/reporting/plans/']").filter(
            has_text="安宁疗护").first.click()
        page.wait_for_url("**/reporting/plans/*/")
        response = page.reload()
        assert response is not None and response.status == 200
        headers = response.headers
        assert headers["server"].startswith("nginx")
        assert "max-age=" in headers["strict-transport-security"]
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
        # Static files come from collectstatic's hashed names, served by nginx.
        scripts = page.eval_on_selector_all("script[src]", "els => els.map(e => e.src)")
        assert scripts and all("/static/" in s for s in scripts)
        assert any(len(Path(s).name.split(".")) >= 3 for s in scripts)  # name.hash.js
        assert not failed, failed
        cookies = {c["name"]: c for c in context.cookies()}
        assert cookies["sessionid"]["secure"] and cookies["sessionid"]["httpOnly"]
    finally:
        context.close()


def _unverified() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


@needs_deployment
def test_a_body_over_nginx_limit_gets_a_page_in_chinese():
    """nginx refuses an upload over its 32 MB from the announced length alone, with the
    guide's page (deploy/nginx/errors/413.html), not nginx's bare English one."""
    host = urllib.parse.urlsplit(BASE)
    connection = http.client.HTTPSConnection(host.hostname, host.port or 443, timeout=30,
                                             context=_unverified())
    try:
        connection.putrequest("POST", "/reporting/")
        connection.putheader("Content-Type", "multipart/form-data; boundary=x")
        connection.putheader("Content-Length", str(40 * 1024 * 1024))
        connection.endheaders(b"--x\r\n")
        response = connection.getresponse()
        body = response.read().decode()
    finally:
        connection.close()
    assert response.status == 413
    assert "文件太大" in body and "Request Entity Too Large" not in body
    assert response.getheader("Cache-Control") == "no-store"
    assert "max-age=" in response.getheader("Strict-Transport-Security", "")


@needs_deployment
def test_static_files_come_from_nginx_with_one_far_future_cache_header():
    with urllib.request.urlopen(f"{BASE}/login/", timeout=30, context=_unverified()) as page:
        html = page.read().decode()
    script = re.search(r'src="(/static/[^"]+\.js)"', html)
    assert script, "the login page loads no script from /static/"
    with urllib.request.urlopen(BASE + script.group(1), timeout=30,
                                context=_unverified()) as response:
        assert response.headers["Server"].startswith("nginx")
        cache = response.headers.get_all("Cache-Control")
    assert len(cache) == 1 and "immutable" in cache[0] and "max-age=31536000" in cache[0]
