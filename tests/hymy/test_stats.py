"""hymy.stats and hymy.stats_compare: the interval, the comparison, Benjamini-Hochberg and the result type,
against textbook values and independent reference formulas (see test_stats_properties.py for the
simulations)."""

from __future__ import annotations

import json
import math
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from hymy.score import face_weights, score_counts, score_tally
from hymy.stats import (
    HIGHER,
    LOWER,
    TOO_FEW,
    USUAL,
    Sample,
    describe,
    design_effect,
    index_interval,
    pool,
    sample,
    sample_interval,
)
from hymy.stats_compare import (
    BASELINE_WEEKS,
    against_baseline,
    against_rest,
    baseline_days,
    benjamini_hochberg,
    compare,
    difference_interval,
    dispersion,
    judge,
    most_different,
    p_value,
)

Z95 = 1.959963984540054


def textbook_wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson (1927) as printed in Newcombe (1998), on 0-100."""
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return 100 * (centre - half), 100 * (centre + half)


counts_4 = st.lists(st.integers(0, 300), min_size=4, max_size=4)
scales_and_counts = st.sampled_from([3, 4, 5]).flatmap(
    lambda k: st.tuples(st.just(k), st.lists(st.integers(0, 300), min_size=k, max_size=k)))


# ----------------------------------------------------------------------------- the scoring hook


def test_face_weights_are_the_evenly_spaced_happy_index_weights():
    assert face_weights(3) == (0, 50, 100)
    assert face_weights(4) == pytest.approx((0, 100 / 3, 200 / 3, 100))
    assert face_weights(5) == (0, 25, 50, 75, 100)
    with pytest.raises(ValueError, match=r"scale: 6 is not valid; use 3, 4 or 5"):
        face_weights(6)


@given(scales_and_counts)
def test_sample_index_is_the_happy_index_of_hymy_score(case):
    scale, counts = case
    assert sample(counts, scale).index == pytest.approx(score_counts(counts, scale).happy_index)


def test_counts_may_be_a_database_s_decimal_sums():
    assert sample([Decimal(17), Decimal(16), 60, 126]) == sample([17, 16, 60, 126])


def test_samples_mix_scales_like_score_tally():
    tally = [(4, 4, 3), (5, 1, 1), (3, 2, 2)]
    assert Sample.from_tally(tally).index == pytest.approx(score_tally(tally).happy_index)


@pytest.mark.parametrize("counts,scale,message", [
    ([1, -1, 0, 0], 4, r"count: -1 is not valid"),
    ([1, 2.5, 0, 0], 4, r"count: 2.5 is not valid"),
    ([1, "3", 0, 0], 4, r"count: '3' is not valid"),
    ([1, True, 0, 0], 4, r"count: True is not valid"),
    ([1, 0, 0, 0, 4], 4, r"mood: 5 is not valid for scale 4"),
    ({0: 3}, 4, r"mood: 0 is not valid for scale 4"),
    ([1, 1], 2, r"scale: 2 is not valid"),
])
def test_bad_counts_are_refused_naming_the_field(counts, scale, message):
    with pytest.raises(ValueError, match=message):
        index_interval(counts, scale)


# ----------------------------------------------------------------------------- the interval


def test_yes_no_answers_give_exactly_the_textbook_wilson_interval():
    # Newcombe (1998), example 81 of 263: Wilson 0.2553 to 0.3662. Only the two end faces pressed, so
    # every press is 0 or 100 and the Happy Index is a proportion.
    low, high = index_interval([182, 0, 0, 81])
    assert (round(low / 100, 4), round(high / 100, 4)) == (0.2553, 0.3662)
    for successes, n in ((0, 10), (3, 10), (10, 10), (1, 5), (240, 300)):
        assert index_interval({1: n - successes, 3: successes}, 3) == pytest.approx(textbook_wilson(successes, n))


def test_all_happy_is_not_certain_with_few_presses():
    low, high = index_interval([0, 0, 0, 10])
    assert high == 100 and 70 < low < 75  # the textbook Wilson lower limit 72.2, not "100 (100-100)"
    low, high = index_interval([0, 0, 0, 1000])
    assert high == 100 and low > 99.5
    assert index_interval([10, 0, 0, 0]) == pytest.approx((0.0, 100 - 72.2467), abs=1e-3)


def test_happyornot_example_reads_78_between_74_and_82():
    low, high = index_interval([17, 16, 60, 126])
    assert (round(low), round(high)) == (74, 82)


def test_no_presses_give_the_whole_range():
    assert index_interval([0, 0, 0, 0]) == (0.0, 100.0)
    result = describe(Sample())
    assert result.index is None and result.to_json()["interval"] == [0, 100]


def test_narrower_than_the_worst_case_when_presses_are_in_the_middle():
    # 50 presses all on the two middle faces are far less spread than 50 yes/no answers with the same
    # index; the interval must use that (a plain Wilson interval would be much wider).
    low, high = index_interval([0, 25, 25, 0])
    wl, wh = textbook_wilson(25, 50)
    assert high - low < 0.5 * (wh - wl)


@pytest.mark.parametrize("level", [0, 1, 1.5, -0.2, "95%", True, None])
def test_a_bad_level_is_refused_naming_it(level):
    with pytest.raises(ValueError, match=r"level: .* is not valid; use a number between 0 and 1"):
        index_interval([1, 2, 3, 4], 4, level)


@given(scales_and_counts)
def test_interval_holds_the_index_within_0_100(case):
    scale, counts = case
    s = sample(counts, scale)
    low, high = sample_interval(s)
    assert 0.0 <= low <= high <= 100.0
    if s.n:
        assert low <= s.index <= high
        assert low < high  # never "certain"


@given(scales_and_counts)
def test_interval_mirrors_when_the_faces_are_mirrored(case):
    scale, counts = case
    low, high = index_interval(counts, scale)
    mirrored = index_interval(counts[::-1], scale)
    assert mirrored == pytest.approx((100 - high, 100 - low), abs=1e-9)


@given(scales_and_counts, st.floats(0.5, 0.99))
def test_a_higher_level_gives_a_wider_interval(case, level):
    scale, counts = case
    low, high = index_interval(counts, scale, level)
    wide_low, wide_high = index_interval(counts, scale, min(0.999, level + 0.005))
    assert wide_low <= low + 1e-12 and high <= wide_high + 1e-12


@given(counts_4.filter(lambda c: sum(c) > 0), st.integers(2, 20))
def test_more_presses_of_the_same_mix_narrow_the_interval(counts, factor):
    low, high = index_interval(counts)
    more_low, more_high = index_interval([c * factor for c in counts])
    assert more_high - more_low < high - low


@given(counts_4)
def test_design_effect_is_in_0_1_and_1_for_yes_no_answers(counts):
    assert 0.0 < design_effect(sample(counts)) <= 1.0
    assert design_effect(sample([counts[0], 0, 0, counts[3]])) == pytest.approx(1.0)


# ----------------------------------------------------------------------------- samples


@given(counts_4, counts_4)
def test_taking_a_sample_out_of_a_pool_gives_the_rest(a, b):
    sa, sb = sample(a), sample(b)
    rest = (sa + sb) - sb
    assert rest.n == sa.n
    assert rest.total == pytest.approx(sa.total, abs=1e-9)
    assert rest.squares == pytest.approx(sa.squares, abs=1e-9)
    assert pool([sa, sb]) == sa + sb


def test_taking_more_presses_than_there_are_is_refused():
    with pytest.raises(ValueError, match=r"n: cannot take 5 presses out of 3"):
        sample([0, 0, 0, 3]) - sample([5, 0, 0, 0])


# ----------------------------------------------------------------------------- the comparison


def reference_p(a: Sample, b: Sample) -> float:
    """The p-value by bisection on the level: where the difference's interval just reaches 0."""
    lo, hi = 0.0, 1.0 - 1e-15  # level
    if a.index == b.index:
        return 1.0
    lower = a.index < b.index
    for _ in range(200):
        mid = (lo + hi) / 2
        d_low, d_high = difference_interval(a, b, mid)
        excluded = d_high < 0 if lower else d_low > 0
        lo, hi = (mid, hi) if excluded else (lo, mid)
    return 1.0 - lo


