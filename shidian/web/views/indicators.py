"""Pages of the indicators app: data entry, Excel round trip, completeness, indicator
drill-down with charts, a plan's targets review and its attainment board.

Views only parse input, call one service or selector and render; scope checks go through
``shidian.indicators.access`` (missing and forbidden both answer 404).
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from shidian.core.errors import ErrorCode, ShidianError, not_found
from shidian.core.periods import Period, PeriodKind, parse_period, period_containing
from shidian.indicators import access, excel, selectors, services
from shidian.indicators.models import Comparator, PeriodType, Target, TargetStatus
from shidian.orgs.models import Division, DivisionLevel
from shidian.plans.access import access_plan_by_id, tasks_visible_to

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ENTRY_SELECT_LIMIT = 300


def _not_found_as_404(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except ShidianError as error:
            if error.code in (ErrorCode.NOT_FOUND, ErrorCode.FORBIDDEN):
                raise Http404(error.message) from None
            raise

    return login_required(wrapped)


def _period(value: str | None, kind: str, *, default: Period) -> Period:
    if not value:
        return default
    try:
        period = parse_period(value)
    except ShidianError:
        return default
    return period if period.kind == PeriodKind(kind) else default


def _default_period(kind: str) -> Period:
    """The period most recently ended: what a clerk reports in the days after it."""
    return period_containing(services.local_today(), PeriodKind(kind)).previous()


def _xlsx(content: bytes, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{name}"
    return response


# -- index --------------------------------------------------------------------------------------
@_not_found_as_404
def index(request: HttpRequest) -> HttpResponse:
    user = request.user
    data_sets = access.data_sets_visible_to(user=user).select_related("division").order_by(
        "name")
    indicators = access.indicators_visible_to(user=user).filter(status="active").order_by(
        "name")
    targets = access.targets_visible_to(user=user).filter(
        plan__isnull=False, parent__isnull=True).select_related("plan")
    plans = {t.plan_id: t.plan for t in targets}
    return render(request, "web/indicators/index.html", {
        "data_sets": data_sets, "indicators": indicators,
        "plans": sorted(plans.values(), key=lambda p: p.title),
        "can_enter": access.can_enter_data(user), "can_manage": access.can_manage(user),
    })


# -- entry --------------------------------------------------------------------------------------
@_not_found_as_404
@require_http_methods(["GET", "POST"])
def entry(request: HttpRequest, data_set_id: int) -> HttpResponse:
    user = request.user
    data_set = access.access_data_set_by_id(user=user, data_set_id=data_set_id)
    params = request.POST if request.method == "POST" else request.GET
    period = _period(params.get("period"), data_set.period_type,
                     default=_default_period(data_set.period_type))
    choices = access.divisions_for_entry(user=user, data_set=data_set).order_by("code")
    agencies = list(access.agencies_for_entry(user=user, data_set=data_set).order_by("name"))
    agency = None
    code = (params.get("division") or "").strip()
    if params.get("agency"):
        agency = access.access_agency_for_entry(user=user, data_set=data_set,
                                                agency_id=params["agency"])
        code = agency.division_id
    if not code:
        first = choices.values_list("code", flat=True)[:1]
        code = first[0] if first else ""
    if not code and agencies:
        agency = agencies[0]
        code = agency.division_id
    if not code:
        return render(request, "web/indicators/entry.html", {
            "data_set": data_set, "period": period, "form": None, "nothing": True})
    if agency is None:
        division = access.access_division_for_entry(user=user, data_set=data_set, code=code)
    else:
        division = agency.division
    errors: list[dict[str, str]] = []
    submitted: dict[str, str] = {}
    if request.method == "POST":
        fields = services.data_set_fields(data_set)
        submitted = {f.key: request.POST.get(f"v-{f.key}", "") for f in fields}
        try:
            result = services.values_save(user=user, data_set=data_set, division=division,
                                          period=period.id, values=submitted, agency=agency)
        except ShidianError as error:
            errors = error.extra.get("errors") or [{"field": "", "message": error.message}]
            messages.error(request, error.message)
        else:
            for warning in result.warnings:
                messages.warning(request, warning)
            messages.success(request, _("Saved %(count)s values for %(division)s, %(period)s.")
                             % {"count": result.changed,
                                "division": agency.name if agency else division.name,
                                "period": period.label})
            who = f"agency={agency.pk}" if agency else f"division={division.code}"
            return redirect(f"{reverse('indicators:entry', args=[data_set.pk])}"
                            f"?{who}&period={period.id}")
    form = selectors.entry_form(data_set=data_set, division=division, period=period,
                                agency=agency)
    field_errors = {e.get("field"): e["message"] for e in errors if e.get("field")}
    rows = [{"row": row, "value": submitted.get(row.field.key, row.value),
             "error": field_errors.get(row.field.key, "")} for row in form.rows]
    periods = selectors.recent_periods(data_set.period_type, count=13)
    return render(request, "web/indicators/entry.html", {
        "data_set": data_set, "form": form, "rows": rows, "period": period,
        "periods": list(reversed(periods)),
        "division_choices": list(choices.values_list("code", "name")[:ENTRY_SELECT_LIMIT]),
        "too_many_divisions": choices.count() > ENTRY_SELECT_LIMIT,
        "rule_errors": [e["message"] for e in errors if not e.get("field")],
        "history": selectors.value_history(data_set=data_set, division=division,
                                           period=period, agency=agency)[:20],
        "agencies": agencies, "agency": agency,
    })


@_not_found_as_404
@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest, data_set_id: int) -> HttpResponse:
    user = request.user
    data_set = access.access_data_set_by_id(user=user, data_set_id=data_set_id)
    if not access.can_enter_data(user):
        raise Http404
    period = _period(request.GET.get("period"), data_set.period_type,
                     default=_default_period(data_set.period_type))
    errors: list[dict[str, Any]] = []
    if request.method == "POST":
        file = request.FILES.get("file")
        if file is None:
            messages.error(request, _("Choose the filled Excel file."))
        else:
            try:
                result = excel.upload_xlsx(
                    user=user, data_set=data_set, file=file,
                    all_or_nothing=request.POST.get("partial") != "1")
            except ShidianError as error:
                errors = error.extra.get("errors", [])
                messages.error(request, error.message)
            else:
                for warning in result.warnings:
                    messages.warning(request, warning)
                messages.success(request, _("%(forms)s forms read, %(count)s values changed.")
                                 % {"forms": result.forms, "count": result.changed})
                return redirect(f"{reverse('indicators:completeness', args=[data_set.pk])}"
                                f"?period={result.period.id}")
    area = access.access_division_for_read(user=user, code=request.GET.get("area"))
    return render(request, "web/indicators/upload.html", {
        "data_set": data_set, "period": period, "errors": errors,
        "area_code": area.code if area else "",
        "periods": list(reversed(selectors.recent_periods(data_set.period_type, count=13))),
    })


@_not_found_as_404
def template_download(request: HttpRequest, data_set_id: int) -> HttpResponse:
    user = request.user
    data_set = access.access_data_set_by_id(user=user, data_set_id=data_set_id)
    period = _period(request.GET.get("period"), data_set.period_type,
                     default=_default_period(data_set.period_type))
    area = access.access_division_for_read(user=user, code=request.GET.get("area"))
    try:
        content = excel.template_xlsx(user=user, data_set=data_set, period=period,
                                      area_code=area.code if area else "")
    except ShidianError as error:
        if error.code == ErrorCode.NOT_FOUND:
            raise
        messages.error(request, error.message)
        return redirect(f"{reverse('indicators:upload', args=[data_set.pk])}"
                        f"?period={period.id}")
    return _xlsx(content, f"data-set-{data_set.pk}-{period.id}.xlsx")


# -- completeness ---------------------------------------------------------------------------------
@_not_found_as_404
def completeness(request: HttpRequest, data_set_id: int) -> HttpResponse:
    user = request.user
    data_set = access.access_data_set_by_id(user=user, data_set_id=data_set_id)
    area = access.access_division_for_read(user=user, code=request.GET.get("area"))
    last = _period(request.GET.get("period"), data_set.period_type,
                   default=_default_period(data_set.period_type))
    periods = [last]
    for _step in range(5):
        periods.insert(0, periods[0].previous())
    grid = selectors.completeness(data_set=data_set, periods=periods,
                                  area_code=area.code if area else "")
    return render(request, "web/indicators/completeness.html", {
        "data_set": data_set, "grid": grid, "area": area, "period": last,
        "drillable": data_set.level is not None,
    })


# -- indicator page -------------------------------------------------------------------------------
def _indicator_context(request: HttpRequest, indicator_id: int) -> dict[str, Any]:
    user = request.user
    indicator = access.access_indicator_by_id(user=user, indicator_id=indicator_id)
    area = access.access_division_for_read(user=user, code=request.GET.get("area"))
    code = area.code if area else ""
    period = _period(request.GET.get("period"), indicator.period_type,
                     default=_default_period(indicator.period_type))
    own, children = selectors.indicator_drilldown(indicator=indicator, period=period, code=code)
    return {"indicator": indicator, "area": area, "code": code, "period": period, "own": own,
            "children": children}


@_not_found_as_404
def indicator_detail(request: HttpRequest, indicator_id: int) -> HttpResponse:
    context = _indicator_context(request, indicator_id)
    indicator, period, code = context["indicator"], context["period"], context["code"]
    trend = [period]
    for _step in range(11):
        trend.insert(0, trend[0].previous())
    values = selectors.indicator_series(indicator=indicator, code=code, periods=trend)
    targets = [t for t in access.targets_visible_to(user=request.user).filter(
        indicator=indicator, status=TargetStatus.CONFIRMED).select_related("division")
        if (t.division_id or "") == code or (t.level and code.startswith(t.division_id or ""))]
    coarser = [p for p in period.coarser()]
    parent = context["area"].parent_id if context["area"] else None
    up = None
    if context["area"] is not None:
        up = parent or ""
        if not access.readable_code(user=request.user, code=up):
            up = None
    context.update({
        "up": up,
        "coarser": coarser, "previous": period.previous(), "next": period.next(),
        "targets": targets,
        "chart": {
            "periods": [p.label for p in trend], "values": values,
            "targets": [{"label": f"{t.get_comparator_display()}{t.value:g}",
                         "deadline": t.deadline.isoformat() if t.deadline else "",
                         "value": t.value} for t in targets],
            "children": [{"name": r.name, "value": r.value} for r in context["children"]],
            "unit": indicator.unit, "name": indicator.name,
            "series_label": _("Value"), "target_label": _("Target"),
        },
    })
    return render(request, "web/indicators/indicator.html", context)


@_not_found_as_404
def indicator_export(request: HttpRequest, indicator_id: int) -> HttpResponse:
    context = _indicator_context(request, indicator_id)
    rows = [context["own"], *context["children"]]
    content = excel.drilldown_xlsx(indicator=context["indicator"], period=context["period"],
                                   area=context["own"].name, rows=rows)
    return _xlsx(content, f"indicator-{indicator_id}-{context['period'].id}.xlsx")


# -- a plan's targets -------------------------------------------------------------------------------
def _level_choices() -> list[tuple[int, str]]:
    return [(value, str(label)) for value, label in DivisionLevel.choices]


@_not_found_as_404
@require_http_methods(["GET", "POST"])
def plan_targets(request: HttpRequest, plan_id: int) -> HttpResponse:
    """Review the plan's parsed indicators: draft targets the office confirms or discards."""
    user = request.user
    plan = access_plan_by_id(user=user, plan_id=plan_id)
    manage = access.can_manage(user) and access.readable_code(
        user=user, code=plan.division_id or "")
    if request.method == "POST":
        if not manage:
            raise Http404
        plan = access_plan_by_id(user=user, plan_id=plan_id, for_write=True)
        made = services.targets_from_plan(user=user, plan=plan)
        messages.success(request, _("%(count)s draft targets taken from the plan.")
                         % {"count": len(made)})
        return redirect("indicators:plan_targets", plan_id=plan.pk)
    drafts = selectors.plan_targets(plan_id=plan.pk, statuses=[TargetStatus.DRAFT])
    confirmed = selectors.plan_targets(plan_id=plan.pk)
    parsed = len((plan.parsed or {}).get("indicators") or [])
    return render(request, "web/indicators/plan_targets.html", {
        "plan": plan, "drafts": drafts, "confirmed": confirmed, "parsed_count": parsed,
        "manage": manage, "levels": _level_choices(), "comparators": Comparator.choices,
        "period_types": PeriodType.choices,
    })


