"""The oversight pages and API as an office, a liaison and a leader meet them; and the scope:
another county's office and liaison, and a liaison of another unit, get "not found" on every
page and API route that names an object, and nothing changes."""
from __future__ import annotations

import hashlib
import io
import json
from datetime import date
from unittest import mock

import pytest
from auditlog.models import LogEntry
from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from docx import Document
from rest_framework.test import APIClient

from shidian.oversight import services, tick
from shidian.oversight.models import Channel, Message, NoticeStatus, SupervisionNotice
from shidian.oversight.testing import make_oversight_world, make_pilot_site
from shidian.plans.models import Plan, Programme
from shidian.reporting.services import evidence_attach
from shidian.reporting.testing import at, pdf_bytes, upload

pytestmark = pytest.mark.django_db

NOW = at(date(2021, 7, 12))


@pytest.fixture(autouse=True)
def _clock(request):
    if request.node.get_closest_marker("browser"):
        yield
        return
    with mock.patch("django.utils.timezone.now", return_value=NOW):
        yield


@pytest.fixture
def ow(db):
    return make_oversight_world()


def login(client, user):
    client.force_login(user)
    return client


def issue(ow, **extra):
    return services.notice_issue(
        user=ow.office, plan_id=ow.plan.pk, agency_id=ow.health.pk, task_ids=[ow.tasks[0].pk],
        title="关于加快推进安宁疗护服务体系建设的督办通知", body="请立即采取措施。", **extra)


# -- pages ----------------------------------------------------------------------------------
def test_the_plan_lights_page_shows_each_task_and_unit_in_its_colour(client, ow):
    login(client, ow.office)
    page = client.get(reverse("oversight:plan_lights", args=[ow.plan.pk])).content.decode()
    # On 12 July 2021 task 1 (due 30 June) is escalated: red; the others are on schedule.
    assert f'data-task="{ow.tasks[0].pk}" data-light="red"' in page
    assert f'data-task="{ow.tasks[1].pk}" data-light="green"' in page
    assert f'data-agency="{ow.health.pk}" data-light="red"' in page
    assert "红灯" in page and "逾期12天" in page
    assert 'data-testid="propose"' in page  # the office is offered a notice on the red task
    # A liaison does not see the office's page.
    login(client, ow.liaison_health)
    assert client.get(reverse("oversight:plan_lights", args=[ow.plan.pk])).status_code == 404


def test_the_progress_board_and_my_tasks_show_the_lights_with_their_rule(client, ow):
    """挂图作战 colours its task rows and unit summaries by the ladder, and says why."""
    from shidian.oversight.models import OversightRule

    OversightRule.objects.create(plan=ow.plan, remind_days=2, escalate_days=4)
    login(client, ow.office)
    page = client.get(reverse("reporting:dashboard", args=[ow.plan.pk])).content.decode()
    # On 12 July 2021 task 1 (due 30 June, led by 卫生健康局) is past 4 working days: red.
    assert f'data-task="{ow.tasks[0].pk}" data-light="red"' in page
    assert f'data-task="{ow.tasks[1].pk}" data-light=' not in page  # green tasks not listed
    assert 'data-testid="lights-red">1<' in page
    assert f'<tr data-agency="{ow.health.pk}"><td><span class="badge text-bg-danger" ' \
           f'data-light="red"' in page
    # The legend explains the colours with the plan's own numbers and links to the rule.
    assert "超过完成时限4个工作日仍未完成" in page and "在2个工作日内到期" in page
    assert reverse("oversight:plan_lights", args=[ow.plan.pk]) in page
    # 我的任务 of the 卫生健康局's liaison shows the same light on the same task.
    login(client, ow.liaison_health)
    mine = client.get(reverse("reporting:workspace")).content.decode()
    row = mine[mine.index(f'data-task="{ow.tasks[0].pk}"'):]
    row = row[:row.index("</tr>")]
    assert 'data-light="red"' in row and "红灯" in row


