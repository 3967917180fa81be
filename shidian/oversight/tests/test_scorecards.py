"""Scorecards: measures from the data the system has, weighted scores, self-assessment then
reviewers, totals, grades and competition ranks with ties, change since the previous round;
rankings by one measure; 通报 (red and black lists, the office's wording, a number on issue)
and the 工作简报 series, read back from Word."""
from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from docx import Document

from shidian.core.errors import ErrorCode, ShidianError
from shidian.core.periods import parse_period
from shidian.exports import notices as docs
from shidian.oversight import scoring, selectors, services
from shidian.oversight.models import EvaluationStatus, ScoreRule, SubjectKind
from shidian.oversight.testing import make_oversight_world
from shidian.plans.models import TaskStatus
from shidian.reporting.services import ReportInput, report_submit
from shidian.reporting.testing import at

pytestmark = pytest.mark.django_db

TODAY = date(2021, 7, 15)


@pytest.fixture
def ow(db):
    return make_oversight_world()


def report(ow, user, task, agency, period, day, **data):
    report_submit(user=user, task_id=task.pk, agency_id=agency.pk, period=period,
                  data=ReportInput(**{"percent": 50, **data}), now=at(day))


@pytest.fixture
def q2(ow):
    """The second quarter of 2021 as the units reported it.

    - 卫生健康局 (leads tasks 1 and 2): April both on time; May task 1 on time, task 2 late
      (28 May); June task 1 late (28 June, reporting it completed that day), task 2 missing:
      3 of 6 on time. Task 1 (due 30 June) completed on 28 June: 1 of 1 on time.
    - 民政局 (task 1 responsible, leads task 3): all six on time; leads no task due in Q2.
    - 财政局 (task 2 responsible): reported nothing: 0 of 3.
    """
    t1, t2, t3 = ow.tasks
    for month in ("04", "05", "06"):
        day = date(2021, int(month), 20)
        report(ow, ow.liaison_civil, t1, ow.civil, f"2021M{month}", day)
        report(ow, ow.liaison_civil, t3, ow.civil, f"2021M{month}", day)
    report(ow, ow.liaison_health, t1, ow.health, "2021M04", date(2021, 4, 20))
    report(ow, ow.liaison_health, t2, ow.health, "2021M04", date(2021, 4, 20))
    report(ow, ow.liaison_health, t1, ow.health, "2021M05", date(2021, 5, 20))
    report(ow, ow.liaison_health, t2, ow.health, "2021M05", date(2021, 5, 28))
    report(ow, ow.liaison_health, t1, ow.health, "2021M06", date(2021, 6, 28),
           task_status=TaskStatus.COMPLETED, percent=100)
    scorecard = services.scorecard_create(user=ow.office, plan_id=ow.plan.pk,
                                          name="泸县安宁疗护试点工作考核", subject_kind="agency")
    services.score_item_add(user=ow.office, scorecard_id=scorecard.pk, name="按时报送进展",
                            weight=30, rule=ScoreRule.ON_TIME_REPORTS)
    services.score_item_add(user=ow.office, scorecard_id=scorecard.pk, name="任务按期完成",
                            weight=40, rule=ScoreRule.TASKS_ON_TIME)
    services.score_item_add(user=ow.office, scorecard_id=scorecard.pk, name="工作创新",
                            weight=30, rule=ScoreRule.MANUAL,
                            guidance="有创新做法并被推广的得满分")
    return scorecard


def manual_item(scorecard):
    return scorecard.items.get(rule=ScoreRule.MANUAL)


def run_round(ow, scorecard, period, self_scores, review_scores, today=TODAY):
    evaluation = services.evaluation_open(user=ow.office, scorecard_id=scorecard.pk,
                                          period=period, today=today)
    item = manual_item(scorecard)
    liaisons = {ow.health: ow.liaison_health, ow.civil: ow.liaison_civil,
                ow.finance: ow.liaison_finance}
    for agency, value in self_scores.items():
        services.score_self(user=liaisons[agency], evaluation_id=evaluation.pk,
                            item_id=item.pk, agency_id=agency.pk, score=value, note="自评")
    services.evaluation_advance(user=ow.office, evaluation_id=evaluation.pk, today=today)
    for agency, value in review_scores.items():
        services.score_review(user=ow.office, evaluation_id=evaluation.pk, item_id=item.pk,
                              subject=f"a{agency.pk}", score=value, note="评审")
    services.evaluation_advance(user=ow.office, evaluation_id=evaluation.pk, today=today)
    evaluation.refresh_from_db()
    return evaluation


