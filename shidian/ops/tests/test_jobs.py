"""Background jobs: large household files go through the queue, queued jobs survive a crash,
and the tick is the production worker's periodic job."""
from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from huey import SqliteHuey
from huey import signals as S
from huey.contrib.djhuey import HUEY

from shidian.cases.models import Case, ImportBatch, ImportStatus
from shidian.cases.testing import household, make_programme, make_workers
from shidian.ops import jobs, worker

HEADER = ["户编号", "与户主关系", "姓名", "身份证号", "村代码", "联系电话", "贫困类型", "叠加政策",
          "改造前建筑面积", "开户银行", "一卡通账号"]


def household_file(households):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for ref, h in enumerate(households, start=1):
        writer.writerow([ref, "户主", h["head_name"], h["head_id_number"], h["village"], "",
                         "低保户", "", "40", "", ""])
    upload = io.BytesIO(out.getvalue().encode("utf-8-sig"))
    upload.name = "花名册.csv"
    return upload


@pytest.mark.django_db
def test_a_large_household_file_is_checked_and_imported_by_the_job_queue(
        client, monkeypatch, django_capture_on_commit_callbacks):
    from shidian.web.views import cases as case_views

    monkeypatch.setattr(case_views, "INLINE_IMPORT_ROWS", 0)  # every file counts as large
    workers, programme = make_workers(), make_programme()
    ran = []

    def complete(signal, task, *args):
        ran.append(task.name)

    HUEY.signal(S.SIGNAL_COMPLETE)(complete)
    try:
        good, bad = household(), household()
        bad["head_id_number"] = bad["head_id_number"][:17] + (
            "1" if bad["head_id_number"][17] != "1" else "2")
        client.force_login(workers["township"])
        with django_capture_on_commit_callbacks(execute=True):
            client.post(reverse("cases:imports", args=[programme.pk]),
                        {"file": household_file([good, bad])})
        batch = ImportBatch.objects.get()
        assert batch.status == ImportStatus.VALIDATED and batch.rows_bad == 1
        assert not Case.objects.exists()
        with django_capture_on_commit_callbacks(execute=True):
            client.post(reverse("cases:import", args=[batch.pk]), {"mode": "valid"})
        assert Case.objects.get().subject_name == good["head_name"]
        assert ran == ["case_import_job", "case_import_job"]
        # Running the same job again (a worker restarted after the import) imports nothing twice.
        jobs.case_import_job.call_local(batch.pk, workers["township"].pk, "valid")
        assert Case.objects.count() == 1
    finally:
        HUEY.disconnect_signal(complete, S.SIGNAL_COMPLETE)


def test_jobs_queued_by_a_process_that_died_run_when_the_next_one_starts(tmp_path):
    """The embedded queue is a file: a job queued just before a crash is not lost."""
    done = tmp_path / "done.txt"

    def make_queue():
        huey = SqliteHuey("shidian", filename=str(tmp_path / "jobs.sqlite3"), results=False)

        @huey.task(name="append_line")
        def append_line(text):
            with done.open("a") as handle:
                handle.write(text + "\n")

        return huey, append_line

    first, append_line = make_queue()
    append_line("报表 1")
    append_line("报表 2")
    assert not done.exists()  # queued, not run: the process "dies" here
    second, _ = make_queue()
    assert worker.run_pending(second) == 2
    assert done.read_text().splitlines() == ["报表 1", "报表 2"]
    assert worker.run_pending(second) == 0  # each job ran once


def test_the_tick_is_a_periodic_job_every_five_minutes():
    periodic = {task.name: task for task in HUEY._registry.periodic_tasks}
    tick = periodic["tick_job"]
    assert tick.validate_datetime(dt.datetime(2026, 11, 30, 9, 5))
    assert not tick.validate_datetime(dt.datetime(2026, 11, 30, 9, 7))


def test_tests_and_production_never_use_the_embedded_thread(settings):
    assert HUEY.immediate  # under pytest a job runs in the caller
    assert worker.start_in_process() is None
    settings.PRODUCTION = True
    assert not jobs.in_process()


def test_the_embedded_server_runs_queued_jobs_in_a_thread_of_its_own(tmp_path):
    done = tmp_path / "done.txt"
    huey = SqliteHuey("shidian", filename=str(tmp_path / "jobs.sqlite3"), results=False)

    @huey.task(name="mark_done")
    def mark_done():
        done.write_text("ok")

    mark_done()  # queued before the server started, like a job left by a crash
    stop = worker.start_in_process(huey=huey)
    try:
        assert stop is not None
        for _ in range(200):  # the thread polls every second; wait up to 20 s
            if done.exists():
                break
            stop.wait(0.1)
        assert done.read_text() == "ok"
        assert worker.start_in_process(huey=huey) is stop  # one thread per process
    finally:
        stop.set()
