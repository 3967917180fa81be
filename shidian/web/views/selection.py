"""Pages of pilot-site selection: the office's call (quotas with their findings, conditions,
scoring sheet, experts), its application board and decisions; the applicant's application
(answers, documents, submission, status); the provincial office's queue (forward or return);
the expert's queue (declare conflicts, score); the pilot site with its task book.

Views stay thin: one access function, one service or selector, render. A ``ShidianError``
becomes a message on the page (nothing saved changes); a missing or forbidden object is a 404
alike.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time
from typing import TypeVar
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shidian.core.errors import ErrorCode, ShidianError
from shidian.orgs.access import user_agency_ids
from shidian.orgs.models import Agency, Role, User
from shidian.plans.access import access_plan_by_id, plans_writable_by
from shidian.selection import access, selectors, services
from shidian.selection.models import (ApplicationStatus, Averaging, ConditionKind, ReviewStatus)
from shidian.selection.taskbook import taskbook_docx

T = TypeVar("T")
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _or_404(fetch: Callable[[], T]) -> T:
    try:
        return fetch()
    except ShidianError as error:
        if error.code == ErrorCode.NOT_FOUND:
            raise Http404(error.message) from None
        raise


def _attempt(request: HttpRequest, action: Callable[[], T], success: str = "") -> T | None:
    """Run a service; a refusal becomes a message, "not found" a 404."""
    try:
        result = action()
    except ShidianError as error:
        if error.code == ErrorCode.NOT_FOUND:
            raise Http404(error.message) from None
        messages.error(request, error.message)
        return None
    if success:
        messages.success(request, success)
    return result


def _moment(value: str, *, end: bool) -> datetime | None:
    day = parse_date(value or "")
    if day is None:
        return None
    return timezone.make_aware(datetime.combine(day, time(18, 0) if end else time(9, 0)))


# -- start page -----------------------------------------------------------------------------
@login_required
def index(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not access.uses_selection(user):
        raise Http404("no selection for this role")
    if request.GET.get("plan", "").isdigit() and access.is_office(user):
        return redirect("selection:call_new", plan_id=int(request.GET["plan"]))
    context = {
        "run": list(access.calls_run_by(user=user).select_related("plan")),
        "plans": list(plans_writable_by(user=user).filter(version__gt=0).order_by("title")[:100])
        if access.is_office(user) else [],
        "open_calls": list(access.calls_visible_to(user=user).filter(is_open=True))
        if access.is_applicant(user) else [],
        "mine": list(access.applications_visible_to(user=user)
                     .filter(agency_id__in=user_agency_ids(user))
                     .select_related("call", "category", "agency"))
        if access.is_applicant(user) else [],
        "queue": selectors.province_queue(user=user) if access.is_provincial_office(user) else [],
        "is_province": access.is_provincial_office(user),
        "reviews": selectors.expert_queue(user=user) if access.is_expert(user) else [],
        "sites": selectors.sites_of(sites=access.sites_visible_to(user=user))[:200],
    }
    return render(request, "web/selection/index.html", context)


# -- the office -----------------------------------------------------------------------------
@login_required
def call_new(request: HttpRequest, plan_id: int) -> HttpResponse:
    if not access.is_office(request.user):
        raise Http404("offices only")
    plan = _or_404(lambda: access_plan_by_id(user=request.user, plan_id=plan_id,
                                             for_write=True))
    if request.method == "POST":
        post = request.POST
        deadline = _moment(post.get("deadline", ""), end=True)
        if deadline is None:
            messages.error(request, _("Give the application deadline."))
        else:
            data = services.CallInput(
                title=post.get("title", ""), deadline=deadline,
                endorse_by=_moment(post.get("endorse_by", ""), end=True),
                applicant_kinds=[k for k in post.get("applicant_kinds", "").replace("，", ",")
                                 .replace("、", ",").split(",")],
                direct_kinds=[k for k in post.get("direct_kinds", "").replace("，", ",")
                              .replace("、", ",").split(",")],
                pilot_starts_on=parse_date(post.get("pilot_starts_on", "") or ""),
                pilot_ends_on=parse_date(post.get("pilot_ends_on", "") or ""),
                averaging=post.get("averaging", Averaging.TRIMMED),
                trim_from=int(post["trim_from"]) if post.get("trim_from", "").isdigit() else 5,
                notice=post.get("notice", ""))
            call = _attempt(request, lambda: services.call_create(
                user=request.user, plan_id=plan.pk, data=data))
            if call is not None:
                return redirect("selection:call", call_id=call.pk)
    return render(request, "web/selection/call_new.html", {
        "plan": plan, "averaging": Averaging.choices, "post": request.POST})


@login_required
def call_detail(request: HttpRequest, call_id: int) -> HttpResponse:
    call = _or_404(lambda: access.access_call_for_office(user=request.user, call_id=call_id))
    if request.method == "POST":
        _call_action(request, call)
        return redirect("selection:call", call_id=call.pk)
    experts = User.objects.filter(role=Role.EXPERT, is_active=True).order_by("username")[:200]
    return render(request, "web/selection/call.html", {
        "call": call, "categories": list(call.categories.all()),
        "conditions": list(call.conditions.select_related("category")),
        "items": list(call.score_items.all()), "experts": experts,
        "chosen": set(call.experts.values_list("pk", flat=True)),
        "kinds": ConditionKind.choices,
        "mismatches": [c for c in call.quota_checks if c.get("finding") == "mismatch"],
        "findings": list(call.plan.findings.filter(kind__startswith="allocation")),
    })


def _call_action(request: HttpRequest, call) -> None:
    user, post = request.user, request.POST
    action = post.get("action")
    if action == "import":
        _attempt(request, lambda: services.quotas_import(user=user, call_id=call.pk),
                 _("The allocation table was imported."))
    elif action == "category":
        category = _attempt(request, lambda: services.category_add(
            user=user, call_id=call.pk, name=post.get("name", ""), group=post.get("group", "")))
        places = post.get("places", "")
        if category is not None and places.isdigit():
            _attempt(request, lambda: services.quota_set(
                user=user, call_id=call.pk, category_id=category.pk,
                region=post.get("region") or services.NATIONAL_POOL, amount=int(places)),
                _("Category added."))
    elif action == "condition":
        _attempt(request, lambda: services.condition_add(
            user=user, call_id=call.pk, text=post.get("text", ""), kind=post.get("kind", ""),
            category_id=post.get("category") or None, field_name=post.get("field_name", ""),
            field_label=post.get("field_label", ""), rule=post.get("rule", ""),
            needs_document=post.get("needs_document") == "on"), _("Condition added."))
    elif action == "item":
        _attempt(request, lambda: services.score_item_add(
            user=user, call_id=call.pk, name=post.get("name", ""),
            weight=post.get("weight", ""), max_score=post.get("max_score") or 100),
            _("Scoring item added."))
    elif action == "open":
        _attempt(request, lambda: services.call_open(user=user, call_id=call.pk),
                 _("The call is published."))
    elif action == "assign":
        result = _attempt(request, lambda: services.reviews_assign(
            user=user, call_id=call.pk, expert_ids=post.getlist("experts")))
        if result is not None:
            messages.success(request, _("%(n)s reviews assigned.") % {"n": len(result.created)})
            for line in result.excluded:
                messages.warning(request, line)


@login_required
def quotas(request: HttpRequest, call_id: int) -> HttpResponse:
    call = _or_404(lambda: access.access_call_for_office(user=request.user, call_id=call_id))
    return render(request, "web/selection/quotas.html", {
        "call": call, "groups": selectors.quotas_by_category(call=call),
        "checks": call.quota_checks,
        "findings": list(call.plan.findings.filter(kind__startswith="allocation"))})


@login_required
def board(request: HttpRequest, call_id: int) -> HttpResponse:
    call = _or_404(lambda: access.access_call_for_office(user=request.user, call_id=call_id))
    rows = selectors.board(call=call, applications=access.applications_visible_to(
        user=request.user))
    left = {(r.quota.category_id, r.quota.region): r.left for r in selectors.quota_rows(
        call=call)}
    return render(request, "web/selection/board.html", {
        "call": call, "rows": [(a, left.get((a.category_id, a.region), 0)) for a in rows]})


@login_required
@require_POST
def decide(request: HttpRequest, application_id: int) -> HttpResponse:
    application = _or_404(lambda: access.access_application_for_office(
        user=request.user, application_id=application_id))
    if request.POST.get("decision") == "reject":
        _attempt(request, lambda: services.application_reject(
            user=request.user, application_id=application.pk,
            reason=request.POST.get("reason", "")), _("The application was not selected."))
    else:
        site = _attempt(request, lambda: services.application_approve(
            user=request.user, application_id=application.pk,
            override_reason=request.POST.get("override_reason", "")),
            _("Approved: the pilot site and its task book are set up."))
        if site is not None and request.POST.get("next") == "site":
            return redirect("selection:site", site_id=site.pk)
    return redirect("selection:board", call_id=application.call_id)


# -- applications ---------------------------------------------------------------------------
@login_required
def apply(request: HttpRequest, call_id: int) -> HttpResponse:
    if not access.is_applicant(request.user):
        raise Http404("applicants only")
    call = _or_404(lambda: access.access_call_by_id(user=request.user, call_id=call_id))
    agencies = list(Agency.objects.filter(pk__in=user_agency_ids(request.user)))
    if request.method == "POST":
        post = request.POST
        application = _attempt(request, lambda: services.application_create(
            user=request.user, call_id=call.pk, agency_id=post.get("agency", ""),
            category_id=post.get("category", ""), region=post.get("region", ""),
            kind=post.get("kind", ""), title=post.get("title", ""),
            summary=post.get("summary", "")))
        if application is not None:
            return redirect("selection:application", application_id=application.pk)
    regions = sorted(set(call.quotas.values_list("region", flat=True)))
    return render(request, "web/selection/apply.html", {
        "call": call, "agencies": agencies, "categories": list(call.categories.all()),
        "regions": regions, "post": request.POST})


@login_required
def application_detail(request: HttpRequest, application_id: int) -> HttpResponse:
    user = request.user
    application = _or_404(lambda: access.access_application_by_id(
        user=user, application_id=application_id))
    own = application.agency_id in user_agency_ids(user) and access.is_applicant(user)
    if request.method == "POST":
        if not own:
            raise Http404("not yours")
        _applicant_action(request, application)
        return redirect("selection:application", application_id=application.pk)
    office = access.calls_run_by(user=user).filter(pk=application.call_id).exists()
    return render(request, "web/selection/application.html", {
        "application": application, "own": own,
        "editable": own and application.status in services.EDITABLE,
        "checklist": selectors.application_checklist(application=application),
        "documents": list(application.documents.all()),
        "reviews": list(application.reviews.select_related("expert")) if office else [],
        "is_office": office,
        "is_province": access.is_provincial_office(user)
        and application.province_id == user.division_id,
        "site": getattr(application, "site", None)
        if application.status == ApplicationStatus.APPROVED else None,
    })


def _applicant_action(request: HttpRequest, application) -> None:
    user, post = request.user, request.POST
    action = post.get("action")
    if action == "save":
        figures, declared, documents = {}, {}, {}
        for row in selectors.application_checklist(application=application):
            pk = row.condition.pk
            if row.condition.kind == ConditionKind.COMPUTED:
                figures[pk] = post.get(f"figure-{pk}", "")
            else:
                declared[pk] = post.get(f"declare-{pk}") == "on"
                documents[pk] = int(post[f"document-{pk}"]) if post.get(
                    f"document-{pk}", "").isdigit() else None
        _attempt(request, lambda: services.application_update(
            user=user, application_id=application.pk, title=post.get("title"),
            summary=post.get("summary"),
            answers=services.Answers(figures=figures, declared=declared,
                                     documents=documents)), _("Saved."))
    elif action == "upload":
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, _("Choose a file."))
            return
        _attempt(request, lambda: services.document_upload(
            user=user, application_id=application.pk, upload=upload), _("File attached."))
    elif action == "submit":
        _attempt(request, lambda: services.application_submit(
            user=user, application_id=application.pk), _("Submitted."))


@login_required
def document(request: HttpRequest, document_id: int) -> FileResponse:
    item = _or_404(lambda: access.access_document_by_id(user=request.user,
                                                        document_id=document_id))
    return FileResponse(item.file.open("rb"), as_attachment=True, filename=item.original_name,
                        content_type=item.content_type)


# -- the provincial office ------------------------------------------------------------------
@login_required
@require_POST
def forward(request: HttpRequest, application_id: int) -> HttpResponse:
    application = _or_404(lambda: access.access_application_for_province(
        user=request.user, application_id=application_id))
    _attempt(request, lambda: services.application_forward(
        user=request.user, application_id=application.pk), _("Forwarded."))
    return redirect("selection:index")


@login_required
@require_POST
def send_back(request: HttpRequest, application_id: int) -> HttpResponse:
    application = _or_404(lambda: access.access_application_for_province(
        user=request.user, application_id=application_id))
    _attempt(request, lambda: services.application_return(
        user=request.user, application_id=application.pk,
        reason=request.POST.get("reason", "")), _("Returned to the applicant."))
    return redirect("selection:index")


# -- experts --------------------------------------------------------------------------------
@login_required
def review(request: HttpRequest, review_id: int) -> HttpResponse:
    item = _or_404(lambda: access.access_review_of_expert(user=request.user,
                                                          review_id=review_id))
    if request.method == "POST":
        post = request.POST
        if post.get("action") == "declare":
            _attempt(request, lambda: services.review_declare(
                user=request.user, review_id=item.pk, conflict=post.get("conflict") == "yes",
                note=post.get("note", "")), _("Declaration recorded."))
        elif post.get("action") == "score":
            scores = {int(k.removeprefix("score-")): v for k, v in post.items()
                      if k.startswith("score-") and k.removeprefix("score-").isdigit()}
            _attempt(request, lambda: services.review_submit(
                user=request.user, review_id=item.pk, scores=scores,
                comment=post.get("comment", "")), _("Scores submitted."))
        return redirect("selection:review", review_id=item.pk)
    declared = item.status in (ReviewStatus.DECLARED, ReviewStatus.SCORED)
    application = item.application
    return render(request, "web/selection/review.html", {
        "review": item, "application": application, "declared": declared,
        "sheet": selectors.review_sheet(review=item) if declared else [],
        "checklist": selectors.application_checklist(application=application)
        if declared else [],
        "documents": list(application.documents.all()) if declared else [],
    })


# -- pilot sites ----------------------------------------------------------------------------
@login_required
def site(request: HttpRequest, site_id: int) -> HttpResponse:
    item = _or_404(lambda: access.access_site_by_id(user=request.user, site_id=site_id))
    return render(request, "web/selection/site.html", {
        "site": item, "tasks": list(item.plan.tasks.order_by("order"))})


@login_required
def taskbook(request: HttpRequest, site_id: int) -> HttpResponse:
    item = _or_404(lambda: access.access_site_by_id(user=request.user, site_id=site_id))
    name = f"{item.agency.name}任务书.docx"
    response = HttpResponse(taskbook_docx(item), content_type=DOCX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return response
