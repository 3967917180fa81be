"""The parser on plans it was not built from: the held-out corpus in ``heldout/`` (see its
NOTES.md), scored with the seeds' own scorer (tests/tools/score_plans.py), and the seeds themselves.

Held-out figures (20 plans, tests/tools/score_plans.py, F1):

    field                before  after
    tasks                0.942   1.000
    lead_units           0.794   1.000
    units                0.703   0.990
    deadlines            0.906   0.995
    phases               0.840   1.000
    indicators           0.828   0.989
    indicator_deadlines  0.819   0.985
    reporting            0.959   1.000
    leading_group        0.795   1.000
    headline F1          0.8674  0.9960

"before" is the parser as it stood when the corpus was written (commit 4db66bc); "after" is
after the fixes. Plans 01-16 were used to find what generalised badly, so their "after" figure
is partly fitted. Plans 17-20 were written after the fixes for 01-16 and scored once before any
change made for them: headline 0.9261 with the old parser, 0.9444 with the fixed one on that
first run (0.9942 after the fixes they led to). That first-run figure is the honest estimate of
the parser on a plan nobody has looked at.

The bars below sit just under the figures reached, so a change that loses held-out ground
fails here even when the seeds still score 1.0.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from shidian.planparse import parse_text

from .seedscore import SEEDS, scorer

HELDOUT = Path(__file__).resolve().parent / "heldout"

HELDOUT_HEADLINE = 0.99
HELDOUT_FIELD = {"tasks": 0.98, "lead_units": 0.98, "units": 0.97, "deadlines": 0.97,
                 "phases": 0.97, "indicators": 0.97, "indicator_deadlines": 0.96,
                 "reporting": 0.97, "leading_group": 0.97}
# the seeds as they score now (headline 1.0, units 0.972, every other field 1.0)
SEED_HEADLINE = 0.99
SEED_FIELD = 0.95


def _score(folder: Path) -> tuple[float, dict[str, float], dict[str, dict[str, float]]]:
    """(headline F1, F1 per field, per-document F1 per field) of the parser on ``folder``."""
    sc = scorer()
    total = {k: sc.PRF() for k in sc.FIELDS}
    per_doc = {}
    for gold_path in sorted(folder.glob("*.gold.json")):
        stem = gold_path.name[: -len(".gold.json")]
        gold = json.loads(gold_path.read_text(encoding="utf-8"))
        text = (folder / f"{stem}.txt").read_text(encoding="utf-8")
        pred = parse_text(text, name=stem).to_dict()
        one = {k: sc.PRF() for k in sc.FIELDS}
        sc.score_doc(gold, pred, one)
        for k in sc.FIELDS:
            total[k].add(one[k].tp, one[k].fp, one[k].fn)
        per_doc[stem] = {k: one[k].f() for k in sc.FIELDS}
    headline = sum(total[k].f() for k in sc.HEADLINE) / len(sc.HEADLINE)
    return headline, {k: total[k].f() for k in sc.FIELDS}, per_doc


@pytest.fixture(scope="module")
def heldout_scores():
    return _score(HELDOUT)


def test_the_heldout_corpus_is_complete():
    texts = sorted(p.stem for p in HELDOUT.glob("*.txt"))
    golds = sorted(p.name[: -len(".gold.json")] for p in HELDOUT.glob("*.gold.json"))
    assert texts == golds and len(texts) >= 8
    for stem in golds:
        gold = json.loads((HELDOUT / f"{stem}.gold.json").read_text(encoding="utf-8"))
        assert gold["id"] == stem and gold["tasks"], stem


def test_heldout_headline_f1(heldout_scores):
    headline, fields, _ = heldout_scores
    assert headline >= HELDOUT_HEADLINE, fields


@pytest.mark.parametrize("field", sorted(HELDOUT_FIELD))
def test_heldout_field_f1(heldout_scores, field):
    _, fields, per_doc = heldout_scores
    worst = sorted(per_doc.items(), key=lambda kv: kv[1][field])[:3]
    assert fields[field] >= HELDOUT_FIELD[field], [(stem, round(f[field], 3)) for stem, f in worst]


def test_every_heldout_plan_gets_its_tasks(heldout_scores):
    """No plan layout of the corpus is lost wholesale (a plan whose items are not found at all
    scores 0 on tasks even when the corpus total stays high)."""
    _, _, per_doc = heldout_scores
    assert {stem: round(f["tasks"], 3) for stem, f in per_doc.items() if f["tasks"] < 0.9} == {}


def test_the_seeds_keep_their_scores():
    headline, fields, _ = _score(SEEDS)
    assert headline >= SEED_HEADLINE
    assert {k: round(v, 3) for k, v in fields.items() if v < SEED_FIELD} == {}