def test_the_measures_come_from_reports_tasks_and_rectifications(ow, q2):
    subjects = scoring.subjects_of(q2)
    assert [s.name for s in subjects] == sorted(["泸县卫生健康局", "泸县民政局", "泸县财政局"])
    found = scoring.measures(plan=ow.plan, subjects=subjects, period=parse_period("2021Q2"),
                             today=TODAY)
    key = {s.agency: s.key for s in subjects}
    assert found[(ScoreRule.ON_TIME_REPORTS, key[ow.health])].value == 0.5
    assert found[(ScoreRule.ON_TIME_REPORTS, key[ow.civil])].value == 1.0
    assert found[(ScoreRule.ON_TIME_REPORTS, key[ow.finance])].value == 0.0
    assert found[(ScoreRule.TASKS_ON_TIME, key[ow.health])].value == 1.0
    # Nothing the civil affairs bureau leads fell due in the quarter: no measure.
    assert found[(ScoreRule.TASKS_ON_TIME, key[ow.civil])].value is None
    assert found[(ScoreRule.RECTIFICATIONS_CLOSED, key[ow.health])].value is None


def test_reports_on_time_count_every_cycle_of_the_plan(ow, q2):
    """A further cycle (a half-yearly summary beside the monthly reports) is owed too: with
    none of its reports in, each unit's on-time share falls by its share of the duties."""
    from shidian.reporting.models import ExtraCycle

    subjects = scoring.subjects_of(q2)
    key = {s.agency: s.key for s in subjects}
    before = scoring.measures(plan=ow.plan, subjects=subjects,
                              period=parse_period("2021"), today=date(2021, 12, 31))
    ExtraCycle.objects.create(plan=ow.plan, key="summary", label="半年总结",
                              kind="half_yearly", due_day=10, grace_days=10,
                              starts_on=date(2021, 1, 1))
    after = scoring.measures(plan=ow.plan, subjects=subjects,
                             period=parse_period("2021"), today=date(2021, 12, 31))
    health_before = before[(ScoreRule.ON_TIME_REPORTS, key[ow.health])]
    health_after = after[(ScoreRule.ON_TIME_REPORTS, key[ow.health])]
    assert health_after.expected > health_before.expected
    assert health_after.done == health_before.done
    assert health_after.value < health_before.value


def test_scores_totals_grades_and_ranks(ow, q2):
    evaluation = run_round(ow, q2, "2021Q2",
                           {ow.health: 28, ow.civil: 29, ow.finance: 20},
                           {ow.health: 24, ow.civil: 27, ow.finance: 18})
    assert evaluation.status == EvaluationStatus.FINAL
    rows = {r.subject.agency: r for r in scoring.results(evaluation=evaluation,
                                                         subjects=scoring.subjects_of(q2))}
    # 卫生健康局: 30 × 0.5 + 40 × 1 + 24 = 79 of 100 → 合格 (pass from 60, good from 80).
    health = rows[ow.health]
    assert (health.total, health.possible, health.percent) == (Decimal("79.00"), 100, 79.0)
    assert health.grade == scoring.Grade.PASS
    # 民政局: 30 + (no task due: left out) + 27 = 57 of 60 → 95% → 优秀.
    civil = rows[ow.civil]
    assert (civil.total, civil.possible, civil.percent) == (Decimal("57.00"), 60, 95.0)
    assert civil.grade == scoring.Grade.EXCELLENT
    # 财政局: 0 + 18 of 60 → 30% → 不合格.
    assert (rows[ow.finance].percent, rows[ow.finance].grade) == (30.0, scoring.Grade.FAIL)
    assert [(r.subject.agency, r.rank) for r in sorted(rows.values(), key=lambda r: r.rank)] \
        == [(ow.civil, 1), (ow.health, 2), (ow.finance, 3)]


def test_equal_totals_share_a_rank():
    assert scoring.competition_ranks([95.0, 79.0, 79.0, 30.0]) == [1, 2, 2, 4]
    assert scoring.competition_ranks([50.0, 50.0]) == [1, 1]


def test_the_change_of_rank_since_the_previous_round(ow, q2):
    # In the first quarter nobody reported on time and no task fell due: only the manual
    # item counts, and the health bureau led.
    run_round(ow, q2, "2021Q1", {}, {ow.health: 30, ow.civil: 10, ow.finance: 20})
    second = run_round(ow, q2, "2021Q2", {}, {ow.health: 24, ow.civil: 27, ow.finance: 18})
    ranking = selectors.evaluation_ranking(evaluation=second)
    assert ranking.previous_period == parse_period("2021Q1")
    by_name = {r.name: (r.rank, r.previous_rank, r.change) for r in ranking.rows}
    assert by_name["泸县民政局"] == (1, 3, 2)
    assert by_name["泸县卫生健康局"] == (2, 1, -1)
    assert by_name["泸县财政局"] == (3, 2, -1)