def test_the_office_sets_the_rule_and_bad_input_is_explained(client, ow):
    login(client, ow.office)
    url = reverse("oversight:rule", args=[ow.plan.pk])
    response = client.post(url, {"remind_days": "5", "escalate_days": "0", "reply_days": "5",
                                 "min_onsite_inspections": "2", "is_active": "on"})
    assert response.status_code == 200 and "请修改下面标出的内容" in response.content.decode()
    assert not hasattr(ow.plan, "oversight_rule") or not ow.plan.oversight_rule.pk
    response = client.post(url, {"remind_days": "5", "escalate_days": "3", "reply_days": "4",
                                 "min_onsite_inspections": "2", "is_active": "on"})
    assert response.status_code == 302
    ow.plan.refresh_from_db()
    from shidian.oversight.models import OversightRule

    rule = OversightRule.objects.get(plan=ow.plan)
    assert (rule.remind_days, rule.escalate_days, rule.min_onsite_inspections) == (5, 3, 2)
    assert rule.send_email is False  # the box was left unticked
    # Escalating after three working days: on Tuesday 6 July task 1 is red.
    page = client.get(reverse("oversight:plan_lights", args=[ow.plan.pk])).content.decode()
    assert "催办3个工作日后仍未完成" in page


def test_robots_are_added_with_their_secret_hidden(client, ow):
    login(client, ow.office)
    url = reverse("oversight:robot_add", args=[ow.plan.pk])
    client.post(url, {"kind": "dingtalk", "name": "工作群",
                      "url": "https://oapi.dingtalk.com/robot/send?access_token=abc123",
                      "secret": "SECsecret"})
    page = client.get(reverse("oversight:plan_lights", args=[ow.plan.pk])).content.decode()
    assert "工作群" in page and "https://oapi.dingtalk.com/robot/send" in page
    assert "abc123" not in page and "SECsecret" not in page
    hook = ow.plan.webhooks.get()
    assert "abc123" not in hook.url_token and hook.secret_token
    response = client.post(url, {"kind": "wecom", "name": "企微群", "url": "ftp://x/y"},
                           follow=True)
    assert "机器人地址应以https://" in response.content.decode()
    assert ow.plan.webhooks.count() == 1


