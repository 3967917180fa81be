"""Inspections and rectification: a round with its team and sites, findings with photos that
become rectification orders, the owner's completion with evidence, the team's 销号 or return;
the check that each pilot site got the on-site inspections its plan requires (seed 09: 不少于2次
实地督导检查), and a site's history."""
from __future__ import annotations

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from shidian.core.errors import ErrorCode, ShidianError
from shidian.oversight import selectors, services, tick
from shidian.oversight.models import (Channel, FindingPhoto, InspectionVisit, Message,
                                      MessageKind, Rectification, RectificationStatus)
from shidian.oversight.testing import make_oversight_world, make_pilot_site
from shidian.reporting.services import evidence_attach
from shidian.reporting.testing import at, pdf_bytes, png_bytes, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def ow(db):
    ow = make_oversight_world()
    ow.site_a = make_pilot_site("泸县人民医院安宁疗护病区")
    ow.site_b = make_pilot_site("泸县中医医院安宁疗护病区")
    ow.other_site = make_pilot_site("合江县人民医院安宁疗护病区", "510522")
    from shidian.orgs.testing import make_user

    ow.liaison_site_a = make_user("lx_yy", role="pilot_site", division_code="510521",
                                  agencies=(ow.site_a,))
    # The plan asks for two on-site inspections of each pilot site.
    services.rule_set(user=ow.office, plan_id=ow.plan.pk,
                      data=services.RuleInput(min_onsite_inspections=2))
    return ow


def make_round(ow, name="2021年第一轮实地督导", first=date(2021, 5, 10), last=date(2021, 5, 20)):
    return services.round_create(user=ow.office, plan_id=ow.plan.pk, name=name,
                                 starts_on=first, ends_on=last, member_ids=[ow.inspector.pk],
                                 leader_id=ow.inspector.pk)


def photo(name="病区走廊.png", content=None):
    return SimpleUploadedFile(name, content or png_bytes(), content_type="image/png")


def finding(ow, visit, **extra):
    data = services.FindingInput(description="病区未按要求配置独立的家属陪护室。",
                                 severity="general", owner_id=None,
                                 measures="6月底前完成陪护室改造。", deadline=date(2021, 6, 30))
    for key, value in extra.items():
        setattr(data, key, value)
    return services.finding_record(user=ow.inspector, visit_id=visit.pk, data=data,
                                   photos=[photo()], now=at(date(2021, 5, 12)))


def test_a_round_records_a_visit_and_a_finding_becomes_a_rectification_order(ow):
    inspection = make_round(ow)
    visit = services.visit_add(user=ow.office, round_id=inspection.pk, site_id=ow.site_a.pk,
                               planned_on=date(2021, 5, 12))
    services.visit_record(user=ow.inspector, visit_id=visit.pk, visited_on=date(2021, 5, 12),
                          on_site=True, summary="查看病区、查阅台账。", today=date(2021, 5, 12))
    item = finding(ow, visit)
    assert item.owner == ow.site_a and item.status == RectificationStatus.OPEN
    assert item.finding.photos.get().original_name == "病区走廊.png"
    # The site's liaison is told to rectify.
    [told] = Message.objects.filter(recipient=ow.liaison_site_a, channel=Channel.INBOX)
    assert told.kind == MessageKind.RECTIFICATION and "2021年6月30日" in told.subject


def test_the_round_and_visits_are_checked(ow):
    with pytest.raises(ShidianError) as caught:
        services.round_create(user=ow.office, plan_id=ow.plan.pk, name="第二轮",
                              starts_on=date(2021, 6, 1), ends_on=date(2021, 5, 1),
                              member_ids=[ow.inspector.pk])
    assert caught.value.code == ErrorCode.INVALID
    # Another county's expert cannot be put on the team.
    with pytest.raises(ShidianError):
        services.round_create(user=ow.office, plan_id=ow.plan.pk, name="第二轮",
                              starts_on=date(2021, 6, 1), ends_on=date(2021, 6, 5),
                              member_ids=[ow.other_inspector.pk])
    inspection = make_round(ow)
    with pytest.raises(ShidianError) as caught:  # outside the round's dates
        services.visit_add(user=ow.office, round_id=inspection.pk, site_id=ow.site_a.pk,
                           planned_on=date(2021, 6, 1))
    assert "2021年5月10日" in caught.value.message
    with pytest.raises(ShidianError):  # another county's site
        services.visit_add(user=ow.office, round_id=inspection.pk, site_id=ow.other_site.pk,
                           planned_on=date(2021, 5, 12))
    services.visit_add(user=ow.office, round_id=inspection.pk, site_id=ow.site_a.pk,
                       planned_on=date(2021, 5, 12))
    with pytest.raises(ShidianError) as caught:  # twice on one round
        services.visit_add(user=ow.office, round_id=inspection.pk, site_id=ow.site_a.pk,
                           planned_on=date(2021, 5, 13))
    assert caught.value.code == ErrorCode.DUPLICATE
    visit = InspectionVisit.objects.get()
    with pytest.raises(ShidianError):  # a visit in the future cannot be recorded
        services.visit_record(user=ow.inspector, visit_id=visit.pk,
                              visited_on=date(2021, 5, 15), on_site=True,
                              today=date(2021, 5, 12))


