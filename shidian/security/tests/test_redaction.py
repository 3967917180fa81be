"""Personal information written in clear into the sealed audit trail before the psych pack
sealed it can be removed (PIPL) by the security administrator, with a reason; the trail still
verifies, says what was redacted, by whom and why, and still finds any other change."""
from __future__ import annotations

import importlib
import re
from io import StringIO

import pytest
from auditlog.context import disable_auditlog
from auditlog.models import LogEntry
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from shidian.cases import definitions, needtoknow
from shidian.cases import services as case_services
from shidian.cases.models import Case, CaseEvent
from shidian.core.errors import ErrorCode, ShidianError
from shidian.orgs.models import Role
from shidian.orgs.testing import make_user
from shidian.packs.psych.testing import make_world, patient_values
from shidian.security import chain, redaction
from shidian.security.models import AuditRedaction, AuditSeal
from shidian.security.testing import bypassing_triggers

pytestmark = pytest.mark.django_db

# The patient, the guardian and the phone at registration; the guardian named later.
CLEAR = ("李建国", "李秀兰", "13900002222", "王芳", "13700001111")
REASON = "PIPL: 精神障碍患者姓名等敏感个人信息在密封前写入了审计记录"


ESCAPED = re.compile(r"\\+u([0-9a-fA-F]{4})")


def case_trail(case_id: int) -> str:
    """Every column of the case's audit log and timeline records, as the database holds
    them, with JSON's escapes (\\u674e, at any depth of JSON in JSON) read as characters."""
    ct = ContentType.objects.get_for_model(Case)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM auditlog_logentry WHERE content_type_id = %s AND "
                       "object_pk = %s", [ct.pk, str(case_id)])
        rows = cursor.fetchall()
        cursor.execute("SELECT * FROM cases_caseevent WHERE case_id = %s", [case_id])
        rows += cursor.fetchall()
    text = " ".join(str(value) for row in rows for value in row)
    return ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text)


def leaked(case_id: int) -> list[str]:
    trail = case_trail(case_id)
    return [value for value in CLEAR if value in trail]


@pytest.fixture
def world():
    return make_world()


@pytest.fixture
def security_admin():
    return make_user("anquanyuan", role=Role.SECURITY_ADMIN)


@pytest.fixture
def patient(world, monkeypatch):
    """A patient registered and edited while the psych pack kept names and phones in clear
    (the fields not yet sensitive), then sealed by migration cases 0008, as it happened."""
    with monkeypatch.context() as clear_era:
        clear_era.setattr(definitions.FieldDef, "secret",
                          property(lambda f: f.type in definitions.SECRET_TYPES))
        case = case_services.case_create(user=world.grid, programme=world.patients,
                                         values=patient_values(registered_on="2020-06-03"))
        needtoknow.member_add(user=world.grid, case=case, member=world.doctor,
                              duty="psych_doctor", initial=True)
        case_services.case_update(user=world.doctor, case_id=case.pk, values={
            "guardian_name": "王芳", "guardian_phone": "13700001111"})
    seal = importlib.import_module("shidian.cases.migrations.0008_seal_sensitive_text").seal
    with disable_auditlog():  # a migration's historical models are not audited
        seal(apps, None)
    chain.seal_all()
    assert sorted(leaked(case.pk)) == sorted(CLEAR)  # the situation to repair
    return Case.objects.get(pk=case.pk)


def command(*args: str) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("audit", *args, stdout=out)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue()
    return 0, out.getvalue()


def test_the_procedure_masks_every_clear_value_and_the_trail_still_verifies(
        patient, security_admin):
    code, dry = command("redact-sealed", "--reason", REASON)
    assert code == 0 and "would redact" in dry and "of 1 cases" in dry
    assert not any(value in dry for value in CLEAR)
    assert sorted(leaked(patient.pk)) == sorted(CLEAR)  # a dry run changes nothing

    code, out = command("redact-sealed", "--reason", REASON, "--apply", "--user",
                        security_admin.username)
    assert code == 0 and out.startswith("redacted ")
    assert leaked(patient.pk) == []
    assert "李**" in case_trail(patient.pk)  # the name as the pages show it
    redactions = list(AuditRedaction.objects.all())
    assert redactions and {r.actor for r in redactions} == {security_admin}
    assert {r.stream for r in redactions} == {"auditlog", "case_events"}

    result = chain.audit_verify()
    assert result.ok, [str(p) for p in result.problems]
    assert result.redacted == len(redactions)
    code, out = command("verify")
    assert code == 0
    assert f"{len(redactions)} records redacted" in out
    assert f"by {security_admin.username}: {REASON}" in out

    # Each redaction is itself in the audit trail, by the security administrator, and sealed.
    logged = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(AuditRedaction),
        action=LogEntry.Action.CREATE)
    assert logged.count() == len(redactions)
    assert set(logged.values_list("actor", flat=True)) == {security_admin.pk}

    code, again = command("redact-sealed", "--reason", REASON, "--apply", "--user",
                          security_admin.username)
    assert code == 0 and "0 records" in again
    assert AuditRedaction.objects.count() == len(redactions)


