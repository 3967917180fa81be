"""Pages of the plans app: programmes, plan list, import, review, versions, cascade, tasks.

Views are thin: they read the request, go through ``shidian.plans.access`` for every object,
call one service or selector, and render. A ``ShidianError`` becomes a message on the page.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shidian.core.errors import ErrorCode, ShidianError
from shidian.indicators.access import targets_visible_to
from shidian.orgs.access import divisions_visible_to
from shidian.orgs.models import AgencyKind, Division, User
from shidian.orgs.selectors import ancestor_codes
from shidian.plans import access, selectors, services
from shidian.plans.diff import DRAFT, plan_versions_diff
from shidian.plans.models import Plan, PlanStatus, Recurrence, Task, UnitRole

UNIT_SPLIT = re.compile(r"[、，,；;\n]+")


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


def _writer(request: HttpRequest) -> User:
    user = request.user
    if not access.can_write_plans(user):  # type: ignore[arg-type]
        raise PermissionDenied
    return user  # type: ignore[return-value]


def _split_units(text: str) -> list[str]:
    return [part.strip() for part in UNIT_SPLIT.split(text or "") if part.strip()]


# --- forms ----------------------------------------------------------------------------------


class ProgrammeForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Programme name"), max_length=200)
    domain = forms.CharField(label=gettext_lazy("Domain"), max_length=32, required=False)
    division = forms.ChoiceField(label=gettext_lazy("Division"), required=False)
    description = forms.CharField(label=gettext_lazy("Description"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 2}))


class ImportForm(forms.Form):
    programme = forms.ChoiceField(label=gettext_lazy("Programme"))
    division = forms.ChoiceField(label=gettext_lazy("Division issuing the plan"),
                                 required=False)
    title = forms.CharField(label=gettext_lazy("Title (leave empty to take it from the file)"),
                            max_length=300, required=False)
    file = forms.FileField(label=gettext_lazy("Plan file (.txt, .docx, .html, .pdf)"))


class TaskRowForm(forms.Form):
    path = forms.CharField(max_length=100, required=False)
    title = forms.CharField(max_length=500, required=False)
    leads = forms.CharField(required=False)
    units = forms.CharField(required=False)
    deadline = forms.DateField(required=False, input_formats=["%Y-%m-%d"])
    deadline_text = forms.CharField(max_length=200, required=False)
    recurrence = forms.ChoiceField(choices=[("", "—"), *Recurrence.choices], required=False)


def _styled(form: forms.Form) -> forms.Form:
    for field in form.fields.values():
        widget = field.widget
        css = "form-select" if isinstance(widget, forms.Select) else "form-control"
        widget.attrs.setdefault("class", css)
    return form


def _division_choices(user: User, *, national: bool) -> list[tuple[str, str]]:
    """The divisions a user may put a plan or programme in: their own and below, to counties
    (townships for a county office)."""
    depth = 3 if user.division_id is None or len(user.division_id) <= 4 else 4
    rows = divisions_visible_to(user=user).filter(level__lte=depth).order_by("code")
    choices = [(d.code, f"{d.name}（{d.code}）") for d in rows.only("code", "name")]
    if national and (user.is_superuser or user.division_id is None):
        choices.insert(0, ("", str(_("National (no division)"))))
    return choices


def _division(code: str) -> Division | None:
    return Division.objects.filter(code=code).first() if code else None


# --- programmes and plan list ---------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def programme_list(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    form = None
    status = 200
    if access.can_write_plans(user):
        form = _styled(ProgrammeForm(request.POST or None))
        form.fields["division"].choices = _division_choices(user, national=True)
        if user.division_id and not user.is_superuser:
            form.fields["division"].initial = user.division_id
        if request.method == "POST" and form.is_valid():
            try:
                programme = services.programme_create(
                    user=user, name=form.cleaned_data["name"],
                    domain=form.cleaned_data["domain"],
                    division=_division(form.cleaned_data["division"]),
                    description=form.cleaned_data["description"])
            except ShidianError as err:
                messages.error(request, err.message)
                status = 400
            else:
                messages.success(request, _("Programme %(name)s created.") % {
                    "name": programme.name})
                return redirect("plans:programmes")
        elif request.method == "POST":
            status = 400
    elif request.method == "POST":
        raise PermissionDenied
    programmes = (access.programmes_visible_to(user=user).select_related("division")
                  .order_by("name"))
    plan_counts = dict(access.plans_visible_to(user=user).values("programme_id")
                       .annotate(n=Count("pk")).values_list("programme_id", "n"))
    rows = [(p, plan_counts.get(p.pk, 0)) for p in programmes]
    return render(request, "web/plans/programme_list.html",
                  {"rows": rows, "form": form}, status=status)


@login_required
@require_GET
def plan_list(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    programme_id = request.GET.get("programme") or ""
    plans = selectors.plan_list(user=user, programme_id=programme_id if
                                programme_id.isdigit() else None)
    return render(request, "web/plans/plan_list.html", {
        "plans": plans, "can_write": access.can_write_plans(user),
        "programmes": access.programmes_visible_to(user=user).order_by("name"),
        "programme_id": programme_id,
    })


# --- import ---------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def plan_import(request: HttpRequest) -> HttpResponse:
    user = _writer(request)
    form = _styled(ImportForm(request.POST or None, request.FILES or None))
    programmes = access.programmes_visible_to(user=user).order_by("name")
    form.fields["programme"].choices = [(str(p.pk), p.name) for p in programmes]
    form.fields["division"].choices = _division_choices(user, national=True)
    if user.division_id and not user.is_superuser:
        form.fields["division"].initial = user.division_id
    if request.GET.get("programme"):
        form.fields["programme"].initial = request.GET["programme"]
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                programme = access.access_programme_by_id(
                    user=user, programme_id=form.cleaned_data["programme"])
                plan = services.plan_import_file(
                    user=user, programme=programme,
                    division=_division(form.cleaned_data["division"]),
                    file_name=upload.name, file=upload, size=upload.size,
                    title=form.cleaned_data["title"])
            except ShidianError as err:
                messages.error(request, err.message)
            else:
                unresolved = len(selectors.plan_unresolved_units(plan=plan,
                                                                 with_candidates=False))
                messages.success(request, _(
                    "Imported %(tasks)s tasks from %(file)s; %(unresolved)s unit names still "
                    "need to be matched.") % {"tasks": plan.tasks.count(), "file": upload.name,
                                              "unresolved": unresolved})
                return redirect("plans:review", plan_id=plan.pk)
        else:
            messages.error(request, _("Please correct the form."))
    if not programmes.exists():
        messages.info(request, _("Create a programme first."))
    return render(request, "web/plans/plan_import.html", {"form": form}, status=status)


# --- review ---------------------------------------------------------------------------------


def _review_context(request: HttpRequest, plan: Plan) -> dict[str, Any]:
    user: User = request.user  # type: ignore[assignment]
    can_write = _can_write(user, plan)
    context: dict[str, Any] = {"plan": plan, "can_write": can_write,
                               "recurrences": Recurrence.choices}
    if not access.sees_agency_tasks(user) or can_write:
        context["tasks"] = selectors.plan_tasks(plan=plan)
        context["unresolved"] = selectors.plan_unresolved_units(plan=plan,
                                                                with_candidates=can_write)
        context["findings"] = selectors.plan_findings(plan=plan)
        context["unresolved_leads"] = [u for u in context["unresolved"] if u.is_lead]
        context["agency_kinds"] = AgencyKind.choices
        context["agency_divisions"] = _agency_divisions(user, plan)
    else:
        context["tasks"] = selectors.plan_tasks(plan=plan, user=user)
        context["summary"] = True
    return context


def _can_write(user: User, plan: Plan) -> bool:
    return access.plans_writable_by(user=user).filter(pk=plan.pk).exists()


def _agency_divisions(user: User, plan: Plan) -> list[Division]:
    if plan.division_id is None:
        return []
    codes = [*ancestor_codes(plan.division_id), plan.division_id]
    return list(divisions_visible_to(user=user).filter(code__in=codes).order_by("-code"))


@login_required
@require_GET
@_not_found
def plan_review(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = access.access_plan_by_id(user=request.user, plan_id=plan_id)  # type: ignore[arg-type]
    context = _review_context(request, plan)
    template = "web/plans/plan_summary.html" if context.get("summary") else \
        "web/plans/plan_review.html"
    return render(request, template, context)


@login_required
@require_POST
@_not_found
def plan_publish(request: HttpRequest, plan_id: int) -> HttpResponse:
    user = _writer(request)
    plan = access.access_plan_by_id(user=user, plan_id=plan_id, for_write=True)
    try:
        version = services.plan_publish(user=user, plan=plan,
                                        note=request.POST.get("note", ""),
                                        accept_unresolved=bool(request.POST.get(
                                            "accept_unresolved")))
    except ShidianError as err:
        if err.code == ErrorCode.CONFLICT:
            messages.warning(request, err.message)
        else:
            messages.error(request, err.message)
    else:
        messages.success(request, _("Version %(number)s is published.") % {
            "number": version.number})
    return redirect("plans:review", plan_id=plan.pk)


class PlanHeaderForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Plan title"), max_length=300)
    issuer = forms.CharField(label=gettext_lazy("Issuer"), max_length=200, required=False)
    period_start = forms.DateField(label=gettext_lazy("Period from"), required=False)
    period_end = forms.DateField(label=gettext_lazy("Period to"), required=False)


@login_required
@require_POST
@_not_found
def plan_edit(request: HttpRequest, plan_id: int) -> HttpResponse:
    """Correct the plan's title, issuer and period as read by the parser."""
    user = _writer(request)
    plan = access.access_plan_by_id(user=user, plan_id=plan_id, for_write=True)
    form = PlanHeaderForm(request.POST)
    if not form.is_valid():
        for name, errors in form.errors.items():
            for error in errors:
                messages.error(request, f"{form.fields[name].label}：{error}")
        return redirect("plans:review", plan_id=plan.pk)
    try:
        services.plan_update(user=user, plan=plan, **form.cleaned_data)
    except ShidianError as err:
        messages.error(request, err.message)
    else:
        messages.success(request, _("The plan's particulars are saved."))
    return redirect("plans:review", plan_id=plan.pk)