def test_the_inbox_lists_marks_read_and_follows_the_link(client, ow):
    tick.tick_run(today=date(2021, 7, 1))
    login(client, ow.liaison_health)
    page = client.get(reverse("oversight:inbox")).content.decode()
    assert "催办" in page and 'data-testid="inbox-unread"' in page
    message = Message.objects.filter(recipient=ow.liaison_health,
                                     channel=Channel.INBOX).first()
    response = client.get(reverse("oversight:message", args=[message.pk]))
    assert response.status_code == 302 and response["Location"] == message.link
    message.refresh_from_db()
    assert message.read_at is not None
    client.post(reverse("oversight:inbox_read_all"))
    assert not Message.objects.filter(recipient=ow.liaison_health, channel=Channel.INBOX,
                                      read_at__isnull=True).exists()
    # Someone else's message is not found, and stays unread.
    theirs = Message.objects.filter(recipient=ow.liaison_civil).first()
    assert client.get(reverse("oversight:message", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_issue_reply_and_accept_through_the_pages(client, ow):
    login(client, ow.office)
    form_url = reverse("oversight:notice_new") + (f"?plan={ow.plan.pk}&agency={ow.health.pk}"
                                                  f"&task={ow.tasks[0].pk}")
    page = client.get(form_url).content.decode()
    assert "关于加快推进“建立安宁疗护服务体系”的督办通知" in page
    assert "2021-07-19" in page  # five working days after Monday 12 July
    response = client.post(reverse("oversight:notice_new"), {
        "plan": ow.plan.pk, "agency": ow.health.pk, "tasks": [ow.tasks[0].pk],
        "title": "关于加快推进安宁疗护服务体系建设的督办通知", "body": "请立即采取措施。",
        "reply_due": "2021-07-19", "issuer_name": "泸县安宁疗护试点工作领导小组办公室"})
    notice = SupervisionNotice.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("oversight:notice", args=[notice.pk])
    page = client.get(response["Location"]).content.decode()
    assert "督办〔2021〕1号" in page and "待回复" in page

    login(client, ow.liaison_health)
    page = client.get(reverse("oversight:notice", args=[notice.pk])).content.decode()
    assert 'data-testid="reply-form"' in page and 'data-testid="accept-form"' not in page
    response = client.post(reverse("oversight:notice_reply", args=[notice.pk]), {
        "measures": "已成立工作专班，8月底前建成病区。", "done_by": "2021-08-31",
        "files": [_pdf("专班通知.pdf")]})
    assert response.status_code == 302
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.REPLIED
    assert notice.replies.get().evidence.get().original_name == "专班通知.pdf"

    login(client, ow.office)
    client.post(reverse("oversight:notice_accept", args=[notice.pk]), {"note": "同意销号"})
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.ACCEPTED
    board = client.get(reverse("oversight:notices")).content.decode()
    assert "已办结的督办通知" in board and "督办〔2021〕1号" in board


def _pdf(name):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, pdf_bytes(name), content_type="application/pdf")


def test_a_refused_issue_shows_why_and_saves_nothing(client, ow):
    login(client, ow.office)
    response = client.post(reverse("oversight:notice_new"), {
        "plan": ow.plan.pk, "agency": ow.finance.pk, "tasks": [ow.tasks[0].pk],
        "title": "督办", "body": "请推进", "reply_due": "2021-07-19", "issuer_name": "办公室"})
    assert response.status_code == 200
    assert "泸县财政局不是以下任务的责任单位" in response.content.decode()
    assert not SupervisionNotice.objects.exists()


def test_a_refused_reply_shows_why(client, ow):
    notice = issue(ow)
    login(client, ow.liaison_health)
    response = client.post(reverse("oversight:notice_reply", args=[notice.pk]), {
        "measures": "已部署", "done_by": "2021-07-01"}, follow=True)
    assert "计划完成日期不能早于督办通知签发日期" in response.content.decode()
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.ISSUED


def test_the_word_documents_download(client, ow):
    notice = issue(ow)
    reply = services.notice_reply(user=ow.liaison_health, notice_id=notice.pk,
                                  measures="已部署", done_by=date(2021, 8, 31))
    login(client, ow.liaison_health)
    for url in (reverse("oversight:notice_docx", args=[notice.pk]),
                reverse("oversight:reply_docx", args=[notice.pk, reply.pk])):
        response = client.get(url)
        assert response.status_code == 200
        assert "filename*=UTF-8''" in response["Content-Disposition"]
        text = "\n".join(p.text for p in Document(io.BytesIO(response.content)).paragraphs)
        assert "督办〔2021〕1号" in text


def test_the_liaisons_supervision_page_lists_its_notices_only(client, ow):
    issue(ow)
    login(client, ow.liaison_health)
    assert client.get(reverse("oversight:index")).status_code == 302
    page = client.get(reverse("oversight:notices")).content.decode()
    assert "督办〔2021〕1号" in page
    login(client, ow.liaison_civil)
    assert "督办〔2021〕1号" not in client.get(reverse("oversight:notices")).content.decode()


def test_the_board_page_counts_queries_independently_of_size(client, ow,
                                                            django_assert_max_num_queries):
    issue(ow)
    login(client, ow.office)
    with django_assert_max_num_queries(12):
        client.get(reverse("oversight:notices"))
    for _ in range(5):
        issue(ow)
    with django_assert_max_num_queries(12):
        client.get(reverse("oversight:notices"))


# -- the API --------------------------------------------------------------------------------
def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_api_issues_replies_and_decides(ow):
    response = api(ow.office).post("/api/oversight/notices/", {
        "plan": ow.plan.pk, "agency": ow.health.pk, "tasks": [ow.tasks[0].pk],
        "title": "关于加快推进的督办通知", "body": "请推进。"}, format="json")
    assert response.status_code == 201, response.content
    notice = response.json()
    assert notice["number"] == "督办〔2021〕1号" and notice["reply_due"] == "2021-07-19"
    reply = api(ow.liaison_health).post(f"/api/oversight/notices/{notice['id']}/reply/", {
        "measures": "已部署", "done_by": "2021-08-31"}, format="json")
    assert reply.status_code == 201
    wrong = api(ow.liaison_health).post(f"/api/oversight/notices/{notice['id']}/accept/", {},
                                        format="json")
    assert wrong.status_code == 404
    back = api(ow.office).post(f"/api/oversight/notices/{notice['id']}/return/", {},
                               format="json")
    assert back.status_code == 400 and back.json()["code"] == "invalid"
    done = api(ow.office).post(f"/api/oversight/notices/{notice['id']}/accept/",
                               {"note": "同意"}, format="json")
    assert done.status_code == 200 and done.json()["status"] == "accepted"
    listed = api(ow.liaison_health).get("/api/oversight/notices/").json()
    assert [n["id"] for n in listed["results"]] == [notice["id"]]
    assert api(ow.liaison_civil).get("/api/oversight/notices/").json()["results"] == []


def test_the_api_gives_lights_and_takes_the_rule(ow):
    lights = api(ow.leader).get(f"/api/oversight/lights/{ow.plan.pk}/").json()
    by_task = {t["task_id"]: t["light"] for t in lights["tasks"]}
    assert by_task[ow.tasks[0].pk] == "red" and by_task[ow.tasks[1].pk] == "green"
    body = {"remind_days": 2, "escalate_days": 10, "reply_days": 5,
            "min_onsite_inspections": 2, "is_active": True, "send_email": False}
    assert api(ow.leader).put(f"/api/oversight/lights/{ow.plan.pk}/rule/", body,
                              format="json").status_code == 404
    saved = api(ow.office).put(f"/api/oversight/lights/{ow.plan.pk}/rule/", body, format="json")
    assert saved.status_code == 200 and saved.json()["escalate_days"] == 10
    lights = api(ow.office).get(f"/api/oversight/lights/{ow.plan.pk}/").json()
    # Ten working days after 30 June run to 14 July: on 12 July task 1 is yellow.
    assert {t["task_id"]: t["light"] for t in lights["tasks"]}[ow.tasks[0].pk] == "yellow"


def test_the_api_inbox(ow):
    tick.tick_run(today=date(2021, 7, 1))
    rows = api(ow.liaison_health).get("/api/oversight/inbox/?unread=1").json()["results"]
    assert rows and all(r["read_at"] is None for r in rows)
    first = rows[0]["id"]
    assert api(ow.liaison_civil).post(f"/api/oversight/inbox/{first}/read/").status_code == 404
    assert api(ow.liaison_health).post(f"/api/oversight/inbox/{first}/read/").json()["read_at"]
    left = api(ow.liaison_health).post("/api/oversight/inbox/read-all/").json()["read"]
    assert left == len(rows) - 1


def test_the_schema_describes_the_oversight_api(ow):
    schema = api(ow.office).get("/api/schema/", {"format": "json"})
    paths = json.loads(schema.content)["paths"]
    assert "/api/oversight/notices/{id}/reply/" in paths
    assert "/api/oversight/lights/{id}/rule/" in paths


# -- scope: every page and API route with an id, for outsiders ------------------------------
def _walk(patterns, namespace=None):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, entry.namespace or namespace)
        elif isinstance(entry, URLPattern) and entry.name:
            yield namespace, entry.name, entry.pattern.converters


