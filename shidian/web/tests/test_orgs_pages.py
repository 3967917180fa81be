"""The orgs pages as administrators, offices and liaisons of different counties use them."""
from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import Workbook, load_workbook
from playwright.sync_api import expect
from stdnum.cn import uscc

from shidian.orgs.models import Agency, AgencyAlias, Division, Role, User
from shidian.orgs.testing import PASSWORD, make_agency, make_divisions, make_user

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "Hejiang-liaison-2026"


@pytest.fixture
def world():
    """Two counties of 泸州市 with their agencies, admins, an office and a liaison."""
    make_divisions()
    luxian = make_agency("泸县卫生健康局", "510521", aliases=("县卫健局",))
    hejiang = make_agency("合江县卫生健康局", "510522", aliases=("合江卫健局",))
    return {
        "luxian": luxian, "hejiang": hejiang,
        "lx_admin": make_user("lx_admin", role=Role.ADMIN, division_code="510521"),
        "hj_admin": make_user("hj_admin", role=Role.ADMIN, division_code="510522"),
        "lx_office": make_user("lx_office", role=Role.OFFICE, division_code="510521"),
        "lx_liaison": make_user("lx_liaison", role=Role.LIAISON, division_code="510521",
                                agencies=(luxian,)),
        "hj_liaison": make_user("hj_liaison", role=Role.LIAISON, division_code="510522",
                                agencies=(hejiang,)),
    }


def as_user(client, user):
    client.force_login(user)
    return client


def test_orgs_menu_is_shown_to_administrators_only(client, world):
    html = as_user(client, world["lx_admin"]).get("/", follow=True).content.decode()
    assert 'data-testid="nav-orgs"' in html
    html = as_user(client, world["lx_liaison"]).get("/", follow=True).content.decode()
    assert 'data-testid="nav-orgs"' not in html


def test_office_reads_its_countys_agencies_only(client, world):
    html = as_user(client, world["lx_office"]).get(reverse("orgs:agencies")).content.decode()
    assert "泸县卫生健康局" in html and "合江县卫生健康局" not in html
    assert 'data-testid="agency-new"' not in html  # reading only
    assert client.get(reverse("orgs:agency", args=[world["luxian"].pk])).status_code == 200
    assert client.get(reverse("orgs:agency", args=[world["hejiang"].pk])).status_code == 404


def test_agency_search_by_alias_initials_and_division(client, world):
    make_agency("泸县民政局", "510521")
    as_user(client, world["lx_admin"])

    def names(**params):
        html = client.get(reverse("orgs:agencies"), params).content.decode()
        return {n for n in ("泸县卫生健康局", "泸县民政局", "合江县卫生健康局") if n in html}

    assert names(q="县卫健局") == {"泸县卫生健康局"}
    assert names(q="lxmzj") == {"泸县民政局"}
    assert names(division="510521") == {"泸县卫生健康局", "泸县民政局"}
    national = make_user("root", role=Role.ADMIN)
    as_user(client, national)
    assert names(division="510522") == {"合江县卫生健康局"}


def test_a_division_filter_outside_the_area_shows_nothing(client, world):
    html = as_user(client, world["lx_admin"]).get(
        reverse("orgs:agencies"), {"division": "510522"}).content.decode()
    assert "合江县卫生健康局" not in html and "在您的管辖范围内找不到" in html


def test_liaison_cannot_open_the_register(client, world):
    as_user(client, world["lx_liaison"])
    assert client.get(reverse("orgs:agencies")).status_code == 403
    assert client.get(reverse("orgs:users")).status_code == 403
    assert client.get(reverse("orgs:import", args=["agencies"])).status_code == 403


def test_admin_edits_an_agency_of_its_county(client, world):
    as_user(client, world["lx_admin"])
    response = client.post(reverse("orgs:agency", args=[world["luxian"].pk]), {
        "name": "泸县卫生健康局", "division": "510521", "kind": "government",
        "short_name": "县卫健局", "credit_code": "", "is_active": "on"})
    assert response.status_code == 302
    world["luxian"].refresh_from_db()
    assert world["luxian"].short_name == "县卫健局"


