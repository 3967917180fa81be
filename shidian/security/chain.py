"""The tamper-evident audit trail: every audit record is sealed into a hash chain.

Each stream (the django-auditlog log, the case timelines) has a head row (``AuditChain``) and
one ``AuditSeal`` per record: ``hash = SHA-256(previous hash, the record's canonical content)``.
Editing a record changes its content hash; deleting one leaves a seal without its record;
removing or re-ordering seals breaks the links. ``audit_verify`` walks the chain and says where.

On PostgreSQL, sealing happens after the writer's transaction commits (``transaction.on_commit``),
in a short transaction of its own that locks the stream's head row (``SELECT ... FOR UPDATE``),
so sealers append one after another and the chain cannot fork, and no writer holds the chain's
lock while it works. A request takes the lock only if it is free (``SKIP LOCKED``); when another
sealer holds it, the request goes on and ``audit_seal_job`` seals in the worker, which waits its
turn (and the 5-minute tick seals whatever a stopped queue left). On SQLite, which runs one writer at a time, the record is
sealed inside the writer's own transaction (it holds the write lock already). A unique
(stream, seq) constraint holds the chain linear even against bugs.
Records written by ``bulk_create`` (no signals) are picked up by the next sweep: the next
audited write, the end of any unsafe request (``SecurityMiddleware``), ``shidian audit seal``
and ``shidian audit verify``. Records are read-only through the application (model save of an
existing record and delete are refused; on PostgreSQL a trigger refuses UPDATE and DELETE),
and only ``audit_purge`` removes records, older than the retention period, keeping an anchor.
``audit_redact`` (``redaction.py``) rewrites fields of a sealed record to remove personal
information; the seal stays, the redaction keeps the digests before and after, and verification
accepts the record as the redaction left it (and nothing else).
"""
from __future__ import annotations

import contextvars
import datetime as dt
import hashlib
import json
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, connection, models, transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models.signals import post_save, pre_delete, pre_save
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shidian.core.errors import ErrorCode, ShidianError

from .models import (GENESIS, AuditAnchor, AuditChain, AuditRedaction, AuditSeal,
                     AuditVerifyRun)

log = logging.getLogger(__name__)

# How far below the last sealed id a routine sweep looks for records committed late (a long
# transaction's records get ids before a shorter one's that committed first).
LOOKBACK = 1_000
BATCH = 2_000
MIN_RETENTION_DAYS = 180

READ_ONLY = gettext_lazy("Audit records cannot be changed or deleted.")
RETENTION_TOO_SHORT = gettext_lazy(
    "Audit records are kept at least %(days)d days: only records written before %(date)s can "
    "be purged.")
CHAIN_BROKEN = gettext_lazy(
    "The audit chain does not verify (%(count)d problems): nothing is purged. Run "
    "'shidian audit verify' to see where.")


@dataclass(frozen=True)
class Stream:
    """A table of audit records kept in one chain."""

    key: str
    model_label: str
    time_field: str
    fields: tuple[str, ...]
    label: str

    def model(self) -> type[models.Model]:
        return apps.get_model(self.model_label)

    def installed(self) -> bool:
        try:
            self.model()
        except LookupError:
            return False
        return True


STREAMS: dict[str, Stream] = {s.key: s for s in (
    Stream("auditlog", "auditlog.LogEntry", "timestamp",
           ("content_type_id", "object_pk", "object_id", "object_repr", "serialized_data",
            "action", "changes_text", "changes", "actor_id", "cid", "remote_addr",
            "remote_port", "timestamp", "additional_data", "actor_email"),
           "audit log"),
    Stream("case_events", "cases.CaseEvent", "at",
           ("case_id", "kind", "transition", "from_stage", "to_stage", "actor_id", "at",
            "reason", "data"),
           "case timelines"),
)}


def streams() -> list[Stream]:
    return [s for s in STREAMS.values() if s.installed()]


def stream_of_model(model: type[models.Model]) -> Stream | None:
    label = model._meta.label
    return next((s for s in STREAMS.values() if s.model_label == label), None)


# --- the canonical content of a record ----------------------------------------------------------