def test_a_photo_must_really_be_a_photo(ow):
    inspection = make_round(ow)
    visit = services.visit_add(user=ow.office, round_id=inspection.pk, site_id=ow.site_a.pk,
                               planned_on=date(2021, 5, 12))
    data = services.FindingInput(description="台账不全", severity="general", owner_id=None,
                                 measures="补齐台账", deadline=date(2021, 6, 30))
    with pytest.raises(ShidianError) as caught:
        services.finding_record(user=ow.inspector, visit_id=visit.pk, data=data,
                                photos=[photo("现场.png", pdf_bytes())], now=at(date(2021, 5, 12)))
    assert caught.value.code == ErrorCode.BAD_FILE and "现场.png" in caught.value.message
    assert not Rectification.objects.exists() and not FindingPhoto.objects.exists()


def test_only_the_team_and_the_office_record_findings(ow):
    inspection = make_round(ow)
    visit = services.visit_add(user=ow.office, round_id=inspection.pk, site_id=ow.site_a.pk,
                               planned_on=date(2021, 5, 12))
    data = services.FindingInput(description="x", severity="general", owner_id=None,
                                 measures="y", deadline=date(2021, 6, 30))
    for user in (ow.other_inspector, ow.liaison_site_a, ow.office_other, ow.leader):
        with pytest.raises(ShidianError) as caught:
            services.finding_record(user=user, visit_id=visit.pk, data=data,
                                    now=at(date(2021, 5, 12)))
        assert caught.value.code == ErrorCode.NOT_FOUND
    assert not Rectification.objects.exists()


def test_completion_verification_return_and_close(ow):
    inspection = make_round(ow)
    visit = services.visit_add(user=ow.office, round_id=inspection.pk, site_id=ow.site_a.pk,
                               planned_on=date(2021, 5, 12))
    item = finding(ow, visit)
    # The team cannot verify what was not reported done.
    with pytest.raises(ShidianError) as caught:
        services.rectification_verify(user=ow.inspector, rectification_id=item.pk, accept=True)
    assert caught.value.code == ErrorCode.CONFLICT
    # Completion needs evidence of the owner's own.
    with pytest.raises(ShidianError) as caught:
        services.rectification_submit(user=ow.liaison_site_a, rectification_id=item.pk,
                                      note="已完成改造。")
    assert caught.value.code == ErrorCode.INVALID
    evidence = evidence_attach(user=ow.liaison_site_a, agency_id=ow.site_a.pk,
                               upload=upload("陪护室照片.png", png_bytes()))
    services.rectification_submit(user=ow.liaison_site_a, rectification_id=item.pk,
                                  note="已完成改造。", evidence_ids=[evidence.pk])
    item.refresh_from_db()
    assert item.status == RectificationStatus.SUBMITTED
    # The team hears of it.
    assert Message.objects.filter(recipient=ow.inspector, channel=Channel.INBOX).exists()
    services.rectification_verify(user=ow.inspector, rectification_id=item.pk, accept=False,
                                  reason="陪护室未配备床位。")
    item.refresh_from_db()
    assert item.status == RectificationStatus.RETURNED and item.return_reason
    services.rectification_submit(user=ow.liaison_site_a, rectification_id=item.pk,
                                  note="已配备床位2张。", evidence_ids=[evidence.pk])
    services.rectification_verify(user=ow.office, rectification_id=item.pk, accept=True)
    item.refresh_from_db()
    assert item.status == RectificationStatus.CLOSED and item.closed_at
    assert item.verified_by == ow.office
    with pytest.raises(ShidianError):
        services.rectification_submit(user=ow.liaison_site_a, rectification_id=item.pk,
                                      note="再报", evidence_ids=[evidence.pk])