@given(counts_4.filter(lambda c: sum(c) > 0), counts_4.filter(lambda c: sum(c) > 0))
def test_p_value_is_where_the_interval_of_the_difference_reaches_zero(a, b):
    sa, sb = sample(a), sample(b)
    p = p_value(sa, sb)
    assert 0.0 <= p <= 1.0
    assume(p > 1e-12)
    assert p == pytest.approx(reference_p(sa, sb), rel=1e-6, abs=1e-12)
    d_low, d_high = difference_interval(sa, sb, 0.95)
    if p < 0.05 - 1e-9:
        assert d_high < 0 or d_low > 0
    elif p > 0.05 + 1e-9:
        assert d_low <= 0 <= d_high


@given(counts_4.filter(lambda c: sum(c) > 0), counts_4.filter(lambda c: sum(c) > 0))
def test_p_value_does_not_depend_on_which_side_is_the_period_or_on_mirroring(a, b):
    p = p_value(sample(a), sample(b))
    assert p_value(sample(b), sample(a)) == pytest.approx(p, rel=1e-9, abs=1e-300)
    assert p_value(sample(a[::-1]), sample(b[::-1])) == pytest.approx(p, rel=1e-9, abs=1e-300)


def test_equal_indexes_are_not_different_and_empty_samples_cannot_be_compared():
    assert p_value(sample([0, 0, 0, 20]), sample([0, 0, 0, 200])) == 1.0
    with pytest.raises(ValueError, match=r"period, baseline: both need presses"):
        p_value(Sample(), sample([1, 1, 1, 1]))
    with pytest.raises(ValueError, match=r"dispersion: 0.5 is not valid"):
        p_value(sample([1, 1, 1, 1]), sample([1, 1, 1, 1]), 0.5)