def _row(request: HttpRequest, task: Task, *, editing: bool = False,
         error: str = "", form: TaskRowForm | None = None) -> HttpResponse:
    task = selectors.task_with_units(task=task)
    depth = 0
    up = task.parent
    while up is not None and depth < 10:
        depth, up = depth + 1, up.parent
    task.depth = depth  # type: ignore[attr-defined]
    template = "web/plans/_task_edit_row.html" if editing else "web/plans/_task_row.html"
    if form is not None:
        values = {k: form.data.get(k, "") for k in TaskRowForm.base_fields}
    else:
        values = {"path": task.path, "title": task.title,
                  "leads": "、".join(u.name for u in task.leads),  # type: ignore[attr-defined]
                  "units": "、".join(u.name for u in task.others),  # type: ignore[attr-defined]
                  "deadline": task.deadline.isoformat() if task.deadline else "",
                  "deadline_text": task.deadline_text, "recurrence": task.recurrence}
    return render(request, template, {"task": task, "can_write": True, "error": error,
                                      "values": values, "recurrences": Recurrence.choices})


@login_required
@require_GET
@_not_found
def task_row(request: HttpRequest, task_id: int) -> HttpResponse:
    user = _writer(request)
    task = access.access_task_by_id(user=user, task_id=task_id, for_write=True)
    return _row(request, task, editing=request.GET.get("edit") == "1")


