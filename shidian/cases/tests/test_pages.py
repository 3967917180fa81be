"""The case pages: lists with filters, the case page and its actions, notices and boards,
imports, duplicate review, archives and the progress report; each scoped like the services."""
import csv
import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from shidian.cases import services
from shidian.cases.models import Case, CaseEvent, DuplicatePair, EventKind, ImportBatch
from shidian.cases.testing import PNG, household, make_programme, make_workers

pytestmark = pytest.mark.django_db


@pytest.fixture
def workers():
    return make_workers()


@pytest.fixture
def programme():
    return make_programme()


def login(client, user):
    client.force_login(user)
    return client


def register(workers, programme, **values):
    return services.case_create(user=workers["village"], programme=programme,
                                values=household(**values))


def test_the_case_list_filters_by_stage_village_overdue_and_id_number(client, workers,
                                                                     programme):
    first = register(workers, programme, head_name="王德明")
    second = register(workers, programme, head_name="李桂芳")
    services.case_transition(user=workers["village"], case_id=second.pk, transition="accept")
    Case.objects.filter(pk=second.pk).update(due_on=dt.date(2020, 1, 1))
    login(client, workers["county"])
    url = reverse("cases:list", args=[programme.pk])
    page = client.get(url).content.decode()
    assert "王德明" in page and "李桂芳" in page and "摸底登记" in page
    assert first.subject_id_masked in page
    assert services.case_secrets(first)["head_id_number"] not in page
    assert "李桂芳" not in client.get(url, {"stage": "registered"}).content.decode()
    assert "王德明" not in client.get(url, {"overdue": "1"}).content.decode()
    member = services.case_secrets(first)["members"][0]
    found = client.get(url, {"q": member}).content.decode()
    assert "王德明" in found and "李桂芳" not in found
    assert "王德明" not in client.get(url, {"division": "510522"}).content.decode()


