"""The audit trail is a hash chain: an edited or deleted record is found and named."""
from __future__ import annotations

import datetime as dt
import threading

import pytest
from auditlog.models import LogEntry
from django.contrib import admin
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory
from django.utils import timezone

from shidian.core.errors import ErrorCode, ShidianError
from shidian.orgs import services as orgs_services
from shidian.orgs.models import Role
from shidian.orgs.testing import make_divisions, make_user
from shidian.security import chain
from shidian.security.models import AuditAnchor, AuditChain, AuditSeal
from shidian.security.testing import bypassing_triggers

pytestmark = pytest.mark.django_db


def audited_changes(admin_user, count: int, *, start: int = 0) -> list[LogEntry]:
    """Agencies registered by an administrator: each leaves a CREATE record in the audit log
    (after the one of the administrator's own account)."""
    divisions = make_divisions()
    for number in range(start, start + count):
        orgs_services.agency_create(actor=admin_user, name=f"泸县第{number + 1}试点单位",
                                    division=divisions["510521"])
    return list(LogEntry.objects.order_by("pk"))


@pytest.fixture
def admin_user():
    return make_user("sys_admin", role=Role.ADMIN)


def verify_command(*args: str) -> tuple[int, str]:
    from io import StringIO

    out = StringIO()
    try:
        call_command("audit", "verify", *args, stdout=out)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue()
    return 0, out.getvalue()


