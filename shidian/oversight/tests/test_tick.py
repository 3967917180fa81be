"""``shidian tick``: what the ladder sends on a given day, to whom and on which channel, and
that sending is idempotent (run again, or twice at once, nothing goes out twice)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import io
import socketserver
import threading
from datetime import date, datetime
from urllib.parse import unquote_plus

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from shidian.oversight import delivery, outbox, services, tick
from shidian.oversight.models import Channel, Message, MessageKind, MessageStatus, TickLease
from shidian.oversight.testing import DINGTALK_SECRET, FakeRobotServer, make_oversight_world
from shidian.reporting.services import ReportInput, report_submit
from shidian.reporting.testing import at

pytestmark = pytest.mark.django_db

# Thursday 1 July 2021: task 1 (due 30 June) is a day late; the June reports (due Friday
# 25 June) are four working days late, one short of escalation.
URGE_DAY = date(2021, 7, 1)
# Friday 9 July 2021: task 1 is late by more than five working days (escalated).
ESCALATE_DAY = date(2021, 7, 9)


@pytest.fixture
def robots():
    server = FakeRobotServer()
    yield server
    server.close()


@pytest.fixture
def ow(db):
    return make_oversight_world()


def add_robots(ow, server):
    services.webhook_add(user=ow.office, plan_id=ow.plan.pk, kind=Channel.DINGTALK,
                         name="县安宁疗护工作群", url=server.dingtalk_url(),
                         secret=DINGTALK_SECRET)
    services.webhook_add(user=ow.office, plan_id=ow.plan.pk, kind=Channel.WECOM,
                         name="企业微信工作群", url=server.wecom_url())


def inbox_of(user):
    return list(Message.objects.filter(recipient=user, channel=Channel.INBOX,
                                       status=MessageStatus.SENT).order_by("pk"))


def submit_june(ow, user, task, agency):
    report_submit(user=user, task_id=task.pk, agency_id=agency.pk, period="2021M06",
                  data=ReportInput(percent=50, done="已推进"), now=at(date(2021, 6, 20)))


def test_a_late_task_is_urged_to_every_unit_and_its_late_reports_to_their_authors(ow):
    # Only the civil affairs bureau has reported for June.
    submit_june(ow, ow.liaison_civil, ow.tasks[0], ow.civil)
    submit_june(ow, ow.liaison_civil, ow.tasks[2], ow.civil)
    result = tick.tick_run(today=URGE_DAY)
    assert result.sent > 0 and not result.busy
    health = inbox_of(ow.liaison_health)
    subjects = [m.subject for m in health]
    assert any("催办" in s and "建立安宁疗护服务体系" in s and "逾期" in s for s in subjects)
    # The health bureau owes June reports on both tasks it takes part in.
    june = [m for m in health if "2021年6月" in m.subject]
    assert {m.task_id for m in june} == {ow.tasks[0].pk, ow.tasks[1].pk}
    assert all(m.kind == MessageKind.URGE for m in health)
    civil = inbox_of(ow.liaison_civil)
    # The cooperating unit of the late task is urged too; its own June reports are in.
    assert [m.task_id for m in civil] == [ow.tasks[0].pk]
    assert civil[0].level == "yellow"
    assert civil[0].link == reverse("reporting:report_form", args=[ow.tasks[0].pk]) \
        + f"?agency={ow.civil.pk}"
    # Nothing is escalated yet; the other county hears of its own plan only.
    assert inbox_of(ow.leader_health) == [] and inbox_of(ow.office) == []
    assert {m.plan_id for m in inbox_of(ow.liaison_other)} == {ow.other_plan.pk}


def test_after_the_working_days_of_urging_the_leader_and_the_office_are_told(ow):
    tick.tick_run(today=URGE_DAY)
    before = {u.pk: len(inbox_of(u)) for u in (ow.liaison_health, ow.liaison_civil)}
    tick.tick_run(today=ESCALATE_DAY)
    leader = inbox_of(ow.leader_health)
    assert [m.kind for m in leader] == [MessageKind.ESCALATE]
    assert leader[0].level == "red" and "建立安宁疗护服务体系" in leader[0].body
    office = inbox_of(ow.office)
    assert [m.kind for m in office] == [MessageKind.PROPOSE]
    assert office[0].link == (reverse("oversight:notice_new") + f"?plan={ow.plan.pk}"
                              f"&agency={ow.health.pk}&task={ow.tasks[0].pk}")
    # The responsible unit's leader is not blamed for the lead unit's task.
    assert inbox_of(ow.leader_civil) == []
    # Escalation does not urge the liaisons again.
    assert {u.pk: len(inbox_of(u)) for u in (ow.liaison_health, ow.liaison_civil)} == before


def test_a_task_under_an_open_notice_is_not_proposed_again(ow):
    """The office already issued a 督办 notice for the late task: escalation still reaches the
    leader, but the office is not asked to issue a second notice until the first is closed."""
    services.notice_issue(user=ow.office, plan_id=ow.plan.pk, agency_id=ow.health.pk,
                          task_ids=[ow.tasks[0].pk], title="关于加快推进的督办通知",
                          body="请立即采取措施。", now=at(URGE_DAY))
    tick.tick_run(today=ESCALATE_DAY)
    assert MessageKind.ESCALATE in [m.kind for m in inbox_of(ow.leader_health)]
    assert MessageKind.PROPOSE not in [m.kind for m in inbox_of(ow.office)]


def test_a_completed_task_gets_nothing(ow):
    task = ow.tasks[0]
    task.status, task.percent = "completed", 100
    task.save(update_fields=["status", "percent"])
    tick.tick_run(today=ESCALATE_DAY)
    assert not Message.objects.filter(task=task, kind__in=(MessageKind.URGE,
                                                           MessageKind.ESCALATE)).exists()


def test_reminders_before_the_deadline(ow):
    # Three working days before Wednesday 30 June 2021: from Friday 25 June.
    tick.tick_run(today=date(2021, 6, 24))
    assert not Message.objects.filter(task=ow.tasks[0], kind=MessageKind.REMIND,
                                      event__startswith=f"t{ow.tasks[0].pk}:").exists()
    tick.tick_run(today=date(2021, 6, 25))
    reminded = Message.objects.filter(event__startswith=f"t{ow.tasks[0].pk}:",
                                      kind=MessageKind.REMIND, channel=Channel.INBOX)
    assert {m.recipient_id for m in reminded} == {ow.liaison_health.pk, ow.liaison_civil.pk}
    assert all("2021年6月30日" in m.subject for m in reminded)


def test_a_plan_with_reminders_switched_off_sends_nothing(ow):
    services.rule_set(user=ow.office, plan_id=ow.plan.pk,
                      data=services.RuleInput(is_active=False))
    tick.tick_run(today=ESCALATE_DAY)
    assert not Message.objects.filter(plan=ow.plan).exists()
    # The other county's plan keeps its rule.
    assert Message.objects.filter(plan=ow.other_plan).exists()


def test_a_second_run_sends_nothing_and_the_command_ends_with_sent_n(ow):
    out = io.StringIO()
    call_command("tick", "--date", URGE_DAY.isoformat(), stdout=out)
    lines = out.getvalue().strip().splitlines()
    first = int(lines[-1].split()[1])
    assert lines[-1] == f"sent {first}" and first > 0
    assert first == Message.objects.filter(status=MessageStatus.SENT).count()
    again = io.StringIO()
    call_command("tick", "--date", URGE_DAY.isoformat(), stdout=again)
    assert again.getvalue().strip().splitlines()[-1] == "sent 0"


def test_the_command_refuses_a_bad_date(ow):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--date"):
        call_command("tick", "--date", "2021-13-01", stdout=io.StringIO())


def test_a_tick_started_while_another_holds_the_lease_sends_nothing(ow):
    assert tick.lease_acquire("someone-else")
    result = tick.tick_run(today=URGE_DAY)
    assert result.busy and result.sent == 0
    assert not Message.objects.exists()
    out = io.StringIO()
    call_command("tick", "--date", URGE_DAY.isoformat(), stdout=out)
    assert out.getvalue().strip().splitlines()[-1] == "sent 0"
    tick.lease_release("someone-else")
    assert tick.tick_run(today=URGE_DAY).sent > 0


def test_a_crashed_ticks_lease_runs_out(ow):
    assert tick.lease_acquire("crashed", seconds=-1)  # as if it had expired long ago
    assert TickLease.objects.get().holder == "crashed"
    assert tick.tick_run(today=URGE_DAY).sent > 0


def test_a_claimed_message_is_not_claimed_again(ow):
    from django.utils import timezone

    outbox.enqueue(outbox.messages_for(tick.events_on(URGE_DAY), now=at(URGE_DAY)))
    message = Message.objects.order_by("pk").first()
    moment = timezone.now()
    assert outbox.claim(message.pk, now=moment)
    assert not outbox.claim(message.pk, now=moment)


# -- e-mail ---------------------------------------------------------------------------------
def test_email_goes_through_djangos_mail_backend(ow):
    tick.tick_run(today=URGE_DAY)
    to_health = [m for m in mail.outbox if m.to == ["lx_wjj@luxian.gov.cn"]]
    assert to_health and all("催办" in m.subject for m in to_health)
    assert any("建立安宁疗护服务体系" in m.body for m in to_health)
    # As many e-mails as e-mail messages sent.
    assert len(mail.outbox) == Message.objects.filter(channel=Channel.EMAIL,
                                                      status=MessageStatus.SENT).count()


def test_no_email_when_the_rule_says_inbox_only(ow):
    services.rule_set(user=ow.office, plan_id=ow.plan.pk,
                      data=services.RuleInput(send_email=False))
    tick.tick_run(today=URGE_DAY)
    # Only the other county's liaison (whose plan keeps the default rule) gets e-mail.
    assert {tuple(m.to) for m in mail.outbox} == {("hj_wjj@luxian.gov.cn",)}
    assert inbox_of(ow.liaison_health)


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP to accept a message (RFC 5321's happy path)."""

    def handle(self) -> None:
        self.wfile.write(b"220 fake ESMTP\r\n")
        data_mode, lines = False, []
        while True:
            line = self.rfile.readline()
            if not line:
                return
            if data_mode:
                if line in (b".\r\n", b".\n"):
                    data_mode = False
                    self.server.messages.append(b"".join(lines))  # type: ignore[attr-defined]
                    lines = []
                    self.wfile.write(b"250 queued\r\n")
                else:
                    lines.append(line)
                continue
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                self.wfile.write(b"250 fake\r\n")
            elif verb == b"DATA":
                data_mode = True
                self.wfile.write(b"354 go on\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


def test_email_over_smtp_to_a_local_server(ow, settings):
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SMTPHandler)
    server.messages = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = server.server_address
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        tick.tick_run(today=URGE_DAY)
    finally:
        server.shutdown()
        server.server_close()
    sent = Message.objects.filter(channel=Channel.EMAIL, status=MessageStatus.SENT).count()
    assert sent > 0 and len(server.messages) == sent
    raw = server.messages[0].decode()
    assert "To: " in raw and "@luxian.gov.cn" in raw


