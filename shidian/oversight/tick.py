"""The scheduler's one job: compute what the ladder says today, and send it (``shidian tick``).

1. Take the lease (a conditional update of one row): a tick started while another runs finds
   it taken and sends nothing.
2. For every published plan whose rule is on: the tasks and the report duties at a ladder stage
   (remind, urge, escalate), the supervision notices whose reply is late and the
   rectifications near or past their deadline become events, then messages with unique keys.
3. Deliver every message waiting, each claimed before it is sent (so even two deliverers
   that both got past the lease never send one twice).

Run it from cron or a systemd timer every few minutes; it is idempotent, so running it more
often only costs a few queries.
"""
from __future__ import annotations

import importlib
import logging
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from shidian.core.errors import ShidianError
from shidian.core.workdays import REASON_NOT_COVERED
from shidian.plans.models import Plan, UnitRole

from . import ladder, outbox, selectors
from .ladder import Stage
from .models import (OPEN_NOTICE_STATUSES, MessageKind, NoticeStatus, OversightRule,
                     Rectification, RectificationStatus, SupervisionNotice, TickLease)
from .outbox import Audience, Event

log = logging.getLogger(__name__)

LEASE_NAME = "tick"
LEASE_SECONDS = 600
# The ladder speaks about matters due in the last LOOK_BACK_DAYS only: switching reminders on
# for a plan that began years ago does not flood its units with escalations of old deadlines
# (the lights still show them red).
LOOK_BACK_DAYS = 90


@dataclass
class TickResult:
    planned: int = 0
    sent: int = 0
    failed: int = 0
    busy: bool = False
    skipped: list[str] = field(default_factory=list)


# -- the lease ------------------------------------------------------------------------------
def lease_acquire(holder: str, *, seconds: int = LEASE_SECONDS) -> bool:
    """Take the lease unless another holder has it (on the real clock, whatever day the
    ladder is computed for)."""
    now = timezone.now()
    expires = now + timedelta(seconds=seconds)
    try:
        with transaction.atomic():
            TickLease.objects.get_or_create(name=LEASE_NAME,
                                            defaults={"expires_at": now - timedelta(seconds=1)})
    except IntegrityError:
        pass  # another tick created it at the same moment
    with transaction.atomic():
        taken = TickLease.objects.filter(name=LEASE_NAME, expires_at__lt=now).update(
            holder=holder, expires_at=expires)
    return taken == 1


def lease_renew(holder: str, *, seconds: int = LEASE_SECONDS) -> None:
    TickLease.objects.filter(name=LEASE_NAME, holder=holder).update(
        expires_at=timezone.now() + timedelta(seconds=seconds))


def lease_release(holder: str) -> None:
    TickLease.objects.filter(name=LEASE_NAME, holder=holder).update(
        expires_at=timezone.now() - timedelta(seconds=1))


# -- events ---------------------------------------------------------------------------------
def _date(day: date) -> str:
    return formats.date_format(day, "DATE_FORMAT")


def _task_events(lights: selectors.PlanLights, today: date,
                 under_notice: frozenset[tuple[int, int]] = frozenset()) -> list[Event]:
    """``under_notice``: (task, agency) pairs an open 督办 notice already covers; the office is
    not asked to issue another one for them."""
    plan, rule = lights.plan, lights.rule
    events: list[Event] = []
    horizon = today - timedelta(days=LOOK_BACK_DAYS)
    for row in lights.tasks.values():
        task = row.task
        if row.stage == Stage.NONE or row.due is None or row.due < horizon:
            continue
        for unit in lights.task_units.get(task.pk, []):
            if unit.agency is None:
                continue
            agency = unit.agency
            role = _("lead unit") if unit.role == UnitRole.LEAD else _("responsible unit")
            facts = {"task": task.title, "plan": plan.title, "unit": agency.name, "role": role,
                     "date": _date(row.due), "percent": task.percent,
                     "days": row.days_late, "n": rule.escalate_days}
            base = f"t{task.pk}:a{agency.pk}:{row.due.isoformat()}"
            report_link = reverse("reporting:report_form", args=[task.pk]) + f"?agency={agency.pk}"
            if row.stage == Stage.REMIND:
                events.append(Event(
                    key=f"{base}:remind", kind=MessageKind.REMIND, audience=Audience.LIAISONS,
                    subject=_("Reminder: %(task)s is due on %(date)s") % facts,
                    body=_("The task %(task)s of %(plan)s, in which %(unit)s is the %(role)s, "
                           "is due on %(date)s. Please complete it on time and report the "
                           "progress.") % facts,
                    plan=plan, agency=agency, task=task, link=report_link, level=row.light,
                    robots=True))
            elif row.stage == Stage.URGE:
                facts["escalate"] = _date(row.escalate_after) if row.escalate_after else ""
                events.append(Event(
                    key=f"{base}:urge", kind=MessageKind.URGE, audience=Audience.LIAISONS,
                    subject=_("Urging: %(task)s is overdue") % facts,
                    body=_("The task %(task)s of %(plan)s was due on %(date)s and is not "
                           "completed (%(percent)s%% done). %(unit)s is urged to speed it up and "
                           "report the progress; if it is still not completed after "
                           "%(escalate)s, the unit's leader is told.") % facts,
                    plan=plan, agency=agency, task=task, link=report_link, level=row.light,
                    robots=True))
            elif unit.role == UnitRole.LEAD:  # escalation goes to the lead unit (主办)
                events.append(Event(
                    key=f"{base}:escalate", kind=MessageKind.ESCALATE,
                    audience=Audience.LEADERS,
                    subject=_("Escalated: %(task)s is overdue") % facts,
                    body=_("The task %(task)s of %(plan)s, led by %(unit)s, was due on "
                           "%(date)s and is still not completed after %(n)s working days of "
                           "urging (%(percent)s%% done). Please see that the unit completes "
                           "it.") % facts,
                    plan=plan, agency=agency, task=task, level=row.light, robots=True,
                    link=reverse("oversight:plan_lights", args=[plan.pk])))
                if (task.pk, agency.pk) in under_notice:
                    continue
                events.append(Event(
                    key=f"{base}:propose", kind=MessageKind.PROPOSE, audience=Audience.OFFICE,
                    subject=_("Proposed supervision notice: %(unit)s, %(task)s") % facts,
                    body=_("%(unit)s has not completed %(task)s (due %(date)s) after %(n)s "
                           "working days of urging. A supervision notice to the unit is "
                           "proposed.") % facts,
                    plan=plan, agency=agency, task=task, level=row.light,
                    link=reverse("oversight:notice_new")
                    + f"?plan={plan.pk}&agency={agency.pk}&task={task.pk}"))
    return events


