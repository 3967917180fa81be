"""Background jobs (huey): the work too slow for a request, and the periodic tick.

Why huey: one small library whose queue lives in a SQLite file for the embedded default (no
server to install on a county office's laptop) and in Redis in production, with the same task
code; periodic tasks without a second scheduler process; retries and delays built in.
(django-q2 keeps its queue in the application database, which on SQLite would contend with
the requests for the one write lock; Celery needs a broker even on a laptop.)

* Embedded default: the queue is ``var/jobs.sqlite3``; a thread of the process that queued the
  job runs it (``shidian.ops.worker``), and ``shidian serve`` starts that thread at start-up so
  jobs left by a crash run again. The tick keeps running in the server's own thread
  (``shidian.oversight.scheduler``).
* Production: the queue is in Redis; ``shidian run_huey`` (deploy/shidian-worker.service) runs
  the jobs and ``tick_job`` every five minutes.

A job is idempotent and takes ids, never objects; ``job_enqueue`` queues it after the current
transaction commits, so a worker never looks for a row that is not there yet.
"""
from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from huey import crontab
from huey.api import TaskWrapper
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task

from shidian.core.errors import ShidianError

log = logging.getLogger(__name__)


def job_enqueue(job: TaskWrapper, *args: Any) -> None:
    """Queue ``job(*args)`` once the surrounding transaction (if any) has committed."""
    transaction.on_commit(lambda: _enqueue(job, args))


def _enqueue(job: TaskWrapper, args: tuple[Any, ...]) -> None:
    job(*args)
    if not HUEY.immediate and in_process():
        from .worker import start_in_process

        start_in_process()


def in_process() -> bool:
    """Jobs run by a thread of the app process (the embedded default) rather than a worker."""
    return not settings.PRODUCTION


@db_task()
def case_import_job(batch_id: int, user_id: int, mode: str) -> None:
    """Check (``validate``) and/or import (``all`` / ``valid``) a household file.

    The outcome is recorded on the batch, which the import page polls; a batch that was already
    imported is refused by ``import_run`` itself, so running the job twice imports once."""
    from shidian.cases import imports
    from shidian.cases.models import ImportBatch, ImportStatus
    from shidian.orgs.models import User

    user = User.objects.get(pk=user_id)
    batch = ImportBatch.objects.get(pk=batch_id)
    try:
        if mode == "validate" or batch.status == ImportStatus.UPLOADED:
            imports.import_validate(user=user, batch_id=batch_id)
        if mode in ("all", "valid"):
            imports.import_run(user=user, batch_id=batch_id, mode=mode)
    except ShidianError as error:
        log.info("case import %s (%s): %s", batch_id, mode, error.message)


@db_task()
def audit_seal_job() -> None:
    """Seal the audit records a busy request left (``chain.seal_all_or_later``), waiting
    for the stream's lock here rather than in the request."""
    from shidian.security.chain import seal_all

    seal_all()


@db_periodic_task(crontab(minute="*/5"))
def tick_job() -> None:
    """``shidian tick`` every five minutes, in the production worker; it also seals any
    audit record still unsealed (a queue that was down when a request left it)."""
    from shidian.oversight.tick import tick_run
    from shidian.security.chain import seal_all

    seal_all()

    result = tick_run()
    if result.sent or result.failed:
        log.warning("tick: sent %s, failed %s", result.sent, result.failed)


@db_periodic_task(crontab(hour="3", minute="17"))
def evidence_sweep_job() -> None:
    """Once a night, remove evidence files whose report write never committed (the process
    was killed in between; ``reporting.services.evidence_files_sweep``)."""
    from shidian.reporting.services import evidence_files_sweep

    removed = evidence_files_sweep()
    if removed:
        log.warning("evidence sweep: removed %s files without a row", len(removed))
