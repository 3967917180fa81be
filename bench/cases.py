"""Benchmark: a national household list imported, deduplicated and moved on one stage.

    .venv/bin/python bench/cases.py [--households N] [--seed 7] [--csv-dir DIR]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/shidian_bench .venv/bin/python bench/cases.py

In a fresh test database (SQLite on disk, or PostgreSQL ``test_<name>``) holding the real
division tree (shidian/orgs/data: every province, city, county and township, and the villages —
all 620,573 at full scale, an even spread of them for smaller runs), it generates ``N``
households (default 1,000,000; 0–4 members each, valid ID numbers of the village's county)
with injected duplicates, writes them as a 花名册 CSV file, and times:

- ``import``: the product's import path (``import_upload`` → ``import_validate`` →
  ``import_run`` with valid rows only), from the file to encrypted, hashed rows;
- ``dedup``: ``dedup_run`` on the programme (exact by keyed hash, fuzzy by pinyin/birth date);
- ``transition``: ``cases_transition_bulk`` moving min(100,000, N/10) cases one stage
  (``accept``: 摸底登记 → 个人申请, with its guard), timeline and audit entries included.

The same-run reference is a raw ``executemany`` of exactly the rows the import wrote (cases
and persons, read back after the import) into the same tables of another fresh database, in
one transaction, with the same connection settings (on SQLite the import's larger page cache). Targets (issue 5): import within 3× the reference, dedup under 20 s.
The last line is one JSON object.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余"
            "杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史")
GIVEN = ("德明秀英建国桂兰志强玉珍文华淑芬春梅国庆海燕红霞金凤永福长林小军丽娟俊杰宏伟秀珍"
         "光辉凤英玉兰振华晓东雪梅家豪子涵浩然欣怡思远佳怡宇航雨涵一鸣天佑")
# Same pinyin, another character: how the same person is typed twice (张/章, 王/汪 …).
HOMOPHONES = {"张": "章", "王": "汪", "李": "黎", "刘": "柳", "吴": "武", "周": "州", "徐": "许",
              "杨": "阳", "黄": "皇", "陈": "晨"}
RELATIONS = ("配偶", "子女", "子女", "父母", "孙子女")


def village_sample(villages: list[str], wanted: int) -> list[str]:
    if wanted >= len(villages):
        return villages
    step = len(villages) / wanted
    return [villages[int(i * step)] for i in range(wanted)]


def generate(n: int, villages: list[str], seed: int, paths: tuple[Path, Path],
             header: list[str]) -> dict[str, int]:
    """Write ``n`` households to two CSV files — the survey list and, for 1 % of them, a later
    supplementary list — and return how many duplicates of each kind were injected:

    - ``head_twice``: a head listed twice in the survey list (an import error, row-level);
    - ``similar``: the same person typed again in the same village, a homophone surname and a
      birth date a few days off, under another ID number (a fuzzy pair for dedup);
    - ``member_as_head``: a member of a surveyed household registered as the head of a new
      one in the later list (an exact pair for dedup).
    """
    from shidian.core.crypto import id_number_make

    rng = random.Random(seed)
    serial: dict[tuple[str, dt.date], int] = {}
    injected = {"head_twice": 0, "similar": 0, "member_as_head": 0}
    heads: list[tuple[str, str, str, dt.date]] = []  # village, name, id, born
    members_seen: list[str] = []

    def new_id(village: str, born: dt.date, female: bool) -> str:
        key = (village[:6], born)
        seq = serial.get(key, rng.randrange(0, 400))
        serial[key] = seq + 1
        sequence = (seq % 500) * 2 + (0 if female else 1)
        return id_number_make(f"{village[:6]}{born:%Y%m%d}{sequence:03d}")

    def name() -> str:
        return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))

    def born(lo: int, hi: int) -> dt.date:
        return dt.date(1930, 1, 1) + dt.timedelta(days=rng.randrange(lo, hi))

    def household(writer: Any, ref: str, later: bool) -> None:
        roll = rng.random()
        village = rng.choice(villages)
        if later and roll < 0.5 and members_seen:
            head_id = rng.choice(members_seen)
            head_name = name()
            head_born = dt.date(int(head_id[6:10]), int(head_id[10:12]), int(head_id[12:14]))
            injected["member_as_head"] += 1
        elif not later and roll < 0.002 and heads:
            village, head_name, head_id, head_born = rng.choice(heads)
            injected["head_twice"] += 1
        elif not later and roll < 0.007 and heads:
            village, other_name, _other_id, other_born = rng.choice(heads)
            head_name = HOMOPHONES.get(other_name[0], other_name[0]) + other_name[1:]
            head_born = other_born + dt.timedelta(days=rng.randrange(1, 20))
            head_id = new_id(village, head_born, False)
            injected["similar"] += 1
        else:
            head_name, head_born = name(), born(0, 25000)
            head_id = new_id(village, head_born, rng.random() < 0.3)
        heads.append((village, head_name, head_id, head_born))
        poverty = rng.choice(("低保户", "建档立卡贫困户", "分散供养五保户", "贫困残疾人家庭",
                              "其他贫困户", "建档立卡贫困户、低保户", ""))
        account = "6214" + "".join(rng.choice("0123456789") for _ in range(15))
        writer.writerow([ref, "户主", head_name, head_id, village, "", poverty, "",
                         rng.randrange(20, 90), "农村信用社", account])
        for _ in range(rng.choice((0, 1, 1, 2, 2, 3, 4))):
            member_id = new_id(village, born(20000, 33000), rng.random() < 0.5)
            if not later:
                members_seen.append(member_id)
            writer.writerow([ref, rng.choice(RELATIONS), name(), member_id, "", "", "", "", "",
                             "", ""])

    later_n = max(10, n // 100)
    for path, count, later in ((paths[0], n - later_n, False), (paths[1], later_n, True)):
        with path.open("w", newline="", encoding="utf-8-sig") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            for h in range(count):
                household(writer, f"{'B' if later else 'A'}{h}", later)
    return injected


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--csv-dir", default="", help="keep the generated lists in this folder "
                        "and reuse them in later runs with the same --households and --seed "
                        "(generating a million households takes minutes)")
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    scratch = Path(tempfile.mkdtemp(prefix="shidian-bench-cases-"))
    os.environ.setdefault("SHIDIAN_VAR_DIR", str(scratch))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection, transaction
    from django.test.utils import setup_databases, teardown_databases

    from shidian.cases import dedup, imports, services
    from shidian.cases.definitions import case_type_get
    from shidian.cases.models import Case, CasePerson, CaseProgramme
    from shidian.orgs.divisions import read_level
    from shidian.orgs.models import Division, User

    settings.MEDIA_ROOT = scratch / "media"
    if connection.vendor == "sqlite":  # on disk, like the embedded default, not in memory
        connection.settings_dict["TEST"]["NAME"] = str(scratch / "bench.sqlite3")
    n = args.households
    quote = connection.ops.quote_name

    def insert(model: type, columns: list[str], rows: list[tuple]) -> None:
        sql = (f"INSERT INTO {quote(model._meta.db_table)} "  # noqa: S608
               f"({', '.join(quote(c) for c in columns)}) "
               f"VALUES ({', '.join(['%s'] * len(columns))})")
        with connection.cursor() as cursor:
            for at in range(0, len(rows), 50_000):
                cursor.executemany(sql, rows[at:at + 50_000])

    all_villages = [row.code for row in read_level(5)]
    villages = village_sample(all_villages, max(100, min(len(all_villages), n // 2)))
    wanted = set(villages)
    division_rows = [(r.code, r.name, r.level, r.parent) for level in range(1, 5)
                     for r in read_level(level)]
    division_rows += [(r.code, r.name, 5, r.parent) for r in read_level(5) if r.code in wanted]
    case_type = case_type_get("housing")
    where = Path(args.csv_dir) if args.csv_dir else scratch
    where.mkdir(parents=True, exist_ok=True)
    paths = (where / "huamingce.csv", where / "buchong.csv")
    marker = where / f"injected-{n}-{args.seed}.json"
    started = time.perf_counter()
    if marker.exists() and all(p.exists() for p in paths):  # generated by an earlier run
        injected = json.loads(marker.read_text())
    else:
        injected = generate(n, villages, args.seed, paths, imports.import_columns(case_type))
        if args.csv_dir:
            marker.write_text(json.dumps(injected))
    size = sum(p.stat().st_size for p in paths) / 1e6
    print(f"generated {n} households in {len(villages)} villages ({size:.0f} MB of CSV) in "
          f"{time.perf_counter() - started:.1f} s; injected {injected}", flush=True)

    old = setup_databases(verbosity=0, interactive=False)
    try:
        with transaction.atomic():
            insert(Division, ["code", "name", "level", "parent_id"], division_rows)
        admin = User.objects.create_superuser("bench", password=None)
        programme = CaseProgramme.objects.create(name="全国农村危房改造（基准）",
                                                 case_type="housing", division=None,
                                                 year=2026, table="shandong-2016")

        validate_seconds = run_seconds = 0.0
        batches = []
        for path in paths:  # the survey list, then the later supplementary list
            started = time.perf_counter()
            batch = imports.import_upload(user=admin, programme=programme, name=path.name,
                                          content=path.read_bytes())
            batch = imports.import_validate(user=admin, batch_id=batch.pk)
            checked = time.perf_counter()
            batch = imports.import_run(user=admin, batch_id=batch.pk, mode="valid")
            validate_seconds += checked - started
            run_seconds += time.perf_counter() - checked
            batches.append(batch)
        import_seconds = validate_seconds + run_seconds
        imported = sum(b.imported for b in batches)
        rows_bad = sum(b.rows_bad for b in batches)
        print(f"import: {imported} households ({sum(b.rows_total for b in batches)} rows, "
              f"{rows_bad} bad) in {import_seconds:.1f} s "
              f"(check {validate_seconds:.1f} s, write {run_seconds:.1f} s)", flush=True)

        case_columns = [f.column for f in Case._meta.concrete_fields]
        person_columns = [f.column for f in CasePerson._meta.concrete_fields]
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {', '.join(quote(c) for c in case_columns)} "  # noqa: S608
                           f"FROM {quote(Case._meta.db_table)}")
            case_rows = cursor.fetchall()
            cursor.execute(f"SELECT {', '.join(quote(c) for c in person_columns)} "  # noqa: S608
                           f"FROM {quote(CasePerson._meta.db_table)}")
            person_rows = cursor.fetchall()

        started = time.perf_counter()
        found = dedup.dedup_run(programme=programme)
        dedup_seconds = time.perf_counter() - started
        print(f"dedup: {found.exact} exact and {found.fuzzy} fuzzy pairs in "
              f"{dedup_seconds:.1f} s", flush=True)

        moving = min(100_000, max(1, n // 10))
        ids = list(Case.objects.filter(programme=programme).order_by("pk")
                   .values_list("pk", flat=True)[:moving])
        started = time.perf_counter()
        moved = services.cases_transition_bulk(user=admin, case_ids=ids, transition="accept")
        transition_seconds = time.perf_counter() - started
        print(f"transition: {moved.moved} of {len(ids)} cases moved one stage, blocked "
              f"{moved.blocked}, in {transition_seconds:.1f} s", flush=True)
        vendor = connection.vendor
    finally:
        teardown_databases(old, verbosity=0)

    old = setup_databases(verbosity=0, interactive=False)
    try:
        with transaction.atomic():  # what the cases point to, not timed
            insert(Division, ["code", "name", "level", "parent_id"], division_rows)
            User.objects.create_superuser("bench", password=None)
            CaseProgramme.objects.create(pk=programme.pk, name=programme.name,
                                         case_type="housing", division=None, year=2026,
                                         table="shandong-2016")
            from shidian.cases.models import ImportBatch

            for batch in batches:
                ImportBatch.objects.create(pk=batch.pk, programme_id=programme.pk,
                                           name=batch.name)
        imports.large_cache(connection)  # the same page cache as the import's connection
        started = time.perf_counter()
        with transaction.atomic():
            insert(Case, case_columns, case_rows)
            insert(CasePerson, person_columns, person_rows)
        reference_seconds = time.perf_counter() - started
        assert Case.objects.count() == len(case_rows)
        print(f"reference: raw insert of the same {len(case_rows)} cases and "
              f"{len(person_rows)} persons in {reference_seconds:.1f} s", flush=True)
    finally:
        teardown_databases(old, verbosity=0)
        shutil.rmtree(scratch, ignore_errors=True)

    print(json.dumps({
        "bench": "cases", "db": vendor, "households": n, "imported": imported,
        "persons": len(person_rows), "rows_bad": rows_bad,
        "import_seconds": round(import_seconds, 2),
        "validate_seconds": round(validate_seconds, 2), "write_seconds": round(run_seconds, 2),
        "reference_seconds": round(reference_seconds, 2),
        "ratio": round(import_seconds / reference_seconds, 2) if reference_seconds else None,
        "dedup_seconds": round(dedup_seconds, 2), "pairs_exact": found.exact,
        "pairs_fuzzy": found.fuzzy, "transition_seconds": round(transition_seconds, 2),
        "moved": moved.moved,
        # The machine is shared: the 1-minute load average at the start and at the end.
        "load_average": [round(load_before, 1), round(os.getloadavg()[0], 1)]},
        ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
