"""Happy Index, share of positive presses and N: computed here once for device and server.

The Happy Index is the arithmetic mean of the presses on a 0-100 scale with evenly spaced weights,
compatible with HappyOrNot's published figures: on 4 faces the weights are 0, 33.3, 66.7 and 100
(126/60/16/17 presses, very happy first, give 78); on 5 faces 0, 25, 50, 75, 100 (51/23/12/2/4 give 81).
Moods are numbered 1..scale, 1 being the most negative face. Flagged presses never reach these
functions: callers count only presses without flags.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

SCALES = (3, 4, 5)
#: Below this many counted presses a figure is shown as low confidence, not as a headline.
LOW_CONFIDENCE_N = 20


def check_mood(mood: int, scale: int) -> None:
    """Raise ValueError unless ``scale`` is 3, 4 or 5 and ``1 <= mood <= scale``."""
    if scale not in SCALES:
        raise ValueError(f"scale: {scale!r} is not valid; use 3, 4 or 5")
    if not isinstance(mood, int) or isinstance(mood, bool) or not 1 <= mood <= scale:
        raise ValueError(f"mood: {mood!r} is not valid for scale {scale}; use 1..{scale} (1 = most negative)")


def mood_weight(mood: int, scale: int) -> float:
    """The press's value on the 0-100 scale (1 -> 0, scale -> 100, evenly spaced between)."""
    check_mood(mood, scale)
    return (mood - 1) * 100.0 / (scale - 1)


def face_weights(scale: int) -> tuple[float, ...]:
    """Each face's value on the 0-100 scale, most negative first: (0, 50, 100) on 3 faces, (0, 33.3,
    66.7, 100) on 4, (0, 25, 50, 75, 100) on 5. The one place the weights are defined (``hymy.stats``
    reads them too); raises ValueError for a scale other than 3, 4 or 5."""
    weights = _WEIGHTS.get(scale)
    if weights is None:
        check_mood(1, scale)  # raises, naming the valid scales
    return weights


def is_positive(mood: int, scale: int) -> bool:
    """True for faces above the middle (on 5 faces the neutral middle face is neither)."""
    return 2 * mood > scale + 1


def is_negative(mood: int, scale: int) -> bool:
    """True for faces below the middle (on 4 faces: the two unhappy ones)."""
    return 2 * mood < scale + 1


_WEIGHTS = {scale: tuple(mood_weight(mood, scale) for mood in range(1, scale + 1)) for scale in SCALES}


@dataclass(frozen=True, slots=True)
class Score:
    """What a period looks like: N, the Happy Index (0-100) and the share of positive presses (%).

    ``happy_index`` and ``positive_pct`` are None when N is 0; ``low_confidence`` is True when
    N < LOW_CONFIDENCE_N, so pages mark the figure instead of shouting it.
    """

    n: int
    happy_index: float | None
    positive_pct: float | None
    negative_pct: float | None

    @property
    def low_confidence(self) -> bool:
        return self.n < LOW_CONFIDENCE_N

    @property
    def index_rounded(self) -> int | None:
        """The index as shown to people: a whole number, halves rounded up (78.5 -> 79)."""
        return None if self.happy_index is None else int(self.happy_index + 0.5)


#: ``(scale, mood) -> (weight, positive, negative)`` of every valid face: results pages score a year of
#: days per request, so each face is worked out once here.
_FACES = {(scale, mood): (mood_weight(mood, scale), is_positive(mood, scale), is_negative(mood, scale))
          for scale in SCALES for mood in range(1, scale + 1)}


def score_tally(tally: Iterable[tuple[int, int, int]]) -> Score:
    """Score from ``(scale, mood, count)`` triples; stores with different scales may be mixed."""
    n = pos = neg = 0
    total = 0.0
    for scale, mood, count in tally:
        if count < 0:
            raise ValueError(f"count: {count!r} is negative")
        if not count:
            continue
        face = _FACES.get((scale, mood)) if type(mood) is int else None
        if face is None:
            check_mood(mood, scale)  # raises, naming what is wrong
        weight, positive, negative = face
        n += count
        total += weight * count
        if positive:
            pos += count
        elif negative:
            neg += count
    if n == 0:
        return Score(0, None, None, None)
    return Score(n, total / n, 100.0 * pos / n, 100.0 * neg / n)


def score_counts(counts: Mapping[int, int] | Iterable[int], scale: int = 4) -> Score:
    """Score from counts per mood: a mapping ``{mood: count}`` or a sequence, most negative first.

    >>> score_counts([17, 16, 60, 126]).index_rounded
    78
    """
    return score_tally(tally_counts(counts, scale))


def tally_counts(counts: Mapping[int, int] | Iterable[int], scale: int) -> Iterator[tuple[int, int, int]]:
    """``(scale, mood, count)`` triples from counts per mood: a mapping ``{mood: count}`` or a sequence,
    most negative first (the form :func:`score_tally` and ``hymy.stats`` take)."""
    items = counts.items() if isinstance(counts, Mapping) else enumerate(counts, start=1)
    return ((scale, mood, count) for mood, count in items)
