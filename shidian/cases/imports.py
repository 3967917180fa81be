"""Bulk import of household lists (花名册) from Excel or CSV: check first, then import.

The file has one row per person: the household's reference (``户编号``), the relation to the
head (``户主`` for the head), name and ID number, and on the head's row the household's other
columns, headed by the fields' Chinese labels (``村代码``, ``贫困类型`` …, see
``import_columns``). A household's rows come together, the head first or not.

* ``import_upload`` stores the file. ``import_validate`` reads it through and records every bad
  row with its reason (row 17: ID check digit wrong; row 40: village code unknown); nothing else
  is written. ``import_run`` then imports all households (only if none is bad) or, if the user
  so chooses, the valid ones only.
* The check keeps the households that pass, already encrypted and hashed (no number in
  clear), in a file next to the upload; the run reads them back, checks each against the
  database again (someone may have registered one meanwhile) and writes in **one
  transaction**: an interrupted import leaves nothing half written and can simply be run
  again; a finished one cannot run twice (and each household would be refused as registered).
  Once imported, the uploaded file and the prepared rows are deleted (PIPL: keep no copy).
* Progress (households checked or written) goes to a small file next to the upload, which the
  import page polls; a database row inside the running transaction would be invisible.
* Each imported case points to its batch (``Case.import_batch``), which the case timeline shows;
  the batch row itself is audited. Per-case audit entries are not written for imports.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
import os
import time
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path, PurePath
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shidian.core import crypto
from shidian.core.errors import ErrorCode, ShidianError
from shidian.orgs.models import Division, User

from . import access, engine, services
from .audit import audited
from .definitions import CaseTypeDef, FieldDef, case_type_get
from .models import Case, CasePerson, CaseProgramme, ImportBatch, ImportRowError, ImportStatus

log = logging.getLogger(__name__)

COL_HOUSEHOLD = "户编号"
COL_RELATION = "与户主关系"
COL_NAME = "姓名"
COL_ID = "身份证号"
HEAD_WORDS = frozenset({"户主", "本人", "head"})
CHUNK = 2000  # households per validation/write step
MAX_ROW_ERRORS = 100_000  # stored in detail; the count is always exact
STALE_SECONDS = 120  # a run silent for this long is taken as interrupted
# Field types whose cleaning is remembered per distinct text (they repeat down a list).
CACHED_TYPES = frozenset({"choice", "multichoice", "decimal", "integer", "boolean", "date",
                          "division"})
CACHE_LIMIT = 200_000
PROBE_CHUNK = 900  # values per IN (…) probe on SQLite
# The check of a large file runs in worker processes (see ``_scan``): at most this many, and
# only for files of at least this size (≈6,000 households of a 花名册); smaller ones are
# checked faster than processes start.
WORKERS = 2
PARALLEL_BYTES = 1_000_000
WORKER_TIMEOUT = 600  # seconds for a chunk: a worker killed (out of memory) fails the check

REASON_COLUMNS = "columns"
REASON_BAD_ROWS = "bad_rows"
REASON_STATE = "state"
REASON_FORMAT = "format"


@dataclass
class RowIssue:
    row: int
    column: str
    message: str
    household: str = ""
    code: str = ""


@dataclass
class Household:
    ref: str
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    scattered: bool = False  # its reference appeared earlier, with other rows between


@dataclass
class Checked:
    """A household that passed: what ``import_run`` writes."""

    ref: str
    row: int
    division: str
    split: services.Split
    persons: list[dict[str, Any]]


# What ``_Checker.prepare`` hands to ``_Checker.finish`` for a household: its problems so far,
# its village code, its persons as (position, ID hash), and its prepared line ("" if a problem).
_Prepared = tuple[list["RowIssue"], str, list[tuple[int, str]], str]


# --- columns and reading ----------------------------------------------------------------------

def household_fields(case_type: CaseTypeDef) -> list[FieldDef]:
    """The household columns: the village, the fields the first stage may edit, and any
    other required field; names and ID numbers come from the person columns."""
    first = case_type.initial_stage
    keys = [case_type.division, *first.edit]
    keys += [f.key for f in case_type.fields if f.required]
    skip = {case_type.subject_name, case_type.subject_id, case_type.members}
    out: list[FieldDef] = []
    for key in keys:
        if key in skip or any(f.key == key for f in out):
            continue
        out.append(case_type.field(key))
    return out


def import_columns(case_type: CaseTypeDef) -> list[str]:
    """The column headers of an import file, in the order of the template."""
    return [COL_HOUSEHOLD, COL_RELATION, COL_NAME, COL_ID,
            *(f.column for f in household_fields(case_type))]


def import_template(case_type: CaseTypeDef) -> bytes:
    """An empty Excel file with the headers and one example household."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "花名册"
    sheet.append(import_columns(case_type))
    return _xlsx_bytes(book)


def _xlsx_bytes(book: Any) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _normal_header(text: Any) -> str:
    return str(text or "").replace("*", "").replace("＊", "").replace(" ", "").replace(
        "\u3000", "").strip()


