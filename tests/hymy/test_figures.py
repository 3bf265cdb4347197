"""hymy.figures: the one figure type every results reader returns (pure, no database)."""

import pytest

from hymy.figures import Figure, empty, figure, from_rows, merge, sample_of_rows
from hymy.score import score_tally
from hymy.stats import index_interval


def test_figure_happyornot_example():
    f = figure([17, 16, 60, 126], 4, filtered=7)
    assert (f.n, f.index, f.filtered, f.low_confidence) == (219, 78, 7, False)
    assert f.counts == (17, 16, 60, 126) and f.scale == 4
    assert f.to_json() == {"n": 219, "counts": {"1": 17, "2": 16, "3": 60, "4": 126}, "scales": [4],
                           "happy_index": 78.2, "positive_pct": 84.9, "negative_pct": 15.1, "low_confidence": False,
                           "filtered": 7, "index": 78, "scale": 4, "interval": [74, 82], "level": 0.95,
                           "verdict": None, "p": None, "q": None, "baseline": None}


def test_figure_low_confidence_below_20():
    assert figure({1: 19}, 4).low_confidence
    assert not figure({4: 20}, 4).low_confidence
    none = figure([0, 0, 0], 3)
    assert none.index is None and none.n == 0 and none.low_confidence
    assert none.to_json()["counts"] == {} and none.to_json()["scales"] == [] and none.to_json()["happy_index"] is None


def test_figure_rejects_wrong_count_length():
    with pytest.raises(ValueError, match="one per face"):
        figure([1, 2, 3], 4)


def test_every_figure_carries_its_95_percent_interval_rounded_as_shown():
    """The interval is hymy.stats' (one place), whole points halves up like the index, and holds it."""
    f = figure([17, 16, 60, 126], 4)
    low, high = index_interval([17, 16, 60, 126], 4)
    assert f.interval == (int(low + 0.5), int(high + 0.5)) == (74, 82)
    assert f.interval[0] <= f.index <= f.interval[1]
    assert figure([0, 0, 0, 0], 4).interval is None
    small = figure([0, 0, 1, 2], 4)
    assert small.interval[1] - small.interval[0] > 30  # three presses: a wide range, said so
    two = from_rows([(4, 1, 2, 0), (5, 5, 10, 0)])  # two scales: every press counts
    assert two.sample.n == 12 and two.interval[0] <= two.index <= two.interval[1]


def test_merge_sums_counts_and_filtered():
    m = merge([figure([1, 2, 3, 4], 4, 1), figure([4, 3, 2, 1], 4, 2)])
    assert m.counts == (5, 5, 5, 5) and m.filtered == 3 and m.n == 20
    assert merge([]).n == 0 and merge([]) == empty(4)


def test_a_period_of_two_scales_keeps_every_press_and_scores_them_exactly():
    """A store whose question went from 4 to 5 faces, or a region of stores with 3 and 5 faces: the face
    bar shows the scale with most presses, the score and the counts per mood count all of them."""
    rows = [(4, 1, 2, 1), (4, 4, 3, 0), (5, 5, 10, 2), (5, 3, 1, 0)]
    f = from_rows(rows)
    assert f.scale == 5 and f.counts == (0, 0, 1, 0, 10) and f.other == ((4, 1, 2), (4, 4, 3))
    assert f.n == 16 and f.filtered == 3 and f.scales == [4, 5]
    assert f.score == score_tally((s, m, c) for s, m, c, _ in rows)
    assert f.by_mood() == {1: 2, 4: 3, 3: 1, 5: 10}
    assert f.negative == 2 and f.positive == 13  # 4-face mood 1; 4-face mood 4 and 5-face mood 5


def test_merging_days_of_different_scales_is_exact():
    """Two days with one scale each, and a day with both: the sum is the same as scoring every press."""
    day3 = figure([1, 0, 4], 3, filtered=1)
    day5 = figure([0, 0, 0, 2, 7], 5)
    both = from_rows([(3, 3, 2, 0), (5, 1, 1, 0)])
    total = merge([day3, day5, both])
    assert total.n == 17 and total.filtered == 1
    assert total.score == score_tally([(3, 1, 1), (3, 3, 6), (5, 4, 2), (5, 5, 7), (5, 1, 1)])
    assert total.to_json()["counts"] == {"1": 2, "3": 6, "4": 2, "5": 7}
    assert merge([total]) is total


def test_from_rows_without_counted_presses_keeps_their_scale_and_filtered():
    assert from_rows([]) == empty(4)
    only_flagged = from_rows([(5, 2, 0, 3)])
    assert only_flagged.scale == 5 and only_flagged.n == 0 and only_flagged.filtered == 3
    assert isinstance(only_flagged, Figure)


@pytest.mark.parametrize("rows", [
    [],
    [(4, 2, 0, 5)],  # only filtered presses
    [(4, 4, 7, 0), (4, 1, 3, 1), (4, 4, 2, 0), (4, 3, 0, 2)],  # one face in two rows, a face without counted
    [(5, 5, 10, 0), (4, 1, 2, 0), (3, 2, 1, 4), (4, 1, 1, 0), (5, 1, 3, 0)],  # three scales, out of order
    [(4, m, 1000 + 37 * m * m, 0) for m in (3, 1, 4, 2)] * 3,
])
def test_sample_of_rows_is_the_figures_own_sample_to_the_last_bit(rows):
    """Today's table judges samples read without building figures: they must be the figures' samples
    exactly (==, not approximately), whatever the rows' order, duplicates and scales."""
    assert sample_of_rows(rows) == from_rows(rows).sample
    assert sample_of_rows(list(reversed(rows))) == from_rows(rows).sample
