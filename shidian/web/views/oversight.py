"""Pages of the oversight app: the inbox, the lights of a plan with its rule and robots, the
督办 notices (board, issue, reply, decide, Word), inspections and rectification, scorecards,
rankings and bulletins.

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
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shidian.core.errors import ErrorCode, ShidianError
from shidian.exports import notices as notice_docs
from shidian.oversight import access, ladder, selectors, services
from shidian.oversight.models import (OPEN_NOTICE_STATUSES, Channel, NoticeStatus, ReplyDecision,
                                      ScoreRule)
from shidian.plans.models import TaskUnit, UnitRole
from shidian.reporting import services as reporting_services

T = TypeVar("T")
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _or_404(fetch: Callable[[], T]) -> T:
    try:
        return fetch()
    except ShidianError as error:
        if error.code == ErrorCode.NOT_FOUND:
            raise Http404(error.message) from None
        raise


def _today() -> date:
    return timezone.localdate()


def _refused(request: HttpRequest, error: ShidianError) -> None:
    """A refusal of the service becomes a message on the page; "not found" a 404."""
    if error.code == ErrorCode.NOT_FOUND:
        raise Http404(error.message) from None
    messages.error(request, error.message)


def _download(content: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


def _date_input() -> forms.DateInput:
    # An <input type="date"> takes ISO dates only, whatever the language's format.
    return forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d")


# -- the start page -------------------------------------------------------------------------
@login_required
def index(request: HttpRequest) -> HttpResponse:
    """Offices and leaders: their plans with the lights' counts; units: what they must answer."""
    user = request.user
    today = _today()
    if access.sees_oversight(user):
        plans = list(access.plans_visible_to(user=user).filter(version__gt=0)
                     .select_related("division").order_by("division_id", "title")[:200])
        counts = selectors.plans_light_counts(plans=plans, today=today)
        rows = [(plan, counts[plan.pk]) for plan in plans]
        board = selectors.notice_board(notices=access.notices_visible_to(user=user), today=today)
        return render(request, "web/oversight/index.html", {
            "rows": rows, "open_notices": len(board),
            "programmes": access.programmes_for_reading(user=user).order_by("name"),
            "overdue_replies": sum(r.reply_overdue for r in board),
            "is_office": access.is_office(user)})
    if access.is_unit(user):
        return redirect("oversight:notices")
    return redirect("oversight:inbox")


# -- the inbox ------------------------------------------------------------------------------
@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    unread_only = request.GET.get("unread") == "1"
    rows = list(selectors.inbox_messages(user=request.user, unread_only=unread_only)[:200])
    return render(request, "web/oversight/inbox.html", {
        "rows": rows, "unread_only": unread_only,
        "unread": selectors.inbox_unread_count(user=request.user)})


@login_required
def message_open(request: HttpRequest, message_id: int) -> HttpResponse:
    """Opening a message marks it read and goes where it points."""
    message = _or_404(lambda: services.message_read(user=request.user, message_id=message_id))
    if message.link and url_has_allowed_host_and_scheme(message.link, allowed_hosts=None):
        return redirect(message.link)
    return redirect("oversight:inbox")