def _digest() -> str:
    digest = hashlib.sha256()
    for label in ("oversight", "reporting", "plans"):
        for model in apps.get_app_config(label).get_models():
            fields = [f.attname for f in model._meta.concrete_fields]
            rows = list(model.objects.order_by("pk").values(*fields))
            digest.update(json.dumps(rows, default=str, sort_keys=True).encode())
    digest.update(str(LogEntry.objects.count()).encode())
    return digest.hexdigest()


@pytest.fixture
def scoped(ow):
    """One object of every kind in 泸县, owned by the 卫生健康局 or a 泸县 pilot site."""
    tick.tick_run(today=date(2021, 7, 1))
    notice = issue(ow)
    reply = services.notice_reply(user=ow.liaison_health, notice_id=notice.pk,
                                  measures="已部署（保密内容）", done_by=date(2021, 8, 31))
    hook = services.webhook_add(user=ow.office, plan_id=ow.plan.pk, kind="wecom",
                                name="工作群", url="https://qyapi.weixin.qq.com/x?key=k")
    message = Message.objects.filter(recipient=ow.liaison_health).first()
    # An inspection of a 泸县 pilot site with a finding (and its photo) ordered rectified.
    site = make_pilot_site("泸县人民医院安宁疗护病区")
    inspection = services.round_create(user=ow.office, plan_id=ow.plan.pk, name="第一轮督导",
                                       starts_on=date(2021, 7, 1), ends_on=date(2021, 7, 10),
                                       member_ids=[ow.inspector.pk])
    visit = services.visit_add(user=ow.office, round_id=inspection.pk, site_id=site.pk,
                               planned_on=date(2021, 7, 5))
    item = services.finding_record(
        user=ow.inspector, visit_id=visit.pk, photos=[_png("现场.png")],
        data=services.FindingInput(description="病区未配置陪护室（保密内容）",
                                   severity="general", owner_id=None, measures="改造",
                                   deadline=date(2021, 8, 31)))
    # A scorecard with a round, a bulletin and a briefing issue.
    card = services.scorecard_create(user=ow.office, plan_id=ow.plan.pk, name="考核",
                                     subject_kind="agency")
    score_item = services.score_item_add(user=ow.office, scorecard_id=card.pk, name="工作创新",
                                         weight=10, rule="manual")
    evaluation = services.evaluation_open(user=ow.office, scorecard_id=card.pk,
                                          period="2021Q2", today=date(2021, 7, 12))
    # The 卫生健康局 assesses itself with a file; a 泸县 expert is named its reviewer.
    evidence = evidence_attach(user=ow.liaison_health, agency_id=ow.health.pk,
                               upload=upload("创新做法（保密内容）.pdf", pdf_bytes()))
    services.score_self(user=ow.liaison_health, evaluation_id=evaluation.pk,
                        item_id=score_item.pk, agency_id=ow.health.pk, score=8,
                        note="自评", evidence_ids=[evidence.pk])
    services.evaluation_reviewers_set(user=ow.office, evaluation_id=evaluation.pk,
                                      user_ids=[ow.inspector.pk])
    bulletin = services.bulletin_create(user=ow.office, plan_id=ow.plan.pk,
                                        evaluation_id=evaluation.pk)
    briefing = services.briefing_issue(user=ow.office, plan_id=ow.plan.pk, period="2021M06")
    # A 泸县 programme (its plan alone) with its annual round, run by the 泸县 office.
    programme = Programme.objects.create(name="泸县安宁疗护试点", division_id="510521")
    Plan.objects.filter(pk=ow.plan.pk).update(programme=programme)
    annual = services.programme_scorecard_create(user=ow.office, programme_id=programme.pk,
                                                 name="年度考核", subject_kind="agency")
    services.score_item_add(user=ow.office, scorecard_id=annual.pk, name="工作创新",
                            weight=10, rule="manual")
    annual_round = services.programme_round_open(user=ow.office, scorecard_id=annual.pk,
                                                 year=2021, today=date(2021, 7, 12))
    ids = {"plan_id": ow.plan.pk, "programme_id": programme.pk, "notice_id": notice.pk, "reply_id": reply.pk,
           "webhook_id": hook.pk, "message_id": message.pk, "round_id": inspection.pk,
           "visit_id": visit.pk, "rectification_id": item.pk, "site_id": site.pk,
           "photo_id": item.finding.photos.get().pk, "scorecard_id": card.pk,
           "item_id": score_item.pk, "evaluation_id": evaluation.pk,
           "bulletin_id": bulletin.pk, "briefing_id": briefing.pk, "evidence_id": evidence.pk}
    ow.api_ids = {"oversight-rounds": inspection.pk, "oversight-rectifications": item.pk,
                  "oversight-evaluations": evaluation.pk,
                  "oversight-programme-rounds": annual_round.pk}
    return ow, ids