def _decode(content: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ShidianError(ErrorCode.BAD_FILE, _("The file is neither UTF-8 nor GBK text."),
                       {"reason": REASON_FORMAT})


def read_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(row number as Excel shows it, cells as text) for a .csv or .xlsx file."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        text = _decode(path.read_bytes())
        for number, cells in enumerate(csv.reader(io.StringIO(text)), start=1):
            yield number, [c.strip() for c in cells]
    elif suffix == ".xlsx":
        from openpyxl import load_workbook

        try:
            book = load_workbook(path, read_only=True, data_only=True)
        except (OSError, ValueError, KeyError) as exc:
            raise ShidianError(ErrorCode.BAD_FILE, _("The Excel file cannot be read."),
                               {"reason": REASON_FORMAT}) from exc
        sheet = book.worksheets[0]
        for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, [_cell_text(c) for c in cells]
        book.close()
    else:
        raise ShidianError(ErrorCode.BAD_FILE, _("Upload an .xlsx or .csv file."),
                           {"reason": REASON_FORMAT})


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _households(case_type: CaseTypeDef, path: Path,
                counts: dict[str, int]) -> Iterator[Household]:
    """Rows grouped into households (consecutive rows with the same reference)."""
    rows = read_rows(path)
    try:
        _first, header = next(rows)
    except StopIteration:
        raise ShidianError(ErrorCode.BAD_FILE, _("The file is empty."),
                           {"reason": REASON_FORMAT}) from None
    header = [_normal_header(h) for h in header]
    wanted = import_columns(case_type)
    missing = [c for c in wanted if c not in header and not (
        c == COL_HOUSEHOLD and not case_type.members)]
    if missing:
        raise ShidianError(ErrorCode.BAD_FILE,
                           _("Columns missing from the first row: %(columns)s.")
                           % {"columns": "、".join(missing)},
                           {"reason": REASON_COLUMNS, "missing": missing})
    index = {name: header.index(name) for name in wanted if name in header}
    names, positions = list(index), list(index.values())
    pick = itemgetter(*positions)
    width = max(positions) + 1
    seen_refs: set[str] = set()
    current: Household | None = None
    for number, cells in rows:
        if not any(cells):
            continue
        counts["rows"] += 1
        if len(cells) < width:
            cells = cells + [""] * (width - len(cells))
        picked = pick(cells)
        row = dict(zip(names, picked if len(positions) > 1 else (picked,), strict=True))
        ref = row.get(COL_HOUSEHOLD, "") or f"#{number}"
        if current is not None and ref == current.ref:
            current.rows.append((number, row))
            continue
        if current is not None:
            yield current
        current = Household(ref=ref, rows=[(number, row)], scattered=ref in seen_refs)
        seen_refs.add(ref)
    if current is not None:
        yield current


# --- checking ---------------------------------------------------------------------------------

def _existing(table: str, column: str, values: list[str],
              other: str = "") -> list[tuple[Any, ...]]:
    """The rows whose ``column`` is one of ``values``, as ``(column, other)`` (or
    ``(column,)``): one statement per chunk, without building an ORM query for thousands of
    parameters. The condition is on ``column`` alone, so the database has one index to
    choose (with ``AND level = 5`` SQLite, lacking statistics, walked the level index over
    every village for each chunk)."""
    from django.db import connection

    rows: list[tuple[Any, ...]] = []
    if not values:
        return rows
    quote = connection.ops.quote_name
    select = f"{quote(column)}, {quote(other)}" if other else quote(column)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SELECT {select} FROM {quote(table)} "  # noqa: S608
                           f"WHERE {quote(column)} = ANY(%s)", [values])
            rows.extend(cursor.fetchall())
            return rows
        for start in range(0, len(values), PROBE_CHUNK):
            chunk = values[start:start + PROBE_CHUNK]
            cursor.execute(f"SELECT {select} FROM {quote(table)} "  # noqa: S608
                           f"WHERE {quote(column)} IN ({', '.join(['%s'] * len(chunk))})",
                           chunk)
            rows.extend(cursor.fetchall())
    return rows


def _conflicts(case_type: CaseTypeDef, programme: CaseProgramme,
               hashes: list[str]) -> dict[str, tuple[Case, str]]:
    """``services.id_conflicts`` for a chunk of a list: first the hashes that are on any
    person at all (nearly none, in a new list), then the full judgement for those only."""
    known = {row[0] for row in _existing(CasePerson._meta.db_table, "id_hash",
                                         list(set(hashes)))}
    if not known:
        return {}
    return services.id_conflicts(case_type=case_type, programme=programme, hashes=known)