def test_the_audit_administrator_sees_what_was_redacted_by_whom_and_why(
        patient, security_admin, client):
    plan = redaction.sealed_text_redact(actor=security_admin, reason=REASON, apply=True)
    auditor = make_user("shenjiyuan", role=Role.AUDIT_ADMIN)
    client.force_login(auditor)
    verified = client.post(reverse("security:audit-verify"), follow=True)
    text = verified.content.decode()
    assert f"其中 {plan.records} 条已脱敏" in text  # the verification's message
    assert f"已脱敏 {plan.records} 条" in text  # the last verification, on the audit page
    redactions = text.split('data-testid="redactions"')[1].split("</details>")[0]
    assert security_admin.username in redactions and REASON in redactions
    assert not any(value in text for value in CLEAR)
    controls = client.get(reverse("security:controls")).content.decode()
    row = controls.split('data-control="audit_redaction"')[1].split("</tr>")[0]
    assert "个人信息保护法" in row and f"已脱敏记录 {plan.records} 条" in row
    assert security_admin.username in row
    assert "text-bg-success" in row  # verified after the redaction


def test_a_redacted_record_changed_again_is_found(patient, security_admin):
    redaction.sealed_text_redact(actor=security_admin, reason=REASON, apply=True)
    entry = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Case), object_pk=str(patient.pk),
        action=LogEntry.Action.CREATE).get()
    assert AuditRedaction.objects.filter(stream="auditlog", record_id=entry.pk).exists()
    assert chain.audit_verify().ok

    with bypassing_triggers():  # an intruder with database access puts the name back
        LogEntry.objects.filter(pk=entry.pk).update(object_repr=f"{patient.number} 李建国")
    problems = chain.audit_verify().problems
    assert [(p.kind, p.record_id) for p in problems] == [("edited", entry.pk)]
    assert "object_repr" in problems[0].detail

    with bypassing_triggers():  # the redacted field as it was left, another field changed
        LogEntry.objects.filter(pk=entry.pk).update(object_repr=entry.object_repr)
        assert chain.audit_verify().ok
        LogEntry.objects.filter(pk=entry.pk).update(remote_addr="10.0.0.9")
    problems = chain.audit_verify().problems
    assert [(p.kind, p.record_id) for p in problems] == [("edited", entry.pk)]
    assert "remote_addr" in problems[0].detail


def test_a_redaction_written_behind_the_applications_back_hides_nothing(patient,
                                                                         security_admin):
    """An intruder who edits a record and adds a matching redaction row without its sealed
    audit record is still found."""
    event = CaseEvent.objects.filter(case=patient, kind="edited").get()
    seal = AuditSeal.objects.get(stream="case_events", record_id=event.pk)
    with bypassing_triggers():
        CaseEvent.objects.filter(pk=event.pk).update(reason="改过")
    stream = chain.STREAMS["case_events"]
    content = chain.record_content(stream, CaseEvent.objects.get(pk=event.pk))
    digests = chain.field_digests(content)
    AuditRedaction.objects.bulk_create([AuditRedaction(
        stream="case_events", record_id=event.pk, seq=seal.seq, fields=["reason"],
        digests_before={"reason": seal.digests["reason"]},
        digests_after={"reason": digests["reason"]}, content_hash_before=seal.hash,
        content_hash_after=chain.link_hash(seal.prev_hash, content), reason="伪造")])
    result = chain.audit_verify()
    assert [(p.kind, p.record_id) for p in result.problems] == [("edited", event.pk)]
    assert result.redacted == 0


