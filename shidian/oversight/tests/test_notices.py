"""督办 notices: numbering, the life cycle (issue → reply → return → reply → accept, or
escalate), who may do what, and the Word documents read back."""
from __future__ import annotations

import io
from datetime import date

import pytest
from docx import Document

from shidian.core.errors import ErrorCode, ShidianError
from shidian.exports import notices as docs
from shidian.oversight import selectors, services
from shidian.oversight.models import (Channel, Message, MessageKind, NoticeReply, NoticeStatus,
                                      ReplyDecision, SupervisionNotice)
from shidian.oversight.testing import make_oversight_world
from shidian.reporting.services import evidence_attach
from shidian.reporting.testing import at, pdf_bytes, upload

pytestmark = pytest.mark.django_db

ISSUED = at(date(2021, 7, 12))  # a Monday


@pytest.fixture
def ow(db):
    return make_oversight_world()


def issue(ow, *, user=None, agency=None, tasks=None, **extra) -> SupervisionNotice:
    data = {"title": "关于加快推进安宁疗护服务体系建设的督办通知",
            "body": "你单位牵头的任务已逾期，请立即采取措施。\n请按期回复。", "now": ISSUED}
    data.update(extra)
    return services.notice_issue(
        user=user or ow.office, plan_id=ow.plan.pk, agency_id=(agency or ow.health).pk,
        task_ids=[t.pk for t in (tasks or [ow.tasks[0]])], **data)


def inbox(user):
    return list(Message.objects.filter(recipient=user, channel=Channel.INBOX).order_by("pk"))


def test_notices_are_numbered_per_office_and_year(ow):
    first = issue(ow)
    second = issue(ow, tasks=[ow.tasks[1]])
    assert (first.year, first.number, second.number) == (2021, 1, 2)
    assert first.display_number == "督办〔2021〕1号"
    # Another county's office counts from 1 in the same year.
    other = services.notice_issue(
        user=ow.office_other, plan_id=ow.other_plan.pk, agency_id=ow.other_health.pk,
        task_ids=[ow.other_task.pk], title="关于加快病区建设的督办通知", body="请加快推进。",
        now=ISSUED)
    assert other.number == 1
    # A new year starts again at 1.
    next_year = issue(ow, now=at(date(2022, 1, 4)))
    assert (next_year.year, next_year.number) == (2022, 1)


def test_the_reply_date_defaults_to_the_rules_working_days(ow):
    # Five working days after Friday 24 September 2021: 26 (the working Sunday), 27, 28, 29, 30.
    notice = issue(ow, now=at(date(2021, 9, 24)))
    assert notice.reply_due == date(2021, 9, 30)


def test_issuing_tells_the_units_liaison_and_leader(ow):
    notice = issue(ow)
    [to_liaison] = inbox(ow.liaison_health)
    assert to_liaison.kind == MessageKind.NOTICE and to_liaison.notice_id == notice.pk
    assert "督办〔2021〕1号" in to_liaison.subject
    assert [m.notice_id for m in inbox(ow.leader_health)] == [notice.pk]
    assert inbox(ow.liaison_civil) == []
    # E-mail waits for the tick.
    assert Message.objects.filter(channel=Channel.EMAIL, recipient=ow.liaison_health,
                                  status="pending").exists()


@pytest.mark.parametrize("change, field", [
    ({"title": "  "}, "title"),
    ({"body": ""}, "body"),
    ({"tasks": []}, "tasks"),
    ({"agency": "finance"}, "tasks"),  # 财政局 has no part in task 1
    ({"reply_due": date(2021, 7, 1)}, "reply_due"),
])
def test_bad_input_is_refused_and_nothing_is_numbered(ow, change, field):
    kwargs = dict(change)
    if kwargs.get("agency") == "finance":
        kwargs["agency"] = ow.finance
    if "tasks" in kwargs and not kwargs["tasks"]:
        with pytest.raises(ShidianError) as caught:
            services.notice_issue(user=ow.office, plan_id=ow.plan.pk, agency_id=ow.health.pk,
                                  task_ids=[], title="督办", body="请推进", now=ISSUED)
    else:
        with pytest.raises(ShidianError) as caught:
            issue(ow, **kwargs)
    assert caught.value.code == ErrorCode.INVALID
    assert not SupervisionNotice.objects.exists()
    assert issue(ow).number == 1  # no number was used up


