import pytest

from hymy.score import LOW_CONFIDENCE_N, score_counts, score_tally


def test_happy_index_matches_happyornot_published_four_face_example():
    # 126 very happy, 60 happy, 16 unhappy, 17 very unhappy -> 78 (most negative first here)
    score = score_counts([17, 16, 60, 126], scale=4)
    assert score.index_rounded == 78
    assert score.n == 219
    assert score.positive_pct == pytest.approx(100 * 186 / 219)


def test_happy_index_matches_happyornot_published_five_face_example():
    score = score_counts([4, 2, 12, 23, 51], scale=5)
    assert score.index_rounded == 81
    # the neutral middle face is neither positive nor negative
    assert score.positive_pct == pytest.approx(100 * 74 / 92)
    assert score.negative_pct == pytest.approx(100 * 6 / 92)


def test_three_faces_use_weights_0_50_100():
    assert score_counts({1: 1, 2: 1, 3: 1}, scale=3).happy_index == pytest.approx(50)
    assert score_counts({3: 5}, scale=3).happy_index == 100


def test_no_presses_give_no_index_and_low_confidence():
    score = score_counts({}, scale=4)
    assert score.n == 0 and score.happy_index is None and score.index_rounded is None
    assert score.low_confidence


def test_low_confidence_below_twenty_presses():
    assert score_counts({4: LOW_CONFIDENCE_N - 1}).low_confidence
    assert not score_counts({4: LOW_CONFIDENCE_N}).low_confidence


def test_mixed_scales_average_on_the_common_0_100_scale():
    score = score_tally([(4, 4, 1), (5, 1, 1)])
    assert score.happy_index == pytest.approx(50)


@pytest.mark.parametrize("mood,scale", [(0, 4), (5, 4), (6, 5), (1, 2), (1, 6)])
def test_mood_outside_scale_is_refused_with_a_message(mood, scale):
    with pytest.raises(ValueError, match=r"(mood|scale): "):
        score_counts({mood: 1}, scale=scale)


from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from hymy.score import is_negative, is_positive, mood_weight  # noqa: E402


@given(scale=st.sampled_from([3, 4, 5]), counts=st.lists(st.integers(0, 10_000), min_size=5, max_size=5))
def test_score_properties(scale, counts):
    counts = counts[:scale]
    score = score_counts(counts, scale=scale)
    assert score.n == sum(counts)
    if score.n:
        assert 0 <= score.happy_index <= 100
        assert score.positive_pct + score.negative_pct <= 100 + 1e-9
        # all presses on one face give that face's weight exactly
        top = score_counts({scale: score.n}, scale=scale)
        assert top.happy_index == 100 and top.positive_pct == 100
    else:
        assert score.happy_index is None and score.positive_pct is None


@pytest.mark.parametrize("scale", [3, 4, 5])
def test_weights_are_evenly_spaced_and_faces_split_around_the_middle(scale):
    weights = [mood_weight(m, scale) for m in range(1, scale + 1)]
    assert weights[0] == 0 and weights[-1] == 100
    steps = {round(b - a, 9) for a, b in zip(weights, weights[1:], strict=False)}
    assert len(steps) == 1
    positive = [m for m in range(1, scale + 1) if is_positive(m, scale)]
    negative = [m for m in range(1, scale + 1) if is_negative(m, scale)]
    assert len(positive) == len(negative) == scale // 2


def test_index_rounds_halves_up():
    assert score_counts({1: 1, 2: 1}, scale=3).index_rounded == 25
    assert score_counts({2: 1, 3: 1}, scale=5).index_rounded == 38  # 37.5 -> 38