@login_required
@require_POST
@_not_found
def task_edit(request: HttpRequest, task_id: int) -> HttpResponse:
    user = _writer(request)
    task = access.access_task_by_id(user=user, task_id=task_id, for_write=True)
    form = TaskRowForm(request.POST)
    if not form.is_valid():
        return _row(request, task, editing=True, form=form,
                    error=_("Please correct the highlighted fields."))
    data = form.cleaned_data
    try:
        services.task_save(user=user, task=task, data={
            "path": data["path"], "title": data["title"], "deadline": data["deadline"],
            "deadline_text": data["deadline_text"], "recurrence": data["recurrence"],
        }, leads=_split_units(data["leads"]), units=_split_units(data["units"]))
    except ShidianError as err:
        task.refresh_from_db()
        return _row(request, task, editing=True, form=form, error=err.message)
    task.refresh_from_db()
    return _row(request, task)


@login_required
@require_POST
@_not_found
def task_create(request: HttpRequest, plan_id: int) -> HttpResponse:
    user = _writer(request)
    plan = access.access_plan_by_id(user=user, plan_id=plan_id, for_write=True)
    parent = None
    if request.POST.get("parent"):
        parent = plan.tasks.filter(pk=request.POST["parent"]).first()
    try:
        task = services.task_create(user=user, plan=plan, title=request.POST.get("title", ""),
                                    parent=parent, path=request.POST.get("path", ""))
    except ShidianError as err:
        messages.error(request, err.message)
    else:
        messages.success(request, _("Task added: %(title)s") % {"title": task.title})
    return redirect("plans:review", plan_id=plan.pk)


