"""A programme's annual round (年度考核): one scorecard over every plan of the programme, run
by the programme's office (泸州市 for the 安宁疗护 programme of 泸县 and 合江县); units
self-assess, reviewers score, all are ranked together; the office names model sites
(示范基地) at finalisation, only at the model-site line; the final round is frozen; a 通报
can be written from it. Who sees what: the programme's office and leaders everything, a named
reviewer the round, a unit its own row, a county office below the programme nothing."""
from __future__ import annotations

from datetime import date

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from shidian.core.errors import ErrorCode, ShidianError
from shidian.orgs.models import Role
from shidian.orgs.testing import make_user
from shidian.oversight import access, scoring, selectors, services
from shidian.oversight.models import Bulletin, Evaluation, EvaluationStatus, ScoreRule
from shidian.oversight.testing import make_oversight_world
from shidian.reporting.services import ReportInput, report_submit
from shidian.reporting.testing import at

pytestmark = pytest.mark.django_db

TODAY = date(2021, 12, 20)


@pytest.fixture
def ow(db):
    ow = make_oversight_world()
    ow.programme = ow.plan.programme
    assert ow.other_plan.programme_id == ow.programme.pk  # 泸县 and 合江县: one programme
    ow.city_office = make_user("lz_office", role=Role.OFFICE, division_code="5105")
    ow.wuhan_office = make_user("wh_office", role=Role.OFFICE, division_code="4201")
    return ow


def make_card(ow, name="安宁疗护试点年度考核", **lines):
    card = services.programme_scorecard_create(
        user=ow.city_office, programme_id=ow.programme.pk, name=name, subject_kind="agency",
        **lines)
    services.score_item_add(user=ow.city_office, scorecard_id=card.pk, name="服务能力和质量",
                            weight=60, rule=ScoreRule.MANUAL)
    services.score_item_add(user=ow.city_office, scorecard_id=card.pk, name="示范带动",
                            weight=40, rule=ScoreRule.MANUAL)
    return card


# 泸县卫生健康局 95% (excellent), 合江县卫生健康局 92% (excellent), 泸县民政局 85% (good),
# 泸县财政局 65% (pass).
MARKS = {"health": (57, 38), "other_health": (55, 37), "civil": (50, 35), "finance": (40, 25)}


def reviewed_round(ow, card=None, *, reviewer=None):
    """A 2021 round at reviewer scoring with every unit scored by the office (and by
    ``reviewer`` alike, if named)."""
    card = card or make_card(ow)
    evaluation = services.programme_round_open(user=ow.city_office, scorecard_id=card.pk,
                                               year=2021, today=TODAY)
    if reviewer is not None:
        services.evaluation_reviewers_set(user=ow.city_office, evaluation_id=evaluation.pk,
                                          user_ids=[reviewer.pk])
    services.evaluation_advance(user=ow.city_office, evaluation_id=evaluation.pk, today=TODAY)
    first, second = card.items.order_by("order")
    for name, marks in MARKS.items():
        agency = getattr(ow, name)
        for person in [ow.city_office] + ([reviewer] if reviewer else []):
            for item, mark in zip((first, second), marks, strict=True):
                services.score_review(user=person, evaluation_id=evaluation.pk,
                                      item_id=item.pk, subject=f"a{agency.pk}", score=mark,
                                      note="查阅台账")
    return evaluation


def percents(evaluation):
    rows = scoring.results(evaluation=evaluation,
                           subjects=scoring.subjects_of(evaluation.scorecard))
    return [(r.subject.name, r.percent, r.rank) for r in rows]


# -- services -------------------------------------------------------------------------------
def test_the_round_covers_every_unit_of_every_plan_and_ranks_them_together(ow):
    evaluation = reviewed_round(ow)
    subjects = set(evaluation.scores.values_list("subject", flat=True))
    assert subjects == {f"a{a.pk}" for a in (ow.health, ow.civil, ow.finance, ow.other_health)}
    assert percents(evaluation) == [("泸县卫生健康局", 95.0, 1), ("合江县卫生健康局", 92.0, 2),
                                    ("泸县民政局", 85.0, 3), ("泸县财政局", 65.0, 4)]
    ranking = selectors.evaluation_ranking(evaluation=evaluation)
    assert [r.grade for r in ranking.rows] == ["优秀", "优秀", "良好", "合格"]


