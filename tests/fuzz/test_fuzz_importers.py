"""Every importer on damaged files: the user gets a ShidianError (or a list of row issues) that
says what is wrong, and a refused import leaves the database exactly as it was."""
from __future__ import annotations

import csv
import hashlib
import io
import json

import pytest
from django.apps import apps
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from shidian.core.errors import ShidianError
from shidian.core.periods import PeriodKind, period_containing

from .mutations import Blob, cell_values, fuzz_settings, mutated_bytes, mutated_text, \
    mutated_workbook, mutated_zip_member

pytestmark = pytest.mark.django_db

APPS = ("orgs", "plans", "reporting", "indicators", "cases")


def digest() -> str:
    """Every row of the apps an importer can write to."""
    h = hashlib.sha256()
    for label in APPS:
        for model in apps.get_app_config(label).get_models():
            fields = [f.attname for f in model._meta.concrete_fields
                      if f.name not in ("last_login",)]
            rows = list(model.objects.order_by("pk").values_list(*fields))
            h.update(json.dumps(rows, default=str).encode())
    return h.hexdigest()


def refused_cleanly(call) -> bool:
    """Run an import; on refusal the message must be there and nothing may have changed."""
    before = digest()
    try:
        call()
    except ShidianError as exc:
        assert str(exc.message if hasattr(exc, "message") else exc).strip()
        assert digest() == before, "a refused import changed the database"
        return True
    return False


def with_rows(template: bytes, rows: list[list]) -> bytes:
    book = load_workbook(io.BytesIO(template))
    sheet = book.worksheets[0]
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# ---- orgs: agencies and users ----------------------------------------------------------------

@pytest.fixture
def admin():
    from shidian.orgs.models import Role
    from shidian.orgs.testing import make_user

    return make_user("fuzz_admin", role=Role.ADMIN, division_code="5105")


@pytest.fixture
def agencies_base():
    from shidian.orgs.imports import agencies_template

    return Blob(with_rows(agencies_template(), [["泸县卫生健康局", "510521"], ["泸县民政局", "泸县"],
                                           ["合江县财政局", "510522"]]))


@pytest.fixture
def users_base():
    from shidian.orgs.imports import users_template

    return Blob(users_template())


@fuzz_settings
@given(st.data())
def test_agency_lists_damaged_are_refused_or_imported(admin, agencies_base, data):
    from shidian.orgs.imports import agencies_import

    content = data.draw(mutated_workbook(agencies_base, columns=7)
                        | mutated_zip_member(agencies_base) | mutated_bytes(agencies_base))
    partial = data.draw(st.booleans())
    refused_cleanly(lambda: agencies_import(actor=admin, upload=io.BytesIO(content),
                                            partial=partial))


@fuzz_settings
@given(st.data())
def test_user_lists_damaged_are_refused_or_imported(admin, users_base, data):
    from shidian.orgs.imports import users_import

    content = data.draw(mutated_workbook(users_base, columns=9) | mutated_bytes(users_base))
    refused_cleanly(lambda: users_import(actor=admin, upload=io.BytesIO(content)))


# ---- indicators: the data-entry sheet --------------------------------------------------------

@pytest.fixture
def entry_sheet():
    from shidian.indicators.excel import template_xlsx
    from shidian.indicators.testing import make_world

    world = make_world()
    period = period_containing(timezone.localdate(), PeriodKind.MONTH).previous()
    sheet = template_xlsx(user=world.county, data_set=world.data_set, period=period,
                          area_code="510521")
    return world, Blob(sheet)


@fuzz_settings
@given(st.data())
def test_entry_sheets_damaged_are_refused_or_saved(entry_sheet, data):
    from shidian.indicators.excel import upload_xlsx

    world, sheet = entry_sheet
    content = data.draw(mutated_workbook(sheet, first_row=4, columns=5) | mutated_bytes(sheet))
    all_or_nothing = data.draw(st.booleans())
    refused_cleanly(lambda: upload_xlsx(user=world.county, data_set=world.data_set,
                                        file=io.BytesIO(content),
                                        all_or_nothing=all_or_nothing))


# ---- cases: household lists ------------------------------------------------------------------

HEADER = ["户编号", "与户主关系", "姓名", "身份证号", "村代码", "联系电话", "贫困类型",
          "叠加政策", "改造前建筑面积", "开户银行", "一卡通账号"]


@pytest.fixture
def household_world():
    from shidian.cases.testing import household, make_programme, make_workers

    rows = []
    for ref in range(1, 4):
        h = household()
        rows.append([str(ref), "户主", h["head_name"], h["head_id_number"], h["village"],
                     h["phone"], "低保户", "", h["area_before"], h["bank_name"],
                     h["bank_account"]])
        for m in h["members"]:
            rows.append([str(ref), "配偶" if m["relation"] == "spouse" else "子女", m["name"],
                         m["id_number"]] + [""] * 7)
    return make_workers(), make_programme(), rows


@st.composite
def damaged_csv(draw, rows):
    rows = [list(r) for r in rows]
    for _ in range(draw(st.integers(1, 10))):
        r = draw(st.integers(0, len(rows) - 1))
        c = draw(st.integers(0, len(HEADER) - 1))
        value = draw(cell_values)
        rows[r][c] = "" if value is None else str(value)
    if draw(st.booleans()):
        rows.append(draw(st.lists(st.text(max_size=12), max_size=14)))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(draw(st.just(HEADER) | st.permutations(HEADER).map(list)))
    writer.writerows(rows)
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]))
    return out.getvalue().encode(encoding, errors="replace")


@fuzz_settings
@given(st.data())
def test_household_lists_damaged_are_refused_or_checked_row_by_row(household_world, data):
    from shidian.cases import imports

    workers, programme, rows = household_world
    content = data.draw(damaged_csv(rows) | st.binary(max_size=600))
    user = workers["township"]

    def run():
        batch = imports.import_upload(user=user, programme=programme, name="花名册.csv",
                                      content=content)
        batch = imports.import_validate(user=user, batch_id=batch.pk)
        mode = "all" if not batch.row_errors.exists() else "valid"
        imports.import_run(user=user, batch_id=batch.pk, mode=mode)

    from shidian.cases.models import Case

    cases_before = Case.objects.count()
    try:
        run()
    except ShidianError as exc:
        assert str(exc).strip()
        assert Case.objects.count() == cases_before


# ---- plans: plan files -----------------------------------------------------------------------

@pytest.fixture
def plan_office():
    from shidian.orgs.models import Division, Role
    from shidian.orgs.testing import make_user
    from shidian.plans.testing import make_programme

    office = make_user("fuzz_office", role=Role.OFFICE, division_code="510521")
    return office, make_programme(division_code="510521"), Division.objects.get(code="510521")


@fuzz_settings
@given(st.data())
def test_plan_files_damaged_are_refused_or_become_drafts(plan_office, data):
    from shidian.plans.services import plan_import_file

    from .test_fuzz_parser import docx_of

    office, programme, county = plan_office
    text = data.draw(mutated_text())
    kind = data.draw(st.sampled_from(["txt", "docx", "broken-docx"]))
    if kind == "txt":
        content, name = text.encode(data.draw(st.sampled_from(["utf-8", "gb18030"])),
                                    errors="replace"), "方案.txt"
    else:
        content, name = docx_of(text), "方案.docx"
        if kind == "broken-docx":
            content = data.draw(mutated_zip_member(content))
    refused_cleanly(lambda: plan_import_file(user=office, programme=programme, division=county,
                                             file_name=name, file=io.BytesIO(content),
                                             size=len(content)))
