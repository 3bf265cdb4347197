import pytest

from server.dashboard.honest import delta, figure, merge


def test_figure_happyornot_example():
    f = figure([17, 16, 60, 126], 4, filtered=7)
    assert (f.n, f.index, f.filtered, f.low_confidence) == (219, 78, 7, False)
    assert f.to_json()["counts"] == [17, 16, 60, 126]


def test_figure_low_confidence_below_20():
    assert figure({1: 19}, 4).low_confidence
    assert not figure({4: 20}, 4).low_confidence
    empty = figure([0, 0, 0], 3)
    assert empty.index is None and empty.n == 0 and empty.low_confidence


def test_figure_rejects_wrong_count_length():
    with pytest.raises(ValueError, match="one per face"):
        figure([1, 2, 3], 4)


def test_delta_only_between_confident_figures():
    a, b = figure([0, 0, 10, 30], 4), figure([0, 10, 10, 20], 4)
    d = delta(a, b)
    assert d.points == a.index - b.index and d.direction == "up"
    assert delta(a, figure([0, 0, 0, 5], 4)).reason == "low_confidence"
    assert delta(a, figure([0, 0, 0, 0], 4)).reason == "no_data"


def test_merge_sums_counts_and_filtered():
    m = merge([figure([1, 2, 3, 4], 4, 1), figure([4, 3, 2, 1], 4, 2)])
    assert m.counts == (5, 5, 5, 5) and m.filtered == 3 and m.n == 20
    assert merge([]).n == 0
