"""Run the fuzz targets of tests/fuzz for longer than the test suite does, with fresh random
examples each run, and print what ran.

    .venv/bin/python bench/fuzz.py                     # 500 examples per target
    .venv/bin/python bench/fuzz.py --examples 5000 -k api
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/shidian_fuzz .venv/bin/python bench/fuzz.py

Targets: the parser on mutated seed plans and damaged .docx/.pdf/any bytes, every importer
(agencies, users, indicator entry sheets, household lists, plan files) on damaged workbooks
and CSVs, and the API through schemathesis as users of every role. A failure is printed by
hypothesis with the smallest example it found; add it to the suite as a regression test.
The last line is one JSON object: {"bench": "fuzz", "examples_per_target": N, "targets": T,
"failed": F, "seconds": S}.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=500, help="examples per target")
    parser.add_argument("-k", default="", help="only targets matching this pytest expression")
    args = parser.parse_args()
    env = dict(os.environ, SHIDIAN_FUZZ_EXAMPLES=str(args.examples), SHIDIAN_FUZZ_RANDOM="1",
               DJANGO_ALLOW_ASYNC_UNSAFE="true")
    command = [sys.executable, "-m", "pytest", "tests/fuzz", "-q", "-p", "no:randomly",
               "--hypothesis-show-statistics"]
    if args.k:
        command += ["-k", args.k]
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    print(completed.stdout[-20000:])
    print(completed.stderr[-5000:], file=sys.stderr)
    summary = completed.stdout.strip().splitlines()[-1] if completed.stdout.strip() else ""
    passed = int(m.group(1)) if (m := re.search(r"(\d+) passed", summary)) else 0
    failed = int(m.group(1)) if (m := re.search(r"(\d+) failed", summary)) else 0
    print(json.dumps({"bench": "fuzz", "examples_per_target": args.examples,
                      "targets": passed + failed, "failed": failed,
                      "seconds": round(seconds, 1)}))
    return completed.returncode


if __name__ == "__main__":
    sys.exit(main())
