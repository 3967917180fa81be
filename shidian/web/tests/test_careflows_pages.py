"""Pages of case relations (shidian.web.views.careflows): a hospice referral sent, accepted from
the receiving institution's inbox and gone from the sender's view; the apprenticeship limits
refused on the page with nothing saved; the self-inspection report downloaded; every id-taking
route answering 404 to outsiders with nothing changed."""
from pathlib import Path

import pytest
import yaml
from django.urls import reverse

from shidian.cases import definitions
from shidian.cases.models import Case, CaseEvent
from shidian.cases.relation_models import (
    Agreement,
    Assessment,
    Attendance,
    CaseParty,
    CaseTransfer,
    FundEntry,
    Party,
    SchedulePeriod,
)
from shidian.cases.relation_scenarios import run_relation_scenario
from shidian.cases.testing import ensure_catalogs

PACKS = Path(__file__).resolve().parents[2] / "packs"


@pytest.fixture(autouse=True, scope="module")
def _catalogs():
    ensure_catalogs()


def _scenario(pack: str, file: str, index: int = 0) -> dict:
    return yaml.safe_load((PACKS / pack / "scenarios" / file).read_text(encoding="utf-8"))[
        "scenarios"][index]


def _case_type(key: str):
    return definitions.case_type_get(key)


@pytest.fixture
def hospice(db):
    scenario = _scenario("hospice", "referral.yaml")
    return run_relation_scenario(_case_type("hospice_patient"), {**scenario, "steps": []})


@pytest.fixture
def apprentice(db):
    scenario = _scenario("apprenticeship", "workflow.yaml")
    return run_relation_scenario(_case_type("apprentice"), scenario)


def _state() -> tuple:
    return (CaseTransfer.objects.count(), Agreement.objects.count(), CaseParty.objects.count(),
            Party.objects.count(), SchedulePeriod.objects.count(), Attendance.objects.count(),
            Assessment.objects.count(), FundEntry.objects.count(), CaseEvent.objects.count(),
            sorted(Case.objects.values_list("pk", "agency_id", "division_id", "stage")))


