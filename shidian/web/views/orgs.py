"""Pages of the orgs app: divisions, agencies with aliases, users, Excel imports.

Reading agencies is for offices, leaders and administrators (their division subtree);
every write is for administrators and goes through ``shidian.orgs.services``. Objects out of
the user's scope answer 404 like missing ones, so ids in URLs cannot be probed.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from auditlog.models import LogEntry
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shidian.core.errors import ErrorCode, ShidianError
from shidian.orgs import access, imports, selectors, services
from shidian.orgs.models import Agency, AgencyKind, Division, Role, User

PAGE_SIZE = 50
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _not_found(func: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Objects out of scope (or missing) answer 404 alike."""
    @wraps(func)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return func(request, *args, **kwargs)
        except ShidianError as err:
            if err.code == ErrorCode.NOT_FOUND:
                raise Http404(_("Not found.")) from err
            raise
    return wrapper


def _reader(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    if not access.can_read_orgs(user):
        raise PermissionDenied
    return user


def _admin(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    if not access.is_admin(user):
        raise PermissionDenied
    return user


def _styled(form: forms.Form) -> forms.Form:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            widget.attrs.setdefault("class", "form-check-input")
        elif isinstance(widget, forms.Select):
            widget.attrs.setdefault("class", "form-select")
        else:
            widget.attrs.setdefault("class", "form-control")
    return form


def _field_error(form: forms.Form, err: ShidianError) -> None:
    """Put a service's message under the field it names (or on top of the form)."""
    field = err.extra.get("field")
    form.add_error(field if field in form.fields else None, err.message)


def _division_or_error(form: forms.Form, user: User, text: str,
                       field: str = "division") -> Division | None:
    """The division typed in a form (code or unique name) inside the user's area, or None
    with the reason under the field; None without error when the field is empty."""
    if not (text or "").strip():
        return None
    try:
        return selectors.division_lookup(user=user, text=text)
    except ShidianError as err:
        form.add_error(field, err.message)
        return None


def _division_quiet(user: User, text: str) -> Division | None:
    """The division typed (code or unique name) with its chain names, or None; no message."""
    try:
        division = selectors.division_lookup(user=user, text=text) if text else None
    except ShidianError:
        return None
    if division is not None:
        selectors.attach_chain_names([division])
    return division


# --- divisions ---------------------------------------------------------------------------


@login_required
@require_GET
def division_list(request: HttpRequest, code: str = "") -> HttpResponse:
    """Browse the division tree one level at a time, within the user's area."""
    user = _reader(request)
    parent = None
    if code:
        try:
            parent = access.access_division_by_code(user=user, code=code)
        except ShidianError:
            raise Http404(_("Not found.")) from None
    children = list(selectors.division_children(user=user, parent=parent)[:500])
    counts = selectors.agency_counts(user=user, divisions=children)
    for child in children:
        child.agency_count = counts.get(child.code, 0)  # type: ignore[attr-defined]
    chain = list(reversed(selectors.division_chain(division=parent))) if parent else []
    return render(request, "web/orgs/division_list.html", {
        "parent": parent, "chain": chain, "children": children,
        "tree_empty": not selectors.divisions_count(),
    })


@login_required
@require_GET
def division_options(request: HttpRequest) -> HttpResponse:
    """<option>s for the division input's datalist (htmx, as the user types)."""
    user = _reader(request)
    query = request.GET.get("q") or request.GET.get("division") or ""
    found = selectors.division_search(user=user, query=query, limit=20)
    return render(request, "web/orgs/_division_options.html", {"divisions": found})


# --- agencies ----------------------------------------------------------------------------


class AgencyForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Agency name"), max_length=128)
    division = forms.CharField(label=gettext_lazy("Division code or name"), max_length=12)
    kind = forms.ChoiceField(label=gettext_lazy("Kind of agency"), choices=AgencyKind.choices)
    short_name = forms.CharField(label=gettext_lazy("Short name"), max_length=64,
                                 required=False)
    credit_code = forms.CharField(label=gettext_lazy("Unified social credit code"),
                                  max_length=18, required=False)
    is_active = forms.BooleanField(label=gettext_lazy("In use"), required=False, initial=True)


class NewAgencyForm(AgencyForm):
    aliases = forms.CharField(label=gettext_lazy("Aliases"), required=False,
                              help_text=gettext_lazy("Other names plans use, separated by 、"),
                              widget=forms.Textarea(attrs={"rows": 2}))


class AliasForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("New alias"), max_length=128)


@login_required
@require_GET
def agency_list(request: HttpRequest) -> HttpResponse:
    user = _reader(request)
    query = request.GET.get("q", "").strip()
    code = request.GET.get("division", "").strip()
    division = None
    agencies = Agency.objects.none()
    if code:
        try:
            division = selectors.division_lookup(user=user, text=code)
        except ShidianError as err:
            messages.error(request, err.message)
        else:
            selectors.attach_chain_names([division])
    if division is not None or not code:
        agencies = selectors.agency_list(user=user, query=query,
                                         division_code=division.code if division else "")
    page = Paginator(agencies.prefetch_related("aliases"), PAGE_SIZE).get_page(
        request.GET.get("page"))
    selectors.attach_chain_names(a.division for a in page.object_list)
    return render(request, "web/orgs/agency_list.html", {
        "page": page, "query": query, "division_code": code, "division": division,
        "can_write": access.is_admin(user), "tree_empty": not selectors.divisions_count(),
        "keep": urlencode({"q": query, "division": code}),
    })


@login_required
@require_http_methods(["GET", "POST"])
def agency_new(request: HttpRequest) -> HttpResponse:
    user = _admin(request)
    form = _styled(NewAgencyForm(request.POST or None, initial={
        "division": request.GET.get("division", user.division_id or ""),
        "kind": AgencyKind.GOVERNMENT}))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        division = _division_or_error(form, user, data["division"])
        if division is not None:
            try:
                agency = services.agency_create(
                    actor=user, name=data["name"], division=division, kind=data["kind"],
                    short_name=data["short_name"], credit_code=data["credit_code"],
                    aliases=imports.split_list(data["aliases"]))
            except ShidianError as err:
                _field_error(form, err)
            else:
                messages.success(request, _("Agency %(name)s registered.") % {"name": agency})
                return redirect("orgs:agency", agency_id=agency.pk)
    return render(request, "web/orgs/agency_form.html", {
        "form": form, "tree_empty": not selectors.divisions_count()})


@login_required
@require_http_methods(["GET", "POST"])
@_not_found
def agency_detail(request: HttpRequest, agency_id: int) -> HttpResponse:
    user = _reader(request)
    agency = access.access_agency_by_id(user=user, agency_id=agency_id)
    can_write = access.agencies_manageable_by(user=user).filter(pk=agency.pk).exists()
    form = None
    if can_write:
        initial = {"name": agency.name, "division": agency.division_id, "kind": agency.kind,
                   "short_name": agency.short_name, "credit_code": agency.credit_code,
                   "is_active": agency.is_active}
        form = _styled(AgencyForm(request.POST or None, initial=initial))
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            division = _division_or_error(form, user, data["division"])
            if division is not None:
                try:
                    services.agency_update(
                        actor=user, agency=agency, name=data["name"], division=division,
                        kind=data["kind"], short_name=data["short_name"],
                        credit_code=data["credit_code"], is_active=data["is_active"])
                except ShidianError as err:
                    _field_error(form, err)
                else:
                    messages.success(request, _("Saved."))
                    return redirect("orgs:agency", agency_id=agency.pk)
    elif request.method == "POST":
        raise PermissionDenied
    selectors.attach_chain_names([agency.division])
    return render(request, "web/orgs/agency_detail.html", {
        "agency": agency, "form": form, "can_write": can_write,
        "alias_form": _styled(AliasForm()) if can_write else None,
        "aliases": agency.aliases.all(),
        "users": (access.users_visible_to(user=user).filter(agencies=agency)
                  .order_by("username") if access.is_admin(user) else []),
        "history": (LogEntry.objects.get_for_object(agency).select_related("actor")[:20]
                    if can_write else []),
    })


@login_required
@require_POST
@_not_found
def agency_alias_add(request: HttpRequest, agency_id: int) -> HttpResponse:
    user = _admin(request)
    agency = access.access_agency_for_change(user=user, agency_id=agency_id)
    form = AliasForm(request.POST)
    if form.is_valid():
        try:
            services.agency_alias_add(actor=user, agency=agency, name=form.cleaned_data["name"])
        except ShidianError as err:
            if err.code == ErrorCode.NOT_FOUND:
                raise
            messages.error(request, err.message)
        else:
            messages.success(request, _("Alias %(alias)s added.") % {
                "alias": form.cleaned_data["name"]})
    else:
        messages.error(request, services.NAME_REQUIRED)
    return redirect(reverse("orgs:agency", kwargs={"agency_id": agency.pk}) + "#aliases")


@login_required
@require_POST
@_not_found
def agency_alias_remove(request: HttpRequest, agency_id: int, alias_id: int) -> HttpResponse:
    user = _admin(request)
    agency = access.access_agency_for_change(user=user, agency_id=agency_id)
    services.agency_alias_remove(actor=user, agency=agency, alias_id=alias_id)
    messages.success(request, _("Alias removed."))
    return redirect(reverse("orgs:agency", kwargs={"agency_id": agency.pk}) + "#aliases")


@login_required
@require_GET
def agency_options(request: HttpRequest) -> HttpResponse:
    """The agency checkboxes of the user form for a division (htmx, when the division changes).
    """
    user = _admin(request)
    code = request.GET.get("division", "").strip()
    chosen = {int(pk) for pk in request.GET.getlist("agencies") if pk.isdigit()}
    agencies = _agency_choices(user, code)
    return render(request, "web/orgs/_agency_options.html", {
        "agencies": agencies, "chosen": chosen, "oob": True,
        "division": _division_quiet(user, code)})


def _agency_choices(user: User, text: str) -> list[Agency]:
    """Agencies the admin manages in the typed division's subtree (all of them without one)."""
    agencies = access.agencies_manageable_by(user=user).filter(is_active=True)
    division = _division_quiet(user, text)
    if division is not None:
        agencies = agencies.filter(division__code__startswith=division.code)
    return list(agencies.order_by("division_id", "name")[:500])


# --- users -------------------------------------------------------------------------------


class UserForm(forms.Form):
    username = forms.CharField(label=gettext_lazy("User name"), max_length=150)
    display_name = forms.CharField(label=gettext_lazy("Full name"), max_length=64,
                                   required=False)
    role = forms.ChoiceField(label=gettext_lazy("Role"), choices=Role.choices)
    division = forms.CharField(label=gettext_lazy("Division code or name"), max_length=12,
                               required=False)
    agencies = forms.MultipleChoiceField(label=gettext_lazy("Agencies"), required=False,
                                         widget=forms.CheckboxSelectMultiple)
    phone = forms.CharField(label=gettext_lazy("Phone"), max_length=20, required=False)
    email = forms.EmailField(label=gettext_lazy("Email"), required=False)
    password = forms.CharField(label=gettext_lazy("Initial password"), required=True,
                               strip=False, widget=forms.PasswordInput(render_value=False))
    is_active = forms.BooleanField(label=gettext_lazy("In use"), required=False, initial=True)

    def __init__(self, *args: Any, agencies: list[Agency], editing: bool = False,
                 **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.agency_objects = agencies
        self.fields["agencies"].choices = [(str(a.pk), a.name) for a in agencies]
        if editing:
            self.fields["username"].disabled = True
            self.fields["password"].required = False
            self.fields["password"].label = _("New password (leave empty to keep)")
        else:
            del self.fields["is_active"]


def _chosen_agencies(user: User, form: UserForm) -> list[Agency]:
    ids = [int(pk) for pk in form.cleaned_data.get("agencies") or []]
    return list(access.agencies_manageable_by(user=user).filter(pk__in=ids))


def _user_form_page(request: HttpRequest, form: UserForm, target: User | None) -> HttpResponse:
    text = form["division"].value() or ""
    return render(request, "web/orgs/user_form.html", {
        "form": form, "target": target,
        "division": _division_quiet(request.user, text),  # type: ignore[arg-type]
        "chosen": {str(v) for v in (form["agencies"].value() or [])},
        "tree_empty": not selectors.divisions_count(),
        "locked": bool(target and selectors.users_locked(usernames=[target.username])),
    })


@login_required
@require_GET
def user_list(request: HttpRequest) -> HttpResponse:
    user = _admin(request)
    query = request.GET.get("q", "").strip()
    role = request.GET.get("role", "")
    role = role if role in Role.values else ""
    users = selectors.user_list(user=user, query=query, role=role)
    page = Paginator(users, PAGE_SIZE).get_page(request.GET.get("page"))
    locked = selectors.users_locked(usernames=[u.username for u in page.object_list])
    selectors.attach_chain_names(u.division for u in page.object_list if u.division)
    return render(request, "web/orgs/user_list.html", {
        "page": page, "query": query, "role": role, "roles": Role.choices, "locked": locked,
        "keep": urlencode({"q": query, "role": role}),
    })


@login_required
@require_http_methods(["GET", "POST"])
def user_new(request: HttpRequest) -> HttpResponse:
    user = _admin(request)
    code = (request.POST.get("division") if request.method == "POST"
            else request.GET.get("division", user.division_id or "")) or ""
    form = UserForm(request.POST or None, agencies=_agency_choices(user, code),
                    initial={"division": code, "role": Role.LIAISON})
    _styled(form)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        division = _division_or_error(form, user, data["division"])
        if not form.errors:
            try:
                created = services.user_create(
                    actor=user, username=data["username"], password=data["password"],
                    role=data["role"], division=division,
                    agencies=_chosen_agencies(user, form), display_name=data["display_name"],
                    phone=data["phone"], email=data["email"])
            except ShidianError as err:
                _field_error(form, err)
            else:
                messages.success(request, _("User %(name)s created.") % {
                    "name": created.username})
                return redirect("orgs:user", user_id=created.pk)
    return _user_form_page(request, form, None)


@login_required
@require_http_methods(["GET", "POST"])
@_not_found
def user_detail(request: HttpRequest, user_id: int) -> HttpResponse:
    user = _admin(request)
    target = access.access_user_by_id(user=user, user_id=user_id)
    code = (request.POST.get("division") if request.method == "POST"
            else target.division_id) or ""
    initial = {"username": target.username, "display_name": target.display_name,
               "role": target.role, "division": target.division_id or "",
               "agencies": [str(pk) for pk in target.agencies.values_list("pk", flat=True)],
               "phone": target.phone, "email": target.email, "is_active": target.is_active}
    form = UserForm(request.POST or None, agencies=_agency_choices(user, code), editing=True,
                    initial=initial)
    _styled(form)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        division = _division_or_error(form, user, data["division"])
        if not form.errors:
            try:
                services.user_update(
                    actor=user, user=target, role=data["role"], division=division,
                    agencies=_chosen_agencies(user, form), display_name=data["display_name"],
                    phone=data["phone"], email=data["email"], is_active=data["is_active"],
                    password=data["password"] or None)
            except ShidianError as err:
                if err.code == ErrorCode.NOT_FOUND and not err.extra.get("field"):
                    raise
                _field_error(form, err)
            else:
                messages.success(request, _("Saved."))
                return redirect("orgs:user", user_id=target.pk)
    return _user_form_page(request, form, target)


@login_required
@require_POST
@_not_found
def user_unlock(request: HttpRequest, user_id: int) -> HttpResponse:
    user = _admin(request)
    target = access.access_user_by_id(user=user, user_id=user_id)
    removed = services.user_unlock(actor=user, user=target)
    if removed:
        messages.success(request, _("%(name)s can log in again.") % {"name": target.username})
    else:
        messages.info(request, _("%(name)s was not locked.") % {"name": target.username})
    return redirect(request.POST.get("next") if request.POST.get("next", "").startswith(
        "/orgs/") else reverse("orgs:users"))


# --- imports -----------------------------------------------------------------------------


IMPORTERS = {
    "agencies": (imports.agencies_import, imports.agencies_template, imports.AGENCY_COLUMNS,
                 imports.MAX_AGENCY_ROWS),
    "users": (imports.users_import, imports.users_template, imports.USER_COLUMNS,
              imports.MAX_USER_ROWS),
}


class ImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Excel file (.xlsx)"))
    partial = forms.BooleanField(
        label=gettext_lazy("Save the good rows even if some rows have errors"), required=False)


@login_required
@require_http_methods(["GET", "POST"])
def import_page(request: HttpRequest, kind: str) -> HttpResponse:
    user = _admin(request)
    if kind not in IMPORTERS:
        raise Http404(_("Not found."))
    run, _template, columns, max_rows = IMPORTERS[kind]
    form = _styled(ImportForm(request.POST or None, request.FILES or None))
    result = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            form.add_error("file", _("The file is larger than %(mb)d MB.") % {
                "mb": MAX_UPLOAD_BYTES // (1024 * 1024)})
        else:
            try:
                result = run(actor=user, upload=upload, partial=form.cleaned_data["partial"])
            except imports.ImportFailed as failed:
                result = failed.result
                messages.error(request, failed.message)
            else:
                messages.success(request, _("%(count)d rows imported.") % {
                    "count": result.created})
    return render(request, "web/orgs/import.html", {
        "kind": kind, "form": form, "result": result, "columns": columns,
        "max_rows": max_rows,
        "issues": list(imports.iter_issue_rows(result)) if result else [],
    })


@login_required
@require_GET
def import_template(request: HttpRequest, kind: str) -> HttpResponse:
    _admin(request)
    if kind not in IMPORTERS:
        raise Http404(_("Not found."))
    content = IMPORTERS[kind][1]()
    response = HttpResponse(content, content_type=XLSX)
    filename = {"agencies": "agencies-template.xlsx", "users": "users-template.xlsx"}[kind]
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    _reader(request)
    return redirect("orgs:agencies")
