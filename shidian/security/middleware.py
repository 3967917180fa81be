"""Per-request controls: headers (CSP), idle timeout, second factor, password expiry, sealing.

Place after ``AuthenticationMiddleware`` (and ``MessageMiddleware``). In order, for a signed-in
user: a session idle longer than the policy allows is signed out; a user who must give a
one-time code is sent to that page; a user whose password expired or was reset by someone
else is sent to the password page. API calls get a JSON 403 instead of a redirect.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from . import chain
from .models import PasswordState
from .policy import current_actor, policy_get
from .services import totp_required

DEFAULT_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
               "font-src 'self' data:; connect-src 'self'; object-src 'none'; "
               "base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
SESSION_LAST_SEEN = "security_last_seen"
SESSION_OTP_USER = "security_otp_user"
# What the checks found for this session's user ({"otp", "password", "idle", "until"}): made
# at login and again every few minutes, so an ordinary request costs no query.
SESSION_GATE = "security_gate"
RECHECK_SECONDS = 300
# The last-seen time is written to the session at most once a minute: writing it on every
# request cost each page a session UPDATE and a commit (bench/load.py). The idle timeout
# (30 minutes by default) is therefore exact to within this many seconds.
LAST_SEEN_RESOLUTION = 60
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def csp_header() -> str:
    return getattr(settings, "SHIDIAN_CSP", DEFAULT_CSP) or DEFAULT_CSP


def password_must_change(user: Any) -> bool:
    policy = policy_get()
    state = PasswordState.objects.filter(user_id=user.pk).first()
    if state is not None and state.must_change:
        return True
    if not policy.expiry_days:
        return False
    changed = state.changed_at if state is not None else user.date_joined
    return bool(changed and (timezone.now() - changed).days >= policy.expiry_days)


def gate_compute(user: Any, *, now: int) -> dict[str, int | bool]:
    return {"otp": totp_required(user), "password": password_must_change(user),
            "idle": policy_get().idle_minutes * 60, "until": now + RECHECK_SECONDS}


def gate_state(request: HttpRequest, *, now: int) -> dict[str, Any]:
    gate = request.session.get(SESSION_GATE)
    if not isinstance(gate, dict) or gate.get("until", 0) <= now:
        gate = gate_compute(request.user, now=now)
        request.session[SESSION_GATE] = gate
    return gate


def gate_forget(request: HttpRequest) -> None:
    """Check again at the next request (after a password change or a second-factor step)."""
    request.session.pop(SESSION_GATE, None)


def on_login(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    """Make the checks when the user signs in (connected in ``SecurityConfig.ready``)."""
    if request is not None and hasattr(request, "session"):
        now = int(time.time())
        request.session[SESSION_GATE] = gate_compute(user, now=now)
        request.session[SESSION_LAST_SEEN] = now


class SecurityMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        token = current_actor.set(user if getattr(user, "is_authenticated", False) else None)
        try:
            response = self._gate(request)
            if response is None:
                response = self.get_response(request)
        finally:
            current_actor.reset(token)
        if request.method in UNSAFE and response.status_code < 400:
            self._sweep()  # a refused request wrote nothing to seal
        response.headers.setdefault("Content-Security-Policy", csp_header())
        response.headers.setdefault("Permissions-Policy",
                                    "camera=(), microphone=(), geolocation=(), payment=()")
        return response

    @staticmethod
    def _exempt(path: str) -> bool:
        """Pages a user reaches before the checks are met (signing in and out, the password
        and second-factor pages, static files)."""
        prefixes = [settings.STATIC_URL or "/static/", "/i18n/"]
        for name in ("logout", "login", "security:password", "security:otp"):
            try:
                prefixes.append(reverse(name))
            except NoReverseMatch:
                continue
        return any(path.startswith(p) for p in prefixes)

    def _gate(self, request: HttpRequest) -> HttpResponse | None:
        user = getattr(request, "user", None)
        if not getattr(user, "is_authenticated", False):
            return None
        now = int(time.time())
        gate = gate_state(request, now=now)
        last = request.session.get(SESSION_LAST_SEEN)
        if last is not None and now - int(last) > gate["idle"]:
            logout(request)
            return self._refuse(request, "login", _(
                "You were signed out after %(min)d minutes without activity.") % {
                "min": gate["idle"] // 60})
        if last is None or now - int(last) >= LAST_SEEN_RESOLUTION:
            request.session[SESSION_LAST_SEEN] = now
        if self._exempt(request.path):
            return None
        if gate["otp"] and request.session.get(SESSION_OTP_USER) != user.pk:
            return self._refuse(request, "security:otp",
                                _("Enter the code of your authenticator app."))
        if gate["password"]:
            return self._refuse(request, "security:password",
                                _("Your password has expired or was reset: choose a new one."))
        return None

    @staticmethod
    def _refuse(request: HttpRequest, target: str, message: str) -> HttpResponse:
        if request.path.startswith("/api/"):
            return JsonResponse({"code": "forbidden", "message": message, "extra": {}},
                                status=403)
        url = reverse(target)
        if getattr(request, "htmx", False):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = url
            return response
        if target == "login":
            messages.info(request, message)
            return redirect(f"{url}?next={request.path}")
        return redirect(url)

    @staticmethod
    def _sweep() -> None:
        """Seal audit records that bypassed the signals (bulk writes) during this request."""
        try:
            if chain.unsealed_exist():
                chain.seal_all_or_later()
        except Exception:  # noqa: BLE001  never fail a response that has been made
            chain.log.exception("sealing after the request failed; the next sweep retries")