def _duty_events(lights: selectors.PlanLights, today: date) -> list[Event]:
    plan, rule = lights.plan, lights.rule
    events: list[Event] = []
    for duty in lights.duties:
        if duty.stage == Stage.NONE:
            continue
        task, agency = duty.task, duty.agency
        facts = {"task": task.title, "plan": plan.title, "unit": agency.name,
                 "period": duty.period.label, "date": _date(duty.due), "n": rule.escalate_days}
        base = f"r{task.pk}:a{agency.pk}:{duty.period.id}"
        link = (reverse("reporting:report_form", args=[task.pk])
                + f"?period={duty.period.id}&agency={agency.pk}")
        if duty.stage == Stage.REMIND:
            events.append(Event(
                key=f"{base}:remind", kind=MessageKind.REMIND, audience=Audience.LIAISONS,
                subject=_("Reminder: the %(period)s report on %(task)s is due on %(date)s")
                % facts,
                body=_("%(unit)s reports on %(task)s of %(plan)s for %(period)s by %(date)s.")
                % facts, plan=plan, agency=agency, task=task, link=link, level=duty.light))
        elif duty.stage == Stage.URGE:
            events.append(Event(
                key=f"{base}:urge", kind=MessageKind.URGE, audience=Audience.LIAISONS,
                subject=_("Urging: the %(period)s report on %(task)s is overdue") % facts,
                body=_("The %(period)s report of %(unit)s on %(task)s of %(plan)s was due on "
                       "%(date)s and has not come in. Please report at once.") % facts,
                plan=plan, agency=agency, task=task, link=link, level=duty.light,
                robots=True))
        else:
            events.append(Event(
                key=f"{base}:escalate", kind=MessageKind.ESCALATE, audience=Audience.LEADERS,
                subject=_("Escalated: %(unit)s has not reported %(period)s on %(task)s")
                % facts,
                body=_("The %(period)s report of %(unit)s on %(task)s of %(plan)s was due on "
                       "%(date)s and is still missing after %(n)s working days of urging. "
                       "Please see that the unit reports.") % facts,
                plan=plan, agency=agency, task=task, level=duty.light, robots=True,
                link=reverse("oversight:plan_lights", args=[plan.pk])))
    return events


def _notice_events(plans: list[Plan], today: date) -> list[Event]:
    """A notice whose reply date has passed without a reply: 催办 the unit, once per date."""
    events = []
    waiting = (SupervisionNotice.objects
               .filter(plan__in=plans, reply_due__lt=today,
                       reply_due__gte=today - timedelta(days=LOOK_BACK_DAYS),
                       status__in=(NoticeStatus.ISSUED, NoticeStatus.RETURNED,
                                   NoticeStatus.ESCALATED))
               .select_related("plan", "agency"))
    for notice in waiting:
        facts = {"number": notice.display_number, "title": notice.title,
                 "date": _date(notice.reply_due), "unit": notice.agency.name}
        events.append(Event(
            key=f"n{notice.pk}:{notice.reply_due.isoformat()}:overdue",
            kind=MessageKind.NOTICE_OVERDUE, audience=Audience.LIAISONS,
            subject=_("Reply overdue: %(number)s %(title)s") % facts,
            body=_("The reply of %(unit)s to the supervision notice %(number)s %(title)s was due "
                   "on %(date)s and has not come in. Please reply at once.") % facts,
            plan=notice.plan, agency=notice.agency, notice=notice, level=ladder.Light.RED,
            link=reverse("oversight:notice", args=[notice.pk]), robots=True))
    return events