def test_records_are_sealed_after_their_transaction_commits(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        entries = audited_changes(make_user("sys_admin", role=Role.ADMIN), 2)
    seals = list(AuditSeal.objects.filter(stream="auditlog").order_by("seq"))
    assert [s.record_id for s in seals] == [e.pk for e in entries]
    assert [s.seq for s in seals] == [1, 2, 3]  # the administrator's account, two agencies
    assert seals[1].prev_hash == seals[0].hash and seals[2].prev_hash == seals[1].hash
    assert AuditChain.objects.get(stream="auditlog").last_hash == seals[2].hash


def test_an_untouched_trail_verifies(admin_user):
    audited_changes(admin_user, 4)
    code, out = verify_command()
    assert code == 0
    assert "audit verify: ok; 5 records checked" in out


def test_an_edited_record_is_named_with_its_time_and_fields(admin_user):
    entries = audited_changes(admin_user, 4)
    chain.seal_all()
    victim = entries[1]
    with bypassing_triggers():  # an intruder with database access, not the application
        LogEntry.objects.filter(pk=victim.pk).update(object_repr="伪造的单位",
                                                     remote_addr="10.0.0.9")
    code, out = verify_command()
    assert code == 1
    when = timezone.localtime(victim.timestamp).strftime("%Y-%m-%d %H:%M:%S")
    assert f"[auditlog] edited #{victim.pk} ({when}): changed fields: object_repr, remote_addr" \
        in out
    assert "FAILED: 1 problems" in out


def test_a_deleted_record_is_named(admin_user):
    entries = audited_changes(admin_user, 4)
    chain.seal_all()
    victim = entries[2]
    with bypassing_triggers(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM auditlog_logentry WHERE id = %s", [victim.pk])
    code, out = verify_command("--json")
    assert code == 1
    assert f'"kind": "deleted", "seq": 3, "record_id": {victim.pk}' in out


def test_removing_the_last_records_with_their_seals_is_found(admin_user):
    entries = audited_changes(admin_user, 4)
    chain.seal_all()
    with bypassing_triggers(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM auditlog_logentry WHERE id = %s", [entries[-1].pk])
        cursor.execute("DELETE FROM security_auditseal WHERE seq = 5")
    result = chain.audit_verify(seal_first=False)
    assert [p.kind for p in result.problems] == ["missing_seals"]
    assert "ends at 4 but its head says 5" in result.problems[0].detail


def test_records_cannot_be_changed_or_deleted_through_the_application(admin_user):
    entry = audited_changes(admin_user, 1)[0]
    entry.object_repr = "改过"
    for attempt in (entry.save, entry.delete, LogEntry.objects.filter(pk=entry.pk).delete):
        with pytest.raises(ShidianError) as refused, transaction.atomic():
            attempt()
        assert refused.value.code == ErrorCode.FORBIDDEN
    assert LogEntry.objects.get(pk=entry.pk).object_repr != "改过"
    model_admin = admin.site._registry[LogEntry]
    request = RequestFactory().get("/admin/auditlog/logentry/")
    request.user = make_user("root", superuser=True)
    request.resolver_match = None
    assert not model_admin.has_change_permission(request, entry)
    assert not model_admin.has_add_permission(request)


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_the_database_refuses_updates_and_deletes_on_postgresql(admin_user):
    entry = audited_changes(admin_user, 1)[0]
    with pytest.raises(DatabaseError, match="read-only"), transaction.atomic():
        LogEntry.objects.filter(pk=entry.pk).update(object_repr="改过")
    with pytest.raises(DatabaseError, match="read-only"), transaction.atomic(), \
            connection.cursor() as cursor:
        cursor.execute("DELETE FROM auditlog_logentry WHERE id = %s", [entry.pk])
    assert LogEntry.objects.filter(pk=entry.pk, object_repr=entry.object_repr).exists()


def test_bulk_written_records_are_sealed_by_the_next_sweep(admin_user):
    entries = audited_changes(admin_user, 2)
    chain.seal_all()
    LogEntry.objects.bulk_create([LogEntry(content_type=entries[0].content_type,
                                           object_pk="1", object_repr="批量", action=1)
                                  for _ in range(3)])
    assert chain.unsealed_exist()
    assert chain.seal_all() == {"auditlog": 3, "case_events": 0}
    assert not chain.unsealed_exist()
    assert chain.audit_verify(seal_first=False).ok


def age(days: int) -> None:
    """Move every record (and its seal) ``days`` into the past, as if written then."""
    past = timezone.now() - dt.timedelta(days=days)
    with bypassing_triggers():
        with connection.cursor() as cursor:
            cursor.execute("UPDATE auditlog_logentry SET timestamp = %s", [past])
            cursor.execute("UPDATE security_auditseal SET record_time = %s", [past])


def test_purging_younger_records_is_refused(admin_user):
    audited_changes(admin_user, 2)
    with pytest.raises(ShidianError) as refused:
        chain.audit_purge(before=timezone.now() - dt.timedelta(days=30))
    assert refused.value.extra == {"retention_days": 183}
    assert LogEntry.objects.count() == 3


def test_purging_old_records_keeps_the_rest_verifiable(admin_user):
    audited_changes(admin_user, 3)
    chain.seal_all()
    with bypassing_triggers(), connection.cursor() as cursor:
        # the chain is sealed first, then the records are dated: re-seal from scratch
        cursor.execute("DELETE FROM security_auditseal")
        cursor.execute("DELETE FROM security_auditchain")
    age(400)
    chain.seal_all()
    audited_changes(admin_user, 2, start=3)  # two more, written today
    purged = chain.audit_purge(before=timezone.now() - dt.timedelta(days=200))
    assert purged["auditlog"] == 4  # the account and three agencies of 400 days ago
    anchor = AuditAnchor.objects.get(stream="auditlog")
    assert anchor.seq == 4 and anchor.purged == 4
    assert LogEntry.objects.count() == 3  # the two of today and the purge's own record
    result = chain.audit_verify()
    assert result.ok, [str(p) for p in result.problems]
    purge_record = LogEntry.objects.order_by("-pk").first()
    assert purge_record.additional_data["streams"]["auditlog"] == 4


def test_the_retention_command_refuses_a_recent_date(admin_user):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="183"):
        call_command("audit", "purge", "--before", timezone.localdate().isoformat())


@pytest.mark.skipif("connection.vendor != 'postgresql'")
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_fork_the_chain():
    """Eight threads write audited changes at once, each sealing after its own commit."""
    admin_user = make_user("sys_admin", role=Role.ADMIN)
    divisions = make_divisions()
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def writer(number: int) -> None:
        try:
            barrier.wait()
            for item in range(6):
                with transaction.atomic():
                    orgs_services.agency_create(actor=admin_user,
                                                name=f"并发单位{number}-{item}",
                                                division=divisions["510521"])
        except BaseException as exc:  # noqa: BLE001  reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    seals = list(AuditSeal.objects.filter(stream="auditlog").order_by("seq"))
    assert len(seals) == LogEntry.objects.count() == 49  # the account and 48 agencies
    assert [s.seq for s in seals] == list(range(1, 50))
    assert len({s.record_id for s in seals}) == 49
    assert all(b.prev_hash == a.hash for a, b in zip(seals, seals[1:], strict=False))
    assert chain.audit_verify(seal_first=False).ok