def test_a_programme_round_is_annual_and_opened_once_a_year(ow):
    card = make_card(ow)
    with pytest.raises(ShidianError) as caught:
        services.evaluation_open(user=ow.city_office, scorecard_id=card.pk, period="2021Q2",
                                 today=TODAY)
    assert caught.value.code == ErrorCode.INVALID and "2026" in caught.value.message
    with pytest.raises(ShidianError) as caught:
        services.programme_round_open(user=ow.city_office, scorecard_id=card.pk, year="21",
                                      today=TODAY)
    assert caught.value.code == ErrorCode.INVALID
    services.programme_round_open(user=ow.city_office, scorecard_id=card.pk, year=2021,
                                  today=TODAY)
    with pytest.raises(ShidianError) as caught:
        services.programme_round_open(user=ow.city_office, scorecard_id=card.pk, year=2021,
                                      today=TODAY)
    assert caught.value.code == ErrorCode.DUPLICATE


def test_measures_add_up_each_plans_own_data(ow):
    """The 合江 unit's reports count in its own plan; the 泸县 units' in theirs."""
    card = services.programme_scorecard_create(user=ow.city_office,
                                               programme_id=ow.programme.pk,
                                               name="按时报送考核", subject_kind="agency")
    services.score_item_add(user=ow.city_office, scorecard_id=card.pk, name="按时报送",
                            weight=100, rule=ScoreRule.ON_TIME_REPORTS)
    report_submit(user=ow.liaison_other, task_id=ow.other_task.pk,
                  agency_id=ow.other_health.pk, period="2021M01",
                  data=ReportInput(percent=20), now=at(date(2021, 1, 20)))
    evaluation = services.evaluation_open(user=ow.city_office, scorecard_id=card.pk,
                                          period="2021", today=date(2021, 3, 10))
    measure = evaluation.scores.get(subject=f"a{ow.other_health.pk}").measure
    assert measure == 0.5  # January on time, February missing (March not yet due)
    assert evaluation.scores.get(subject=f"a{ow.finance.pk}").measure == 0.0


def test_only_the_programme_office_opens_and_finalises(ow):
    card = make_card(ow)
    for outsider in (ow.office, ow.office_other, ow.wuhan_office, ow.leader,
                     ow.liaison_health, ow.inspector):
        with pytest.raises(ShidianError) as caught:
            services.programme_scorecard_create(user=outsider, programme_id=ow.programme.pk,
                                                name="另一套", subject_kind="agency")
        assert caught.value.code == ErrorCode.NOT_FOUND
        with pytest.raises(ShidianError) as caught:
            services.programme_round_open(user=outsider, scorecard_id=card.pk, year=2021,
                                          today=TODAY)
        assert caught.value.code == ErrorCode.NOT_FOUND
    assert not Evaluation.objects.exists()
    # A national office (above the programme's division) may.
    national = make_user("nat_office", role=Role.OFFICE)
    evaluation = services.programme_round_open(user=national, scorecard_id=card.pk,
                                               year=2021, today=TODAY)
    with pytest.raises(ShidianError) as caught:
        services.evaluation_advance(user=ow.office, evaluation_id=evaluation.pk, today=TODAY)
    assert caught.value.code == ErrorCode.NOT_FOUND
    evaluation.refresh_from_db()
    assert evaluation.status == EvaluationStatus.SELF


def test_who_sees_the_round(ow):
    evaluation = reviewed_round(ow, reviewer=ow.other_inspector)
    sees = {u.username for u in (ow.city_office, ow.leader, ow.office, ow.office_other,
                                 ow.wuhan_office, ow.inspector, ow.other_inspector,
                                 ow.liaison_other)
            if access.evaluations_visible_to(user=u).filter(pk=evaluation.pk).exists()}
    # The programme's office and leader, the named reviewer, an assessed unit; not the county
    # offices below the programme, another city, nor an expert who was not named.
    assert sees == {"lz_office", "lz_leader", "hj_expert", "hj_wjj"}


