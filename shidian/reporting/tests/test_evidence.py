"""Evidence: checked by size and by what the bytes are, kept once per unit, seen within scope."""
import pytest
from django.utils import translation

from shidian.core.errors import ErrorCode, ShidianError
from shidian.reporting import access, files, services
from shidian.reporting.models import Evidence
from shidian.reporting.testing import (docx_bytes, fake_office_zip, pdf_bytes, png_bytes,
                                       upload)


def attach(world, name, content, user=None, agency=None):
    user = user or world.liaison_health
    agency = agency or world.health
    return services.evidence_attach(user=user, agency_id=agency.pk, upload=upload(name, content))


@pytest.mark.parametrize("name,content,kind", [
    ("会议纪要.pdf", pdf_bytes(), files.PDF),
    ("现场.png", png_bytes(), files.PNG),
    ("台账.docx", docx_bytes(), files.DOCX),
    ("照片.JPG", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64, files.JPEG),
])
def test_allowed_files_are_kept_under_media_root(world, settings, name, content, kind):
    evidence = attach(world, name, content)
    assert evidence.content_type == kind
    assert evidence.original_name == name
    assert evidence.size == len(content)
    path = evidence.file.path
    assert path.startswith(str(settings.MEDIA_ROOT))
    with open(path, "rb") as stored:
        assert stored.read() == content


def test_an_xlsx_is_recognised(world):
    import io

    from openpyxl import Workbook

    out = io.BytesIO()
    Workbook().save(out)
    assert attach(world, "进度表.xlsx", out.getvalue()).content_type == files.XLSX


def test_the_same_file_twice_is_kept_once(world):
    first = attach(world, "纪要.pdf", pdf_bytes("same"))
    second = attach(world, "纪要-副本.pdf", pdf_bytes("same"))
    assert first.pk == second.pk
    assert Evidence.objects.count() == 1


def test_an_oversized_file_is_refused_with_the_limit_in_the_message(world, settings):
    settings.SHIDIAN_EVIDENCE_MAX_BYTES = 1024 * 1024
    big = pdf_bytes() + b"0" * (1024 * 1024)
    with translation.override("zh-hans"), pytest.raises(ShidianError) as caught:
        attach(world, "大文件.pdf", big)
    assert caught.value.code == ErrorCode.BAD_FILE
    assert "1 MB" in caught.value.message and "大文件.pdf" in caught.value.message
    assert not Evidence.objects.exists()


@pytest.mark.parametrize("name,content", [
    ("报告.pdf", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 100),   # an executable
    ("表格.xlsx", pdf_bytes()),                                        # a PDF in disguise
    ("文档.docx", fake_office_zip()),                                   # a ZIP, not Word
    ("照片.png", b"\xff\xd8\xff\xe0" + b"\x00" * 100),                 # a JPEG named .png
    ("脚本.html", b"<html><script>alert(1)</script></html>"),
    ("无扩展名", pdf_bytes()),
    ("空.pdf", b""),
])
def test_wrong_or_disguised_types_are_refused(world, name, content):
    with pytest.raises(ShidianError) as caught:
        attach(world, name, content)
    assert caught.value.code == ErrorCode.BAD_FILE
    assert not Evidence.objects.exists()


def test_a_unit_cannot_attach_evidence_for_another_unit(world):
    with pytest.raises(ShidianError) as caught:
        attach(world, "纪要.pdf", pdf_bytes(), user=world.liaison_health, agency=world.civil)
    assert caught.value.code == ErrorCode.NOT_FOUND
    with pytest.raises(ShidianError):
        attach(world, "纪要.pdf", pdf_bytes(), user=world.office, agency=world.health)


def test_evidence_is_seen_by_its_unit_and_by_readers_of_reports_that_cite_it(world):
    from datetime import date

    from shidian.reporting.services import ReportInput
    from shidian.reporting.testing import at

    evidence = attach(world, "纪要.pdf", pdf_bytes())
    ids = lambda user: set(access.evidence_visible_to(user=user).values_list("pk", flat=True))  # noqa: E731
    assert ids(world.liaison_health) == {evidence.pk}
    assert ids(world.office) == set()  # not cited by any submitted report yet
    assert ids(world.liaison_civil) == set()
    services.report_submit(user=world.liaison_health, task_id=world.tasks[0].pk, agency_id=None,
                           period="2021M06", data=ReportInput(percent=30,
                                                              evidence_ids=(evidence.pk,)),
                           now=at(date(2021, 6, 20)))
    assert ids(world.office) == {evidence.pk}
    assert ids(world.leader) == {evidence.pk}
    assert ids(world.office_other) == set()
    assert ids(world.liaison_other) == set()
    assert ids(world.liaison_civil) == set()  # a cooperating unit reads only its own reports
    with pytest.raises(ShidianError):
        access.access_evidence_by_id(user=world.liaison_other, evidence_id=evidence.pk)