def test_the_stages_guard_who_scores_when(ow, q2):
    evaluation = services.evaluation_open(user=ow.office, scorecard_id=q2.pk, period="2021Q2",
                                          today=TODAY)
    item = manual_item(q2)
    # A unit scores only itself, only up to the item's points, only at self-assessment.
    with pytest.raises(ShidianError) as caught:
        services.score_self(user=ow.liaison_health, evaluation_id=evaluation.pk,
                            item_id=item.pk, agency_id=ow.civil.pk, score=30)
    assert caught.value.code == ErrorCode.NOT_FOUND
    with pytest.raises(ShidianError) as caught:
        services.score_self(user=ow.liaison_health, evaluation_id=evaluation.pk,
                            item_id=item.pk, agency_id=ow.health.pk, score=31)
    assert caught.value.code == ErrorCode.INVALID
    with pytest.raises(ShidianError) as caught:  # reviewers wait for their stage
        services.score_review(user=ow.office, evaluation_id=evaluation.pk, item_id=item.pk,
                              subject=f"a{ow.health.pk}", score=20, note="评审")
    assert caught.value.code == ErrorCode.LOCKED
    services.evaluation_advance(user=ow.office, evaluation_id=evaluation.pk, today=TODAY)
    with pytest.raises(ShidianError) as caught:
        services.score_self(user=ow.liaison_health, evaluation_id=evaluation.pk,
                            item_id=item.pk, agency_id=ow.health.pk, score=20)
    assert caught.value.code == ErrorCode.LOCKED
    # Final only once every hand-scored item has its reviewer's score.
    with pytest.raises(ShidianError) as caught:
        services.evaluation_advance(user=ow.office, evaluation_id=evaluation.pk, today=TODAY)
    assert "3" in caught.value.message
    for agency in (ow.health, ow.civil, ow.finance):
        services.score_review(user=ow.office, evaluation_id=evaluation.pk, item_id=item.pk,
                              subject=f"a{agency.pk}", score=20, note="评审")
    services.evaluation_advance(user=ow.office, evaluation_id=evaluation.pk, today=TODAY)
    # A final round's scorecard no longer changes; a second round of a period is refused.
    with pytest.raises(ShidianError) as caught:
        services.score_item_add(user=ow.office, scorecard_id=q2.pk, name="新增", weight=10,
                                rule=ScoreRule.MANUAL)
    assert caught.value.code == ErrorCode.LOCKED
    with pytest.raises(ShidianError) as caught:
        services.evaluation_open(user=ow.office, scorecard_id=q2.pk, period="2021Q2",
                                 today=TODAY)
    assert caught.value.code == ErrorCode.DUPLICATE


def test_other_offices_and_leaders_cannot_run_a_round(ow, q2):
    for user in (ow.office_other, ow.leader, ow.liaison_health):
        with pytest.raises(ShidianError) as caught:
            services.evaluation_open(user=user, scorecard_id=q2.pk, period="2021Q2")
        assert caught.value.code == ErrorCode.NOT_FOUND


def test_grade_lines_are_configurable_and_checked(ow):
    with pytest.raises(ShidianError):
        services.scorecard_create(user=ow.office, plan_id=ow.plan.pk, name="考核",
                                  subject_kind="agency", excellent_from=80, good_from=85)
    card = services.scorecard_create(user=ow.office, plan_id=ow.plan.pk, name="考核",
                                     subject_kind="agency", excellent_from=95, good_from=85,
                                     pass_from=70)
    assert scoring.grade_of(94.99, card) == scoring.Grade.GOOD
    assert scoring.grade_of(95, card) == scoring.Grade.EXCELLENT
    assert scoring.grade_of(69.9, card) == scoring.Grade.FAIL


# -- reviewers named by the office ----------------------------------------------------------
def in_review(ow, scorecard, reviewers):
    evaluation = services.evaluation_open(user=ow.office, scorecard_id=scorecard.pk,
                                          period="2021Q2", today=TODAY)
    services.evaluation_reviewers_set(user=ow.office, evaluation_id=evaluation.pk,
                                      user_ids=[u.pk for u in reviewers])
    services.evaluation_advance(user=ow.office, evaluation_id=evaluation.pk, today=TODAY)
    return evaluation


def review(user, evaluation, item, agency, value, note="依据自评材料和现场查看"):
    return services.score_review(user=user, evaluation_id=evaluation.pk, item_id=item.pk,
                                 subject=f"a{agency.pk}", score=value, note=note)


def test_named_reviewers_score_by_hand_and_their_scores_are_averaged(ow, q2):
    """An expert and the 民政局's leader review the round; the leader stays out of the
    民政局's own row; each row's reviewer score is the mean of the reviewers' scores."""
    from shidian.oversight.models import Message

    evaluation = in_review(ow, q2, [ow.inspector, ow.leader_civil])
    # Both were told, in their inbox, with a link to the round.
    told = Message.objects.filter(kind="review", channel="inbox")
    assert sorted(m.recipient.username for m in told) == ["lx_expert", "lx_mzj_leader"]
    item = manual_item(q2)
    for agency, value in ((ow.health, 24), (ow.civil, 27), (ow.finance, 18)):
        review(ow.inspector, evaluation, item, agency, value)
    with pytest.raises(ShidianError) as caught:
        review(ow.leader_civil, evaluation, item, ow.civil, 30)
    assert caught.value.code == ErrorCode.FORBIDDEN
    review(ow.leader_civil, evaluation, item, ow.health, 20)
    # The round waits for the leader's last row, and says who is missing.
    with pytest.raises(ShidianError) as caught:
        services.evaluation_advance(user=ow.office, evaluation_id=evaluation.pk, today=TODAY)
    assert "lx_mzj_leader" in caught.value.message
    review(ow.leader_civil, evaluation, item, ow.finance, 15)
    # A reviewer may change their score until the round is final; the mean follows.
    review(ow.leader_civil, evaluation, item, ow.finance, 16)
    services.evaluation_advance(user=ow.office, evaluation_id=evaluation.pk, today=TODAY)
    evaluation.refresh_from_db()
    rows = {r.subject.agency: r for r in scoring.results(evaluation=evaluation,
                                                         subjects=scoring.subjects_of(q2))}
    # 卫生健康局: (24 + 20) / 2 = 22; 30 × 0.5 + 40 × 1 + 22 = 77 of 100.
    assert rows[ow.health].items[2].review_score == Decimal("22.00")
    assert rows[ow.health].total == Decimal("77.00")
    # 民政局: the expert alone, 27; 财政局: (18 + 16) / 2 = 17.
    assert rows[ow.civil].items[2].review_score == Decimal("27.00")
    assert rows[ow.finance].items[2].review_score == Decimal("17.00")
    # Once final, nobody scores any more.
    with pytest.raises(ShidianError) as caught:
        review(ow.inspector, evaluation, item, ow.health, 30)
    assert caught.value.code == ErrorCode.LOCKED


