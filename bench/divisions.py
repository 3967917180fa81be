"""Benchmark: load the division code table (665k rows down to villages) into a fresh database.

    .venv/bin/python bench/divisions.py [--levels 5] [--province CODE]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/shidian .venv/bin/python bench/divisions.py

Measures ``divisions_load`` (read the CSV files, diff against the table, insert) on a fresh
test database (SQLite on disk, or PostgreSQL ``test_<name>``), then a second, idempotent run.
The same-run reference is a raw ``executemany`` of the same rows (already in memory) into the
same table of another fresh test database, in one transaction. The last line is a JSON object.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", type=int, default=5)
    parser.add_argument("--province", default="")
    args = parser.parse_args()

    scratch = tempfile.mkdtemp(prefix="shidian-bench-")
    os.environ.setdefault("SHIDIAN_VAR_DIR", scratch)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import connection, transaction
    from django.test.utils import setup_databases, teardown_databases

    from shidian.orgs.divisions import read_level
    from shidian.orgs.models import Division
    from shidian.orgs.services import divisions_load

    if connection.vendor == "sqlite":  # on disk, like the embedded default, not in memory
        connection.settings_dict["TEST"]["NAME"] = str(Path(scratch) / "bench.sqlite3")
    rows = [(r.code, r.name, r.level, r.parent)
            for level in range(1, args.levels + 1)
            for r in read_level(level, province=args.province)]

    # The reference: the same rows, already in memory, into the same fresh table.
    old = setup_databases(verbosity=0, interactive=False)
    try:
        quote = connection.ops.quote_name
        sql = (f"INSERT INTO {quote(Division._meta.db_table)} "  # noqa: S608
               f"({quote('code')}, {quote('name')}, {quote('level')}, {quote('parent_id')}) "
               "VALUES (%s, %s, %s, %s)")
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, rows)
        reference = time.perf_counter() - started
        assert Division.objects.count() == len(rows)
    finally:
        teardown_databases(old, verbosity=0)

    old = setup_databases(verbosity=0, interactive=False)
    try:
        started = time.perf_counter()
        first = divisions_load(levels=args.levels, province=args.province)
        seconds = time.perf_counter() - started
        assert first.created == len(rows) == Division.objects.count()

        started = time.perf_counter()
        second = divisions_load(levels=args.levels, province=args.province)
        second_seconds = time.perf_counter() - started
        assert second.created == 0 and second.unchanged == first.total, "not idempotent"
        assert Division.objects.count() == first.total
    finally:
        teardown_databases(old, verbosity=0)
        shutil.rmtree(scratch, ignore_errors=True)

    print(f"database: {connection.vendor}; rows: {first.total} "
          f"(levels 1-{args.levels}{', province ' + args.province if args.province else ''})")
    print(f"divisions_load, fresh table:   {seconds:7.2f} s ({first.total / seconds:,.0f} rows/s)")
    print(f"divisions_load, second run:    {second_seconds:7.2f} s (all {second.unchanged} "
          "unchanged, nothing added)")
    print(f"reference, raw executemany:    {reference:7.2f} s (rows already in memory)")
    print(json.dumps({"bench": "divisions_load", "database": connection.vendor,
                      "rows": first.total, "seconds": round(seconds, 3),
                      "reference_seconds": round(reference, 3),
                      "ratio": round(seconds / reference, 3),
                      "second_run_seconds": round(second_seconds, 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