def test_a_return_needs_a_reason_and_outsiders_cannot_verify(ow):
    inspection = make_round(ow)
    visit = services.visit_add(user=ow.office, round_id=inspection.pk, site_id=ow.site_a.pk,
                               planned_on=date(2021, 5, 12))
    item = finding(ow, visit)
    evidence = evidence_attach(user=ow.liaison_site_a, agency_id=ow.site_a.pk,
                               upload=upload("照片.png", png_bytes()))
    services.rectification_submit(user=ow.liaison_site_a, rectification_id=item.pk,
                                  note="已完成", evidence_ids=[evidence.pk])
    with pytest.raises(ShidianError) as caught:
        services.rectification_verify(user=ow.inspector, rectification_id=item.pk,
                                      accept=False, reason=" ")
    assert caught.value.code == ErrorCode.INVALID
    for user in (ow.liaison_site_a, ow.other_inspector, ow.office_other, ow.leader):
        with pytest.raises(ShidianError) as caught:
            services.rectification_verify(user=user, rectification_id=item.pk, accept=True)
        assert caught.value.code == ErrorCode.NOT_FOUND
    item.refresh_from_db()
    assert item.status == RectificationStatus.SUBMITTED


def test_the_tick_urges_an_open_rectification_past_its_deadline(ow):
    inspection = make_round(ow)
    visit = services.visit_add(user=ow.office, round_id=inspection.pk, site_id=ow.site_a.pk,
                               planned_on=date(2021, 5, 12))
    item = finding(ow, visit)
    tick.tick_run(today=date(2021, 7, 1))
    urged = Message.objects.filter(kind=MessageKind.RECTIFICATION, channel=Channel.INBOX,
                                   event__startswith=f"x{item.pk}:2021-06-30")
    assert [m.recipient for m in urged] == [ow.liaison_site_a]
    assert "催办" in urged[0].subject


def test_on_site_coverage_per_site_against_the_plans_requirement(ow):
    first = make_round(ow)
    second = make_round(ow, "2021年第二轮实地督导", date(2021, 9, 1), date(2021, 9, 10))
    for inspection, day in ((first, date(2021, 5, 12)), (second, date(2021, 9, 3))):
        visit = services.visit_add(user=ow.office, round_id=inspection.pk,
                                   site_id=ow.site_a.pk, planned_on=day)
        services.visit_record(user=ow.inspector, visit_id=visit.pk, visited_on=day,
                              on_site=True, today=day)
    # Site B: once on site, once only by papers (书面检查), once planned.
    visit = services.visit_add(user=ow.office, round_id=first.pk, site_id=ow.site_b.pk,
                               planned_on=date(2021, 5, 13))
    services.visit_record(user=ow.inspector, visit_id=visit.pk, visited_on=date(2021, 5, 13),
                          on_site=True, today=date(2021, 5, 13))
    visit = services.visit_add(user=ow.office, round_id=second.pk, site_id=ow.site_b.pk,
                               planned_on=date(2021, 9, 4))
    services.visit_record(user=ow.inspector, visit_id=visit.pk, visited_on=date(2021, 9, 4),
                          on_site=False, today=date(2021, 9, 4))
    third = make_round(ow, "2021年第三轮", date(2021, 11, 1), date(2021, 11, 5))
    services.visit_add(user=ow.office, round_id=third.pk, site_id=ow.site_b.pk,
                       planned_on=date(2021, 11, 2))
    rows = {r.site.name: r for r in selectors.inspection_coverage(plan=ow.plan,
                                                                 today=date(2021, 10, 1))}
    assert (rows["泸县人民医院安宁疗护病区"].done, rows["泸县人民医院安宁疗护病区"].met) == (2, True)
    site_b = rows["泸县中医医院安宁疗护病区"]
    assert (site_b.done, site_b.planned, site_b.short, site_b.met) == (1, 1, 1, False)
    # The short site comes first; another county's site is not the plan's.
    assert selectors.inspection_coverage(plan=ow.plan, today=date(2021, 10, 1))[0].site \
        == ow.site_b
    assert "合江县人民医院安宁疗护病区" not in rows


def test_a_site_history_lists_visits_findings_and_rectifications(ow, client):
    first = make_round(ow)
    visit = services.visit_add(user=ow.office, round_id=first.pk, site_id=ow.site_a.pk,
                               planned_on=date(2021, 5, 12))
    item = finding(ow, visit)
    history = selectors.site_history(site=ow.site_a, visits=InspectionVisit.objects.all())
    assert [v.pk for v in history.visits] == [visit.pk]
    assert history.rectifications == [item] and history.open_rectifications == 1
    # The site itself reads its own history; another county's office does not.
    client.force_login(ow.liaison_site_a)
    page = client.get(reverse("oversight:site", args=[ow.site_a.pk])).content.decode()
    assert "病区未按要求配置独立的家属陪护室" in page
    client.force_login(ow.office_other)
    assert client.get(reverse("oversight:site", args=[ow.site_a.pk])).status_code == 404


