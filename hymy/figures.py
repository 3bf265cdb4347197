"""One period's result, the one figure type of every results reader (manager API, CSV, reports,
dashboard; the kiosk may use it too): counted presses per face, the flagged presses, and the score.

Pure: standard library and ``hymy.score`` only. How a figure is shown honestly (docs/dashboard.md):

- N is always shown beside the index;
- every index is shown with its 95 % uncertainty interval (:attr:`Figure.interval`, ``hymy.stats``);
- below ``hymy.score.LOW_CONFIDENCE_N`` (20) counted presses a figure is *low confidence*: pages show it
  pale, and "lower / higher than usual" is said only when ``hymy.stats_compare`` finds it (never from
  two raw indexes: a raw difference is mostly chance);
- flagged presses (repeat, outside opening hours, voided in maintenance) are never counted; their number
  is kept beside the counts as ``filtered``.

A period may hold presses on several scales (a store whose question changed from 4 to 5 faces, or a
region of stores with different scales): the figure keeps every ``(scale, mood, count)`` (``tally``), so
merging and scoring stay exact; ``scale`` and ``counts`` are those of the scale with most presses, which
is what a face bar draws.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from hymy.score import LOW_CONFIDENCE_N, Score, is_negative, is_positive, score_tally
from hymy.stats import IndexResult, Sample, describe

#: The scale of a figure without any presses.
DEFAULT_SCALE = 4


def _round1(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _whole(value: float | None) -> int | None:
    """Rounded as people see it: halves up (78.5 -> 79)."""
    return None if value is None else int(value + 0.5)


@dataclass(frozen=True, slots=True)
class Figure:
    """One period's result.

    ``scale``: the scale shown (the one with most counted presses); ``counts``: counted presses per face
    of ``scale``, most negative first (length ``scale``); ``filtered``: flagged presses, kept but not
    counted; ``other``: counted presses on other scales as ``(scale, mood, count)``, count > 0.
    ``score`` is computed from all of them.
    """

    scale: int
    counts: tuple[int, ...]
    filtered: int = 0
    other: tuple[tuple[int, int, int], ...] = ()
    #: Every ``(scale, mood, count)`` with count > 0, ordered by scale then mood.
    tally: tuple[tuple[int, int, int], ...] = field(init=False, repr=False, compare=False)
    score: Score = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.counts) != self.scale:
            raise ValueError(f"counts: {len(self.counts)} values given for scale {self.scale}; give one per face")
        tally = tuple((self.scale, m, c) for m, c in enumerate(self.counts, 1) if c)
        if self.other:
            tally = tuple(sorted(tally + self.other))
        object.__setattr__(self, "tally", tally)
        object.__setattr__(self, "score", score_tally(tally))

    # ------------------------------------------------------------------ the counts

    @property
    def scales(self) -> list[int]:
        """The scales that have counted presses, ascending (empty without presses)."""
        return sorted({s for s, _m, _c in self.tally})

    def by_mood(self) -> dict[int, int]:
        """Counted presses per mood number (1 = most negative), summed over scales; moods without presses
        are left out. Ordered by scale, then mood, as the manager API has always listed them."""
        out: dict[int, int] = {}
        for _scale, mood, count in self.tally:
            out[mood] = out.get(mood, 0) + count
        return out

    @property
    def negative(self) -> int:
        """Counted presses on a negative face (``hymy.score.is_negative``), every scale."""
        return sum(c for s, m, c in self.tally if is_negative(m, s))

    @property
    def positive(self) -> int:
        """Counted presses on a positive face, every scale."""
        return sum(c for s, m, c in self.tally if is_positive(m, s))

    # ------------------------------------------------------------------ the score

    @property
    def n(self) -> int:
        """Counted presses."""
        return self.score.n

    @property
    def happy_index(self) -> float | None:
        """The Happy Index 0-100, unrounded; None without presses."""
        return self.score.happy_index

    @property
    def index(self) -> int | None:
        """The Happy Index 0-100 rounded as people see it (halves up); None without presses."""
        return self.score.index_rounded

    @property
    def low_confidence(self) -> bool:
        """Fewer than ``LOW_CONFIDENCE_N`` counted presses."""
        return self.score.low_confidence

    @property
    def positive_pct(self) -> int | None:
        """% of counted presses on a positive face, whole (halves up); None without presses."""
        return _whole(self.score.positive_pct)

    @property
    def negative_pct(self) -> int | None:
        """% of counted presses on a negative face, whole (halves up); None without presses."""
        return _whole(self.score.negative_pct)

    # ------------------------------------------------------------------ how sure (hymy.stats)

    @property
    def sample(self) -> Sample:
        """The counted presses as the statistics take them (``hymy.stats.Sample``: N and the weights' sums)."""
        return Sample.from_tally(self.tally)

    def described(self) -> IndexResult:
        """The index with its 95 % interval, not compared with anything (``verdict`` None)."""
        return describe(self.sample)

    @property
    def interval(self) -> tuple[int, int] | None:
        """The 95 % uncertainty interval of the Happy Index, whole points rounded as shown (halves up):
        ``(72, 83)`` for "78 (72–83)"; None without counted presses."""
        if not self.n:
            return None
        r = self.described()
        return _whole(r.low), _whole(r.high)

    def to_json(self, judged: IndexResult | None = None) -> dict:
        """The figure as the manager API answers it (docs/server.md, "Results"): ``n``, ``counts``
        (``{"mood": presses}``), ``scales``, ``happy_index``, ``positive_pct``, ``negative_pct`` (one
        decimal), ``low_confidence``, ``filtered``; ``index`` (whole, as pages show it) and ``scale``
        (the scale of the face bar); and from ``hymy.stats.IndexResult.to_json`` (``judged``, this
        figure's comparison, or the figure alone): ``interval`` ([low, high], whole, at ``level`` 0.95),
        ``verdict`` (``lower`` / ``higher`` / ``usual`` / ``too_few``; null when not compared), ``p``,
        ``q`` and ``baseline`` (``{"n", "index"}`` of what it was compared with; null when not compared)."""
        s = self.score
        counts: dict[str, int] = {}
        for _scale, mood, count in self.tally:
            counts[str(mood)] = counts.get(str(mood), 0) + count
        stats = (judged or self.described()).to_json()
        return {
            "n": s.n, "counts": counts, "scales": sorted({t[0] for t in self.tally}) if self.other else
            ([self.scale] if s.n else []),
            "happy_index": _round1(s.happy_index), "positive_pct": _round1(s.positive_pct),
            "negative_pct": _round1(s.negative_pct), "low_confidence": s.low_confidence,
            "filtered": self.filtered, "index": self.index, "scale": self.scale,
            **{k: stats[k] for k in ("interval", "level", "verdict", "p", "q", "baseline")},
        }


def figure(counts: Mapping[int, int] | Sequence[int], scale: int = DEFAULT_SCALE, filtered: int = 0) -> Figure:
    """A figure of one scale from counts per mood (a ``{mood: count}`` mapping or a list, most negative first)."""
    if isinstance(counts, Mapping):
        seq = tuple(int(counts.get(m, 0)) for m in range(1, scale + 1))
    else:
        seq = tuple(int(c) for c in counts)
    return Figure(scale=scale, counts=seq, filtered=int(filtered))


@lru_cache(maxsize=8)
def empty(scale: int = DEFAULT_SCALE) -> Figure:
    """A figure without any presses, drawn on ``scale`` faces (one shared instance per scale: figures
    never change)."""
    return Figure(scale=scale, counts=(0,) * scale)


def from_rows(rows: Iterable[tuple[int, int, int, int]]) -> Figure:
    """A figure from ``(scale, mood, counted, filtered)`` rows (rollup rows; several may name one face).

    The scale shown is the one with most counted presses (ties: the smaller); a period with no counted
    presses shows the scale of its rows, or ``DEFAULT_SCALE`` without any.
    """
    per_scale: dict[int, list[int]] = {}
    filtered = 0
    for scale, mood, counted, filt in rows:
        faces = per_scale.get(scale)
        if faces is None:
            faces = per_scale[scale] = [0] * scale
        faces[mood - 1] += counted or 0
        filtered += filt or 0
    if not per_scale:
        return Figure(scale=DEFAULT_SCALE, counts=(0,) * DEFAULT_SCALE, filtered=filtered) if filtered else empty()
    if len(per_scale) == 1:
        ((scale, faces),) = per_scale.items()
        return Figure(scale=scale, counts=tuple(faces), filtered=filtered)
    main = max(sorted(per_scale), key=lambda s: sum(per_scale[s]))
    other = tuple((s, m, c) for s in sorted(per_scale) if s != main for m, c in enumerate(per_scale[s], 1) if c)
    return Figure(scale=main, counts=tuple(per_scale[main]), filtered=filtered, other=other)


def sample_of_rows(rows: Iterable[tuple[int, int, int, int]]) -> Sample:
    """``from_rows(rows).sample`` without building the figure: the counted presses of ``(scale, mood,
    counted, filtered)`` rows summed per face, then taken in the figure's own order (scale, then mood), so
    the sums are the same to the last bit."""
    per_face: dict[tuple[int, int], int] = {}
    for scale, mood, counted, _filtered in rows:
        if counted:
            per_face[(scale, mood)] = per_face.get((scale, mood), 0) + counted
    return Sample.from_tally((scale, mood, c) for (scale, mood), c in sorted(per_face.items()) if c)


def merge(figures: Iterable[Figure]) -> Figure:
    """The sum of several figures (days into a week, hours into a day, stores into a region): exact
    whatever their scales; no figures give an empty one."""
    figures = list(figures)
    if not figures:
        return empty()
    if len(figures) == 1:
        return figures[0]
    scale = figures[0].scale
    if all(f.scale == scale and not f.other for f in figures):
        return Figure(scale=scale, counts=tuple(sum(f.counts[i] for f in figures) for i in range(scale)),
                      filtered=sum(f.filtered for f in figures))
    rows = [(s, m, c, 0) for f in figures for s, m, c in f.tally]
    return from_rows(rows + [(f.scale, 1, 0, f.filtered) for f in figures])


__all__ = ["Figure", "DEFAULT_SCALE", "LOW_CONFIDENCE_N", "figure", "empty", "from_rows", "sample_of_rows", "merge"]
