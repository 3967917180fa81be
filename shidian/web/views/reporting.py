"""Pages of the reporting app: 我的任务 and the report form for units, 挂图作战 for the office.

Views stay thin: they parse input, call one access function and one service or selector, and
render. A ``ShidianError`` becomes a message on the page (nothing saved changes); a missing or
forbidden object is a 404 alike.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TypeVar
from urllib.parse import quote

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import prefetch_related_objects
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from shidian.core.errors import ErrorCode, ShidianError
from shidian.core.periods import Period, parse_period
from shidian.exports.bulletin import bulletin_docx
from shidian.exports.xlsx import decomposition_xlsx, progress_xlsx
from shidian.oversight import selectors as oversight_selectors
from shidian.plans.models import Plan, TaskStatus
from shidian.reporting import access, selectors, services
from shidian.reporting.cycles import PeriodState, rule_for_period, rule_of, rules_of
from shidian.reporting.models import CycleKind, ProgressReport, ReportStatus

T = TypeVar("T")


def _or_404(fetch: Callable[[], T]) -> T:
    try:
        return fetch()
    except ShidianError as error:
        if error.code == ErrorCode.NOT_FOUND:
            raise Http404(error.message) from None
        raise


def _today() -> date:
    return timezone.localdate()


# -- 我的任务 -------------------------------------------------------------------------------
@login_required
def workspace(request: HttpRequest) -> HttpResponse:
    if access.sees_dashboards(request.user) and not access.is_reporter(request.user):
        return redirect("reporting:plans")
    today = _today()
    items = selectors.workspace_items(user=request.user, today=today)
    return render(request, "web/reporting/workspace.html", {
        "items": items,
        "due": [owed for i in items for owed in i.owed],
        "returned": [r for i in items for r in i.returned],
        "today": today,
        "task_lights": oversight_selectors.tasks_lights(tasks=[i.task for i in items],
                                                        today=today),
    })


class ReportForm(forms.Form):
    task_status = forms.ChoiceField(label=gettext_lazy("Task status"),
                                    choices=TaskStatus.choices)
    percent = forms.IntegerField(label=gettext_lazy("Progress (percent)"), min_value=0,
                                 max_value=100)
    done = forms.CharField(label=gettext_lazy("Work done this period"), required=False,
                           widget=forms.Textarea(attrs={"rows": 4}),
                           max_length=services.MAX_TEXT)
    problems = forms.CharField(label=gettext_lazy("Problems met"), required=False,
                               widget=forms.Textarea(attrs={"rows": 3}),
                               max_length=services.MAX_TEXT)
    next_steps = forms.CharField(label=gettext_lazy("Next steps planned"), required=False,
                                 widget=forms.Textarea(attrs={"rows": 3}),
                                 max_length=services.MAX_TEXT)
    evidence = forms.TypedMultipleChoiceField(label=gettext_lazy("Evidence already attached"),
                                              required=False, coerce=int,
                                              widget=forms.CheckboxSelectMultiple)
    includes = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Include the cooperating units' reports"), required=False,
        coerce=int, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, evidence_choices=(), include_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["evidence"].choices = list(evidence_choices)
        self.fields["includes"].choices = list(include_choices)
        for name in ("task_status", "percent", "done", "problems", "next_steps"):
            css = "form-select" if name == "task_status" else "form-control"
            self.fields[name].widget.attrs["class"] = css


def _initial(report: ProgressReport | None, task) -> dict:
    if report is None:
        return {"task_status": task.status if task.status != TaskStatus.NOT_STARTED
                else TaskStatus.IN_PROGRESS, "percent": task.percent}
    return {"task_status": report.task_status, "percent": report.percent, "done": report.done,
            "problems": report.problems, "next_steps": report.next_steps}


@login_required
@require_http_methods(["GET", "POST"])
def report_form(request: HttpRequest, task_id: int) -> HttpResponse:
    user = request.user
    task = _or_404(lambda: access.access_task_by_id(user=user, task_id=task_id))
    agency, role = _or_404(lambda: access.access_reporting_agency(
        user=user, task=task, agency_id=request.GET.get("agency")))
    rule = rule_of(task.plan)
    today = _today()
    try:
        period = parse_period(request.GET["period"]) if request.GET.get("period") \
            else (rule.period_due(today) or rule.current_period(today))
    except ShidianError as error:
        raise Http404(error.message) from None
    # A period of a further cycle (a weekly report, the annual summary) follows its rules.
    rule = rule_for_period(task.plan, period) or rule
    current, earlier = selectors.report_for_form(task=task, agency=agency, period=period)
    cooperating = selectors.cooperating_reports(task=task, agency=agency, period=period) \
        if role == "lead" else []
    evidence = selectors.evidence_of_agency(agency=agency)
    cited = list(current.evidence.all()) if current else []
    for item in cited:
        if item not in evidence:
            evidence.append(item)
    form_kwargs = {
        "evidence_choices": [(e.pk, e.original_name) for e in evidence],
        "include_choices": [(r.pk, r.agency.name) for r in cooperating],
    }
    locked = current is not None and current.status in (ReportStatus.SUBMITTED,
                                                        ReportStatus.ACCEPTED)
    if request.method == "POST" and not locked:
        form = ReportForm(request.POST, **form_kwargs)
        if form.is_valid():
            saved = _save_report(request, form, task=task, agency=agency, period=period)
            if saved is not None:
                if saved.status == ReportStatus.SUBMITTED:
                    messages.success(request, _("Your report for %(period)s has been submitted.")
                                     % {"period": period.label})
                    return redirect("reporting:workspace")
                messages.success(request, _("The draft has been saved."))
                return redirect(f"{request.path}?period={period.id}&agency={agency.pk}")
        else:
            messages.error(request, _("Please correct the fields marked below."))
    else:
        initial = _initial(current or earlier, task)
        if current:
            initial["evidence"] = [e.pk for e in cited]
            initial["includes"] = list(current.includes.values_list("pk", flat=True))
        else:
            initial["includes"] = [r.pk for r in cooperating]
        form = ReportForm(initial=initial, **form_kwargs)
    return render(request, "web/reporting/report_form.html", {
        "task": task, "agency": agency, "role": role, "period": period, "form": form,
        "current": current, "earlier": earlier if current is None else None, "locked": locked,
        "earlier_label": parse_period(earlier.period).label if earlier else "",
        "closed": rule.state(period, today) == PeriodState.CLOSED
        and not (current is not None and current.status == ReportStatus.RETURNED),
        "not_started": rule.state(period, today) == PeriodState.FUTURE,
        "due_date": rule.due_date(period), "closes_after": rule.closes_after(period),
        "open_periods": rule.periods_open(today), "cooperating": cooperating,
        "max_mb": services._max_bytes() // (1024 * 1024),
        "accept": ",".join(f".{ext}" for ext in ("pdf", "docx", "xlsx", "jpg", "jpeg", "png")),
    })


def _save_report(request: HttpRequest, form: ReportForm, *, task, agency,
                 period: Period) -> ProgressReport | None:
    """Save or submit with the uploaded files; a refusal is shown, nothing changes."""
    try:
        data = services.ReportInput(
            task_status=form.cleaned_data["task_status"], percent=form.cleaned_data["percent"],
            done=form.cleaned_data["done"], problems=form.cleaned_data["problems"],
            next_steps=form.cleaned_data["next_steps"],
            evidence_ids=tuple(form.cleaned_data["evidence"]),
            include_ids=tuple(form.cleaned_data["includes"]))
        write = services.report_submit if request.POST.get("action") == "submit" \
            else services.report_save_draft
        return write(user=request.user, task_id=task.pk, agency_id=agency.pk, period=period.id,
                     data=data, uploads=request.FILES.getlist("files"))
    except ShidianError as error:
        if error.code == ErrorCode.NOT_FOUND:
            raise Http404(error.message) from None
        messages.error(request, error.message)
        return None


# -- reports --------------------------------------------------------------------------------
@login_required
def report_detail(request: HttpRequest, report_id: int) -> HttpResponse:
    reports = access.reports_visible_to(user=request.user)
    try:
        report = selectors.report_detail(report_id=report_id, reports=reports)
    except (ProgressReport.DoesNotExist, ValueError):
        raise Http404("report not found") from None
    return render(request, "web/reporting/report_detail.html", {
        "report": report, "period": parse_period(report.period),
        "can_review": access.is_reviewer(request.user)
        and report.status == ReportStatus.SUBMITTED,
        "sees_board": access.sees_dashboards(request.user),
        "can_edit": report.agency_id in {a.pk for a, _r in access.reporting_agencies_for_task(
            user=request.user, task=report.task)}
        and report.status in (ReportStatus.DRAFT, ReportStatus.RETURNED),
    })


@login_required
@require_POST
def report_return(request: HttpRequest, report_id: int) -> HttpResponse:
    try:
        services.report_return(user=request.user, report_id=report_id,
                               reason=request.POST.get("reason", ""))
        messages.success(request, _("The report has been returned for rework."))
    except ShidianError as error:
        if error.code == ErrorCode.NOT_FOUND:
            raise Http404(error.message) from None
        messages.error(request, error.message)
    return redirect("reporting:report", report_id=report_id)


@login_required
@require_POST
def report_accept(request: HttpRequest, report_id: int) -> HttpResponse:
    try:
        services.report_accept(user=request.user, report_id=report_id)
        messages.success(request, _("The report has been accepted."))
    except ShidianError as error:
        if error.code == ErrorCode.NOT_FOUND:
            raise Http404(error.message) from None
        messages.error(request, error.message)
    return redirect("reporting:report", report_id=report_id)


@login_required
def evidence_download(request: HttpRequest, evidence_id: int) -> FileResponse:
    evidence = _or_404(lambda: access.access_evidence_by_id(user=request.user,
                                                            evidence_id=evidence_id))
    try:
        handle = evidence.file.open("rb")
    except FileNotFoundError:
        raise Http404("file missing") from None
    response = FileResponse(handle, content_type=evidence.content_type, as_attachment=True,
                            filename=evidence.original_name)
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def task_history(request: HttpRequest, task_id: int) -> HttpResponse:
    task = _or_404(lambda: access.access_task_by_id(user=request.user, task_id=task_id))
    reports = selectors.task_history(task=task,
                                     reports=access.reports_visible_to(user=request.user))
    return render(request, "web/reporting/task_history.html", {
        "task": task, "reports": [(parse_period(r.period), r) for r in reports],
        "units": task.units.select_related("agency").order_by("role", "order"),
    })


# -- 挂图作战 -------------------------------------------------------------------------------
def _dashboard_plan(request: HttpRequest, plan_id: int) -> Plan:
    if not access.sees_dashboards(request.user):
        raise Http404("plan not found")
    plan = _or_404(lambda: access.access_plan_by_id(user=request.user, plan_id=plan_id))
    prefetch_related_objects([plan], "extra_cycles")  # every cycle's rule reads them
    return plan


def _period_of(request: HttpRequest, plan: Plan) -> Period:
    rule = rule_of(plan)
    today = _today()
    text = request.GET.get("period")
    if text:
        try:
            period = parse_period(text)
        except ShidianError as error:
            raise Http404(error.message) from None
        if rule_for_period(plan, period) is None:
            raise Http404("not a period of this plan")
        return period
    if due := rule.period_due(today):
        return due
    # A plan whose time is over shows its last period, not an empty current one.
    recent = rule.recent_periods(today, 1)
    return recent[0] if recent else rule.current_period(today)


@login_required
def plan_list(request: HttpRequest) -> HttpResponse:
    if not access.sees_dashboards(request.user):
        raise Http404("no dashboards")
    plans = (access.plans_visible_to(user=request.user).filter(version__gt=0)
             .select_related("division", "programme", "cycle").order_by("division_id", "title"))
    return render(request, "web/reporting/plan_list.html", {"plans": plans})


LATEST_REPORTS = 20
REPORTS_PER_PAGE = 100


@login_required
def dashboard(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = _dashboard_plan(request, plan_id)
    period = _period_of(request, plan)
    today = _today()
    board = selectors.plan_dashboard(plan=plan, period=period, today=today)
    rule = board.rule
    # The ladder's red/yellow/green of each task and unit (the oversight app's rule).
    lights = oversight_selectors.plan_lights(plan=plan, today=today, tasks=board.tasks,
                                             units=board.task_units)
    periods = rule.recent_periods(today, 12)
    # The plan's further cycles (a weekly report, an annual summary), each its own group.
    further = [(r.label or CycleKind(r.kind).label, r.recent_periods(today, 6))
               for r in rules_of(plan)[1:]]
    return render(request, "web/reporting/dashboard.html", {
        "plan": plan, "board": board, "period": period, "lights": lights,
        "periods": periods, "further_periods": further,
        "period_listed": period in periods or any(period in group for _, group in further),
        "task_lights": {pk: row.light for pk, row in lights.tasks.items()},
        "unit_lights": {row.agency.pk: row.light for row in lights.units},
        "lit_tasks": sorted((row for row in lights.tasks.values() if row.light != "green"),
                            key=lambda row: (row.light != "red", row.due, row.task.order)),
        "chart_data": {**board.chart_data(), "labels": {
            "today": _("Today's date"), "on_time": _("Reported on time"), "late": _("Reported late"),
            "missing": _("Not reported")}},
        "can_review": access.is_reviewer(request.user),
        "status_rows": [(TaskStatus(k).label, k, n) for k, n in board.by_status.items()],
        "cycle_kind": CycleKind(rule.kind).label, "due_day": rule.due_day,
        # At month-end a plan has hundreds of reports: the board shows the latest ones and
        # links to the whole list (period_reports), so it stays quick to render.
        "latest_reports": sorted(board.reports, key=lambda r: r.submitted_at or r.updated_at,
                                 reverse=True)[:LATEST_REPORTS],
    })


@login_required
def period_reports(request: HttpRequest, plan_id: int) -> HttpResponse:
    """Every report of a plan for one period, a page at a time (the board shows the latest)."""
    plan = _dashboard_plan(request, plan_id)
    period = _period_of(request, plan)
    reports = selectors.period_reports(plan=plan, period=period).select_related("task")
    page = Paginator(reports, REPORTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "web/reporting/period_reports.html", {
        "plan": plan, "period": period, "page": page, "reports": page.object_list})


class CycleForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Reporting frequency"), choices=CycleKind.choices,
                             widget=forms.Select(attrs={"class": "form-select"}))
    due_day = forms.IntegerField(label=gettext_lazy("Due day"), min_value=1, max_value=31,
                                 widget=forms.NumberInput(attrs={"class": "form-control"}),
                                 help_text=gettext_lazy(
                                     "Monthly and quarterly: the day of the month (25 means "
                                     "by the 25th). Weekly: the weekday, 1 = Monday."))
    grace_days = forms.IntegerField(label=gettext_lazy("Days open after the due date"),
                                    min_value=0, max_value=90,
                                    widget=forms.NumberInput(attrs={"class": "form-control"}))
    starts_on = forms.DateField(label=gettext_lazy("Reporting starts on"), required=False,
                                widget=forms.DateInput(attrs={"type": "date",
                                                              "class": "form-control"}))
    due_month = forms.IntegerField(
        label=gettext_lazy("Due month of the period"), min_value=0, max_value=12, initial=0,
        required=False, widget=forms.NumberInput(attrs={"class": "form-control"}),
        help_text=gettext_lazy("Half-yearly and yearly: the month of the period in which "
                               "reports are due (11 = November of the year); 0 = its last "
                               "month."))

    def clean_due_month(self) -> int:
        return self.cleaned_data.get("due_month") or 0


@login_required
@require_http_methods(["GET", "POST"])
def cycle_edit(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = _or_404(lambda: access.access_plan_for_review(user=request.user, plan_id=plan_id))
    rule = rule_of(plan)
    if request.method == "POST":
        form = CycleForm(request.POST)
        if form.is_valid():
            try:
                services.cycle_set(user=request.user, plan_id=plan.pk, **form.cleaned_data)
                messages.success(request, _("The reporting cycle has been saved."))
                return redirect("reporting:dashboard", plan_id=plan.pk)
            except ShidianError as error:
                messages.error(request, error.message)
        else:
            messages.error(request, _("Please correct the fields marked below."))
    else:
        form = CycleForm(initial={"kind": rule.kind, "due_day": rule.due_day,
                                  "grace_days": rule.grace_days, "starts_on": rule.starts_on,
                                  "due_month": rule.due_month})
    return render(request, "web/reporting/cycle_form.html", {"plan": plan, "form": form})


# -- exports --------------------------------------------------------------------------------
def _download(content: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@login_required
def export_decomposition(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = _dashboard_plan(request, plan_id)
    content = decomposition_xlsx(plan=plan, rows=selectors.decomposition_rows(plan=plan))
    return _download(content, _("%(plan)s task decomposition.xlsx") % {"plan": plan.title}, XLSX)


@login_required
def export_progress(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = _dashboard_plan(request, plan_id)
    period = _period_of(request, plan)
    content = progress_xlsx(plan=plan, period=period,
                            rows=selectors.progress_rows(plan=plan, period=period))
    return _download(content, _("%(plan)s progress %(period)s.xlsx")
                     % {"plan": plan.title, "period": period.label}, XLSX)


@login_required
def export_bulletin(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = _dashboard_plan(request, plan_id)
    period = _period_of(request, plan)
    today = _today()
    board = selectors.plan_dashboard(plan=plan, period=period, today=today)
    return _download(bulletin_docx(board, issued=today),
                     _("%(plan)s bulletin %(period)s.docx")
                     % {"plan": plan.title, "period": period.label}, DOCX)