def _float(value: str | None, *, name: str) -> float:
    try:
        return float((value or "").strip())
    except ValueError:
        raise ShidianError(ErrorCode.INVALID, _("%(name)s is not a number.") % {"name": name},
                           ) from None


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat((value or "").strip()) if value else None
    except ValueError:
        raise ShidianError(ErrorCode.INVALID, _("The deadline is not a date.")) from None


@_not_found_as_404
@require_POST
def target_confirm(request: HttpRequest, target_id: int) -> HttpResponse:
    user = request.user
    target = access.access_target_by_id(user=user, target_id=target_id, for_write=True)
    plan_id = target.plan_id
    if request.POST.get("action") == "discard":
        services.target_discard(user=user, target=target)
        messages.success(request, _("The draft target was discarded."))
    else:
        try:
            level = request.POST.get("level") or ""
            services.target_confirm(
                user=user, target=target, numerator=request.POST.get("numerator", ""),
                denominator=request.POST.get("denominator", ""),
                factor=_float(request.POST.get("factor"), name=_("Factor")),
                decimals=int(_float(request.POST.get("decimals") or "1", name=_("Decimals"))),
                comparator=request.POST.get("comparator", ""),
                value=_float(request.POST.get("value"), name=_("Target value")),
                deadline=_date(request.POST.get("deadline")),
                level=int(level) if level.isdigit() else None,
                cumulative=request.POST.get("cumulative") == "1",
                period_type=request.POST.get("period_type") or PeriodType.MONTH)
        except ShidianError as error:
            if error.code == ErrorCode.NOT_FOUND:
                raise
            messages.error(request, error.message)
        else:
            messages.success(request, _("Target confirmed: %(name)s.")
                             % {"name": target.indicator.name})
    if plan_id:
        return redirect("indicators:plan_targets", plan_id=plan_id)
    return redirect("indicators:index")


