"""The oversight part of the demo: what 泸县's hospice-care office would have after a season of
supervision.

- Escalation rules on the three plans that report (泸县, 吴中区, 武汉市); for its second year the
  泸县 office gives its tasks deadlines around today, so the lights show green (one only
  reminded), yellow (催办) and red (escalated), and the ladder's messages reach the inboxes.
- Two 督办 notices to the 县卫生健康局, both answered: one accepted and closed (销号), one waiting
  for the office's decision.
- An on-site inspection of the pilot hospital by the demo expert: two findings with photos,
  one rectified and closed (销号), one still open; the plan asks for two on-site inspections
  per site, so the site shows one missing.
- A scorecard (考核指标体系) and its 2022 annual round: self-assessment, two reviewers, final
  grades and ranks; a 通报 issued from it and a 工作简报 issue.
- The hospice programme's annual round (安宁疗护试点年度考核, this year) across its plans
  (甘肃省, 泸县, 杭州市), run by the national office ``demo_office``: the 县卫生健康局
  self-assesses, ``demo_expert`` and ``demo_leader`` score every unit, and the round is final
  with model sites (示范基地) named: the best unit, and the best of another plan's area; a
  draft 通报 of it waits to be issued.

Everything goes through the oversight services as the demo users. Safe to run twice: once the
泸县 plan has a notice, nothing is added again (only the tick runs, which is idempotent); once
the programme has its annual scorecard, its round is not added again.
"""
from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from datetime import datetime, time, timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from shidian.core.errors import ShidianError
from shidian.core.workdays import DayKind, deadline_after
from shidian.orgs.models import Agency, User
from shidian.oversight import scoring, services, tick
from shidian.oversight.models import Scorecard, ScoreRule, SubjectKind, SupervisionNotice
from shidian.plans.models import Plan, Task, UnitRole
from shidian.plans.services import plan_publish, task_update
from shidian.reporting.services import evidence_attach

LUXIAN = "05-luxian-hospice.txt"
REPORTING_PLANS = (LUXIAN, "12e-wuzhong-psych.txt", "12f-wuhan-psych.txt")