def test_editing_another_countys_agency_by_id_is_not_found_and_changes_nothing(client, world):
    as_user(client, world["lx_admin"])
    hejiang = world["hejiang"]
    response = client.post(reverse("orgs:agency", args=[hejiang.pk]), {
        "name": "改名", "division": "510521", "kind": "government"})
    assert response.status_code == 404
    assert client.post(reverse("orgs:alias-add", args=[hejiang.pk]),
                       {"name": "新别名"}).status_code == 404
    alias = hejiang.aliases.get()
    assert client.post(reverse("orgs:alias-remove", args=[hejiang.pk, alias.pk])
                       ).status_code == 404
    # and an alias id of another agency under one's own agency's URL
    assert client.post(reverse("orgs:alias-remove", args=[world["luxian"].pk, alias.pk])
                       ).status_code == 404
    hejiang.refresh_from_db()
    assert hejiang.name == "合江县卫生健康局"
    assert list(hejiang.aliases.values_list("name", flat=True)) == ["合江卫健局"]


def test_office_cannot_write(client, world):
    as_user(client, world["lx_office"])
    response = client.post(reverse("orgs:agency", args=[world["luxian"].pk]), {
        "name": "改名", "division": "510521", "kind": "government"})
    assert response.status_code == 403
    assert client.post(reverse("orgs:alias-add", args=[world["luxian"].pk]),
                       {"name": "新别名"}).status_code == 403
    assert client.get(reverse("orgs:agency-new")).status_code == 403
    world["luxian"].refresh_from_db()
    assert world["luxian"].name == "泸县卫生健康局"


def test_new_agency_page_creates_and_reports_duplicates(client, world):
    as_user(client, world["lx_admin"])
    form = {"name": "泸县民政局", "division": "510521", "kind": "government",
            "aliases": "县民政局、民政局"}
    response = client.post(reverse("orgs:agency-new"), form)
    agency = Agency.objects.get(name="泸县民政局")
    assert response.url == reverse("orgs:agency", args=[agency.pk])
    assert sorted(agency.aliases.values_list("name", flat=True)) == ["县民政局", "民政局"]
    again = client.post(reverse("orgs:agency-new"), form).content.decode()
    assert "已有名为“泸县民政局”的单位" in again
    assert Agency.objects.filter(name="泸县民政局").count() == 1


def test_new_agency_in_another_county_is_refused_on_the_page(client, world):
    as_user(client, world["lx_admin"])
    html = client.post(reverse("orgs:agency-new"), {
        "name": "合江县民政局", "division": "510522", "kind": "government"}).content.decode()
    assert 'data-testid="error-division"' in html and "510522" in html
    assert not Agency.objects.filter(name="合江县民政局").exists()


def test_bad_credit_code_is_shown_under_its_field(client, world):
    body = "12510521MB0000000"
    check = uscc.calc_check_digit(body)
    wrong = body + ("0" if check != "0" else "1")  # one wrong check character
    as_user(client, world["lx_admin"])
    html = client.post(reverse("orgs:agency-new"), {
        "name": "泸县人民医院", "division": "510521", "kind": "institution",
        "credit_code": wrong}).content.decode()
    assert 'data-testid="error-credit_code"' in html
    assert not Agency.objects.filter(name="泸县人民医院").exists()


def test_aliases_are_added_and_removed_on_the_agency_page(client, world):
    as_user(client, world["lx_admin"])
    luxian = world["luxian"]
    client.post(reverse("orgs:alias-add", args=[luxian.pk]), {"name": "县卫生健康局"})
    alias = luxian.aliases.get(name="县卫生健康局")
    html = client.get(reverse("orgs:agency", args=[luxian.pk])).content.decode()
    assert "县卫生健康局" in html
    client.post(reverse("orgs:alias-remove", args=[luxian.pk, alias.pk]))
    assert not AgencyAlias.objects.filter(pk=alias.pk).exists()


