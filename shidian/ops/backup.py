"""Backups: one file holding the database and the uploaded files, checked before anything moves.

A backup is an (uncompressed) tar whose members are compressed on their own:

* ``database.sqlite3.gz`` — SQLite through its online backup API (a consistent copy while the
  server keeps serving), gzipped; or ``database.pgdump`` — PostgreSQL through ``pg_dump
  --format=custom`` (one snapshot transaction, compressed by pg_dump);
* ``media.tar.gz`` — every file under ``MEDIA_ROOT`` (evidence, case papers, photos);
* ``manifest.json`` — format, engine, time, the applied migrations, the row count of every
  table, each file's size and SHA-256, and each member's SHA-256;
* ``manifest.sha256`` — the SHA-256 of the manifest itself.

The database is copied first, then the files: a file uploaded meanwhile may be in the backup
without its row (harmless), never a row without its file unless it was deleted meanwhile.

``backup_restore`` reads and checks the whole backup (every checksum, the database copy's own
integrity, every file) into a temporary place before it touches the instance, refuses an
instance that holds data, and then puts the database back in one step (SQLite's backup API;
``pg_restore --single-transaction``) and moves the files into ``MEDIA_ROOT``.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import connection, connections, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone
from django.utils.translation import gettext as _

from shidian.core.errors import ErrorCode, ShidianError

FORMAT = "shidian-backup/1"
MANIFEST = "manifest.json"
MANIFEST_SUM = "manifest.sha256"
SQLITE_MEMBER = "database.sqlite3.gz"
PG_MEMBER = "database.pgdump"
MEDIA_MEMBER = "media.tar.gz"
CHUNK = 1 << 20
# Rows Django's own migrate writes into a new database; a restore target may hold them.
SETUP_TABLES = frozenset({"django_migrations", "django_content_type", "auth_permission",
                          "sqlite_sequence"})


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int
    tables: int
    rows: int
    files: int
    sha256: str


# --- helpers ----------------------------------------------------------------------------------

def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _sha256_stream(handle: IO[bytes]) -> str:
    digest = hashlib.sha256()
    while block := handle.read(CHUNK):
        digest.update(block)
    return digest.hexdigest()


def table_counts(alias: str = "default") -> dict[str, int]:
    """Rows per table of the database (every table, Django's own included)."""
    conn = connections[alias]
    quote = conn.ops.quote_name
    counts = {}
    with conn.cursor() as cursor:
        for table in sorted(conn.introspection.table_names(cursor)):
            cursor.execute(f"SELECT COUNT(*) FROM {quote(table)}")  # noqa: S608
            counts[table] = cursor.fetchone()[0]
    return counts


def media_files(root: Path) -> dict[str, dict[str, Any]]:
    """Relative path → size and SHA-256 of every file under ``root``."""
    files: dict[str, dict[str, Any]] = {}
    if not root.exists():
        return files
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()):
        files[path.relative_to(root).as_posix()] = {"size": path.stat().st_size,
                                                     "sha256": _sha256_file(path)}
    return files


def _pg_args(alias: str = "default") -> tuple[list[str], dict[str, str]]:
    """Connection options for pg_dump/pg_restore; the password goes in the environment."""
    params = connections[alias].get_connection_params()
    args = [f"--{name}={params[key]}" for name, key in
            (("host", "host"), ("port", "port"), ("username", "user")) if params.get(key)]
    env = dict(os.environ)
    if params.get("password"):
        env["PGPASSWORD"] = str(params["password"])
    return args, env


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ShidianError(ErrorCode.INVALID, _(
            "%(tool)s is not installed: install the PostgreSQL client of the server's version "
            "(apt-get install postgresql-client).") % {"tool": name}, {"reason": "no_pg_tool"})
    return path


def _bad(message: str, **extra: Any) -> ShidianError:
    return ShidianError(ErrorCode.BAD_FILE, message, {"reason": "bad_backup", **extra})


# --- backup -----------------------------------------------------------------------------------

def _sqlite_counts(conn: sqlite3.Connection) -> dict[str, int]:
    """Rows per table, of the same tables Django's introspection lists (``table_counts``)."""
    tables = sorted(r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') "
        "AND NOT name = 'sqlite_sequence'"))
    return {t: conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0]  # noqa: S608
            for t in tables}


