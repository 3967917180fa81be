"""Household lists: every bad row is reported with its reason before anything is imported."""
import csv
import datetime as dt
import io
import multiprocessing
import os
import time
from pathlib import Path

import pytest
from django.utils import translation
from openpyxl import Workbook

from shidian.cases import imports, services
from shidian.cases.models import Case, CasePerson, ImportBatch, ImportStatus, Outcome
from shidian.cases.testing import (
    OTHER_VILLAGE,
    VILLAGE,
    household,
    id_number,
    make_programme,
    make_workers,
)
from shidian.core.errors import ShidianError

pytestmark = pytest.mark.django_db
HEADER = ["户编号", "与户主关系", "姓名", "身份证号", "村代码", "联系电话", "贫困类型",
          "叠加政策", "改造前建筑面积", "开户银行", "一卡通账号"]


def rows_of(ref, values):
    """A household as the rows of a 花名册: the head's row, then one per member."""
    head = [ref, "户主", values["head_name"], values["head_id_number"], values["village"],
            values["phone"], "、".join({"dibao": "低保户", "jdlk": "建档立卡贫困户"}[c]
                                      for c in values["poverty_categories"]),
            "", values["area_before"], values["bank_name"], values["bank_account"]]
    members = [[ref, {"spouse": "配偶", "child": "子女"}[m["relation"]], m["name"],
                m["id_number"]] + [""] * 7 for m in values["members"]]
    return [head, *members]


def csv_bytes(rows, encoding="utf-8-sig"):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


@pytest.fixture
def setup():
    return make_workers(), make_programme()


def upload(workers, programme, content, name="花名册.csv", who="township"):
    batch = imports.import_upload(user=workers[who], programme=programme, name=name,
                                  content=content)
    return imports.import_validate(user=workers[who], batch_id=batch.pk)


def test_every_bad_row_is_reported_with_its_reason_and_nothing_is_imported(setup):
    workers, programme = setup
    good = [household() for _ in range(3)]
    bad_check_digit = household()
    bad_check_digit["members"][1]["id_number"] = bad_check_digit["members"][1]["id_number"][
        :17] + ("0" if bad_check_digit["members"][1]["id_number"][17] != "0" else "1")
    unknown_village = household(village="510521100099")
    no_head = household()
    rows = (rows_of("H1", good[0]) + rows_of("H2", bad_check_digit) + rows_of("H3", good[1])
            + rows_of("H4", unknown_village) + rows_of("H5", good[2]))
    headless = rows_of("H6", no_head)
    headless[0][1] = "配偶"
    rows += headless
    batch = upload(workers, programme, csv_bytes(rows))
    problems = {(e.row, e.column): e.message for e in batch.row_errors.all()}
    # Row 1 is the header; H2's second member is on row 7, H4's head on row 11.
    assert "校验位" in problems[(7, "身份证号")]
    assert "510521100099" in problems[(11, "村代码")]
    assert any(row == 17 and column == "与户主关系" for row, column in problems)
    assert (batch.households_total, batch.households_valid, batch.rows_bad) == (6, 3, 3)
    assert not Case.objects.exists()
    with pytest.raises(ShidianError) as caught:
        imports.import_run(user=workers["township"], batch_id=batch.pk, mode="all")
    assert caught.value.extra["reason"] == imports.REASON_BAD_ROWS
    assert not Case.objects.exists()
    batch = imports.import_run(user=workers["township"], batch_id=batch.pk, mode="valid")
    assert batch.imported == 3 and batch.status == ImportStatus.DONE
    imported = Case.objects.filter(import_batch=batch)
    assert sorted(imported.values_list("source_row", flat=True)) == [2, 8, 14]
    assert CasePerson.objects.filter(case__in=imported).count() == 9
    with pytest.raises(ShidianError):
        imports.import_run(user=workers["township"], batch_id=batch.pk, mode="valid")
    assert Case.objects.count() == 3