def test_an_unreachable_mail_server_leaves_the_email_waiting(ow, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    result = tick.tick_run(today=URGE_DAY)
    assert result.failed > 0
    waiting = Message.objects.filter(channel=Channel.EMAIL)
    assert all(m.status == MessageStatus.PENDING and m.error.startswith("smtp") for m in waiting)
    # The inbox is not held back by the mail server.
    assert inbox_of(ow.liaison_health)


# -- group robots ---------------------------------------------------------------------------
def test_dingtalk_posts_are_signed_and_wecom_posts_are_markdown(ow, robots):
    add_robots(ow, robots)
    started = datetime.now().timestamp() * 1000
    tick.tick_run(today=URGE_DAY)
    ding = [r for r in robots.received if r.path == "/robot/send"]
    wecom = [r for r in robots.received if r.path == "/cgi-bin/webhook/send"]
    assert ding and len(ding) == len(wecom)
    for request in ding:
        assert request.query["access_token"] == "dt-token"
        timestamp = int(request.query["timestamp"])
        assert started - 1000 <= timestamp <= datetime.now().timestamp() * 1000 + 1000
        expected = base64.b64encode(hmac.new(
            DINGTALK_SECRET.encode(), f"{timestamp}\n{DINGTALK_SECRET}".encode(),
            hashlib.sha256).digest()).decode()
        assert unquote_plus(unquote_plus(request.query["sign"])) == expected or \
            request.query["sign"] == expected
        assert request.body["msgtype"] == "markdown"
        assert request.body["markdown"]["title"]
        assert request.body["at"]["isAtAll"] is False
    urged = [r for r in ding if "建立安宁疗护服务体系" in r.body["markdown"]["text"]
             and "催办" in r.body["markdown"]["title"]]
    # The post about the health bureau's part mentions its liaison by mobile, in text and at.
    mentions = [r for r in urged if "13800000001" in r.body["at"]["atMobiles"]]
    assert mentions and "@13800000001" in mentions[0].body["markdown"]["text"]
    for request in wecom:
        assert request.query["key"] == "wc-key"
        assert set(request.body) == {"msgtype", "markdown"}
        assert request.body["markdown"]["content"].startswith("### ")
    assert Message.objects.filter(channel=Channel.DINGTALK, status=MessageStatus.SENT).count() \
        == len(ding)


def test_dingtalk_signature_matches_the_documented_example():
    # The signature is HMAC-SHA256 over "<timestamp>\n<secret>", Base64, URL-encoded.
    sign = delivery.dingtalk_sign("SECxyz", 1577262236757)
    digest = hmac.new(b"SECxyz", b"1577262236757\nSECxyz", hashlib.sha256).digest()
    assert unquote_plus(sign) == base64.b64encode(digest).decode()
    assert "+" not in sign and "/" not in sign and "=" not in sign


def test_a_robot_that_refuses_is_retried_by_the_next_tick(ow, robots):
    add_robots(ow, robots)
    robots.answer = {"errcode": 310000, "errmsg": "sign not match"}
    first = tick.tick_run(today=URGE_DAY)
    assert first.failed > 0
    failed = Message.objects.filter(channel=Channel.DINGTALK)
    assert all(m.status == MessageStatus.PENDING and "310000" in m.error for m in failed)
    robots.answer = {"errcode": 0, "errmsg": "ok"}
    robots.received.clear()
    second = tick.tick_run(today=URGE_DAY)
    assert second.failed == 0 and second.sent == failed.count() * 2  # DingTalk and WeCom
    assert all(m.status == MessageStatus.SENT for m in Message.objects.all())
    assert tick.tick_run(today=URGE_DAY).sent == 0


def test_after_five_failures_a_message_is_given_up(ow, robots):
    add_robots(ow, robots)
    robots.answer = {"errcode": 300001, "errmsg": "token is not exist"}
    for _ in range(outbox.MAX_ATTEMPTS):
        tick.tick_run(today=URGE_DAY)
    assert set(Message.objects.filter(channel=Channel.WECOM).values_list("status", flat=True)) \
        == {MessageStatus.FAILED}
    assert "300001" in ow.plan.webhooks.get(kind=Channel.WECOM).last_status


def test_a_switched_off_robot_gets_nothing(ow, robots):
    add_robots(ow, robots)
    for hook in ow.plan.webhooks.all():
        services.webhook_set_active(user=ow.office, webhook_id=hook.pk, active=False)
    tick.tick_run(today=URGE_DAY)
    assert robots.received == []


# -- two ticks at once ----------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_two_ticks_at_once_send_each_message_once(robots):
    if connection.vendor == "sqlite":
        pytest.skip("the in-memory SQLite test database cannot hold two writers; "
                    "test_two_tick_processes_on_sqlite covers SQLite with a database file")
    ow = make_oversight_world()
    add_robots(ow, robots)
    robots.delay = 0.05
    results = []
    barrier = threading.Barrier(2)

    def run():
        from django.db import connections

        barrier.wait()
        try:
            results.append(tick.tick_run(today=URGE_DAY))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sent = sorted(r.sent for r in results)
    assert sent[0] == 0 and sent[1] > 0
    assert sent[1] == Message.objects.filter(status=MessageStatus.SENT).count()
    bodies = [(r.path, str(r.body)) for r in robots.received]
    assert len(bodies) == len(set(bodies))


@pytest.mark.django_db(transaction=True)
def test_two_deliverers_past_the_lease_never_send_a_message_twice(robots):
    if connection.vendor == "sqlite":
        pytest.skip("the in-memory SQLite test database cannot hold two writers")
    ow = make_oversight_world()
    add_robots(ow, robots)
    outbox.enqueue(outbox.messages_for(tick.events_on(URGE_DAY), now=at(URGE_DAY)))
    robots.delay = 0.02
    results = []
    barrier = threading.Barrier(2)

    def run():
        from django.db import connections

        barrier.wait()
        try:
            results.append(outbox.deliver_pending())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    robot_messages = Message.objects.filter(channel__in=(Channel.DINGTALK, Channel.WECOM))
    assert len(robots.received) == robot_messages.count()
    assert sum(r.sent for r in results) == Message.objects.count()


def test_past_the_holiday_calendar_the_tick_skips_loudly_and_sends_the_rest(ow):
    from shidian.core.workdays import calendar_years
    from shidian.oversight import selectors
    from shidian.plans.models import Task

    last = calendar_years()[1]
    late = ow.tasks[0]
    # Due in the first days of the year after the calendar: its reminder cannot be placed.
    Task.objects.filter(pk=late.pk).update(deadline=date(last + 1, 1, 6))
    ow.plan.period_end = None
    ow.plan.save(update_fields=["period_end"])
    today = date(last, 12, 31)
    lights = selectors.plan_lights(plan=ow.plan, today=today)
    assert late.title in lights.calendar_gaps
    assert lights.tasks[late.pk].light == "green"
    out, err = io.StringIO(), io.StringIO()
    call_command("tick", "--date", today.isoformat(), stdout=out, stderr=err)
    assert "past the holiday calendar" in err.getvalue() and late.title in err.getvalue()
    assert out.getvalue().strip().splitlines()[-1].startswith("sent ")
