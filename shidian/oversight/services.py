"""Writes of the oversight app: rules and robots, the inbox, supervision notices, inspections
and rectification, scorecards and evaluations, bulletins.

Every function takes the acting user, checks role and scope through ``access`` before it
validates anything, validates before it saves, and runs in one transaction; django-auditlog
records each row it changes. People hear about a change through ``outbox.notify`` inside the
same transaction (the inbox at once; e-mail and robots by the next tick).
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from shidian.core import crypto
from shidian.core.errors import ErrorCode, ShidianError, not_found
from shidian.core.workdays import DayKind, deadline_after
from shidian.orgs.access import user_agency_ids
from shidian.orgs.models import Agency, Role, User
from shidian.plans.models import Plan, TaskUnit
from shidian.reporting import files
from shidian.reporting.models import Evidence

from . import access, delivery, ladder, scoring
from .models import (BriefingIssue, Bulletin, BulletinStatus, Channel, DocumentCounter,
                     DocumentSeries, Evaluation, EvaluationReviewer, EvaluationStatus, Finding,
                     FindingPhoto, InspectionMember, InspectionRound, InspectionVisit, Message,
                     MessageKind, MessageStatus, NoticeReply, NoticeStatus, OversightRule,
                     Rectification, RectificationStatus, ReplyDecision, ReviewerScore, Score,
                     Scorecard, ScoreItem, ScoreRule, Severity, SubjectKind, SupervisionNotice,
                     Webhook)
from .outbox import Audience, Event, notify

MAX_TEXT = 4000
MAX_NOTE = 500


def _date(day: date) -> str:
    return formats.date_format(day, "DATE_FORMAT")


def _invalid(message: str, **extra) -> ShidianError:
    return ShidianError(ErrorCode.INVALID, message, extra)


def _text(value: str | None, *, label: str, required: bool = True, limit: int = MAX_TEXT
          ) -> str:
    value = (value or "").strip()
    if required and not value:
        raise _invalid(_("Fill in %(field)s.") % {"field": label})
    if len(value) > limit:
        raise _invalid(_("%(field)s holds at most %(n)s characters.")
                       % {"field": label, "n": limit})
    return value


# -- rules ----------------------------------------------------------------------------------
@dataclass
class RuleInput:
    remind_days: int = ladder.DEFAULT_RULE.remind_days
    escalate_days: int = ladder.DEFAULT_RULE.escalate_days
    reply_days: int = ladder.DEFAULT_RULE.reply_days
    min_onsite_inspections: int = ladder.DEFAULT_RULE.min_onsite_inspections
    is_active: bool = True
    send_email: bool = True


def rule_set(*, user: User, plan_id: int | str, data: RuleInput) -> OversightRule:
    """Set a plan's escalation rule (its office only)."""
    plan = access.access_plan_for_office(user=user, plan_id=plan_id)
    for name, low, high in (("remind_days", 0, 30), ("escalate_days", 1, 60),
                            ("reply_days", 1, 60), ("min_onsite_inspections", 0, 20)):
        value = getattr(data, name)
        if not isinstance(value, int) or not low <= value <= high:
            raise _invalid(_("%(field)s must be a whole number from %(low)s to %(high)s.")
                           % {"field": OversightRule._meta.get_field(name).verbose_name,
                              "low": low, "high": high}, field=name)
    values = {"remind_days": data.remind_days, "escalate_days": data.escalate_days,
              "reply_days": data.reply_days,
              "min_onsite_inspections": data.min_onsite_inspections,
              "is_active": bool(data.is_active), "send_email": bool(data.send_email)}
    with transaction.atomic():
        rule, created = OversightRule.objects.select_for_update().get_or_create(
            plan=plan, defaults=values)
        if not created:
            changed = [k for k, v in values.items() if getattr(rule, k) != v]
            for name in changed:
                setattr(rule, name, values[name])
            if changed:
                rule.save(update_fields=[*changed, "updated_at"])
    return rule