def test_households_already_registered_or_renovated_before_are_refused(setup):
    workers, programme = setup
    registered = services.case_create(user=workers["village"], programme=programme,
                                      values=household())
    earlier = make_programme(name="2019年农村危房改造", year=2019)
    old = services.case_create(user=workers["village"], programme=earlier, values=household())
    Case.objects.filter(pk=old.pk).update(outcome=Outcome.COMPLETED, stage="completed")
    again = household(head_id_number=services.case_secrets(registered)["head_id_number"])
    member_renovated = household()
    member_renovated["members"][0]["id_number"] = services.case_secrets(old)["members"][0]
    twice_in_file = household()
    batch = upload(workers, programme, csv_bytes(
        rows_of("A", again) + rows_of("B", member_renovated) + rows_of("C", twice_in_file)
        + rows_of("D", {**household(), "head_id_number": twice_in_file["head_id_number"]})))
    errors = list(batch.row_errors.order_by("row"))
    assert errors[0].row == 2 and "已在本项目中登记" in errors[0].message
    assert errors[1].row == 6 and "2019" in errors[1].message
    assert "不能再次申请" in errors[1].message
    # D's head (row 11) repeats C's head (row 8).
    assert errors[2].row == 11 and "第8行" in errors[2].message
    assert batch.households_valid == 1


def test_a_clerk_cannot_import_households_of_another_village(setup):
    workers, programme = setup
    batch = upload(workers, programme, csv_bytes(rows_of("X", household(village=OTHER_VILLAGE))),
                   who="village")
    assert batch.households_valid == 0
    assert batch.row_errors.get().code == "scope"


def test_an_interrupted_import_leaves_nothing_and_can_be_run_again(setup, monkeypatch):
    workers, programme = setup
    households = [household() for _ in range(5)]
    monkeypatch.setattr(imports, "CHUNK", 2)
    batch = upload(workers, programme, csv_bytes(
        [row for i, h in enumerate(households) for row in rows_of(f"H{i}", h)]))
    calls = {"n": 0}
    real = imports._Writer.write

    def fail_on_the_third_chunk(self, households):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk full")
        return real(self, households)

    monkeypatch.setattr(imports._Writer, "write", fail_on_the_third_chunk)
    with pytest.raises(OSError):
        imports.import_run(user=workers["township"], batch_id=batch.pk, mode="all")
    batch.refresh_from_db()
    assert batch.status == ImportStatus.FAILED and not Case.objects.exists()
    assert not CasePerson.objects.exists()
    monkeypatch.setattr(imports._Writer, "write", real)
    batch = imports.import_run(user=workers["township"], batch_id=batch.pk, mode="all")
    assert batch.imported == 5 and Case.objects.count() == 5
    # Imported: no copy of the list with numbers in clear is kept.
    assert not batch.file and not any(
        p.name.startswith("prepared-") for p in imports._prepared_path(batch).parent.iterdir())


def test_the_prepared_rows_hold_no_number_in_clear(setup):
    workers, programme = setup
    values = household()
    batch = upload(workers, programme, csv_bytes(rows_of("1", values)))
    prepared = imports._prepared_path(batch).read_text(encoding="utf-8")
    for secret in (values["head_id_number"], values["bank_account"],
                   values["members"][0]["id_number"]):
        assert secret not in prepared


def test_a_name_typed_with_a_line_break_is_imported_as_typed(setup):
    """Excel lets a cell hold a line break (Alt+Enter); the household still goes through the
    check and the run with the name unchanged."""
    workers, programme = setup
    values = household()
    values["members"][0]["name"] = "李秀\n英"
    batch = upload(workers, programme, csv_bytes(rows_of("1", values)))
    assert batch.households_valid == 1
    imports.import_run(user=workers["township"], batch_id=batch.pk, mode="all")
    assert CasePerson.objects.get(position=1).name == "李秀\n英"
    assert Case.objects.get().data["members"][0]["name"] == "李秀\n英"


def test_excel_files_and_missing_columns(setup):
    workers, programme = setup
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    values = household()
    for row in rows_of("1", values):
        sheet.append(row)
    content = io.BytesIO()
    book.save(content)
    batch = upload(workers, programme, content.getvalue(), name="list.xlsx")
    assert (batch.households_valid, batch.rows_bad) == (1, 0)
    batch = imports.import_run(user=workers["township"], batch_id=batch.pk, mode="all")
    case = Case.objects.get(import_batch=batch)
    assert case.data["area_before"] == "48" and case.data["poverty_categories"] == ["dibao"]
    short = imports.import_upload(user=workers["township"], programme=programme, name="x.csv",
                                  content="户编号,姓名\n1,张三\n".encode())
    with pytest.raises(ShidianError) as caught:
        imports.import_validate(user=workers["township"], batch_id=short.pk)
    assert "身份证号" in caught.value.message


def test_gbk_csv_as_saved_by_chinese_excel(setup):
    workers, programme = setup
    batch = upload(workers, programme, csv_bytes(rows_of("1", household()), encoding="gb18030"))
    assert batch.households_valid == 1