def test_model_sites_only_at_the_line_then_the_round_is_frozen(ow):
    evaluation = reviewed_round(ow)
    with pytest.raises(ShidianError) as caught:
        services.evaluation_advance(user=ow.city_office, evaluation_id=evaluation.pk,
                                    today=TODAY, model_site_ids=[ow.health.pk, ow.civil.pk])
    assert caught.value.code == ErrorCode.INVALID
    assert "泸县民政局" in caught.value.message and "85.0" in caught.value.message
    evaluation.refresh_from_db()
    assert evaluation.status == EvaluationStatus.REVIEW and not evaluation.model_sites.exists()

    services.evaluation_advance(user=ow.city_office, evaluation_id=evaluation.pk, today=TODAY,
                                model_site_ids=[ow.health.pk, ow.other_health.pk])
    evaluation.refresh_from_db()
    assert evaluation.status == EvaluationStatus.FINAL
    assert set(evaluation.model_sites.all()) == {ow.health, ow.other_health}
    assert [m.agency for m in selectors.programme_model_sites(programme=ow.programme)] == [
        ow.health, ow.other_health]
    # The change is in the audit trail.
    changes = [entry.changes_dict for entry in LogEntry.objects.get_for_object(evaluation)]
    assert any(c.get("status") == ["review", "final"] for c in changes)
    named = [c["model_sites"] for c in changes if "model_sites" in c]
    assert named and named[-1]["operation"] == "add" and len(named[-1]["objects"]) == 2

    item = evaluation.scorecard.items.first()
    frozen = [
        lambda: services.evaluation_advance(user=ow.city_office, evaluation_id=evaluation.pk,
                                            today=TODAY, model_site_ids=[ow.health.pk]),
        lambda: services.evaluation_refresh(user=ow.city_office, evaluation_id=evaluation.pk,
                                            today=TODAY),
        lambda: services.score_review(user=ow.city_office, evaluation_id=evaluation.pk,
                                      item_id=item.pk, subject=f"a{ow.civil.pk}", score=60,
                                      note="改分"),
        lambda: services.score_self(user=ow.liaison_civil, evaluation_id=evaluation.pk,
                                    item_id=item.pk, agency_id=ow.civil.pk, score=60),
        lambda: services.evaluation_reviewers_set(user=ow.city_office,
                                                  evaluation_id=evaluation.pk,
                                                  user_ids=[ow.inspector.pk]),
        lambda: services.score_item_add(user=ow.city_office, scorecard_id=item.scorecard_id,
                                        name="新增", weight=10, rule=ScoreRule.MANUAL),
    ]
    for change in frozen:
        with pytest.raises(ShidianError) as caught:
            change()
        assert caught.value.code == ErrorCode.LOCKED, caught.value.message
    assert percents(evaluation)[2] == ("泸县民政局", 85.0, 3)
    assert set(evaluation.model_sites.all()) == {ow.health, ow.other_health}


def test_the_model_site_line_is_configurable(ow):
    strict = reviewed_round(ow, make_card(ow, model_site_from=93))
    with pytest.raises(ShidianError) as caught:  # excellent (92%) but under the line
        services.evaluation_advance(user=ow.city_office, evaluation_id=strict.pk, today=TODAY,
                                    model_site_ids=[ow.other_health.pk])
    assert "合江县卫生健康局" in caught.value.message and "93" in caught.value.message
    Evaluation.objects.filter(pk=strict.pk).delete()

    with pytest.raises(ShidianError) as caught:  # under the pass line: refused
        make_card(ow, model_site_from=50)
    assert caught.value.code == ErrorCode.INVALID
    lenient = reviewed_round(ow, make_card(ow, name="宽松考核", model_site_from=80))
    services.evaluation_advance(user=ow.city_office, evaluation_id=lenient.pk, today=TODAY,
                                model_site_ids=[ow.civil.pk])  # good, 85% ≥ 80%
    assert list(lenient.model_sites.all()) == [ow.civil]