def test_week_to_week_dispersion_makes_a_difference_less_surprising():
    period, baseline = sample([6, 5, 13, 16]), sample([120, 110, 480, 890])  # 66 against 78
    assert p_value(period, baseline) < 0.05 < p_value(period, baseline, dispersion=2.0)


def test_dispersion_is_one_for_steady_weeks_and_pearson_s_ratio_for_wobbling_ones():
    steady = [sample([2, 2, 6, 10])] * BASELINE_WEEKS
    assert dispersion([steady, steady]) == 1.0
    assert dispersion([]) == 1.0 and dispersion([[Sample()], [sample([1, 0, 0, 1])]]) == 1.0
    # weeks alternating 20 very unhappy / 20 very happy: mean 0.5, variance 0.25, 7 degrees of freedom
    wobbling = [sample([20, 0, 0, 0]) if w % 2 else sample([0, 0, 0, 20]) for w in range(8)]
    assert dispersion([wobbling]) == pytest.approx(8 * 20 * 0.25 / 0.25 / 7)


# ----------------------------------------------------------------------------- Benjamini-Hochberg


def test_benjamini_hochberg_on_their_1995_example_claims_the_first_four():
    pvalues = [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.3240, 0.4262,
               0.5719, 0.6528, 0.7590, 1.0]
    q = benjamini_hochberg(pvalues)
    assert [i for i, v in enumerate(q) if v <= 0.05] == [0, 1, 2, 3]
    assert sum(p <= 0.05 for p in pvalues) == 9  # what nine separate tests would have claimed


@given(st.lists(st.one_of(st.none(), st.floats(0.0, 1.0)), max_size=40))
def test_benjamini_hochberg_matches_its_definition(pvalues):
    q = benjamini_hochberg(pvalues)
    tested = [p for p in pvalues if p is not None]
    m = len(tested)
    for p, v in zip(pvalues, q, strict=True):
        if p is None:
            assert v is None
            continue
        # q_i = min over p_j >= p_i of p_j * m / rank(p_j), capped at 1
        ranks = sorted(tested)
        expected = min(min(1.0, pj * m / (ranks.index(pj) + ranks.count(pj))) for pj in tested if pj >= p)
        assert v == pytest.approx(expected, rel=1e-12, abs=1e-300)
        assert p <= v + 1e-15


@pytest.mark.parametrize("alpha", [0, 1, "5%", None])
def test_judge_refuses_a_bad_alpha_naming_it(alpha):
    with pytest.raises(ValueError, match=r"alpha: .* is not valid; use a number between 0 and 1, e.g. 0.05"):
        judge([], alpha=alpha)


def test_benjamini_hochberg_refuses_what_is_not_a_probability():
    with pytest.raises(ValueError, match=r"pvalues\[1\]: 1.2 is not a probability"):
        benjamini_hochberg([0.1, 1.2])


# ----------------------------------------------------------------------------- verdicts


def test_judge_says_too_few_usual_lower_and_higher():
    usual = sample([14, 13, 50, 105])  # index 78, like the baseline
    baseline = sample([140, 130, 500, 1050])
    pairs = [
        (sample([1, 0, 2, 10]), baseline),  # 13 presses
        (usual, sample([1, 1, 4, 10])),  # baseline of 16 presses
        (usual, baseline),
        (sample([30, 20, 30, 40]), baseline),
        (sample([0, 2, 20, 150]), baseline),
    ]
    verdicts = [r.verdict for r in judge(pairs)]
    assert verdicts == [TOO_FEW, TOO_FEW, USUAL, LOWER, HIGHER]
    results = judge(pairs, min_n=5)
    assert results[0].verdict != TOO_FEW and results[0].p is not None


def test_a_family_needs_stronger_evidence_than_one_comparison():
    period, baseline = sample([6, 5, 13, 16]), sample([120, 110, 480, 890])  # 66 against 78
    alone = judge([(period, baseline)])[0]
    assert alone.verdict == LOWER and alone.p < 0.05
    family = judge([(period, baseline)] + [(baseline, baseline)] * 20)  # 20 unremarkable hours beside it
    assert family[0].verdict == USUAL and family[0].q > 0.05 and family[0].p == alone.p


