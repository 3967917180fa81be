"""Duplicate households (合理处置系统中重复的农户档案, 07a 六/(二)): find, review, merge or dismiss.

* **Exact**: the same ID number (keyed hash) on two cases — head or member, anywhere in the
  programme, or in a household renovated in an earlier year of the same case type.
* **Fuzzy**: in the same village, the same or a similar name (characters or pinyin, so 张三 and
  章三 meet) with birth dates at most ``FUZZY_DAYS`` apart (typing slips in the ID number).
  A name kept sealed (a patient's) is compared by the keyed hash of its pinyin only: the same
  sound meets, a similar one cannot be told (``names.sealed_pinyin``).

``dedup_run`` is idempotent: pairs found before keep their decision, new ones are added. A
reviewer's decision (``pair_decide``) is audited: the pair is registered with django-auditlog
and both cases get a timeline event. Merging keeps one archive (一户一档): the other case is
closed as merged and its documents move to the kept case.
"""
from __future__ import annotations

import datetime as dt
import itertools
import json
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from rapidfuzz import fuzz

from shidian.core.errors import ErrorCode, ShidianError
from shidian.orgs.models import User

from . import access
from .audit import audited
from .models import (
    Case,
    CaseDocument,
    CaseEvent,
    CasePerson,
    CaseProgramme,
    DuplicatePair,
    EventKind,
    Outcome,
    PairKind,
    PairStatus,
    Payment,
    PaymentStatus,
)
from .names import SEALED_PINYIN

FUZZY_DAYS = 31
FUZZY_NAME_SCORE = 85  # rapidfuzz ratio of the pinyin spellings
CLOSED = (Outcome.REJECTED, Outcome.WITHDRAWN, Outcome.MERGED)
REASON_DECIDED = "decided"
REASON_PAID = "paid"
PAIRS_PER_STATEMENT = 1000  # 9,000 parameters: under SQLite's 32,766


@dataclass
class DedupResult:
    exact: int = 0
    fuzzy: int = 0
    seconds: float = 0.0


def _pair_key(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


def dedup_run(*, programme: CaseProgramme) -> DedupResult:
    """Find duplicate pairs for one programme and store those not seen before."""
    started = time.perf_counter()
    from django.db import connection

    from .imports import analyze_cases

    analyze_cases(connection)  # after a large import, before the planner chooses
    own = set()  # pairs must involve at least one case of this programme
    found: dict[tuple[int, int], tuple[str, float, list[dict[str, Any]]]] = {}

    hashes = _shared_hashes()
    by_hash: dict[str, list[tuple[int, int, str, int]]] = defaultdict(list)
    rows: list[tuple[str, int, int, str]] = []
    for start in range(0, len(hashes), 500):  # by the id_hash index only, no ordering
        rows += (CasePerson.objects.filter(id_hash__in=hashes[start:start + 500]).order_by()
                 .values_list("id_hash", "case_id", "position", "id_masked"))
    rows.sort(key=lambda row: (row[1], row[2]))
    cases = _compared_cases(programme, {row[1] for row in rows})
    for id_hash, case_id, position, masked in rows:
        if case_id in cases:
            by_hash[id_hash].append((case_id, position, masked, cases[case_id]))
    for persons in by_hash.values():
        for i, (case_a, pos_a, masked, prog_a) in enumerate(persons):
            for case_b, pos_b, _masked, prog_b in persons[i + 1:]:
                if case_a == case_b or programme.pk not in (prog_a, prog_b):
                    continue
                key = _pair_key(case_a, case_b)
                a_pos, b_pos = (pos_a, pos_b) if key[0] == case_a else (pos_b, pos_a)
                reasons = found.get(key, ("", 0.0, []))[2]
                reasons.append({"why": "id", "a": a_pos, "b": b_pos, "masked": masked})
                found[key] = (PairKind.EXACT, 1.0, reasons)
                own.add(key)

    exact = set(found)
    for key, score, reason in _fuzzy_pairs(programme):
        if key in exact:  # an exact pair says enough; a fuzzy one keeps every reason
            continue
        kind, best, reasons = found.get(key, (PairKind.FUZZY, 0.0, []))
        reasons.append(reason)
        found[key] = (kind, max(best, score), reasons)

    existing = set(DuplicatePair.objects.filter(programme=programme)
                   .values_list("case_a_id", "case_b_id"))
    new = [(a, b, kind, score, reasons)
           for (a, b), (kind, score, reasons) in found.items() if (a, b) not in existing]
    _pairs_insert(programme, new)
    result = DedupResult(seconds=time.perf_counter() - started)
    for pair in new:
        if pair[2] == PairKind.EXACT:
            result.exact += 1
        else:
            result.fuzzy += 1
    return result


def _pairs_insert(programme: CaseProgramme,
                  pairs: list[tuple[int, int, str, float, list[dict[str, Any]]]]) -> None:
    """New pairs, many to a statement (``bulk_create`` prepares every field of every row
    in Python: a tenth of a dedup run at a million households); a pair stored meanwhile, or
    under another programme, is left as it is (the unique ``case_a, case_b``)."""
    from django.db import connection

    if not pairs:
        return
    quote = connection.ops.quote_name
    columns = ["programme_id", "case_a_id", "case_b_id", "kind", "score", "reasons", "status",
               "note", "found_at"]
    jsonb = "::jsonb" if connection.vendor == "postgresql" else ""
    one = f"(%s, %s, %s, %s, %s, %s{jsonb}, %s, %s, %s)"  # reasons as the JSON text stored
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    rows = [(programme.pk, a, b, str(kind), score, json.dumps(reasons), str(PairStatus.PENDING),
             "", now) for a, b, kind, score, reasons in pairs]
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, len(rows), PAIRS_PER_STATEMENT):  # a round trip per statement
            chunk = rows[start:start + PAIRS_PER_STATEMENT]
            cursor.execute(f"INSERT INTO {quote(DuplicatePair._meta.db_table)} "  # noqa: S608
                           f"({', '.join(quote(c) for c in columns)}) "
                           f"VALUES {', '.join([one] * len(chunk))} "
                           "ON CONFLICT (case_a_id, case_b_id) DO NOTHING",
                           [value for row in chunk for value in row])