def test_county_admin_lists_and_opens_only_its_users(client, world):
    as_user(client, world["lx_admin"])
    html = client.get(reverse("orgs:users")).content.decode()
    assert "lx_liaison" in html and "hj_liaison" not in html and "hj_admin" not in html
    assert client.get(reverse("orgs:user", args=[world["hj_liaison"].pk])).status_code == 404
    response = client.post(reverse("orgs:user", args=[world["hj_liaison"].pk]), {
        "role": "admin", "division": "510521", "display_name": "x"})
    assert response.status_code == 404
    world["hj_liaison"].refresh_from_db()
    assert world["hj_liaison"].role == Role.LIAISON


def test_admin_creates_a_user_with_agency_and_password(client, world):
    as_user(client, world["hj_admin"])
    response = client.post(reverse("orgs:user-new"), {
        "username": "hj_new", "display_name": "王五", "role": "liaison", "division": "510522",
        "agencies": [str(world["hejiang"].pk)], "password": NEW_PASSWORD})
    user = User.objects.get(username="hj_new")
    assert response.url == reverse("orgs:user", args=[user.pk])
    assert list(user.agencies.all()) == [world["hejiang"]] and user.check_password(NEW_PASSWORD)


def test_user_form_shows_what_is_wrong(client, world):
    as_user(client, world["hj_admin"])
    form = {"username": "hj_new", "role": "liaison", "division": "510522",
            "agencies": [str(world["hejiang"].pk)], "password": "12345678"}
    html = client.post(reverse("orgs:user-new"), form).content.decode()
    assert 'data-testid="error-password"' in html
    form.update(password=NEW_PASSWORD, agencies=[])  # a liaison without an agency
    html = client.post(reverse("orgs:user-new"), form).content.decode()
    assert 'data-testid="error-agencies"' in html
    form.update(agencies=[str(world["luxian"].pk)])  # another county's agency, by id
    html = client.post(reverse("orgs:user-new"), form).content.decode()
    assert 'data-testid="error-agencies"' in html
    assert not User.objects.filter(username="hj_new").exists()


def test_user_edit_changes_role_and_keeps_password(client, world):
    as_user(client, world["lx_admin"])
    target = world["lx_office"]
    response = client.post(reverse("orgs:user", args=[target.pk]), {
        "role": "liaison", "division": "510521", "agencies": [str(world["luxian"].pk)],
        "display_name": "赵六", "is_active": "on", "password": ""})
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.role == Role.LIAISON and target.check_password(PASSWORD)


def test_unlock_from_the_user_list(client, world, settings):
    locked = world["lx_liaison"]
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": locked.username, "password": "wrong-pass"})
    as_user(client, world["lx_admin"])
    html = client.get(reverse("orgs:users")).content.decode()
    assert 'data-testid="locked"' in html
    assert client.post(reverse("orgs:user-unlock", args=[locked.pk])).status_code == 302
    assert 'data-testid="locked"' not in client.get(reverse("orgs:users")).content.decode()


def test_another_countys_admin_cannot_unlock(client, world, settings):
    locked = world["lx_liaison"]
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": locked.username, "password": "wrong-pass"})
    as_user(client, world["hj_admin"])
    assert client.post(reverse("orgs:user-unlock", args=[locked.pk])).status_code == 404
    as_user(client, world["lx_admin"])
    assert 'data-testid="locked"' in client.get(reverse("orgs:users")).content.decode()


def xlsx(rows):
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    buffer.name = "agencies.xlsx"
    return buffer


def test_import_template_downloads_as_excel(client, world):
    as_user(client, world["lx_admin"])
    response = client.get(reverse("orgs:import-template", args=["users"]))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    head = [c.value for c in load_workbook(io.BytesIO(response.content)).worksheets[0][1]]
    assert "用户名" in head and "角色" in head