@login_required
@require_POST
@_not_found
def task_delete(request: HttpRequest, task_id: int) -> HttpResponse:
    user = _writer(request)
    task = access.access_task_by_id(user=user, task_id=task_id, for_write=True)
    plan_id = task.plan_id
    try:
        services.task_delete(user=user, task=task)
    except ShidianError as err:
        messages.error(request, err.message)
    else:
        messages.success(request, _("Task deleted."))
    return redirect("plans:review", plan_id=plan_id)


@login_required
@require_POST
@_not_found
def unit_resolve(request: HttpRequest, unit_id: int) -> HttpResponse:
    from shidian.orgs.access import access_agency_by_id

    user = _writer(request)
    unit = access.access_task_unit_by_id(user=user, unit_id=unit_id)
    try:
        agency = access_agency_by_id(user=user, agency_id=request.POST.get("agency"))
        count = services.unit_resolve(user=user, unit=unit, agency=agency,
                                      same_name=request.POST.get("same_name", "1") == "1")
    except ShidianError as err:
        messages.error(request, _("Agency not found.") if err.code == ErrorCode.NOT_FOUND
                       else err.message)
    else:
        messages.success(request, _("%(name)s matched to %(agency)s (%(count)s units).") % {
            "name": unit.name, "agency": agency.name, "count": count})
    return redirect(reverse("plans:review", args=[unit.task.plan_id]) + "#units")


@login_required
@require_POST
@_not_found
def unit_create_agency(request: HttpRequest, unit_id: int) -> HttpResponse:
    user = _writer(request)
    unit = access.access_task_unit_by_id(user=user, unit_id=unit_id)
    division = _division(request.POST.get("division", ""))
    try:
        agency = services.agency_create_for_unit(
            user=user, unit=unit, name=request.POST.get("name", ""),
            kind=request.POST.get("kind", ""), division=division)
    except ShidianError as err:
        messages.error(request, err.message)
    else:
        messages.success(request, _("Agency %(agency)s created; %(name)s is matched to it.") % {
            "agency": agency.name, "name": unit.name})
    return redirect(reverse("plans:review", args=[unit.task.plan_id]) + "#units")


@login_required
@require_GET
@_not_found
def unit_candidates(request: HttpRequest, plan_id: int) -> HttpResponse:
    user = _writer(request)
    plan = access.access_plan_by_id(user=user, plan_id=plan_id, for_write=True)
    unit = access.access_task_unit_by_id(user=user, unit_id=request.GET.get("unit"))
    if unit.task.plan_id != plan.pk:
        raise Http404
    query = request.GET.get("q", "").strip()
    candidates = selectors.unit_candidates(plan=plan, query=query) if query else []
    return render(request, "web/plans/_unit_candidates.html",
                  {"candidates": candidates, "unit_id": unit.pk, "query": query})


# --- versions -------------------------------------------------------------------------------


