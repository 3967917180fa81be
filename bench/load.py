"""The month-end rush against a running server: liaisons log in, open 我的任务 and submit their
reports with an evidence file, while office users watch their dashboards.

    # a production-profile server (deploy/README.md) on PostgreSQL with the demo loaded:
    .venv/bin/python bench/load.py --url http://127.0.0.1:8080 \\
        --database-url postgres://postgres@127.0.0.1:5432/shidian_prod
    .venv/bin/python bench/load.py --url ... --database-url ... --seconds 60   # a quick run

The load runs from separate processes (``--processes``, threads inside each), on loopback;
the users arrive over ``--ramp`` seconds (default 30), as locust's spawn rate does.
Before the run the bench makes sure ``--liaisons`` liaison accounts exist that owe reports
(the demo's own liaisons first, then ``load_liaison_NN`` for other lead units of plans with a
reporting cycle) and ``--offices`` office accounts (``load_office_N``), all with the demo
password. Each submission carries a unique token in its text; afterwards the bench reads the
database: every (task, unit, period) that was submitted must be there exactly once, holding
the last token that the server acknowledged. Nothing lost, nothing doubled.

It prints p50/p95/p99 per request type and the errors, with a reference measured in the same
run under the same load: the login page, which needs no database (the ratio says how much of a
request's time is the application's own work rather than the machine being busy). The last
line is one JSON object:
{"bench": "load", "seconds": …, "requests": …, "errors": …, "server_errors": …,
 "lost": …, "duplicated": …, "p95_ms": {…}, "reference_p95_ms": …, "ratio_submit": …,
 "targets_met": true|false}
Targets (issue 8): zero lost or duplicated submissions, zero 5xx, dashboard p95 < 300 ms,
submit p95 < 500 ms.
"""
from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import random
import re
import statistics
import sys
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Shidian@2026"
REPORT_LINK = re.compile(r'href="(/reporting/tasks/(\d+)/report/\?period=([^&"]+)&(?:amp;)?'
                         r'agency=(\d+))"')
DASHBOARD_LINK = re.compile(r'href="(/reporting/plans/(\d+)/)"')
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


# ---- set-up (in this process, against the server's database) --------------------------------

def prepare_accounts(database_url: str, liaisons: int, offices: int,
                     tasks_per_unit: int = 6) -> tuple[list[str], list[str]]:
    """A month-end to rush: the demo's own plans ended in 2021-2022, so their periods are
    closed. The bench adds (once) a published plan of 泸县 with a monthly cycle covering this
    year, one lead unit per liaison with ``tasks_per_unit`` tasks each, ``load_liaison_NN`` for each unit and
    ``load_office_N`` for the 泸县 office, all with the demo password."""
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from datetime import date

    from django.contrib.auth.hashers import make_password

    from shidian.orgs.models import Role, User
    from shidian.orgs.testing import make_agency
    from shidian.plans.models import Plan
    from shidian.plans.testing import make_plan
    from shidian.reporting.models import CycleKind, ProgressReport, ReportingCycle

    county, today = "510521", date.today()
    title = f"泸县{today.year}年月末报送压测方案({liaisons}个单位×{tasks_per_unit}项任务)"
    agencies = [make_agency(f"泸县压测单位{n:02d}", county) for n in range(1, liaisons + 1)]
    plan = Plan.objects.filter(title=title).first()
    if plan is None:
        plan = make_plan(title, county, tasks=[
            {"title": f"{agency.name}第{k}项任务", "leads": (agency,),
             "deadline": date(today.year, 12, 31)}
            for agency in agencies for k in range(1, tasks_per_unit + 1)])
        plan.period_start, plan.period_end = date(today.year, 1, 1), date(today.year + 1, 12, 31)
        plan.save(update_fields=["period_start", "period_end"])
        ReportingCycle.objects.create(plan=plan, kind=CycleKind.MONTHLY, due_day=25,
                                      grace_days=10, starts_on=date(today.year, 1, 1))
    # Every run starts from the same month-end: the load plan's reports (this bench's own plan,
    # never a real one) are cleared, so each unit owes all its reports again.
    cleared, _ = ProgressReport.objects.filter(task__plan=plan).delete()
    if cleared:
        print(f"cleared {cleared} rows of the previous run's reports on the load plan")
    password = make_password(PASSWORD)
    names = []
    for n, agency in enumerate(agencies, start=1):
        user, _ = User.objects.update_or_create(username=f"load_liaison_{n:02d}", defaults={
            "role": Role.LIAISON, "division_id": county, "password": password,
            "display_name": f"压测联络员{n:02d}", "is_active": True})
        user.agencies.set([agency])
        names.append(user.username)
    office_names = []
    for n in range(1, offices + 1):
        user, _ = User.objects.update_or_create(username=f"load_office_{n}", defaults={
            "role": Role.OFFICE, "division_id": county, "password": password,
            "display_name": f"压测专班{n}", "is_active": True})
        office_names.append(user.username)
    return names, office_names