def test_the_template_has_the_columns_the_import_reads():
    from shidian.cases.definitions import case_type_get

    assert imports.import_columns(case_type_get("housing")) == HEADER
    assert id_number()  # the builder gives valid numbers for the rows above
    assert VILLAGE.startswith("510521")
    assert dt.date.today()


def test_a_large_list_checked_in_worker_processes_gives_the_same_report(setup, monkeypatch):
    """A big file is cleaned, hashed and encrypted in worker processes, a few chunks ahead;
    the bad rows (also an ID number repeated chunks later, a village unknown, a household
    already registered) and the imported households are the same as checked in one process.
    The workers come from a forkserver, never forked from this process."""
    workers, programme = setup
    registered = services.case_create(user=workers["village"], programme=programme,
                                      values=household())
    bad = household()
    bad["members"][1]["id_number"] = bad["members"][1]["id_number"][:17] + (
        "0" if bad["members"][1]["id_number"][17] != "0" else "1")
    repeated = household()
    lists = [household() for _ in range(9)]
    rows = []
    for i, h in enumerate([repeated, *lists[:4], bad, household(village="510521100099"),
                           household(head_id_number=services.case_secrets(registered)[
                               "head_id_number"]), *lists[4:],
                           {**household(), "head_id_number": repeated["head_id_number"]}]):
        rows += rows_of(f"H{i}", h)
    content = csv_bytes(rows)
    monkeypatch.setattr(imports, "CHUNK", 2)

    def report(parallel):
        monkeypatch.setattr(imports, "PARALLEL_BYTES", 0 if parallel else 10**9)
        batch = upload(workers, programme, content)
        lines = [line.split(imports.SEP) for line in
                 imports._prepared_path(batch).read_text(encoding="utf-8").splitlines()]
        return batch, sorted((e.row, e.column, e.message, e.code) for e in
                             batch.row_errors.all()), [line[:5] + line[6:] for line in lines]

    one, errors_one, lines_one = report(parallel=False)
    pools, parents = [], []
    real_pool = imports._worker_pool

    def pool(*args):
        pools.append(real_pool(*args))
        for worker in multiprocessing.active_children():
            status = Path(f"/proc/{worker.pid}/status").read_text()
            parents.append(int(status.split("PPid:")[1].split()[0]))
        return pools[-1]

    monkeypatch.setattr(imports, "_worker_pool", pool)
    many, errors_many, lines_many = report(parallel=True)
    assert pools and pools[0] is not None  # the workers did check it
    # Not forked from this process (which may have threads: the job consumer, the embedded
    # server): started by a single-threaded forkserver.
    assert parents and os.getpid() not in parents
    assert errors_many == errors_one and len(errors_one) == 4
    assert {code for *_r, code in errors_one} == {"id_checksum", "division", "duplicate",
                                                  "file_duplicate"}
    assert lines_many == lines_one and len(lines_many) == many.households_valid == 10
    imports.import_run(user=workers["township"], batch_id=many.pk, mode="valid")
    assert Case.objects.filter(import_batch=many).count() == 10


def test_a_checking_worker_that_cannot_start_fails_the_check_at_once_with_a_message(
        setup, monkeypatch):
    """A worker process that cannot start (here: the checker it is handed cannot be read)
    fails the check at once, in Chinese, with the batch marked failed and nothing imported,
    instead of the pool starting workers for ever while the check waits 600 s a chunk."""
    workers, programme = setup
    rows = []
    for i in range(4):
        rows += rows_of(f"H{i}", household())
    monkeypatch.setattr(imports, "CHUNK", 2)
    monkeypatch.setattr(imports, "PARALLEL_BYTES", 0)
    monkeypatch.setattr(imports, "WORKER_TIMEOUT", 60)
    # Pickled here, it unpickles in the worker as int("no checker"): a ValueError there.
    monkeypatch.setattr(imports._Checker, "__reduce__", lambda self: (int, ("no checker",)),
                        raising=False)
    started = time.monotonic()
    with translation.override("zh-hans"), pytest.raises(ShidianError) as caught:
        upload(workers, programme, csv_bytes(rows))
    assert time.monotonic() - started < 30
    assert "校验进程" in caught.value.message
    batch = ImportBatch.objects.get()
    assert batch.status == ImportStatus.FAILED and "校验进程" in batch.error
    assert not Case.objects.filter(programme=programme).exists()
