"""Benchmark: parse the whole seed corpus (24 plans, 258 KB) with the plan parser.

    .venv/bin/python bench/parse.py [--repeat 5]

Times ``parse_file`` on every seed plan (read + the whole pipeline), best of --repeat runs, and in
the same run the reference: a plain read of the same files plus a regex tokenisation of their text
(Chinese runs, numbers, other characters). Also prints the time of each pipeline step and the
slowest plans. The last line is one JSON object:
{"bench": "parse", "seconds": ..., "reference_seconds": ..., "ratio": ...}.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SEEDS = ROOT / "shidian" / "demo" / "seed_plans"
TOKEN_RE = re.compile(r"[\u4e00-\u9fff]+|\d+(?:\.\d+)?|[A-Za-z]+|\S")

# pipeline steps timed one by one (module, function), as parse.parse_text calls them
STEPS = [("outline", "build_outline"), ("header", "describe"), ("tasks", "extract_tasks"),
         ("schedule", "extract_schedule"), ("indicators", "extract_goals_and_indicators"),
         ("duties", "extract_reporting"), ("organization", "extract_organization"),
         ("rules", "extract_rules"),
         ("units", "build_unit_index"), ("findings", "find_inconsistencies")]


def reference(paths: list[Path]) -> int:
    tokens = 0
    for path in paths:
        text = path.read_bytes().decode("utf-8")
        tokens += len(TOKEN_RE.findall(text))
    return tokens


def instrument() -> dict[str, float]:
    """Wrap the pipeline's step functions so each one's time is added up."""
    from shidian.planparse import parse as pipeline

    spent: dict[str, float] = {}
    for module_name, function_name in STEPS:
        module = getattr(pipeline, module_name, None)
        function = getattr(module, function_name, None)
        if function is None:
            continue

        def timed(*args, __f=function, __name=module_name, **kwargs):
            started = time.perf_counter()
            try:
                return __f(*args, **kwargs)
            finally:
                spent[__name] = spent.get(__name, 0.0) + time.perf_counter() - started

        setattr(module, function_name, timed)
    return spent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from shidian.planparse import parse_file

    paths = sorted(SEEDS.glob("*.txt"))
    size = sum(p.stat().st_size for p in paths)
    for path in paths:  # warm up: imports, compiled regexes, file cache
        parse_file(path)
    reference(paths)

    best = ref_best = float("inf")
    per_file: dict[str, float] = {}
    for _ in range(max(1, args.repeat)):
        started = time.perf_counter()
        for path in paths:
            t0 = time.perf_counter()
            parse_file(path)
            spent_now = time.perf_counter() - t0
            per_file[path.stem] = min(per_file.get(path.stem, float("inf")), spent_now)
        best = min(best, time.perf_counter() - started)
        started = time.perf_counter()
        tokens = reference(paths)
        ref_best = min(ref_best, time.perf_counter() - started)

    spent = instrument()
    for path in paths:
        parse_file(path)

    print(f"seed corpus: {len(paths)} plans, {size / 1024:.0f} KB, {tokens} tokens")
    print(f"parse (best of {args.repeat}): {best:.3f} s   "
          f"reference read+tokenise: {ref_best:.4f} s")
    print("pipeline steps (one pass):")
    for name, seconds in sorted(spent.items(), key=lambda kv: -kv[1]):
        print(f"  {name:<13} {seconds:.3f} s")
    print("slowest plans:")
    for stem, seconds in sorted(per_file.items(), key=lambda kv: -kv[1])[:5]:
        print(f"  {stem:<36} {seconds:.3f} s")
    ratio = best / ref_best if ref_best > 0 else float("inf")
    print(json.dumps({"bench": "parse", "seconds": round(best, 3),
                      "reference_seconds": round(ref_best, 4), "ratio": round(ratio, 1),
                      "plans": len(paths), "kilobytes": round(size / 1024)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
