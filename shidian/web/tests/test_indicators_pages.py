"""The indicators pages as clerks, offices and leaders meet them, scope checks included."""
import io
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from shidian.core.i18n import compile_catalogs
from shidian.core.periods import PeriodKind, period_containing
from shidian.indicators import services
from shidian.indicators.models import DataValue, Target, TargetStatus
from shidian.indicators.testing import make_world
from shidian.orgs.models import Division
from shidian.plans.testing import make_plan

YUCHAN, FUJI, HEJIANG = "510521100", "510521101", "510522100"


@pytest.fixture(autouse=True, scope="module")
def _catalogs():
    if compile_catalogs():
        from django.utils.translation import trans_real

        trans_real._translations = {}
        trans_real._default = None


@pytest.fixture(autouse=True)
def _setup(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.LANGUAGE_CODE = "zh-hans"


@pytest.fixture
def world(db):
    return make_world()


def last_month():
    return period_containing(timezone.localdate(), PeriodKind.MONTH).previous()


def entry_url(world, code=YUCHAN, period=None):
    period = period or last_month()
    return (reverse("indicators:entry", args=[world.data_set.pk])
            + f"?division={code}&period={period.id}")


def enter(world, code, rooms, villages=10, period=None):
    services.values_save(user=world.office, data_set=world.data_set,
                         division=Division.objects.get(code=code),
                         period=(period or last_month()).id,
                         values={"rooms": str(rooms), "villages": str(villages)})


def post_form(client, world, code=YUCHAN, **values):
    data = {"division": code, "period": last_month().id,
            **{f"v-{k}": str(v) for k, v in values.items()}}
    return client.post(reverse("indicators:entry", args=[world.data_set.pk]), data)


def test_a_township_clerk_enters_its_own_figures(client, world):
    client.force_login(world.clerk)
    page = client.get(entry_url(world)).content.decode()
    assert "玉蟾街道" in page and "已建成心理咨询室的村（社区）数" in page
    assert "合江镇" not in page                     # not in the clerk's choices
    response = post_form(client, world, rooms=3, villages=10)
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "已保存" in page and "已报送" in page and "修改记录" in page
    assert DataValue.objects.get(element=world.rooms, division_id=YUCHAN).value == 3


def test_a_clerk_editing_the_url_to_another_township_gets_not_found(client, world):
    client.force_login(world.clerk)
    assert client.get(entry_url(world, code=HEJIANG)).status_code == 404
    assert client.get(entry_url(world, code=FUJI)).status_code == 404    # same county
    assert post_form(client, world, code=HEJIANG, rooms=1, villages=2).status_code == 404
    assert not DataValue.objects.exists()


def test_a_data_set_of_another_province_is_not_found(client, world):
    from shidian.orgs.testing import make_user

    hubei = make_user("hubei-office", role="office", division_code="42")
    other = services.data_set_create(user=hubei, name="湖北月报", period_type="M",
                                     elements=[world.rooms], division=Division.objects.get(
                                         code="42"), level=3)
    client.force_login(world.clerk)
    assert client.get(reverse("indicators:entry", args=[other.pk])).status_code == 404
    assert client.get(reverse("indicators:completeness", args=[other.pk])).status_code == 404


def test_a_leader_reads_but_cannot_enter(client, world):
    client.force_login(world.leader)
    page = client.get(reverse("indicators:entry", args=[world.data_set.pk])).content.decode()
    assert "没有负责填报的区划" in page
    assert post_form(client, world, rooms=1, villages=2).status_code == 404
    assert client.get(reverse("indicators:indicator", args=[world.rate.pk])
                      + "?area=5105").status_code == 200


def test_bad_input_is_explained_in_chinese_and_nothing_changes(client, world):
    enter(world, YUCHAN, 3)
    client.force_login(world.clerk)
    page = post_form(client, world, rooms="三", villages=10).content.decode()
    assert "部分数据有误" in page and "不是数字" in page
    page = post_form(client, world, rooms=12, villages=10).content.decode()
    assert "建成数不能超过村（社区）总数" in page
    assert DataValue.objects.get(element=world.rooms, division_id=YUCHAN).value == 3


def test_a_county_sees_its_subtree_and_not_the_neighbour(client, world):
    enter(world, YUCHAN, 3)
    enter(world, FUJI, 5)
    enter(world, HEJIANG, 9)
    client.force_login(world.county)
    url = reverse("indicators:indicator", args=[world.rate.pk])
    page = client.get(url + f"?period={last_month().id}").content.decode()
    assert "泸县" in page and "40.0%" in page          # (3 + 5) / 20
    assert "玉蟾街道" in page and "30.0%" in page and "福集镇" in page
    assert "合江" not in page
    assert client.get(url + "?area=510522").status_code == 404
    assert client.get(url + "?area=5105").status_code == 404
    completeness = client.get(reverse("indicators:completeness", args=[world.data_set.pk])
                              + f"?period={last_month().id}").content.decode()
    assert "2/2" in completeness


def test_the_drilldown_exports_to_excel(client, world):
    enter(world, YUCHAN, 3)
    client.force_login(world.office)
    response = client.get(reverse("indicators:indicator_export", args=[world.rate.pk])
                          + f"?area=510521&period={last_month().id}")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[2][:2] == ("510521", "泸县") and rows[2][4] == 30.0   # 3 of 10 villages
    assert rows[3][:2] == ("510521100", "玉蟾街道") and rows[4][4] is None   # 福集镇: no data


def test_excel_round_trip_reports_every_bad_cell_then_saves(client, world):
    enter(world, YUCHAN, 2)
    client.force_login(world.county)
    response = client.get(reverse("indicators:template", args=[world.data_set.pk])
                          + f"?period={last_month().id}")
    book = load_workbook(io.BytesIO(response.content))
    sheet = book.active
    rows = {sheet.cell(r, 1).value: r for r in range(4, sheet.max_row + 1)}
    assert set(rows) == {YUCHAN, FUJI}                # 泸县's townships only
    assert sheet.cell(rows[YUCHAN], 3).value == 2     # prefilled
    sheet.cell(rows[YUCHAN], 3).value = "很多"         # not a number
    sheet.cell(rows[FUJI], 3).value = 12              # more rooms than villages
    sheet.cell(rows[FUJI], 4).value = 10
    sheet.append([HEJIANG, "合江镇", 1, 10])           # not the county's township

    def upload():
        buffer = io.BytesIO()
        book.save(buffer)
        buffer.seek(0)
        buffer.name = "填报.xlsx"
        return client.post(reverse("indicators:upload", args=[world.data_set.pk]),
                           {"file": buffer})

    page = upload().content.decode()
    assert "发现3处问题，未保存任何数据" in page
    assert f"<td>{rows[YUCHAN]}</td><td>C</td><td>不是数字。</td>" in page
    assert "建成数不能超过村（社区）总数" in page
    assert "不是您在本数据集中负责填报的区划" in page
    assert DataValue.objects.get(element=world.rooms, division_id=YUCHAN).value == 2
    assert not DataValue.objects.filter(division_id=FUJI).exists()

    sheet.cell(rows[YUCHAN], 3).value = 4
    sheet.cell(rows[FUJI], 3).value = 6
    sheet.delete_rows(sheet.max_row)
    assert upload().status_code == 302
    assert DataValue.objects.get(element=world.rooms, division_id=YUCHAN).value == 4
    assert DataValue.objects.get(element=world.rooms, division_id=FUJI).value == 6


def test_the_office_reviews_plan_indicators_into_targets(client, world, seed_dir):
    import json

    gold = json.loads((seed_dir / "12f-wuhan-psych.gold.json").read_text(encoding="utf-8"))
    plan = make_plan("社会心理服务体系建设试点方案", "5105")
    plan.parsed = {"indicators": gold["indicators"]}
    plan.save()
    client.force_login(world.office)
    url = reverse("indicators:plan_targets", args=[plan.pk])
    assert client.post(url).status_code == 302
    drafts = Target.objects.filter(plan=plan, status=TargetStatus.DRAFT)
    assert drafts.count() == len([i for i in gold["indicators"] if i["target"] is not None])
    page = client.get(url).content.decode()
    assert "待审核" in page and drafts[0].indicator.name in page
    first = drafts.order_by("id")[0]
    response = client.post(reverse("indicators:target_confirm", args=[first.pk]), {
        "numerator": "#{nothing}", "denominator": "", "factor": "100", "decimals": "1",
        "comparator": ">=", "value": "80", "deadline": "2021-12-31", "level": "3"})
    assert "没有编码为 nothing 的数据项" in client.get(response["Location"]).content.decode()
    client.post(reverse("indicators:target_confirm", args=[first.pk]), {
        "numerator": "#{rooms}", "denominator": "#{villages}", "factor": "100",
        "decimals": "1", "comparator": ">=", "value": "80", "deadline": "2021-12-31",
        "level": "3", "period_type": "M"})
    first.refresh_from_db()
    assert first.status == TargetStatus.CONFIRMED and first.level == 3
    board = client.get(reverse("indicators:plan_board", args=[plan.pk])).content.decode()
    assert "泸县" in board and "合江县" in board and "投影" not in board


def test_a_clerk_cannot_confirm_targets(client, world):
    plan = make_plan("方案", "5105")
    plan.parsed = {"indicators": [{"name": "建成率", "comparator": ">=", "target": 80,
                                   "unit": "%", "deadline": "2021-12", "text": ""}]}
    plan.save()
    draft = services.targets_from_plan(user=world.office, plan=plan)[0]
    client.force_login(world.clerk)
    response = client.post(reverse("indicators:target_confirm", args=[draft.pk]), {
        "numerator": "#{rooms}", "factor": "1", "comparator": ">=", "value": "1",
        "deadline": "2021-12-31"})
    assert response.status_code == 404
    draft.refresh_from_db()
    assert draft.status == TargetStatus.DRAFT


@pytest.mark.browser
def test_browser_a_clerk_enters_a_value_and_the_county_attainment_changes(page, live_server,
                                                                          transactional_db):
    """泸县's plan wants 80% of villages with a counselling room; 泸县 stands at 45%.
    玉蟾街道's clerk enters the rooms built last month; the county office sees 泸县 reach 85%
    and attain the target."""
    from shidian.orgs.testing import PASSWORD

    world = make_world()
    today = timezone.localdate()
    plan = make_plan("泸县社会心理服务体系建设试点实施方案", "510521")
    target = services.target_create(
        user=world.county, indicator=world.rate, value=80, plan=plan,
        deadline=date(today.year + 1, 12, 31), start=today - timedelta(days=120),
        division=Division.objects.get(code="510521"))
    enter(world, YUCHAN, 1)
    enter(world, FUJI, 8)
    shots = page.artifacts

    def log_in(user):
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("[data-testid=current-user]")

    def log_out():
        page.click("nav form button[type=submit]")
        page.wait_for_url("**/login/**")

    board_url = f"{live_server.url}{reverse('indicators:plan_board', args=[plan.pk])}"
    log_in(world.county)
    page.goto(board_url)
    assert page.inner_text("[data-testid=current-510521]").startswith("45.0%")
    assert page.inner_text("[data-testid=standing-510521]") != "已达标"
    page.screenshot(path=str(shots / "1-board-before.png"), full_page=True)
    log_out()

    log_in(world.clerk)
    page.click("[data-testid=nav-indicators]")
    page.click("text=填报")
    page.wait_for_selector("[data-testid=entry-form]")
    page.fill("[data-testid=value-rooms]", "9")
    page.screenshot(path=str(shots / "2-entry-form.png"), full_page=True)
    page.click("[data-testid=save]")
    page.wait_for_selector("[data-testid=complete]")
    assert "已保存" in page.inner_text("main")
    page.screenshot(path=str(shots / "3-saved.png"), full_page=True)
    log_out()

    log_in(world.county)
    page.goto(board_url)
    assert page.inner_text("[data-testid=current-510521]").startswith("85.0%")
    assert page.inner_text("[data-testid=standing-510521]") == "已达标"
    page.screenshot(path=str(shots / "4-board-after.png"), full_page=True)
    page.click(f"text={world.rate.name}")
    page.goto(f"{live_server.url}{reverse('indicators:indicator', args=[world.rate.pk])}"
              f"?period={last_month().id}")
    page.wait_for_selector("#trend-chart canvas, #trend-chart svg")
    assert "85.0%" in page.inner_text("[data-testid=own-value]")
    page.screenshot(path=str(shots / "5-indicator.png"), full_page=True)
    assert Target.objects.get(pk=target.pk).status == TargetStatus.CONFIRMED


def test_the_office_defines_elements_a_data_set_a_rule_and_an_indicator(client, world):
    client.force_login(world.county)
    url = reverse("indicators:define")
    client.post(url, {"action": "element", "code": "trained", "name": "参训人数",
                      "value_type": "integer", "aggregation": "sum", "unit": "人"})
    page = client.get(url).content.decode()
    assert "已保存：参训人数" in page
    from shidian.indicators.models import DataElement, DataSet, Indicator
    trained = DataElement.objects.get(code="trained")
    client.post(url, {"action": "data_set", "name": "培训季报", "period_type": "Q",
                      "level": "4", "due_days": "10", "expiry_days": "",
                      "elements": [trained.pk, world.villages.pk]})
    data_set = DataSet.objects.get(name="培训季报")
    assert data_set.division_id == "510521" and data_set.level == 4
    response = client.post(url, {"action": "rule", "data_set": data_set.pk,
                                 "left": "#{trained}", "operator": ">=", "right": "0",
                                 "message": "人数不能为负", "severity": "block"})
    assert response.status_code == 302 and data_set.validation_rules.count() == 1
    response = client.post(url, {"action": "indicator", "name": "人均参训",
                                 "numerator": "#{trained} /", "factor": "1",
                                 "decimals": "1", "period_type": "Q"})
    assert "公式不完整" in response.content.decode()
    assert not Indicator.objects.filter(name="人均参训").exists()
    client.force_login(world.clerk)
    assert client.get(url).status_code == 404


def test_an_agency_reports_its_own_figures_and_completeness_counts_it(client, world):
    from shidian.orgs.testing import make_agency, make_user

    health = make_agency("泸县卫生健康局", "510521")
    civil = make_agency("泸县民政局", "510521")
    liaison = make_user("health-liaison", role="liaison", agencies=(health,))
    other = make_user("civil-liaison", role="liaison", agencies=(civil,))
    patients = services.data_element_create(user=world.office, code="patients",
                                            name="在册患者数", unit="人")
    data_set = services.data_set_create(user=world.office, name="部门月报", period_type="M",
                                        elements=[patients],
                                        division=Division.objects.get(code="5105"), level=None,
                                        agencies=[health, civil])
    url = reverse("indicators:entry", args=[data_set.pk])
    client.force_login(liaison)
    page = client.get(url).content.decode()
    assert "泸县卫生健康局" in page and "泸县民政局" not in page
    response = client.post(url, {"agency": health.pk, "period": last_month().id,
                                 "v-patients": "120"})
    assert response.status_code == 302
    assert DataValue.objects.get(element=patients).agency == health
    client.force_login(other)
    assert client.post(url, {"agency": health.pk, "period": last_month().id,
                             "v-patients": "1"}).status_code == 404
    assert DataValue.objects.get(element=patients).value == 120
    client.force_login(world.office)
    page = client.get(reverse("indicators:completeness", args=[data_set.pk])
                      + f"?period={last_month().id}").content.decode()
    assert "1/2" in page


def test_a_city_splits_its_target_among_its_counties(client, world):
    households = services.indicator_create(user=world.office, name="完成改造户数",
                                           numerator="#{rooms}", decimals=0, unit="户")
    whole = services.target_create(user=world.office, indicator=households, value=5000,
                                   deadline=date(2021, 12, 31), cumulative=True,
                                   division=Division.objects.get(code="5105"))
    client.force_login(world.office)
    page = client.get(reverse("indicators:target", args=[whole.pk])).content.decode()
    assert "泸县" in page and "合江县" in page
    client.post(reverse("indicators:target_allocate", args=[whole.pk]),
                {"share-510521": "3000", "share-510522": "1500"})
    shares = {t.division_id: t.value for t in Target.objects.filter(parent=whole)}
    assert shares == {"510521": 3000, "510522": 1500}
    page = client.get(reverse("indicators:target", args=[whole.pk])).content.decode()
    assert "分解数合计为4500，目标为5000" in page
    client.force_login(world.county)                 # a county cannot re-split the city's
    assert client.post(reverse("indicators:target_allocate", args=[whole.pk]),
                       {"share-510521": "1"}).status_code == 404
    assert Target.objects.get(parent=whole, division_id="510521").value == 3000