@_not_found_as_404
def plan_board(request: HttpRequest, plan_id: int) -> HttpResponse:
    user = request.user
    plan = access_plan_by_id(user=user, plan_id=plan_id)
    boards = _boards(request, plan.pk)
    return render(request, "web/indicators/board.html", {
        "plan": plan, "boards": boards, "rule": selectors.projection_rule(),
    })


def _boards(request: HttpRequest, plan_id: int) -> list[selectors.TargetBoard]:
    visible = set(access.targets_visible_to(user=request.user).filter(
        plan_id=plan_id).values_list("pk", flat=True))
    boards = []
    for target in selectors.plan_targets(plan_id=plan_id):
        if target.pk not in visible:
            continue
        board = selectors.target_board(target=target)
        board.rows = [r for r in board.rows
                      if access.readable_code(user=request.user, code=r.code)
                      or r.code == (target.division_id or "")]
        boards.append(board)
    return boards


@_not_found_as_404
def plan_board_export(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = access_plan_by_id(user=request.user, plan_id=plan_id)
    return _xlsx(excel.board_xlsx(boards=_boards(request, plan.pk)), f"plan-{plan.pk}-board.xlsx")


@_not_found_as_404
def target_detail(request: HttpRequest, target_id: int) -> HttpResponse:
    user = request.user
    target = access.access_target_by_id(user=user, target_id=target_id)
    board = selectors.target_board(target=target)
    board.rows = [r for r in board.rows if access.readable_code(user=user, code=r.code)
                  or r.code == (target.division_id or "")]
    shares = {t.division_id: t for t in Target.objects.filter(parent=target).select_related(
        "division")}
    writable = access.targets_writable_by(user=user).filter(pk=target.pk).exists()
    children = []
    if writable and target.level is None:
        below = (Division.objects.filter(parent=target.division) if target.division
                 else Division.objects.filter(parent__isnull=True))
        children = [(d, shares.get(d.code)) for d in below.order_by("code")]
    # A milestone's task, shown to those who may see it (seed 15c: task 8's fund series).
    task = (tasks_visible_to(user=user).filter(pk=target.task_id).first()
            if target.task_id else None)
    return render(request, "web/indicators/target.html", {
        "target": target, "board": board, "rule": selectors.projection_rule(), "task": task,
        "series": selectors.target_series(target=target),
        "shares": list(shares.values()), "allocation": children,
    })


@_not_found_as_404
@require_POST
def target_allocate(request: HttpRequest, target_id: int) -> HttpResponse:
    """Save the allocation table: the target's share for each division one level below."""
    user = request.user
    target = access.access_target_by_id(user=user, target_id=target_id, for_write=True)
    shares = {}
    try:
        for key, value in request.POST.items():
            if key.startswith("share-") and value.strip():
                shares[key[len("share-"):]] = _float(value, name=key[len("share-"):])
        made, warnings = services.target_allocate(user=user, target=target, shares=shares)
    except ShidianError as error:
        if error.code == ErrorCode.NOT_FOUND:
            raise
        messages.error(request, error.message)
    else:
        for warning in warnings:
            messages.warning(request, warning)
        messages.success(request, _("%(count)s shares saved.") % {"count": len(made)})
    return redirect("indicators:target", target_id=target.pk)


# -- definitions ----------------------------------------------------------------------------------
def _int_or_none(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() else None


@_not_found_as_404
@require_http_methods(["GET", "POST"])
def define(request: HttpRequest) -> HttpResponse:
    """The office defines data elements, data sets, validation rules and indicators."""
    from shidian.indicators.models import (Aggregation, DataElement, Severity, ValueType)

    user = request.user
    if not access.can_manage(user):
        raise Http404
    area = user.division
    if request.method == "POST":
        post = request.POST
        action_name = post.get("action")
        try:
            if action_name == "element":
                made = services.data_element_create(
                    user=user, code=post.get("code", "").strip(),
                    name=post.get("name", "").strip(), value_type=post.get("value_type", ""),
                    aggregation=post.get("aggregation", ""), unit=post.get("unit", "").strip())
            elif action_name == "data_set":
                elements = list(DataElement.objects.filter(pk__in=post.getlist("elements")))
                if not elements or not post.get("name", "").strip():
                    raise ShidianError(ErrorCode.INVALID,
                                       _("Give the data set a name and at least one element."))
                made = services.data_set_create(
                    user=user, name=post["name"].strip(),
                    period_type=post.get("period_type", PeriodType.MONTH), elements=elements,
                    division=area, level=_int_or_none(post.get("level")),
                    due_days=_int_or_none(post.get("due_days")) or 0,
                    expiry_days=_int_or_none(post.get("expiry_days")))
            elif action_name == "rule":
                data_set = access.access_data_set_by_id(user=user,
                                                        data_set_id=post.get("data_set"))
                if not access.readable_code(user=user, code=data_set.division_id or ""):
                    raise not_found("data set")
                made = services.validation_rule_create(
                    user=user, data_set=data_set, left=post.get("left", ""),
                    operator=post.get("operator", ""), right=post.get("right", ""),
                    message=post.get("message", "").strip() or _("Check the values."),
                    severity=post.get("severity", Severity.BLOCK))
            elif action_name == "indicator":
                made = services.indicator_create(
                    user=user, name=post.get("name", "").strip(),
                    numerator=post.get("numerator", ""),
                    denominator=post.get("denominator", ""),
                    factor=_float(post.get("factor") or "1", name=_("Factor")),
                    decimals=_int_or_none(post.get("decimals")) or 0,
                    unit=post.get("unit", "").strip(),
                    period_type=post.get("period_type", PeriodType.MONTH))
            else:
                raise ShidianError(ErrorCode.INVALID, _("Choose what to define."))
        except ShidianError as error:
            if error.code == ErrorCode.NOT_FOUND:
                raise
            messages.error(request, error.message)
        else:
            messages.success(request, _("Saved: %(name)s.") % {"name": str(made)})
            return redirect("indicators:define")
    return render(request, "web/indicators/define.html", {
        "area": area, "elements": DataElement.objects.order_by("code"),
        "data_sets": access.data_sets_visible_to(user=user).order_by("name"),
        "value_types": ValueType.choices, "aggregations": Aggregation.choices,
        "period_types": PeriodType.choices, "comparators": Comparator.choices,
        "severities": Severity.choices,
        "levels": [(v, label) for v, label in _level_choices()
                   if area is None or v > area.level],
        "post": request.POST if request.method == "POST" else {},
    })