def test_import_page_lists_every_error_and_saves_nothing(client, world):
    as_user(client, world["lx_admin"])
    upload = xlsx([["单位名称", "所属区划", "单位类型"],
                   ["泸县民政局", "510521", "政府部门"],
                   ["泸县教育局", "999999", "政府部门"],
                   ["泸县财政局", "510521", "衙门"]])
    html = client.post(reverse("orgs:import", args=["agencies"]), {"file": upload}
                       ).content.decode()
    assert 'data-testid="import-errors"' in html
    assert "999999" in html and "衙门" in html
    assert "未保存任何数据" in html
    assert not Agency.objects.filter(name__in=["泸县民政局", "泸县教育局"]).exists()


def test_import_page_explains_wrong_columns(client, world):
    as_user(client, world["lx_admin"])
    upload = xlsx([["姓名", "电话"], ["张三", "13800000000"]])
    html = client.post(reverse("orgs:import", args=["agencies"]), {"file": upload}
                       ).content.decode()
    assert "缺少以下列" in html and "单位名称" in html


def test_import_page_imports_a_good_file(client, world):
    as_user(client, world["lx_admin"])
    upload = xlsx([["单位名称", "所属区划", "别名"], ["泸县民政局", "510521", "县民政局"]])
    html = client.post(reverse("orgs:import", args=["agencies"]), {"file": upload},
                       follow=True).content.decode()
    assert "已导入 1 行" in html
    assert Agency.objects.get(name="泸县民政局").aliases.get().name == "县民政局"


def test_division_pages_stay_inside_the_area(client, world):
    as_user(client, world["lx_admin"])
    html = client.get(reverse("orgs:divisions")).content.decode()
    assert "泸县" in html and "合江县" not in html
    assert client.get(reverse("orgs:division", args=["510522"])).status_code == 404
    options = client.get(reverse("orgs:division-options"), {"q": "县"}).content.decode()
    assert "510521" in options and "510522" not in options


def test_division_can_be_typed_by_name(client, world):
    as_user(client, world["lx_admin"])
    html = client.get(reverse("orgs:agencies"), {"division": "泸县"}).content.decode()
    assert "泸县卫生健康局" in html
    client.post(reverse("orgs:agency-new"), {"name": "泸县民政局", "division": "泸县",
                                              "kind": "government"})
    assert Agency.objects.get(name="泸县民政局").division_id == "510521"


def test_division_page_counts_agencies_below(client, world):
    as_user(client, make_user("root", role=Role.ADMIN))
    html = client.get(reverse("orgs:division", args=["5105"])).content.decode()
    assert 'href="/orgs/agencies/?division=510521">1<' in html


def test_pages_handle_an_empty_division_tree(client):
    admin = User.objects.create_user("empty_admin", password=PASSWORD, role=Role.ADMIN)
    assert not Division.objects.exists()
    as_user(client, admin)
    for url in (reverse("orgs:agencies"), reverse("orgs:divisions"), reverse("orgs:agency-new"),
                reverse("orgs:user-new"), reverse("orgs:users")):
        response = client.get(url)
        assert response.status_code == 200, url
    assert 'data-testid="empty-tree"' in client.get(reverse("orgs:agencies")).content.decode()
    assert 'data-testid="empty-tree"' in client.get(reverse("orgs:divisions")).content.decode()


def test_agency_list_queries_do_not_grow_with_rows(client, world, django_assert_max_num_queries):
    for n in range(30):
        make_agency(f"泸县测试单位{n}", "510521", aliases=(f"测试{n}",))
    as_user(client, world["lx_admin"])
    with django_assert_max_num_queries(12):
        client.get(reverse("orgs:agencies"))