class _Checker:
    """Checks households chunk by chunk, remembering ID numbers seen earlier in the file."""

    def __init__(self, *, user: User, programme: CaseProgramme, case_type: CaseTypeDef):
        self.user = user
        self.programme = programme
        self.case_type = case_type
        self.fields = household_fields(case_type)
        self.members = case_type.field(case_type.members) if case_type.members else None
        self.seen: dict[int, int] = {}  # first 64 bits of an ID hash → row first seen
        self.villages: dict[str, bool] = {}
        self.today = timezone.localdate()
        ct = case_type
        # The head's columns, looked up once: (field, the column its problems point to).
        columns = [(ct.field(ct.subject_name), COL_NAME), (ct.field(ct.subject_id), COL_ID)]
        columns += [(f, f.column) for f in self.fields]
        self.head_columns = [(f, column, f.type in CACHED_TYPES) for f, column in columns]
        self.cleaned: dict[tuple[str, str], Any] = {}

    def _clean(self, f: FieldDef, value: Any) -> Any:
        """``engine.field_clean``, remembered for the fields whose values repeat down a list
        (categories, areas, village codes): the same text always cleans the same way."""
        if not isinstance(value, str):
            return engine.field_clean(f, value, today=self.today)
        key = (f.key, value)
        try:
            cleaned = self.cleaned[key]
        except KeyError:
            cleaned = engine.field_clean(f, value, today=self.today)  # a FieldError is not kept
            if len(self.cleaned) < CACHE_LIMIT:
                self.cleaned[key] = cleaned
        return list(cleaned) if isinstance(cleaned, list) else cleaned

    def _village_ok(self, codes: set[str]) -> None:
        unknown = [c for c in codes if c not in self.villages]
        found = {code for code, level in _existing(Division._meta.db_table, "code", unknown,
                                                   "level") if level == 5}
        for code in unknown:
            self.villages[code] = code in found

    def check(self, households: list[Household], issues: list[RowIssue]) -> list[str]:
        """The prepared lines (``_prepared``) of the households that pass; the problems of
        the others go to ``issues``."""
        return self.finish(households, self.prepare(households), issues)

    def prepare(self, households: list[Household]) -> list[_Prepared]:
        """The part of the check that needs neither the database nor the rest of the file:
        clean every field, then for a household without problems the split, the persons
        (hash, mask, pinyin) and its prepared line, encrypted. For a large list it runs in
        worker processes (``_scan``), a chunk ahead of ``finish``."""
        ct = self.case_type
        out: list[_Prepared] = []
        for household in households:
            problems: list[RowIssue] = []
            if household.scattered:
                problems.append(RowIssue(household.rows[0][0], COL_HOUSEHOLD, _(
                    "The rows of household %(ref)s are not together; put them one under "
                    "another.") % {"ref": household.ref}, household.ref, "scattered"))
            values = self._values(household, problems)
            if problems:
                out.append((problems, "", [], ""))
                continue
            split = services.values_split(ct, values)
            persons = services.persons_of(ct, split.secrets, split.data)
            line = _prepared(Checked(ref=household.ref, row=self._head_row(household),
                                     division=values[ct.division], split=split,
                                     persons=persons), ct.subject_name)
            out.append((problems, values.get(ct.division) or "",
                        [(p["position"], p["id_hash"]) for p in persons], line))
        return out

    def finish(self, households: list[Household], prepared: list[_Prepared],
               issues: list[RowIssue]) -> list[str]:
        """The part that needs the database (villages, households registered before) and the
        file so far (an ID number on an earlier row), in file order."""
        ct = self.case_type
        self._village_ok({code for problems, code, _p, _l in prepared if code and not problems})
        candidates: list[tuple[Household, list[RowIssue], list[tuple[int, str]], str]] = []
        for household, (problems, code, persons, line) in zip(households, prepared,
                                                              strict=True):
            if code and not problems:
                head_row = self._head_row(household)
                column = ct.field(ct.division).column
                if not self.villages.get(code):
                    problems.append(RowIssue(head_row, column, _(
                        "Village code %(code)s is unknown.") % {"code": code}, household.ref,
                        "division"))
                elif self.programme.division_id and not code.startswith(
                        self.programme.division_id):
                    problems.append(RowIssue(head_row, column, _(
                        "Village %(code)s is outside the programme's area.") % {"code": code},
                        household.ref, "division"))
                elif not access.can_create(self.user, ct, code):
                    problems.append(RowIssue(head_row, column, _(
                        "Village %(code)s is outside your area.") % {"code": code},
                        household.ref, "scope"))
            if problems:
                issues.extend(problems)
                continue
            candidates.append((household, problems, persons, line))
        conflicts = _conflicts(ct, self.programme, [h for c in candidates for _p, h in c[2]])
        lines: list[str] = []
        for household, problems, persons, line in candidates:
            rows = self._person_rows(household)
            for position, id_hash in persons:
                row = rows[position] if position < len(rows) else 0
                hit = conflicts.get(id_hash)
                if hit and (hit[1] == services.REASON_RENOVATED or position == 0):
                    problems.append(RowIssue(row, COL_ID, services.conflict_message(*hit),
                                             household.ref, hit[1]))
                first = self.seen.get(int(id_hash[:16], 16))
                if first is not None and first != row:
                    problems.append(RowIssue(row, COL_ID, _(
                        "The same ID number is on row %(row)s of this file.") % {"row": first},
                        household.ref, "file_duplicate"))
            for position, id_hash in persons:
                row = rows[position] if position < len(rows) else 0
                self.seen.setdefault(int(id_hash[:16], 16), row)
            if problems:
                issues.extend(problems)
                continue
            lines.append(line)
        return lines

    def _head_row(self, household: Household) -> int:
        for number, row in household.rows:
            if row.get(COL_RELATION, "").strip() in HEAD_WORDS:
                return number
        return household.rows[0][0]

    def _person_rows(self, household: Household) -> list[int]:
        """Row numbers by person position (head first), as ``persons_of`` numbers them."""
        head = self._head_row(household)
        return [head] + [n for n, _ in household.rows if n != head]

    def _values(self, household: Household, problems: list[RowIssue]) -> dict[str, Any]:
        ct = self.case_type
        heads = [(n, r) for n, r in household.rows
                 if r.get(COL_RELATION, "").strip() in HEAD_WORDS or not self.members]
        if len(heads) != 1:
            number = household.rows[0][0]
            message = (_("Household %(ref)s has no head (与户主关系 = 户主).") if not heads else
                       _("Household %(ref)s has more than one head.")) % {"ref": household.ref}
            problems.append(RowIssue(number, COL_RELATION, message, household.ref, "head"))
            return {}
        head_number, head = heads[0]
        values: dict[str, Any] = {}
        for f, column, cached in self.head_columns:
            try:
                value = head.get(column, "")
                values[f.key] = self._clean(f, value) if cached else engine.field_clean(
                    f, value, today=self.today)
            except engine.FieldError as exc:
                problems.append(RowIssue(head_number, column, exc.message, household.ref,
                                         exc.reason))
        if self.members is not None:
            members = []
            for number, row in household.rows:
                if number == head_number:
                    continue
                try:
                    members.append(engine.member_clean(self.members, {
                        "name": row.get(COL_NAME), "id_number": row.get(COL_ID),
                        "relation": row.get(COL_RELATION) or "other"}, today=self.today))
                except engine.FieldError as exc:
                    problems.append(RowIssue(number, COL_ID if "id" in exc.reason else
                                             COL_RELATION, exc.message, household.ref,
                                             exc.reason))
            values[ct.members] = members
            numbers = [m["id_number"] for m in members] + [values.get(ct.subject_id)]
            if len(set(numbers)) != len(numbers):
                problems.append(RowIssue(head_number, COL_ID, _(
                    "The same ID number is listed twice among the members."), household.ref,
                    "member_twice"))
        return values