def _png() -> SimpleUploadedFile:
    """A one-pixel PNG standing in for a photo taken on site."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    raw = chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)) + chunk(
        b"IDAT", zlib.compress(b"\x00\x80\x80\x80")) + chunk(b"IEND", b"")
    return SimpleUploadedFile("现场照片.png", b"\x89PNG\r\n\x1a\n" + raw,
                              content_type="image/png")


def _pdf(name: str, text: str) -> SimpleUploadedFile:
    content = (f"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\n% {text}\ntrailer<<>>\n%%EOF\n"
               .encode())
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def _at(day, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))


def oversight_demo_load(*, log: Callable[[str], None] = print) -> None:
    plans = {p.source_name: p for p in Plan.objects.filter(source_name__in=REPORTING_PLANS,
                                                           version__gt=0)}
    luxian = plans.get(LUXIAN)
    office = User.objects.filter(username="demo_office_510521").first()
    if luxian is None or office is None:
        log("督办演示：未找到泸县安宁疗护方案，跳过")
        return
    if not SupervisionNotice.objects.filter(plan=luxian).exists():
        try:
            with transaction.atomic():
                _load(plans, luxian, office, log)
        except ShidianError as error:  # e.g. today lies past the installed holiday calendar
            log(f"督办演示未载入：{error.message}")
            return
    national = User.objects.filter(username="demo_office").first()
    if national is not None and not Scorecard.objects.filter(
            programme_id=luxian.programme_id, name=PROGRAMME_CARD).exists():
        try:
            with transaction.atomic():
                _programme_round(luxian, national, log)
        except ShidianError as error:
            log(f"年度考核演示未载入：{error.message}")
    result = tick.tick_run()
    log(f"督办演示：调度发送 {result.sent} 条消息")


PROGRAMME_CARD = "安宁疗护试点年度考核"


def _programme_round(luxian: Plan, office: User, log: Callable[[str], None]) -> None:
    """The programme's annual round across all its plans, final with two model sites."""
    today = timezone.localdate()
    liaison = User.objects.get(username="demo_liaison_510521_01")  # 县卫生健康局
    expert = User.objects.get(username="demo_expert")
    leader = User.objects.get(username="demo_leader")
    health = liaison.agencies.get()
    card = services.programme_scorecard_create(
        user=office, programme_id=luxian.programme_id, name=PROGRAMME_CARD,
        subject_kind=SubjectKind.AGENCY, model_site_from=92)
    for name, weight, rule, guidance in (
            ("按时报送工作进展", 10, ScoreRule.ON_TIME_REPORTS, ""),
            ("整改问题按期销号", 10, ScoreRule.RECTIFICATIONS_CLOSED, ""),
            ("安宁疗护服务能力和质量", 50, ScoreRule.MANUAL,
             "查看病区、服务台账和患者家属满意度，对照试点方案评分。"),
            ("示范带动和工作创新", 30, ScoreRule.MANUAL,
             "形成可复制推广经验并被省级以上推广的得满分。")):
        services.score_item_add(user=office, scorecard_id=card.pk, name=name, weight=weight,
                                rule=rule, guidance=guidance)
    evaluation = services.programme_round_open(user=office, scorecard_id=card.pk,
                                               year=today.year, today=today)
    quality, example = card.items.filter(rule=ScoreRule.MANUAL).order_by("order")
    services.scores_self_many(
        user=liaison, evaluation_id=evaluation.pk, agency_id=health.pk,
        entries=[(quality.pk, 48, "建成安宁疗护病区3个，服务患者186人。"),
                 (example.pk, 28, "“医院—社区—居家”转介机制被省卫生健康委推广。")])
    services.evaluation_reviewers_set(user=office, evaluation_id=evaluation.pk,
                                      user_ids=[expert.pk, leader.pk])
    services.evaluation_advance(user=office, evaluation_id=evaluation.pk, today=today)
    subjects = sorted({s for s in evaluation.scores.values_list("subject", flat=True)})
    names = dict(Agency.objects.filter(pk__in=[int(s[1:]) for s in subjects])
                 .values_list("pk", "name"))
    for subject in subjects:
        # The same marks every time: the 县卫生健康局 best, the others spread by their id.
        spread = int(subject[1:]) % 7
        if names.get(int(subject[1:])) == "县卫生健康局":
            marks = ((48, 47), (29, 28))
        elif spread == 0:
            marks = ((47, 46), (28, 28))
        else:
            marks = ((44 - 3 * spread, 42 - 3 * spread), (26 - 2 * spread, 27 - 2 * spread))
        for item, (by_expert, by_leader) in zip((quality, example), marks, strict=True):
            services.score_review(user=expert, evaluation_id=evaluation.pk, item_id=item.pk,
                                  subject=subject, score=by_expert, note="查阅自评材料和台账")
            services.score_review(user=leader, evaluation_id=evaluation.pk, item_id=item.pk,
                                  subject=subject, score=by_leader, note="结合日常督导情况")
    # The best unit at the model-site line, and the best of another plan's area.
    best, areas = [], set()
    for row in scoring.results(evaluation=evaluation, subjects=scoring.subjects_of(card)):
        if scoring.may_be_model_site(row, card) and row.subject.code not in areas:
            best.append(row.subject.agency.pk)
            areas.add(row.subject.code)
    best = best[:2]
    services.evaluation_advance(user=office, evaluation_id=evaluation.pk, today=today,
                                model_site_ids=best)
    services.programme_bulletin_create(user=office, evaluation_id=evaluation.pk,
                                       red_count=3, black_count=3)
    log(f"督办演示：安宁疗护试点{today.year}年度考核（{len(subjects)} 个单位、"
        f"示范基地 {len(best)} 个）")