def test_a_task_of_another_plan_cannot_be_named(ow):
    with pytest.raises(ShidianError) as caught:
        issue(ow, tasks=[ow.other_task])
    assert caught.value.code == ErrorCode.INVALID


def test_only_the_plans_office_issues(ow):
    for user in (ow.office_other, ow.liaison_health, ow.leader, ow.inspector):
        with pytest.raises(ShidianError) as caught:
            issue(ow, user=user)
        assert caught.value.code == ErrorCode.NOT_FOUND
    assert not SupervisionNotice.objects.exists()


def test_reply_return_reply_accept(ow):
    notice = issue(ow)
    evidence = evidence_attach(user=ow.liaison_health, agency_id=ow.health.pk,
                               upload=upload("整改方案.pdf", pdf_bytes("plan")))
    first = services.notice_reply(user=ow.liaison_health, notice_id=notice.pk,
                                  measures="已召开专题会议部署。", done_by=date(2021, 8, 31),
                                  evidence_ids=[evidence.pk], now=at(date(2021, 7, 14)))
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.REPLIED
    # The office, and the officer who issued it, hear of the reply.
    assert [m.kind for m in inbox(ow.office)] == [MessageKind.NOTICE_REPLY]
    # A second reply before the decision is refused.
    with pytest.raises(ShidianError) as caught:
        services.notice_reply(user=ow.liaison_health, notice_id=notice.pk, measures="补充",
                              done_by=date(2021, 8, 31))
    assert caught.value.code == ErrorCode.CONFLICT

    services.notice_return(user=ow.office, notice_id=notice.pk, reason="措施不具体，请细化。",
                           now=at(date(2021, 7, 15)))
    notice.refresh_from_db()
    first.refresh_from_db()
    assert notice.status == NoticeStatus.RETURNED and first.decision == ReplyDecision.RETURNED
    # A new reply date: five working days after Thursday 15 July.
    assert notice.reply_due == date(2021, 7, 22)
    assert any("措施不具体" in m.body for m in inbox(ow.liaison_health))

    services.notice_reply(user=ow.liaison_health, notice_id=notice.pk,
                          measures="一、成立工作专班；二、8月底前建成病区。",
                          done_by=date(2021, 8, 31), now=at(date(2021, 7, 16)))
    services.notice_accept(user=ow.office, notice_id=notice.pk, note="同意。",
                           now=at(date(2021, 7, 19)))
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.ACCEPTED and notice.closed_by == ow.office
    decisions = list(notice.replies.order_by("pk").values_list("decision", flat=True))
    assert decisions == [ReplyDecision.RETURNED, ReplyDecision.ACCEPTED]
    # Closed is closed: no more replies, a second accept changes nothing.
    with pytest.raises(ShidianError):
        services.notice_reply(user=ow.liaison_health, notice_id=notice.pk, measures="x",
                              done_by=date(2021, 8, 31))
    assert services.notice_accept(user=ow.office, notice_id=notice.pk).status == "accepted"


def test_accept_and_return_need_a_reply(ow):
    notice = issue(ow)
    for decide in (lambda: services.notice_accept(user=ow.office, notice_id=notice.pk),
                   lambda: services.notice_return(user=ow.office, notice_id=notice.pk,
                                                  reason="不行")):
        with pytest.raises(ShidianError) as caught:
            decide()
        assert caught.value.code == ErrorCode.CONFLICT


def test_returning_needs_a_reason(ow):
    notice = issue(ow)
    services.notice_reply(user=ow.liaison_health, notice_id=notice.pk, measures="已部署",
                          done_by=date(2021, 8, 31))
    with pytest.raises(ShidianError) as caught:
        services.notice_return(user=ow.office, notice_id=notice.pk, reason="  ")
    assert caught.value.code == ErrorCode.INVALID
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.REPLIED