def test_who_may_and_may_not_score_as_a_reviewer(ow, q2):
    from shidian.orgs.models import Role
    from shidian.orgs.testing import make_user

    unnamed = make_user("lx_expert2", role=Role.EXPERT, division_code="510521")
    evaluation = services.evaluation_open(user=ow.office, scorecard_id=q2.pk, period="2021Q2",
                                          today=TODAY)
    item = manual_item(q2)
    # Only experts, leaders and office staff of the plan's area can be named.
    for outsider in (ow.other_inspector, ow.liaison_health):
        with pytest.raises(ShidianError) as caught:
            services.evaluation_reviewers_set(user=ow.office, evaluation_id=evaluation.pk,
                                              user_ids=[ow.inspector.pk, outsider.pk])
        assert caught.value.code == ErrorCode.INVALID
    assert not evaluation.reviewers.exists()
    services.evaluation_reviewers_set(user=ow.office, evaluation_id=evaluation.pk,
                                      user_ids=[ow.inspector.pk])
    # Naming a reviewer is in the audit trail (the request sets its actor).
    from auditlog.models import LogEntry

    named = evaluation.reviewers.get()
    entry = LogEntry.objects.get_for_object(named).get()
    assert entry.action == LogEntry.Action.CREATE
    # Nobody else names reviewers: not another county's office, not the reviewer.
    for user in (ow.office_other, ow.inspector, ow.leader):
        with pytest.raises(ShidianError) as caught:
            services.evaluation_reviewers_set(user=user, evaluation_id=evaluation.pk,
                                              user_ids=[unnamed.pk])
        assert caught.value.code == ErrorCode.NOT_FOUND
    # A named reviewer waits for reviewer scoring.
    with pytest.raises(ShidianError) as caught:
        review(ow.inspector, evaluation, item, ow.health, 20)
    assert caught.value.code == ErrorCode.LOCKED
    services.evaluation_advance(user=ow.office, evaluation_id=evaluation.pk, today=TODAY)
    # Not named, another county's expert or office, a liaison, a leader not named: not found.
    for user in (unnamed, ow.other_inspector, ow.office_other, ow.liaison_health, ow.leader):
        with pytest.raises(ShidianError) as caught:
            review(user, evaluation, item, ow.health, 20)
        assert caught.value.code == ErrorCode.NOT_FOUND, user.username
    # A score needs its basis and stays within the item's points.
    with pytest.raises(ShidianError) as caught:
        review(ow.inspector, evaluation, item, ow.health, 20, note=" ")
    assert caught.value.code == ErrorCode.INVALID and "评分依据" in caught.value.message
    with pytest.raises(ShidianError) as caught:
        review(ow.inspector, evaluation, item, ow.health, 31)
    assert caught.value.code == ErrorCode.INVALID
    assert not evaluation.scores.filter(review_score__isnull=False).exists()
    # A reviewer who has scored stays one; one who has not can be taken off.
    review(ow.inspector, evaluation, item, ow.health, 20)
    with pytest.raises(ShidianError) as caught:
        services.evaluation_reviewers_set(user=ow.office, evaluation_id=evaluation.pk,
                                          user_ids=[unnamed.pk])
    assert caught.value.code == ErrorCode.CONFLICT
    services.evaluation_reviewers_set(user=ow.office, evaluation_id=evaluation.pk,
                                      user_ids=[ow.inspector.pk, unnamed.pk])
    services.evaluation_reviewers_set(user=ow.office, evaluation_id=evaluation.pk,
                                      user_ids=[ow.inspector.pk])
    assert [r.user for r in evaluation.reviewers.all()] == [ow.inspector]


