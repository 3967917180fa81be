"""Bulk import from Excel: every bad cell is reported and nothing is saved unless all is good."""
from __future__ import annotations

import io

import pytest
from openpyxl import Workbook, load_workbook
from stdnum.cn import uscc

from shidian.orgs import imports
from shidian.orgs.imports import AGENCY_COLUMNS, USER_COLUMNS, ImportFailed
from shidian.orgs.models import Agency, AgencyKind, Division, DivisionLevel, Role, User
from shidian.orgs.testing import make_agency, make_divisions, make_user

pytestmark = pytest.mark.django_db
PASSWORD = "Import-password-2026"


def header(columns, key):
    return next(c.label for c in columns if c.key == key)


def workbook(rows: list[list[object]]) -> io.BytesIO:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    return buffer


def agency_file(rows: list[list[object]]) -> io.BytesIO:
    """Rows under the template's own header (name, division, kind, short, code, aliases)."""
    template = load_workbook(io.BytesIO(imports.agencies_template()))
    head = [cell.value for cell in template.worksheets[0][1]]
    return workbook([head, *rows])


def user_file(rows: list[list[object]]) -> io.BytesIO:
    template = load_workbook(io.BytesIO(imports.users_template()))
    head = [cell.value for cell in template.worksheets[0][1]]
    return workbook([head, *rows])


def credit_code(body: str) -> str:
    return body + uscc.calc_check_digit(body)


@pytest.fixture
def admin():
    make_divisions()
    return make_user("sc_admin", role=Role.ADMIN, division_code="5105")


def issues_by_cell(failed: ImportFailed) -> dict[tuple[int, str], str]:
    return {(i.row, i.column): i.message for i in failed.result.issues}


def test_the_template_has_the_columns_in_chinese_and_lists_the_kinds():
    book = load_workbook(io.BytesIO(imports.agencies_template()))
    head = [cell.value for cell in book.worksheets[0][1]]
    assert head[:2] == ["单位名称", "所属区划"]
    notes = " ".join(str(c.value) for row in book.worksheets[1].iter_rows() for c in row)
    assert "党委部门" in notes and "事业单位" in notes


def test_a_good_file_creates_every_agency(admin):
    code = credit_code("12510521MB0000000")
    result = imports.agencies_import(actor=admin, upload=agency_file([
        ["泸县卫生健康局", "510521", "政府部门", "县卫健局", code, "县卫健局、县卫生局"],
        ["泸县人民医院", 510521, "事业单位", None, None, None],
        ["泸州市民政局", "泸州市", None, None, None, None],
        ["合江县民政局", "510522000000", "government", None, None, None],
    ]))
    assert (result.rows, result.created, result.issues) == (4, 4, [])
    bureau = Agency.objects.get(name="泸县卫生健康局")
    assert bureau.division_id == "510521" and bureau.credit_code == code
    assert sorted(bureau.aliases.values_list("name", flat=True)) == ["县卫健局", "县卫生局"]
    assert bureau.initials == "lxwsjkj"
    assert Agency.objects.get(name="泸县人民医院").kind == AgencyKind.INSTITUTION
    assert Agency.objects.get(name="泸州市民政局").division_id == "5105"
    assert Agency.objects.get(name="合江县民政局").division_id == "510522"


def test_every_bad_cell_is_reported_and_nothing_is_saved(admin):
    good_code = credit_code("12510521MB0000000")
    bad_code = good_code[:-1] + ("0" if good_code[-1] != "0" else "1")
    with pytest.raises(ImportFailed) as caught:
        imports.agencies_import(actor=admin, upload=agency_file([
            ["泸县卫生健康局", "510521", None, None, None, None],  # good
            ["泸县民政局", "999999", None, None, None, None],  # unknown code
            ["泸县教育局", "510521", "衙门", None, None, None],  # unknown kind
            ["泸县财政局", "510521", None, None, bad_code, None],  # bad check character
            [None, "510521", None, None, None, None],  # no name
            ["江岸区民政局", "420102", None, None, None, None],  # outside the admin's area
            ["泸县公安局", "不存在的县", None, None, None, None],  # unknown name
        ]))
    cells = issues_by_cell(caught.value)
    division = header(AGENCY_COLUMNS, "division")
    assert set(cells) == {(3, division), (4, header(AGENCY_COLUMNS, "kind")),
                          (5, header(AGENCY_COLUMNS, "credit_code")),
                          (6, header(AGENCY_COLUMNS, "name")), (7, division), (8, division)}
    assert "999999" in cells[(3, division)]
    assert not Agency.objects.exists()


def test_a_file_with_wrong_columns_says_which_are_missing(admin):
    with pytest.raises(ImportFailed) as caught:
        imports.agencies_import(actor=admin, upload=user_file([
            ["lx_user", "张三", "单位联络员", "510521", "泸县卫生健康局", "", "", PASSWORD],
        ]))
    messages = " ".join(i.message for i in caught.value.result.issues)
    assert "单位名称" in messages  # the missing column is named
    assert not Agency.objects.exists()


def test_an_unknown_column_is_reported_not_ignored(admin):
    with pytest.raises(ImportFailed) as caught:
        imports.agencies_import(actor=admin, upload=workbook([
            ["单位名称", "所属区划", "统一社会信用代玛"],
            ["泸县卫生健康局", "510521", "x"],
        ]))
    (issue,) = caught.value.result.issues
    assert issue.row == 1 and "统一社会信用代玛" in issue.message