def test_escalating_tells_the_leader_and_lets_the_unit_answer_again(ow):
    notice = issue(ow)
    services.notice_reply(user=ow.liaison_health, notice_id=notice.pk, measures="已部署",
                          done_by=date(2021, 8, 31))
    services.notice_escalate(user=ow.office, notice_id=notice.pk, note="拟约谈。")
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.ESCALATED and notice.escalation_note == "拟约谈。"
    assert [m.kind for m in inbox(ow.leader_health)] == [MessageKind.NOTICE,
                                                          MessageKind.ESCALATE]
    assert NoticeReply.objects.get().decision == ReplyDecision.RETURNED
    services.notice_reply(user=ow.liaison_health, notice_id=notice.pk, measures="已整改",
                          done_by=date(2021, 8, 31))
    services.notice_accept(user=ow.office, notice_id=notice.pk)
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.ACCEPTED


def test_who_may_reply_and_decide(ow):
    notice = issue(ow)
    # Another unit's liaison, the other county, the office itself: not found.
    for user in (ow.liaison_civil, ow.liaison_other, ow.office, ow.leader):
        with pytest.raises(ShidianError) as caught:
            services.notice_reply(user=user, notice_id=notice.pk, measures="x",
                                  done_by=date(2021, 8, 31))
        assert caught.value.code == ErrorCode.NOT_FOUND
    services.notice_reply(user=ow.liaison_health, notice_id=notice.pk, measures="已部署",
                          done_by=date(2021, 8, 31))
    for user in (ow.liaison_health, ow.office_other, ow.leader, ow.leader_health):
        for decide in (services.notice_accept, services.notice_escalate):
            with pytest.raises(ShidianError) as caught:
                decide(user=user, notice_id=notice.pk)
            assert caught.value.code == ErrorCode.NOT_FOUND
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.REPLIED


def test_a_reply_cites_only_its_own_units_evidence(ow):
    notice = issue(ow)
    theirs = evidence_attach(user=ow.liaison_civil, agency_id=ow.civil.pk,
                             upload=upload("民政.pdf", pdf_bytes("civil")))
    with pytest.raises(ShidianError) as caught:
        services.notice_reply(user=ow.liaison_health, notice_id=notice.pk, measures="已部署",
                              done_by=date(2021, 8, 31), evidence_ids=[theirs.pk])
    assert caught.value.code == ErrorCode.INVALID
    assert not NoticeReply.objects.exists()


def test_the_board_orders_open_notices_by_age_and_flags_late_replies(ow):
    old = issue(ow, now=at(date(2021, 6, 1)))
    new = issue(ow, tasks=[ow.tasks[1]], now=at(date(2021, 7, 12)))
    closed = issue(ow, tasks=[ow.tasks[1]], now=at(date(2021, 7, 1)))
    services.notice_reply(user=ow.liaison_health, notice_id=closed.pk, measures="已完成",
                          done_by=date(2021, 7, 2))
    services.notice_accept(user=ow.office, notice_id=closed.pk)
    board = selectors.notice_board(notices=SupervisionNotice.objects.all(),
                                   today=date(2021, 7, 14))
    assert [r.notice.pk for r in board] == [old.pk, new.pk]
    assert [r.age_days for r in board] == [43, 2]
    assert [r.bucket for r in board] == ["30+", "0-5"]
    assert [r.reply_overdue for r in board] == [True, False]


def test_a_late_reply_is_urged_by_the_tick(ow):
    from shidian.oversight import tick

    notice = issue(ow)  # reply due Monday 19 July 2021
    tick.tick_run(today=date(2021, 7, 19))
    assert not Message.objects.filter(kind=MessageKind.NOTICE_OVERDUE).exists()
    tick.tick_run(today=date(2021, 7, 20))
    [late] = Message.objects.filter(kind=MessageKind.NOTICE_OVERDUE, channel=Channel.INBOX)
    assert late.recipient == ow.liaison_health and late.notice_id == notice.pk
    tick.tick_run(today=date(2021, 7, 21))
    assert Message.objects.filter(kind=MessageKind.NOTICE_OVERDUE,
                                  channel=Channel.INBOX).count() == 1


# -- Word documents -------------------------------------------------------------------------
def _texts(content: bytes) -> tuple[list[str], list[list[str]], Document]:
    document = Document(io.BytesIO(content))
    paragraphs = [p.text for p in document.paragraphs]
    tables = [[cell.text for cell in row.cells] for table in document.tables
              for row in table.rows]
    return paragraphs, tables, document