def test_pages_from_round_to_closed_rectification(ow, client):
    client.force_login(ow.office)
    response = client.post(reverse("oversight:round_new", args=[ow.plan.pk]), {
        "name": "2021年第一轮实地督导", "starts_on": "2021-05-10", "ends_on": "2021-05-20",
        "members": [ow.inspector.pk], "leader": ow.inspector.pk})
    assert response.status_code == 302
    inspection = ow.plan.inspection_rounds.get()
    client.post(reverse("oversight:visit_add", args=[inspection.pk]),
                {"site": ow.site_a.pk, "planned_on": "2021-05-12"})
    visit = inspection.visits.get()
    client.force_login(ow.inspector)
    page = client.get(reverse("oversight:visit", args=[visit.pk])).content.decode()
    assert 'data-testid="finding-form"' in page
    client.post(reverse("oversight:visit_record", args=[visit.pk]),
                {"visited_on": "2021-05-12", "on_site": "on", "summary": "查看病区"})
    response = client.post(reverse("oversight:finding_add", args=[visit.pk]), {
        "description": "病区未配置家属陪护室。", "severity": "serious", "owner": ow.site_a.pk,
        "measures": "完成陪护室改造。", "deadline": "2099-06-30", "photos": [photo()]},
        follow=True)
    assert "病区未配置家属陪护室" in response.content.decode()
    item = Rectification.objects.get()
    photo_url = reverse("oversight:photo", args=[item.finding.photos.get().pk])
    assert client.get(photo_url).status_code == 200
    client.force_login(ow.liaison_site_a)
    assert client.get(photo_url).status_code == 200  # the owner sees what was found
    page = client.get(reverse("oversight:rectifications")).content.decode()
    assert "病区未配置家属陪护室" in page
    client.post(reverse("oversight:rectification_submit", args=[item.pk]), {
        "note": "已完成改造。", "files": [SimpleUploadedFile("改造后.png", png_bytes())]})
    item.refresh_from_db()
    assert item.status == RectificationStatus.SUBMITTED
    assert item.evidence.get().original_name == "改造后.png"
    client.force_login(ow.inspector)
    client.post(reverse("oversight:rectification_verify", args=[item.pk]), {"action": "close"})
    item.refresh_from_db()
    assert item.status == RectificationStatus.CLOSED
    client.force_login(ow.office)
    page = client.get(reverse("oversight:plan_inspections", args=[ow.plan.pk])).content.decode()
    assert f'data-site="{ow.site_a.pk}" data-met="no"' in page  # one visit of two required
    client.force_login(ow.other_inspector)
    assert client.get(photo_url).status_code == 404


def test_the_api_lists_rounds_and_takes_completion_and_verification(ow):
    from rest_framework.test import APIClient

    def api(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    inspection = make_round(ow)
    visit = services.visit_add(user=ow.office, round_id=inspection.pk, site_id=ow.site_a.pk,
                               planned_on=date(2021, 5, 12))
    item = finding(ow, visit)
    rounds = api(ow.inspector).get("/api/oversight/rounds/").json()["results"]
    assert [r["id"] for r in rounds] == [inspection.pk]
    assert rounds[0]["visits"][0]["site"] == "泸县人民医院安宁疗护病区"
    assert api(ow.other_inspector).get("/api/oversight/rounds/").json()["results"] == []
    evidence = evidence_attach(user=ow.liaison_site_a, agency_id=ow.site_a.pk,
                               upload=upload("整改照片.png", png_bytes()))
    url = f"/api/oversight/rectifications/{item.pk}/"
    assert api(ow.inspector).post(url + "complete/", {"note": "x", "evidence": [evidence.pk]},
                                  format="json").status_code == 404
    done = api(ow.liaison_site_a).post(url + "complete/", {
        "note": "已完成改造。", "evidence": [evidence.pk]}, format="json")
    assert done.status_code == 200 and done.json()["status"] == "submitted"
    refused = api(ow.inspector).post(url + "verify/", {"close": False}, format="json")
    assert refused.status_code == 400 and refused.json()["code"] == "invalid"
    closed = api(ow.inspector).post(url + "verify/", {"close": True}, format="json")
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
