"""Honest statistics, part 1: how sure a Happy Index is (its uncertainty interval) and the result type.

Pure: standard library only, no I/O. The method, its assumptions and its measured coverage are in
docs/statistics.md; in short:

- The Happy Index is the mean of the presses' face weights (``hymy.score.face_weights``). A press's
  weight lies in [0, 1] (0-100 shown), so the variance of a press is at most ``θ(1 - θ)`` for an index
  ``θ`` (Bhatia-Davis); it equals that only when every press is at an end (a yes/no question).
- The interval is Wilson's score interval for a proportion, computed at an *effective sample size*
  ``N / φ`` where ``φ = variance / (θ(1 - θ))`` is the sample's design effect (Kish). ``φ`` is estimated
  with half a pseudo-press added at each end, so an all-happy sample (no spread seen) falls back to the
  plain Wilson interval instead of a zero-width one.

Comparisons against a baseline and Benjamini-Hochberg are in :mod:`hymy.stats_compare`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from statistics import NormalDist

from hymy.score import SCALES, check_mood, face_weights, tally_counts

#: Level of the intervals shown beside each index (95 %).
DEFAULT_LEVEL = 0.95
#: Pseudo-presses added at *each* end (weight 0 and weight 1) when estimating the spread only.
PSEUDO_PRESSES = 0.5

LOWER, HIGHER, USUAL, TOO_FEW = "lower", "higher", "usual", "too_few"
#: Every verdict a comparison can give (``None`` means "not compared").
VERDICTS = (LOWER, HIGHER, USUAL, TOO_FEW)


@dataclass(frozen=True, slots=True)
class Sample:
    """What the statistics need from a period's presses: N and the sums of the weights and their squares.

    Weights are on the 0-1 scale (a press on the happiest face is 1). Samples of different scales can be
    added, like ``hymy.score.score_tally`` mixes scales.
    """

    n: int = 0
    total: float = 0.0
    squares: float = 0.0

    @classmethod
    def from_tally(cls, tally: Iterable[tuple[int, int, int]]) -> Sample:
        """From ``(scale, mood, count)`` triples (moods 1..scale, 1 = most negative)."""
        n, total, squares = 0, 0.0, 0.0
        for scale, mood, count in tally:
            weights = _UNIT_WEIGHTS.get(scale) or face_weights(scale)  # (the latter raises, naming the scales)
            if type(mood) is not int or not 1 <= mood <= scale:
                check_mood(mood, scale)  # raises, naming the mood and the valid range
            if type(count) is not int or count < 0:  # a database's Decimal sum is taken when whole
                whole = _whole(count)
                if whole is None or whole < 0:
                    raise ValueError(f"count: {count!r} is not valid; use a whole number >= 0")
                count = whole
            w = weights[mood - 1]
            n += count
            total += w * count
            squares += w * w * count
        return cls(n, total, squares)

    @classmethod
    def from_faces(cls, scale: int, counts: Sequence[int]) -> Sample:
        """From one scale's counts per mood, most negative first (whole numbers >= 0): the same sums, to the
        last bit, as :meth:`from_tally` of the faces that have presses, for readers that sum a great many
        small groups (a year's heat map is some 5,000)."""
        weights = _UNIT_WEIGHTS.get(scale) or face_weights(scale)  # (the latter raises, naming the scales)
        if len(counts) > scale:
            raise ValueError(f"counts: {len(counts)} given for scale {scale}; give at most one per face")
        n, total, squares = 0, 0.0, 0.0
        for w, count in zip(weights, counts):  # noqa: B905 (fewer counts than faces: the rest had none)
            if count:
                if type(count) is not int or count < 0:
                    return cls.from_tally((scale, m, c) for m, c in enumerate(counts, 1) if c)  # it names the count
                n += count
                total += w * count
                squares += w * w * count
        return cls(n, total, squares)

    @property
    def index(self) -> float | None:
        """The Happy Index, 0-100 (unrounded); None without presses."""
        return None if not self.n else 100.0 * self.total / self.n

    @property
    def variance(self) -> float:
        """Variance of one press's weight (0-0.25; divided by N, not N - 1); 0 without presses."""
        if not self.n:
            return 0.0
        mean = self.total / self.n
        return max(0.0, self.squares / self.n - mean * mean)

    def __add__(self, other: Sample) -> Sample:
        return Sample(self.n + other.n, self.total + other.total, self.squares + other.squares)

    def __sub__(self, other: Sample) -> Sample:
        """The presses of ``self`` that are not in ``other`` (``other`` must be part of ``self``)."""
        n = self.n - other.n
        if n < 0:
            raise ValueError(f"n: cannot take {other.n} presses out of {self.n}")
        if n == 0:
            return Sample()
        # Clamp away rounding: weights lie in [0, 1], so total <= n and total²/n <= squares <= total.
        total = min(max(0.0, self.total - other.total), float(n))
        squares = min(max(total * total / n, self.squares - other.squares), total)
        return Sample(n, total, squares)


#: Each scale's face weights on the 0-1 scale (``hymy.score.face_weights`` / 100), worked out once.
_UNIT_WEIGHTS = {scale: tuple(w / 100.0 for w in face_weights(scale)) for scale in SCALES}


def _whole(value: object) -> int | None:
    """``value`` as an int when it is a whole number (an int, or a database's Decimal sum); else None."""
    if isinstance(value, bool):
        return None
    try:
        whole = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None
    return whole if whole == value else None


def sample(counts: Mapping[int, int] | Sequence[int], scale: int = 4) -> Sample:
    """A :class:`Sample` from counts per mood: ``{mood: count}`` or a sequence, most negative first."""
    return Sample.from_tally(tally_counts(counts, scale))


def pool(samples: Iterable[Sample]) -> Sample:
    """All presses of several samples (weeks, hours, stores) as one."""
    n, total, squares = 0, 0.0, 0.0
    for s in samples:
        n, total, squares = n + s.n, total + s.total, squares + s.squares
    return Sample(n, total, squares)


@lru_cache(maxsize=64)
def z_value(level: float) -> float:
    """The two-sided standard normal quantile for ``level`` (0.95 -> 1.95996...)."""
    check_fraction("level", level, 0.95)
    return NormalDist().inv_cdf(0.5 + level / 2.0)


def check_fraction(name: str, value: object, example: float) -> None:
    """Raise ValueError naming ``name`` unless ``value`` is a number strictly between 0 and 1."""
    if not isinstance(value, float | int) or isinstance(value, bool) or not 0.0 < value < 1.0:
        raise ValueError(f"{name}: {value!r} is not valid; use a number between 0 and 1, e.g. {example}")


def design_effect(s: Sample) -> float:
    """``φ`` in (0, 1]: the press variance relative to its maximum ``θ(1 - θ)`` for the sample's mean.

    Estimated with :data:`PSEUDO_PRESSES` added at weight 0 and at weight 1, so it is never 0: a sample
    with no visible spread (all on one face) gets ``φ`` = 1, the plain Wilson (yes/no) case.
    """
    a = PSEUDO_PRESSES
    size = s.n + 2.0 * a
    mean = (s.total + a) / size
    variance = (s.squares + a) / size - mean * mean
    return min(1.0, max(variance / (mean * (1.0 - mean)), 1e-9))


def wilson(mean: float, n_eff: float, z: float) -> tuple[float, float]:
    """Wilson's score interval (0-1) for a mean ``mean`` (0-1) of ``n_eff`` effective presses at quantile ``z``.

    ``n_eff`` 0 gives (0, 1): without presses every index is possible.
    """
    if n_eff <= 0.0:
        return 0.0, 1.0
    z2n = z * z / n_eff
    denom = 1.0 + z2n
    centre = (mean + z2n / 2.0) / denom
    half = z / denom * math.sqrt(max(0.0, mean * (1.0 - mean)) / n_eff + z2n / (4.0 * n_eff))
    # The interval always holds the mean and reaches the end it sits on; say so exactly despite rounding.
    low = 0.0 if mean <= 0.0 else min(mean, max(0.0, centre - half))
    high = 1.0 if mean >= 1.0 else max(mean, min(1.0, centre + half))
    return low, high


def effective_n(s: Sample, dispersion: float = 1.0) -> float:
    """``N / (φ · dispersion)``: how many yes/no presses would carry the same information."""
    return s.n / (design_effect(s) * dispersion) if s.n else 0.0


def sample_interval(s: Sample, level: float = DEFAULT_LEVEL) -> tuple[float, float]:
    """The ``level`` interval (0-100) of a sample's Happy Index; (0, 100) without presses."""
    z = z_value(level)
    if not s.n:
        return 0.0, 100.0
    low, high = wilson(s.total / s.n, effective_n(s), z)
    return 100.0 * low, 100.0 * high


def index_interval(counts: Mapping[int, int] | Sequence[int], scale: int = 4,
                   level: float = DEFAULT_LEVEL) -> tuple[float, float]:
    """The uncertainty interval (0-100) of the Happy Index of ``counts`` (per mood, most negative first).

    ``level`` is the confidence level, default 0.95; (0, 100) when there are no presses.

    >>> [round(b, 1) for b in index_interval([17, 16, 60, 126])]  # index 78.3
    [73.9, 82.0]
    >>> [round(b, 1) for b in index_interval([0, 0, 0, 10])]
    [72.2, 100.0]
    """
    return sample_interval(sample(counts, scale), level)


def _shown(value: float) -> int:
    """Rounded as people see an index: halves up (78.5 -> 79), like ``hymy.score.Score.index_rounded``."""
    return int(value + 0.5)


@dataclass(frozen=True, slots=True)
class IndexResult:
    """A Happy Index as the manager API returns it: the figure, how sure it is, and its comparison.

    ``index``, ``low`` and ``high`` are 0-100 (unrounded; :meth:`to_json` rounds them). ``verdict`` is
    one of :data:`VERDICTS` or None when the index was not compared; ``p`` is the comparison's p-value
    and ``q`` the Benjamini-Hochberg adjusted one over its family (None when not tested).
    """

    n: int
    index: float | None
    low: float
    high: float
    level: float = DEFAULT_LEVEL
    verdict: str | None = None
    p: float | None = None
    q: float | None = None
    baseline_n: int | None = None
    baseline_index: float | None = None

    def to_json(self) -> dict:
        """The documented JSON form (docs/statistics.md, "API fields").

        ``index`` and the ``interval`` bounds are rounded as shown (whole points, halves up).
        """
        return {
            "n": self.n,
            "index": None if self.index is None else _shown(self.index),
            "interval": [_shown(self.low), _shown(self.high)],
            "level": self.level,
            "verdict": self.verdict,
            "p": self.p,
            "q": self.q,
            "baseline": None if self.baseline_n is None else {
                "n": self.baseline_n,
                "index": None if self.baseline_index is None else _shown(self.baseline_index),
            },
        }


def describe(s: Sample, level: float = DEFAULT_LEVEL) -> IndexResult:
    """The index of ``s`` with its interval, not compared with anything (``verdict`` None)."""
    low, high = sample_interval(s, level)
    return IndexResult(n=s.n, index=s.index, low=low, high=high, level=level)


__all__ = ["DEFAULT_LEVEL", "VERDICTS", "LOWER", "HIGHER", "USUAL", "TOO_FEW", "Sample", "IndexResult",
           "sample", "pool", "index_interval", "sample_interval", "describe", "design_effect", "wilson",
           "effective_n", "z_value", "check_fraction"]