def _dump_sqlite(target: Path) -> dict[str, int]:
    """A consistent copy through SQLite's online backup API, gzipped; its row counts (read
    from the copy, so they are the copy's, whatever was written meanwhile)."""
    connection.ensure_connection()
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        copy = Path(tmp) / "copy.sqlite3"
        dest = sqlite3.connect(copy)
        try:
            connection.connection.backup(dest, pages=4096)
            counts = _sqlite_counts(dest)
        finally:
            dest.close()
        with copy.open("rb") as src, gzip.open(target, "wb", compresslevel=6) as out:
            shutil.copyfileobj(src, out, CHUNK)
    return counts


def _dump_postgresql(target: Path) -> dict[str, int]:
    """pg_dump of the snapshot this connection counted the rows in (``--snapshot``), so the
    counts in the manifest are exactly the dump's."""
    args, env = _pg_args()
    tool = _pg_tool("pg_dump")
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
        counts = table_counts()
        completed = subprocess.run(  # noqa: S603  (our own arguments, no shell)
            [tool, *args, "--format=custom", "--compress=6", "--no-owner",
             "--no-privileges", f"--snapshot={snapshot}", f"--file={target}",
             connection.settings_dict["NAME"]],
            capture_output=True, text=True, check=False, env=env)
    if completed.returncode:
        raise ShidianError(ErrorCode.INVALID, _("pg_dump failed: %(error)s")
                           % {"error": completed.stderr.strip()[-500:]},
                           {"reason": "dump_failed"})
    return counts


def _tar_media(root: Path, target: Path, files: dict[str, dict[str, Any]]) -> None:
    with tarfile.open(target, "w:gz", compresslevel=6) as tar:
        for name in files:
            tar.add(root / name, arcname=name, recursive=False)


def backup_create(*, out: Path | None = None) -> BackupResult:
    """Write a backup of the database and ``MEDIA_ROOT``; the path of the new file."""
    vendor = connection.vendor
    if vendor not in ("sqlite", "postgresql"):
        raise ShidianError(ErrorCode.INVALID, _("Backups support SQLite and PostgreSQL only."),
                           {"reason": "engine"})
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    if out is None:
        out = Path(settings.VAR_DIR) / "backups"
    if out.is_dir() or not out.suffix:
        out.mkdir(parents=True, exist_ok=True)
        out = out / f"shidian-{vendor}-{stamp}.tar"
    out.parent.mkdir(parents=True, exist_ok=True)
    media_root = Path(settings.MEDIA_ROOT)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".backup-") as tmp_name:
        tmp = Path(tmp_name)
        database = tmp / (SQLITE_MEMBER if vendor == "sqlite" else PG_MEMBER)
        counts = (_dump_sqlite if vendor == "sqlite" else _dump_postgresql)(database)
        files = media_files(media_root)
        media = tmp / MEDIA_MEMBER
        _tar_media(media_root, media, files)
        members = {p.name: {"size": p.stat().st_size, "sha256": _sha256_file(p)}
                   for p in (database, media)}
        recorder = MigrationRecorder(connection)
        manifest = {
            "format": FORMAT, "created_at": timezone.now().isoformat(), "vendor": vendor,
            "database": database.name, "members": members, "tables": counts,
            "migrations": sorted(f"{app}.{name}" for app, name in recorder.applied_migrations()),
            "files": files,
        }
        manifest_bytes = json.dumps(manifest, ensure_ascii=False, indent=1).encode()
        partial = out.with_name(out.name + ".part")
        with tarfile.open(partial, "w") as tar:
            for name, data in ((MANIFEST, manifest_bytes),
                               (MANIFEST_SUM, hashlib.sha256(manifest_bytes).hexdigest().encode())):
                info = tarfile.TarInfo(name)
                info.size = len(data)
                info.mtime = int(timezone.now().timestamp())
                tar.addfile(info, io.BytesIO(data))
            tar.add(database, arcname=database.name)
            tar.add(media, arcname=MEDIA_MEMBER)
        os.replace(partial, out)
    digest = _sha256_file(out)
    out.with_name(out.name + ".sha256").write_text(f"{digest}  {out.name}\n")
    return BackupResult(path=out, size=out.stat().st_size, tables=len(counts),
                        rows=sum(counts.values()), files=len(files), sha256=digest)