@login_required
@require_GET
@_not_found
def plan_versions(request: HttpRequest, plan_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    plan = access.access_plan_by_id(user=user, plan_id=plan_id)
    if access.sees_agency_tasks(user):
        raise Http404
    versions = list(selectors.plan_versions(plan=plan))
    numbers = [str(v.number) for v in versions]
    pending = plan.status == PlanStatus.DRAFT and plan.version > 0
    choices = [*reversed(numbers), *([DRAFT] if plan.status == PlanStatus.DRAFT else [])]
    default_b = DRAFT if pending else (numbers[0] if numbers else "")
    default_a = (numbers[0] if pending else numbers[1]) if len(numbers) > (0 if pending else 1) \
        else ""
    a = request.GET.get("a", default_a)
    b = request.GET.get("b", default_b)
    diff = plan_versions_diff(plan=plan, a=a, b=b) if a and b else None
    if a and b and diff is None:
        messages.error(request, _("No such version."))
    return render(request, "web/plans/plan_versions.html", {
        "plan": plan, "versions": versions, "choices": choices, "a": a, "b": b, "diff": diff,
        "draft": DRAFT, "can_write": _can_write(user, plan)})


@login_required
@require_http_methods(["GET", "POST"])
@_not_found
def plan_version(request: HttpRequest, plan_id: int, number: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    plan = access.access_plan_by_id(user=user, plan_id=plan_id)
    if access.sees_agency_tasks(user):
        raise Http404
    version = selectors.plan_version_get(plan=plan, number=number)
    if version is None:
        raise Http404
    status = 200
    if request.method == "POST":
        try:
            services.plan_version_refuse_change(version=version)
        except ShidianError as err:
            messages.error(request, err.message)
            status = 409
    return render(request, "web/plans/plan_version.html",
                  {"plan": plan, "version": version, "tasks": version.snapshot.get("tasks", []),
                   "can_write": _can_write(user, plan)}, status=status)


# --- cascade --------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@_not_found
def plan_cascade(request: HttpRequest, plan_id: int) -> HttpResponse:
    user = _writer(request)
    plan = access.access_plan_by_id(user=user, plan_id=plan_id, for_write=True)
    choices = selectors.plan_parent_choices(user=user, plan=plan)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "link":
                parent_id = request.POST.get("parent") or None
                parent = choices.get(pk=parent_id) if parent_id else None
                services.plan_link_parent(user=user, plan=plan, parent=parent)
                messages.success(request, _("The higher-level plan is saved."))
            else:
                mapping = {}
                for key, value in request.POST.items():
                    if key.startswith("task-"):
                        mapping[int(key[5:])] = int(value) if value else None
                changed = services.plan_tasks_map(user=user, plan=plan, mapping=mapping)
                messages.success(request, _("%(count)s task mappings saved.") % {
                    "count": changed})
        except (Plan.DoesNotExist, ValueError):
            messages.error(request, _("No such plan or task."))
        except ShidianError as err:
            messages.error(request, err.message)
        return redirect("plans:cascade", plan_id=plan.pk)
    parent_tasks = (selectors.plan_tasks(plan=plan.parent) if plan.parent_id else [])
    suggestions = selectors.mapping_suggestions(plan=plan)
    rows = []
    for task in selectors.plan_tasks(plan=plan):
        suggested = suggestions.get(task.pk)
        rows.append({"task": task, "selected": task.parent_task_id or (
            suggested[0].pk if suggested else None), "suggested": suggested})
    return render(request, "web/plans/plan_cascade.html", {
        "plan": plan, "choices": choices, "parent_tasks": parent_tasks, "rows": rows,
        "can_write": True})


@login_required
@require_GET
@_not_found
def plan_coverage(request: HttpRequest, plan_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    plan = access.access_plan_by_id(user=user, plan_id=plan_id)
    if access.sees_agency_tasks(user):
        raise Http404
    children, rows = selectors.plan_coverage(user=user, plan=plan)
    uncovered = [r for r in rows if not r.taken_up_by]
    return render(request, "web/plans/plan_coverage.html", {
        "plan": plan, "children": children, "rows": rows, "uncovered": uncovered,
        "can_write": _can_write(user, plan)})


# --- task detail ----------------------------------------------------------------------------


@login_required
@require_GET
@_not_found
def task_detail(request: HttpRequest, task_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    task = access.access_task_by_id(user=user, task_id=task_id)
    task = selectors.task_with_units(task=task)
    child_tasks = (access.tasks_visible_to(user=user).filter(parent_task=task)
                   .select_related("plan", "plan__division").order_by("plan_id", "order"))
    excerpt = ""
    if task.source_start is not None and task.source_end:
        excerpt = task.plan.source_text[task.source_start:task.source_end]
    return render(request, "web/plans/task_detail.html", {
        "task": task, "plan": task.plan, "excerpt": excerpt, "history": selectors.task_history(task=task),
        "child_tasks": child_tasks,
        # The dated targets that are this task's milestones (seed 15c), those the user may read.
        "milestones": targets_visible_to(user=user).filter(task=task).select_related(
            "indicator").order_by("deadline", "pk"),
        "can_write": _can_write(user, task.plan),
        "UnitRole": UnitRole})
