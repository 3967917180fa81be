"""Averaging and ranking as an expert panel's secretary would do it by hand."""
from decimal import Decimal as D

import pytest

from shidian.selection.scoring import combine, competition_ranks, reviewer_total

# Seed 02's criteria as a sheet: 目标明确 30, 方案完善 30, 支持力度大 20, 示范性强 20 (each 0–100).
SHEET = [(D(30), D(100)), (D(30), D(100)), (D(20), D(100)), (D(20), D(100))]


def test_a_reviewers_total_weights_the_items():
    # 0.3*90 + 0.3*80 + 0.2*70 + 0.2*60 = 27 + 24 + 14 + 12 = 77
    assert reviewer_total(SHEET, [D(90), D(80), D(70), D(60)]) == D("77.00")


def test_items_scored_out_of_different_maxima_count_as_shares():
    # 目标 scored 18 of 20 (90%), 方案 40 of 80 (50%), equal weights: 70 on a 100-point scale
    assert reviewer_total([(D(1), D(20)), (D(1), D(80))], [D(18), D(40)]) == D("70.00")


def test_one_score_per_item_is_required():
    with pytest.raises(ValueError):
        reviewer_total(SHEET, [D(90)])


def test_the_plain_mean_keeps_every_reviewer():
    assert combine([D(90), D(80), D(70), D(60), D(10)], rule="mean") == (D("62.00"), 5)


def test_five_reviewers_lose_their_highest_and_lowest_under_the_trimmed_rule():
    # 去掉一个最高分 90 和一个最低分 10: (80 + 70 + 60) / 3 = 70
    assert combine([D(90), D(80), D(70), D(60), D(10)], rule="trimmed") == (D("70.00"), 3)


def test_four_reviewers_are_averaged_plainly_even_under_the_trimmed_rule():
    assert combine([D(90), D(80), D(70), D(10)], rule="trimmed") == (D("62.50"), 4)


def test_the_threshold_for_trimming_is_configurable():
    assert combine([D(90), D(80), D(70), D(10)], rule="trimmed", trim_from=4) == (D("75.00"), 2)


def test_no_reviews_give_no_score():
    assert combine([], rule="mean") == (None, 0)


def test_equal_scores_share_a_rank_and_the_next_rank_is_skipped():
    ranks = competition_ranks({1: D("88.5"), 2: D("91"), 3: D("88.5"), 4: D("70"), 5: None})
    assert ranks == {2: 1, 1: 2, 3: 2, 4: 4, 5: None}