def test_a_bulletin_of_the_final_round_names_the_model_sites(ow):
    evaluation = reviewed_round(ow)
    with pytest.raises(ShidianError) as caught:
        services.programme_bulletin_create(user=ow.city_office, evaluation_id=evaluation.pk)
    assert caught.value.code == ErrorCode.CONFLICT
    services.evaluation_advance(user=ow.city_office, evaluation_id=evaluation.pk, today=TODAY,
                                model_site_ids=[ow.health.pk])
    with pytest.raises(ShidianError):
        services.programme_bulletin_create(user=ow.office, evaluation_id=evaluation.pk)
    bulletin = services.programme_bulletin_create(user=ow.city_office,
                                                  evaluation_id=evaluation.pk, red_count=2,
                                                  black_count=1)
    assert bulletin.programme == ow.programme and bulletin.plan is None
    assert "泸县卫生健康局" in bulletin.praise and "示范基地" in bulletin.praise
    assert bulletin.snapshot["model_sites"] == ["泸县卫生健康局"]
    assert "泸县财政局" in bulletin.criticism
    issued = services.bulletin_issue(user=ow.city_office, bulletin_id=bulletin.pk)
    assert issued.number == 1
    assert not access.bulletins_visible_to(user=ow.office).filter(pk=bulletin.pk).exists()
    assert access.bulletins_visible_to(user=ow.leader).filter(pk=bulletin.pk).exists()


# -- pages ----------------------------------------------------------------------------------
def test_the_programme_page_opens_a_round_and_lists_the_model_sites(ow, client):
    card = make_card(ow)
    client.force_login(ow.city_office)
    url = reverse("oversight:programme", args=[ow.programme.pk])
    page = client.get(url).content.decode()
    assert "安宁疗护试点年度考核" in page and "尚未命名示范基地" in page
    response = client.post(url, {"action": "round", "round-scorecard": card.pk,
                                 "round-year": "2021"})
    evaluation = Evaluation.objects.get(scorecard=card)
    assert response.status_code == 302 and evaluation.period == "2021"
    Evaluation.objects.filter(pk=evaluation.pk).delete()
    made = client.post(url, {"action": "scorecard", "card-name": "示范基地评审",
                             "card-subject_kind": "agency", "card-excellent_from": "90",
                             "card-good_from": "80", "card-pass_from": "60",
                             "card-model_site_from": "95"})
    second = ow.programme.scorecards.get(name="示范基地评审")
    assert made.status_code == 302 and second.model_site_from == 95
    client.force_login(ow.leader)  # the programme's leader reads, but does not write
    assert client.get(url).status_code == 200
    assert client.post(url, {"action": "round", "round-scorecard": card.pk,
                             "round-year": "2021"}).status_code == 404
    client.force_login(ow.city_office)

    evaluation = reviewed_round(ow, card)
    detail = reverse("oversight:evaluation", args=[evaluation.pk])
    page = client.get(detail).content.decode()
    assert 'data-testid="finalise"' in page and f'value="{ow.civil.pk}"' not in page
    client.post(reverse("oversight:evaluation_advance", args=[evaluation.pk]),
                {"agency": [ow.civil.pk]})  # refused with a message, nothing changes
    evaluation.refresh_from_db()
    assert evaluation.status == EvaluationStatus.REVIEW
    client.post(reverse("oversight:evaluation_advance", args=[evaluation.pk]),
                {"agency": [ow.other_health.pk]})
    evaluation.refresh_from_db()
    assert evaluation.status == EvaluationStatus.FINAL
    page = client.get(url).content.decode()
    assert f'data-model-site="{ow.other_health.pk}"' in page and "合江县卫生健康局" in page
    page = client.get(detail).content.decode()
    assert "本轮考核已定档，得分和示范基地不再改变" in page
    response = client.post(reverse("oversight:programme_bulletin_new", args=[evaluation.pk]))
    bulletin = Bulletin.objects.get(evaluation=evaluation)
    assert response.status_code == 302 and "合江县卫生健康局" in bulletin.praise