def test_result_json_has_the_documented_fields_rounded_as_shown():
    [result] = judge([(sample([30, 20, 30, 40]), sample([140, 130, 500, 1050]))])
    data = result.to_json()
    assert set(data) == {"n", "index", "interval", "level", "verdict", "p", "q", "baseline"}
    assert data["n"] == 120 and data["index"] == round(result.index) and data["verdict"] == LOWER
    assert data["interval"] == [int(result.low + 0.5), int(result.high + 0.5)]
    assert data["baseline"] == {"n": 1820, "index": 78}
    assert data["level"] == 0.95 and 0 < data["p"] <= data["q"] < 0.05
    assert json.loads(json.dumps(data)) == data
    plain = describe(sample([17, 16, 60, 126])).to_json()
    assert plain["index"] == 78 and plain["interval"] == [74, 82] and plain["verdict"] is None
    assert plain["baseline"] is None and plain["p"] is None


def test_against_baseline_pools_each_period_s_weeks_and_checks_lengths():
    weeks = [[sample([2, 2, 6, 10]), sample([1, 3, 7, 9])] * 4, [sample([2, 2, 6, 10])] * 8]
    results = against_baseline([sample([12, 4, 2, 2]), sample([2, 2, 6, 10])], weeks, min_n=10)
    assert [r.verdict for r in results] == [LOWER, USUAL]
    assert results[0].baseline_n == 160
    with pytest.raises(ValueError, match=r"baselines: 1 given for 2 periods"):
        against_baseline([Sample(), Sample()], [[]])


def test_compare_judges_one_period_against_its_weeks():
    weeks = [sample([12, 11, 40, 82]), sample([14, 12, 45, 85])] * 4  # about 78
    today = compare(sample([12, 8, 10, 20]), weeks)
    assert today.verdict == LOWER and today.q == today.p and today.baseline_n == 4 * (145 + 156)
    assert compare(sample([3, 2, 8, 17]), weeks).verdict == USUAL
    assert compare(sample([1, 1, 2, 6]), weeks).verdict == TOO_FEW
    assert compare(sample([3, 2, 8, 17]), []).verdict == TOO_FEW  # no baseline yet (a new store)


def test_against_rest_finds_the_hour_that_is_worse_than_the_rest_of_the_week():
    good = [sample([2, 2, 6, 10])] * 8
    bad = [sample([8, 4, 4, 4])] * 8
    results = against_rest([good] * 2 + [bad] + [good] * 17)
    assert [r.verdict for r in results] == [USUAL] * 2 + [LOWER] + [USUAL] * 17
    assert results[2].baseline_n == 19 * 8 * 20
    assert most_different(results) == 2


def test_most_different_names_nothing_when_nothing_differs():
    results = judge([(sample([2, 2, 6, 10]), sample([20, 20, 60, 100]))] * 3)
    assert most_different(results) is None
    assert most_different([]) is None


# ----------------------------------------------------------------------------- the baseline window


def test_baseline_is_the_same_weekday_of_the_previous_eight_weeks():
    tuesday = date(2026, 3, 31)  # the first Tuesday after the spring DST change in Europe
    days = baseline_days(tuesday)
    assert len(days) == 8 and days[0] == date(2026, 3, 24) and days[-1] == date(2026, 2, 3)
    assert {d.weekday() for d in days} == {tuesday.weekday()}
    assert baseline_days(date(2026, 1, 6), weeks=2) == [date(2025, 12, 30), date(2025, 12, 23)]
    assert all(a - b == timedelta(weeks=1) for a, b in zip(days, days[1:], strict=False))
    with pytest.raises(ValueError, match=r"weeks: 0 is not valid"):
        baseline_days(tuesday, weeks=0)


@pytest.mark.parametrize("scale, counts", [(4, [17, 16, 60, 126]), (5, [0, 3, 0, 0, 9]), (3, [0, 0, 0]), (5, [4, 1]),
                                           (4, [10**9, 1, 0, 7])])
def test_sample_from_faces_is_from_tally_to_the_last_bit(scale, counts):
    """The heat map's many small groups are taken per face without a tally: the same sums exactly."""
    tally = [(scale, m, c) for m, c in enumerate(counts, 1) if c]
    assert Sample.from_faces(scale, counts) == Sample.from_tally(tally)


@pytest.mark.parametrize("scale, counts, names", [(6, [1], "scale"), (4, [1, 2, 3, 4, 5], "counts"),
                                                  (4, [1, -2], "count"), (4, [1.5], "count"), (4, [True], "count")])
def test_sample_from_faces_names_what_is_wrong(scale, counts, names):
    with pytest.raises(ValueError, match=names):
        Sample.from_faces(scale, counts)