# --- checking a backup ------------------------------------------------------------------------

@dataclass
class CheckedBackup:
    manifest: dict[str, Any]
    database: Path
    media_dir: Path


def _member(tar: tarfile.TarFile, name: str) -> IO[bytes]:
    try:
        handle = tar.extractfile(tar.getmember(name))
    except KeyError:
        handle = None
    if handle is None:
        raise _bad(_("The backup lacks its part %(name)s: it is not a Shidian backup, or it "
                     "is incomplete.") % {"name": name}, member=name)
    return handle


def _extract_media(tar: tarfile.TarFile, target: Path) -> None:
    """Unpack the uploaded files: regular files inside ``target``, nothing else.

    Not ``extractall(filter="data")``: extraction filters came with Python 3.11.4, and
    Debian 12's Python, which deploy/README.md installs, is 3.11.2 (the keyword is refused
    there). The check is the ``data`` filter's: a link, a device, an absolute name or one
    that climbs out with ``..`` is refused; files get plain permissions and keep their times.
    """
    root = target.resolve()
    for member in tar:
        path = (root / member.name).resolve()
        if not member.isfile() or path == root or not path.is_relative_to(root):
            raise tarfile.TarError(f"unexpected member {member.name!r}")
        source = tar.extractfile(member)
        if source is None:
            raise tarfile.TarError(f"unreadable member {member.name!r}")
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("xb") as out:
            shutil.copyfileobj(source, out, CHUNK)
        os.utime(path, (member.mtime, member.mtime))


def _check_sqlite_copy(path: Path) -> None:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        result = conn.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.DatabaseError as error:
        raise _bad(_("The database copy in the backup is damaged: %(error)s")
                   % {"error": error}) from None
    finally:
        conn.close()
    if result != "ok":
        raise _bad(_("The database copy in the backup is damaged: %(error)s")
                   % {"error": result})


@contextmanager
def backup_open(path: Path) -> Iterator[CheckedBackup]:
    """Check every part of a backup and unpack it into a temporary directory beside
    ``MEDIA_ROOT`` (so the files can be moved, not copied); nothing of the instance changes."""
    if not path.is_file():
        raise _bad(_("No backup file at %(path)s.") % {"path": path})
    media_root = Path(settings.MEDIA_ROOT)
    media_root.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=media_root.parent, prefix=".restore-") as tmp_name:
        tmp = Path(tmp_name)
        try:
            with tarfile.open(path, "r:") as tar:
                manifest_bytes = _member(tar, MANIFEST).read()
                expected = _member(tar, MANIFEST_SUM).read().decode().strip()
                if hashlib.sha256(manifest_bytes).hexdigest() != expected:
                    raise _bad(_("The backup's table of contents does not match its checksum: "
                                 "the file was changed or damaged."), member=MANIFEST)
                manifest = json.loads(manifest_bytes)
                if manifest.get("format") != FORMAT:
                    raise _bad(_("This is not a backup this version of Shidian can restore "
                                 "(format %(format)s).") % {"format": manifest.get("format")})
                for name, expected_member in manifest["members"].items():
                    target = tmp / name
                    with target.open("wb") as out:
                        shutil.copyfileobj(_member(tar, name), out, CHUNK)
                    if (target.stat().st_size != expected_member["size"]
                            or _sha256_file(target) != expected_member["sha256"]):
                        raise _bad(_("The part %(name)s of the backup does not match its "
                                     "checksum: the file was changed or damaged.")
                                   % {"name": name}, member=name)
        except (tarfile.TarError, EOFError, OSError, ValueError) as error:
            raise _bad(_("The backup file cannot be read (%(error)s): it is damaged or "
                         "incomplete.") % {"error": error}) from None
        database = tmp / manifest["database"]
        if manifest["vendor"] == "sqlite":
            plain = tmp / "database.sqlite3"
            try:
                with gzip.open(database, "rb") as src, plain.open("wb") as out:
                    shutil.copyfileobj(src, out, CHUNK)
            except (OSError, EOFError) as error:
                raise _bad(_("The database copy in the backup is damaged: %(error)s")
                           % {"error": error}) from None
            database.unlink()
            database = plain
            _check_sqlite_copy(database)
        else:
            listed = subprocess.run(  # noqa: S603
                [_pg_tool("pg_restore"), "--list", str(database)], capture_output=True,
                text=True, check=False)
            if listed.returncode:
                raise _bad(_("The database copy in the backup is damaged: %(error)s")
                           % {"error": listed.stderr.strip()[-300:]})
        media_dir = tmp / "media"
        media_dir.mkdir()
        try:
            with tarfile.open(tmp / MEDIA_MEMBER, "r:gz") as tar:
                _extract_media(tar, media_dir)
        except (tarfile.TarError, EOFError, OSError) as error:
            raise _bad(_("The uploaded files in the backup cannot be read (%(error)s).")
                       % {"error": error}) from None
        found = media_files(media_dir)
        if found != manifest["files"]:
            wrong = sorted(set(found) ^ set(manifest["files"]) | {
                n for n in found if n in manifest["files"] and found[n] != manifest["files"][n]})
            raise _bad(_("Uploaded files in the backup do not match their checksums: "
                         "%(names)s") % {"names": "、".join(wrong[:5])}, files=wrong[:20])
        yield CheckedBackup(manifest=manifest, database=database, media_dir=media_dir)