def test_a_unit_sees_its_own_row_and_outsiders_see_nothing(ow, client):
    evaluation = reviewed_round(ow)
    services.evaluation_advance(user=ow.city_office, evaluation_id=evaluation.pk, today=TODAY,
                                model_site_ids=[ow.health.pk])
    detail = reverse("oversight:evaluation", args=[evaluation.pk])
    client.force_login(ow.liaison_other)
    page = client.get(detail).content.decode()
    assert f'data-subject="a{ow.other_health.pk}"' in page
    assert f'data-subject="a{ow.health.pk}"' not in page  # others' rows stay hidden
    assert client.get(reverse("oversight:programme", args=[ow.programme.pk])).status_code == 404
    api = client.get(f"/api/oversight/programme-rounds/{evaluation.pk}/").json()
    assert [r["subject"] for r in api["results"]] == [f"a{ow.other_health.pk}"]

    for outsider in (ow.office, ow.wuhan_office, ow.inspector):
        client.force_login(outsider)
        assert client.get(detail).status_code == 404
        assert client.get(reverse("oversight:programme",
                                  args=[ow.programme.pk])).status_code == 404
        assert client.post(reverse("oversight:evaluation_advance", args=[evaluation.pk]),
                           {"agency": []}).status_code == 404
        assert client.get(f"/api/oversight/programme-rounds/{evaluation.pk}/"
                          ).status_code == 404
        assert client.get("/api/oversight/programme-rounds/").json()["count"] == 0
        assert client.post(f"/api/oversight/programme-rounds/{evaluation.pk}/finalise/",
                           {"model_sites": []}, content_type="application/json"
                           ).status_code == 404


# -- API ------------------------------------------------------------------------------------
def test_the_api_opens_advances_and_finalises_a_round(ow, client):
    card = make_card(ow)
    client.force_login(ow.city_office)
    base = "/api/oversight/programme-rounds/"
    made = client.post(base, {"scorecard": card.pk, "year": 2021},
                       content_type="application/json")
    assert made.status_code == 201, made.content
    pk = made.json()["id"]
    assert made.json()["status"] == "self" and len(made.json()["results"]) == 4
    assert client.post(f"{base}{pk}/advance/").json()["status"] == "review"
    first, second = card.items.order_by("order")
    for name, marks in MARKS.items():
        entries = [{"item": item.pk, "subject": f"a{getattr(ow, name).pk}", "score": mark,
                    "basis": "查阅台账"} for item, mark in zip((first, second), marks,
                                                             strict=True)]
        assert client.post(f"/api/oversight/evaluations/{pk}/review/", {"scores": entries},
                           content_type="application/json").status_code == 200
    refused = client.post(f"{base}{pk}/finalise/", {"model_sites": [ow.finance.pk]},
                          content_type="application/json")
    assert refused.status_code == 400 and "泸县财政局" in refused.json()["message"]
    done = client.post(f"{base}{pk}/finalise/", {"model_sites": [ow.health.pk]},
                       content_type="application/json")
    assert done.status_code == 200
    assert done.json()["status"] == "final"
    assert [m["name"] for m in done.json()["model_sites"]] == ["泸县卫生健康局"]
    assert client.post(f"{base}{pk}/finalise/", {"model_sites": []},
                       content_type="application/json").status_code == 423
    assert client.post(f"{base}{pk}/advance/").status_code == 423
    listed = client.get(f"{base}?programme={ow.programme.pk}").json()
    assert [r["id"] for r in listed["results"]] == [pk]
    schema = client.get("/api/schema/").content.decode()
    assert "/api/oversight/programme-rounds/{id}/finalise/" in schema


def test_the_programme_page_reads_the_model_sites_areas_at_once(ow, client):
    """The model-site table names each site's area (县) without one query per site."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    evaluation = reviewed_round(ow)
    services.evaluation_advance(user=ow.city_office, evaluation_id=evaluation.pk, today=TODAY,
                                model_site_ids=[ow.health.pk, ow.other_health.pk])
    assert ow.health.division_id != ow.other_health.division_id
    client.force_login(ow.city_office)
    with CaptureQueriesContext(connection) as ctx:
        page = client.get(reverse("oversight:programme", args=[ow.programme.pk]))
    assert ow.other_health.division.name in page.content.decode()
    one_by_one = [q["sql"] for q in ctx.captured_queries
                  if q["sql"].startswith('SELECT "orgs_division"')
                  and '"orgs_division"."code" = ' in q["sql"]]
    assert one_by_one == []