def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = value.astimezone(dt.UTC)
        return value.isoformat(timespec="microseconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=str)


def record_content(stream: Stream, record: models.Model) -> dict[str, Any]:
    """The record's fields as plain JSON values; the content type by its name, not its id."""
    content: dict[str, Any] = {"id": record.pk}
    for name in stream.fields:
        value = getattr(record, name)
        if name == "content_type_id" and value is not None:
            ct = ContentType.objects.get_for_id(value)
            value = f"{ct.app_label}.{ct.model}"
        content[name] = _plain(value)
    return content


def link_hash(prev_hash: str, content: dict[str, Any]) -> str:
    return hashlib.sha256(f"{prev_hash}\n{_dumps(content)}".encode()).hexdigest()


def field_digests(content: dict[str, Any]) -> dict[str, str]:
    return {name: hashlib.sha256(_dumps(value).encode()).hexdigest()[:12]
            for name, value in content.items()}


# --- sealing ------------------------------------------------------------------------------------

def _head(key: str, *, wait: bool = True) -> AuditChain | None:
    """The stream's head row, locked; ``None`` if another sealer holds it and ``wait`` is
    false (``SKIP LOCKED``; SQLite has no row locks and always returns the head)."""
    locked = AuditChain.objects.select_for_update(skip_locked=not wait).filter(stream=key)
    head = locked.first()
    if head is None and not AuditChain.objects.filter(stream=key).exists():
        AuditChain.objects.get_or_create(stream=key)  # the stream's first record
        head = locked.first()
    return head


def seal_stream(key: str, *, full: bool = False, ids: Iterable[int] = (),
                lookback: int = LOOKBACK, wait: bool = True) -> int | None:
    """Seal the stream's records that have no seal yet, in id order; returns how many.

    ``full`` looks at every record; otherwise at the ids above the last sealed id less
    ``lookback`` (records that committed late) and at ``ids`` (the records a transaction wrote).
    With ``wait`` false, returns ``None`` at once when another sealer holds the stream.
    """
    stream = STREAMS[key]
    model = stream.model()
    sealed = 0
    with transaction.atomic():
        head = _head(key, wait=wait)
        if head is None:
            return None
        floor = 0 if full else max(0, head.last_record_id - lookback)
        wanted = Q(pk__gt=floor)
        # Only the ids at or below the floor need naming (a long transaction that committed
        # late): an OR with every id the transaction wrote made PostgreSQL scan the whole log
        # instead of the index range above the floor, a cost that grew with the log.
        late = sorted({pk for pk in ids if pk <= floor}) if not full else []
        if late:
            wanted |= Q(pk__in=late)
        # The seals looked at are bounded the same way (equivalent, as a seal's record_id is
        # its record's pk), so the anti-join reads a range of seals, not the stream's all.
        seals = AuditSeal.objects.filter(stream=key, record_id=OuterRef("pk"),
                                         record_id__gte=min(late, default=floor + 1))
        pending = model._base_manager.filter(wanted).filter(~Exists(seals)).order_by("pk")
        batch: list[AuditSeal] = []
        now = timezone.now()
        for record in _in_pages(pending):
            content = record_content(stream, record)
            digest = link_hash(head.last_hash, content)
            head.last_seq += 1
            batch.append(AuditSeal(stream=key, seq=head.last_seq, record_id=record.pk,
                                   record_time=getattr(record, stream.time_field) or now,
                                   prev_hash=head.last_hash, hash=digest,
                                   digests=field_digests(content), sealed_at=now))
            head.last_hash = digest
            head.last_record_id = max(head.last_record_id, record.pk)
            if len(batch) >= BATCH:
                AuditSeal.objects.bulk_create(batch)
                sealed += len(batch)
                batch = []
        if batch:
            AuditSeal.objects.bulk_create(batch)
            sealed += len(batch)
        if sealed:
            head.save(update_fields=["last_seq", "last_hash", "last_record_id"])
    return sealed


def _in_pages(records: models.QuerySet) -> Iterator[models.Model]:
    """The records in pk order, read BATCH at a time with plain queries.

    Not ``.iterator()``: on PostgreSQL that is a server-side cursor, planned for the first
    rows (``cursor_tuple_fraction``), and with the anti-join above it chose plans that took
    ~140 ms for an empty result where the plain query takes ~3 ms: every audited request
    paid it once per stream (bench/load.py's submit).
    """
    last = 0
    while True:
        page = list(records.filter(pk__gt=last)[:BATCH])
        yield from page
        if len(page) < BATCH:
            return
        last = page[-1].pk


def seal_all(*, full: bool = False) -> dict[str, int]:
    return {s.key: seal_stream(s.key, full=full) or 0 for s in streams()}


def seal_all_or_later() -> None:
    """Seal what is pending without waiting for another sealer: a stream that is busy is
    left to the background job (``audit_seal_job``), which waits its turn.

    Under load, requests that each waited for the stream's head row queued behind one
    another (bench/load.py: most waits on the PostgreSQL server were for that lock); now at
    most one request seals a stream at a time and the others go on.
    """
    if any(seal_stream(s.key, wait=False) is None for s in streams()):
        seal_later()


def seal_later() -> None:
    from shidian.ops.jobs import audit_seal_job

    try:
        audit_seal_job()
    except Exception:  # noqa: BLE001  the queue is down: the periodic sweep seals it
        log.exception("queueing the audit seal job failed; the periodic sweep will seal")


def unsealed_exist() -> bool:
    """A cheap look (no lock): is there a record above the last sealed id of any stream?"""
    heads = dict(AuditChain.objects.values_list("stream", "last_record_id"))
    return any(s.model()._base_manager.filter(pk__gt=heads.get(s.key, 0)).exists()
               for s in streams())


def _seal_after_commit(key: str, ids: Iterable[int] = ()) -> None:
    try:
        if seal_stream(key, ids=ids, wait=False) is None:
            seal_later()  # another request is sealing this stream: do not queue behind it
    except Exception:  # noqa: BLE001  the write has committed; the next sweep seals it
        log.exception("sealing the %s audit stream failed; the next sweep will retry", key)


def _schedule(key: str, record_id: int) -> None:
    """Seal after the current transaction commits (once per transaction and stream, with the
    ids of the records the transaction wrote, however late it commits)."""
    if not connection.in_atomic_block:
        _seal_after_commit(key, [record_id])
        return
    marker = f"shidian-seal-{key}"
    for _sids, func, _robust in connection.run_on_commit:
        if getattr(func, "shidian_marker", None) == marker:
            func.shidian_ids.append(record_id)  # type: ignore[attr-defined]
            return
    ids = [record_id]

    def seal() -> None:
        _seal_after_commit(key, ids)

    seal.shidian_marker = marker  # type: ignore[attr-defined]
    seal.shidian_ids = ids  # type: ignore[attr-defined]
    transaction.on_commit(seal)


# --- read-only records --------------------------------------------------------------------------

_purging: contextvars.ContextVar[bool] = contextvars.ContextVar("shidian_audit_purging",
                                                               default=False)
# The records (model label, pk) a redaction is rewriting right now: their save passes.
_redacting: contextvars.ContextVar[frozenset[tuple[str, Any]]] = contextvars.ContextVar(
    "shidian_audit_redacting", default=frozenset())


class AuditReadOnlyError(ShidianError):
    def __init__(self) -> None:
        super().__init__(ErrorCode.FORBIDDEN, str(READ_ONLY))


def _refuse_change(sender: type[models.Model], instance: models.Model, raw: bool = False,
                   **kwargs: Any) -> None:
    if instance._state.adding or raw:
        return
    if (sender._meta.label, instance.pk) in _redacting.get():
        return
    raise AuditReadOnlyError


def _refuse_delete(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    if not _purging.get():
        raise AuditReadOnlyError


def _record_saved(sender: type[models.Model], instance: models.Model, created: bool = False,
                  raw: bool = False, **kwargs: Any) -> None:
    stream = stream_of_model(sender)
    if not created or stream is None or raw:
        return
    if connection.vendor == "sqlite":
        # SQLite runs one writer at a time and this transaction holds the write lock already:
        # seal here, so sealing never waits for the lock a second time. One writer means ids
        # are sealed in order: only the tail needs looking at.
        seal_stream(stream.key, lookback=0)
    else:
        _schedule(stream.key, instance.pk)


def connect() -> None:
    """Connect the receivers (from ``SecurityConfig.ready``)."""
    for stream in streams():
        model = stream.model()
        uid = f"shidian-security-{stream.key}"
        pre_save.connect(_refuse_change, sender=model, dispatch_uid=f"{uid}-save")
        pre_delete.connect(_refuse_delete, sender=model, dispatch_uid=f"{uid}-delete")
        post_save.connect(_record_saved, sender=model, dispatch_uid=f"{uid}-sealed")
    uid = "shidian-security-redactions"
    pre_save.connect(_refuse_change, sender=AuditRedaction, dispatch_uid=f"{uid}-save")
    pre_delete.connect(_refuse_delete, sender=AuditRedaction, dispatch_uid=f"{uid}-delete")


# --- verification -------------------------------------------------------------------------------

@dataclass
class Problem:
    stream: str
    kind: str  # edited | deleted | link | missing_seals | unsealed | head
    seq: int | None
    record_id: int | None
    record_time: str
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"stream": self.stream, "kind": self.kind, "seq": self.seq,
                "record_id": self.record_id, "record_time": self.record_time,
                "detail": self.detail}

    def __str__(self) -> str:
        where = f"#{self.record_id}" if self.record_id is not None else f"seq {self.seq}"
        when = f" ({self.record_time})" if self.record_time else ""
        return f"[{self.stream}] {self.kind} {where}{when}: {self.detail}"


@dataclass
class VerifyResult:
    checked: int = 0
    redacted: int = 0  # records that verify as their redaction left them
    problems: list[Problem] = field(default_factory=list)
    heads: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def _local(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S")


def _seal_batches(key: str, after: int) -> Iterator[list[AuditSeal]]:
    last = after
    while True:
        batch = list(AuditSeal.objects.filter(stream=key, seq__gt=last).order_by("seq")[:BATCH])
        if not batch:
            return
        yield batch
        last = batch[-1].seq


def _changed(content: dict[str, Any], digests: dict[str, str]) -> str:
    now_digests = field_digests(content)
    return ", ".join(sorted(name for name in set(now_digests) | set(digests)
                            if now_digests.get(name) != digests.get(name)))


def _redactions_of(key: str, record_ids: list[int]
                   ) -> tuple[dict[int, list[AuditRedaction]], dict[int, Any]]:
    """The redactions of these records, in order, and what each one's own audit record says
    of it (``additional_data`` of its CREATE entry, by the redaction's id)."""
    from auditlog.models import LogEntry

    found: dict[int, list[AuditRedaction]] = {}
    for redaction in AuditRedaction.objects.filter(stream=key, record_id__in=record_ids
                                                   ).order_by("pk"):
        found.setdefault(redaction.record_id, []).append(redaction)
    if not found:
        return found, {}
    ids = [r.pk for kept in found.values() for r in kept]
    entries = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(AuditRedaction), object_id__in=ids,
        action=LogEntry.Action.CREATE).values_list("object_id", "additional_data")
    return found, dict(entries)


def _redacted_problem(seal: AuditSeal, content: dict[str, Any], now_hash: str,
                      kept: list[AuditRedaction], logged: dict[int, Any]) -> str | None:
    """``None`` when a redacted record is exactly as its last redaction left it, every
    redaction following from the seal (or the one before) and recorded in the audit trail as
    it was made; otherwise what does not match."""
    digests, content_hash = dict(seal.digests), seal.hash
    for redaction in kept:
        if (redaction.seq != seal.seq or redaction.content_hash_before != content_hash
                or any(redaction.digests_before.get(name) != digests.get(name)
                       for name in redaction.fields)
                or logged.get(redaction.pk) != redaction.audit_data()):
            return (f"the redaction #{redaction.pk} does not match the seal or its own "
                    f"audit record")
        digests.update(redaction.digests_after)
        content_hash = redaction.content_hash_after
    if now_hash == content_hash:
        return None
    return "changed fields after redaction: " + (_changed(content, digests) or "the seal itself")


def verify_stream(key: str, result: VerifyResult) -> None:
    stream = STREAMS[key]
    model = stream.model()
    head = AuditChain.objects.filter(stream=key).first() or AuditChain(stream=key)
    prev = head.anchor_hash
    expected = head.anchor_seq + 1
    any_redacted = AuditRedaction.objects.filter(stream=key).exists()
    for batch in _seal_batches(key, head.anchor_seq):
        records = model._base_manager.in_bulk([s.record_id for s in batch])
        redactions, logged = (_redactions_of(key, [s.record_id for s in batch])
                              if any_redacted else ({}, {}))
        for seal in batch:
            result.checked += 1
            when = _local(seal.record_time)
            if seal.seq != expected:
                result.problems.append(Problem(
                    key, "missing_seals", expected, None, "",
                    f"seals {expected}–{seal.seq - 1} are missing (records and their seals "
                    f"removed)"))
            if seal.prev_hash != prev:
                result.problems.append(Problem(
                    key, "link", seal.seq, seal.record_id, when,
                    "the link to the previous record does not match (a seal was changed, "
                    "inserted or removed before this one)"))
            record = records.get(seal.record_id)
            if record is None:
                result.problems.append(Problem(key, "deleted", seal.seq, seal.record_id, when,
                                               "the record was deleted"))
            else:
                content = record_content(stream, record)
                now_hash = link_hash(seal.prev_hash, content)
                kept = redactions.get(seal.record_id)
                if kept:
                    problem = _redacted_problem(seal, content, now_hash, kept, logged)
                    if problem is None:
                        result.redacted += 1
                    else:
                        result.problems.append(Problem(key, "edited", seal.seq,
                                                       seal.record_id, when, problem))
                elif now_hash != seal.hash:
                    result.problems.append(Problem(
                        key, "edited", seal.seq, seal.record_id, when,
                        "changed fields: " + (_changed(content, seal.digests)
                                              or "the seal itself")))
            prev = seal.hash
            expected = seal.seq + 1
    if expected - 1 != head.last_seq:
        result.problems.append(Problem(
            key, "missing_seals", expected, None, "",
            f"the chain ends at {expected - 1} but its head says {head.last_seq}: the last "
            f"records and their seals were removed"))
    elif head.last_seq and prev != head.last_hash:
        result.problems.append(Problem(key, "head", head.last_seq, None, "",
                                       "the last hash does not match the chain's head"))
    unsealed = (model._base_manager
                .filter(~Exists(AuditSeal.objects.filter(stream=key, record_id=OuterRef("pk"))))
                .filter(pk__gt=0).order_by("pk"))
    first_kept = (AuditSeal.objects.filter(stream=key).order_by("seq")
                  .values_list("record_id", flat=True).first())
    for record in unsealed[:20]:
        if head.anchor_seq and first_kept is not None and record.pk < first_kept:
            detail = "a record older than the last purge that is not in the chain"
        else:
            detail = "the record is not sealed (written outside the application?)"
        result.problems.append(Problem(key, "unsealed", None, record.pk,
                                       _local(getattr(record, stream.time_field)), detail))
    result.heads[key] = head.last_hash


def audit_verify(*, seal_first: bool = True, source: str = "command") -> VerifyResult:
    """Verify every stream; seal pending records first unless told not to. Saves the result."""
    if seal_first:
        seal_all(full=True)
    result = VerifyResult()
    for stream in streams():
        verify_stream(stream.key, result)
    AuditVerifyRun.objects.create(ok=result.ok, checked=result.checked, source=source,
                                  redacted=result.redacted,
                                  problems=[p.as_dict() for p in result.problems[:100]])
    return result


# --- retention ----------------------------------------------------------------------------------

def retention_days() -> int:
    return max(MIN_RETENTION_DAYS, int(getattr(settings, "SHIDIAN_AUDIT_RETENTION_DAYS", 183)))


@contextmanager
def redacting(record: models.Model) -> Iterator[None]:
    """Let this transaction rewrite this one audit record (``audit_redact``, nothing else):
    the model-level guard passes its save, the PostgreSQL trigger its UPDATE."""
    token = _redacting.set(_redacting.get() | {(record._meta.label, record.pk)})
    try:
        with _trigger_setting("shidian.audit_redact"):
            yield
    finally:
        _redacting.reset(token)


@contextmanager
def purging() -> Iterator[None]:
    """Let this transaction delete audit records (the retention purge, nothing else)."""
    token = _purging.set(True)
    try:
        with _trigger_setting("shidian.audit_purge"):
            yield
    finally:
        _purging.reset(token)


@contextmanager
def _trigger_setting(name: str) -> Iterator[None]:
    """Turn on, for the block, a setting that the PostgreSQL read-only trigger of the audit
    tables reads (``SET LOCAL``: it ends with the transaction at the latest).

    If a statement of the block failed, the transaction is aborted and turning the setting
    off fails too; the rollback ends it, and the block's own error is the one raised."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL {name} = 'on'")
    try:
        yield
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL {name} = 'off'")
        except DatabaseError:
            pass


def audit_purge(*, before: dt.datetime, actor: Any = None,
                now: dt.datetime | None = None) -> dict[str, int]:
    """Remove audit records written before ``before`` (at least the retention period ago).

    The chain stays verifiable: the hash of the last removed record becomes the stream's
    anchor. Refused when the chain does not verify (a purge must not destroy evidence).
    """
    now = now or timezone.now()
    days = retention_days()
    limit = now - dt.timedelta(days=days)
    if before > limit:
        raise ShidianError(ErrorCode.INVALID, RETENTION_TOO_SHORT % {
            "days": days, "date": timezone.localtime(limit).strftime("%Y-%m-%d")},
            {"retention_days": days})
    check = audit_verify(source="purge")
    if not check.ok:
        raise ShidianError(ErrorCode.CONFLICT, CHAIN_BROKEN % {"count": len(check.problems)})
    purged: dict[str, int] = {}
    for stream in streams():
        purged[stream.key] = _purge_stream(stream, before=before, actor=actor)
    if any(purged.values()):
        _log_purge(purged, before=before, actor=actor)
    return purged


def _purge_stream(stream: Stream, *, before: dt.datetime, actor: Any) -> int:
    model = stream.model()
    with transaction.atomic():
        head = _head(stream.key)
        young = (AuditSeal.objects.filter(stream=stream.key, seq__gt=head.anchor_seq,
                                          record_time__gte=before)
                 .order_by("seq").values_list("seq", flat=True).first())
        cut_seq = head.last_seq if young is None else young - 1
        if cut_seq <= head.anchor_seq:
            return 0
        cut = AuditSeal.objects.get(stream=stream.key, seq=cut_seq)
        seals = AuditSeal.objects.filter(stream=stream.key, seq__gt=head.anchor_seq,
                                         seq__lte=cut_seq)
        ids = list(seals.values_list("record_id", flat=True))
        with purging():
            for start in range(0, len(ids), BATCH):
                model._base_manager.filter(pk__in=ids[start:start + BATCH])._raw_delete(
                    connection.alias)
            seals._raw_delete(connection.alias)
        AuditAnchor.objects.create(stream=stream.key, seq=cut_seq, hash=cut.hash,
                                   before=before, purged=len(ids),
                                   actor=actor if getattr(actor, "pk", None) else None)
        head.anchor_seq = cut_seq
        head.anchor_hash = cut.hash
        head.save(update_fields=["anchor_seq", "anchor_hash"])
    return len(ids)


def _log_purge(purged: dict[str, int], *, before: dt.datetime, actor: Any) -> None:
    from auditlog.models import LogEntry

    anchor = AuditAnchor.objects.order_by("-pk").first()
    if anchor is None:
        return
    LogEntry.objects.create(
        content_type=ContentType.objects.get_for_model(AuditAnchor), object_pk=str(anchor.pk),
        object_id=anchor.pk, object_repr=_("Audit records purged"),
        action=LogEntry.Action.DELETE, actor=actor if getattr(actor, "pk", None) else None,
        changes={"purged": [str(sum(purged.values())), "0"]},
        additional_data={"before": before.isoformat(), "streams": purged})
