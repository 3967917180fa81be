"""From events to messages, and from messages to their channels.

An ``Event`` is something someone must hear about (task 3 of 泸县民政局 is overdue: 催办). Its
audience — the unit's liaisons, the unit's leaders, or the plan's office — becomes users; each
user gets the message in the inbox and, when the plan's rule says so and the user has an
address, by e-mail; the plan's group robots get one post per event, @-mentioning the audience.
Every message has a unique key (event, channel, recipient): writing it again is a no-op.

Delivering claims each message by a conditional update (pending → sending), so two deliverers
never send the same message twice, on SQLite and PostgreSQL alike.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from shidian.core import crypto
from shidian.orgs.models import Agency, Role, User
from shidian.plans.models import Plan, Task

from . import delivery, ladder
from .models import Channel, Message, MessageKind, MessageStatus, SupervisionNotice, Webhook

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# A message claimed longer ago than this by a deliverer that died is claimed again.
CLAIM_TIMEOUT = timedelta(minutes=10)
BATCH = 500


class Audience:
    LIAISONS = "liaisons"
    LEADERS = "leaders"
    OFFICE = "office"


@dataclass
class Event:
    key: str
    kind: str
    audience: str
    subject: str
    body: str
    plan: Plan | None       # None: a programme's matter (no plan's robots, the default rule)
    agency: Agency | None = None
    task: Task | None = None
    notice: SupervisionNotice | None = None
    link: str = ""
    level: str = ""
    robots: bool = False
    # Explicit recipients (a notice's replies go to the office user who issued it, too).
    users: list[User] = field(default_factory=list)


# -- audiences ------------------------------------------------------------------------------
@dataclass
class People:
    """The users of each audience, fetched once for a batch of events (3 queries)."""

    liaisons: dict[int, list[User]]
    leaders: dict[int, list[User]]
    leaders_by_division: dict[str, list[User]]
    office: dict[str | None, list[User]]

    def of(self, event: Event) -> list[User]:
        found: list[User] = list(event.users)
        if event.audience == Audience.LIAISONS and event.agency is not None:
            found += self.liaisons.get(event.agency.pk, [])
        elif event.audience == Audience.LEADERS and event.agency is not None:
            found += (self.leaders.get(event.agency.pk)
                      or self.leaders_by_division.get(event.agency.division_id, []))
        elif event.audience == Audience.OFFICE and event.plan is not None:
            found += self.office.get(event.plan.division_id, [])
        unique: dict[int, User] = {}
        for user in found:
            unique.setdefault(user.pk, user)
        return sorted(unique.values(), key=lambda u: u.pk)


def people_for(events: Iterable[Event]) -> People:
    events = list(events)
    agency_ids = {e.agency.pk for e in events if e.agency is not None}
    divisions = {e.agency.division_id for e in events if e.agency is not None}
    plan_divisions = {e.plan.division_id for e in events if e.plan is not None}
    liaisons: dict[int, list[User]] = {}
    leaders: dict[int, list[User]] = {}
    through = User.agencies.through
    rows = (through.objects.filter(agency_id__in=agency_ids, user__is_active=True,
                                   user__role__in=(Role.LIAISON, Role.PILOT_SITE, Role.LEADER))
            .select_related("user").order_by("user_id"))
    for row in rows:
        target = leaders if row.user.role == Role.LEADER else liaisons
        target.setdefault(row.agency_id, []).append(row.user)
    by_division: dict[str, list[User]] = {}
    for user in User.objects.filter(role=Role.LEADER, is_active=True,
                                    division_id__in=divisions).order_by("pk"):
        by_division.setdefault(user.division_id, []).append(user)
    office: dict[str | None, list[User]] = {}
    national = None in plan_divisions
    office_q = Q(division_id__in=[d for d in plan_divisions if d])
    if national:
        office_q |= Q(division__isnull=True, is_superuser=False)
    for user in User.objects.filter(office_q, role=Role.OFFICE, is_active=True).order_by("pk"):
        office.setdefault(user.division_id, []).append(user)
    return People(liaisons=liaisons, leaders=leaders, leaders_by_division=by_division,
                  office=office)


def robots_for(plans: Iterable[Plan]) -> dict[int, list[Webhook]]:
    found: dict[int, list[Webhook]] = {}
    for hook in Webhook.objects.filter(plan__in=list(plans), is_active=True).order_by("pk"):
        found.setdefault(hook.plan_id, []).append(hook)
    return found


# -- messages -------------------------------------------------------------------------------
def messages_for(events: Iterable[Event], *, now: datetime, inbox_delivered: bool = False
                 ) -> list[Message]:
    """Unsaved messages for ``events``: inbox (and e-mail) per user, one post per robot.

    ``inbox_delivered``: inbox messages are written as sent (a service telling people about
    what it just did); otherwise they wait for the tick like every other channel.
    """
    events = list(events)
    if not events:
        return []
    people = people_for(events)
    robots = robots_for({e.plan for e in events if e.plan is not None})
    rules = {e.plan.pk: ladder.rule_of(e.plan) for e in events if e.plan is not None}
    made: list[Message] = []
    for event in events:
        common = {
            "event": event.key[:160], "kind": event.kind, "level": event.level,
            "subject": event.subject[:300], "body": event.body, "link": event.link[:300],
            "plan": event.plan, "task": event.task, "agency": event.agency,
            "notice": event.notice,
        }
        users = people.of(event)
        for user in users:
            inbox = Message(key=f"{event.key}|inbox|u{user.pk}"[:200], channel=Channel.INBOX,
                            recipient=user, **common)
            if inbox_delivered:
                inbox.status, inbox.sent_at = MessageStatus.SENT, now
            made.append(inbox)
            rule = rules[event.plan.pk] if event.plan is not None else ladder.DEFAULT_RULE
            if rule.send_email and user.email:
                made.append(Message(key=f"{event.key}|email|u{user.pk}"[:200],
                                    channel=Channel.EMAIL, recipient=user, address=user.email,
                                    **common))
        if event.robots:
            phones = [u.phone for u in users if u.phone]
            for hook in robots.get(event.plan.pk if event.plan is not None else 0, []):
                made.append(Message(key=f"{event.key}|{hook.kind}|w{hook.pk}"[:200],
                                    channel=hook.kind, webhook=hook, mentions=phones, **common))
    return made


def enqueue(messages: list[Message]) -> int:
    """Write the messages not written before; return how many are new.

    Two writers at once insert each key once: the unique key turns the second insert into a
    no-op (INSERT … ON CONFLICT DO NOTHING on both databases).
    """
    if not messages:
        return 0
    new = 0
    for start in range(0, len(messages), BATCH):
        chunk = messages[start:start + BATCH]
        known = set(Message.objects.filter(key__in=[m.key for m in chunk])
                    .values_list("key", flat=True))
        fresh = [m for m in chunk if m.key not in known]
        Message.objects.bulk_create(fresh, ignore_conflicts=True)
        new += len(fresh)
    return new


def notify(events: Iterable[Event], *, now: datetime | None = None) -> int:
    """Tell people about something a service just did: the inbox at once (in the caller's
    transaction), e-mail and robots by the next tick."""
    return enqueue(messages_for(events, now=now or timezone.now(), inbox_delivered=True))


# -- delivering -----------------------------------------------------------------------------
def claim(message_id: int, *, now: datetime) -> bool:
    """Take a message for delivery; False when another deliverer has it (or it is done)."""
    stale = now - CLAIM_TIMEOUT
    claimable = Q(status=MessageStatus.PENDING) | Q(status=MessageStatus.SENDING,
                                                    claimed_at__lt=stale)
    with transaction.atomic():
        taken = (Message.objects.filter(claimable, pk=message_id)
                 .update(status=MessageStatus.SENDING, claimed_at=now,
                         attempts=F("attempts") + 1))
    return taken == 1


def _outgoing(message: Message) -> delivery.Outgoing:
    return delivery.Outgoing(subject=message.subject, body=message.body, link=message.link,
                             mentions=tuple(message.mentions or ()))


def send_one(message: Message) -> None:
    """Deliver one claimed message on its channel; raise ``DeliveryError`` on failure."""
    if message.channel == Channel.INBOX:
        return  # the row is the delivery
    if message.channel == Channel.EMAIL:
        delivery.send_email(_outgoing(message), message.address)
        return
    hook = message.webhook
    if hook is None or not hook.is_active:
        raise delivery.DeliveryError("the group robot was removed or switched off")
    url = crypto.decrypt_text(hook.url_token)
    if message.channel == Channel.DINGTALK:
        secret = crypto.decrypt_text(hook.secret_token) if hook.secret_token else ""
        delivery.send_dingtalk(_outgoing(message), url, secret)
    elif message.channel == Channel.WECOM:
        delivery.send_wecom(_outgoing(message), url)
    else:
        raise delivery.DeliveryError(f"unknown channel {message.channel}")


def _finish(message: Message, *, ok: bool, error: str = "", now: datetime) -> None:
    if ok:
        fields = {"status": MessageStatus.SENT, "sent_at": now, "error": ""}
    else:
        attempts = Message.objects.filter(pk=message.pk).values_list("attempts",
                                                                     flat=True).first() or 0
        fields = {"status": MessageStatus.FAILED if attempts >= MAX_ATTEMPTS
                  else MessageStatus.PENDING, "error": error[:500]}
    Message.objects.filter(pk=message.pk, status=MessageStatus.SENDING).update(**fields)
    if message.webhook_id:
        when = timezone.localtime(now).isoformat(timespec="seconds")
        status = f"ok {when}" if ok else f"error {when}: {error}"
        Webhook.objects.filter(pk=message.webhook_id).update(last_status=status[:300])


@dataclass
class Delivered:
    sent: int = 0
    failed: int = 0


def deliver_pending(*, now: datetime | None = None, renew=None) -> Delivered:
    """Send every message waiting (oldest first); each is claimed before it is sent."""
    result = Delivered()
    now = now or timezone.now()
    stale = now - CLAIM_TIMEOUT
    waiting = list(Message.objects.filter(
        Q(status=MessageStatus.PENDING)
        | Q(status=MessageStatus.SENDING, claimed_at__lt=stale)).order_by("pk")
        .values_list("pk", flat=True))
    for index, message_id in enumerate(waiting):
        if renew is not None and index % 50 == 0:
            renew()
        moment = timezone.now()
        if not claim(message_id, now=moment):
            continue
        message = Message.objects.select_related("webhook").get(pk=message_id)
        try:
            send_one(message)
        except delivery.DeliveryError as error:
            log.warning("message %s on %s not delivered: %s", message.pk, message.channel, error)
            _finish(message, ok=False, error=str(error), now=moment)
            result.failed += 1
            continue
        _finish(message, ok=True, now=moment)
        result.sent += 1
    return result


__all__ = ["Audience", "Event", "MessageKind", "messages_for", "enqueue", "notify", "claim",
           "deliver_pending", "send_one"]