def test_the_case_list_takes_the_same_queries_for_five_cases_as_for_fifty(client, workers,
                                                                         programme):
    for _ in range(5):
        register(workers, programme)
    login(client, workers["county"])
    url = reverse("cases:list", args=[programme.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for _ in range(45):
        register(workers, programme)
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)


def test_registering_a_household_on_the_page(client, workers, programme):
    login(client, workers["village"])
    values = household()
    data = {"head_name": values["head_name"], "head_id_number": values["head_id_number"],
            "village": values["village"], "poverty_categories": ["dibao", "jdlk"],
            "poverty_categories__present": "1", "area_before": "45", "members-count": "8",
            "members-0-name": "李秀英", "members-0-relation": "spouse",
            "members-0-id_number": values["members"][0]["id_number"],
            "bank_account": values["bank_account"]}
    response = client.post(reverse("cases:new", args=[programme.pk]), data)
    case = Case.objects.get()
    assert response.status_code == 302 and response.url == reverse("cases:detail",
                                                                   args=[case.pk])
    assert case.data["poverty_categories"] == ["jdlk", "dibao"]
    assert [p.name for p in case.persons.order_by("position")] == [values["head_name"],
                                                                    "李秀英"]
    data["head_id_number"] = values["head_id_number"][:17] + "Y"
    response = client.post(reverse("cases:new", args=[programme.pk]), data)
    assert response.status_code == 400
    assert "身份证号码应为17位数字加1位数字或X" in response.content.decode()
    assert Case.objects.count() == 1


def test_the_case_page_shows_what_blocks_an_action_and_refuses_it(client, workers, programme):
    case = register(workers, programme)
    services.case_transition(user=workers["village"], case_id=case.pk, transition="accept")
    login(client, workers["village"])
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "提交村民会议评议" in page and "缺少材料" in page and "农户申请书" in page
    response = client.post(reverse("cases:act", args=[case.pk]),
                           {"transition": "submit_review"}, follow=True)
    assert "缺少材料" in response.content.decode()
    case.refresh_from_db()
    assert case.stage == "application"
    for kind in ("application", "identity", "poverty_proof"):
        client.post(reverse("cases:document-add", args=[case.pk]),
                    {"kind": kind, "file": io.BytesIO(PNG)}, format="multipart")
    assert case.documents.count() == 0  # BytesIO without a name is no upload
    for kind in ("application", "identity", "poverty_proof"):
        upload = io.BytesIO(PNG)
        upload.name = f"{kind}.png"
        client.post(reverse("cases:document-add", args=[case.pk]), {"kind": kind,
                                                                    "file": upload})
    client.post(reverse("cases:act", args=[case.pk]), {"transition": "submit_review"})
    case.refresh_from_db()
    assert case.stage == "village_review"
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "集体评议" in page and "application.png" in page


def test_other_villages_and_liaisons_get_not_found(client, workers, programme):
    case = register(workers, programme)
    document = services.document_add(user=workers["village"], case_id=case.pk,
                                     kind="application", name="a.png", content=PNG)
    for who in ("neighbour", "liaison"):
        client.logout()
        login(client, workers[who])
        for url in (reverse("cases:detail", args=[case.pk]),
                    reverse("cases:archive", args=[case.pk]),
                    reverse("cases:document", args=[document.pk])):
            assert client.get(url).status_code == 404
        assert client.post(reverse("cases:reveal", args=[case.pk]),
                           {"field": "head_id_number"}).status_code == 404
        assert client.post(reverse("cases:act", args=[case.pk]),
                           {"transition": "accept"}).status_code == 404
    case.refresh_from_db()
    assert case.stage == "registered"


def test_showing_a_full_number_is_for_allowed_roles_and_logged(client, workers, programme):
    case = register(workers, programme)
    number = services.case_secrets(case)["head_id_number"]
    login(client, workers["village"])
    assert client.post(reverse("cases:reveal", args=[case.pk]),
                       {"field": "head_id_number"}).status_code == 403
    client.logout()
    login(client, workers["township"])
    assert "完整号码" in client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    response = client.post(reverse("cases:reveal", args=[case.pk]), {"field": "head_id_number"})
    assert number in response.content.decode()
    assert CaseEvent.objects.filter(case=case, kind=EventKind.PII_VIEW,
                                    actor=workers["township"]).count() == 1


def _to_notice(workers, case):
    for step in ("accept",):
        services.case_transition(user=workers["village"], case_id=case.pk, transition=step)
    for kind in ("application", "identity", "poverty_proof", "review_minutes"):
        services.document_add(user=workers["village"], case_id=case.pk, kind=kind,
                              name=f"{kind}.png", content=PNG)
    for step in ("submit_review", "review_pass"):
        services.case_transition(user=workers["village"], case_id=case.pk, transition=step)


def test_posting_a_notice_and_the_printable_village_board(client, workers, programme):
    cases = [register(workers, programme, head_name=name) for name in ("王德明", "李桂芳")]
    for case in cases:
        _to_notice(workers, case)
    login(client, workers["village"])
    page = client.get(reverse("cases:notices", args=[programme.pk])).content.decode()
    assert "王德明" in page and "李桂芳" in page and "评议结果公示" in page
    today = dt.date.today()
    response = client.post(reverse("cases:notices", args=[programme.pk]), {
        "stage": "village_notice", "case": [c.pk for c in cases],
        "starts_on": today.isoformat(), "place": "村委会门口公开栏"}, follow=True)
    assert "村委会门口公开栏" in response.content.decode()
    board = client.get(reverse("cases:board", args=[cases[0].division_id])).content.decode()
    assert "农村危房改造对象评议结果公示" in board and "王德明" in board
    assert (today + dt.timedelta(days=2)).strftime("%Y年%-m月%-d日") in board
    assert "data-print" in board
    assert services.case_secrets(cases[0])["head_id_number"] not in board
    assert cases[0].subject_id_masked not in board  # a posted notice shows no ID numbers


def test_importing_a_list_on_the_page_reports_bad_rows_and_imports_the_valid_ones(
        client, workers, programme):
    good, bad = household(), household()
    bad["head_id_number"] = bad["head_id_number"][:17] + (
        "1" if bad["head_id_number"][17] != "1" else "2")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["户编号", "与户主关系", "姓名", "身份证号", "村代码", "联系电话", "贫困类型",
                     "叠加政策", "改造前建筑面积", "开户银行", "一卡通账号"])
    for ref, h in (("1", good), ("2", bad)):
        writer.writerow([ref, "户主", h["head_name"], h["head_id_number"], h["village"], "",
                         "低保户", "", "40", "", ""])
    upload = io.BytesIO(out.getvalue().encode("utf-8-sig"))
    upload.name = "花名册.csv"
    login(client, workers["township"])
    response = client.post(reverse("cases:imports", args=[programme.pk]), {"file": upload},
                           follow=True)
    page = response.content.decode()
    assert "校验位错误" in page and "data-testid=\"import-errors\"" in page
    batch = ImportBatch.objects.get()
    assert not Case.objects.exists()
    client.post(reverse("cases:import", args=[batch.pk]), {"mode": "all"})
    assert not Case.objects.exists()
    client.post(reverse("cases:import", args=[batch.pk]), {"mode": "valid"})
    assert Case.objects.get().subject_name == good["head_name"]