def _shared_hashes() -> list[str]:
    """ID hashes held by more than one person row, from the ``id_hash`` index alone (no join,
    no case read): the candidates, which the caller narrows to the compared cases."""
    from django.db import connection

    table = connection.ops.quote_name(CasePerson._meta.db_table)
    with _whole_table_reads(connection), connection.cursor() as cursor:
        cursor.execute(f"SELECT id_hash FROM {table} GROUP BY id_hash "  # noqa: S608
                       "HAVING COUNT(*) > 1")
        return [row[0] for row in cursor.fetchall()]


# PostgreSQL, for the two reads of every person: a plain scan and a sort or hash in memory.
# Otherwise the planner walks an index (the village's, the hash's) and fetches each of millions
# of rows from the table at random (right after an import no page is marked all-visible, so
# even the ID-hash index alone needs the table), and a 4 MB sort spills to disk.
WHOLE_TABLE_SETTINGS = {"work_mem": "256MB", "enable_indexscan": "off",
                        "enable_indexonlyscan": "off", "enable_bitmapscan": "off"}


@contextmanager
def _whole_table_reads(connection: Any) -> Iterator[None]:
    """``WHOLE_TABLE_SETTINGS`` for the statements inside, on PostgreSQL (nothing on
    SQLite): set for the transaction and put back after, so a caller's transaction keeps its
    own."""
    if connection.vendor != "postgresql":
        yield
        return
    names = list(WHOLE_TABLE_SETTINGS)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(["current_setting(%s)"] * len(names)), names)
        before = cursor.fetchone()
        cursor.execute("SELECT " + ", ".join(["set_config(%s, %s, true)"] * len(names)),
                       [v for name in names for v in (name, WHOLE_TABLE_SETTINGS[name])])
        yield  # on an error the savepoint's rollback undoes the settings
        cursor.execute("SELECT " + ", ".join(["set_config(%s, %s, true)"] * len(names)),
                       [v for name, old in zip(names, before, strict=True)
                        for v in (name, old)])


def _close_births() -> list[tuple[Any, ...]]:
    """Persons with someone of the same village born at most ``FUZZY_DAYS`` days apart, in
    village order: ``(village, case, position, name, pinyin, birth date)``.

    In each village sorted by birth date, two persons at most that far apart have a neighbour
    at most that far apart, so comparing each person with the one before and after it keeps
    every person of every close pair and drops nearly all others before their names are read.
    PostgreSQL does that with window functions; SQLite's window functions cost twice its sort
    (an ephemeral table per village), so there one sorted pass over (village, day, id) is
    compared in Python. Any case of any programme is kept here; the caller keeps the compared
    ones."""
    from django.db import connection

    table = connection.ops.quote_name(CasePerson._meta.db_table)
    columns = "division_code, case_id, position, name, name_pinyin, birth_date"
    with connection.cursor() as cursor:
        with _whole_table_reads(connection):
            ids = _close_birth_ids(cursor, table, connection.vendor == "postgresql")
        rows = []
        for start in range(0, len(ids), 900):  # by primary key
            chunk = ids[start:start + 900]
            cursor.execute(f"SELECT {columns} FROM {table} "  # noqa: S608
                           f"WHERE id IN ({', '.join(['%s'] * len(chunk))})", chunk)
            rows += cursor.fetchall()
    if rows and isinstance(rows[0][5], str):  # SQLite returns dates as ISO text
        rows = [(*row[:5], dt.date.fromisoformat(row[5])) for row in rows]
    rows.sort(key=lambda row: (row[0], row[5], row[1], row[2]))  # the few, sorted here
    return rows