def _png(name):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from shidian.reporting.testing import png_bytes

    return SimpleUploadedFile(name, png_bytes(), content_type="image/png")


def outsiders(ow):
    """The other county's office, liaison, administrator, leader and expert, and the 泸县
    财政局's liaison (no part in the 卫生健康局's notice, rectification or evidence)."""
    from shidian.orgs.models import Role
    from shidian.orgs.testing import make_user

    return [ow.office_other, ow.liaison_other, ow.liaison_finance, ow.other_inspector,
            make_user("hj_admin", role=Role.ADMIN, division_code="510522"),
            make_user("hj_leader", role=Role.LEADER, division_code="510522")]


def own_row_only(ow, user, url, response) -> bool:
    """The 财政局 is assessed in the 泸县 round: its liaison opens the round and sees (and
    may self-assess) its own row, never another unit's."""
    return (user == ow.liaison_finance
            and ("/evaluations/" in url or "/programme-rounds/" in url)
            and response.status_code in (200, 302)
            and "泸县卫生健康局" not in response.content.decode()
            and "泸县民政局" not in response.content.decode())


def test_outsiders_get_not_found_on_every_oversight_page(client, scoped):
    ow, ids = scoped
    urls = []
    for namespace, name, converters in _walk(get_resolver().url_patterns):
        if namespace != "oversight" or not converters:
            continue
        missing = [k for k in converters if k not in ids]
        assert not missing, f"oversight:{name} takes {missing}: add it to the scope test"
        urls.append(reverse(f"oversight:{name}", kwargs={k: ids[k] for k in converters}))
    assert len(urls) >= 12
    people = outsiders(ow)
    before = _digest()
    leaks = []
    for user in people:
        login(client, user)
        for url in urls:
            for method in ("get", "post"):
                response = getattr(client, method)(url)
                if own_row_only(ow, user, url, response):
                    continue
                if response.status_code != 404:
                    leaks.append(f"{user.username} {method.upper()} {url} -> "
                                 f"{response.status_code}")
                elif "保密内容" in response.content.decode():
                    leaks.append(f"{user.username} {url} shows the reply")
    assert not leaks, "\n".join(leaks)
    assert _digest() == before