def _load(plans: dict[str, Plan], luxian: Plan, office: User,
          log: Callable[[str], None]) -> None:
    today = timezone.localdate()
    liaison = User.objects.get(username="demo_liaison_510521_01")  # 县卫生健康局
    pilot_user = User.objects.get(username="demo_pilot")            # 泸县人民医院
    expert = User.objects.get(username="demo_expert")
    leader = User.objects.get(username="demo_leader")
    health = liaison.agencies.get()
    hospital = pilot_user.agencies.get()

    # -- rules and lights ----------------------------------------------------------------------
    for source, plan in plans.items():
        plan_office = User.objects.filter(username=f"demo_office_{plan.division_id}").first()
        if plan_office is None:
            continue
        services.rule_set(user=plan_office, plan_id=plan.pk, data=services.RuleInput(
            remind_days=3, escalate_days=5, reply_days=5,
            min_onsite_inspections=2 if source == LUXIAN else 0))
    # The second year: the office gives the tasks the 县卫生健康局 leads deadlines around today.
    led = list(Task.objects.filter(plan=luxian, units__role=UnitRole.LEAD,
                                   units__agency=health).distinct().order_by("order"))
    schedule = [
        today - timedelta(days=30),                        # red: escalated
        today - timedelta(days=21),                        # red
        today - timedelta(days=2),                         # yellow: 催办
        deadline_after(today, 2, DayKind.WORKING),         # green, reminded
        deadline_after(today, 10, DayKind.WORKING),        # green
    ]
    for task, deadline in zip(led, schedule, strict=False):
        task_update(user=office, task=task, data={"deadline": deadline})
    plan_publish(user=office, plan=luxian, note="巩固提升阶段：明确各项任务完成时限",
                 accept_unresolved=True)
    red = led[:2]
    log(f"督办演示：{min(len(led), len(schedule))} 项任务定了完成时限（红灯、黄灯、绿灯）")

    # -- 督办 notices ---------------------------------------------------------------------------
    first = services.notice_issue(
        user=office, plan_id=luxian.pk, agency_id=health.pk, task_ids=[red[0].pk],
        title=f"关于加快推进“{red[0].title[:20]}”工作的督办通知",
        body="你单位牵头的上述任务已超过完成时限，请立即采取有效措施，加快推进，"
             "并于回复期限前书面报告整改措施和完成时间。",
        now=_at(today - timedelta(days=20)))
    services.notice_reply(user=liaison, notice_id=first.pk,
                          measures="一、成立工作专班，每周调度一次；\n二、已完成方案起草，"
                                   "提交县政府常务会审议。",
                          done_by=today + timedelta(days=20),
                          now=_at(today - timedelta(days=16)))
    services.notice_accept(user=office, notice_id=first.pk, note="措施具体，同意销号。",
                           now=_at(today - timedelta(days=14)))
    second = services.notice_issue(
        user=office, plan_id=luxian.pk, agency_id=health.pk, task_ids=[red[1].pk],
        title=f"关于加快推进“{red[1].title[:20]}”工作的督办通知",
        body="你单位牵头的上述任务进度滞后，请认真研究，限期整改，按时回复。",
        now=_at(today - timedelta(days=6)))
    services.notice_reply(user=liaison, notice_id=second.pk,
                          measures="已召开专题会议研究，明确分管领导牵头，月底前完成。",
                          done_by=today + timedelta(days=30),
                          now=_at(today - timedelta(days=1)))
    log("督办演示：督办通知 2 份（1 份已办结，1 份待审核回复）")

    # -- an inspection and its rectification ---------------------------------------------------
    starts = today - timedelta(days=10)
    inspection = services.round_create(
        user=office, plan_id=luxian.pk, name="安宁疗护试点第一轮实地督导", starts_on=starts,
        ends_on=today + timedelta(days=20), member_ids=[expert.pk], leader_id=expert.pk)
    visit = services.visit_add(user=office, round_id=inspection.pk, site_id=hospital.pk,
                               planned_on=starts + timedelta(days=1))
    services.visit_record(user=expert, visit_id=visit.pk, visited_on=starts + timedelta(days=1),
                          on_site=True, summary="查看病区、查阅台账、座谈了解试点推进情况。",
                          today=today)
    findings = [
        ("安宁疗护病区未设置家属陪护室和告别室。", "serious", "改造病区，增设陪护室和告别室。",
         today + timedelta(days=1)),
        ("安宁疗护服务台账记录不完整，缺少疼痛评估记录。", "general",
         "完善服务台账，补齐疼痛评估记录，建立月度自查制度。", today + timedelta(days=45)),
    ]
    items = []
    for description, severity, measures, deadline in findings:
        items.append(services.finding_record(
            user=expert, visit_id=visit.pk, photos=[_png()],
            now=_at(starts + timedelta(days=1), 16),
            data=services.FindingInput(description=description, severity=severity,
                                       owner_id=None, measures=measures, deadline=deadline)))
    proof = evidence_attach(user=pilot_user, agency_id=hospital.pk,
                            upload=_pdf("陪护室改造验收记录.pdf", "rectified"))
    services.rectification_submit(user=pilot_user, rectification_id=items[0].pk,
                                  note="已完成病区改造，增设陪护室1间、告别室1间。",
                                  evidence_ids=[proof.pk], now=_at(today - timedelta(days=3)))
    services.rectification_verify(user=expert, rectification_id=items[0].pk, accept=True,
                                  now=_at(today - timedelta(days=2)))
    log("督办演示：实地督导 1 轮，发现问题 2 个（1 个已销号，1 个整改中）")

    # -- a scorecard, its annual round, a bulletin and a briefing ------------------------------
    card = services.scorecard_create(user=office, plan_id=luxian.pk,
                                     name="泸县安宁疗护试点工作年度考核",
                                     subject_kind=SubjectKind.AGENCY)
    for name, weight, rule, guidance in (
            ("按时报送工作进展", 10, ScoreRule.ON_TIME_REPORTS, ""),
            ("整改问题按期销号", 10, ScoreRule.RECTIFICATIONS_CLOSED, ""),
            ("工作创新和示范带动", 50, ScoreRule.MANUAL,
             "有创新做法并在全县推广的得满分；有做法未推广的酌情扣分；无创新做法的不得分。"),
            ("牵头任务完成质量", 40, ScoreRule.MANUAL,
             "对照方案要求，查阅台账、听取汇报、实地查看后评分。")):
        services.score_item_add(user=office, scorecard_id=card.pk, name=name, weight=weight,
                                rule=rule, guidance=guidance)
    evaluation = services.evaluation_open(user=office, scorecard_id=card.pk, period="2022",
                                          today=today)
    innovation, quality = card.items.filter(rule=ScoreRule.MANUAL).order_by("order")
    services.scores_self_many(
        user=liaison, evaluation_id=evaluation.pk, agency_id=health.pk,
        entries=[(innovation.pk, 48, "建立“医院—社区—居家”安宁疗护转介机制，在全县推广。"),
                 (quality.pk, 38, "牵头任务均已启动，基线调查和队伍建设按期推进。")],
        uploads={str(innovation.pk): [_pdf("安宁疗护转介机制.pdf", "innovation")]})
    services.evaluation_reviewers_set(user=office, evaluation_id=evaluation.pk,
                                      user_ids=[expert.pk, leader.pk])
    services.evaluation_advance(user=office, evaluation_id=evaluation.pk, today=today)
    # The expert's and the leader's marks (innovation, quality) for each unit, by name.
    marks = {"县卫生健康局": ((48, 46), (38, 38)), "县民政局": ((40, 36), (32, 30)),
             "县委宣传部": ((30, 34), (28, 30)), "县人力资源社会保障局": ((28, 30), (26, 28)),
             "县医疗保障局": ((25, 27), (24, 26))}
    names = dict(Agency.objects.filter(
        pk__in=[int(s[1:]) for s in evaluation.scores.values_list("subject", flat=True)]
    ).values_list("pk", "name"))
    for subject in sorted({s for s in evaluation.scores.values_list("subject", flat=True)}):
        pair = marks.get(names.get(int(subject[1:]), ""), ((20, 24), (22, 24)))
        for item, (by_expert, by_leader) in zip((innovation, quality), pair, strict=True):
            services.score_review(user=expert, evaluation_id=evaluation.pk, item_id=item.pk,
                                  subject=subject, score=by_expert,
                                  note="查阅自评材料和工作台账")
            services.score_review(user=leader, evaluation_id=evaluation.pk, item_id=item.pk,
                                  subject=subject, score=by_leader,
                                  note="听取汇报，结合日常掌握情况")
    services.evaluation_advance(user=office, evaluation_id=evaluation.pk, today=today)
    bulletin = services.bulletin_create(user=office, plan_id=luxian.pk,
                                        evaluation_id=evaluation.pk, red_count=1, black_count=2,
                                        today=today)
    services.bulletin_issue(user=office, bulletin_id=bulletin.pk)
    services.briefing_issue(user=office, plan_id=luxian.pk, period="2022M12")
    log("督办演示：考核 1 轮（2 名评审人）、通报 1 份、工作简报 1 期")

