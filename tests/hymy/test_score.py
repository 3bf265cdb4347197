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