def test_outsiders_get_not_found_on_every_oversight_api_route(scoped):
    from shidian.api.urls import router

    ow, ids = scoped
    targets = {"oversight-inbox": ids["message_id"], "oversight-lights": ids["plan_id"],
               "oversight-notices": ids["notice_id"]}
    targets.update(ow.api_ids)
    urls = []
    for prefix, viewset, basename in router.registry:
        if not basename.startswith("oversight-"):
            continue
        assert basename in targets, f"{basename}: add it to the scope test"
        pk = targets[basename]
        urls.append((f"/api/{prefix}/{pk}/", ("get",)))
        for extra in viewset.get_extra_actions():
            if extra.detail:
                urls.append((f"/api/{prefix}/{pk}/{extra.url_path}/", tuple(extra.mapping)))
    people = outsiders(ow)
    before = _digest()
    leaks = []
    for user in people:
        client = api(user)
        for url, methods in urls:
            for method in methods:
                response = getattr(client, method)(url, {}, format="json")
                if own_row_only(ow, user, url, response):
                    continue
                if response.status_code != 404:
                    leaks.append(f"{user.username} {method.upper()} {url} -> "
                                 f"{response.status_code}")
    assert not leaks, "\n".join(leaks)
    assert _digest() == before


def test_a_scorecard_round_through_the_pages_to_an_issued_bulletin(client, ow):
    login(client, ow.office)
    response = client.post(reverse("oversight:scorecards", args=[ow.plan.pk]), {
        "name": "泸县安宁疗护试点工作考核", "subject_kind": "agency", "excellent_from": "90",
        "good_from": "80", "pass_from": "60"})
    card = ow.plan.scorecards.get()
    assert response["Location"] == reverse("oversight:scorecard", args=[card.pk])
    url = reverse("oversight:scorecard", args=[card.pk])
    client.post(url, {"action": "item", "name": "按时报送进展", "weight": "40",
                      "rule": "on_time_reports"})
    client.post(url, {"action": "item", "name": "工作创新", "weight": "60", "rule": "manual",
                      "guidance": "有创新做法的得满分"})
    assert 'data-testid="total-points">100.00<' in client.get(url).content.decode()
    response = client.post(url, {"action": "round", "period": "2021Q2"})
    evaluation = card.evaluations.get()
    assert response["Location"] == reverse("oversight:evaluation", args=[evaluation.pk])
    manual = card.items.get(rule="manual")

    # The health bureau's liaison assesses its own row (and cannot write another's).
    login(client, ow.liaison_health)
    notices_page = client.get(reverse("oversight:notices")).content.decode()
    assert 'data-testid="self-assessments"' in notices_page
    page = client.get(reverse("oversight:evaluation", args=[evaluation.pk])).content.decode()
    assert f'name="score-{manual.pk}-a{ow.health.pk}"' in page and "泸县民政局" not in page
    client.post(reverse("oversight:evaluation_score", args=[evaluation.pk]), {
        f"score-{manual.pk}-a{ow.health.pk}": "50"})
    response = client.post(reverse("oversight:evaluation_score", args=[evaluation.pk]), {
        f"score-{manual.pk}-a{ow.civil.pk}": "60"}, follow=True)
    assert response.status_code == 404

    login(client, ow.office)
    advance = reverse("oversight:evaluation_advance", args=[evaluation.pk])
    client.post(advance)
    basis = {f"note-{manual.pk}-a{agency.pk}": "查阅自评材料"
             for agency in (ow.health, ow.civil, ow.finance)}
    response = client.post(reverse("oversight:evaluation_score", args=[evaluation.pk]), {
        f"score-{manual.pk}-a{ow.health.pk}": "45", f"score-{manual.pk}-a{ow.civil.pk}": "70",
        f"score-{manual.pk}-a{ow.finance.pk}": "30", **basis}, follow=True)
    assert "分值应在0到60.00之间" in response.content.decode().replace("工作创新", "分值")
    # Nothing was saved from the refused form, not even the valid scores.
    assert not evaluation.scores.filter(review_score__isnull=False).exists()
    client.post(reverse("oversight:evaluation_score", args=[evaluation.pk]), {
        f"score-{manual.pk}-a{ow.health.pk}": "45", f"score-{manual.pk}-a{ow.civil.pk}": "58",
        f"score-{manual.pk}-a{ow.finance.pk}": "30", **basis})
    client.post(advance)
    page = client.get(reverse("oversight:evaluation", args=[evaluation.pk])).content.decode()
    assert "已定档" in page and 'data-testid="make-bulletin"' in page
    response = client.post(reverse("oversight:bulletins", args=[ow.plan.pk]),
                           {"evaluation": evaluation.pk})
    bulletin = ow.plan.bulletins.get()
    assert response["Location"] == reverse("oversight:bulletin", args=[bulletin.pk])
    client.post(reverse("oversight:bulletin", args=[bulletin.pk]), {
        "title": "关于二季度考核情况的通报", "issuer_name": "泸县安宁疗护试点工作领导小组办公室",
        "opening": "现将考核情况通报如下。", "praise": "泸县民政局予以表扬。",
        "criticism": "泸县财政局予以批评。", "requirements": "抓好落实。"})
    client.post(reverse("oversight:bulletin", args=[bulletin.pk]), {"action": "issue"})
    bulletin.refresh_from_db()
    assert bulletin.status == "issued" and bulletin.number == 1
    page = client.get(reverse("oversight:bulletin", args=[bulletin.pk])).content.decode()
    assert "通报〔2021〕1号" in page and 'data-testid="bulletin-form"' not in page
    word = client.get(reverse("oversight:bulletin_docx", args=[bulletin.pk]))
    text = [p.text for p in Document(io.BytesIO(word.content)).paragraphs]
    assert "关于二季度考核情况的通报" in text and "泸县财政局予以批评。" in text