# --- progress file ----------------------------------------------------------------------------

def _progress_path(batch: ImportBatch) -> Path:
    return Path(settings.MEDIA_ROOT) / "cases" / "imports" / f"progress-{batch.pk}.json"


def _progress(batch: ImportBatch, *, step: str, done: int, total: int) -> None:
    path = _progress_path(batch)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"step": step, "done": done, "total": total, "at": time.time()}))
    os.replace(tmp, path)


def import_progress(batch: ImportBatch) -> dict[str, Any]:
    """What the page shows while a batch is checked or imported."""
    try:
        data = json.loads(_progress_path(batch).read_text())
    except (OSError, ValueError):
        data = {"step": "", "done": 0, "total": batch.households_total, "at": 0}
    data["stale"] = bool(batch.status == ImportStatus.RUNNING and
                         time.time() - float(data.get("at") or 0) > STALE_SECONDS)
    data["percent"] = int(100 * data["done"] / data["total"]) if data.get("total") else 0
    return data


# --- services ---------------------------------------------------------------------------------

@audited
def import_upload(*, user: User, programme: CaseProgramme, name: str,
                  content: bytes) -> ImportBatch:
    case_type = case_type_get(programme.case_type)
    if not access.may_act(user, case_type.create, user.division_id or "") and not (
            user.is_superuser):
        raise ShidianError(ErrorCode.FORBIDDEN, _("You may not register cases."),
                           {"reason": "forbidden"})
    name = PurePath(name or "").name[:200]
    if PurePath(name).suffix.lower() not in (".csv", ".xlsx"):
        raise ShidianError(ErrorCode.BAD_FILE, _("Upload an .xlsx or .csv file."),
                           {"reason": REASON_FORMAT})
    if not content:
        raise ShidianError(ErrorCode.BAD_FILE, _("The file is empty."), {"reason": REASON_FORMAT})
    with transaction.atomic():
        batch = ImportBatch(programme=programme, name=name, uploaded_by=user)
        batch.file.save(f"{timezone.now():%Y%m%d%H%M%S}-{name}", ContentFile(content),
                        save=False)
        batch.save()
    return batch


