"""`shidian backup` and `shidian restore`: the round trip gives back the same instance, and a
damaged backup is refused before anything changes."""
from __future__ import annotations

import hashlib
import io
import re
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.management import call_command, get_commands
from django.db import connection
from django.core.management.base import CommandError

from shidian.cases import services
from shidian.cases.models import Case
from shidian.cases.testing import PNG, household, make_programme, make_workers
from shidian.ops.backup import MANIFEST, backup_create, media_files, table_counts

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


def populate() -> list[Case]:
    """Households registered with their papers: encrypted ID numbers, audit records, files."""
    workers, programme = make_workers(), make_programme()
    cases = []
    for n in range(3):
        case = services.case_create(user=workers["village"], programme=programme,
                                    values=household())
        services.document_add(user=workers["village"], case_id=case.pk, kind="application",
                              name=f"申请书{n}.png", content=PNG + bytes([n]) * 2000)
        cases.append(case)
    return cases


def empty_instance(media: Path) -> None:
    call_command("flush", "--no-input", verbosity=0)
    for path in sorted(media.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()


def audit_verify() -> None:
    """The security helper's hash-chained audit trail, once it exists, verifies."""
    if "audit" in get_commands():
        out = io.StringIO()
        call_command("audit", "verify", stdout=out)
        assert "audit verify: ok" in out.getvalue(), out.getvalue()
        checked = re.search(r"(\d+) records checked", out.getvalue())
        assert checked and int(checked.group(1)) > 0, out.getvalue()


def test_the_round_trip_gives_back_every_row_and_file(media, tmp_path):
    cases = populate()
    secrets_before = [services.case_secrets(c) for c in cases]
    counts_before, files_before = table_counts(), media_files(media)
    assert len(files_before) == 3
    result = backup_create(out=tmp_path / "backups")
    assert result.path.exists() and result.files == 3
    sidecar = result.path.with_name(result.path.name + ".sha256").read_text().split()[0]
    assert sidecar == hashlib.sha256(result.path.read_bytes()).hexdigest()

    empty_instance(media)
    assert not Case.objects.exists() and not any(media.iterdir())
    out = io.StringIO()
    call_command("restore", str(result.path), stdout=out)
    assert "restored" in out.getvalue()
    assert table_counts() == counts_before
    assert media_files(media) == files_before
    restored = Case.objects.order_by("pk")
    assert [services.case_secrets(c) for c in restored] == secrets_before  # still decrypts
    audit_verify()


def test_a_restore_onto_an_instance_with_data_is_refused(media, tmp_path):
    populate()
    path = backup_create(out=tmp_path / "b").path
    before = table_counts()
    with pytest.raises(CommandError, match="已有数据"):
        call_command("restore", str(path))
    assert table_counts() == before


def _corrupt(path: Path, how: str) -> Path:
    data = bytearray(path.read_bytes())
    bad = path.with_name(f"{how}.tar")
    if how == "truncated":
        bad.write_bytes(bytes(data[: len(data) * 2 // 3]))
    elif how == "flipped":
        with tarfile.open(path) as tar:
            member = tar.getmember("media.tar.gz")
        data[member.offset_data + member.size // 2] ^= 0xFF
        bad.write_bytes(bytes(data))
    elif how == "manifest":
        with tarfile.open(path) as tar:
            member = tar.getmember(MANIFEST)
        text = data[member.offset_data: member.offset_data + member.size]
        data[member.offset_data: member.offset_data + member.size] = text.replace(b'"rows', b'"rowz') \
            if b'"rows' in text else text.replace(b"sqlite", b"sqlitE").replace(b"postgresql", b"postgresqL")
        bad.write_bytes(bytes(data))
    elif how == "not_a_backup":
        bad.write_bytes(b"PK\x03\x04 this is a zip, not a backup")
    return bad


@pytest.mark.parametrize(("how", "says"), [
    ("truncated", "已损坏或不完整"),
    ("flipped", "与校验值不符"),
    ("manifest", "备份目录清单与校验值不符"),
    ("not_a_backup", "已损坏或不完整"),
])
def test_a_damaged_backup_is_refused_and_nothing_changes(media, tmp_path, how, says):
    populate()
    path = backup_create(out=tmp_path / "b").path
    empty_instance(media)
    counts = table_counts()
    bad = _corrupt(path, how)
    with pytest.raises(CommandError, match=says):
        call_command("restore", str(bad))
    assert table_counts() == counts
    assert not any(media.iterdir())
    assert not [p for p in media.parent.iterdir() if p.name.startswith(".restore-")]


def test_check_only_reads_the_backup(media, tmp_path):
    populate()
    path = backup_create(out=tmp_path / "b").path
    out = io.StringIO()
    call_command("restore", str(path), "--check", stdout=out)
    assert out.getvalue().strip().endswith("ok")


def _with_media(path: Path, add: Callable[[tarfile.TarFile], None]) -> Path:
    """The backup at ``path`` with ``add`` putting something more into its uploaded files,
    every checksum made to match, as a forger who knows the format would do."""
    import json

    with tarfile.open(path) as outer:
        parts = {m.name: outer.extractfile(m).read() for m in outer.getmembers()}
    buffer = io.BytesIO()
    with tarfile.open(fileobj=io.BytesIO(parts["media.tar.gz"]), mode="r:gz") as old, \
            tarfile.open(fileobj=buffer, mode="w:gz") as media:
        for member in old.getmembers():
            media.addfile(member, old.extractfile(member))
        add(media)
    parts["media.tar.gz"] = buffer.getvalue()
    manifest = json.loads(parts[MANIFEST])
    data = parts["media.tar.gz"]
    manifest["members"]["media.tar.gz"] = {"size": len(data),
                                          "sha256": hashlib.sha256(data).hexdigest()}
    parts[MANIFEST] = json.dumps(manifest).encode()
    parts["manifest.sha256"] = hashlib.sha256(parts[MANIFEST]).hexdigest().encode()
    forged = path.with_name("forged.tar")
    with tarfile.open(forged, "w") as outer:
        for name, data in parts.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            outer.addfile(info, io.BytesIO(data))
    return forged


def _climbing_file(media: tarfile.TarFile) -> None:
    info = tarfile.TarInfo("../escaped.txt")
    info.size = 3
    media.addfile(info, io.BytesIO(b"bad"))


def _link_to_etc(media: tarfile.TarFile) -> None:
    info = tarfile.TarInfo("cases/passwd")
    info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
    media.addfile(info)


@pytest.mark.parametrize("add", [_climbing_file, _link_to_etc])
def test_uploaded_files_that_would_land_outside_the_media_folder_are_refused(media, tmp_path,
                                                                            add):
    """Whatever Python the server runs (Debian 12's 3.11.2 has no tar extraction filters)."""
    populate()
    path = backup_create(out=tmp_path / "b").path
    empty_instance(media)
    counts = table_counts()
    with pytest.raises(CommandError, match="无法读取备份中的上传文件"):
        call_command("restore", str(_with_media(path, add)))
    assert table_counts() == counts
    assert not any(media.iterdir())
    assert not [p for p in media.parent.iterdir() if p.name.startswith(".restore-")]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_restore --clean")
def test_a_database_migrated_past_the_backup_is_refused(media, tmp_path):
    """pg_restore --clean cannot drop tables under foreign keys it does not know: a table the
    backup lacks means "restore into a new database, then migrate", said before anything."""
    populate()
    path = backup_create(out=tmp_path / "b").path
    empty_instance(media)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE ops_newer_feature (id integer PRIMARY KEY)")
    try:
        counts = table_counts()
        with pytest.raises(CommandError, match="备份里没有的表"):
            call_command("restore", str(path))
        assert table_counts() == counts
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE ops_newer_feature")