def test_a_named_expert_scores_through_the_pages_with_the_units_evidence(client, ow):
    card = services.scorecard_create(user=ow.office, plan_id=ow.plan.pk, name="考核",
                                     subject_kind="agency")
    manual = services.score_item_add(user=ow.office, scorecard_id=card.pk, name="工作创新",
                                     weight=10, rule="manual")
    evaluation = services.evaluation_open(user=ow.office, scorecard_id=card.pk,
                                          period="2021Q2", today=date(2021, 7, 12))
    page_url = reverse("oversight:evaluation", args=[evaluation.pk])
    score_url = reverse("oversight:evaluation_score", args=[evaluation.pk])
    # The unit self-assesses on the page and attaches its evidence file.
    login(client, ow.liaison_health)
    client.post(score_url, {f"score-{manual.pk}-a{ow.health.pk}": "9",
                            f"note-{manual.pk}-a{ow.health.pk}": "建立了居家安宁疗护转介机制",
                            f"evidence-{manual.pk}-a{ow.health.pk}": upload(
                                "转介机制.pdf", pdf_bytes("referral"))})
    cited = evaluation.scores.get(subject=f"a{ow.health.pk}").evidence.get()
    assert cited.original_name == "转介机制.pdf"
    # Inputs that name no item are not found, never a server error.
    for name in ("score-x", f"score-abc-a{ow.health.pk}", "score-1-a"):
        assert client.post(score_url, {name: "5"}).status_code in (302, 404)
    # The office names a 泸县 expert; the expert finds the round and cannot score yet.
    login(client, ow.office)
    client.post(reverse("oversight:evaluation_reviewers", args=[evaluation.pk]),
                {"reviewer": [ow.inspector.pk]})
    client.post(reverse("oversight:evaluation_advance", args=[evaluation.pk]))
    login(client, ow.inspector)
    assert page_url in client.get(reverse("oversight:reviews")).content.decode()
    page = client.get(page_url).content.decode()
    evidence_url = reverse("oversight:evaluation_evidence", args=[evaluation.pk, cited.pk])
    assert evidence_url in page and "建立了居家安宁疗护转介机制" in page
    assert client.get(evidence_url).status_code == 200
    assert f'name="score-{manual.pk}-a{ow.civil.pk}"' in page
    client.post(score_url, {f"score-{manual.pk}-a{ow.health.pk}": "8",
                            f"note-{manual.pk}-a{ow.health.pk}": "机制已建立，运行时间尚短"})
    assert evaluation.scores.get(subject=f"a{ow.health.pk}").review_score == 8
    # Another 泸县 expert, not named, sees nothing of the round.
    from shidian.orgs.models import Role
    from shidian.orgs.testing import make_user

    login(client, make_user("lx_expert2", role=Role.EXPERT, division_code="510521"))
    assert client.get(page_url).status_code == 404
    assert client.get(evidence_url).status_code == 404
    assert client.post(score_url, {f"score-{manual.pk}-a{ow.civil.pk}": "8",
                                   f"note-{manual.pk}-a{ow.civil.pk}": "x"}).status_code == 404
    assert evaluation.scores.get(subject=f"a{ow.civil.pk}").review_score is None