def test_a_referral_is_sent_accepted_from_the_inbox_and_leaves_the_sender(client, hospice):
    case = hospice.cases["a"]
    community = hospice.agencies["community"]
    client.force_login(hospice.users["ward"])
    page = client.get(reverse("careflows:case", args=[case.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "泸县人民医院" in body and "玉蟾街道社区卫生服务中心" in body
    assert "泸县社会福利院" not in body  # not serving: not offered as a target
    assert "肺癌" not in body  # health data never on the page in clear
    response = client.post(reverse("careflows:refer", args=[case.pk]),
                           {"to_agency": community.pk, "reason": "居家安宁疗护"})
    assert response.status_code == 302
    assert CaseTransfer.objects.get(case=case).status == "pending"

    client.force_login(hospice.users["community_staff"])
    inbox = client.get(reverse("careflows:referrals"))
    assert "陈玉兰" in inbox.content.decode() and "居家安宁疗护" in inbox.content.decode()
    transfer = CaseTransfer.objects.get(case=case)
    response = client.post(reverse("careflows:decide", args=[transfer.pk]),
                           {"decision": "accept"})
    assert response.url == reverse("careflows:case", args=[case.pk])
    case.refresh_from_db()
    assert case.agency_id == community.pk
    assert client.get(reverse("cases:detail", args=[case.pk])).status_code == 200
    assert "没有待接收的转介" in client.get(reverse("careflows:referrals")).content.decode()

    client.force_login(hospice.users["ward"])
    assert client.get(reverse("cases:detail", args=[case.pk])).status_code == 404
    assert client.get(reverse("careflows:case", args=[case.pk])).status_code == 404


def test_declining_without_a_note_is_refused_on_the_page(client, hospice):
    case = hospice.cases["a"]
    client.force_login(hospice.users["ward"])
    client.post(reverse("careflows:refer", args=[case.pk]),
                {"to_agency": hospice.agencies["community"].pk, "reason": "居家"})
    client.force_login(hospice.users["community_staff"])
    transfer = CaseTransfer.objects.get(case=case)
    response = client.post(reverse("careflows:decide", args=[transfer.pk]),
                           {"decision": "decline"}, follow=True)
    assert "请说明拒绝接收的原因" in response.content.decode()
    transfer.refresh_from_db()
    assert transfer.status == "pending"


def test_an_institution_registers_a_patient_only_for_itself(client, hospice):
    programme = hospice.programme("hospice_patient")
    client.force_login(hospice.users["ward"])
    page = client.get(reverse("careflows:owned-new", args=[programme.pk]))
    assert page.status_code == 200
    assert "泸县人民医院" in page.content.decode()
    assert "玉蟾街道社区卫生服务中心" not in page.content.decode()
    from shidian.cases.testing import id_number

    before = Case.objects.count()
    response = client.post(reverse("careflows:owned-new", args=[programme.pk]), {
        "agency": hospice.agencies["community"].pk, "patient_name": "李某",
        "id_number": id_number()})
    assert response.status_code == 400
    assert Case.objects.count() == before
    response = client.post(reverse("careflows:owned-new", args=[programme.pk]), {
        "agency": hospice.agencies["county_hospital"].pk, "patient_name": "李某",
        "id_number": id_number(), "diagnosis": "胰腺癌晚期"})
    assert response.status_code == 302
    case = Case.objects.latest("id")
    assert case.agency == hospice.agencies["county_hospital"]
    assert case.data["diagnosis"] == "******"


def test_the_mentor_limit_and_the_guardian_rule_are_refused_on_the_page(client, apprentice):
    clerk = apprentice.users["clerk"]
    client.force_login(clerk)
    case = apprentice.cases["a"]
    page = client.get(reverse("careflows:case", args=[case.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "李建国" in body and "4方" in body
    # Three other apprentices take 李建国's places; a fourth assignment is refused.
    from shidian.cases import parties

    mentor = apprentice.parties["li"]
    # (The scenario's apprentice has completed: her place counts no more.)
    for name, born in [("甲", "1999-01-01"), ("乙", "1999-02-01"), ("丙", "1999-03-01"),
                       ("丁", "1999-04-01")]:
        other = apprentice.register(clerk, {"student_name": name, "born": born,
                                            "county": "510521", "major": "数控"}, None)
        if name != "丁":
            parties.party_assign(user=clerk, case_id=other.pk, role="mentor", party_id=mentor.pk)
    before = _state()
    response = client.post(reverse("careflows:assign", args=[other.pk]),
                           {"role": "mentor", "party": mentor.pk}, follow=True)
    assert "上限为3名" in response.content.decode()
    assert _state() == before


def test_the_self_inspection_report_downloads_for_the_school_only(client, apprentice):
    programme = apprentice.programme()
    client.force_login(apprentice.users["clerk"])
    page = client.get(reverse("careflows:funds", args=[programme.pk]))
    assert page.status_code == 200 and "实习学生补助" in page.content.decode()
    client.post(reverse("careflows:funds", args=[programme.pk]), {
        "direction": "spent", "category": "allowance", "amount": "700", "on": "2016-12-01"})
    assert FundEntry.objects.get().amount == 700
    response = client.post(reverse("careflows:report", args=[programme.pk]), {
        "year": "2016", "measures": "加大宣传力度", "signature": "乾县职业教育中心"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    import io

    from docx import Document

    def text_of(response) -> str:
        document = Document(io.BytesIO(response.content))
        return "\n".join([p.text for p in document.paragraphs] + [
            c.text for t in document.tables for row in t.rows for c in row.cells])

    mine = text_of(response)
    assert "共登记1名" in mine and "700.00" in mine
    # The neighbouring county's school reports on its own county: none of 泸县's data.
    client.force_login(apprentice.users["neighbour"])
    theirs = text_of(client.post(reverse("careflows:report", args=[programme.pk]),
                                 {"year": "2016"}))
    assert "共登记0名" in theirs and "700.00" not in theirs


OUTSIDERS_HOSPICE = ["hejiang_office", "hejiang_staff", "care_home_staff", "liaison"]


def test_outsiders_get_404_on_every_route_of_a_patient_and_nothing_changes(client, hospice):
    case = hospice.cases["a"]
    ward = hospice.users["ward"]
    from shidian.cases import transfers

    transfer = transfers.transfer_request(user=ward, case_id=case.pk,
                                          to_agency_id=hospice.agencies["community"].pk,
                                          reason="居家")
    before = _state()
    posts = {
        "careflows:party-register": {"role": "x", "name": "x"},
        "careflows:assign": {"role": "x", "party": 1},
        "careflows:sign": {"kind": "x", "signed_on": "2021-01-01"},
        "careflows:schedule": {"periods": "school 2021-01-01 2021-02-01"},
        "careflows:attendance": {"from": "2021-01-01", "status": "present"},
        "careflows:assess": {"kind": "x", "assessor": "x", "score": "1"},
        "careflows:refer": {"to_agency": hospice.agencies["care_home"].pk, "reason": "x"},
    }
    for name in OUTSIDERS_HOSPICE:
        client.force_login(hospice.users[name])
        assert client.get(reverse("careflows:case", args=[case.pk])).status_code == 404, name
        for route, data in posts.items():
            assert client.post(reverse(route, args=[case.pk]), data).status_code == 404, (
                name, route)
        assert client.post(reverse("careflows:decide", args=[transfer.pk]),
                           {"decision": "accept"}).status_code == 404, name
    # The sender cannot accept its own referral either.
    client.force_login(ward)
    assert client.post(reverse("careflows:decide", args=[transfer.pk]),
                       {"decision": "accept"}).status_code == 404
    assert _state() == before


def test_outsiders_get_404_on_an_apprentice_and_the_programme_pages(client, apprentice):
    case = apprentice.cases["a"]
    programme = apprentice.programme()
    before = _state()
    for name in ["neighbour", "liaison"]:
        client.force_login(apprentice.users[name])
        assert client.get(reverse("careflows:case", args=[case.pk])).status_code == 404
        for route in ["careflows:assign", "careflows:sign", "careflows:schedule",
                      "careflows:attendance", "careflows:assess", "careflows:party-register"]:
            assert client.post(reverse(route, args=[case.pk]), {
                "role": "mentor", "party": apprentice.parties["li"].pk, "name": "x",
                "kind": "term", "assessor": "mentor", "score": "1", "from": "2017-01-02",
                "status": "absent", "periods": "school 2017-01-01 2017-02-01"}
            ).status_code == 404, (name, route)
    client.force_login(apprentice.users["liaison"])
    assert client.get(reverse("careflows:funds", args=[programme.pk])).status_code == 404
    assert client.post(reverse("careflows:report", args=[programme.pk]),
                       {"year": "2016"}).status_code == 404
    assert client.post(reverse("careflows:funds", args=[programme.pk]), {
        "direction": "spent", "category": "allowance", "amount": "1",
        "on": "2017-01-01"}).status_code == 404
    assert _state() == before


def test_health_data_are_masked_and_each_full_view_by_the_caring_institution_is_logged(
        client, hospice):
    from auditlog.models import LogEntry

    from shidian.cases.models import EventKind

    case = hospice.cases["a"]
    client.force_login(hospice.users["county_office"])
    page = client.get(reverse("careflows:case", args=[case.pk])).content.decode()
    assert "******" in page and "肺癌" not in page and 'data-testid="reveal-diagnosis"' not in page
    assert client.post(reverse("cases:reveal", args=[case.pk]),
                       {"field": "diagnosis"}).status_code == 403
    client.force_login(hospice.users["ward"])
    page = client.get(reverse("careflows:case", args=[case.pk])).content.decode()
    assert 'data-testid="reveal-diagnosis"' in page and "肺癌" not in page
    shown = client.post(reverse("cases:reveal", args=[case.pk]), {"field": "diagnosis"})
    assert "肺癌晚期伴骨转移" in shown.content.decode()
    assert case.events.filter(kind=EventKind.PII_VIEW, actor=hospice.users["ward"]).count() == 1
    assert LogEntry.objects.filter(action=LogEntry.Action.ACCESS, object_pk=str(case.pk),
                                   actor=hospice.users["ward"]).count() == 1
    client.force_login(hospice.users["community_staff"])
    assert client.post(reverse("cases:reveal", args=[case.pk]),
                       {"field": "diagnosis"}).status_code == 404


def test_the_school_sets_the_schedule_records_attendance_and_scores_on_the_page(client,
                                                                                 apprentice):
    clerk = apprentice.users["clerk"]
    client.force_login(clerk)
    case = apprentice.register(clerk, {"student_name": "周杰", "born": "1996-01-01",
                                       "county": "510521", "major": "数控"}, None)
    url = reverse("careflows:case", args=[case.pk])
    client.post(reverse("careflows:party-register", args=[case.pk]),
                {"role": "teacher", "name": "赵老师"})
    teacher = Party.objects.get(name="赵老师")
    client.post(reverse("careflows:assign", args=[case.pk]),
                {"role": "teacher", "party": teacher.pk})
    assert CaseParty.objects.filter(case=case, role="teacher", party=teacher).exists()
    # Seed 04's template from 2016-07-09: four periods; then one week of attendance.
    client.post(reverse("careflows:schedule", args=[case.pk]),
                {"template": "cognition-operation", "start": "2016-07-09"})
    assert [p.kind for p in SchedulePeriod.objects.filter(case=case)] == [
        "school", "enterprise", "school", "enterprise"]
    client.post(reverse("careflows:attendance", args=[case.pk]),
                {"from": "2016-09-05", "to": "2016-09-11", "status": "present",
                 "weekdays": "1"})
    assert Attendance.objects.filter(period__case=case).count() == 5
    response = client.post(reverse("careflows:assess", args=[case.pk]), {
        "kind": "term", "assessor": "teacher", "score": "88", "assessed_on": "2016-09-30"},
        follow=True)
    assert Assessment.objects.get(case=case).score == 88
    body = client.get(url).content.decode()
    assert "赵老师" in body and "100%" in body
    # A bad line in the real periods is refused with where it is, and nothing changes.
    before = _state()
    response = client.post(reverse("careflows:schedule", args=[case.pk]),
                           {"periods": "school 2016-07-09 2016-11-08\nholiday 2016-11-09 "
                                       "2016-12-01"}, follow=True)
    assert "第2阶段：未知的阶段类型" in response.content.decode()
    assert _state() == before


def test_a_liaison_of_the_receiving_institution_does_not_see_its_referrals(client, hospice):
    from shidian.cases import transfers
    from shidian.cases.testing import make_worker

    liaison = make_worker("community-liaison", role="liaison", division_code="510521100")
    liaison.agencies.set([hospice.agencies["community"]])
    record = transfers.transfer_request(user=hospice.users["ward"], case_id=hospice.cases["a"].pk,
                                        to_agency_id=hospice.agencies["community"].pk,
                                        reason="居家")
    client.force_login(liaison)
    assert "陈玉兰" not in client.get(reverse("careflows:referrals")).content.decode()
    assert client.post(reverse("careflows:decide", args=[record.pk]),
                       {"decision": "accept"}).status_code == 404
    record.refresh_from_db()
    assert record.status == "pending"