@login_required
def messages_read_all(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        raise Http404("post only")
    n = services.messages_read_all(user=request.user)
    messages.success(request, _("%(n)s messages marked as read.") % {"n": n})
    return redirect("oversight:inbox")


# -- the lights of a plan, its rule and robots ----------------------------------------------
@login_required
def plan_lights(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = _or_404(lambda: access.access_plan_for_reading(user=request.user, plan_id=plan_id))
    today = _today()
    lights = selectors.plan_lights(plan=plan, today=today)
    is_office = access.plans_for_office(user=request.user).filter(pk=plan.pk).exists()
    open_notices = selectors.open_notices_by_task(plan=plan)
    leads: dict[int, list[str]] = {}
    for task_id, units in lights.task_units.items():
        leads[task_id] = [u.agency.name if u.agency else u.name for u in units
                          if u.role == UnitRole.LEAD]
    rows = [(row, leads.get(pk, []), open_notices.get(pk, [])) for pk, row in
            sorted(lights.tasks.items(), key=lambda kv: (
                -ladder.LIGHT_ORDER[kv[1].light], kv[1].due or date.max, kv[1].task.order))]
    return render(request, "web/oversight/plan_lights.html", {
        "plan": plan, "lights": lights, "rows": rows, "is_office": is_office,
        "late_duties": [d for d in lights.duties if d.stage != ladder.Stage.NONE],
        "robots": plan.webhooks.order_by("name") if is_office else [],
        "robot_form": RobotForm() if is_office else None,
        "saved_rule": hasattr(plan, "oversight_rule"),
    })


class RuleForm(forms.Form):
    remind_days = forms.IntegerField(label=gettext_lazy("Remind how many working days before "
                                                        "a deadline"), min_value=0,
                                     max_value=30)
    escalate_days = forms.IntegerField(label=gettext_lazy("Escalate how many working days after "
                                                          "a missed deadline"), min_value=1,
                                       max_value=60)
    reply_days = forms.IntegerField(label=gettext_lazy("Working days to reply to a supervision "
                                                       "notice"), min_value=1, max_value=60)
    min_onsite_inspections = forms.IntegerField(
        label=gettext_lazy("On-site inspections each pilot site must get"), min_value=0,
        max_value=20)
    is_active = forms.BooleanField(label=gettext_lazy("Send reminders, 催办 and escalations"),
                                   required=False)
    send_email = forms.BooleanField(label=gettext_lazy("Also send them by e-mail"),
                                    required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            css = "form-check-input" if isinstance(field, forms.BooleanField) else "form-control"
            field.widget.attrs["class"] = css


@login_required
def rule_edit(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = _or_404(lambda: access.access_plan_for_office(user=request.user, plan_id=plan_id))
    rule = ladder.rule_of(plan)
    if request.method == "POST":
        form = RuleForm(request.POST)
        if form.is_valid():
            try:
                services.rule_set(user=request.user, plan_id=plan.pk,
                                  data=services.RuleInput(**form.cleaned_data))
                messages.success(request, _("The escalation rule has been saved."))
                return redirect("oversight:plan_lights", plan_id=plan.pk)
            except ShidianError as error:
                _refused(request, error)
        else:
            messages.error(request, _("Please correct the fields marked below."))
    else:
        form = RuleForm(initial={
            "remind_days": rule.remind_days, "escalate_days": rule.escalate_days,
            "reply_days": rule.reply_days, "min_onsite_inspections": rule.min_onsite_inspections,
            "is_active": rule.is_active, "send_email": rule.send_email})
    return render(request, "web/oversight/rule_form.html", {"plan": plan, "form": form})


class RobotForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=[
        (Channel.DINGTALK.value, Channel.DINGTALK.label),
        (Channel.WECOM.value, Channel.WECOM.label)],
        widget=forms.Select(attrs={"class": "form-select"}))
    name = forms.CharField(label=gettext_lazy("Robot name"), max_length=100,
                           widget=forms.TextInput(attrs={"class": "form-control"}))
    url = forms.CharField(label=gettext_lazy("Webhook address"), max_length=1000,
                          widget=forms.TextInput(attrs={"class": "form-control"}))
    secret = forms.CharField(label=gettext_lazy("Signing secret (DingTalk 加签, optional)"),
                             required=False, max_length=200,
                             widget=forms.PasswordInput(attrs={"class": "form-control",
                                                               "autocomplete": "off"}))


@login_required
def robot_add(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = _or_404(lambda: access.access_plan_for_office(user=request.user, plan_id=plan_id))
    if request.method != "POST":
        return redirect("oversight:plan_lights", plan_id=plan.pk)
    form = RobotForm(request.POST)
    if form.is_valid():
        try:
            services.webhook_add(user=request.user, plan_id=plan.pk, **form.cleaned_data)
            messages.success(request, _("The group robot has been added."))
        except ShidianError as error:
            _refused(request, error)
    else:
        messages.error(request, _("Fill in the robot's kind, name and address."))
    return redirect("oversight:plan_lights", plan_id=plan.pk)


@login_required
def robot_toggle(request: HttpRequest, webhook_id: int) -> HttpResponse:
    hook = _or_404(lambda: access.access_webhook_for_office(user=request.user,
                                                            webhook_id=webhook_id))
    if request.method == "POST":
        services.webhook_set_active(user=request.user, webhook_id=hook.pk,
                                    active=not hook.is_active)
    return redirect("oversight:plan_lights", plan_id=hook.plan_id)


# -- supervision notices --------------------------------------------------------------------
@login_required
def notices(request: HttpRequest) -> HttpResponse:
    """The board of open notices by age (offices, leaders) or the unit's notices (liaisons)."""
    user = request.user
    visible = access.notices_visible_to(user=user)
    if not (access.sees_oversight(user) or access.is_unit(user)):
        raise Http404("no notices")
    today = _today()
    board = selectors.notice_board(notices=visible, today=today)
    buckets = [(label, [r for r in board if r.bucket == label])
               for _limit, label in selectors.AGE_BUCKETS]
    closed = (visible.exclude(status__in=OPEN_NOTICE_STATUSES).select_related("agency", "plan")
              .order_by("-closed_at", "-id")[:50])
    evaluations = (access.evaluations_visible_to(user=user).filter(status="self")
                   .select_related("scorecard") if access.is_unit(user) else [])
    return render(request, "web/oversight/notices.html", {
        "board": board, "buckets": buckets, "closed": closed, "today": today,
        "evaluations": evaluations,
        "is_office": access.is_office(user), "is_unit": access.is_unit(user)})


class NoticeForm(forms.Form):
    agency = forms.TypedChoiceField(label=gettext_lazy("Addressed to"), coerce=int,
                                    widget=forms.Select(attrs={"class": "form-select"}))
    tasks = forms.TypedMultipleChoiceField(label=gettext_lazy("Tasks under supervision"),
                                           coerce=int,
                                           widget=forms.CheckboxSelectMultiple)
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200,
                            widget=forms.TextInput(attrs={"class": "form-control"}))
    body = forms.CharField(label=gettext_lazy("What is required"), max_length=services.MAX_TEXT,
                           widget=forms.Textarea(attrs={"class": "form-control", "rows": 6}))
    reply_due = forms.DateField(label=gettext_lazy("Reply by"), widget=_date_input())
    issuer_name = forms.CharField(label=gettext_lazy("Issuing office"), max_length=200,
                                  widget=forms.TextInput(attrs={"class": "form-control"}))

    def __init__(self, *args, agencies=(), tasks=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].choices = list(agencies)
        self.fields["tasks"].choices = list(tasks)


@login_required
def notice_new(request: HttpRequest) -> HttpResponse:
    """Issue a notice: pick the plan, then the unit, its tasks, the wording and the reply date."""
    user = request.user
    if not access.is_office(user):
        raise Http404("offices only")
    plans = list(access.plans_for_office(user=user).select_related("division")
                 .order_by("division_id", "title")[:500])
    plan_id = request.POST.get("plan") or request.GET.get("plan")
    plan = _or_404(lambda: access.access_plan_for_office(user=user, plan_id=plan_id)) \
        if plan_id else None
    if plan is None:
        return render(request, "web/oversight/notice_new.html", {"plans": plans, "plan": None})
    today = _today()
    lights = selectors.plan_lights(plan=plan, today=today)
    units = [u for rows in lights.task_units.values() for u in rows if u.agency is not None]
    agencies = sorted({u.agency.pk: u.agency for u in units}.values(),
                      key=lambda a: a.name)
    task_choices = []
    for task_id, row in sorted(lights.tasks.items(), key=lambda kv: kv[1].task.order):
        names = "、".join(u.agency.name for u in lights.task_units.get(task_id, [])
                         if u.agency is not None)
        task_choices.append((task_id, f"{row.task.path} {row.task.title}（{names}）"))
    form_kwargs = {"agencies": [(a.pk, a.name) for a in agencies], "tasks": task_choices}
    if request.method == "POST":
        form = NoticeForm(request.POST, **form_kwargs)
        if form.is_valid():
            data = form.cleaned_data
            try:
                notice = services.notice_issue(
                    user=user, plan_id=plan.pk, agency_id=data["agency"],
                    task_ids=data["tasks"], title=data["title"], body=data["body"],
                    reply_due=data["reply_due"], issuer_name=data["issuer_name"])
                messages.success(request, _("%(number)s has been issued to %(unit)s.")
                                 % {"number": notice.display_number, "unit": notice.agency.name})
                return redirect("oversight:notice", notice_id=notice.pk)
            except ShidianError as error:
                _refused(request, error)
        else:
            messages.error(request, _("Please correct the fields marked below."))
    else:
        agency_id = request.GET.get("agency")
        task_id = request.GET.get("task")
        initial_tasks = [int(task_id)] if task_id and task_id.isdigit() else []
        agency = next((a for a in agencies if str(a.pk) == agency_id), None)
        if agency is None and initial_tasks:  # a task's notice goes to its lead unit (主办)
            agency = next((u.agency for u in lights.task_units.get(initial_tasks[0], [])
                           if u.role == UnitRole.LEAD and u.agency is not None), None)
        if agency is not None and not initial_tasks:
            initial_tasks = [u.task_id for u in units if u.agency_id == agency.pk
                             and lights.tasks[u.task_id].light != ladder.Light.GREEN]
        first = lights.tasks[initial_tasks[0]].task.title if initial_tasks else ""
        rule = ladder.rule_of(plan)
        from shidian.core.workdays import DayKind, deadline_after

        form = NoticeForm(initial={
            "agency": agency.pk if agency else None, "tasks": initial_tasks,
            "title": _("Supervision notice on speeding up %(task)s") % {"task": first}
            if first else "",
            "body": _("The tasks listed below are behind their deadlines. Your unit is asked to "
                      "take effective measures at once, complete them as soon as possible, and "
                      "reply in writing with the measures taken and the date of completion."),
            "reply_due": deadline_after(today, rule.reply_days, DayKind.WORKING),
            "issuer_name": services.default_issuer_name(plan)}, **form_kwargs)
    return render(request, "web/oversight/notice_new.html", {
        "plans": plans, "plan": plan, "form": form, "lights": lights})


class ReplyForm(forms.Form):
    measures = forms.CharField(label=gettext_lazy("Measures taken"),
                               max_length=services.MAX_TEXT,
                               widget=forms.Textarea(attrs={"class": "form-control", "rows": 5}))
    done_by = forms.DateField(label=gettext_lazy("To be completed by"), widget=_date_input())


class DecisionForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=500,
                           widget=forms.TextInput(attrs={"class": "form-control"}))


@login_required
def notice_detail(request: HttpRequest, notice_id: int) -> HttpResponse:
    user = request.user
    notice = _or_404(lambda: access.access_notice_by_id(user=user, notice_id=notice_id))
    notice = selectors.notice_detail(notices=access.notices_visible_to(user=user),
                                     notice_id=notice.pk)
    can_decide = access.plans_for_office(user=user).filter(pk=notice.plan_id).exists() \
        and access.is_office(user)
    can_reply = (access.is_unit(user) and notice.status in (
        NoticeStatus.ISSUED, NoticeStatus.RETURNED, NoticeStatus.ESCALATED))
    evidence = []
    if can_reply:
        from shidian.reporting.selectors import evidence_of_agency

        evidence = evidence_of_agency(agency=notice.agency)
    units = {u.task_id: u for u in TaskUnit.objects.filter(task__in=notice.tasks.all(),
                                                           agency=notice.agency)}
    return render(request, "web/oversight/notice_detail.html", {
        "notice": notice, "today": _today(), "can_decide": can_decide, "can_reply": can_reply,
        "reply_form": ReplyForm() if can_reply else None, "decision_form": DecisionForm(),
        "evidence": evidence, "units": units,
        "pending": next((r for r in notice.replies.all()
                         if r.decision == ReplyDecision.PENDING), None),
        "sees_board": access.sees_oversight(user)})


@login_required
def notice_reply(request: HttpRequest, notice_id: int) -> HttpResponse:
    notice = _or_404(lambda: access.access_notice_for_reply(user=request.user,
                                                           notice_id=notice_id))
    if request.method != "POST":
        return redirect("oversight:notice", notice_id=notice.pk)
    form = ReplyForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Fill in the measures taken and the completion date."))
        return redirect("oversight:notice", notice_id=notice.pk)
    evidence_ids = [int(pk) for pk in request.POST.getlist("evidence") if pk.isdigit()]
    try:
        for upload in request.FILES.getlist("files"):
            evidence_ids.append(reporting_services.evidence_attach(
                user=request.user, agency_id=notice.agency_id, upload=upload).pk)
        services.notice_reply(user=request.user, notice_id=notice.pk,
                              measures=form.cleaned_data["measures"],
                              done_by=form.cleaned_data["done_by"], evidence_ids=evidence_ids)
        messages.success(request, _("Your reply has been sent to the office."))
    except ShidianError as error:
        _refused(request, error)
    return redirect("oversight:notice", notice_id=notice.pk)


def _decide(request: HttpRequest, notice_id: int, action: str) -> HttpResponse:
    notice = _or_404(lambda: access.access_notice_for_office(user=request.user,
                                                            notice_id=notice_id))
    if request.method != "POST":
        return redirect("oversight:notice", notice_id=notice.pk)
    note = request.POST.get("note", "")
    try:
        if action == "accept":
            services.notice_accept(user=request.user, notice_id=notice.pk, note=note)
            messages.success(request, _("The reply has been accepted and the notice closed."))
        elif action == "return":
            due = request.POST.get("reply_due") or None
            services.notice_return(user=request.user, notice_id=notice.pk, reason=note,
                                   reply_due=date.fromisoformat(due) if due else None)
            messages.success(request, _("The reply has been returned to the unit."))
        else:
            services.notice_escalate(user=request.user, notice_id=notice.pk, note=note)
            messages.success(request, _("The notice has been escalated to the unit's leaders."))
    except ValueError:
        messages.error(request, _("Enter the date as YYYY-MM-DD."))
    except ShidianError as error:
        _refused(request, error)
    return redirect("oversight:notice", notice_id=notice.pk)


@login_required
def notice_accept(request: HttpRequest, notice_id: int) -> HttpResponse:
    return _decide(request, notice_id, "accept")


@login_required
def notice_return(request: HttpRequest, notice_id: int) -> HttpResponse:
    return _decide(request, notice_id, "return")


@login_required
def notice_escalate(request: HttpRequest, notice_id: int) -> HttpResponse:
    return _decide(request, notice_id, "escalate")


@login_required
def notice_docx(request: HttpRequest, notice_id: int) -> HttpResponse:
    notice = _or_404(lambda: access.access_notice_by_id(user=request.user, notice_id=notice_id))
    notice = selectors.notice_detail(notices=access.notices_visible_to(user=request.user),
                                     notice_id=notice.pk)
    return _download(notice_docs.notice_docx(notice),
                     _("%(number)s %(title)s.docx") % {"number": notice.display_number,
                                                       "title": notice.title}, DOCX)


@login_required
def reply_docx(request: HttpRequest, notice_id: int, reply_id: int) -> HttpResponse:
    notice = _or_404(lambda: access.access_notice_by_id(user=request.user, notice_id=notice_id))
    notice = selectors.notice_detail(notices=access.notices_visible_to(user=request.user),
                                     notice_id=notice.pk)
    reply = next((r for r in notice.replies.all() if r.pk == reply_id), None)
    if reply is None:
        raise Http404("reply not found")
    return _download(notice_docs.reply_docx(notice, reply),
                     _("Reply to %(number)s.docx") % {"number": notice.display_number}, DOCX)



# -- inspections and rectification ----------------------------------------------------------
@login_required
def rounds(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not (access.sees_oversight(user) or access.is_inspector(user)):
        raise Http404("no inspections")
    rows = (access.rounds_visible_to(user=user).select_related("plan", "plan__division")
            .prefetch_related("memberships__user").annotate(
                sites=Count("visits", distinct=True),
                done=Count("visits", filter=Q(visits__visited_on__isnull=False),
                           distinct=True))
            .order_by("-starts_on", "-id")[:200])
    plans = access.plans_for_office(user=user).order_by("title") if access.is_office(user) \
        else []
    return render(request, "web/oversight/rounds.html", {
        "rows": rows, "plans": plans, "is_office": access.is_office(user)})


class RoundForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name of the round"), max_length=200,
                           widget=forms.TextInput(attrs={"class": "form-control"}))
    starts_on = forms.DateField(label=gettext_lazy("First day of the round"), widget=_date_input())
    ends_on = forms.DateField(label=gettext_lazy("Last day of the round"), widget=_date_input())
    members = forms.TypedMultipleChoiceField(label=gettext_lazy("Team"), coerce=int,
                                             widget=forms.CheckboxSelectMultiple)
    leader = forms.TypedChoiceField(label=gettext_lazy("Team leader"), coerce=int,
                                    widget=forms.Select(attrs={"class": "form-select"}))

    def __init__(self, *args, candidates=(), **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(u.pk, f"{u}（{u.get_role_display()}）") for u in candidates]
        self.fields["members"].choices = choices
        self.fields["leader"].choices = choices


@login_required
def round_new(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = _or_404(lambda: access.access_plan_for_office(user=request.user, plan_id=plan_id))
    candidates = list(services.inspector_candidates(user=request.user, plan=plan)[:300])
    if request.method == "POST":
        form = RoundForm(request.POST, candidates=candidates)
        if form.is_valid():
            data = form.cleaned_data
            try:
                created = services.round_create(
                    user=request.user, plan_id=plan.pk, name=data["name"],
                    starts_on=data["starts_on"], ends_on=data["ends_on"],
                    member_ids=data["members"], leader_id=data["leader"])
                messages.success(request, _("The inspection round has been set up."))
                return redirect("oversight:round", round_id=created.pk)
            except ShidianError as error:
                _refused(request, error)
        else:
            messages.error(request, _("Please correct the fields marked below."))
    else:
        form = RoundForm(candidates=candidates, initial={
            "name": _("%(year)s on-site inspection of %(plan)s")
            % {"year": _today().year, "plan": plan.title}})
    return render(request, "web/oversight/round_new.html", {"plan": plan, "form": form})


class VisitForm(forms.Form):
    site = forms.TypedChoiceField(label=gettext_lazy("Site"), coerce=int,
                                  widget=forms.Select(attrs={"class": "form-select"}))
    planned_on = forms.DateField(label=gettext_lazy("Planned for"), widget=_date_input())

    def __init__(self, *args, sites=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].choices = [(a.pk, a.name) for a in sites]


@login_required
def round_detail(request: HttpRequest, round_id: int) -> HttpResponse:
    inspection = _or_404(lambda: access.access_round_by_id(user=request.user,
                                                           round_id=round_id))
    can_manage = access.plans_for_office(user=request.user).filter(
        pk=inspection.plan_id).exists()
    visits = list(inspection.visits.select_related("site").annotate(
        findings_count=Count("findings", distinct=True),
        open_count=Count("findings__rectification", filter=~Q(
            findings__rectification__status="closed"), distinct=True))
        .order_by("planned_on", "id"))
    form = None
    if can_manage:
        form = VisitForm(sites=services.sites_for(inspection.plan)[:500],
                         initial={"planned_on": inspection.starts_on})
    return render(request, "web/oversight/round_detail.html", {
        "round": inspection, "visits": visits, "form": form,
        "members": inspection.memberships.select_related("user").order_by("-is_leader", "id")})


@login_required
def visit_add(request: HttpRequest, round_id: int) -> HttpResponse:
    inspection = _or_404(lambda: access.access_round_for_office(user=request.user,
                                                                round_id=round_id))
    if request.method == "POST":
        form = VisitForm(request.POST, sites=services.sites_for(inspection.plan))
        if form.is_valid():
            try:
                services.visit_add(user=request.user, round_id=inspection.pk,
                                   site_id=form.cleaned_data["site"],
                                   planned_on=form.cleaned_data["planned_on"])
                messages.success(request, _("The site has been added to the round."))
            except ShidianError as error:
                _refused(request, error)
        else:
            messages.error(request, _("Choose a site and the day of the visit."))
    return redirect("oversight:round", round_id=inspection.pk)


class VisitRecordForm(forms.Form):
    visited_on = forms.DateField(label=gettext_lazy("Visited on"), widget=_date_input())
    on_site = forms.BooleanField(label=gettext_lazy("On-site inspection"), required=False,
                                 initial=True,
                                 widget=forms.CheckboxInput(attrs={"class": "form-check-input"}))
    summary = forms.CharField(label=gettext_lazy("Summary"), required=False,
                              max_length=services.MAX_TEXT,
                              widget=forms.Textarea(attrs={"class": "form-control", "rows": 3}))


class FindingForm(forms.Form):
    description = forms.CharField(label=gettext_lazy("Problem found"),
                                  max_length=services.MAX_TEXT,
                                  widget=forms.Textarea(attrs={"class": "form-control",
                                                               "rows": 3}))
    severity = forms.ChoiceField(label=gettext_lazy("Severity"),
                                 choices=[("general", gettext_lazy("General")),
                                          ("serious", gettext_lazy("Serious"))],
                                 widget=forms.Select(attrs={"class": "form-select"}))
    owner = forms.TypedChoiceField(label=gettext_lazy("Owner"), coerce=int,
                                   widget=forms.Select(attrs={"class": "form-select"}))
    measures = forms.CharField(label=gettext_lazy("Rectification measures"),
                               max_length=services.MAX_TEXT,
                               widget=forms.Textarea(attrs={"class": "form-control",
                                                            "rows": 3}))
    deadline = forms.DateField(label=gettext_lazy("Rectify by"), widget=_date_input())

    def __init__(self, *args, owners=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [(a.pk, a.name) for a in owners]


@login_required
def visit_detail(request: HttpRequest, visit_id: int) -> HttpResponse:
    user = request.user
    visit = _or_404(lambda: access.access_visit_by_id(user=user, visit_id=visit_id))
    can_record = _inspects(request, visit.pk)
    findings = list(visit.findings.select_related("rectification", "rectification__owner")
                    .prefetch_related("photos").order_by("id"))
    owners = services.sites_for(visit.round.plan)[:500] if can_record else []
    return render(request, "web/oversight/visit_detail.html", {
        "visit": visit, "findings": findings, "can_record": can_record,
        "record_form": VisitRecordForm(initial={
            "visited_on": visit.visited_on or min(_today(), visit.planned_on),
            "on_site": visit.on_site, "summary": visit.summary}) if can_record else None,
        "finding_form": FindingForm(owners=owners, initial={
            "owner": visit.site_id, "deadline": _today()}) if can_record else None})


def _inspects(request: HttpRequest, visit_id: int) -> bool:
    try:
        access.access_visit_for_inspector(user=request.user, visit_id=visit_id)
    except ShidianError:
        return False
    return True


@login_required
def visit_record(request: HttpRequest, visit_id: int) -> HttpResponse:
    visit = _or_404(lambda: access.access_visit_for_inspector(user=request.user,
                                                              visit_id=visit_id))
    if request.method == "POST":
        form = VisitRecordForm(request.POST)
        if form.is_valid():
            try:
                services.visit_record(user=request.user, visit_id=visit.pk,
                                      **form.cleaned_data)
                messages.success(request, _("The visit has been recorded."))
            except ShidianError as error:
                _refused(request, error)
        else:
            messages.error(request, _("Give the day of the visit."))
    return redirect("oversight:visit", visit_id=visit.pk)


@login_required
def finding_add(request: HttpRequest, visit_id: int) -> HttpResponse:
    visit = _or_404(lambda: access.access_visit_for_inspector(user=request.user,
                                                              visit_id=visit_id))
    if request.method == "POST":
        form = FindingForm(request.POST, owners=services.sites_for(visit.round.plan))
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.finding_record(
                    user=request.user, visit_id=visit.pk, photos=request.FILES.getlist("photos"),
                    data=services.FindingInput(
                        description=data["description"], severity=data["severity"],
                        owner_id=data["owner"], measures=data["measures"],
                        deadline=data["deadline"]))
                messages.success(request, _("The problem has been recorded and the owner told "
                                            "to rectify it."))
            except ShidianError as error:
                _refused(request, error)
        else:
            messages.error(request, _("Describe the problem, the measures and the deadline."))
    return redirect("oversight:visit", visit_id=visit.pk)


@login_required
def photo(request: HttpRequest, photo_id: int) -> FileResponse:
    item = _or_404(lambda: access.access_photo_by_id(user=request.user, photo_id=photo_id))
    try:
        handle = item.file.open("rb")
    except FileNotFoundError:
        raise Http404("file missing") from None
    response = FileResponse(handle, content_type=item.content_type,
                            filename=item.original_name)
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def rectifications(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not (access.sees_oversight(user) or access.is_inspector(user) or access.is_unit(user)):
        raise Http404("no rectifications")
    rows = (access.rectifications_visible_to(user=user)
            .select_related("owner", "finding__visit__site", "finding__visit__round__plan")
            .order_by("status", "deadline", "id")[:300])
    return render(request, "web/oversight/rectifications.html", {"rows": rows,
                                                                  "today": _today()})


class CompletionForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("What was done"), max_length=services.MAX_TEXT,
                           widget=forms.Textarea(attrs={"class": "form-control", "rows": 4}))


@login_required
def rectification_detail(request: HttpRequest, rectification_id: int) -> HttpResponse:
    user = request.user
    item = _or_404(lambda: access.access_rectification_by_id(
        user=user, rectification_id=rectification_id))
    is_owner = access.is_unit(user)
    try:
        access.access_rectification_for_verifier(user=user, rectification_id=item.pk)
        can_verify = True
    except ShidianError:
        can_verify = False
    evidence = []
    if is_owner:
        from shidian.reporting.selectors import evidence_of_agency

        evidence = evidence_of_agency(agency=item.owner)
    return render(request, "web/oversight/rectification_detail.html", {
        "item": item, "finding": item.finding, "visit": item.finding.visit,
        "photos": item.finding.photos.all(), "cited": item.evidence.all(), "today": _today(),
        "can_submit": is_owner and item.status in ("open", "returned"),
        "can_verify": can_verify and item.status == "submitted",
        "form": CompletionForm(initial={"note": item.completion_note}), "evidence": evidence})


@login_required
def rectification_submit(request: HttpRequest, rectification_id: int) -> HttpResponse:
    item = _or_404(lambda: access.access_rectification_for_owner(
        user=request.user, rectification_id=rectification_id))
    if request.method != "POST":
        return redirect("oversight:rectification", rectification_id=item.pk)
    form = CompletionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say what was done."))
        return redirect("oversight:rectification", rectification_id=item.pk)
    evidence_ids = [int(pk) for pk in request.POST.getlist("evidence") if pk.isdigit()]
    try:
        for upload in request.FILES.getlist("files"):
            evidence_ids.append(reporting_services.evidence_attach(
                user=request.user, agency_id=item.owner_id, upload=upload).pk)
        services.rectification_submit(user=request.user, rectification_id=item.pk,
                                      note=form.cleaned_data["note"], evidence_ids=evidence_ids)
        messages.success(request, _("The completion has been reported for verification."))
    except ShidianError as error:
        _refused(request, error)
    return redirect("oversight:rectification", rectification_id=item.pk)


@login_required
def rectification_verify(request: HttpRequest, rectification_id: int) -> HttpResponse:
    item = _or_404(lambda: access.access_rectification_for_verifier(
        user=request.user, rectification_id=rectification_id))
    if request.method != "POST":
        return redirect("oversight:rectification", rectification_id=item.pk)
    accept = request.POST.get("action") == "close"
    try:
        services.rectification_verify(user=request.user, rectification_id=item.pk,
                                      accept=accept, reason=request.POST.get("reason", ""))
        messages.success(request, _("The rectification has been closed (销号).") if accept
                         else _("The rectification has been returned to the owner."))
    except ShidianError as error:
        _refused(request, error)
    return redirect("oversight:rectification", rectification_id=item.pk)


@login_required
def plan_inspections(request: HttpRequest, plan_id: int) -> HttpResponse:
    """The on-site inspections each site of a plan got against what the plan requires."""
    plan = _or_404(lambda: access.access_plan_for_reading(user=request.user, plan_id=plan_id))
    today = _today()
    return render(request, "web/oversight/plan_inspections.html", {
        "plan": plan, "rows": selectors.inspection_coverage(plan=plan, today=today),
        "rule": ladder.rule_of(plan),
        "rounds": plan.inspection_rounds.order_by("-starts_on", "-id"),
        "is_office": access.plans_for_office(user=request.user).filter(pk=plan.pk).exists()})


@login_required
def site_history(request: HttpRequest, site_id: int) -> HttpResponse:
    site = _or_404(lambda: access.access_site_by_id(user=request.user, site_id=site_id))
    history = selectors.site_history(
        site=site, visits=access.visits_of_site_visible_to(user=request.user))
    return render(request, "web/oversight/site_history.html", {"history": history,
                                                                 "site": site})


# -- scorecards, evaluations, rankings, bulletins, briefings ----------------------------------
class ScorecardForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name of the scorecard"), max_length=200,
                           widget=forms.TextInput(attrs={"class": "form-control"}))
    subject_kind = forms.ChoiceField(label=gettext_lazy("Who is assessed"), choices=[
        ("agency", gettext_lazy("The plan's units")),
        ("division", gettext_lazy("The divisions one level below the plan's"))],
        widget=forms.Select(attrs={"class": "form-select"}))
    excellent_from = forms.DecimalField(label=gettext_lazy("Excellent from (%)"), initial=90,
                                        widget=forms.NumberInput(attrs={"class": "form-control"}))
    good_from = forms.DecimalField(label=gettext_lazy("Good from (%)"), initial=80,
                                   widget=forms.NumberInput(attrs={"class": "form-control"}))
    pass_from = forms.DecimalField(label=gettext_lazy("Pass from (%)"), initial=60,
                                   widget=forms.NumberInput(attrs={"class": "form-control"}))
    model_site_from = forms.DecimalField(
        label=gettext_lazy("Model sites from (%)"), required=False,
        help_text=gettext_lazy("Empty: the excellent line."),
        widget=forms.NumberInput(attrs={"class": "form-control"}))


@login_required
def scorecards(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = _or_404(lambda: access.access_plan_for_reading(user=request.user, plan_id=plan_id))
    is_office = access.plans_for_office(user=request.user).filter(pk=plan.pk).exists()
    form = ScorecardForm() if is_office else None
    if request.method == "POST":
        if not is_office:
            raise Http404("offices only")
        form = ScorecardForm(request.POST)
        if form.is_valid():
            try:
                card = services.scorecard_create(user=request.user, plan_id=plan.pk,
                                                 **form.cleaned_data)
                messages.success(request, _("The scorecard has been created; add its items."))
                return redirect("oversight:scorecard", scorecard_id=card.pk)
            except ShidianError as error:
                _refused(request, error)
        else:
            messages.error(request, _("Please correct the fields marked below."))
    return render(request, "web/oversight/scorecards.html", {
        "plan": plan, "form": form,
        "cards": plan.scorecards.prefetch_related("items", "evaluations").order_by("name")})


class ItemForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Item"), max_length=200,
                           widget=forms.TextInput(attrs={"class": "form-control"}))
    weight = forms.DecimalField(label=gettext_lazy("Points"), min_value=0,
                                widget=forms.NumberInput(attrs={"class": "form-control"}))
    rule = forms.ChoiceField(label=gettext_lazy("Scored by"), choices=ScoreRule.choices,
                             widget=forms.Select(attrs={"class": "form-select"}))
    guidance = forms.CharField(label=gettext_lazy("Scoring guidance"), required=False,
                               max_length=500,
                               widget=forms.TextInput(attrs={"class": "form-control"}))


class EvaluationForm(forms.Form):
    period = forms.CharField(label=gettext_lazy("Period (2021, 2021H1, 2021Q3, 2021M06)"),
                             max_length=8,
                             widget=forms.TextInput(attrs={"class": "form-control"}))


@login_required
def scorecard_detail(request: HttpRequest, scorecard_id: int) -> HttpResponse:
    card = _or_404(lambda: access.access_scorecard_by_id(user=request.user,
                                                         scorecard_id=scorecard_id))
    is_office = access.is_office_of_scorecard(user=request.user, scorecard=card)
    if request.method == "POST":
        if not is_office:
            raise Http404("offices only")
        try:
            if request.POST.get("action") == "round":
                form = EvaluationForm(request.POST)
                if form.is_valid():
                    evaluation = services.evaluation_open(
                        user=request.user, scorecard_id=card.pk,
                        period=form.cleaned_data["period"])
                    messages.success(request, _("The round has been opened for "
                                                "self-assessment."))
                    return redirect("oversight:evaluation", evaluation_id=evaluation.pk)
            else:
                form = ItemForm(request.POST)
                if form.is_valid():
                    services.score_item_add(user=request.user, scorecard_id=card.pk,
                                            **form.cleaned_data)
                    messages.success(request, _("The item has been added."))
                else:
                    messages.error(request, _("Please correct the fields marked below."))
        except ShidianError as error:
            _refused(request, error)
        return redirect("oversight:scorecard", scorecard_id=card.pk)
    items = list(card.items.order_by("order", "id"))
    return render(request, "web/oversight/scorecard_detail.html", {
        "card": card, "items": items, "total": sum(i.weight for i in items),
        "rounds": card.evaluations.order_by("-period"), "is_office": is_office,
        "item_form": ItemForm() if is_office else None,
        "round_form": EvaluationForm() if is_office else None})


@login_required
def score_item_remove(request: HttpRequest, item_id: int) -> HttpResponse:
    item = _or_404(lambda: access.access_score_item_for_office(user=request.user,
                                                               item_id=item_id))
    if request.method == "POST":
        try:
            services.score_item_remove(user=request.user, item_id=item.pk)
            messages.success(request, _("The item has been removed."))
        except ShidianError as error:
            _refused(request, error)
    return redirect("oversight:scorecard", scorecard_id=item.scorecard_id)


@login_required
def evaluation_detail(request: HttpRequest, evaluation_id: int) -> HttpResponse:
    from shidian.oversight import scoring

    user = request.user
    evaluation = _or_404(lambda: access.access_evaluation_by_id(user=user,
                                                                evaluation_id=evaluation_id))
    card = evaluation.scorecard
    is_office = access.is_office_of_scorecard(user=user, scorecard=card)
    is_reviewer = access.is_reviewer_of(user=user, evaluation=evaluation)
    ranking = selectors.evaluation_ranking(evaluation=evaluation)
    rows = scoring.results(evaluation=evaluation, subjects=scoring.subjects_of(card))
    previous = {r.key: r for r in ranking.rows}
    own = {f"a{pk}" for pk in access.user_agency_ids(user)} if access.is_unit(user) else set()
    if own and not is_reviewer:  # a unit sees its own row only
        rows = [r for r in rows if r.subject.key in own]
    for row in rows:
        row.extra["change"] = previous[row.subject.key].change
    stage = evaluation.status
    scores_self = stage == "self" and bool(own)
    scores_review = stage == "review" and (is_office or is_reviewer)
    hand = selectors.hand_scores(evaluation=evaluation, user=user,
                                 subjects={r.subject.key: r.subject.name for r in rows})
    return render(request, "web/oversight/evaluation_detail.html", {
        "evaluation": evaluation, "card": card, "rows": rows,
        "items": list(card.items.order_by("order", "id")), "is_office": is_office,
        "is_reviewer": is_reviewer, "own": own, "hand": hand,
        "scores_self": scores_self, "scores_review": scores_review,
        "grades": {g.value: g.label for g in scoring.Grade},
        "ranking": ranking, "stage": stage,
        "progress": selectors.reviewer_progress(evaluation=evaluation)
        if is_office or is_reviewer else [],
        "candidates": services.round_reviewer_candidates(user=user, scorecard=card)
        if is_office and stage != "final" else [],
        "excellent": [r for r in rows if scoring.may_be_model_site(r, card)],
        "model_site_line": f"{scoring.model_site_line(card)}%",
        "model_sites": set(evaluation.model_sites.values_list("pk", flat=True)),
        "named_sites": evaluation.model_sites.select_related("division").order_by("name")})


def _entries(request: HttpRequest) -> list[tuple[str, str, str, str]]:
    """(item, subject, score, note) from inputs named score-<item>-<subject>."""
    found = []
    for name, value in request.POST.items():
        parts = name.split("-", 2)
        if len(parts) != 3 or parts[0] != "score" or value.strip() == "":
            continue
        _prefix, item_id, subject = parts
        found.append((item_id, subject, value.strip(),
                      request.POST.get(f"note-{item_id}-{subject}", "")))
    return found


@login_required
def evaluation_score(request: HttpRequest, evaluation_id: int) -> HttpResponse:
    """Self-assessment (a unit, its own row, with evidence files) or reviewer scoring (the
    reviewers named by the office, and the office), in one go."""
    user = request.user
    evaluation = _or_404(lambda: access.access_evaluation_by_id(user=user,
                                                                evaluation_id=evaluation_id))
    if request.method != "POST":
        return redirect("oversight:evaluation", evaluation_id=evaluation.pk)
    entries = _entries(request)
    try:
        if access.is_unit(user) and not access.is_reviewer_of(user=user, evaluation=evaluation):
            by_agency: dict[str, list] = {}
            uploads: dict[str, dict[str, list]] = {}
            for item_id, subject, score, note in entries:
                agency_id = subject.removeprefix("a")
                by_agency.setdefault(agency_id, []).append((item_id, score, note))
                uploads.setdefault(agency_id, {})[item_id] = request.FILES.getlist(
                    f"evidence-{item_id}-{subject}")
            for agency_id, rows in by_agency.items():
                services.scores_self_many(user=user, evaluation_id=evaluation.pk,
                                          agency_id=agency_id, entries=rows,
                                          uploads=uploads[agency_id])
        else:
            services.scores_review_many(user=user, evaluation_id=evaluation.pk,
                                        entries=entries)
        messages.success(request, _("The scores have been saved."))
    except ShidianError as error:
        _refused(request, error)
    return redirect("oversight:evaluation", evaluation_id=evaluation.pk)


@login_required
def evaluation_reviewers(request: HttpRequest, evaluation_id: int) -> HttpResponse:
    """The office names the round's reviewers."""
    evaluation = _or_404(lambda: access.access_evaluation_for_office(
        user=request.user, evaluation_id=evaluation_id))
    if request.method == "POST":
        try:
            services.evaluation_reviewers_set(user=request.user, evaluation_id=evaluation.pk,
                                              user_ids=request.POST.getlist("reviewer"))
            messages.success(request, _("The reviewers have been named."))
        except ShidianError as error:
            _refused(request, error)
    return redirect("oversight:evaluation", evaluation_id=evaluation.pk)


@login_required
def evaluation_evidence(request: HttpRequest, evaluation_id: int,
                        evidence_id: int) -> FileResponse:
    """A file a self-assessment cites, for the round's reviewers, office and leaders."""
    item = _or_404(lambda: access.access_evaluation_evidence(
        user=request.user, evaluation_id=evaluation_id, evidence_id=evidence_id))
    try:
        handle = item.file.open("rb")
    except FileNotFoundError:
        raise Http404("file missing") from None
    response = FileResponse(handle, content_type=item.content_type,
                            filename=item.original_name)
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def reviews(request: HttpRequest) -> HttpResponse:
    """The rounds the user was named a reviewer of."""
    from shidian.oversight.models import EvaluationReviewer

    rows = (EvaluationReviewer.objects.filter(user=request.user)
            .select_related("evaluation", "evaluation__scorecard",
                            "evaluation__scorecard__plan", "evaluation__scorecard__programme")
            .order_by("-evaluation__period", "-id"))
    return render(request, "web/oversight/reviews.html", {"rows": rows})


@login_required
def evaluation_advance(request: HttpRequest, evaluation_id: int) -> HttpResponse:
    evaluation = _or_404(lambda: access.access_evaluation_for_office(
        user=request.user, evaluation_id=evaluation_id))
    if request.method == "POST":
        try:
            if request.POST.get("action") == "refresh":
                services.evaluation_refresh(user=request.user, evaluation_id=evaluation.pk)
                messages.success(request, _("The measures have been recomputed."))
            else:
                services.evaluation_advance(user=request.user, evaluation_id=evaluation.pk,
                                            model_site_ids=request.POST.getlist("agency"))
                messages.success(request, _("The round has moved on."))
        except ShidianError as error:
            _refused(request, error)
    return redirect("oversight:evaluation", evaluation_id=evaluation.pk)


# -- a programme's annual evaluation (年度考核) and its model sites ---------------------------
class ProgrammeScorecardForm(ScorecardForm):
    subject_kind = forms.ChoiceField(label=gettext_lazy("Who is assessed"), choices=[
        ("agency", gettext_lazy("The units of the programme's plans")),
        ("division", gettext_lazy("The divisions one level below each plan's"))],
        widget=forms.Select(attrs={"class": "form-select"}))


class AnnualRoundForm(forms.Form):
    scorecard = forms.TypedChoiceField(label=gettext_lazy("Scorecard"), coerce=int,
                                       widget=forms.Select(attrs={"class": "form-select"}))
    year = forms.IntegerField(label=gettext_lazy("Year"), min_value=2000, max_value=2100,
                              widget=forms.NumberInput(attrs={"class": "form-control"}))

    def __init__(self, *args, cards=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["scorecard"].choices = [(c.pk, c.name) for c in cards]


@login_required
def programme_evaluation(request: HttpRequest, programme_id: int) -> HttpResponse:
    """A programme's annual evaluation: its scorecards and rounds across all its plans, and
    the model sites (示范基地) its final rounds named. The programme's office creates the
    scorecards and opens the rounds."""
    user = request.user
    programme = _or_404(lambda: access.access_programme_for_reading(
        user=user, programme_id=programme_id))
    is_office = access.programmes_for_office(user=user).filter(pk=programme.pk).exists()
    cards = list(programme.scorecards.prefetch_related("items").order_by("name"))
    card_form = ProgrammeScorecardForm(prefix="card") if is_office else None
    round_form = (AnnualRoundForm(prefix="round", cards=cards,
                                  initial={"year": _today().year - 1})
                  if is_office and cards else None)
    if request.method == "POST":
        if not is_office:
            raise Http404("offices only")
        try:
            if request.POST.get("action") == "round":
                round_form = AnnualRoundForm(request.POST, prefix="round", cards=cards)
                if round_form.is_valid():
                    evaluation = services.programme_round_open(
                        user=user, scorecard_id=round_form.cleaned_data["scorecard"],
                        year=round_form.cleaned_data["year"])
                    messages.success(request, _("The round has been opened for "
                                                "self-assessment."))
                    return redirect("oversight:evaluation", evaluation_id=evaluation.pk)
                messages.error(request, _("Please correct the fields marked below."))
            else:
                card_form = ProgrammeScorecardForm(request.POST, prefix="card")
                if card_form.is_valid():
                    card = services.programme_scorecard_create(
                        user=user, programme_id=programme.pk, **card_form.cleaned_data)
                    messages.success(request, _("The scorecard has been created; add its "
                                                "items."))
                    return redirect("oversight:scorecard", scorecard_id=card.pk)
                messages.error(request, _("Please correct the fields marked below."))
        except ShidianError as error:
            _refused(request, error)
    from shidian.oversight import scoring

    return render(request, "web/oversight/programme_evaluation.html", {
        "programme": programme, "is_office": is_office, "cards": cards,
        "plans": scoring.programme_plans(programme),
        "rounds": selectors.programme_rounds(programme=programme),
        "model_sites": selectors.programme_model_sites(programme=programme),
        "bulletins": programme.bulletins.order_by("-created_at", "-id"),
        "card_form": card_form, "round_form": round_form})


@login_required
def programme_bulletin_new(request: HttpRequest, evaluation_id: int) -> HttpResponse:
    """A draft 通报 of a programme's final round, by the programme's office."""
    evaluation = _or_404(lambda: access.access_evaluation_for_office(
        user=request.user, evaluation_id=evaluation_id))
    if request.method == "POST":
        try:
            bulletin = services.programme_bulletin_create(
                user=request.user, evaluation_id=evaluation.pk,
                red_count=_small_int(request.POST.get("red_count"), 3),
                black_count=_small_int(request.POST.get("black_count"), 3))
            messages.success(request, _("A draft bulletin has been written; edit it, then "
                                        "issue it."))
            return redirect("oversight:bulletin", bulletin_id=bulletin.pk)
        except ShidianError as error:
            _refused(request, error)
    return redirect("oversight:evaluation", evaluation_id=evaluation.pk)


class RankingForm(forms.Form):
    measure = forms.ChoiceField(label=gettext_lazy("Ranked by"), choices=[
        (r.value, r.label) for r in ScoreRule if r != ScoreRule.MANUAL],
        widget=forms.Select(attrs={"class": "form-select"}))
    subjects = forms.ChoiceField(label=gettext_lazy("Who is ranked"), choices=[
        ("agency", gettext_lazy("The plan's units")),
        ("division", gettext_lazy("The divisions one level below the plan's"))],
        widget=forms.Select(attrs={"class": "form-select"}))
    period = forms.CharField(label=gettext_lazy("Period (2021, 2021H1, 2021Q3, 2021M06)"),
                             max_length=8, widget=forms.TextInput(attrs={"class": "form-control"}))


@login_required
def rankings(request: HttpRequest, plan_id: int) -> HttpResponse:
    from shidian.core.periods import parse_period, period_containing

    plan = _or_404(lambda: access.access_plan_for_reading(user=request.user, plan_id=plan_id))
    today = _today()
    default_period = period_containing(today, "M").previous().id
    form = RankingForm(request.GET or None, initial={
        "measure": ScoreRule.ON_TIME_REPORTS, "subjects": "agency", "period": default_period})
    ranking = None
    if form.is_bound and form.is_valid():
        try:
            ranking = selectors.measure_ranking(
                plan=plan, subject_kind=form.cleaned_data["subjects"],
                rule=form.cleaned_data["measure"],
                period=parse_period(form.cleaned_data["period"]), today=today)
        except ShidianError as error:
            _refused(request, error)
    return render(request, "web/oversight/rankings.html", {
        "plan": plan, "form": form, "ranking": ranking,
        "is_office": access.plans_for_office(user=request.user).filter(pk=plan.pk).exists()})


@login_required
def bulletins(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = _or_404(lambda: access.access_plan_for_reading(user=request.user, plan_id=plan_id))
    is_office = access.plans_for_office(user=request.user).filter(pk=plan.pk).exists()
    if request.method == "POST":
        if not is_office:
            raise Http404("offices only")
        try:
            bulletin = services.bulletin_create(
                user=request.user, plan_id=plan.pk,
                evaluation_id=request.POST.get("evaluation") or None,
                measure=request.POST.get("measure", ""), period=request.POST.get("period", ""),
                subject_kind=request.POST.get("subjects", "agency"),
                red_count=_small_int(request.POST.get("red_count"), 3),
                black_count=_small_int(request.POST.get("black_count"), 3))
            messages.success(request, _("A draft bulletin has been written; edit it, then "
                                        "issue it."))
            return redirect("oversight:bulletin", bulletin_id=bulletin.pk)
        except ShidianError as error:
            _refused(request, error)
    return render(request, "web/oversight/bulletins.html", {
        "plan": plan, "is_office": is_office,
        "rows": plan.bulletins.order_by("-created_at", "-id"),
        "briefings": plan.briefings.order_by("-year", "-number")})


def _small_int(value: str | None, default: int) -> int:
    return int(value) if value and value.isdigit() and len(value) <= 3 else default


class BulletinForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200,
                            widget=forms.TextInput(attrs={"class": "form-control"}))
    issuer_name = forms.CharField(label=gettext_lazy("Issuing office"), max_length=200,
                                  widget=forms.TextInput(attrs={"class": "form-control"}))
    opening = forms.CharField(label=gettext_lazy("Opening"), required=False,
                              widget=forms.Textarea(attrs={"class": "form-control", "rows": 3}))
    praise = forms.CharField(label=gettext_lazy("Commended (red list)"), required=False,
                             widget=forms.Textarea(attrs={"class": "form-control", "rows": 3}))
    criticism = forms.CharField(label=gettext_lazy("Criticised (black list)"), required=False,
                                widget=forms.Textarea(attrs={"class": "form-control",
                                                             "rows": 3}))
    requirements = forms.CharField(label=gettext_lazy("Next requirements"), required=False,
                                   widget=forms.Textarea(attrs={"class": "form-control",
                                                                "rows": 3}))


@login_required
def bulletin_detail(request: HttpRequest, bulletin_id: int) -> HttpResponse:
    bulletin = _or_404(lambda: access.access_bulletin_by_id(user=request.user,
                                                            bulletin_id=bulletin_id))
    is_office = access.bulletins_for_office(user=request.user).filter(pk=bulletin.pk).exists()
    if request.method == "POST":
        if not is_office:
            raise Http404("offices only")
        try:
            if request.POST.get("action") == "issue":
                issued = services.bulletin_issue(user=request.user, bulletin_id=bulletin.pk)
                messages.success(request, _("The bulletin has been issued as %(number)s.")
                                 % {"number": notice_docs.bulletin_number(issued)})
                return redirect("oversight:bulletin", bulletin_id=bulletin.pk)
            form = BulletinForm(request.POST)
            if form.is_valid():
                services.bulletin_edit(user=request.user, bulletin_id=bulletin.pk,
                                       text=services.BulletinText(**form.cleaned_data))
                messages.success(request, _("The bulletin's wording has been saved."))
                return redirect("oversight:bulletin", bulletin_id=bulletin.pk)
            messages.error(request, _("Please correct the fields marked below."))
        except ShidianError as error:
            _refused(request, error)
    form = BulletinForm(initial={k: getattr(bulletin, k) for k in (
        "title", "issuer_name", "opening", "praise", "criticism", "requirements")})
    return render(request, "web/oversight/bulletin_detail.html", {
        "bulletin": bulletin, "form": form, "is_office": is_office,
        "number": notice_docs.bulletin_number(bulletin),
        "rows": (bulletin.snapshot or {}).get("rows", [])})


@login_required
def bulletin_docx(request: HttpRequest, bulletin_id: int) -> HttpResponse:
    bulletin = _or_404(lambda: access.access_bulletin_by_id(user=request.user,
                                                            bulletin_id=bulletin_id))
    return _download(notice_docs.bulletin_docx(bulletin), f"{bulletin.title}.docx", DOCX)


@login_required
def briefing_new(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = _or_404(lambda: access.access_plan_for_office(user=request.user, plan_id=plan_id))
    if request.method == "POST":
        try:
            issue = services.briefing_issue(user=request.user, plan_id=plan.pk,
                                            period=request.POST.get("period", ""))
            messages.success(request, _("Issue %(number)s of %(year)s has been made.")
                             % {"number": issue.number, "year": issue.year})
        except ShidianError as error:
            _refused(request, error)
    return redirect("oversight:bulletins", plan_id=plan.pk)


@login_required
def briefing_docx(request: HttpRequest, briefing_id: int) -> HttpResponse:
    issue = _or_404(lambda: access.access_briefing_by_id(user=request.user,
                                                         briefing_id=briefing_id))
    return _download(notice_docs.briefing_docx(issue, today=_today()),
                     _("%(plan)s briefing %(year)s-%(number)s.docx")
                     % {"plan": issue.plan.title, "year": issue.year, "number": issue.number},
                     DOCX)