def _scan(batch: ImportBatch, user: User, *, on_chunk: Any) -> tuple[list[RowIssue],
                                                                      dict[str, int]]:
    """Check the file chunk by chunk: ``on_chunk(lines, counts)`` after each, in file order.

    A large file is prepared in worker processes (``_Checker.prepare``: cleaning, hashes,
    masks, pinyin, encryption, ≈100 µs a household in Python) while this process reads the
    file, asks the database and writes the lines of the chunks before: up to ``WORKERS``
    chunks are ahead. What needs the database or the file so far stays here, in order, so the
    result is the same as checking in one process."""
    from django.db import connection

    large_cache(connection)
    case_type = case_type_get(batch.programme.case_type)
    checker = _Checker(user=user, programme=batch.programme, case_type=case_type)
    issues: list[RowIssue] = []
    counts = {"rows": 0, "households": 0, "valid": 0}

    def finish(chunk: list[Household], prepared: list[_Prepared]) -> None:
        lines = checker.finish(chunk, prepared, issues)
        counts["households"] += len(chunk)
        counts["valid"] += len(lines)
        on_chunk(lines, counts)

    chunks = _chunks(_households(case_type, Path(batch.file.path), counts))
    pool = _worker_pool(checker, batch.file.size)
    if pool is None:
        for chunk in chunks:
            finish(chunk, checker.prepare(chunk))
        return issues, counts
    with pool:  # terminated on leaving, also on an error or an interruption
        pending: deque[tuple[list[Household], Any]] = deque()
        for chunk in chunks:
            pending.append((chunk, pool.apply_async(_worker_prepare, (chunk,))))
            if len(pending) > WORKERS:
                done, result = pending.popleft()
                finish(done, _prepared_by_worker(result))
        while pending:
            done, result = pending.popleft()
            finish(done, _prepared_by_worker(result))
    return issues, counts


def _prepared_by_worker(result: Any) -> list[_Prepared]:
    """A chunk's result from its worker; a worker that failed, could not start or did not
    answer in ``WORKER_TIMEOUT`` stops the check with a message for the user (the batch is
    marked failed, nothing was imported) and the cause in the log."""
    try:
        return result.get(WORKER_TIMEOUT)
    except Exception as exc:  # noqa: BLE001 - any failure of a worker ends the check alike
        log.exception("household import: a checking worker failed")
        raise ShidianError(ErrorCode.CONFLICT, _(
            "The check stopped because a checking process failed (%(error)s). Nothing was "
            "imported; upload the file again, and tell the administrator if it happens "
            "again.") % {"error": type(exc).__name__}, {"reason": "worker_failed"}) from exc


def _chunks(households: Iterator[Household]) -> Iterator[list[Household]]:
    chunk: list[Household] = []
    for household in households:
        chunk.append(household)
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


_worker_checker: _Checker | None = None  # in a worker process: the parent's checker
_worker_failure = ""  # in a worker process: why it could not start


def _worker_init(checker: bytes, language: str, keys: Mapping[str, str]) -> None:
    """A worker starts from the forkserver (``forkserver.py``: Django set up, the check's
    modules imported) with the parent's checker (pickled, read once Django is ready),
    language and field keys."""
    try:
        _worker_start(checker, language, keys)
    except Exception as exc:  # noqa: BLE001 - reported by each task (_worker_prepare)
        # Raising here would make the pool start another worker, and another, for ever,
        # while the check waited WORKER_TIMEOUT for each chunk.
        global _worker_failure  # noqa: PLW0603 - one per worker process
        _worker_failure = f"{type(exc).__name__}: {exc}"


def _worker_start(checker: bytes, language: str, keys: Mapping[str, str]) -> None:
    global _worker_checker  # noqa: PLW0603 - one per worker process
    import pickle

    import django
    from django.apps import apps
    from django.utils import translation

    if not apps.ready:  # the forkserver's preload failed: set up here, slower
        django.setup()
    for name in (crypto.ENV_KEYS, crypto.ENV_HASH_KEY):
        if keys.get(name):
            os.environ[name] = keys[name]
        else:
            os.environ.pop(name, None)
    crypto.reset_keys()
    translation.activate(language)
    _worker_checker = pickle.loads(checker)  # noqa: S301 - from the parent process


def _worker_prepare(chunk: list[Household]) -> list[_Prepared]:
    if _worker_checker is None:
        raise RuntimeError(f"the checking worker could not start: {_worker_failure}")
    return _worker_checker.prepare(chunk)


def _worker_pool(checker: _Checker, size: int) -> Any:
    """Worker processes for a file of at least ``PARALLEL_BYTES`` on a machine with more than
    one core; ``None`` to check in this process. They never touch the database.

    Started by the forkserver method, not forked from this process: the check runs in the
    huey consumer or beside the embedded server's job thread, and a process with threads
    must not fork (a lock held by another thread at that moment stays held in the child for
    ever; Python 3.12 warns). The forkserver is a fresh single-threaded interpreter that
    preloads Django once (``shidian.cases.forkserver``) and forks each worker from itself;
    the checker (pickled, ≈30 kB), the language and the field keys are handed over, so a
    worker checks exactly as this process would. Starting the server costs ≈0.7 s, once per
    process: it stays up for the next import (≈140 MB, shared by the workers forked from
    it), and a pool from it starts as fast as a fork. As with ``spawn``, a worker imports
    this process's main script (as ``__mp_main__``), so a script must keep its work under
    ``if __name__ == "__main__"`` (the shidian command, huey's consumer and pytest do)."""
    import multiprocessing

    cores = os.cpu_count() or 1
    if (size < PARALLEL_BYTES or cores < 2 or WORKERS < 1
            or "forkserver" not in multiprocessing.get_all_start_methods()):
        return None
    import pickle

    from django.utils import translation

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["shidian.cases.forkserver"])
    keys = {name: os.environ.get(name, "") for name in (crypto.ENV_KEYS, crypto.ENV_HASH_KEY)}
    try:
        return context.Pool(min(WORKERS, cores), _worker_init,
                            (pickle.dumps(checker),
                             translation.get_language() or settings.LANGUAGE_CODE, keys))
    except OSError:  # no process could be started: check in this one
        return None


