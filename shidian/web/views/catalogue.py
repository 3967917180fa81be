"""Pages of the pack catalogue: the packs, creating a programme from one, a programme's pack page.

Thin: parse the form, call one service or selector, render. Scope and role come from
``shidian.catalogue.access``.
"""
from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shidian.catalogue import access, selectors, services
from shidian.core.errors import ErrorCode, ShidianError
from shidian.orgs.models import User
from shidian.web.views.plans import _division_choices, _styled


class CreateForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Programme name"), max_length=200)
    division = forms.ChoiceField(label=gettext_lazy("Division"), required=False)
    year = forms.IntegerField(label=gettext_lazy("Year"), min_value=1990, max_value=2100)
    start_plan = forms.ChoiceField(label=gettext_lazy("Starting plan"))
    token = forms.CharField(widget=forms.HiddenInput, max_length=64)


class ItemForm(forms.Form):
    owner = forms.CharField(label=gettext_lazy("Responsible"), max_length=200)
    partner = forms.CharField(label=gettext_lazy("Towards"), max_length=200, required=False)
    duty = forms.CharField(label=gettext_lazy("Duty"), widget=forms.Textarea(attrs={"rows": 2}))


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _spec_or_404(key: str):
    try:
        return selectors.pack_get(key=key)
    except ShidianError as err:
        raise Http404(_("Not found.")) from err


@login_required
@require_GET
def pack_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not access.can_browse(user):
        raise PermissionDenied
    counts = selectors.install_counts()
    mine = selectors.installs_by_pack(installs=access.installs_visible_to(user=user))
    rows = [(spec, counts.get(spec.key, 0), mine.get(spec.key, []))
            for spec in selectors.pack_list()]
    return render(request, "web/catalogue/pack_list.html",
                  {"rows": rows, "can_create": access.can_create(user)})


@login_required
@require_http_methods(["GET", "POST"])
def programme_new(request: HttpRequest, pack: str) -> HttpResponse:
    user = _user(request)
    if not access.can_create(user):
        raise PermissionDenied
    spec = _spec_or_404(pack)
    form = _styled(CreateForm(request.POST or None, initial={
        "token": uuid.uuid4().hex, "year": timezone.localdate().year,
        "division": user.division_id or ""}))
    form.fields["division"].choices = _division_choices(user, national=True)
    form.fields["start_plan"].choices = [(p.key, p.label.zh) for p in spec.plans]
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                install = services.programme_create_from_pack(
                    user=user, pack_key=spec.key, name=data["name"],
                    division_code=data["division"], year=data["year"], token=data["token"],
                    start_plan=data["start_plan"])
            except ShidianError as err:
                if err.code == ErrorCode.NOT_FOUND:
                    messages.error(request, _("The division is outside your scope."))
                else:
                    messages.error(request, err.message)
            else:
                text = _("Programme %(name)s created from the pack %(pack)s; review its plan.")
                messages.success(request, text % {"name": install.programme.name,
                                                  "pack": spec.label})
                return redirect("plans:review", plan_id=install.plan_id)
        else:
            messages.error(request, _("Please correct the form."))
    return render(request, "web/catalogue/programme_new.html",
                  {"spec": spec, "form": form}, status=status)


def _install_or_404(user: User, programme_id: int):
    try:
        return access.access_install_by_programme_id(user=user, programme_id=programme_id)
    except ShidianError as err:
        raise Http404(_("Not found.")) from err


@login_required
@require_GET
def programme_pack(request: HttpRequest, programme_id: int) -> HttpResponse:
    user = _user(request)
    install = _install_or_404(user, programme_id)
    detail = selectors.install_detail(install=install)
    month = timezone.localdate().strftime("%YM%m")
    return render(request, "web/catalogue/programme_pack.html", {
        "install": install, "can_edit": access.can_create(user),
        "month": month,
        "has_feeds": bool(detail["spec"] and detail["spec"].feeds), **detail})


@login_required
@require_POST
def list_item_add(request: HttpRequest, list_id: int) -> HttpResponse:
    user = _user(request)
    form = ItemForm(request.POST)
    try:
        duty_list = access.access_list_for_change(user=user, list_id=list_id)
    except ShidianError as err:
        raise Http404(_("Not found.")) from err
    if form.is_valid():
        try:
            services.list_item_add(user=user, list_id=duty_list.pk, **form.cleaned_data)
        except ShidianError as err:
            messages.error(request, err.message)
        else:
            messages.success(request, _("Item added."))
    else:
        messages.error(request, _("Please correct the form."))
    return redirect("catalogue:programme", programme_id=duty_list.install.programme_id)


class PullForm(forms.Form):
    period = forms.RegexField(label=gettext_lazy("Period"), max_length=8,
                              regex=r"^\d{4}(M\d{2}|Q\d|H\d|W\d{2})?$")


@login_required
@require_POST
def feeds_pull(request: HttpRequest, programme_id: int) -> HttpResponse:
    user = _user(request)
    install = _install_or_404(user, programme_id)
    if not access.can_create(user):
        raise Http404(_("Not found."))
    form = PullForm(request.POST)
    if form.is_valid():
        try:
            changed = services.feeds_pull(user=user, install=install,
                                          period=form.cleaned_data["period"])
        except ShidianError as err:
            messages.error(request, err.message)
        else:
            messages.success(request, _("%(count)s figures taken from the registers.")
                             % {"count": changed})
    else:
        messages.error(request, _("Please correct the form."))
    return redirect("catalogue:programme", programme_id=install.programme_id)
