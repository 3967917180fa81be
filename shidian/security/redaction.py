"""Removing personal information from sealed audit records (PIPL 个人信息保护法).

Audit records are hash-chained and read-only, so a value that should never have been written
in clear (a psychiatric patient's name written before the psych pack sealed it) would stay
there as long as the record is kept. ``audit_redact`` rewrites chosen fields of one record,
by the security administrator, with a reason, in one transaction: the seal is left as it is
and an ``AuditRedaction`` keeps the fields' digests before and after and the content hash the
record has now. Verification (``chain.verify_stream``) accepts the record only exactly as the
redaction left it, and only when the redaction is in the audit trail as it was made (the
redaction is itself an audited model, so its record is sealed in the chain).

``sealed_text_redact`` is the procedure for case types that seal text fields: the clear
values come from each case's envelope, every occurrence in the case's audit log and timeline
records is replaced by the value's mask.
"""
from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from auditlog.context import set_actor
from django.db import models, transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy

from shidian.core.errors import ErrorCode, ShidianError

from . import access
from .chain import (STREAMS, Stream, audit_verify, field_digests, link_hash,
                    record_content, redacting, seal_stream)
from .models import AuditRedaction, AuditSeal

REASON_REQUIRED = gettext_lazy("Give the reason for the redaction.")
STREAM_UNKNOWN = gettext_lazy("Unknown audit stream: %(stream)s.")
FIELD_NOT_SEALED = gettext_lazy("%(field)s is not a sealed field of the %(stream)s.")
RECORD_NOT_FOUND = gettext_lazy("Audit record %(id)s was not found.")
RECORD_NOT_SEALED = gettext_lazy("Audit record %(id)s is not sealed yet: run 'shidian audit "
                                 "seal' first.")
RECORD_TAMPERED = gettext_lazy(
    "Audit record %(id)s does not verify (it was changed outside the application): it is not "
    "redacted, so the change stays visible.")
CHAIN_BROKEN = gettext_lazy(
    "The audit chain does not verify (%(count)d problems): nothing is redacted. Run "
    "'shidian audit verify' to see where.")
NOTHING_CHANGES = gettext_lazy("The replacement changes nothing in audit record %(id)s.")

MIN_VALUE_LENGTH = 2  # a one-character value would rewrite every text it occurs in


@transaction.atomic
def audit_redact(*, actor: Any, stream: str, record_id: int,
                 replacements: Mapping[str, Any], reason: str) -> AuditRedaction:
    """Replace fields of one sealed audit record; returns the redaction (itself audited).

    Refused unless the actor is a security administrator, a reason is given, every field is
    one the stream seals, and the record verifies now (a redaction must not launder an edit
    made behind the application's back).
    """
    access.require_security_admin(actor)
    reason = (reason or "").strip()
    if not reason:
        raise ShidianError(ErrorCode.INVALID, str(REASON_REQUIRED), {"field": "reason"})
    chain_stream = STREAMS.get(stream)
    if chain_stream is None or not chain_stream.installed():
        raise ShidianError(ErrorCode.INVALID, STREAM_UNKNOWN % {"stream": stream})
    for name in replacements:
        if name not in chain_stream.fields:
            raise ShidianError(ErrorCode.INVALID, FIELD_NOT_SEALED % {
                "field": name, "stream": chain_stream.label}, {"field": name})
    model = chain_stream.model()
    record = model._base_manager.select_for_update().filter(pk=record_id).first()
    if record is None:
        raise ShidianError(ErrorCode.NOT_FOUND, RECORD_NOT_FOUND % {"id": record_id})
    seal = AuditSeal.objects.filter(stream=stream, record_id=record_id).first()
    if seal is None:
        seal_stream(stream, ids=[record_id])
        seal = AuditSeal.objects.filter(stream=stream, record_id=record_id).first()
    if seal is None:
        raise ShidianError(ErrorCode.CONFLICT, RECORD_NOT_SEALED % {"id": record_id})
    earlier = list(AuditRedaction.objects.filter(stream=stream, record_id=record_id)
                   .order_by("pk"))
    content = record_content(chain_stream, record)
    hash_before = earlier[-1].content_hash_after if earlier else seal.hash
    if link_hash(seal.prev_hash, content) != hash_before:
        raise ShidianError(ErrorCode.CONFLICT, RECORD_TAMPERED % {"id": record_id})
    digests_before = field_digests(content)
    for name, value in replacements.items():
        setattr(record, name, value)
    changed = sorted(name for name, digest in field_digests(
        record_content(chain_stream, record)).items() if digest != digests_before[name])
    if not changed:
        raise ShidianError(ErrorCode.INVALID, NOTHING_CHANGES % {"id": record_id})
    with redacting(record):
        record.save(update_fields=changed)
    # What the database holds now (a JSON value comes back as the database keeps it).
    content = record_content(chain_stream, model._base_manager.get(pk=record_id))
    digests_after = field_digests(content)
    with set_actor(actor):
        return AuditRedaction.objects.create(
            stream=stream, record_id=record_id, seq=seal.seq, fields=changed,
            digests_before={name: digests_before[name] for name in changed},
            digests_after={name: digests_after[name] for name in changed},
            content_hash_before=hash_before,
            content_hash_after=link_hash(seal.prev_hash, content),
            reason=reason, actor=actor)


# --- the procedure: values a case type now seals, still in clear in old records ----------------

def _text_fields(stream: Stream) -> list[str]:
    """The stream's sealed fields that hold text or JSON (where a name can be written)."""
    by_column = {f.attname: f for f in stream.model()._meta.concrete_fields}
    return [name for name in stream.fields
            if isinstance(by_column[name], models.CharField | models.TextField
                          | models.JSONField) and not by_column[name].is_relation]