def test_only_a_security_administrator_redacts_a_sealed_field_with_a_reason(
        patient, world, security_admin):
    entry = LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(Case),
                                    object_pk=str(patient.pk)).first()
    before = case_trail(patient.pk)
    others = (world.admin, world.doctor, make_user("shenji", role=Role.AUDIT_ADMIN),
              make_user("root", superuser=True))
    for user in others:
        with pytest.raises(ShidianError) as refused:
            redaction.audit_redact(actor=user, stream="auditlog", record_id=entry.pk,
                                   replacements={"object_repr": "x"}, reason=REASON)
        assert refused.value.code == ErrorCode.FORBIDDEN, user.username
    for replacements, reason in (({"object_repr": "x"}, " "),
                                 ({"object_repr": "x", "pk": 1}, REASON),
                                 ({"not_a_field": "x"}, REASON)):
        with pytest.raises(ShidianError) as refused:
            redaction.audit_redact(actor=security_admin, stream="auditlog", record_id=entry.pk,
                                   replacements=replacements, reason=reason)
        assert refused.value.code == ErrorCode.INVALID
    with pytest.raises(CommandError):
        call_command("audit", "redact-sealed", "--reason", REASON, "--apply", "--user",
                     world.doctor.username, stdout=StringIO())
    assert case_trail(patient.pk) == before
    assert not AuditRedaction.objects.exists()


def test_a_record_changed_behind_the_applications_back_is_not_redacted(patient,
                                                                        security_admin):
    """A redaction must not launder an edit: the record has to verify first."""
    entry = LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(Case),
                                    object_pk=str(patient.pk)).first()
    with bypassing_triggers():
        LogEntry.objects.filter(pk=entry.pk).update(remote_addr="10.0.0.9")
    with pytest.raises(ShidianError) as refused:
        redaction.audit_redact(actor=security_admin, stream="auditlog", record_id=entry.pk,
                               replacements={"object_repr": "x"}, reason=REASON)
    assert refused.value.code == ErrorCode.CONFLICT
    with pytest.raises(CommandError, match="未做任何脱敏"):  # nothing is redacted
        call_command("audit", "redact-sealed", "--reason", REASON, "--apply", "--user",
                     security_admin.username, stdout=StringIO())
    assert not AuditRedaction.objects.exists()
    assert leaked(patient.pk)  # nothing half done around the problem
    assert [p.record_id for p in chain.audit_verify().problems] == [entry.pk]


def test_records_stay_read_only_outside_a_redaction(patient, security_admin):
    event = CaseEvent.objects.filter(case=patient, kind="edited").get()
    redaction.sealed_text_redact(actor=security_admin, reason=REASON, apply=True)
    event.refresh_from_db()
    event.reason = "改过"
    with pytest.raises(ShidianError) as refused, transaction.atomic():
        event.save()
    assert refused.value.code == ErrorCode.FORBIDDEN
    done = AuditRedaction.objects.first()
    done.reason = "别的理由"
    with pytest.raises(ShidianError), transaction.atomic():
        done.save()


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_the_database_refuses_an_update_without_the_redaction_setting(patient,
                                                                        security_admin):
    entry = LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(Case),
                                    object_pk=str(patient.pk)).first()
    with pytest.raises(DatabaseError, match="read-only"), transaction.atomic(), \
            connection.cursor() as cursor:
        cursor.execute("UPDATE auditlog_logentry SET object_repr = 'x' WHERE id = %s",
                       [entry.pk])
    with pytest.raises(DatabaseError, match="read-only"), transaction.atomic(), \
            connection.cursor() as cursor:  # seals are never rewritten, setting or not
        cursor.execute("SET LOCAL shidian.audit_redact = 'on'")
        cursor.execute("UPDATE security_auditseal SET hash = 'x'")
    redaction.sealed_text_redact(actor=security_admin, reason=REASON, apply=True)
    with pytest.raises(DatabaseError, match="read-only"), transaction.atomic(), \
            connection.cursor() as cursor:
        cursor.execute("UPDATE security_auditredaction SET reason = 'x'")
    with pytest.raises(DatabaseError, match="read-only"), transaction.atomic(), \
            connection.cursor() as cursor:  # the setting is gone after the redaction
        cursor.execute("UPDATE cases_caseevent SET reason = 'x' WHERE case_id = %s",
                       [patient.pk])
    assert chain.audit_verify().ok


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_a_failed_redaction_leaves_the_record_and_reports_the_failure(patient, security_admin):
    """An UPDATE the database refuses inside a redaction (here: a kind longer than its
    column) rolls the redaction back and the caller sees that error, not a later one."""
    event = CaseEvent.objects.filter(case=patient, kind="edited").get()
    with pytest.raises(DatabaseError, match="too long"):
        redaction.audit_redact(actor=security_admin, stream="case_events", record_id=event.pk,
                               replacements={"kind": "edited" * 5}, reason=REASON)
    assert CaseEvent.objects.get(pk=event.pk).kind == "edited"
    assert not AuditRedaction.objects.exists()
    assert chain.audit_verify().ok