def test_a_reviewer_cites_only_the_self_assessments_evidence(ow, q2):
    from shidian.reporting.services import evidence_attach
    from shidian.reporting.testing import pdf_bytes, upload

    evaluation = services.evaluation_open(user=ow.office, scorecard_id=q2.pk, period="2021Q2",
                                          today=TODAY)
    item = manual_item(q2)
    own = evidence_attach(user=ow.liaison_health, agency_id=ow.health.pk,
                          upload=upload("创新做法.pdf", pdf_bytes("innovation")))
    other = evidence_attach(user=ow.liaison_civil, agency_id=ow.civil.pk,
                            upload=upload("台账.pdf", pdf_bytes("ledger")))
    services.score_self(user=ow.liaison_health, evaluation_id=evaluation.pk, item_id=item.pk,
                        agency_id=ow.health.pk, score=28, note="自评",
                        evidence_ids=[own.pk])
    services.evaluation_reviewers_set(user=ow.office, evaluation_id=evaluation.pk,
                                      user_ids=[ow.inspector.pk])
    services.evaluation_advance(user=ow.office, evaluation_id=evaluation.pk, today=TODAY)
    with pytest.raises(ShidianError) as caught:
        services.score_review(user=ow.inspector, evaluation_id=evaluation.pk, item_id=item.pk,
                              subject=f"a{ow.health.pk}", score=25, note="依据材料",
                              evidence_ids=[other.pk])
    assert caught.value.code == ErrorCode.INVALID
    row = services.score_review(user=ow.inspector, evaluation_id=evaluation.pk,
                                item_id=item.pk, subject=f"a{ow.health.pk}", score=25,
                                note="依据创新做法材料", evidence_ids=[own.pk])
    assert list(row.reviews.get().evidence.all()) == [own]


def reviewed(ow, scorecard, review_scores):
    """A 2021Q2 round at reviewer scoring with the office's scores of the hand-scored item."""
    evaluation = services.evaluation_open(user=ow.office, scorecard_id=scorecard.pk,
                                          period="2021Q2", today=TODAY)
    services.evaluation_advance(user=ow.office, evaluation_id=evaluation.pk, today=TODAY)
    for agency, value in review_scores.items():
        services.score_review(user=ow.office, evaluation_id=evaluation.pk,
                              item_id=manual_item(scorecard).pk, subject=f"a{agency.pk}",
                              score=value, note="评审")
    return evaluation


def test_a_plan_round_names_its_model_sites_as_it_is_finalised_then_is_frozen(ow, q2):
    """As a programme's annual round: model sites (示范基地) only from the excellent and only
    at finalisation; after that nothing in the round changes, model sites included."""
    evaluation = reviewed(ow, q2, {ow.health: 24, ow.civil: 27, ow.finance: 18})
    with pytest.raises(ShidianError) as caught:  # 卫生健康局 79%: not excellent
        services.evaluation_advance(user=ow.office, evaluation_id=evaluation.pk, today=TODAY,
                                    model_site_ids=[ow.health.pk])
    assert caught.value.code == ErrorCode.INVALID and "泸县卫生健康局" in caught.value.message
    evaluation.refresh_from_db()
    assert evaluation.status == EvaluationStatus.REVIEW and not evaluation.model_sites.exists()

    services.evaluation_advance(user=ow.office, evaluation_id=evaluation.pk, today=TODAY,
                                model_site_ids=[ow.civil.pk])
    evaluation.refresh_from_db()
    assert evaluation.status == EvaluationStatus.FINAL
    assert list(evaluation.model_sites.all()) == [ow.civil]

    item = manual_item(q2)
    frozen = [
        lambda: services.evaluation_advance(user=ow.office, evaluation_id=evaluation.pk,
                                            today=TODAY, model_site_ids=[ow.civil.pk]),
        lambda: services.evaluation_advance(user=ow.office, evaluation_id=evaluation.pk,
                                            today=TODAY),
        lambda: services.evaluation_refresh(user=ow.office, evaluation_id=evaluation.pk,
                                            today=TODAY),
        lambda: services.score_review(user=ow.office, evaluation_id=evaluation.pk,
                                      item_id=item.pk, subject=f"a{ow.finance.pk}", score=30,
                                      note="改分"),
        lambda: services.score_self(user=ow.liaison_finance, evaluation_id=evaluation.pk,
                                    item_id=item.pk, agency_id=ow.finance.pk, score=30),
        lambda: services.evaluation_reviewers_set(user=ow.office, evaluation_id=evaluation.pk,
                                                  user_ids=[ow.inspector.pk]),
        lambda: services.score_item_add(user=ow.office, scorecard_id=q2.pk, name="新增",
                                        weight=10, rule=ScoreRule.MANUAL),
    ]
    for change in frozen:
        with pytest.raises(ShidianError) as caught:
            change()
        assert caught.value.code == ErrorCode.LOCKED, caught.value.message
    assert list(evaluation.model_sites.all()) == [ow.civil]
    assert evaluation.scores.get(item=item, subject=f"a{ow.finance.pk}").review_score == 18


