"""Honest numbers: how a period's figures are shown to a manager.

Pure: counts in, a :class:`Figure` out. The rules (see docs/dashboard.md):

- N is always shown, beside every index.
- Below ``hymy.score.LOW_CONFIDENCE_N`` (20) counted presses the figure is *low confidence*: pages show it
  pale and marked instead of as a headline, and comparisons with it are not drawn.
- Flagged presses (repeat, outside opening hours, voided in maintenance) are never counted; their number
  is shown separately as "filtered".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from hymy.score import LOW_CONFIDENCE_N, Score, is_negative, is_positive, score_tally


@dataclass(frozen=True, slots=True)
class Figure:
    """One period's result as a page shows it.

    ``counts`` are counted presses per face, most negative first (length = ``scale``);
    ``filtered`` the flagged presses, kept but not counted.
    """

    scale: int
    counts: tuple[int, ...]
    filtered: int = 0
    score: Score = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.score is None:
            object.__setattr__(
                self, "score", score_tally((self.scale, m, c) for m, c in enumerate(self.counts, start=1))
            )

    @property
    def n(self) -> int:
        return self.score.n

    @property
    def index(self) -> int | None:
        """Happy Index 0-100, rounded as people see it; None without presses."""
        return self.score.index_rounded

    @property
    def low_confidence(self) -> bool:
        return self.score.low_confidence

    @property
    def positive_pct(self) -> int | None:
        p = self.score.positive_pct
        return None if p is None else int(p + 0.5)

    @property
    def negative_pct(self) -> int | None:
        p = self.score.negative_pct
        return None if p is None else int(p + 0.5)

    @property
    def negative(self) -> int:
        return sum(c for m, c in enumerate(self.counts, 1) if is_negative(m, self.scale))

    @property
    def positive(self) -> int:
        return sum(c for m, c in enumerate(self.counts, 1) if is_positive(m, self.scale))

    def to_json(self) -> dict:
        return {
            "n": self.n,
            "index": self.index,
            "positive_pct": self.positive_pct,
            "counts": list(self.counts),
            "scale": self.scale,
            "filtered": self.filtered,
            "low_confidence": self.low_confidence,
        }


def figure(counts: Mapping[int, int] | Sequence[int], scale: int = 4, filtered: int = 0) -> Figure:
    """A :class:`Figure` from counts per mood (a ``{mood: count}`` mapping or a list, most negative first)."""
    if isinstance(counts, Mapping):
        seq = tuple(int(counts.get(m, 0)) for m in range(1, scale + 1))
    else:
        seq = tuple(int(c) for c in counts)
        if len(seq) != scale:
            raise ValueError(f"counts: {len(seq)} values given for scale {scale}; give one per face")
    return Figure(scale=scale, counts=seq, filtered=int(filtered))


@dataclass(frozen=True, slots=True)
class Delta:
    """The change of the Happy Index against an earlier period.

    ``points`` is None when either side has too few presses to compare honestly (``reason`` says which).
    """

    points: int | None
    reason: str | None = None  # "no_data" | "low_confidence"

    @property
    def direction(self) -> str:
        if self.points is None or self.points == 0:
            return "flat"
        return "up" if self.points > 0 else "down"


def delta(now: Figure, before: Figure) -> Delta:
    """Index points ``now - before``; no number when either side is empty or low confidence."""
    if now.index is None or before.index is None:
        return Delta(None, "no_data")
    if now.low_confidence or before.low_confidence:
        return Delta(None, "low_confidence")
    return Delta(now.index - before.index)


def merge(figures: Sequence[Figure]) -> Figure:
    """Sum figures of the same scale (several days or hours) into one."""
    if not figures:
        return figure([0, 0, 0, 0], 4)
    scale = figures[0].scale
    if any(f.scale != scale for f in figures):
        # Mixed scales: score by tally, show counts of the most common scale only.
        tally = [(f.scale, m, c) for f in figures for m, c in enumerate(f.counts, 1)]
        return Figure(scale=scale, counts=tuple(sum(f.counts[i] for f in figures if f.scale == scale)
                                                for i in range(scale)),
                      filtered=sum(f.filtered for f in figures), score=score_tally(tally))
    counts = tuple(sum(f.counts[i] for f in figures) for i in range(scale))
    return Figure(scale=scale, counts=counts, filtered=sum(f.filtered for f in figures))


__all__ = ["Figure", "Delta", "figure", "delta", "merge", "LOW_CONFIDENCE_N"]