def _escaped(value: str) -> str:
    """The value as ``json.dumps`` writes it inside a string (django-auditlog stores a JSON
    field's old and new values so: 李 → \\u674e)."""
    return json.dumps(value)[1:-1]


def scrubbed(value: Any, pairs: list[tuple[str, str]]) -> Any:
    """``value`` with every clear value replaced by its mask, also inside JSON (keys too) and
    in its escaped spelling."""
    if isinstance(value, str):
        for clear, mask in pairs:
            value = value.replace(clear, mask)
            escaped = _escaped(clear)
            if escaped != clear:
                value = value.replace(escaped, _escaped(mask))
        return value
    if isinstance(value, list):
        return [scrubbed(item, pairs) for item in value]
    if isinstance(value, dict):
        return {scrubbed(k, pairs): scrubbed(v, pairs) for k, v in value.items()}
    return value


def sealed_pairs(case_type: Any, values: Mapping[str, list[str]]) -> list[tuple[str, str]]:
    """(clear value, mask) of a case's sealed text fields (``values``: field → its clear
    values), longest first: the subject's name as 张**, the others as ``******`` (the masks
    pages show, as migration cases 0008 left them)."""
    from shidian.cases.services import SENSITIVE_MASK
    from shidian.core import crypto

    pairs = {}
    for key in sealed_keys(case_type):
        for value in values.get(key, ()):
            clear = str(value or "").strip()
            mask = crypto.mask_name(clear) if key == case_type.subject_name else SENSITIVE_MASK
            if len(clear) >= MIN_VALUE_LENGTH and clear != mask and "*" not in clear:
                pairs.setdefault(clear, mask)
    return sorted(pairs.items(), key=lambda pair: -len(pair[0]))


def sealed_keys(case_type: Any) -> list[str]:
    return [f.key for f in case_type.fields if f.sensitive and f.type == "text"]


def clear_values(case_type: Any, case: Any) -> dict[str, list[str]]:
    """Each sealed text field's clear values: the one in the envelope and the former ones the
    case's timeline names (an edit records old → new, and before sealing those were clear)."""
    from shidian.cases.models import CaseEvent, EventKind
    from shidian.core import crypto

    keys = sealed_keys(case_type)
    secrets = crypto.decrypt_json(case.pii) if case.pii else {}
    found: dict[str, list[str]] = {key: [secrets[key]] for key in keys if secrets.get(key)}
    edits = CaseEvent.objects.filter(case_id=case.pk, kind=EventKind.EDITED)
    for data in edits.values_list("data", flat=True):
        changes = (data or {}).get("changes") or {}
        for key in keys:
            for value in changes.get(key) or ():
                if isinstance(value, str) and value:
                    found.setdefault(key, []).append(value)
    return found


def _case_records(case: Any) -> Iterator[tuple[str, models.Model]]:
    """The case's audit records: its LogEntries, those of its persons, its timeline."""
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    from shidian.cases.models import Case, CaseEvent, CasePerson

    case_ct = ContentType.objects.get_for_model(Case)
    person_ct = ContentType.objects.get_for_model(CasePerson)
    persons = [str(pk) for pk in CasePerson.objects.filter(case=case).values_list("pk",
                                                                                  flat=True)]
    entries = LogEntry.objects.filter(
        Q(content_type=case_ct, object_pk=str(case.pk))
        | Q(content_type=person_ct, object_pk__in=persons)).order_by("pk")
    for entry in entries:
        yield "auditlog", entry
    for event in CaseEvent.objects.filter(case_id=case.pk).order_by("pk"):
        yield "case_events", event


@dataclass
class RedactPlan:
    """What the procedure found (and, applied, did): counts only, never a value."""

    cases: int = 0
    records: int = 0
    fields: int = 0
    by_stream: dict[str, int] = field(default_factory=dict)


def sealed_text_redact(*, actor: Any, reason: str, apply: bool = False) -> RedactPlan:
    """Mask, in the audit records of every case of a case type that seals text fields, the
    clear values its envelope holds. A dry run (``apply`` false) only counts; applied, each
    record is one ``audit_redact``, and only on a chain that verifies (as the purge: a
    problem is looked into first, not half redacted around). Running it again finds
    nothing."""
    from shidian.cases.definitions import case_types
    from shidian.cases.models import Case

    if apply:
        access.require_security_admin(actor)
        if not (reason or "").strip():
            raise ShidianError(ErrorCode.INVALID, str(REASON_REQUIRED), {"field": "reason"})
        check = audit_verify(source="redact")
        if not check.ok:
            raise ShidianError(ErrorCode.CONFLICT, CHAIN_BROKEN % {"count": len(check.problems)})
    text_fields = {key: _text_fields(STREAMS[key]) for key in STREAMS if STREAMS[key].installed()}
    plan = RedactPlan()
    for key, case_type in case_types().items():
        if not sealed_keys(case_type):
            continue
        cases = Case.objects.filter(case_type=key).only("pk", "pii").order_by("pk")
        for case in cases.iterator(chunk_size=500):
            pairs = sealed_pairs(case_type, clear_values(case_type, case))
            if not pairs:
                continue
            touched = False
            for stream, record in _case_records(case):
                replacements = {}
                for name in text_fields[stream]:
                    value = getattr(record, name)
                    new = scrubbed(value, pairs)
                    if new != value:
                        replacements[name] = new
                if not replacements:
                    continue
                touched = True
                plan.records += 1
                plan.fields += len(replacements)
                plan.by_stream[stream] = plan.by_stream.get(stream, 0) + 1
                if apply:
                    audit_redact(actor=actor, stream=stream, record_id=record.pk,
                                 replacements=replacements, reason=reason)
            plan.cases += touched
    return plan
