"""Scores, pure: a reviewer's weighted total, the averaging rule, the ranking.

A reviewer scores each item of the sheet from 0 to its maximum; the reviewer's total is the
weighted mean of the items as a share of their maxima, on a 100-point scale. An application's
score is the mean of its reviewers' totals, or, under the trimmed rule and with at least
``trim_from`` reviewers, the mean after dropping one highest and one lowest total (去掉一个最高分
和一个最低分). Ranks are competition ranks: equal scores share a rank, the next rank skips.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def _q(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def reviewer_total(items: Sequence[tuple[Decimal, Decimal]], scores: Sequence[Decimal]
                   ) -> Decimal:
    """``items`` are (weight, max_score) pairs, ``scores`` the reviewer's scores in order."""
    if len(items) != len(scores):
        raise ValueError("one score per item")
    weights = sum((w for w, _ in items), Decimal(0))
    if weights <= 0:
        raise ValueError("the sheet has no weight")
    total = sum((w * s / m for (w, m), s in zip(items, scores, strict=True)), Decimal(0))
    return _q(total * 100 / weights)


def combine(totals: Iterable[Decimal], *, rule: str, trim_from: int = 5
            ) -> tuple[Decimal | None, int]:
    """The application's score and how many totals it counts."""
    values = sorted(totals)
    if not values:
        return None, 0
    if rule == "trimmed" and len(values) >= max(trim_from, 3):
        values = values[1:-1]
    return _q(sum(values, Decimal(0)) / len(values)), len(values)


def competition_ranks(scores: Mapping[int, Decimal | None]) -> dict[int, int | None]:
    """Rank by score, highest first; equal scores share a rank (1, 2, 2, 4); unscored: None."""
    scored = sorted(((s, k) for k, s in scores.items() if s is not None),
                    key=lambda pair: (-pair[0], pair[1]))
    ranks: dict[int, int | None] = {k: None for k, s in scores.items() if s is None}
    previous, rank = None, 0
    for position, (score, key) in enumerate(scored, start=1):
        if score != previous:
            rank, previous = position, score
        ranks[key] = rank
    return ranks