def _close_birth_ids(cursor: Any, table: str, postgresql: bool) -> list[int]:
    """The ids of persons born at most ``FUZZY_DAYS`` from their neighbour in village and
    birth-date order. On SQLite, ``+division_code`` keeps the planner off the village index
    (reading 2.9 million rows in its order is a random read of the table each; a plain scan and
    a sort is not)."""
    if postgresql:
        cursor.execute(f"SELECT id FROM (SELECT id, "  # noqa: S608
                       f"birth_date - LAG(birth_date) OVER w AS gap_before, "
                       f"LEAD(birth_date) OVER w - birth_date AS gap_after "
                       f"FROM {table} WHERE birth_date IS NOT NULL "
                       f"WINDOW w AS (PARTITION BY division_code ORDER BY birth_date)) AS near "
                       f"WHERE gap_before <= %s OR gap_after <= %s", [FUZZY_DAYS, FUZZY_DAYS])
        return sorted(row[0] for row in cursor.fetchall())
    cursor.execute(f"SELECT division_code, CAST(julianday(birth_date) AS INTEGER), id "  # noqa: S608
                   f"FROM {table} WHERE birth_date IS NOT NULL "
                   f"ORDER BY +division_code, birth_date")
    keep: set[int] = set()
    last_village, last_day, last_id = None, 0, 0
    for village, day, pk in itertools.chain.from_iterable(
            iter(lambda: cursor.fetchmany(20_000), [])):
        if village == last_village and day - last_day <= FUZZY_DAYS:
            keep.add(last_id)
            keep.add(pk)
        last_village, last_day, last_id = village, day, pk
    return sorted(keep)


def _compared_cases(programme: CaseProgramme, case_ids: set[int]) -> dict[int, int]:
    """Case → programme, for those of ``case_ids`` that are compared: this programme's live
    cases and earlier years' completed ones. Read by primary key and judged here, so that no
    plan walks a programme's million cases."""
    earlier = set(CaseProgramme.objects.filter(case_type=programme.case_type,
                                               year__lt=programme.year)
                  .values_list("pk", flat=True))
    ids = sorted(case_ids)
    found: dict[int, int] = {}
    for start in range(0, len(ids), 900):
        for pk, programme_id, outcome in (Case.objects.filter(pk__in=ids[start:start + 900])
                                          .order_by().values_list("pk", "programme_id",
                                                                  "outcome")):
            if (programme_id == programme.pk and outcome not in CLOSED) or (
                    programme_id in earlier and outcome == Outcome.COMPLETED):
                found[pk] = programme_id
    return found


def _fuzzy_pairs(programme: CaseProgramme) -> Iterable[tuple[tuple[int, int], float,
                                                             dict[str, Any]]]:
    """Similar persons of different cases in the same village: the persons born close to
    someone of their village (``_close_births``), of the compared cases, village by village."""
    rows = _close_births()
    cases = _compared_cases(programme, {row[1] for row in rows})
    village: list[tuple[Any, ...]] = []
    current = None
    for code, case_id, position, name, pinyin, born in rows:
        if case_id not in cases:
            continue
        if code != current:
            yield from _village_pairs(programme, village)
            village = []
            current = code
        village.append((case_id, position, name, pinyin, born, cases[case_id]))
    yield from _village_pairs(programme, village)