def test_the_plan_rounds_page_names_model_sites_at_finalisation_only(ow, q2, client):
    from django.urls import reverse

    evaluation = reviewed(ow, q2, {ow.health: 24, ow.civil: 27, ow.finance: 18})
    client.force_login(ow.office)
    page_url = reverse("oversight:evaluation", args=[evaluation.pk])
    advance = reverse("oversight:evaluation_advance", args=[evaluation.pk])
    page = client.get(page_url).content.decode()
    assert f'name="agency" value="{ow.civil.pk}"' in page  # the excellent unit only
    assert f'name="agency" value="{ow.health.pk}"' not in page
    client.post(advance, {"agency": [ow.civil.pk]})
    assert list(evaluation.model_sites.all()) == [ow.civil]
    page = client.get(page_url).content.decode()
    assert "得分和示范基地不再改变" in page and 'name="agency"' not in page
    assert f'data-model-site="{ow.civil.pk}"' in page
    # Naming again (here: none) is refused and changes nothing.
    response = client.post(advance, {"action": "model_sites"}, follow=True)
    assert "该轮考核已定档" in response.content.decode()
    assert list(evaluation.model_sites.all()) == [ow.civil]


def test_the_api_finalises_a_plan_round_with_its_model_sites_then_answers_locked(ow, q2):
    from rest_framework.test import APIClient

    evaluation = services.evaluation_open(user=ow.office, scorecard_id=q2.pk,
                                          period="2021Q2", today=TODAY)
    office = APIClient()
    office.force_authenticate(ow.office)
    url = f"/api/oversight/evaluations/{evaluation.pk}/"
    assert office.post(f"{url}finalise/", {}, format="json").status_code == 409
    assert office.post(f"{url}advance/").json()["status"] == "review"
    entries = [{"item": manual_item(q2).pk, "subject": f"a{agency.pk}", "score": value,
                "basis": "查阅台账"}
               for agency, value in ((ow.health, "24"), (ow.civil, "27"), (ow.finance, "18"))]
    assert office.post(f"{url}review/", {"scores": entries}, format="json").status_code == 200
    refused = office.post(f"{url}finalise/", {"model_sites": [ow.finance.pk]}, format="json")
    assert refused.status_code == 400 and "泸县财政局" in refused.json()["message"]
    done = office.post(f"{url}finalise/", {"model_sites": [ow.civil.pk]}, format="json")
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "final"
    assert [m["name"] for m in done.json()["model_sites"]] == ["泸县民政局"]
    again = office.post(f"{url}finalise/", {"model_sites": [ow.civil.pk, ow.health.pk]},
                        format="json")
    assert again.status_code == 423
    assert office.post(f"{url}advance/").status_code == 423
    entries[2]["score"] = "30"
    assert office.post(f"{url}review/", {"scores": entries[2:]},
                       format="json").status_code == 423
    body = office.get(url).json()
    assert [m["name"] for m in body["model_sites"]] == ["泸县民政局"]
    assert [r["percent"] for r in body["results"] if r["name"] == "泸县财政局"] == [30.0]
    # A plan's round is not a programme's, and the plan's units do not run it.
    assert office.post(f"/api/oversight/programme-rounds/{evaluation.pk}/finalise/", {},
                       format="json").status_code == 404
    unit = APIClient()
    unit.force_authenticate(ow.liaison_civil)
    assert unit.post(f"{url}finalise/", {}, format="json").status_code == 404