def _save_issues(batch: ImportBatch, issues: list[RowIssue]) -> None:
    ImportRowError.objects.filter(batch=batch).delete()
    issues.sort(key=lambda i: (i.row, i.column))
    ImportRowError.objects.bulk_create(
        [ImportRowError(batch=batch, row=i.row, column=i.column[:64], message=i.message[:300],
                        household=i.household[:64], code=i.code[:32])
         for i in issues[:MAX_ROW_ERRORS]], batch_size=2000)


def _prepared_path(batch: ImportBatch) -> Path:
    return Path(settings.MEDIA_ROOT) / "cases" / "imports" / f"prepared-{batch.pk}.txt"


# A prepared household is one line: these fields, then PERSON_COLUMNS for each person, the
# head first, all text, joined by SEP. ``data`` is the case's clear data as the JSON text the
# database stores. A line whose text holds SEP or a line break (a name typed with one, say) is
# written as a JSON list instead, and starts with "[".
PREPARED_COLUMNS = ("ref", "row", "division", "subject_name", "data", "pii")
PERSON_COLUMNS = ("position", "relation", "name", "name_pinyin", "id_hash", "id_masked",
                  "birth_date")
P0 = len(PREPARED_COLUMNS)  # where the first person starts
PW = len(PERSON_COLUMNS)
P_POSITION, P_HASH, P_MASKED, P_BORN = 0, 4, 5, 6
SEP = "\x1f"  # ASCII unit separator: JSON escapes it, and nobody types it


def _prepared(checked: Checked, subject_name: str) -> str:
    """A checked household as the run writes it: clear data, the *encrypted* envelope, and
    per person the hash, mask, pinyin and birth date. No number is kept in clear."""
    fields = [checked.ref, str(checked.row), checked.division, checked.split.data[subject_name],
              json.dumps(checked.split.data, ensure_ascii=False, separators=(",", ":")),
              crypto.encrypt_json(checked.split.secrets)]
    for p in checked.persons:
        fields += [str(p["position"]), p["relation"], p["name"], p["name_pinyin"], p["id_hash"],
                   p["id_masked"], p["birth_date"].isoformat()]
    line = SEP.join(fields)
    if (line.count(SEP) != len(fields) - 1 or "\n" in line or "\r" in line
            or line.startswith("[")):
        line = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    return line + "\n"


def _prepared_read(line: str) -> list[str]:
    return json.loads(line) if line.startswith("[") else line.rstrip("\n").split(SEP)


@audited
def import_validate(*, user: User, batch_id: int) -> ImportBatch:
    """Read the whole file and record every bad row; no case is written. The households that
    pass are kept, encrypted, for the run (so it does not read and check the file again)."""
    batch = access.access_import_by_id(user=user, batch_id=batch_id)
    if batch.status in (ImportStatus.RUNNING, ImportStatus.DONE):
        raise ShidianError(ErrorCode.CONFLICT, _("This file is being imported or was imported."),
                           {"reason": REASON_STATE})
    prepared_path = _prepared_path(batch)
    prepared_path.parent.mkdir(parents=True, exist_ok=True)
    partial = prepared_path.with_suffix(".partial")

    with partial.open("w", encoding="utf-8", newline="\n") as out:
        def keep(lines: list[str], counts: Mapping[str, int]) -> None:
            out.writelines(lines)
            _progress(batch, step="validate", done=counts["households"],
                      total=max(counts["households"], batch.households_total))

        try:
            issues, counts = _scan(batch, user, on_chunk=keep)
        except ShidianError as exc:
            batch.status = ImportStatus.FAILED
            batch.error = exc.message
            batch.save(update_fields=["status", "error"])
            raise
    os.replace(partial, prepared_path)
    bad_rows = len({i.row for i in issues})
    with transaction.atomic():
        _save_issues(batch, issues)
        batch.status = ImportStatus.VALIDATED
        batch.rows_total = counts["rows"]
        batch.households_total = counts["households"]
        batch.households_valid = counts["valid"]
        batch.rows_bad = bad_rows
        batch.error = ""
        batch.save(update_fields=["status", "rows_total", "households_total",
                                  "households_valid", "rows_bad", "error"])
    return batch