def _village_pairs(programme: CaseProgramme, persons: list[tuple[Any, ...]]
                   ) -> Iterable[tuple[tuple[int, int], float, dict[str, Any]]]:
    if len(persons) < 2:
        return
    persons.sort(key=lambda p: p[4])
    for i, (case_a, pos_a, name_a, pinyin_a, born_a, prog_a) in enumerate(persons):
        for case_b, pos_b, name_b, pinyin_b, born_b, prog_b in persons[i + 1:]:
            days = (born_b - born_a).days
            if days > FUZZY_DAYS:
                break  # sorted by birth date: the rest are further apart
            if case_a == case_b or programme.pk not in (prog_a, prog_b):
                continue
            if not pinyin_a or not pinyin_b:
                continue  # no name to compare (equal names always have equal pinyin)
            if pinyin_a.startswith(SEALED_PINYIN) or pinyin_b.startswith(SEALED_PINYIN):
                # Sealed names (patients): only their masks (李**) and pinyin hashes are
                # here. Equal masks say nothing; equal hashes say the names sound the same.
                if pinyin_a != pinyin_b:
                    continue
                score, why = 95.0, "pinyin"
            elif name_a == name_b:
                score, why = 100.0, "name"
            elif pinyin_a == pinyin_b:
                score, why = 95.0, "pinyin"
            else:
                score = fuzz.ratio(pinyin_a, pinyin_b)
                why = "similar"
                if score < FUZZY_NAME_SCORE:
                    continue
            key = _pair_key(case_a, case_b)
            a, b = ((pos_a, name_a), (pos_b, name_b)) if key[0] == case_a else (
                (pos_b, name_b), (pos_a, name_a))
            yield key, round(score / 100 * (1 - days / (2 * FUZZY_DAYS + 2)), 3), {
                "why": why, "a": a[0], "b": b[0], "names": [a[1], b[1]], "days": days}


@audited
def pair_decide(*, user: User, pair_id: int, decision: str, keep: str = "",
                note: str = "") -> DuplicatePair:
    """``decision`` is ``merge`` (``keep`` = ``a`` or ``b``: the archive that stays) or
    ``dismiss`` (not the same household). Both are final and audited."""
    note = (note or "").strip()
    if decision not in ("merge", "dismiss") or (decision == "merge" and keep not in ("a", "b")):
        raise ShidianError(ErrorCode.INVALID, _("Choose merge (and which case stays) or "
                                                "dismiss."), {"reason": "decision"})
    with transaction.atomic():
        pair = access.access_pair_by_id(user=user, pair_id=pair_id)
        pair = DuplicatePair.objects.select_for_update().get(pk=pair.pk)
        if pair.status != PairStatus.PENDING:
            raise ShidianError(ErrorCode.CONFLICT, _("This pair has been decided already."),
                               {"reason": REASON_DECIDED})
        now = timezone.now()
        pair.status = PairStatus.MERGED if decision == "merge" else PairStatus.DISMISSED
        pair.decided_by = user
        pair.decided_at = now
        pair.note = note
        pair.save(update_fields=["status", "decided_by", "decided_at", "note"])
        if decision == "dismiss":
            for case_id in (pair.case_a_id, pair.case_b_id):
                CaseEvent.objects.create(case_id=case_id, kind=EventKind.MERGED, actor=user,
                                         at=now, reason=note,
                                         data={"pair": pair.pk, "decision": "dismiss"})
            return pair
        kept_id, dropped_id = ((pair.case_a_id, pair.case_b_id) if keep == "a"
                               else (pair.case_b_id, pair.case_a_id))
        cases = {c.pk: c for c in Case.objects.select_for_update().filter(
            pk__in=[kept_id, dropped_id])}
        kept, dropped = cases[kept_id], cases[dropped_id]
        if dropped.outcome == Outcome.COMPLETED:
            raise ShidianError(ErrorCode.CONFLICT, _("A completed case cannot be merged away; "
                                                     "keep it and merge the other."),
                               {"reason": REASON_DECIDED})
        if Payment.objects.filter(case=dropped, status=PaymentStatus.PAID).exists():
            raise ShidianError(ErrorCode.CONFLICT, _("Money was paid on the case to be merged "
                                                     "away; settle it first."),
                               {"reason": REASON_PAID})
        Payment.objects.filter(case=dropped, status=PaymentStatus.PLANNED).delete()
        moved = CaseDocument.objects.filter(case=dropped).update(case=kept)
        dropped.outcome = Outcome.MERGED
        dropped.merged_into = kept
        dropped.save(update_fields=["outcome", "merged_into", "updated_at"])
        CaseEvent.objects.create(case=dropped, kind=EventKind.MERGED, actor=user, at=now,
                                 reason=note, data={"pair": pair.pk, "into": kept.pk})
        CaseEvent.objects.create(case=kept, kind=EventKind.MERGED, actor=user, at=now,
                                 reason=note, data={"pair": pair.pk, "from": dropped.pk,
                                                    "documents": moved})
        DuplicatePair.objects.filter(Q(case_a=dropped) | Q(case_b=dropped),
                                     status=PairStatus.PENDING).exclude(pk=pair.pk).update(
            status=PairStatus.DISMISSED, note=_("Closed: one of the cases was merged."),
            decided_by=user, decided_at=now)
    return pair