def _rectification_events(plans: list[Plan], today: date,
                          rules: dict[int, ladder.LadderRule]) -> list[Event]:
    events = []
    items = (Rectification.objects
             .filter(finding__visit__round__plan__in=plans,
                     status__in=(RectificationStatus.OPEN, RectificationStatus.RETURNED),
                     deadline__gte=today - timedelta(days=LOOK_BACK_DAYS))
             .select_related("owner", "owner__division", "finding__visit__round__plan"))
    for item in items:
        plan = item.finding.visit.round.plan
        try:
            stage = ladder.stage_on(item.deadline, today, rules[plan.pk])
        except ShidianError as error:
            if error.extra.get("reason") != REASON_NOT_COVERED:
                raise
            log.error("rectification %s: %s", item.pk, error.message)
            continue
        if stage == Stage.NONE:
            continue
        facts = {"unit": item.owner.name, "date": _date(item.deadline),
                 "problem": item.finding.description[:80]}
        audience = Audience.LEADERS if stage == Stage.ESCALATE else Audience.LIAISONS
        subject = {
            Stage.REMIND: _("Reminder: rectification due on %(date)s"),
            Stage.URGE: _("Urging: rectification overdue since %(date)s"),
            Stage.ESCALATE: _("Escalated: %(unit)s has not rectified by %(date)s"),
        }[stage] % facts
        events.append(Event(
            key=f"x{item.pk}:{item.deadline.isoformat()}:{stage}",
            kind=MessageKind.RECTIFICATION, audience=audience, subject=subject,
            body=_("%(unit)s is to rectify by %(date)s: %(problem)s") % facts,
            plan=plan, agency=item.owner, level=ladder.light_of(stage),
            link=reverse("oversight:rectification", args=[item.pk]),
            robots=stage != Stage.REMIND))
    return events


def tick_plans() -> list[Plan]:
    """Published plans whose office has not switched reminders off."""
    off = OversightRule.objects.filter(is_active=False).values("plan_id")
    return list(Plan.objects.filter(version__gt=0).exclude(pk__in=off)
                .select_related("division", "cycle", "oversight_rule")
                .prefetch_related("extra_cycles").order_by("pk"))


def events_on(today: date, result: TickResult | None = None) -> list[Event]:
    """Every event the ladder has for ``today``, over every plan."""
    plans = tick_plans()
    events: list[Event] = []
    rules = {}
    under_notice = frozenset(SupervisionNotice.tasks.through.objects.filter(
        supervisionnotice__plan__in=plans,
        supervisionnotice__status__in=OPEN_NOTICE_STATUSES,
    ).values_list("task_id", "supervisionnotice__agency_id"))
    for plan in plans:
        rules[plan.pk] = ladder.rule_of(plan)
        lights = selectors.plan_lights(plan=plan, today=today)
        events += _task_events(lights, today, under_notice) + _duty_events(lights, today)
        if lights.calendar_gaps:
            # Past the holiday calendar: say so loudly, keep the rest going.
            log.error("plan %s: past the holiday calendar: %s", plan.pk,
                      "; ".join(lights.calendar_gaps))
            if result is not None:
                result.skipped.append(f"{plan.pk}: past the holiday calendar: "
                                      + "; ".join(lights.calendar_gaps))
    events += _notice_events(plans, today)
    events += _rectification_events(plans, today, rules)
    return events


def pack_jobs() -> list[Any]:
    """The ``run(today=...)`` functions of the packs that ship a ``tick.py`` (psych: missed
    follow-up visits). A pack adds its own scheduled work this way; the ladder knows no pack."""
    from shidian.cases.definitions import PACKS_DIR, pack_dirs

    jobs = []
    for folder in pack_dirs():
        if folder.parent != PACKS_DIR or not (folder / "tick.py").exists():
            continue  # packs outside shidian/packs are data only
        module = importlib.import_module(f"shidian.packs.{folder.name}.tick")
        jobs.append(module.run)
    return jobs


def pack_jobs_run(today: date) -> int:
    """Run each pack's job; a failing pack is logged and does not stop the others."""
    sent = 0
    for job in pack_jobs():
        try:
            with transaction.atomic():
                sent += int(job(today=today) or 0)
        except Exception:  # noqa: BLE001 - one pack's bug must not silence the ladder
            log.exception("pack tick job %s failed", job.__module__)
    return sent


def tick_run(*, now: datetime | None = None, today: date | None = None) -> TickResult:
    """One run of the scheduler (see the module's docstring). ``today`` defaults to the local
    date of ``now``; giving a day replays the ladder as of that day."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    result = TickResult()
    holder = uuid.uuid4().hex
    if not lease_acquire(holder):
        result.busy = True
        return result
    try:
        events = events_on(today, result)
        result.planned = outbox.enqueue(outbox.messages_for(events, now=now))
        delivered = outbox.deliver_pending(renew=lambda: lease_renew(holder))
        result.sent, result.failed = delivered.sent, delivered.failed
        result.sent += pack_jobs_run(today)
    finally:
        lease_release(holder)
    return result