def _replay(batch: ImportBatch, case_type: CaseTypeDef,
            on_chunk: Any) -> tuple[list[RowIssue], dict[str, int]]:
    """The prepared households, chunk by chunk, checked again against the database (someone
    may have registered one since the check)."""
    from django.db import connection

    large_cache(connection)
    issues: list[RowIssue] = []
    counts = {"rows": batch.rows_total, "households": 0, "valid": 0}
    chunk: list[list[str]] = []

    def flush() -> None:
        hashes = [h[at] for h in chunk for at in range(P0 + P_HASH, len(h), PW)]
        conflicts = _conflicts(case_type, batch.programme, hashes)
        fine = []
        for household in chunk:
            problems = []
            for at in range(P0, len(household), PW) if conflicts else ():
                hit = conflicts.get(household[at + P_HASH])
                if hit and (hit[1] == services.REASON_RENOVATED or
                            household[at + P_POSITION] == "0"):
                    problems.append(RowIssue(int(household[1]), COL_ID,
                                             services.conflict_message(*hit),
                                             household[0], hit[1]))
            if problems:
                issues.extend(problems)
            else:
                fine.append(household)
        counts["households"] += len(chunk)
        counts["valid"] += len(fine)
        on_chunk(fine, counts)
        chunk.clear()

    with _prepared_path(batch).open(encoding="utf-8", newline="\n") as handle:
        for line in handle:
            chunk.append(_prepared_read(line))
            if len(chunk) >= CHUNK:
                flush()
    if chunk:
        flush()
    return issues, counts


@audited
def import_run(*, user: User, batch_id: int, mode: str) -> ImportBatch:
    """Import the checked file: ``all`` (refused while any row is bad) or ``valid`` only."""
    if mode not in ("all", "valid"):
        raise ShidianError(ErrorCode.INVALID, _("Choose to import all or only the valid rows."),
                           {"reason": REASON_STATE})
    batch = access.access_import_by_id(user=user, batch_id=batch_id)
    stale = import_progress(batch)["stale"]
    if batch.status == ImportStatus.DONE or (batch.status == ImportStatus.RUNNING and not stale):
        raise ShidianError(ErrorCode.CONFLICT, _("This file is being imported or was imported."),
                           {"reason": REASON_STATE})
    if batch.status not in (ImportStatus.VALIDATED, ImportStatus.FAILED,
                            ImportStatus.RUNNING) or not _prepared_path(batch).exists():
        raise ShidianError(ErrorCode.CONFLICT, _("Check the file before importing it."),
                           {"reason": REASON_STATE})
    if mode == "all" and batch.rows_bad:
        raise ShidianError(ErrorCode.INVALID, _(
            "%(n)s rows have problems: correct them, or choose to import only the valid "
            "households.") % {"n": batch.rows_bad}, {"reason": REASON_BAD_ROWS})
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportStatus.RUNNING, mode=mode,
                                                   started_at=timezone.now(), error="")
    batch.refresh_from_db()
    case_type = case_type_get(batch.programme.case_type)
    stage = case_type.initial_stage
    due_on, _problem = services._due_on(stage, timezone.localdate())
    written = 0

    writer = _Writer(batch=batch, user=user, case_type=case_type, due_on=due_on)

    def write(households: list[list[str]], counts: Mapping[str, int]) -> None:
        nonlocal written
        writer.write(households)
        written += len(households)
        _progress(batch, step="import", done=counts["households"],
                  total=max(batch.households_valid, counts["households"]))

    try:
        with transaction.atomic():
            issues, counts = _replay(batch, case_type, on_chunk=write)
            if mode == "all" and issues:
                raise ShidianError(ErrorCode.CONFLICT, _(
                    "Some households changed since the check (for example, registered by "
                    "someone else); nothing was imported. Check the file again."),
                    {"reason": REASON_BAD_ROWS})
            if issues:
                ImportRowError.objects.bulk_create(
                    [ImportRowError(batch=batch, row=i.row, column=i.column[:64],
                                    message=i.message[:300], household=i.household[:64],
                                    code=i.code[:32]) for i in issues[:MAX_ROW_ERRORS]],
                    batch_size=2000)
            batch.status = ImportStatus.DONE
            batch.imported = written
            batch.rows_bad += len({i.row for i in issues})
            batch.households_valid = counts["valid"]
            batch.finished_at = timezone.now()
            batch.save(update_fields=["status", "imported", "rows_bad", "households_valid",
                                      "finished_at"])
    except ShidianError as exc:
        ImportBatch.objects.filter(pk=batch.pk).update(status=ImportStatus.FAILED,
                                                       error=exc.message)
        raise
    except BaseException as exc:
        ImportBatch.objects.filter(pk=batch.pk).update(
            status=ImportStatus.FAILED, error=_("The import stopped: %(error)s") % {
                "error": type(exc).__name__})
        raise
    _forget_files(batch)
    return batch