def test_duplicate_review_side_by_side_and_merge(client, workers, programme):
    first = register(workers, programme)
    son = services.case_secrets(first)["members"][1]
    register(workers, programme, head_name="王小军", head_id_number=son, members=[])
    login(client, workers["county"])
    client.post(reverse("cases:duplicates", args=[programme.pk]))
    pair = DuplicatePair.objects.get()
    page = client.get(reverse("cases:pair", args=[pair.pk])).content.decode()
    assert "王德明" in page and "王小军" in page and "table-warning" in page
    client.post(reverse("cases:pair", args=[pair.pk]), {"decision": "merge", "keep": "a",
                                                        "note": "重复登记"})
    pair.refresh_from_db()
    assert pair.status == "merged"
    client.logout()
    login(client, workers["village"])
    assert client.get(reverse("cases:pair", args=[pair.pk])).status_code == 404


def test_the_archive_lists_every_paper_and_what_is_missing(client, workers, programme):
    case = register(workers, programme)
    services.document_add(user=workers["village"], case_id=case.pk, kind="application",
                          name="申请书.png", content=PNG)
    login(client, workers["village"])
    page = client.get(reverse("cases:archive", args=[case.pk])).content.decode()
    assert "申请书.png" in page and "危房鉴定报告" in page and "补助资金发放凭证" in page
    assert "14" in page  # 15 papers in 07a's list, one present


def test_the_progress_report_counts_by_county(client, workers, programme):
    for _ in range(3):
        register(workers, programme)
    login(client, workers["office"])
    response = client.get(reverse("cases:progress", args=[programme.pk]))
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    county = next(r for r in rows if r[0] == "510521")
    assert county[1] == "泸县" and county[2] == 3


def test_an_office_creates_a_programme_with_the_figures_its_standard_needs(client, workers):
    login(client, workers["office"])
    response = client.post(reverse("cases:programmes"), {
        "name": "2025年泸县农村危房改造", "year": "2025", "division": "510521",
        "case_type": "housing", "table": "ningde-2012"}, follow=True)
    assert "须由项目确定" in response.content.decode()
    response = client.post(reverse("cases:programmes"), {
        "name": "2025年泸县农村危房改造", "year": "2025", "division": "510521",
        "case_type": "housing", "table": "ningde-2012", "param-family_planning_addon": "1000",
        "param-ethnic_minority_addon": "2000", "param-disabled_addon": "3000"})
    assert response.status_code == 302