def test_a_report_cannot_cite_another_units_evidence(world):
    from datetime import date

    from shidian.reporting.services import ReportInput
    from shidian.reporting.testing import at

    theirs = attach(world, "民政.pdf", pdf_bytes("civil"), user=world.liaison_civil,
                    agency=world.civil)
    with pytest.raises(ShidianError) as caught:
        services.report_submit(user=world.liaison_health, task_id=world.tasks[0].pk,
                               agency_id=None, period="2021M06",
                               data=ReportInput(percent=30, evidence_ids=(theirs.pk,)),
                               now=at(date(2021, 6, 20)))
    assert caught.value.code == ErrorCode.INVALID


# -- files sent with the report form: kept with the report, or not at all ---------------------
def _stored_files(settings):
    from pathlib import Path

    root = Path(settings.MEDIA_ROOT) / "evidence"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _submit_with(world, *uploads, day=None, **fields):
    from datetime import date

    from shidian.reporting.services import ReportInput
    from shidian.reporting.testing import at

    return services.report_submit(
        user=world.liaison_health, task_id=world.tasks[0].pk, agency_id=None, period="2021M06",
        data=ReportInput(**{"percent": 30, **fields}), now=at(day or date(2021, 6, 20)),
        uploads=list(uploads))


def test_files_sent_with_a_report_are_cited_by_it(world, settings):
    report = _submit_with(world, upload("纪要.pdf", pdf_bytes("a")), upload("现场.png", png_bytes()))
    cited = {e.original_name for e in report.evidence.all()}
    assert cited == {"纪要.pdf", "现场.png"}
    assert len(_stored_files(settings)) == 2


def test_pressing_send_twice_with_the_same_file_keeps_one_report_and_one_file(world, settings):
    first = _submit_with(world, upload("纪要.pdf", pdf_bytes("a")))
    again = _submit_with(world, upload("纪要.pdf", pdf_bytes("a")))
    assert again.pk == first.pk and again.status == "submitted"
    assert Evidence.objects.count() == 1 and len(_stored_files(settings)) == 1


def test_a_refused_report_keeps_none_of_its_files(world, settings):
    from datetime import date

    # One good file and one disguised one: the whole submission is refused, nothing is kept.
    with pytest.raises(ShidianError) as caught:
        _submit_with(world, upload("纪要.pdf", pdf_bytes("a")), upload("表格.xlsx", pdf_bytes()))
    assert caught.value.code == ErrorCode.BAD_FILE
    # Good files, but the period has closed: the files go with the refused report.
    with pytest.raises(ShidianError) as caught:
        _submit_with(world, upload("纪要.pdf", pdf_bytes("a")), day=date(2021, 12, 30))
    assert caught.value.code == ErrorCode.PERIOD_CLOSED
    assert not Evidence.objects.exists() and _stored_files(settings) == []
    assert not world.tasks[0].reports.exists()


def test_a_changed_resend_of_a_submitted_report_keeps_no_new_file(world, settings):
    _submit_with(world, upload("纪要.pdf", pdf_bytes("a")))
    with pytest.raises(ShidianError) as caught:
        _submit_with(world, upload("另一份.pdf", pdf_bytes("b")))
    assert caught.value.code == ErrorCode.CONFLICT
    assert Evidence.objects.count() == 1 and len(_stored_files(settings)) == 1


def test_the_nightly_sweep_removes_only_old_files_without_a_row(world, settings):
    import os
    import time
    from datetime import timedelta

    from django.utils import timezone

    kept = attach(world, "纪要.pdf", pdf_bytes("kept"))
    root = _stored_files(settings)[0].parent.parent
    orphan = root / "ab" / ("ab" + "0" * 62)
    fresh = root / "cd" / ("cd" + "0" * 62)
    for path in (orphan, fresh):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(pdf_bytes("left by a killed process"))
    two_days_ago = time.time() - 2 * 86400
    os.utime(orphan, (two_days_ago, two_days_ago))
    os.utime(kept.file.path, (two_days_ago, two_days_ago))
    removed = services.evidence_files_sweep(now=timezone.now(), older_than=timedelta(days=1))
    assert len(removed) == 1 and removed[0].endswith(orphan.name)
    assert not orphan.exists() and fresh.exists()
    with open(kept.file.path, "rb") as stored:
        assert stored.read() == pdf_bytes("kept")