class _Writer:
    """Writes prepared households with ``executemany``, the same statement a raw bulk insert
    uses: Django's ``bulk_create`` prepares every field of every row in Python (≈0.6 ms a
    case on the 2-core reference machine), which would be most of an import's time. The
    prepared rows already hold the database's text (the data as JSON, dates as ISO), so a
    row is a tuple of what was read. Case ids are taken in one step first (the sequence on
    PostgreSQL; the table's maximum on SQLite, whose write lock the import's transaction
    holds), so persons can point to them."""

    def __init__(self, *, batch: ImportBatch, user: User, case_type: CaseTypeDef,
                 due_on: dt.date | None):
        from django.db import connection

        self.connection = connection
        self.batch = batch
        self.user = user
        self.case_type = case_type
        self.stage = case_type.initial_stage.key
        self.due_on = connection.ops.adapt_datefield_value(due_on)
        self.postgresql = connection.vendor == "postgresql"
        quote = connection.ops.quote_name
        self.case_columns = ["id", "programme_id", "case_type", "division_id", "stage",
                             "stage_entered_at", "due_on", "outcome", "subject_name",
                             "subject_name_hash", "subject_id_masked", "subject_id_hash",
                             "data", "pii", "entitlement_detail", "import_batch_id", "source_row",
                             "created_by_id", "created_at", "updated_at"]
        self.person_columns = ["case_id", "position", "relation", "name", "name_pinyin",
                               "id_hash", "id_masked", "birth_date", "division_code"]
        self.case_sql = self._insert(Case._meta.db_table, self.case_columns, quote,
                                     {"data": "::jsonb"} if self.postgresql else {})
        self.person_sql = self._insert(CasePerson._meta.db_table, self.person_columns, quote)
        self.empty_list = Case._meta.get_field("entitlement_detail").get_db_prep_save(
            [], connection)
        self.written = 0
        self.analyzed = 1000
        # A name kept in the envelope (a patient) is searched by its hash, read back here.
        self.sealed_name = case_type.subject_name if services.name_sealed(case_type) else ""

    @staticmethod
    def _insert(table: str, columns: list[str], quote: Any,
                casts: Mapping[str, str] | None = None) -> str:
        casts = casts or {}
        return (f"INSERT INTO {quote(table)} ({', '.join(quote(c) for c in columns)}) "
                f"VALUES ({', '.join('%s' + casts.get(c, '') for c in columns)})")

    def _ids(self, n: int) -> list[int]:
        with self.connection.cursor() as cursor:
            if self.postgresql:
                cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) "
                               "FROM generate_series(1, %s)", [Case._meta.db_table, n])
                return [row[0] for row in cursor.fetchall()]
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {Case._meta.db_table}")  # noqa: S608
            first = cursor.fetchone()[0] + 1
            return list(range(first, first + n))

    def write(self, households: list[list[str]]) -> None:
        if not households:
            return
        now = self.connection.ops.adapt_datetimefield_value(timezone.now())
        ids = self._ids(len(households))
        programme, kind, stage, due_on = (self.batch.programme_id, self.case_type.key,
                                          self.stage, self.due_on)
        batch, user, empty = self.batch.pk, self.user.pk, self.empty_list
        born = dt.date.fromisoformat if self.postgresql else str
        cases, persons = [], []
        for case_id, h in zip(ids, households, strict=True):
            _ref, row, division, name, data, pii = h[:P0]
            clear = (crypto.decrypt_json(pii).get(self.sealed_name) if self.sealed_name
                     else None)
            cases.append((case_id, programme, kind, division, stage, now, due_on, "", name,
                          crypto.name_hash(clear) if clear else "", h[P0 + P_MASKED],
                          h[P0 + P_HASH], data, pii, empty, batch, int(row), user, now, now))
            for at in range(P0, len(h), PW):
                persons.append((case_id, int(h[at]), h[at + 1], h[at + 2], h[at + 3],
                                h[at + 4], h[at + 5], born(h[at + 6]), division))
        with self.connection.cursor() as cursor:
            cursor.executemany(self.case_sql, cases)
            cursor.executemany(self.person_sql, persons)
        self.written += len(cases)
        if self.written >= self.analyzed * 2:
            analyze_cases(self.connection)
            self.analyzed = self.written


def large_cache(connection: Any) -> None:
    """SQLite's default page cache (2,000 pages, ~8 MB) is smaller than the ID-hash index of a
    few hundred thousand persons; each ID lookup of the import then reads pages from disk. The
    import's connection asks for 256 MB instead (PostgreSQL sizes its own buffers)."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size = -262144")


def analyze_cases(connection: Any) -> None:
    """Refresh PostgreSQL's statistics of the case tables after they grew a lot (within the
    import's transaction too): with the statistics of an empty table the planner scans every
    person for each ID lookup and the import slows down as it goes."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {Case._meta.db_table}, {CasePerson._meta.db_table}")


def _forget_files(batch: ImportBatch) -> None:
    """Imported: the uploaded list (numbers in clear) and the prepared rows are deleted."""
    _prepared_path(batch).unlink(missing_ok=True)
    _prepared_path(batch).with_suffix(".jsonl").unlink(missing_ok=True)  # the earlier format
    if batch.file:
        batch.file.delete(save=False)
        ImportBatch.objects.filter(pk=batch.pk).update(file="")


def import_run_job(batch_id: int, user_id: int, mode: str) -> None:
    """The background form of ``import_run`` (validate then import), for large files."""
    from django.db import connection

    try:
        user = User.objects.get(pk=user_id)
        batch = ImportBatch.objects.get(pk=batch_id)
        if mode == "validate" or batch.status == ImportStatus.UPLOADED:
            import_validate(user=user, batch_id=batch_id)
        if mode in ("all", "valid"):
            import_run(user=user, batch_id=batch_id, mode=mode)
    except ShidianError:
        pass  # recorded on the batch
    finally:
        connection.close()