def test_the_api_refuses_in_the_callers_language(ow, q2):
    """The API's 409 and 423 answers are Chinese for a zh-Hans caller, English for an
    English one; the code stays the same."""
    from rest_framework.test import APIClient

    evaluation = services.evaluation_open(user=ow.office, scorecard_id=q2.pk,
                                          period="2021Q2", today=TODAY)
    office = APIClient()
    office.force_authenticate(ow.office)
    url = f"/api/oversight/evaluations/{evaluation.pk}/"
    chinese = office.post(f"{url}finalise/", {}, format="json", HTTP_ACCEPT_LANGUAGE="zh-Hans")
    english = office.post(f"{url}finalise/", {}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert chinese.status_code == english.status_code == 409
    assert chinese.json()["code"] == english.json()["code"] == "conflict"
    assert "自评" in chinese.json()["message"]
    assert "self-assessment" in english.json()["message"]
    bad = office.post(f"{url}finalise/", {"model_sites": ["x"]}, format="json",
                      HTTP_ACCEPT_LANGUAGE="zh-Hans").json()
    assert bad["code"] == "invalid" and "model_sites" in bad["extra"]["fields"]
    assert not any("a" <= ch.lower() <= "z" for ch in bad["message"])

    services.evaluation_advance(user=ow.office, evaluation_id=evaluation.pk, today=TODAY)
    for agency in (ow.health, ow.civil, ow.finance):
        services.score_review(user=ow.office, evaluation_id=evaluation.pk,
                              item_id=manual_item(q2).pk, subject=f"a{agency.pk}", score=20,
                              note="评审")
    services.evaluation_advance(user=ow.office, evaluation_id=evaluation.pk, today=TODAY)
    chinese = office.post(f"{url}finalise/", {}, format="json", HTTP_ACCEPT_LANGUAGE="zh-Hans")
    english = office.post(f"{url}finalise/", {}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert chinese.status_code == english.status_code == 423
    assert "定档" in chinese.json()["message"] and "final" in english.json()["message"]


def test_target_attainment_by_division(ow):
    """A city plan scores its counties on the 建成率 target: 泸县 at 85% has attained 80%,
    合江县 at 50% is off track."""
    from shidian.indicators.models import Indicator, IndicatorValue, Target
    from shidian.orgs.models import Role
    from shidian.orgs.testing import make_user
    from shidian.plans.testing import make_plan

    plan = make_plan("泸州市心理服务体系建设试点工作方案", "5105", tasks=[
        {"title": "建设心理咨询室", "leads": (ow.health,), "deadline": date(2021, 12, 31)}])
    city = make_user("lz_office", role=Role.OFFICE, division_code="5105")
    rate = Indicator.objects.create(name="心理咨询室建成率", factor=100, period_type="M")
    Target.objects.create(indicator=rate, plan=plan, division_id="5105", level=3, value=80,
                          deadline=date(2021, 12, 31))
    for code, value in (("510521", 85.0), ("510522", 50.0)):
        IndicatorValue.objects.create(indicator_id=rate.pk, code=code, parent="5105", level=3,
                                      period="2021M06", value=value)
    card = services.scorecard_create(user=city, plan_id=plan.pk, name="县区考核",
                                     subject_kind=SubjectKind.DIVISION)
    services.score_item_add(user=city, scorecard_id=card.pk, name="建成率目标", weight=100,
                            rule=ScoreRule.TARGET_ATTAINMENT)
    evaluation = services.evaluation_open(user=city, scorecard_id=card.pk, period="2021Q2",
                                          today=TODAY)
    rows = {r.subject.name: r for r in scoring.results(evaluation=evaluation,
                                                       subjects=scoring.subjects_of(card))}
    assert rows["泸县"].percent == 100.0 and rows["泸县"].grade == scoring.Grade.EXCELLENT
    assert rows["合江县"].percent == 0.0 and rows["合江县"].rank == 2


def test_a_ranking_by_one_measure_with_the_change_since_the_month_before(ow, q2):
    ranking = selectors.measure_ranking(plan=ow.plan, subject_kind=SubjectKind.AGENCY,
                                        rule=ScoreRule.ON_TIME_REPORTS,
                                        period=parse_period("2021M05"), today=TODAY)
    rows = {r.name: r for r in ranking.rows}
    # May: 民政局 2/2, 卫生健康局 1/2, 财政局 0/1; April: 民政局 and 卫生健康局 2/2 (tied first).
    assert (rows["泸县民政局"].value, rows["泸县民政局"].rank, rows["泸县民政局"].change) \
        == (100.0, 1, 0)
    assert (rows["泸县卫生健康局"].value, rows["泸县卫生健康局"].rank,
            rows["泸县卫生健康局"].previous_rank) == (50.0, 2, 1)
    assert rows["泸县卫生健康局"].detail == "1/2"
    assert (rows["泸县财政局"].value, rows["泸县财政局"].rank) == (0.0, 3)


# -- bulletins ------------------------------------------------------------------------------
def test_a_bulletin_from_a_round_is_edited_issued_numbered_and_read_back(ow, q2):
    evaluation = run_round(ow, q2, "2021Q2", {},
                           {ow.health: 24, ow.civil: 27, ow.finance: 18})
    bulletin = services.bulletin_create(user=ow.office, plan_id=ow.plan.pk,
                                        evaluation_id=evaluation.pk, red_count=1,
                                        black_count=1)
    assert "泸县民政局" in bulletin.praise and "泸县民政局" not in bulletin.criticism
    assert "泸县财政局" in bulletin.criticism
    assert [row["name"] for row in bulletin.snapshot["rows"]] == [
        "泸县民政局", "泸县卫生健康局", "泸县财政局"]
    services.bulletin_edit(user=ow.office, bulletin_id=bulletin.pk, text=services.BulletinText(
        title="关于2021年第二季度安宁疗护试点工作考核情况的通报", opening="经考核，现将结果通报如下。",
        praise="泸县民政局工作扎实，予以通报表扬。", criticism="泸县财政局进展滞后，予以通报批评。",
        requirements="各单位要对标对表，抓好落实。", issuer_name="泸县安宁疗护试点工作领导小组办公室"))
    issued = services.bulletin_issue(user=ow.office, bulletin_id=bulletin.pk,
                                     now=at(date(2021, 7, 20)))
    assert (issued.year, issued.number) == (2021, 1)
    with pytest.raises(ShidianError) as caught:
        services.bulletin_edit(user=ow.office, bulletin_id=bulletin.pk,
                               text=services.BulletinText("改", "", "", "", "", "办公室"))
    assert caught.value.code == ErrorCode.LOCKED
    second = services.bulletin_create(user=ow.office, plan_id=ow.plan.pk,
                                      measure=ScoreRule.ON_TIME_REPORTS, period="2021M05")
    assert services.bulletin_issue(user=ow.office, bulletin_id=second.pk,
                                   now=at(date(2021, 7, 21))).number == 2

    document = Document(io.BytesIO(docs.bulletin_docx(issued)))
    paragraphs = [p.text for p in document.paragraphs]
    assert paragraphs[:3] == ["泸县安宁疗护试点工作领导小组办公室", "通报〔2021〕1号",
                              "关于2021年第二季度安宁疗护试点工作考核情况的通报"]
    assert "泸县民政局工作扎实，予以通报表扬。" in paragraphs
    assert "泸县财政局进展滞后，予以通报批评。" in paragraphs
    rows = [[c.text for c in row.cells] for row in document.tables[0].rows]
    assert rows[0][:3] == ["名次", "单位", "得分率"]
    assert rows[1][:4] == ["1", "泸县民政局", "95.00%", "优秀"]
    assert rows[3][:4] == ["3", "泸县财政局", "30.00%", "不合格"]
    assert paragraphs[-1] == "2021年7月20日"


def test_a_draft_bulletin_has_no_number_yet(ow, q2):
    bulletin = services.bulletin_create(user=ow.office, plan_id=ow.plan.pk,
                                        measure=ScoreRule.ON_TIME_REPORTS, period="2021M05")
    paragraphs = [p.text for p in Document(io.BytesIO(docs.bulletin_docx(bulletin))).paragraphs]
    assert "征求意见稿" in paragraphs[1]
    with pytest.raises(ShidianError) as caught:
        services.bulletin_issue(user=ow.office_other, bulletin_id=bulletin.pk)
    assert caught.value.code == ErrorCode.NOT_FOUND


def test_the_briefing_series_counts_its_issues(ow):
    first = services.briefing_issue(user=ow.office, plan_id=ow.plan.pk, period="2021M06",
                                    now=at(date(2021, 7, 2)))
    second = services.briefing_issue(user=ow.office, plan_id=ow.plan.pk, period="2021M07",
                                     now=at(date(2021, 8, 2)))
    assert (first.number, second.number) == (1, 2)
    with pytest.raises(ShidianError):
        services.briefing_issue(user=ow.office, plan_id=ow.plan.pk, period="2021Q3")
    document = Document(io.BytesIO(docs.briefing_docx(second, today=date(2021, 8, 2))))
    paragraphs = [p.text for p in document.paragraphs]
    assert paragraphs[0] == "工作简报"
    assert paragraphs[1].startswith("2021年第2期")
    assert "2021年7月" in paragraphs[1]


def test_the_api_gives_the_results_and_a_unit_only_its_own(ow, q2):
    from rest_framework.test import APIClient

    evaluation = run_round(ow, q2, "2021Q2", {}, {ow.health: 24, ow.civil: 27, ow.finance: 18})
    office = APIClient()
    office.force_authenticate(ow.office)
    body = office.get(f"/api/oversight/evaluations/{evaluation.pk}/").json()
    assert [(r["name"], r["rank"], r["percent"]) for r in body["results"]] == [
        ("泸县民政局", 1, 95.0), ("泸县卫生健康局", 2, 79.0), ("泸县财政局", 3, 30.0)]
    unit = APIClient()
    unit.force_authenticate(ow.liaison_finance)
    body = unit.get(f"/api/oversight/evaluations/{evaluation.pk}/").json()
    assert [r["name"] for r in body["results"]] == ["泸县财政局"]
    other = APIClient()
    other.force_authenticate(ow.liaison_other)
    assert other.get(f"/api/oversight/evaluations/{evaluation.pk}/").status_code == 404


def test_a_named_reviewer_scores_through_the_api_all_or_nothing(ow, q2):
    from rest_framework.test import APIClient

    evaluation = in_review(ow, q2, [ow.inspector])
    item = manual_item(q2)
    url = f"/api/oversight/evaluations/{evaluation.pk}/review/"
    expert = APIClient()
    expert.force_authenticate(ow.inspector)
    entries = [{"item": item.pk, "subject": f"a{ow.health.pk}", "score": "24", "basis": "查阅台账"},
               {"item": item.pk, "subject": f"a{ow.civil.pk}", "score": "31", "basis": "查阅台账"}]
    refused = expert.post(url, {"scores": entries}, format="json")
    assert refused.status_code == 400 and "30" in refused.json()["message"]
    assert not evaluation.scores.filter(review_score__isnull=False).exists()
    entries[1]["score"] = "27"
    body = expert.post(url, {"scores": entries}, format="json").json()
    assert body["reviewers"] == ["lx_expert"]
    assert evaluation.scores.get(item=item, subject=f"a{ow.civil.pk}").review_score == Decimal("27.00")
    # A 合江县 expert is not a reviewer of the round: not found, nothing saved.
    other = APIClient()
    other.force_authenticate(ow.other_inspector)
    entries[0]["score"] = "1"
    assert other.post(url, {"scores": entries}, format="json").status_code == 404
    assert evaluation.scores.get(item=item, subject=f"a{ow.health.pk}").review_score == Decimal("24.00")