# --- restore ----------------------------------------------------------------------------------

def instance_data_tables() -> list[str]:
    """Tables of this instance that hold rows beyond what ``migrate`` itself writes."""
    return [t for t, n in table_counts().items() if n and t not in SETUP_TABLES]


def backup_restore(*, path: Path) -> dict[str, Any]:
    """Restore ``path`` onto this instance, which must hold no data and no uploaded files;
    the restored manifest (row counts, files) once every check passed."""
    with backup_open(path) as checked:
        manifest = checked.manifest
        vendor = connection.vendor
        if manifest["vendor"] != vendor:
            raise ShidianError(ErrorCode.INVALID, _(
                "This backup is of a %(backup)s database; this instance runs on %(here)s.")
                % {"backup": manifest["vendor"], "here": vendor}, {"reason": "engine"})
        extra = sorted(set(table_counts()) - set(manifest["tables"]))
        if vendor == "postgresql" and extra:
            # pg_restore --clean cannot drop the backup's tables under foreign keys it does
            # not know about; a fresh database takes the backup, then `migrate` updates it.
            raise ShidianError(ErrorCode.CONFLICT, _(
                "This database has tables the backup does not know (%(tables)s): restore onto "
                "a newly created database without running migrate first, then run migrate.")
                % {"tables": "、".join(extra[:5])}, {"reason": "schema_newer"})
        busy = instance_data_tables()
        if busy:
            raise ShidianError(ErrorCode.CONFLICT, _(
                "This instance already holds data (%(tables)s): restore onto an empty "
                "database.") % {"tables": "、".join(busy[:5])}, {"reason": "not_empty"})
        media_root = Path(settings.MEDIA_ROOT)
        if media_root.exists() and any(media_root.iterdir()):
            raise ShidianError(ErrorCode.CONFLICT, _(
                "The folder for uploaded files (%(path)s) is not empty: restore onto an empty "
                "instance.") % {"path": media_root}, {"reason": "not_empty"})
        if vendor == "sqlite":
            _restore_sqlite(checked.database)
        else:
            _restore_postgresql(checked.database)
        if media_root.exists():
            media_root.rmdir()
        os.replace(checked.media_dir, media_root)
    return manifest


def _restore_sqlite(copy: Path) -> None:
    connection.close()
    connection.ensure_connection()
    source = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
    try:
        source.backup(connection.connection)
    finally:
        source.close()
    connection.close()


def _restore_postgresql(dump: Path) -> None:
    connection.close()
    args, env = _pg_args()
    completed = subprocess.run(  # noqa: S603
        [_pg_tool("pg_restore"), *args, "--clean", "--if-exists", "--single-transaction",
         "--no-owner", "--no-privileges", "--exit-on-error",
         f"--dbname={connection.settings_dict['NAME']}", str(dump)],
        capture_output=True, text=True, check=False, env=env)
    if completed.returncode:
        raise ShidianError(ErrorCode.INVALID, _(
            "pg_restore failed and changed nothing: %(error)s")
            % {"error": completed.stderr.strip()[-500:]}, {"reason": "restore_failed"})
