"""The process that tests/test_faults.py kills: it performs one operation against a real
database (DATABASE_URL, SHIDIAN_VAR_DIR and SHIDIAN_MEDIA_ROOT come from the environment),
as the server or the worker would, and prints what it did as JSON.

    python -m tests.fault_driver setup              migrate, build the 泸县 world, print ids
    python -m tests.fault_driver plan_import        import seed plan 05 as the 泸县 office
    python -m tests.fault_driver report_submit      the 民政局 liaison submits its June report
    python -m tests.fault_driver household_upload   upload and check a 30-household list
    python -m tests.fault_driver household_run ID   import the checked list (the worker's job)
    python -m tests.fault_driver counts             rows that each operation writes

With SHIDIAN_FAULT_AT set, the operation stops at that checkpoint (shidian.core.faults) and
waits to be killed. The household import has no checkpoint of its own: the driver stops it
after its first chunk is written, through the progress callback, which is where a worker
would be when the machine went down.
"""
from __future__ import annotations

import json
import os
import sys
from datetime import date


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from shidian.core.i18n import compile_catalogs

    compile_catalogs()
    import django

    django.setup()


def setup() -> dict:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from shidian.cases.testing import make_programme, make_workers
    from shidian.reporting.testing import make_world

    world = make_world()
    from shidian.plans.models import Programme

    programme_of_plan = Programme.objects.create(name="泸县安宁疗护试点", division_id="510521")
    world.plan.programme = programme_of_plan
    world.plan.save(update_fields=["programme"])
    workers = make_workers()
    programme = make_programme()
    return {"task": world.tasks[2].pk, "agency": world.civil.pk, "programme": programme.pk,
            "office": world.office.username, "liaison": world.liaison_civil.username,
            "clerk": workers["township"].username}


def _user(name: str):
    from shidian.orgs.models import User

    return User.objects.get(username=name)


def plan_import() -> dict:
    from pathlib import Path

    from shidian.orgs.models import Division
    from shidian.plans.models import Programme
    from shidian.plans.services import plan_import_file

    seed = Path(__file__).resolve().parent.parent / "shidian/demo/seed_plans/05-luxian-hospice.txt"
    content = seed.read_bytes()
    programme = Programme.objects.get(name="泸县安宁疗护试点")
    import io

    plan = plan_import_file(user=_user("lx_office"), programme=programme,
                            division=Division.objects.get(code="510521"),
                            file_name=seed.name, file=io.BytesIO(content), size=len(content))
    return {"plan": plan.pk, "tasks": plan.tasks.count()}


def report_submit(task: int, agency: int) -> dict:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from shidian.reporting.services import ReportInput, report_submit as submit

    report = submit(user=_user("lx_mzj"), task_id=task, agency_id=agency, period="2021M06",
                    now=datetime(2021, 6, 20, 10, tzinfo=ZoneInfo("Asia/Shanghai")),
                    data=ReportInput(percent=40, done="已完成摸底"))
    return {"report": report.pk, "status": report.status}


HEADER = ["户编号", "与户主关系", "姓名", "身份证号", "村代码", "联系电话", "贫困类型",
          "叠加政策", "改造前建筑面积", "开户银行", "一卡通账号"]


def household_upload(programme_id: int) -> dict:
    import csv
    import io

    from shidian.cases import imports
    from shidian.cases.models import CaseProgramme
    from shidian.cases.testing import household, id_number

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for ref in range(1, 31):
        h = household(head_id_number=id_number(born=date(1950 + ref, 1, 1), serial=ref))
        writer.writerow([str(ref), "户主", f"{h['head_name']}{ref}", h["head_id_number"],
                         h["village"], h["phone"], "低保户", "", h["area_before"],
                         h["bank_name"], h["bank_account"]])
    user = _user("zhen")
    batch = imports.import_upload(user=user, programme=CaseProgramme.objects.get(
        pk=programme_id), name="花名册.csv", content=out.getvalue().encode("utf-8"))
    batch = imports.import_validate(user=user, batch_id=batch.pk)
    return {"batch": batch.pk, "status": batch.status, "valid": batch.households_valid}


def household_run(batch_id: int) -> dict:
    from shidian.cases import imports
    from shidian.core.faults import checkpoint

    if os.environ.get("SHIDIAN_FAULT_AT") == "household_import.chunk_written":
        original = imports._progress
        imports.CHUNK = 10  # so that 20 of the 30 households are still to come

        def progress(batch, *, step, done, total):
            original(batch, step=step, done=done, total=total)
            if step == "import" and done:
                checkpoint("household_import.chunk_written")

        imports._progress = progress
    batch = imports.import_run(user=_user("zhen"), batch_id=batch_id, mode="all")
    return {"batch": batch.pk, "status": batch.status, "imported": batch.imported}


def age_progress(batch_id: int) -> dict:
    """An hour passes: the killed import's progress file goes stale, as it would."""
    from shidian.cases import imports
    from shidian.cases.models import ImportBatch

    path = imports._progress_path(ImportBatch.objects.get(pk=batch_id))
    data = json.loads(path.read_text()) if path.exists() else {"step": "import", "done": 0,
                                                                  "total": 0}
    data["at"] = 0
    path.write_text(json.dumps(data))
    return {"aged": str(path)}


def counts() -> dict:
    from auditlog.models import LogEntry

    from shidian.cases.models import Case, CasePerson, ImportBatch
    from shidian.plans.models import Phase, Plan, PlanFinding, Task, TaskUnit
    from shidian.reporting.models import ProgressReport

    reports = ProgressReport.objects.filter(period="2021M06", agency__name="泸县民政局")
    return {
        "plans": Plan.objects.count(), "tasks": Task.objects.count(),
        "units": TaskUnit.objects.count(), "phases": Phase.objects.count(),
        "findings": PlanFinding.objects.count(),
        "reports": reports.count(),
        "report_status": [r.status for r in reports],
        "cases": Case.objects.count(), "persons": CasePerson.objects.count(),
        "batches": {str(b.pk): b.status for b in ImportBatch.objects.all()},
        "audit": LogEntry.objects.count(),
    }


def main(argv: list[str]) -> None:
    _django()
    command, args = argv[0], [int(a) for a in argv[1:]]
    result = {"setup": setup, "plan_import": plan_import, "report_submit": report_submit,
              "household_upload": household_upload, "household_run": household_run,
              "age_progress": age_progress, "counts": counts}[command](*args)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1:])
