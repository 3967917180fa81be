"""Log in, log out, and send each role to its starting page."""
from __future__ import annotations

from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from shidian.orgs.models import Role

# Where each role starts its day: the page it would open first anyway.
ROLE_HOME = {
    Role.LIAISON: "reporting:workspace",
    Role.PILOT_SITE: "reporting:workspace",
    Role.OFFICE: "reporting:plans",
    Role.LEADER: "reporting:plans",
    Role.CASE_WORKER: "cases:programmes",
    Role.ADMIN: "orgs:index",
    Role.SECURITY_ADMIN: "security:controls",
    Role.AUDIT_ADMIN: "security:audit",
}


class ShidianLoginView(LoginView):
    template_name = "web/account/login.html"
    redirect_authenticated_user = True


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("login")


@login_required
def home(request: HttpRequest) -> HttpResponse:
    target = ROLE_HOME.get(request.user.role)
    if target is None:
        return render(request, "web/home.html")
    return redirect(target)
