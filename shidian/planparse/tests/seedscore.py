"""Helpers for the parser tests: the seed plans with their gold files, and the scorer's own task
matching (tests/tools/score_plans.py), so tests judge the parser the way the scorer does."""
from __future__ import annotations

import importlib.util
import json
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SEEDS = ROOT / "shidian" / "demo" / "seed_plans"


@lru_cache(maxsize=1)
def scorer():
    spec = importlib.util.spec_from_file_location("score_plans", ROOT / "tests" / "tools" /
                                                  "score_plans.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def seeds() -> list[tuple[str, str, dict]]:
    """(stem, text, gold) for every seed plan."""
    out = []
    for path in sorted(SEEDS.glob("*.txt")):
        gold = json.loads((SEEDS / (path.stem + ".gold.json")).read_text("utf-8"))
        out.append((path.stem, path.read_text("utf-8"), gold))
    return out


def f1(tp: int, fp: int, fn: int) -> float:
    return 2 * tp / (2 * tp + fp + fn) if tp else (1.0 if not fp and not fn else 0.0)


def task_scores(pairs_of_docs) -> dict[str, float]:
    """F1 of tasks, lead_units and units over (gold_tasks, predicted_tasks) pairs, as the scorer
    counts them."""
    sc = scorer()
    acc = {k: [0, 0, 0] for k in ("tasks", "lead_units", "units")}
    for gt, pt in pairs_of_docs:
        pairs = sc.match_tasks(gt, pt)
        acc["tasks"][0] += len(pairs)
        acc["tasks"][1] += len(pt) - len(pairs)
        acc["tasks"][2] += len(gt) - len(pairs)
        pkey = {j: ("g", i) for i, j in pairs}
        for field in ("lead_units", "units"):
            g = {(("g", i), sc.norm(u)) for i, t in enumerate(gt) for u in t.get(field) or []}
            p = {(pkey.get(j, ("p", j)), sc.norm(u)) for j, t in enumerate(pt)
                 for u in t.get(field) or []}
            acc[field][0] += len(g & p)
            acc[field][1] += len(p - g)
            acc[field][2] += len(g - p)
    return {k: f1(*v) for k, v in acc.items()}