# -- group robots ---------------------------------------------------------------------------
def _hint(url: str) -> str:
    """What the page shows of a robot's address: the host and path, never the token."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"[:120]


def webhook_add(*, user: User, plan_id: int | str, kind: str, name: str, url: str,
                secret: str = "") -> Webhook:
    """Add a DingTalk or WeCom group robot to a plan; its address and secret are encrypted."""
    plan = access.access_plan_for_office(user=user, plan_id=plan_id)
    if kind not in (Channel.DINGTALK, Channel.WECOM):
        raise _invalid(_("Choose DingTalk or WeCom."), field="kind")
    name = _text(name, label=_("the robot's name"), limit=100)
    url = (url or "").strip()
    try:
        delivery.check_robot_url(url)
    except delivery.DeliveryError:
        raise _invalid(_("The robot's address must begin with https:// (or http://)."),
                       field="url") from None
    if len(url) > 1000:
        raise _invalid(_("The robot's address is too long."), field="url")
    secret = (secret or "").strip()
    if kind == Channel.WECOM and secret:
        raise _invalid(_("WeCom group robots do not sign their messages; leave the secret "
                         "empty."), field="secret")
    if secret and not secret.startswith("SEC"):
        raise _invalid(_("A DingTalk signing secret begins with SEC."), field="secret")
    with transaction.atomic():
        return Webhook.objects.create(
            plan=plan, kind=kind, name=name, url_token=crypto.encrypt_text(url),
            url_hint=_hint(url), secret_token=crypto.encrypt_text(secret) if secret else "",
            created_by=user)


def webhook_set_active(*, user: User, webhook_id: int | str, active: bool) -> Webhook:
    hook = access.access_webhook_for_office(user=user, webhook_id=webhook_id)
    with transaction.atomic():
        hook = Webhook.objects.select_for_update().get(pk=hook.pk)
        if hook.is_active != active:
            hook.is_active = active
            hook.save(update_fields=["is_active"])
    return hook


# -- the inbox ------------------------------------------------------------------------------
def message_read(*, user: User, message_id: int | str, now: datetime | None = None) -> Message:
    message = access.access_message_by_id(user=user, message_id=message_id)
    if message.read_at is None:
        Message.objects.filter(pk=message.pk, read_at__isnull=True).update(
            read_at=now or timezone.now())
        message.refresh_from_db(fields=["read_at"])
    return message


def messages_read_all(*, user: User, now: datetime | None = None) -> int:
    return Message.objects.filter(recipient=user, channel=Channel.INBOX,
                                  status=MessageStatus.SENT, read_at__isnull=True).update(
        read_at=now or timezone.now())


# -- numbering ------------------------------------------------------------------------------
def issuer_of(user: User) -> str:
    """The numbering scope of an issuing office: its division (empty for a national one)."""
    return user.division_id or ""


def next_number(*, series: str, issuer_key: str, year: int) -> int:
    """The next number of a series for an issuer and year, inside the caller's transaction.

    The counter row is locked (``select_for_update``) before it is raised, and created once
    under a unique constraint, so two offices clicking 签发 at once get two numbers.
    """
    lookup = {"series": series, "issuer_key": issuer_key, "year": year}
    counter = DocumentCounter.objects.select_for_update().filter(**lookup).first()
    if counter is None:
        try:
            with transaction.atomic():
                counter = DocumentCounter.objects.create(**lookup, last_number=0)
        except IntegrityError:
            counter = DocumentCounter.objects.select_for_update().get(**lookup)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return counter.last_number


def default_issuer_name(plan: Plan) -> str:
    if plan.office_id:
        return plan.office.name
    area = plan.division.name if plan.division_id else _("National")
    return _("%(area)s pilot work leading group office") % {"area": area}


# -- supervision notices --------------------------------------------------------------------
def _notice_link(notice: SupervisionNotice) -> str:
    return reverse("oversight:notice", args=[notice.pk])


def _notice_facts(notice: SupervisionNotice) -> dict[str, str]:
    return {"number": notice.display_number, "title": notice.title,
            "unit": notice.agency.name, "date": _date(notice.reply_due),
            "issuer": notice.issuer_name}


def notice_issue(*, user: User, plan_id: int | str, agency_id: int | str,
                 task_ids: Iterable[int | str], title: str, body: str,
                 reply_due: date | None = None, issuer_name: str = "",
                 now: datetime | None = None) -> SupervisionNotice:
    """Issue a numbered 督办通知 to an agency about tasks of one plan, with a reply date
    (by default the plan's rule: 5 working days)."""
    plan = access.access_plan_for_office(user=user, plan_id=plan_id)
    now = now or timezone.now()
    today = timezone.localdate(now)
    wanted = sorted({int(pk) for pk in task_ids if str(pk).strip().isdigit()})
    tasks = list(access.tasks_writable_by(user=user).filter(pk__in=wanted, plan=plan,
                                                            first_version__isnull=False)
                 .order_by("order"))
    try:
        agency = Agency.objects.get(pk=agency_id)
    except (Agency.DoesNotExist, ValueError, TypeError):
        raise _invalid(_("Choose the unit the notice is addressed to."), field="agency") \
            from None
    if not wanted:
        raise _invalid(_("Choose at least one task the notice is about."), field="tasks")
    if len(tasks) != len(wanted):
        raise _invalid(_("Every task must be a published task of this plan."), field="tasks")
    units = set(TaskUnit.objects.filter(task__in=tasks, agency=agency)
                .values_list("task_id", flat=True))
    strangers = [t for t in tasks if t.pk not in units]
    if strangers:
        raise _invalid(_("%(unit)s has no part in: %(tasks)s.")
                       % {"unit": agency.name, "tasks": "、".join(t.title for t in strangers)},
                       field="tasks")
    title = _text(title, label=_("the title"), limit=200)
    body = _text(body, label=_("what is required"))
    rule = ladder.rule_of(plan)
    if reply_due is None:
        reply_due = deadline_after(today, rule.reply_days, DayKind.WORKING)
    if reply_due < today:
        raise _invalid(_("The reply date cannot lie in the past."), field="reply_due")
    if (reply_due - today).days > 366:
        raise _invalid(_("The reply date must lie within a year."), field="reply_due")
    issuer_name = _text(issuer_name or default_issuer_name(plan), label=_("the issuing office"),
                        limit=200)
    with transaction.atomic():
        year = today.year
        key = issuer_of(user)
        number = next_number(series=DocumentSeries.NOTICE, issuer_key=key, year=year)
        notice = SupervisionNotice.objects.create(
            plan=plan, issuer_key=key, issuer_name=issuer_name, year=year, number=number,
            agency=agency, title=title, body=body, reply_due=reply_due,
            status=NoticeStatus.ISSUED, issued_by=user, issued_at=now)
        notice.tasks.set(tasks)
        facts = _notice_facts(notice)
        notify([
            Event(key=f"n{notice.pk}:issued", kind=MessageKind.NOTICE,
                  audience=Audience.LIAISONS,
                  subject=_("Supervision notice %(number)s: %(title)s") % facts,
                  body=_("%(issuer)s has issued the supervision notice %(number)s %(title)s to "
                         "%(unit)s. Reply with the measures taken by %(date)s.") % facts,
                  plan=plan, agency=agency, notice=notice, link=_notice_link(notice),
                  level=ladder.Light.RED, robots=True),
            Event(key=f"n{notice.pk}:issued:leaders", kind=MessageKind.NOTICE,
                  audience=Audience.LEADERS,
                  subject=_("Supervision notice %(number)s: %(title)s") % facts,
                  body=_("%(issuer)s has issued the supervision notice %(number)s %(title)s to "
                         "%(unit)s. Reply with the measures taken by %(date)s.") % facts,
                  plan=plan, agency=agency, notice=notice, link=_notice_link(notice),
                  level=ladder.Light.RED),
        ], now=now)
    return notice


def notice_reply(*, user: User, notice_id: int | str, measures: str, done_by: date | None,
                 evidence_ids: Iterable[int] = (), now: datetime | None = None) -> NoticeReply:
    """The addressed unit answers: the measures taken and the date the work will be done."""
    notice = access.access_notice_for_reply(user=user, notice_id=notice_id)
    now = now or timezone.now()
    today = timezone.localdate(now)
    measures = _text(measures, label=_("the measures taken"))
    if done_by is None:
        raise _invalid(_("Say by when the work will be done."), field="done_by")
    if done_by < timezone.localdate(notice.issued_at):
        raise _invalid(_("The completion date cannot lie before the notice was issued."),
                       field="done_by")
    if (done_by - today).days > 3 * 366:
        raise _invalid(_("The completion date must lie within three years."), field="done_by")
    wanted = sorted({int(pk) for pk in evidence_ids})
    if wanted:
        found = set(Evidence.objects.filter(pk__in=wanted, agency_id=notice.agency_id)
                    .values_list("pk", flat=True))
        if found != set(wanted):
            raise _invalid(_("A reply can only cite its own unit's evidence."), field="evidence")
    with transaction.atomic():
        notice = SupervisionNotice.objects.select_for_update().get(pk=notice.pk)
        if notice.status == NoticeStatus.REPLIED:
            raise ShidianError(ErrorCode.CONFLICT,
                               _("This notice has been answered; wait for the office's decision."))
        if notice.status == NoticeStatus.ACCEPTED:
            raise ShidianError(ErrorCode.CONFLICT, _("This notice is closed."))
        reply = NoticeReply.objects.create(notice=notice, measures=measures, done_by=done_by,
                                           replied_by=user, replied_at=now)
        reply.evidence.set(wanted)
        notice.status = NoticeStatus.REPLIED
        notice.save(update_fields=["status"])
        facts = _notice_facts(notice)
        notify([Event(
            key=f"n{notice.pk}:reply{reply.pk}", kind=MessageKind.NOTICE_REPLY,
            audience=Audience.OFFICE,
            subject=_("Reply to %(number)s from %(unit)s") % facts,
            body=_("%(unit)s has replied to the supervision notice %(number)s %(title)s. "
                   "Accept the reply or return it.") % facts,
            plan=notice.plan, agency=notice.agency, notice=notice, link=_notice_link(notice),
            users=[notice.issued_by] if notice.issued_by else [])], now=now)
    return reply


def _pending_reply(notice: SupervisionNotice) -> NoticeReply:
    reply = (NoticeReply.objects.select_for_update().filter(notice=notice,
                                                            decision=ReplyDecision.PENDING)
             .order_by("-replied_at", "-id").first())
    if reply is None or notice.status != NoticeStatus.REPLIED:
        raise ShidianError(ErrorCode.CONFLICT,
                           _("Only a notice with a reply awaiting decision can be accepted or "
                             "returned; this one is %(status)s.")
                           % {"status": notice.get_status_display()})
    return reply


def notice_accept(*, user: User, notice_id: int | str, note: str = "",
                  now: datetime | None = None) -> SupervisionNotice:
    """The office accepts the reply: the notice is closed (销号)."""
    notice = access.access_notice_for_office(user=user, notice_id=notice_id)
    note = _text(note, label=_("the note"), required=False, limit=MAX_NOTE)
    now = now or timezone.now()
    with transaction.atomic():
        notice = SupervisionNotice.objects.select_for_update(of=("self",)).select_related(
            "agency", "plan").get(pk=notice.pk)
        if notice.status == NoticeStatus.ACCEPTED:
            return notice
        reply = _pending_reply(notice)
        reply.decision, reply.decision_note = ReplyDecision.ACCEPTED, note
        reply.decided_by, reply.decided_at = user, now
        reply.save(update_fields=["decision", "decision_note", "decided_by", "decided_at"])
        notice.status, notice.closed_at, notice.closed_by = NoticeStatus.ACCEPTED, now, user
        notice.save(update_fields=["status", "closed_at", "closed_by"])
        facts = _notice_facts(notice)
        notify([Event(
            key=f"n{notice.pk}:reply{reply.pk}:accepted", kind=MessageKind.NOTICE_DECISION,
            audience=Audience.LIAISONS,
            subject=_("%(number)s closed: the reply was accepted") % facts,
            body=_("The office has accepted the reply of %(unit)s to %(number)s %(title)s; "
                   "the notice is closed.") % facts,
            plan=notice.plan, agency=notice.agency, notice=notice, link=_notice_link(notice),
            level=ladder.Light.GREEN)], now=now)
    return notice


def notice_return(*, user: User, notice_id: int | str, reason: str,
                  reply_due: date | None = None, now: datetime | None = None
                  ) -> SupervisionNotice:
    """The office returns the reply, saying why; the unit replies again (by a new date)."""
    notice = access.access_notice_for_office(user=user, notice_id=notice_id)
    reason = _text(reason, label=_("the reason for the return"), limit=MAX_NOTE)
    now = now or timezone.now()
    today = timezone.localdate(now)
    with transaction.atomic():
        notice = SupervisionNotice.objects.select_for_update(of=("self",)).select_related(
            "agency", "plan").get(pk=notice.pk)
        reply = _pending_reply(notice)
        due = reply_due or deadline_after(today, ladder.rule_of(notice.plan).reply_days,
                                          DayKind.WORKING)
        if due < today:
            raise _invalid(_("The reply date cannot lie in the past."), field="reply_due")
        reply.decision, reply.decision_note = ReplyDecision.RETURNED, reason
        reply.decided_by, reply.decided_at = user, now
        reply.save(update_fields=["decision", "decision_note", "decided_by", "decided_at"])
        notice.status, notice.reply_due = NoticeStatus.RETURNED, due
        notice.save(update_fields=["status", "reply_due"])
        facts = {**_notice_facts(notice), "reason": reason}
        notify([Event(
            key=f"n{notice.pk}:reply{reply.pk}:returned", kind=MessageKind.NOTICE_DECISION,
            audience=Audience.LIAISONS,
            subject=_("%(number)s: the reply was returned") % facts,
            body=_("The office has returned the reply of %(unit)s to %(number)s %(title)s: "
                   "%(reason)s. Reply again by %(date)s.") % facts,
            plan=notice.plan, agency=notice.agency, notice=notice, link=_notice_link(notice),
            level=ladder.Light.YELLOW)], now=now)
    return notice


def notice_escalate(*, user: User, notice_id: int | str, note: str = "",
                    now: datetime | None = None) -> SupervisionNotice:
    """The office escalates an open notice to the unit's leaders (for 约谈 or 通报)."""
    notice = access.access_notice_for_office(user=user, notice_id=notice_id)
    note = _text(note, label=_("the note"), required=False, limit=MAX_NOTE)
    now = now or timezone.now()
    with transaction.atomic():
        notice = SupervisionNotice.objects.select_for_update(of=("self",)).select_related(
            "agency", "plan").get(pk=notice.pk)
        if notice.status == NoticeStatus.ESCALATED:
            return notice
        if notice.status == NoticeStatus.ACCEPTED:
            raise ShidianError(ErrorCode.CONFLICT, _("This notice is closed."))
        notice.status, notice.escalated_at, notice.escalation_note = (
            NoticeStatus.ESCALATED, now, note)
        notice.save(update_fields=["status", "escalated_at", "escalation_note"])
        # A reply awaiting decision stays on file; the unit answers again to the leaders' call.
        NoticeReply.objects.filter(notice=notice, decision=ReplyDecision.PENDING).update(
            decision=ReplyDecision.RETURNED, decision_note=note or _("Escalated"),
            decided_by=user, decided_at=now)
        facts = {**_notice_facts(notice), "note": note}
        notify([Event(
            key=f"n{notice.pk}:escalated", kind=MessageKind.ESCALATE, audience=Audience.LEADERS,
            subject=_("Escalated: %(number)s %(title)s") % facts,
            body=_("The office has escalated the supervision notice %(number)s %(title)s to "
                   "%(unit)s's leaders. %(note)s") % facts,
            plan=notice.plan, agency=notice.agency, notice=notice, link=_notice_link(notice),
            level=ladder.Light.RED, robots=True)], now=now)
    return notice


# -- inspections ----------------------------------------------------------------------------
INSPECTOR_ROLES = (Role.EXPERT, Role.OFFICE)
PHOTO_TYPES = {"jpg": files.JPEG, "jpeg": files.JPEG, "png": files.PNG}


def inspector_candidates(*, user: User, plan: Plan, roles=INSPECTOR_ROLES):
    """Who may join an inspection team of ``plan``: experts and office staff of the acting
    office's subtree or of a division above the plan's (a city's experts inspect a county)."""
    return _area_people(user=user, code=plan.division_id or "", roles=roles)


def _area_people(*, user: User, code: str, roles):
    """Active users of ``roles`` in the acting office's subtree, of a division above ``code``
    (or ``code`` itself), or national ones."""
    from django.db.models import Q

    above = [code[:n] for n in (2, 4, 6, 9) if n < len(code)] + ([code] if code else [])
    inside = Q(division__code__startswith=user.division_id) if user.division_id else Q()
    return (User.objects.filter(is_active=True, role__in=roles)
            .filter(inside | Q(division_id__in=above) | Q(division__isnull=True))
            .order_by("role", "username"))


# Who may be named a reviewer of an evaluation round (评审): experts and inspectors, leaders,
# and office staff, of the same area as an inspection team's members.
REVIEWER_ROLES = (Role.EXPERT, Role.LEADER, Role.OFFICE)


def reviewer_candidates(*, user: User, plan: Plan):
    return inspector_candidates(user=user, plan=plan, roles=REVIEWER_ROLES)


def round_reviewer_candidates(*, user: User, scorecard: Scorecard):
    """Who may review a round of ``scorecard``: of its plan's area, or of its programme's."""
    if scorecard.programme_id is not None:
        return _area_people(user=user, code=scorecard.programme.division_id or "",
                            roles=REVIEWER_ROLES)
    return reviewer_candidates(user=user, plan=scorecard.plan)


def sites_for(plan: Plan):
    """The agencies a round of ``plan`` may visit: those of the plan's division subtree."""
    agencies = Agency.objects.filter(is_active=True)
    if plan.division_id:
        agencies = agencies.filter(division__code__startswith=plan.division_id)
    return agencies.select_related("division").order_by("division_id", "name")


def _check_dates(first: date | None, last: date | None) -> None:
    if first is None or last is None:
        raise _invalid(_("Give the first and the last day of the round."), field="starts_on")
    if last < first:
        raise _invalid(_("The round cannot end before it starts."), field="ends_on")
    if (last - first).days > 366:
        raise _invalid(_("A round lasts at most a year."), field="ends_on")


def round_create(*, user: User, plan_id: int | str, name: str, starts_on: date | None,
                 ends_on: date | None, member_ids: Iterable[int | str],
                 leader_id: int | str | None = None) -> InspectionRound:
    """A round of inspections of a plan with its team (the office of the plan)."""
    plan = access.access_plan_for_office(user=user, plan_id=plan_id)
    name = _text(name, label=_("the round's name"), limit=200)
    _check_dates(starts_on, ends_on)
    wanted = {int(pk) for pk in member_ids if str(pk).strip().isdigit()}
    if leader_id not in (None, ""):
        wanted.add(int(leader_id))
    members = list(inspector_candidates(user=user, plan=plan).filter(pk__in=wanted))
    if not wanted:
        raise _invalid(_("Name at least one member of the team."), field="members")
    if len(members) != len(wanted):
        raise _invalid(_("Team members must be experts or office staff of this area."),
                       field="members")
    with transaction.atomic():
        inspection = InspectionRound.objects.create(plan=plan, name=name, starts_on=starts_on,
                                                    ends_on=ends_on, created_by=user)
        InspectionMember.objects.bulk_create([
            InspectionMember(round=inspection, user=member,
                             is_leader=str(member.pk) == str(leader_id)) for member in members])
    return inspection


def visit_add(*, user: User, round_id: int | str, site_id: int | str,
              planned_on: date | None) -> InspectionVisit:
    """Put a site on a round's itinerary (the office)."""
    inspection = access.access_round_for_office(user=user, round_id=round_id)
    try:
        site = sites_for(inspection.plan).get(pk=site_id)
    except (Agency.DoesNotExist, ValueError, TypeError):
        raise _invalid(_("Choose a unit of the plan's area to visit."), field="site") from None
    if planned_on is None:
        raise _invalid(_("Give the day of the visit."), field="planned_on")
    if not inspection.starts_on <= planned_on <= inspection.ends_on:
        raise _invalid(_("The visit must lie within the round (%(first)s to %(last)s).")
                       % {"first": _date(inspection.starts_on), "last": _date(inspection.ends_on)},
                       field="planned_on")
    with transaction.atomic():
        try:
            with transaction.atomic():
                return InspectionVisit.objects.create(round=inspection, site=site,
                                                      planned_on=planned_on)
        except IntegrityError:
            raise ShidianError(ErrorCode.DUPLICATE,
                               _("%(site)s is already on this round.") % {"site": site.name}
                               ) from None


def visit_record(*, user: User, visit_id: int | str, visited_on: date | None, on_site: bool,
                 summary: str = "", today: date | None = None) -> InspectionVisit:
    """The team records that (and how) it visited a site."""
    visit = access.access_visit_for_inspector(user=user, visit_id=visit_id)
    today = today or timezone.localdate()
    if visited_on is None:
        raise _invalid(_("Give the day of the visit."), field="visited_on")
    if visited_on > today:
        raise _invalid(_("A visit cannot be recorded before it happened."), field="visited_on")
    if visited_on < visit.round.starts_on:
        raise _invalid(_("The visit must lie within the round (%(first)s to %(last)s).")
                       % {"first": _date(visit.round.starts_on),
                          "last": _date(visit.round.ends_on)}, field="visited_on")
    summary = _text(summary, label=_("the summary"), required=False)
    with transaction.atomic():
        visit = InspectionVisit.objects.select_for_update().get(pk=visit.pk)
        changed = [name for name, value in (("visited_on", visited_on), ("on_site", on_site),
                                            ("summary", summary))
                   if getattr(visit, name) != value]
        for name in changed:
            setattr(visit, name, {"visited_on": visited_on, "on_site": on_site,
                                  "summary": summary}[name])
        if changed:
            visit.save(update_fields=changed)
    return visit


def _max_bytes() -> int:
    return int(settings.SHIDIAN_EVIDENCE_MAX_BYTES)


def _checked_photo(upload: UploadedFile) -> tuple[str, str, str]:
    """(name, content type, sha256) of a photo that is really a JPEG or PNG, else refused."""
    name = (upload.name or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:200]
    if not upload.size:
        raise ShidianError(ErrorCode.BAD_FILE, _("The file %(name)s is empty.") % {"name": name})
    if upload.size > _max_bytes():
        raise ShidianError(ErrorCode.BAD_FILE,
                           _("The photo %(name)s is larger than %(limit)s MB.")
                           % {"name": name, "limit": _max_bytes() // 1048576})
    claimed = PHOTO_TYPES.get(files.extension_of(name))
    if claimed is None or files.sniff_content_type(upload.file) != claimed:
        raise ShidianError(ErrorCode.BAD_FILE,
                           _("%(name)s is not a JPEG or PNG photo.") % {"name": name})
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return name, claimed, digest.hexdigest()


@dataclass
class FindingInput:
    description: str
    severity: str
    owner_id: int | str | None
    measures: str
    deadline: date | None


def finding_record(*, user: User, visit_id: int | str, data: FindingInput,
                   photos: Iterable[UploadedFile] = (), now: datetime | None = None
                   ) -> Rectification:
    """A problem found at a site, with photos, becomes a rectification order: an owner (the
    site by default), the measures required and a deadline. The owner's liaisons are told."""
    visit = access.access_visit_for_inspector(user=user, visit_id=visit_id)
    now = now or timezone.now()
    today = timezone.localdate(now)
    description = _text(data.description, label=_("the problem found"))
    if data.severity not in Severity.values:
        raise _invalid(_("Choose how serious the problem is."), field="severity")
    measures = _text(data.measures, label=_("the rectification measures"))
    try:
        owner = (sites_for(visit.round.plan).get(pk=data.owner_id) if data.owner_id
                 else visit.site)
    except (Agency.DoesNotExist, ValueError, TypeError):
        raise _invalid(_("The owner must be a unit of the plan's area."), field="owner") \
            from None
    if data.deadline is None or data.deadline < today:
        raise _invalid(_("Give a rectification deadline that is not in the past."),
                       field="deadline")
    checked = [(_checked_photo(photo), photo) for photo in photos]
    with transaction.atomic():
        finding = Finding.objects.create(visit=visit, description=description,
                                         severity=data.severity, recorded_by=user)
        for (name, content_type, sha256), photo in checked:
            if finding.photos.filter(sha256=sha256).exists():
                continue
            item = FindingPhoto(finding=finding, original_name=name, content_type=content_type,
                                size=photo.size, sha256=sha256, uploaded_by=user)
            item.file.save(name, photo, save=False)
            item.save()
        rectification = Rectification.objects.create(finding=finding, owner=owner,
                                                     measures=measures, deadline=data.deadline)
        plan = visit.round.plan
        facts = {"unit": owner.name, "date": _date(data.deadline), "site": visit.site.name,
                 "problem": description[:80]}
        notify([Event(
            key=f"x{rectification.pk}:assigned", kind=MessageKind.RECTIFICATION,
            audience=Audience.LIAISONS,
            subject=_("Rectification order: %(site)s, by %(date)s") % facts,
            body=_("The inspection of %(site)s found: %(problem)s. %(unit)s is to rectify it by "
                   "%(date)s and report the completion with evidence.") % facts,
            plan=plan, agency=owner, link=reverse("oversight:rectification",
                                                  args=[rectification.pk]),
            level=ladder.Light.YELLOW, robots=True)], now=now)
    return rectification


def rectification_submit(*, user: User, rectification_id: int | str, note: str,
                         evidence_ids: Iterable[int] = (), now: datetime | None = None
                         ) -> Rectification:
    """The owner reports the rectification done, with evidence (at least one file)."""
    item = access.access_rectification_for_owner(user=user,
                                                 rectification_id=rectification_id)
    now = now or timezone.now()
    note = _text(note, label=_("what was done"))
    wanted = sorted({int(pk) for pk in evidence_ids})
    if not wanted:
        raise _invalid(_("Attach evidence of the rectification."), field="evidence")
    found = set(Evidence.objects.filter(pk__in=wanted, agency_id=item.owner_id)
                .values_list("pk", flat=True))
    if found != set(wanted):
        raise _invalid(_("A completion report can only cite its own unit's evidence."),
                       field="evidence")
    with transaction.atomic():
        item = Rectification.objects.select_for_update().select_related(
            "finding__visit__round__plan", "finding__visit__site", "owner").get(pk=item.pk)
        if item.status == RectificationStatus.CLOSED:
            raise ShidianError(ErrorCode.CONFLICT, _("This rectification is closed."))
        if item.status == RectificationStatus.SUBMITTED:
            raise ShidianError(ErrorCode.CONFLICT,
                               _("The completion has been reported; wait for the verification."))
        item.status, item.completion_note = RectificationStatus.SUBMITTED, note
        item.submitted_by, item.submitted_at, item.return_reason = user, now, ""
        item.save(update_fields=["status", "completion_note", "submitted_by", "submitted_at",
                                 "return_reason"])
        item.evidence.set(wanted)
        inspection = item.finding.visit.round
        team = list(User.objects.filter(inspection_rounds=inspection, is_active=True))
        facts = {"unit": item.owner.name, "site": item.finding.visit.site.name}
        notify([Event(
            key=f"x{item.pk}:submitted:{now.isoformat()}", kind=MessageKind.RECTIFICATION,
            audience=Audience.OFFICE,
            subject=_("Rectification reported done: %(site)s") % facts,
            body=_("%(unit)s reports the rectification at %(site)s done. Verify it and close it "
                   "or return it.") % facts,
            plan=inspection.plan, agency=item.owner, users=team,
            link=reverse("oversight:rectification", args=[item.pk]))], now=now)
    return item


def rectification_verify(*, user: User, rectification_id: int | str, accept: bool,
                         reason: str = "", now: datetime | None = None) -> Rectification:
    """The team (or the office) verifies: closes the item (销号) or returns it, saying why."""
    item = access.access_rectification_for_verifier(user=user,
                                                    rectification_id=rectification_id)
    now = now or timezone.now()
    reason = _text(reason, label=_("the reason for the return"), required=not accept,
                   limit=MAX_NOTE)
    with transaction.atomic():
        item = Rectification.objects.select_for_update().select_related(
            "finding__visit__round__plan", "finding__visit__site", "owner").get(pk=item.pk)
        if accept and item.status == RectificationStatus.CLOSED:
            return item
        if item.status != RectificationStatus.SUBMITTED:
            raise ShidianError(ErrorCode.CONFLICT,
                               _("Only a rectification reported done can be verified; this one "
                                 "is %(status)s.") % {"status": item.get_status_display()})
        if accept:
            item.status, item.closed_at = RectificationStatus.CLOSED, now
        else:
            item.status, item.return_reason = RectificationStatus.RETURNED, reason
        item.verified_by = user
        item.save(update_fields=["status", "closed_at", "return_reason", "verified_by"])
        facts = {"site": item.finding.visit.site.name, "reason": reason}
        notify([Event(
            key=f"x{item.pk}:{'closed' if accept else 'returned'}:{now.isoformat()}",
            kind=MessageKind.RECTIFICATION, audience=Audience.LIAISONS,
            subject=(_("Rectification closed (销号): %(site)s") if accept
                     else _("Rectification returned: %(site)s")) % facts,
            body=(_("The rectification at %(site)s has been verified and closed.") if accept
                  else _("The rectification at %(site)s was returned: %(reason)s")) % facts,
            plan=item.finding.visit.round.plan, agency=item.owner,
            level=ladder.Light.GREEN if accept else ladder.Light.YELLOW,
            link=reverse("oversight:rectification", args=[item.pk]))], now=now)
    return item


# -- scorecards and evaluations -------------------------------------------------------------
def _decimal(value, *, label: str, low: Decimal, high: Decimal) -> Decimal:
    try:
        number = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError, TypeError):
        raise _invalid(_("%(field)s must be a number.") % {"field": label}) from None
    if not low <= number <= high:
        raise _invalid(_("%(field)s must lie between %(low)s and %(high)s.")
                       % {"field": label, "low": low, "high": high})
    return number


def _scorecard_fields(*, name: str, subject_kind: str, excellent_from, good_from, pass_from,
                      model_site_from) -> dict:
    name = _text(name, label=_("the scorecard's name"), limit=200)
    if subject_kind not in SubjectKind.values:
        raise _invalid(_("Choose who is assessed."), field="subject_kind")
    excellent = _decimal(excellent_from, label=_("the excellent line"), low=Decimal(0),
                         high=Decimal(100))
    good = _decimal(good_from, label=_("the good line"), low=Decimal(0), high=Decimal(100))
    passing = _decimal(pass_from, label=_("the pass line"), low=Decimal(0), high=Decimal(100))
    if not passing <= good <= excellent:
        raise _invalid(_("The lines must rise from pass to good to excellent."),
                       field="pass_from")
    model_line = None
    if model_site_from not in (None, ""):
        model_line = _decimal(model_site_from, label=_("the model-site line"), low=passing,
                              high=Decimal(100))
    return {"name": name, "subject_kind": subject_kind, "excellent_from": excellent,
            "good_from": good, "pass_from": passing, "model_site_from": model_line}


def scorecard_create(*, user: User, plan_id: int | str, name: str, subject_kind: str,
                     excellent_from=90, good_from=80, pass_from=60,
                     model_site_from=None) -> Scorecard:
    """A scorecard (考核指标体系) of a plan with its grade thresholds (percent of the points)
    and, if it likes, its own line for model sites (else the excellent line)."""
    plan = access.access_plan_for_office(user=user, plan_id=plan_id)
    fields = _scorecard_fields(name=name, subject_kind=subject_kind,
                               excellent_from=excellent_from, good_from=good_from,
                               pass_from=pass_from, model_site_from=model_site_from)
    with transaction.atomic():
        return Scorecard.objects.create(plan=plan, created_by=user, **fields)


def programme_scorecard_create(*, user: User, programme_id: int | str, name: str,
                               subject_kind: str = SubjectKind.AGENCY, excellent_from=90,
                               good_from=80, pass_from=60, model_site_from=None) -> Scorecard:
    """The programme office's scorecard for its annual rounds (年度考核): the same items,
    rules and grade lines as a plan's, applied to the subjects of every plan of the
    programme."""
    programme = access.access_programme_for_office(user=user, programme_id=programme_id)
    fields = _scorecard_fields(name=name, subject_kind=subject_kind,
                               excellent_from=excellent_from, good_from=good_from,
                               pass_from=pass_from, model_site_from=model_site_from)
    with transaction.atomic():
        return Scorecard.objects.create(programme=programme, created_by=user, **fields)


def _open_scorecard(user: User, scorecard_id: int | str) -> Scorecard:
    scorecard = access.access_scorecard_for_office(user=user, scorecard_id=scorecard_id)
    if scorecard.evaluations.filter(status=EvaluationStatus.FINAL).exists():
        raise ShidianError(ErrorCode.LOCKED,
                           _("A round of this scorecard is final; its items can no longer "
                             "change. Make a new scorecard."))
    return scorecard


def score_item_add(*, user: User, scorecard_id: int | str, name: str, weight, rule: str,
                   guidance: str = "") -> ScoreItem:
    scorecard = _open_scorecard(user, scorecard_id)
    name = _text(name, label=_("the item's name"), limit=200)
    weight = _decimal(weight, label=_("the points"), low=Decimal("0.01"), high=Decimal(1000))
    if rule not in ScoreRule.values:
        raise _invalid(_("Choose how the item is scored."), field="rule")
    guidance = _text(guidance, label=_("the scoring guidance"), required=False, limit=500)
    with transaction.atomic():
        last = scorecard.items.order_by("-order").values_list("order", flat=True).first()
        item = ScoreItem.objects.create(scorecard=scorecard, name=name, weight=weight, rule=rule,
                                        guidance=guidance, order=(last or 0) + 1)
        for evaluation in scorecard.evaluations.all():
            _fill_scores(evaluation, timezone.localdate())
    return item


def score_item_remove(*, user: User, item_id: int | str) -> None:
    item = access.access_score_item_for_office(user=user, item_id=item_id)
    _open_scorecard(user, item.scorecard_id)
    with transaction.atomic():
        item.delete()


def _fill_scores(evaluation: Evaluation, today: date) -> None:
    """Create the missing score rows of an evaluation and (re)compute its rule measures."""
    scorecard = evaluation.scorecard
    subjects = scoring.subjects_of(scorecard)
    items = list(scorecard.items.all())
    found = scoring.scorecard_measures(scorecard=scorecard, subjects=subjects,
                                       period=scoring.period_of(evaluation), today=today)
    existing = {(s.item_id, s.subject): s for s in evaluation.scores.select_for_update()}
    fresh, changed = [], []
    for item in items:
        for subject in subjects:
            measure = None
            if item.rule != ScoreRule.MANUAL:
                measure = found[(item.rule, subject.key)].value
            score = existing.get((item.pk, subject.key))
            if score is None:
                fresh.append(Score(evaluation=evaluation, item=item, subject=subject.key,
                                   measure=measure))
            elif score.measure != measure:
                score.measure = measure
                changed.append(score)
    Score.objects.bulk_create(fresh)
    if changed:
        Score.objects.bulk_update(changed, ["measure"])


def evaluation_open(*, user: User, scorecard_id: int | str, period: str,
                    today: date | None = None) -> Evaluation:
    """Open a round of a scorecard for a period: every subject gets its measures computed and
    waits for self-assessment of the items scored by hand."""
    from shidian.core.periods import parse_period

    scorecard = access.access_scorecard_for_office(user=user, scorecard_id=scorecard_id)
    today = today or timezone.localdate()
    the_period = parse_period(period)
    if the_period.start > today:
        raise _invalid(_("%(period)s has not begun.") % {"period": the_period.label},
                       field="period")
    if scorecard.programme_id is not None and the_period.kind != "Y":
        raise _invalid(_("A programme's round is annual: give a year, such as 2026."),
                       field="period")
    if not scorecard.items.exists():
        raise _invalid(_("Add the scorecard's items first."), field="items")
    with transaction.atomic():
        try:
            with transaction.atomic():
                evaluation = Evaluation.objects.create(scorecard=scorecard,
                                                       period=the_period.id, created_by=user)
        except IntegrityError:
            raise ShidianError(ErrorCode.DUPLICATE,
                               _("This scorecard already has a round for %(period)s.")
                               % {"period": the_period.label}) from None
        _fill_scores(evaluation, today)
    return evaluation


def _locked_round(pk: int) -> Evaluation:
    """The round, locked for the transaction (its row only: a programme's scorecard has no
    plan, and PostgreSQL locks no row of an outer join)."""
    return (Evaluation.objects.select_for_update(of=("self",))
            .select_related("scorecard__plan", "scorecard__programme").get(pk=pk))


def evaluation_refresh(*, user: User, evaluation_id: int | str,
                       today: date | None = None) -> Evaluation:
    """Recompute the measures from today's data (until the round is final)."""
    evaluation = access.access_evaluation_for_office(user=user, evaluation_id=evaluation_id)
    with transaction.atomic():
        evaluation = _locked_round(evaluation.pk)
        if evaluation.status == EvaluationStatus.FINAL:
            raise ShidianError(ErrorCode.LOCKED, _("This round is final."))
        _fill_scores(evaluation, today or timezone.localdate())
    return evaluation


def programme_round_open(*, user: User, scorecard_id: int | str, year: int | str,
                         today: date | None = None) -> Evaluation:
    """The programme office opens the annual round (年度考核) of its scorecard for a year:
    every unit of every published plan of the programme is scored, self-assesses, and is
    ranked with all the others."""
    scorecard = access.access_scorecard_for_office(user=user, scorecard_id=scorecard_id)
    if scorecard.programme_id is None:
        raise not_found("scorecard")
    if not str(year).strip().isdigit() or len(str(year).strip()) != 4:
        raise _invalid(_("Give the year of the round, such as 2026."), field="year")
    return evaluation_open(user=user, scorecard_id=scorecard.pk, period=str(year).strip(),
                           today=today)


NEXT_STAGE = {EvaluationStatus.SELF: EvaluationStatus.REVIEW,
              EvaluationStatus.REVIEW: EvaluationStatus.FINAL}


def evaluation_advance(*, user: User, evaluation_id: int | str, today: date | None = None,
                       model_site_ids: Iterable[int | str] | None = None) -> Evaluation:
    """Self-assessment → reviewer scoring → final. A round becomes final only when every item
    scored by hand has a reviewer's score; the final measures are taken then. Finalising,
    the office may name model sites (示范基地) among the units at the model-site line
    (``model_site_ids``); a round, a plan's or a programme's, names them then and only
    then, because a final round no longer changes (every write to it is ``LOCKED``)."""
    evaluation = access.access_evaluation_for_office(user=user, evaluation_id=evaluation_id)
    with transaction.atomic():
        evaluation = _locked_round(evaluation.pk)
        following = NEXT_STAGE.get(EvaluationStatus(evaluation.status))
        if following is None:
            raise ShidianError(ErrorCode.LOCKED, _("This round is final."))
        if following == EvaluationStatus.FINAL:
            _fill_scores(evaluation, today or timezone.localdate())
            missing = evaluation.scores.filter(item__rule=ScoreRule.MANUAL,
                                               review_score__isnull=True).count()
            if missing:
                raise _invalid(_("%(n)s scores by hand still lack the reviewer's score.")
                               % {"n": missing})
            unfinished = reviewers_unfinished(evaluation)
            if unfinished:
                raise _invalid(_("%(names)s have not finished scoring: wait for them or take "
                                 "them off the reviewers.")
                               % {"names": "、".join(str(u) for u in unfinished)})
            evaluation.finalized_at = timezone.now()
        elif model_site_ids:
            raise ShidianError(ErrorCode.CONFLICT,
                               _("Model sites are named once the round is final."))
        evaluation.status = following
        evaluation.save(update_fields=["status", "finalized_at"])
        if following == EvaluationStatus.FINAL and model_site_ids:
            evaluation.model_sites.set(_model_sites(evaluation, model_site_ids))
    return evaluation


def _model_sites(evaluation: Evaluation, agency_ids: Iterable[int | str]) -> list[int]:
    """The chosen units, each checked against the round's results: a unit of the round at
    the scorecard's model-site line (the excellent line unless it sets its own)."""
    scorecard = evaluation.scorecard
    if scorecard.subject_kind != SubjectKind.AGENCY:
        raise _invalid(_("Only units can be named model sites."), field="model_sites")
    raw = [str(pk).strip() for pk in agency_ids if str(pk).strip()]
    if any(not pk.isdigit() for pk in raw):
        raise _invalid(_("Choose the model sites from the round's units."),
                       field="model_sites")
    rows = {r.subject.agency.pk: r for r in scoring.results(
        evaluation=evaluation, subjects=scoring.subjects_of(scorecard))
        if r.subject.agency is not None}
    line = scoring.model_site_line(scorecard)
    wanted = sorted({int(pk) for pk in raw})
    for pk in wanted:
        row = rows.get(pk)
        if row is None:
            raise _invalid(_("Choose the model sites from the round's units."),
                           field="model_sites")
        if not scoring.may_be_model_site(row, scorecard):
            raise _invalid(
                _("%(unit)s scored %(percent)s%% (%(grade)s); only units scoring %(line)s%% "
                  "or more (graded excellent, unless the scorecard sets its own line) can be "
                  "named model sites.")
                % {"unit": row.subject.name, "percent": row.percent,
                   "grade": scoring.Grade(row.grade).label, "line": line},
                field="model_sites")
    return wanted


def reviewers_unfinished(evaluation: Evaluation) -> list[User]:
    """Named reviewers who have not scored every hand-scored row they may score (2 queries)."""
    rows = list(evaluation.scores.filter(item__rule=ScoreRule.MANUAL)
                .values_list("pk", "subject"))
    done = set(ReviewerScore.objects.filter(score__evaluation=evaluation)
               .values_list("reviewer_id", "score_id"))
    found = []
    for named in evaluation.reviewers.select_related("user").order_by("id"):
        person = named.user
        if any((person.pk, pk) not in done for pk, subject in rows
               if not access.reviewer_conflicted(person, subject)):
            found.append(person)
    return found


def _manual_score(evaluation: Evaluation, item_id, subject: str) -> Score:
    try:
        return (Score.objects.select_for_update().select_related("item")
                .get(evaluation=evaluation, item_id=item_id, subject=subject,
                     item__rule=ScoreRule.MANUAL))
    except (Score.DoesNotExist, ValueError, TypeError):
        raise not_found("score") from None


def score_self(*, user: User, evaluation_id: int | str, item_id: int | str,
               agency_id: int | str, score, note: str = "",
               evidence_ids: Iterable[int] = ()) -> Score:
    """A unit assesses itself on an item scored by hand, with evidence (self-assessment)."""
    evaluation = access.access_evaluation_by_id(user=user, evaluation_id=evaluation_id)
    if not access.is_unit(user) or str(agency_id) not in {str(a) for a in
                                                          user_agency_ids(user)}:
        raise not_found("evaluation")
    note = _text(note, label=_("the note"), required=False, limit=MAX_NOTE)
    wanted = sorted({int(pk) for pk in evidence_ids})
    if wanted and set(Evidence.objects.filter(pk__in=wanted, agency_id=agency_id)
                      .values_list("pk", flat=True)) != set(wanted):
        raise _invalid(_("A self-assessment can only cite its own unit's evidence."))
    with transaction.atomic():
        evaluation = Evaluation.objects.select_for_update().get(pk=evaluation.pk)
        if evaluation.status != EvaluationStatus.SELF:
            raise ShidianError(ErrorCode.LOCKED, _("Self-assessment has closed."))
        row = _manual_score(evaluation, item_id, f"a{agency_id}")
        row.self_score = _decimal(score, label=row.item.name, low=Decimal(0),
                                  high=row.item.weight)
        row.self_note = note
        row.save(update_fields=["self_score", "self_note"])
        row.evidence.set(wanted)
    return row


def evaluation_reviewers_set(*, user: User, evaluation_id: int | str,
                             user_ids: Iterable[int | str], now: datetime | None = None
                             ) -> list[EvaluationReviewer]:
    """The office names the reviewers of a round (experts, leaders, office staff of the plan's
    area); newly named reviewers are told. A reviewer who has scored stays one."""
    evaluation = access.access_evaluation_for_office(user=user, evaluation_id=evaluation_id)
    now = now or timezone.now()
    raw = [str(pk).strip() for pk in user_ids if str(pk).strip()]
    if any(not pk.isdigit() for pk in raw):
        raise _invalid(_("Choose the reviewers from the list."), field="reviewers")
    wanted = {int(pk) for pk in raw}
    plan = evaluation.scorecard.plan  # None for a programme's round
    people = list(round_reviewer_candidates(user=user, scorecard=evaluation.scorecard)
                  .filter(pk__in=wanted))
    if len(people) != len(wanted):
        raise _invalid(_("Reviewers must be experts, leaders or office staff of this area."),
                       field="reviewers")
    with transaction.atomic():
        evaluation = _locked_round(evaluation.pk)
        if evaluation.status == EvaluationStatus.FINAL:
            raise ShidianError(ErrorCode.LOCKED, _("This round is final."))
        current = {row.user_id: row for row in evaluation.reviewers.select_related("user")}
        dropped = set(current) - wanted
        scored = set(ReviewerScore.objects.filter(score__evaluation=evaluation,
                                                  reviewer_id__in=dropped)
                     .values_list("reviewer_id", flat=True))
        if scored:
            raise ShidianError(ErrorCode.CONFLICT, _(
                "%(names)s have already scored this round and remain its reviewers.")
                % {"names": "、".join(str(current[pk].user) for pk in sorted(scored))})
        EvaluationReviewer.objects.filter(evaluation=evaluation, user_id__in=dropped).delete()
        added = [person for person in people if person.pk not in current]
        for person in added:  # one by one, not bulk_create: each naming is in the audit log
            EvaluationReviewer.objects.create(evaluation=evaluation, user=person,
                                              assigned_by=user)
        if added:
            facts = {"card": evaluation.scorecard.name,
                     "period": scoring.period_of(evaluation).label}
            notify([Event(
                key=f"v{evaluation.pk}:reviewer:{person.pk}", kind=MessageKind.REVIEW,
                audience="", users=[person], plan=plan,
                subject=_("You are a reviewer of %(card)s %(period)s") % facts,
                body=_("The office has named you a reviewer of %(card)s for %(period)s. Score "
                       "the items scored by hand, with the basis of each score, once the round "
                       "reaches reviewer scoring.") % facts,
                link=reverse("oversight:evaluation", args=[evaluation.pk]))
                for person in added], now=now)
    return list(evaluation.reviewers.select_related("user"))


def _mean(values: list[Decimal]) -> Decimal | None:
    if not values:
        return None
    return (sum(values, Decimal(0)) / len(values)).quantize(Decimal("0.01"),
                                                            rounding=ROUND_HALF_UP)


def score_review(*, user: User, evaluation_id: int | str, item_id: int | str, subject: str,
                 score, note: str = "", evidence_ids: Iterable[int] = ()) -> Score:
    """A reviewer (one the office named, or the office itself) scores an item scored by hand
    during reviewer scoring, with the basis of the score and, if they like, the evidence of
    the self-assessment it rests on. The item's reviewer score is the mean of all
    reviewers' scores."""
    evaluation = access.access_evaluation_for_review(user=user, evaluation_id=evaluation_id)
    note = _text(note, label=_("the basis of the score"), limit=MAX_NOTE)
    wanted = sorted({int(pk) for pk in evidence_ids})
    if access.reviewer_conflicted(user, str(subject)):
        raise ShidianError(ErrorCode.FORBIDDEN,
                           _("Reviewers do not score their own unit or division."))
    with transaction.atomic():
        evaluation = Evaluation.objects.select_for_update().get(pk=evaluation.pk)
        if evaluation.status != EvaluationStatus.REVIEW:
            raise ShidianError(ErrorCode.LOCKED,
                               _("Reviewers score only while the round is at reviewer "
                                 "scoring."))
        row = _manual_score(evaluation, item_id, str(subject))
        if wanted and set(row.evidence.filter(pk__in=wanted).values_list("pk", flat=True)) \
                != set(wanted):
            raise _invalid(_("A reviewer can cite only the evidence of the self-assessment."),
                           field="evidence")
        value = _decimal(score, label=row.item.name, low=Decimal(0), high=row.item.weight)
        mine, _created = ReviewerScore.objects.update_or_create(
            score=row, reviewer=user, defaults={"value": value, "note": note})
        mine.evidence.set(wanted)
        values = list(row.reviews.values_list("value", flat=True))
        row.review_score, row.review_note, row.reviewed_by = _mean(values), note, user
        row.save(update_fields=["review_score", "review_note", "reviewed_by"])
    return row


# -- bulletins (通报) and briefings (工作简报) ------------------------------------------------
def _bulletin_texts(owner: str, ranking, red: int, black: int,
                    model_sites: list[str] | None = None) -> dict[str, str]:
    """The draft wording: ``owner`` is the plan's title (or the programme's name);
    ``model_sites`` the names of the units the round named 示范基地."""
    top = ranking.top(red)
    bottom = ranking.bottom(black, after=len(top))
    names = "、".join
    facts = {"plan": owner, "period": ranking.period.label, "title": ranking.title,
             "n": len([r for r in ranking.rows if r.rank is not None])}
    praise = [(_("%(names)s did outstandingly well and are commended.")
               % {"names": names(r.name for r in top)})] if top else []
    if model_sites:
        praise.append(_("%(names)s are named model sites (示范基地).")
                      % {"names": names(model_sites)})
    return {
        "title": _("Bulletin on %(title)s of %(plan)s for %(period)s") % facts,
        "opening": _("To carry out %(plan)s, the office ranked %(n)s units by %(title)s for "
                     "%(period)s. The results are announced as follows.") % facts,
        "praise": "".join(praise),
        "criticism": (_("%(names)s ranked last. They are criticised and asked to find the "
                        "causes and put them right within a set time.")
                      % {"names": names(r.name for r in bottom)}) if bottom else "",
        "requirements": _("Every unit is to compare itself with these results, find its gaps, "
                          "and speed up the work so that the plan's targets are met on time."),
    }


def _snapshot(ranking, model_sites: list[str] | None = None) -> dict:
    return {
        "title": ranking.title, "period": ranking.period.id,
        "previous": ranking.previous_period.id if ranking.previous_period else "",
        "model_sites": list(model_sites or []),
        "rows": [{"rank": r.rank, "name": r.name, "value": r.value, "grade": r.grade,
                  "change": r.change, "detail": r.detail} for r in ranking.rows],
    }


def bulletin_create(*, user: User, plan_id: int | str, evaluation_id: int | str | None = None,
                    measure: str = "", period: str = "", subject_kind: str = SubjectKind.AGENCY,
                    red_count: int = 3, black_count: int = 3,
                    today: date | None = None) -> Bulletin:
    """A draft 通报 from an evaluation's ranking or from a ranking by one measure for a
    period; its wording is written from the figures and stays editable until it is issued."""
    from shidian.core.periods import parse_period

    from . import selectors

    plan = access.access_plan_for_office(user=user, plan_id=plan_id)
    today = today or timezone.localdate()
    for count in (red_count, black_count):
        if not isinstance(count, int) or not 0 <= count <= 20:
            raise _invalid(_("Red and black lists hold 0 to 20 units each."))
    evaluation = None
    if evaluation_id:
        evaluation = access.access_evaluation_for_office(user=user, evaluation_id=evaluation_id)
        if evaluation.scorecard.plan_id != plan.pk:
            raise not_found("evaluation")
        ranking = selectors.evaluation_ranking(evaluation=evaluation)
        sites = _model_site_names(evaluation)
        measure = ""
    else:
        if measure not in scoring.MEASURED_RULES:
            raise _invalid(_("Choose what to rank by."), field="measure")
        if subject_kind not in SubjectKind.values:
            raise _invalid(_("Choose who is ranked."), field="subject_kind")
        ranking = selectors.measure_ranking(plan=plan, subject_kind=subject_kind, rule=measure,
                                            period=parse_period(period), today=today)
        sites = []
    texts = _bulletin_texts(plan.title, ranking, red_count, black_count, sites)
    with transaction.atomic():
        return Bulletin.objects.create(
            plan=plan, evaluation=evaluation, measure=measure, period=ranking.period.id,
            red_count=red_count, black_count=black_count, issuer_key=issuer_of(user),
            issuer_name=default_issuer_name(plan), snapshot=_snapshot(ranking, sites),
            created_by=user, **texts)


def _model_site_names(evaluation: Evaluation) -> list[str]:
    return list(evaluation.model_sites.order_by("name").values_list("name", flat=True))


def programme_bulletin_create(*, user: User, evaluation_id: int | str, red_count: int = 3,
                              black_count: int = 3) -> Bulletin:
    """A draft 通报 of a programme's final annual round, issued by the programme's office:
    the same wording, red and black lists and ranking table as a plan's, with the model
    sites (示范基地) the round named."""
    from . import selectors

    evaluation = access.access_evaluation_for_office(user=user, evaluation_id=evaluation_id)
    programme = evaluation.scorecard.programme
    if programme is None:
        raise not_found("evaluation")
    if evaluation.status != EvaluationStatus.FINAL:
        raise ShidianError(ErrorCode.CONFLICT,
                           _("A bulletin is written from the round once it is final."))
    for count in (red_count, black_count):
        if not isinstance(count, int) or not 0 <= count <= 20:
            raise _invalid(_("Red and black lists hold 0 to 20 units each."))
    ranking = selectors.evaluation_ranking(evaluation=evaluation)
    sites = _model_site_names(evaluation)
    area = programme.division.name if programme.division_id else _("National")
    with transaction.atomic():
        return Bulletin.objects.create(
            programme=programme, evaluation=evaluation, period=ranking.period.id,
            red_count=red_count, black_count=black_count, issuer_key=issuer_of(user),
            issuer_name=_("%(area)s pilot work leading group office") % {"area": area},
            snapshot=_snapshot(ranking, sites), created_by=user,
            **_bulletin_texts(programme.name, ranking, red_count, black_count, sites))


@dataclass
class BulletinText:
    title: str
    opening: str
    praise: str
    criticism: str
    requirements: str
    issuer_name: str


def bulletin_edit(*, user: User, bulletin_id: int | str, text: BulletinText) -> Bulletin:
    """The office's own wording, before the bulletin is issued."""
    bulletin = _office_bulletin(user, bulletin_id)
    values = {
        "title": _text(text.title, label=_("the title"), limit=200),
        "opening": _text(text.opening, label=_("the opening"), required=False),
        "praise": _text(text.praise, label=_("the red list"), required=False),
        "criticism": _text(text.criticism, label=_("the black list"), required=False),
        "requirements": _text(text.requirements, label=_("the requirements"), required=False),
        "issuer_name": _text(text.issuer_name, label=_("the issuing office"), limit=200),
    }
    with transaction.atomic():
        bulletin = Bulletin.objects.select_for_update().get(pk=bulletin.pk)
        if bulletin.status == BulletinStatus.ISSUED:
            raise ShidianError(ErrorCode.LOCKED, _("An issued bulletin can no longer change."))
        changed = [k for k, v in values.items() if getattr(bulletin, k) != v]
        for name in changed:
            setattr(bulletin, name, values[name])
        if changed:
            bulletin.save(update_fields=changed)
    return bulletin


def _office_bulletin(user: User, bulletin_id: int | str) -> Bulletin:
    try:
        return (access.bulletins_for_office(user=user).select_related("plan", "programme")
                .get(pk=bulletin_id))
    except (Bulletin.DoesNotExist, ValueError, TypeError):
        raise not_found("bulletin") from None


def bulletin_issue(*, user: User, bulletin_id: int | str,
                   now: datetime | None = None) -> Bulletin:
    """Issue the bulletin: it takes the office's next 通报 number and no longer changes."""
    bulletin = _office_bulletin(user, bulletin_id)
    now = now or timezone.now()
    with transaction.atomic():
        bulletin = Bulletin.objects.select_for_update().get(pk=bulletin.pk)
        if bulletin.status == BulletinStatus.ISSUED:
            return bulletin
        year = timezone.localdate(now).year
        bulletin.year, bulletin.number = year, next_number(
            series=DocumentSeries.BULLETIN, issuer_key=bulletin.issuer_key, year=year)
        bulletin.status, bulletin.issued_at = BulletinStatus.ISSUED, now
        bulletin.save(update_fields=["year", "number", "status", "issued_at"])
    return bulletin


def briefing_issue(*, user: User, plan_id: int | str, period: str,
                   now: datetime | None = None) -> BriefingIssue:
    """The next issue of a plan's 工作简报 series (2026年第N期) for a reporting period."""
    from shidian.core.periods import parse_period
    from shidian.reporting.cycles import rule_of as cycle_rule_of

    plan = access.access_plan_for_office(user=user, plan_id=plan_id)
    now = now or timezone.now()
    the_period = parse_period(period)
    if the_period.kind != cycle_rule_of(plan).period_kind:
        raise _invalid(_("%(period)s is not one of the plan's reporting periods.")
                       % {"period": the_period.label}, field="period")
    with transaction.atomic():
        year = timezone.localdate(now).year
        number = next_number(series=DocumentSeries.BRIEFING, issuer_key=f"p{plan.pk}",
                             year=year)
        return BriefingIssue.objects.create(plan=plan, year=year, number=number,
                                            period=the_period.id, issued_by=user,
                                            issued_at=now)


def scores_self_many(*, user: User, evaluation_id: int | str, agency_id: int | str,
                     entries: Iterable[tuple[int | str, object, str]],
                     uploads: dict[str, list[UploadedFile]] | None = None) -> list[Score]:
    """A unit's self-assessment of several items at once, each with its evidence files
    (``uploads`` by item id; kept as the unit's evidence): all saved, or none."""
    from shidian.reporting.services import evidence_attach

    uploads = uploads or {}
    with transaction.atomic():
        saved = []
        for item_id, score, note in entries:
            if not str(item_id).isdigit() or not str(agency_id).isdigit():
                raise not_found("score")
            before = Score.objects.filter(evaluation_id=evaluation_id, item_id=item_id,
                                          subject=f"a{agency_id}", evidence__isnull=False)
            cited = [pk for pk in before.values_list("evidence", flat=True)] + [
                evidence_attach(user=user, agency_id=agency_id, upload=upload).pk
                for upload in uploads.get(str(item_id), [])]  # new files join the cited
            saved.append(score_self(user=user, evaluation_id=evaluation_id, item_id=item_id,
                                    agency_id=agency_id, score=score, note=note,
                                    evidence_ids=cited))
        return saved


def scores_review_many(*, user: User, evaluation_id: int | str,
                       entries: Iterable[tuple[int | str, str, object, str]]) -> list[Score]:
    """A reviewer's scores of several subjects and items at once, each with its basis: all
    saved, or none."""
    with transaction.atomic():
        return [score_review(user=user, evaluation_id=evaluation_id, item_id=item_id,
                             subject=subject, score=score, note=note)
                for item_id, subject, score, note in entries]