def check_submissions(acknowledged: dict[tuple[int, int, str], str]) -> tuple[int, int]:
    """(lost, duplicated): each acknowledged key must be one report with the last token."""
    from shidian.reporting.models import ProgressReport, ReportStatus

    lost = duplicated = 0
    for (task, agency, period), token in acknowledged.items():
        rows = list(ProgressReport.objects.filter(task_id=task, agency_id=agency, period=period)
                    .values_list("status", "done"))
        if len(rows) > 1:
            duplicated += 1
        if not any(status in (ReportStatus.SUBMITTED, ReportStatus.ACCEPTED) and token in done
                   for status, done in rows):
            lost += 1
    return lost, duplicated


# ---- the virtual users (in worker processes) -------------------------------------------------

class Session:
    def __init__(self, base: str, record, verify: bool = True):
        import requests
        import urllib3

        self.base = base
        self.http = requests.Session()
        self.http.verify = verify
        if not verify:  # nginx's self-signed certificate on a test machine
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        self.record = record

    def request(self, kind: str, method: str, path: str, **kwargs):
        started = time.perf_counter()
        try:
            # verify per request: a CA bundle named in the environment would override the
            # session's setting (requests merges the environment over it)
            response = self.http.request(method, self.base + path, timeout=60,
                                         allow_redirects=False, verify=self.http.verify,
                                         **kwargs)
            status = response.status_code
        except Exception as exc:  # noqa: BLE001 (a refused connection is a result here)
            self.record(kind, (time.perf_counter() - started) * 1000, 0, repr(exc)[:200])
            return None
        self.record(kind, (time.perf_counter() - started) * 1000, status, "")
        return response

    def login(self, username: str) -> bool:
        page = self.request("login_page", "GET", "/login/")
        if page is None or page.status_code != 200:
            return False
        token = CSRF.search(page.text)
        done = self.request("login", "POST", "/login/", data={
            "username": username, "password": PASSWORD,
            "csrfmiddlewaretoken": token.group(1) if token else ""},
            headers={"Referer": self.base + "/login/"})
        return done is not None and done.status_code == 302


def pdf(token: str) -> bytes:
    return (f"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\n% evidence {token}\n"
            f"trailer<<>>\n%%EOF\n").encode()


def liaison_loop(session: Session, username: str, stop_at: float, acknowledged: dict) -> None:
    if not session.login(username):
        return
    while time.time() < stop_at:
        liaison_step(session, acknowledged)
        time.sleep(random.uniform(1.0, 3.0))  # a person reads the page before the next one


def liaison_step(session: Session, acknowledged: dict) -> None:
    """Open 我的任务, open one task's report form, and submit it if it is still open."""
    page = session.request("my_tasks", "GET", "/reporting/")
    if page is None or page.status_code != 200:
        return
    links = REPORT_LINK.findall(page.text)
    if not links:
        return
    path, task, period, agency = random.choice(links)
    path = path.replace("&amp;", "&")
    form = session.request("report_form", "GET", path)
    if form is None or form.status_code != 200:
        return
    token = CSRF.search(form.text)
    if "data-testid=\"submit\"" not in form.text or not token:
        return  # submitted already or closed: nothing to send for this one
    stamp = uuid.uuid4().hex
    sent = session.request("submit", "POST", path, data={
        "csrfmiddlewaretoken": token.group(1), "action": "submit", "task_status": "in_progress",
        "percent": str(random.randint(1, 99)), "done": f"压测 {stamp}",
        "problems": "", "next_steps": ""},
        files={"files": (f"台账-{stamp[:8]}.pdf", io.BytesIO(pdf(stamp)), "application/pdf")},
        headers={"Referer": session.base + path})
    where = sent.headers.get("Location", "") if sent is not None else ""
    if sent is not None and sent.status_code == 302 and "/login/" not in where:
        acknowledged[(int(task), int(agency), period)] = stamp
    elif sent is not None and sent.status_code == 200:
        session.record("submit_refused", 0.0, 422, "the form came back with an error")


def office_loop(session: Session, username: str, stop_at: float) -> None:
    if not session.login(username):
        return
    listing = session.request("plan_list", "GET", "/reporting/plans/")
    plans = sorted({p for _, p in DASHBOARD_LINK.findall(listing.text)}) if listing is not None \
        else []
    while time.time() < stop_at and plans:
        session.request("dashboard", "GET", f"/reporting/plans/{random.choice(plans)}/")
        time.sleep(random.uniform(0.5, 1.5))