def test_headers_in_english_and_with_marks_are_accepted(admin):
    result = imports.agencies_import(actor=admin, upload=workbook([
        ["Agency name", "*所属区划（必填）"],
        ["泸县卫生健康局", "510521"],
    ]))
    assert result.created == 1


def test_duplicate_rows_are_reported_against_the_first(admin):
    make_agency("泸县民政局", "510521")
    with pytest.raises(ImportFailed) as caught:
        imports.agencies_import(actor=admin, upload=agency_file([
            ["泸县卫生健康局", "510521"],
            ["泸县卫生健康局", "510521"],
            ["泸县民政局", "510521"],  # already registered
        ]))
    cells = issues_by_cell(caught.value)
    name = header(AGENCY_COLUMNS, "name")
    assert set(cells) == {(3, name), (4, name)}
    assert "2" in cells[(3, name)]
    assert Agency.objects.count() == 1


def test_partial_import_saves_the_good_rows_and_lists_the_bad(admin):
    result = imports.agencies_import(actor=admin, partial=True, upload=agency_file([
        ["泸县卫生健康局", "510521"],
        ["泸县民政局", "999999"],
    ]))
    assert (result.created, result.skipped, len(result.issues)) == (1, 1, 1)
    assert list(Agency.objects.values_list("name", flat=True)) == ["泸县卫生健康局"]


def test_not_an_excel_file(admin):
    with pytest.raises(ImportFailed) as caught:
        imports.agencies_import(actor=admin, upload=io.BytesIO("单位名称,所属区划\n".encode()))
    assert caught.value.result.issues[0].message == str(imports.NOT_EXCEL)


def test_an_ambiguous_division_name_asks_for_the_code(admin):
    for code in ("510521101", "510522101"):
        Division.objects.create(code=code, name="城关镇", level=DivisionLevel.TOWNSHIP,
                                parent_id=code[:6])
    with pytest.raises(ImportFailed) as caught:
        imports.agencies_import(actor=admin, upload=agency_file([["城关镇政府", "城关镇"]]))
    (issue,) = caught.value.result.issues
    assert "510521101" in issue.message and "510522101" in issue.message


def test_a_good_user_file_creates_users_with_their_agencies(admin):
    bureau = make_agency("泸县卫生健康局", "510521", aliases=("县卫健局",))
    result = imports.users_import(actor=admin, upload=user_file([
        ["lx_wjj", "张三", "单位联络员", "510521", "县卫健局", "13800000000", "", PASSWORD],
        ["lz_office", "李四", "office", "5105", None, None, None, PASSWORD],
    ]))
    assert result.created == 2
    liaison = User.objects.get(username="lx_wjj")
    assert (liaison.role, liaison.division_id, liaison.display_name) == (
        Role.LIAISON, "510521", "张三")
    assert list(liaison.agencies.all()) == [bureau]
    assert liaison.password.startswith("argon2") and liaison.check_password(PASSWORD)
    assert User.objects.get(username="lz_office").role == Role.OFFICE


def test_bad_user_rows_are_all_reported(admin):
    make_agency("泸县卫生健康局", "510521")
    make_user("taken")
    with pytest.raises(ImportFailed) as caught:
        imports.users_import(actor=admin, upload=user_file([
            ["ok_user", "", "单位联络员", "510521", "泸县卫生健康局", "", "", PASSWORD],
            ["bad_role", "", "县长", "510521", "", "", "", PASSWORD],
            ["Taken", "", "方案办公室", "510521", "", "", "", PASSWORD],
            ["no_agency", "", "单位联络员", "510521", "不存在的单位", "", "", PASSWORD],
            ["weak", "", "方案办公室", "510521", "", "", "", "12345678"],
            ["far_away", "", "方案办公室", "420102", "", "", "", PASSWORD],
            ["ok_user", "", "方案办公室", "510521", "", "", "", PASSWORD],
            ["lonely", "", "单位联络员", "510521", "", "", "", PASSWORD],  # liaison, no agency
        ]))
    cells = issues_by_cell(caught.value)
    col = lambda key: header(USER_COLUMNS, key)  # noqa: E731
    assert set(cells) == {(3, col("role")), (4, col("username")), (5, col("agencies")),
                          (6, col("password")), (7, col("division")), (8, col("username")),
                          (9, col("agencies"))}
    assert not User.objects.filter(username__in=["ok_user", "bad_role", "lonely"]).exists()


def test_user_file_with_wrong_columns(admin):
    with pytest.raises(ImportFailed) as caught:
        imports.users_import(actor=admin, upload=agency_file([["泸县卫生健康局", "510521"]]))
    messages = " ".join(i.message for i in caught.value.result.issues)
    assert "用户名" in messages and "角色" in messages
    assert not User.objects.exclude(username="sc_admin").exists()


def test_only_admins_import(admin):
    office = make_user("office", role=Role.OFFICE, division_code="5105")
    with pytest.raises(Exception) as caught:
        imports.agencies_import(actor=office, upload=agency_file([["泸县卫生健康局", "510521"]]))
    assert getattr(caught.value, "code", None) == "forbidden"
    assert not Agency.objects.exists()