@pytest.mark.browser
def test_browser_admin_imports_agencies_and_sees_the_error_table(page, live_server,
                                                                 transactional_db, tmp_path):
    """泸州市's administrator uploads an agency list with two bad rows: the page lists them by
    row and column and saves nothing; the corrected file imports, and the list shows the units."""
    make_divisions()
    admin = make_user("lz_admin", role=Role.ADMIN, division_code="5105")
    shots = page.artifacts
    head = ["单位名称", "所属区划", "单位类型", "简称", "统一社会信用代码", "别名"]
    rows = [["泸县卫生健康局", "510521", "政府部门", "", "", "县卫健局"],
            ["泸县民政局", "510599", "政府部门", "", "", ""],
            ["合江县卫生健康局", "合江县", "衙门", "", "", "合江卫健局"]]
    bad = tmp_path / "单位-有错误.xlsx"
    bad.write_bytes(xlsx([head, *rows]).getvalue())

    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", admin.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=current-user]")
    page.click("[data-testid=nav-orgs]")
    page.click("[data-testid=nav-import-agencies]")
    page.wait_for_selector("[data-testid=import-form]")
    page.set_input_files("#id_file", str(bad))
    page.click("[data-testid=import-submit]")
    table = page.wait_for_selector("[data-testid=import-errors]")
    page.screenshot(path=str(shots / "1-errors.png"), full_page=True)
    cells = [[td.inner_text() for td in tr.query_selector_all("td")]
             for tr in table.query_selector_all("tbody tr")]
    assert [(c[0], c[1], c[2]) for c in cells] == [("3", "所属区划", "510599"),
                                                  ("4", "单位类型", "衙门")]
    assert "未保存任何数据" in page.inner_text("main")
    assert not Agency.objects.exists()

    rows[1][1], rows[2][2] = "510521", "政府部门"
    good = tmp_path / "单位.xlsx"
    good.write_bytes(xlsx([head, *rows]).getvalue())
    page.set_input_files("#id_file", str(good))
    page.click("[data-testid=import-submit]")
    page.wait_for_selector("text=已导入 3 行")
    assert page.query_selector("[data-testid=import-errors]") is None
    page.screenshot(path=str(shots / "2-imported.png"), full_page=True)

    page.goto(f"{live_server.url}{reverse('orgs:agencies')}?q=hjx")
    page.wait_for_selector("[data-testid=agency-table]")
    listed = page.inner_text("[data-testid=agency-table]")
    assert "合江县卫生健康局" in listed and "合江卫健局" in listed and "泸县民政局" not in listed
    page.screenshot(path=str(shots / "3-search-by-initials.png"), full_page=True)


@pytest.mark.browser
def test_browser_admin_creates_a_liaison_picking_the_agency_of_a_county(page, live_server,
                                                                        transactional_db):
    """The agency choices follow the division typed (htmx); the new liaison can log in."""
    make_divisions()
    make_agency("泸县卫生健康局", "510521")
    make_agency("合江县卫生健康局", "510522")
    admin = make_user("lz_admin", role=Role.ADMIN, division_code="5105")
    shots = page.artifacts
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", admin.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=current-user]")
    page.goto(f"{live_server.url}{reverse('orgs:user-new')}")
    options = page.locator("#agency-options")
    assert "合江县卫生健康局" in options.inner_text()  # the whole city before a county is typed
    page.fill("#id_username", "lx_liaison")
    page.fill("#id_display_name", "张三")
    page.select_option("#id_role", "liaison")
    page.fill("#id_division", "泸县")  # a unique name works as well as the code
    # A locator assertion, not wait_for_function: the CSP forbids the eval that one needs.
    expect(options).not_to_contain_text("合江县")
    assert page.inner_text("[data-testid=division-chain]") == "四川省 / 泸州市 / 泸县"
    page.check("#agency-options input[type=checkbox]")
    page.fill("#id_password", NEW_PASSWORD)
    page.screenshot(path=str(shots / "1-user-form.png"), full_page=True)
    page.click("[data-testid=user-save]")
    page.wait_for_selector("text=用户 lx_liaison 已创建")
    liaison = User.objects.get(username="lx_liaison")
    assert [a.name for a in liaison.agencies.all()] == ["泸县卫生健康局"]
    assert liaison.division_id == "510521" and liaison.check_password(NEW_PASSWORD)
