"""Pages of the security app: the controls page, the policy, accounts (security administrator),
the audit trail and login log (audit administrator), and each user's password and second factor.

Views are thin: they check the role through ``shidian.security.access`` (via the services and
selectors), call one service or selector and render.
"""
from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

import segno
from auditlog.models import LogEntry
from django import forms
from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shidian.core.errors import ErrorCode, ShidianError
from shidian.orgs.models import Role
from shidian.security import access, chain, selectors, services
from shidian.security.middleware import SESSION_OTP_USER, gate_forget
from shidian.security.models import PasswordState, SecurityPolicy, TotpDevice
from shidian.security.policy import policy_get

PAGE_SIZE = 50


def _guarded(func: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Wrong role: 403; an account out of reach (or missing): 404."""
    @wraps(func)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return func(request, *args, **kwargs)
        except ShidianError as err:
            if err.code == ErrorCode.NOT_FOUND:
                raise Http404(_("Not found.")) from err
            if err.code == ErrorCode.FORBIDDEN:
                raise PermissionDenied(err.message) from err
            raise
    return wrapper


def _styled(form: forms.Form) -> forms.Form:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            widget.attrs.setdefault("class", "form-check-input")
        else:
            widget.attrs.setdefault("class", "form-control")
    return form


# --- the controls page --------------------------------------------------------------------------

@login_required
@require_GET
@_guarded
def controls(request: HttpRequest) -> HttpResponse:
    rows = selectors.controls(actor=request.user)  # type: ignore[arg-type]
    return render(request, "web/security/controls.html", {
        "controls": rows, "is_security": access.is_security_admin(request.user),
        "is_audit": access.is_audit_admin(request.user)})


# --- the policy (security administrator) --------------------------------------------------------

class PolicyForm(forms.ModelForm):
    class Meta:
        model = SecurityPolicy
        fields = ["min_length", "min_classes", "expiry_days", "history_count", "idle_minutes",
                  "totp_required", "change_after_reset"]


@login_required
@require_http_methods(["GET", "POST"])
@_guarded
def policy(request: HttpRequest) -> HttpResponse:
    access.require_security_admin(request.user)
    form = _styled(PolicyForm(request.POST or None, instance=policy_get()))
    if request.method == "POST" and form.is_valid():
        try:
            services.policy_update(actor=request.user,  # type: ignore[arg-type]
                                   **form.cleaned_data)
        except ShidianError as err:
            form.add_error(err.extra.get("field"), err.message)
        else:
            messages.success(request, _("The security policy is saved."))
            return redirect("security:policy")
    return render(request, "web/security/policy.html", {"form": form})


# --- accounts (security administrator) ----------------------------------------------------------

@login_required
@require_GET
@_guarded
def accounts(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    users = selectors.accounts_list(actor=request.user, text=query)  # type: ignore[arg-type]
    page = Paginator(users, PAGE_SIZE).get_page(request.GET.get("page"))
    enrolled = set(TotpDevice.objects.filter(user__in=list(page), confirmed_at__isnull=False)
                   .values_list("user_id", flat=True))
    return render(request, "web/security/accounts.html", {
        "page": page, "query": query, "keep": urlencode({"q": query}),
        "locked": selectors.accounts_locked(), "enrolled": enrolled,
        "three_roles": [(r.value, r.label) for r in access.THREE_ROLES],
        "business_roles": [(r.value, r.label) for r in Role if r not in access.THREE_ROLES]})


def _back(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next", "")
    if target.startswith("/security/") and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("security:accounts")


@login_required
@require_POST
@_guarded
def account_unlock(request: HttpRequest, user_id: int) -> HttpResponse:
    if services.account_unlock(actor=request.user, user_id=user_id):  # type: ignore[arg-type]
        messages.success(request, _("The account is unlocked."))
    else:
        messages.info(request, _("The account was not locked."))
    return _back(request)


@login_required
@require_POST
@_guarded
def account_force_password(request: HttpRequest, user_id: int) -> HttpResponse:
    services.account_force_password_change(actor=request.user,  # type: ignore[arg-type]
                                           user_id=user_id)
    messages.success(request, _("The user must choose a new password at the next request."))
    return _back(request)


@login_required
@require_POST
@_guarded
def account_role(request: HttpRequest, user_id: int) -> HttpResponse:
    try:
        target = services.account_role_set(actor=request.user,  # type: ignore[arg-type]
                                           user_id=user_id, role=request.POST.get("role", ""))
    except ShidianError as err:
        if err.code != ErrorCode.INVALID:
            raise
        messages.error(request, err.message)
    else:
        messages.success(request, _("%(name)s is now: %(role)s.") % {
            "name": target.username, "role": target.get_role_display()})
    return _back(request)


@login_required
@require_POST
@_guarded
def account_totp_reset(request: HttpRequest, user_id: int) -> HttpResponse:
    if services.account_totp_reset(actor=request.user, user_id=user_id):  # type: ignore[arg-type]
        messages.success(request, _("The authenticator is removed; the user sets up a new one."))
    else:
        messages.info(request, _("The user has no authenticator."))
    return _back(request)


# --- the audit trail (audit administrator) ------------------------------------------------------

def _day(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


@login_required
@require_GET
@_guarded
def audit(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    action = request.GET.get("action", "")
    day_from, day_to = _day(request.GET.get("from", "")), _day(request.GET.get("to", ""))
    entries = selectors.audit_entries(actor=request.user,  # type: ignore[arg-type]
                                      text=query, action=action, day_from=day_from,
                                      day_to=day_to)
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    for entry in page:
        entry.changes_display = selectors.changes_display(entry)
    from shidian.security.models import AuditVerifyRun

    return render(request, "web/security/audit.html", {
        "page": page, "query": query, "action": action, "actions": LogEntry.Action.choices,
        "day_from": request.GET.get("from", ""), "day_to": request.GET.get("to", ""),
        "keep": urlencode({"q": query, "action": action, "from": request.GET.get("from", ""),
                           "to": request.GET.get("to", "")}),
        "last_run": AuditVerifyRun.objects.first(),
        "redactions": selectors.redactions_summary()[:20]})


@login_required
@require_POST
@_guarded
def audit_verify(request: HttpRequest) -> HttpResponse:
    access.require_audit_admin(request.user)
    result = chain.audit_verify(source="page")
    if result.ok and result.redacted:
        messages.success(request, _("The audit trail verifies: %(n)d records checked, "
                                    "%(r)d of them redacted.") % {
            "n": result.checked, "r": result.redacted})
    elif result.ok:
        messages.success(request, _("The audit trail verifies: %(n)d records checked.") % {
            "n": result.checked})
    else:
        messages.error(request, _("The audit trail does NOT verify: %(n)d problems.") % {
            "n": len(result.problems)})
    return redirect("security:audit")


@login_required
@require_GET
@_guarded
def logins(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    rows = selectors.logins_list(actor=request.user, text=query)  # type: ignore[arg-type]
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    failures = selectors.login_failures(actor=request.user)[:50]  # type: ignore[arg-type]
    return render(request, "web/security/logins.html", {
        "page": page, "query": query, "keep": urlencode({"q": query}), "failures": failures})


# --- each user's password and second factor -----------------------------------------------------

@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def password(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.user, request.POST or None)
    _styled(form)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        PasswordState.objects.filter(user_id=user.pk).update(must_change=False)
        update_session_auth_hash(request, user)
        gate_forget(request)
        messages.success(request, _("Your password is changed."))
        return redirect("home")
    state = PasswordState.objects.filter(user_id=request.user.pk).first()
    return render(request, "web/security/password.html", {
        "form": form, "state": state, "policy": policy_get()})


class CodeForm(forms.Form):
    code = forms.CharField(label=gettext_lazy("6-digit code"), max_length=8,
                           widget=forms.TextInput(attrs={"autocomplete": "one-time-code",
                                                         "inputmode": "numeric"}))


def _otp_done(request: HttpRequest) -> HttpResponse:
    request.session[SESSION_OTP_USER] = request.user.pk
    gate_forget(request)
    target = request.GET.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("home")


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def otp(request: HttpRequest) -> HttpResponse:
    """The second step of signing in: the authenticator's code."""
    user = request.user
    if not TotpDevice.objects.filter(user_id=user.pk, confirmed_at__isnull=False).exists():
        if services.totp_required(user):
            return redirect("security:otp-setup")
        return redirect("home")
    form = _styled(CodeForm(request.POST or None))
    if request.method == "POST" and form.is_valid():
        try:
            services.totp_verify(user=user, code=form.cleaned_data["code"])  # type: ignore[arg-type]
        except ShidianError as err:
            if _otp_failed(request):
                logout(request)
                messages.error(request, _("Too many wrong codes: the account is locked until "
                                          "a security administrator unlocks it."))
                return redirect("login")
            form.add_error("code", err.message)
        else:
            return _otp_done(request)
    return render(request, "web/security/otp.html", {"form": form})


def _otp_failed(request: HttpRequest) -> bool:
    """A wrong code counts as a failed login for django-axes; True once the account is locked."""
    from axes.handlers.proxy import AxesProxyHandler

    credentials = {"username": request.user.get_username()}
    AxesProxyHandler.user_login_failed(sender=None, credentials=credentials, request=request)
    return bool(AxesProxyHandler.is_locked(request, credentials))


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def otp_setup(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator: scan the QR code, confirm with a code."""
    user = request.user
    device = TotpDevice.objects.filter(user_id=user.pk).first()
    if device is not None and device.confirmed_at is not None:
        messages.info(request, _("Your authenticator is already set up."))
        return redirect("home")
    device = services.totp_enroll_start(user=user)  # type: ignore[arg-type]
    form = _styled(CodeForm(request.POST or None))
    if request.method == "POST" and form.is_valid():
        try:
            services.totp_confirm(user=user, code=form.cleaned_data["code"])  # type: ignore[arg-type]
        except ShidianError as err:
            form.add_error("code", err.message)
        else:
            messages.success(request, _("Your authenticator is set up."))
            return _otp_done(request)
    uri = services.totp_uri(user=user, device=device)  # type: ignore[arg-type]
    return render(request, "web/security/otp_setup.html", {
        "form": form, "secret": uri.split("secret=")[1].split("&")[0]})


@login_required
@never_cache
@require_GET
def otp_qr(request: HttpRequest) -> HttpResponse:
    """The QR code of the authenticator being set up, as SVG drawn here (no outside service)."""
    device = TotpDevice.objects.filter(user_id=request.user.pk, confirmed_at__isnull=True).first()
    if device is None:
        raise Http404(_("Not found."))
    uri = services.totp_uri(user=request.user, device=device)  # type: ignore[arg-type]
    out = io.BytesIO()
    segno.make(uri, error="m").save(out, kind="svg", scale=5, border=2, xmldecl=False)
    response = HttpResponse(out.getvalue(), content_type="image/svg+xml")
    response["Cache-Control"] = "no-store"
    return response