def test_the_notice_reads_back_as_a_gongwen(ow):
    notice = issue(ow, tasks=[ow.tasks[0], ow.tasks[1]],
                   issuer_name="泸县安宁疗护试点工作领导小组办公室")
    content = docs.notice_docx(selectors.notice_detail(notices=SupervisionNotice.objects.all(),
                                                       notice_id=notice.pk))
    paragraphs, rows, document = _texts(content)
    # The masthead in red, the number, the title, the addressee.
    assert paragraphs[0] == "泸县安宁疗护试点工作领导小组办公室"
    assert document.paragraphs[0].runs[0].font.color.rgb == docs.RED
    assert paragraphs[1] == "督办〔2021〕1号"
    assert paragraphs[2] == "关于加快推进安宁疗护服务体系建设的督办通知"
    assert "泸县卫生健康局：" in paragraphs
    assert "一、督办事项" in paragraphs and "二、工作要求" in paragraphs
    assert "你单位牵头的任务已逾期，请立即采取措施。" in paragraphs
    assert any("2021年7月19日前" in p for p in paragraphs)
    # The tasks in a table after the heading, one row each.
    assert rows[0] == ["序号", "任务", "完成时限", "进度", "状态"]
    assert rows[1][1] == "1 建立安宁疗护服务体系" and rows[1][2] == "2021年6月30日"
    assert rows[2][1] == "2 落实安宁疗护收费政策"
    body = document.element.body
    heading = next(p for p in document.paragraphs if p.text == "一、督办事项")
    assert heading._p.getnext() is body.find(
        "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}tbl")
    # The 公文 page and the signature with the date of issue.
    section = document.sections[0]
    assert (round(section.top_margin.mm), round(section.left_margin.mm)) == (37, 28)
    assert round(section.page_width.mm) == 210
    assert paragraphs[-2:] == ["泸县安宁疗护试点工作领导小组办公室", "2021年7月12日"]
    title_run = document.paragraphs[2].runs[0]
    fonts = title_run._element.rPr.rFonts
    assert fonts.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia") \
        == "方正小标宋简体"


def test_the_reply_reads_back_with_the_measures_and_attachments(ow):
    notice = issue(ow)
    evidence = evidence_attach(user=ow.liaison_health, agency_id=ow.health.pk,
                               upload=upload("专题会议纪要.pdf", pdf_bytes("minutes")))
    reply = services.notice_reply(user=ow.liaison_health, notice_id=notice.pk,
                                  measures="一是成立工作专班。\n二是8月底前建成病区。",
                                  done_by=date(2021, 8, 31), evidence_ids=[evidence.pk],
                                  now=at(date(2021, 7, 14)))
    paragraphs, rows, _document = _texts(docs.reply_docx(notice, reply))
    assert paragraphs[0] == "关于督办〔2021〕1号督办事项办理情况的报告"
    assert notice.issuer_name + "：" in paragraphs
    assert "一是成立工作专班。" in paragraphs and "二是8月底前建成病区。" in paragraphs
    assert "上述工作将于2021年8月31日前完成。" in paragraphs
    assert "1. 专题会议纪要.pdf" in paragraphs
    assert rows[1][1] == "1 建立安宁疗护服务体系"
    assert paragraphs[-2:] == ["泸县卫生健康局", "2021年7月14日"]


@pytest.mark.django_db(transaction=True)
def test_two_offices_clicking_issue_at_once_get_two_numbers():
    """Threads on PostgreSQL (SQLite is covered by two processes in test_concurrency)."""
    import threading

    from django.db import connection, connections

    if connection.vendor == "sqlite":
        pytest.skip("the in-memory SQLite test database cannot hold two writers; "
                    "test_concurrency covers SQLite with a database file")
    ow = make_oversight_world()
    numbers, errors = [], []
    barrier = threading.Barrier(4)

    def run():
        barrier.wait()
        try:
            for _ in range(3):
                numbers.append(issue(ow).number)
        except Exception as error:  # noqa: BLE001 (reported by the assertion below)
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(numbers) == list(range(1, 13))