def test_rankings_and_briefings_pages(client, ow):
    login(client, ow.leader)
    page = client.get(reverse("oversight:rankings", args=[ow.plan.pk]), {
        "measure": "on_time_reports", "subjects": "agency", "period": "2021M06"}).content.decode()
    assert 'data-testid="ranking"' in page and "泸县财政局" in page
    assert 'data-testid="bulletin-from-ranking"' not in page  # leaders read, offices write
    bad = client.get(reverse("oversight:rankings", args=[ow.plan.pk]), {
        "measure": "on_time_reports", "subjects": "agency", "period": "2021X9"})
    assert bad.status_code == 200 and 'data-testid="ranking"' not in bad.content.decode()
    login(client, ow.office)
    client.post(reverse("oversight:briefing_new", args=[ow.plan.pk]), {"period": "2021M06"})
    issue = ow.plan.briefings.get()
    assert (issue.year, issue.number) == (2021, 1)
    response = client.get(reverse("oversight:briefing_docx", args=[issue.pk]))
    text = [p.text for p in Document(io.BytesIO(response.content)).paragraphs]
    assert text[1].startswith("2021年第1期")
    page = client.get(reverse("oversight:bulletins", args=[ow.plan.pk])).content.decode()
    assert "2021年第1期" in page


def test_the_start_page_counts_lights_in_a_fixed_number_of_queries(
        client, ow, django_assert_max_num_queries):
    from shidian.oversight import selectors
    from shidian.plans.testing import make_plan

    login(client, ow.leader)
    with django_assert_max_num_queries(12):
        page = client.get(reverse("oversight:index")).content.decode()
    counts = selectors.plan_lights(plan=ow.plan, today=date(2021, 7, 12)).counts
    assert counts == {"red": 1, "yellow": 0, "green": 2}
    assert selectors.plans_light_counts(plans=[ow.plan], today=date(2021, 7, 12))[
        ow.plan.pk] == counts
    assert f'data-plan="{ow.plan.pk}"' in page
    for n in range(5):
        make_plan(f"泸县第{n}个试点方案", "510521", tasks=[
            {"title": "任务", "leads": (ow.health,), "deadline": date(2021, 6, 1)}])
    with django_assert_max_num_queries(12):
        client.get(reverse("oversight:index"))