def reference_loop(session: Session, stop_at: float) -> None:
    while time.time() < stop_at:
        session.request("reference", "GET", "/login/")
        time.sleep(0.5)


def worker(base: str, liaisons: list[str], offices: list[str], stop_at: float,
           with_reference: bool, verify: bool, ramp: float, queue) -> None:
    samples: list[tuple[str, float, int, str]] = []
    lock = threading.Lock()
    acknowledged: dict = {}

    def record(kind, ms, status, error):
        with lock:
            samples.append((kind, ms, status, error))

    threads = [threading.Thread(target=liaison_loop, args=(Session(base, record, verify), name,
                                                           stop_at, acknowledged))
               for name in liaisons]
    threads += [threading.Thread(target=office_loop, args=(Session(base, record, verify), name,
                                                           stop_at)) for name in offices]
    if with_reference:
        threads.append(threading.Thread(target=reference_loop,
                                        args=(Session(base, record, verify), stop_at)))
    # Users arrive over the ramp (locust's spawn rate), not all in the same second: a login
    # costs the server a deliberate ~0.2 s of password hashing.
    gap = max(0.05, ramp / max(1, len(threads)))
    for thread in threads:
        thread.start()
        time.sleep(gap)
    for thread in threads:
        thread.join()
    queue.put((samples, acknowledged))


# ---- report ----------------------------------------------------------------------------------

def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="the server, e.g. http://127.0.0.1:8080")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""),
                        help="the server's database, to prepare accounts and check reports")
    parser.add_argument("--liaisons", type=int, default=50)
    parser.add_argument("--offices", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=300)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--tasks-per-unit", type=int, default=6)
    parser.add_argument("--ramp", type=float, default=30.0,
                        help="seconds over which the users arrive (default 30)")
    parser.add_argument("--insecure", action="store_true",
                        help="accept a self-signed certificate (https on a test machine)")
    args = parser.parse_args()
    if not args.database_url:
        sys.exit("--database-url (or DATABASE_URL) is needed to prepare and check")
    liaisons, offices = prepare_accounts(args.database_url, args.liaisons, args.offices,
                                         args.tasks_per_unit)
    started = time.time()
    stop_at = started + args.seconds
    queue = multiprocessing.get_context("spawn").Queue()
    processes = []
    for n in range(args.processes):
        mine = liaisons[n::args.processes]
        their_offices = offices[n::args.processes]
        process = multiprocessing.get_context("spawn").Process(
            target=worker, args=(args.url.rstrip("/"), mine, their_offices, stop_at, n == 0,
                                 not args.insecure, args.ramp, queue))
        process.start()
        processes.append(process)
    samples: list = []
    acknowledged: dict = {}
    for _ in processes:
        got, acked = queue.get()
        samples += got
        acknowledged.update(acked)
    for process in processes:
        process.join()
    elapsed = time.time() - started

    by_kind: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    server_errors = 0
    for kind, ms, status, error in samples:
        by_kind[kind].append(ms)
        if status >= 500:
            server_errors += 1
        if status == 0 or status >= 400:
            errors[f"{kind} {status or error}"] += 1
    print(f"{'request':<12} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    p95 = {}
    for kind in sorted(by_kind):
        values = by_kind[kind]
        p95[kind] = round(percentile(values, 95), 1)
        print(f"{kind:<12} {len(values):>6} {statistics.median(values):>8.1f} "
              f"{p95[kind]:>8.1f} {percentile(values, 99):>8.1f}")
    for key, count in sorted(errors.items()):
        print(f"error: {key} × {count}")
    lost, duplicated = check_submissions(acknowledged)
    print(f"submissions acknowledged: {len(acknowledged)} (task, unit, period); "
          f"lost {lost}, duplicated {duplicated}")
    reference = p95.get("reference", float("nan"))
    ratio = round(p95.get("submit", float("nan")) / reference, 2) if reference else None
    met = (lost == 0 and duplicated == 0 and server_errors == 0
           and p95.get("dashboard", 1e9) < 300 and p95.get("submit", 1e9) < 500
           and len(acknowledged) > 0)
    print(json.dumps({"bench": "load", "seconds": round(elapsed), "requests": len(samples),
                      "errors": sum(errors.values()), "server_errors": server_errors,
                      "submitted": len(acknowledged), "lost": lost, "duplicated": duplicated,
                      "p95_ms": p95, "reference_p95_ms": reference, "ratio_submit": ratio,
                      "load_average": os.getloadavg()[0], "targets_met": met},
                     ensure_ascii=False))
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
