"""Server-side SVG charts: data in, SVG text out. No JavaScript, no fonts to download, no internet.

Every chart scales with its container (``viewBox`` + ``width="100%"``), carries ``role="img"`` and an
``aria-label``, and a ``<title>`` per mark so hovering (or a screen reader) gives the exact figure and N.
Low-confidence marks (N < 20) are drawn pale and hatched, never as a bold number: see ``hymy.figures``.
A mark is coloured as lower or higher than usual, with a ▼ or ▲ beside it, only when its ``verdict``
(``server.results.usual``, Benjamini-Hochberg adjusted) says so; nothing else claims a change.
Coordinates are in viewBox units. No text renders under ``MIN_TEXT_PX`` (12 CSS px): each SVG carries the
``min-width`` that guarantees it (:func:`min_width_px`), and the wide charts (hours, trend, heat map) have a
phone layout (``PHONE_W`` units wide, a transposed heat map) that a page shows on a narrow screen.
Colours come from ``hymy.palette`` through :mod:`server.dashboard.colours`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from hymy.score import LOW_CONFIDENCE_N

from .colours import face_colours, index_colour

_INK = "#1f2933"
_MUTED = "#5f6b7a"
_GRID = "#e3e7ec"
_HATCH_ID = "lowconf"
#: Verdict marks (colour-blind safe: orange against blue, and a ▼ / ▲ besides): (fill, stroke, symbol).
VERDICT_MARKS = {"lower": ("#fdd8b5", "#b35806", "▼"), "higher": ("#cfe2f3", "#2166ac", "▲")}
#: A heat-map cell within the usual range, and one without presses.
_USUAL_FILL, _EMPTY_FILL = "#eef1f4", "#ffffff"
#: The smallest text a chart may render, in CSS px: a chart is never drawn narrower than this allows.
MIN_TEXT_PX = 12
#: The width of a chart's phone layout, in viewBox units (about its CSS px in a 390 px phone's card).
PHONE_W = 330
_FONT_SIZE = re.compile(r'font-size="([0-9.]+)"')


def min_width_px(width: float, body: str) -> int:
    """The narrowest CSS width at which every text of a chart ``width`` units wide (its SVG ``body``)
    renders at least ``MIN_TEXT_PX``; 0 for a chart without text."""
    sizes = [float(x) for x in _FONT_SIZE.findall(body)]
    return math.ceil(width * MIN_TEXT_PX / min(sizes)) if sizes else 0


def _svg(width: float, height: float, label: str, body: list[str], cls: str, aspect: str = "xMidYMid meet") -> str:
    """The chart's SVG; with text, a ``min-width`` keeps its smallest text at ``MIN_TEXT_PX`` or more (a
    page puts such a chart in a scroll container, which scrolls when the screen is narrower)."""
    inner = "".join(body)
    least = min_width_px(width, inner)
    style = f' style="min-width:{least}px"' if least else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {cls}" viewBox="0 0 {width:g} {height:g}" '
        f'width="100%" preserveAspectRatio="{aspect}" role="img" aria-label="{escape(label)}"{style}>'
        + _defs() + inner + "</svg>"
    )


def _defs() -> str:
    return (
        f'<defs><pattern id="{_HATCH_ID}" width="8" height="8" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="8" height="8" fill="#ffffff" fill-opacity="0.0"/>'
        '<line x1="0" y1="0" x2="0" y2="8" stroke="#ffffff" stroke-width="4" stroke-opacity="0.7"/>'
        "</pattern></defs>"
    )


def _title(text: str) -> str:
    return f"<title>{escape(text)}</title>"


def _text(x: float, y: float, text: str, size: float = 20, anchor: str = "middle", fill: str = _INK,
          weight: str = "normal") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size:g}" text-anchor="{anchor}" fill="{fill}" '
            f'font-weight="{weight}">{escape(text)}</text>')


# --------------------------------------------------------------------------- marks (what charts draw)


class _Confidence:
    """``low``: fewer than ``LOW_CONFIDENCE_N`` counted presses (``n``), so the mark is drawn pale."""

    __slots__ = ()
    n: int

    @property
    def low(self) -> bool:
        return self.n < LOW_CONFIDENCE_N


@dataclass(frozen=True, slots=True)
class _Mark(_Confidence):
    """One labelled mark of a chart: ``label``, ``value`` 0-100 (None = no presses), ``n`` counted presses;
    ``verdict`` against the usual (``lower`` / ``higher`` / ``usual`` / ``too_few``; None: not compared)."""

    label: str
    value: float | None
    n: int
    verdict: str | None = None


def _verdict_tip(verdict: str | None, words: dict[str, str] | None) -> str:
    """`` · lower than usual`` for a title, in the page's words (``words``: verdict -> text)."""
    return f" · {words[verdict]}" if words and verdict in words else ""


# --------------------------------------------------------------------------- faces bar


def faces_bar(counts: Sequence[int], scale: int, labels: Sequence[str] | None = None,
              label: str = "faces", width: float = 300, height: float = 28) -> str:
    """One horizontal bar split by face (most negative on the left), each part as wide as its share.

    ``labels`` name the faces for titles (default "1".."scale"). Empty counts give a grey bar.
    """
    colours = face_colours(scale)
    if len(counts) != scale:
        raise ValueError(f"counts: {len(counts)} values for scale {scale}")
    names = list(labels) if labels else [str(i) for i in range(1, scale + 1)]
    total = sum(counts)
    body: list[str] = []
    if total == 0:
        body.append(f'<rect x="0" y="0" width="{width:g}" height="{height:g}" rx="4" fill="#eef0f3"/>')
    else:
        x = 0.0
        for i, c in enumerate(counts):
            if c <= 0:
                continue
            w = width * c / total
            pct = round(100 * c / total)
            body.append(f'<rect class="face face-{i + 1}" x="{x:.2f}" y="0" width="{w:.2f}" height="{height:g}" '
                        f'fill="{colours[i]}">{_title(f"{names[i]}: {c} ({pct} %)")}</rect>')
            x += w
    return _svg(width, height, label, body, "faces-bar", aspect="none")


# --------------------------------------------------------------------------- bars (hour by hour)


@dataclass(frozen=True, slots=True)
class Bar(_Mark):
    """One bar: ``label`` under it, ``value`` 0-100 (None = no presses), ``n`` counted presses."""


def bar_chart(bars: Sequence[Bar], label: str, width: float = 640, height: float = 260,
              n_label: str = "N", verdict_words: dict[str, str] | None = None) -> str:
    """Vertical bars of a 0-100 value (the Happy Index per hour), N printed under every bar.

    Low-confidence bars are pale and hatched; bars without presses show only their N (0). A bar judged
    lower or higher than usual gets an outline and a ▼ / ▲ above it (``verdict_words`` name the verdicts
    in the bars' titles).
    """
    left, right, top, bottom = 34, 6, 14, 56
    plot_w, plot_h = width - left - right, height - top - bottom
    body = [_axis_0_100(left, top, plot_w, plot_h)]
    count = max(len(bars), 1)
    slot = plot_w / count
    bw = max(slot * 0.72, 2)
    fs = 18 if slot >= 30 else 15
    step = 1 if slot >= 22 else 2
    for i, b in enumerate(bars):
        x = left + i * slot + (slot - bw) / 2
        cx = left + i * slot + slot / 2
        if b.value is not None:
            h = plot_h * max(0.0, min(100.0, b.value)) / 100
            y = top + plot_h - h
            fill = index_colour(b.value)
            op = ' fill-opacity="0.45"' if b.low else ""
            tip = (f"{b.label}: {round(b.value)} ({n_label} {b.n})" + (" *" if b.low else "")
                   + _verdict_tip(b.verdict, verdict_words))
            mark = VERDICT_MARKS.get(b.verdict or "")
            outline = f' stroke="{mark[1]}" stroke-width="3"' if mark else ""
            body.append(f'<g class="bar{" low" if b.low else ""}{" " + b.verdict if mark else ""}">'
                        f'<rect x="{x:.1f}" y="{y:.1f}" width="{bw:.1f}" '
                        f'height="{max(h, 1):.1f}" rx="2" fill="{fill}"{op}{outline}/>'
                        + (f'<rect x="{x:.1f}" y="{y:.1f}" width="{bw:.1f}" height="{max(h, 1):.1f}" '
                           f'fill="url(#{_HATCH_ID})"/>' if b.low else "")
                        + (_text(cx, max(y - 4, 12), mark[2], 14, fill=mark[1]) if mark else "")
                        + _title(tip) + "</g>")
        if i % step == 0:
            body.append(_text(cx, top + plot_h + 22, b.label, fs, fill=_INK))
            body.append(_text(cx, top + plot_h + 44, str(b.n), fs - 2, fill=_MUTED))
    body.append(_text(4, top + plot_h + 44, n_label, 15, anchor="start", fill=_MUTED))
    return _svg(width, height, label, body, "bar-chart")


def _axis_0_100(left: float, top: float, plot_w: float, plot_h: float) -> str:
    parts = []
    for v in (0, 50, 100):
        y = top + plot_h - plot_h * v / 100
        parts.append(f'<line x1="{left}" x2="{left + plot_w:.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="{_GRID}" '
                     'stroke-width="1"/>')
        parts.append(_text(left - 6, y + 6, str(v), 15, anchor="end", fill=_MUTED))
    return "".join(parts)


# --------------------------------------------------------------------------- trend line


@dataclass(frozen=True, slots=True)
class Point(_Mark):
    """One day of a trend: ``label`` (e.g. "23.11."), ``value`` 0-100 or None, ``n`` counted presses."""


def trend_chart(points: Sequence[Point], label: str, width: float = 760, height: float = 250,
                n_label: str = "N", max_labels: int = 6) -> str:
    """A line of the Happy Index over days, broken where a day had no presses.

    Days with enough presses are solid dots; low-confidence days hollow dots and no line through them.
    Under the line a thin bar per day shows N, so a dip on a quiet day reads as quiet.
    """
    left, right, top, bottom = 34, 10, 12, 58
    plot_w, plot_h = width - left - right, height - top - bottom - 26
    body = [_axis_0_100(left, top, plot_w, plot_h)]
    count = len(points)
    if count == 0:
        return _svg(width, height, label, body, "trend-chart")
    dx = plot_w / max(count - 1, 1) if count > 1 else 0
    xs = [left + (i * dx if count > 1 else plot_w / 2) for i in range(count)]
    # N bars along the bottom
    nmax = max((p.n for p in points), default=0) or 1
    base = top + plot_h + 30
    bw = max(min(dx * 0.8, 14), 1.2) if count > 1 else 10
    for x, p in zip(xs, points, strict=True):
        h = 22 * p.n / nmax
        body.append(f'<rect x="{x - bw / 2:.1f}" y="{base - h:.1f}" width="{bw:.1f}" height="{h:.1f}" '
                    f'fill="#c5ccd6">{_title(f"{p.label}: {n_label} {p.n}")}</rect>')
    # line segments only between consecutive confident days
    seg: list[str] = []
    segments: list[list[str]] = []
    for x, p in zip(xs, points, strict=True):
        if p.value is None or p.low:
            if seg:
                segments.append(seg)
            seg = []
            continue
        y = top + plot_h - plot_h * p.value / 100
        seg.append(f"{x:.1f},{y:.1f}")
    if seg:
        segments.append(seg)
    for s in segments:
        if len(s) > 1:
            body.append(f'<polyline points="{" ".join(s)}" fill="none" stroke="#2f5fa7" stroke-width="2.5" '
                        'stroke-linejoin="round"/>')
    r = 4 if count <= 45 else (3 if count <= 120 else 2)
    for x, p in zip(xs, points, strict=True):
        if p.value is None:
            continue
        y = top + plot_h - plot_h * p.value / 100
        tip = f"{p.label}: {round(p.value)} ({n_label} {p.n})" + (" *" if p.low else "")
        if p.low:
            body.append(f'<circle class="pt low" cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="#ffffff" stroke="#8aa0c0" '
                        f'stroke-width="1.5">{_title(tip)}</circle>')
        else:
            body.append(f'<circle class="pt" cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="#2f5fa7">{_title(tip)}</circle>')
    for i in _fitting_labels(xs, [p.label for p in points], max_labels, 16):
        anchor = "start" if i == 0 else ("end" if i == count - 1 else "middle")
        body.append(_text(xs[i], height - 8, points[i].label, 16, anchor=anchor, fill=_INK))
    body.append(_text(4, base - 4, n_label, 14, anchor="start", fill=_MUTED))
    return _svg(width, height, label, body, "trend-chart")


def _fitting_labels(xs: Sequence[float], labels: Sequence[str], most: int, size: float) -> list[int]:
    """Which of the x-axis ``labels`` (at ``xs``, ``size`` units tall) to print: about ``most``, evenly
    spaced, the first and the last always, none overlapping its neighbour (a character taken as 0.62 em)."""
    count = len(labels)
    every = max(1, -(-count // max(most, 1)))
    picks = sorted({*range(0, count, every), count - 1})

    def span(i: int) -> tuple[float, float]:
        w = len(labels[i]) * size * 0.62
        if i == 0:
            return xs[i], xs[i] + w
        return (xs[i] - w, xs[i]) if i == count - 1 else (xs[i] - w / 2, xs[i] + w / 2)

    kept: list[int] = []
    for i in picks:
        while kept and span(kept[-1])[1] + size / 2 > span(i)[0]:
            if i != count - 1 or len(kept) == 1:
                break
            kept.pop()  # the last label wins over a middle one
        if not kept or span(kept[-1])[1] + size / 2 <= span(i)[0]:
            kept.append(i)
    return kept


# --------------------------------------------------------------------------- heat map


@dataclass(frozen=True, slots=True)
class Cell(_Confidence):
    """One heat-map cell: ``value`` 0-100 (None = no presses), ``n`` counted presses, ``verdict`` against
    the rest of the week (None: not compared)."""

    value: float | None
    n: int
    verdict: str | None = None


def heatmap(rows: Sequence[Sequence[Cell]], row_labels: Sequence[str], col_labels: Sequence[str],
            label: str, n_label: str = "N", cell_w: float = 34, cell_h: float = 30,
            verdict_words: dict[str, str] | None = None, transpose: bool = False) -> str:
    """A grid (weekday x hour) of Happy Indexes. A cell is coloured only by its verdict: orange with a ▼
    when lower than usual, blue with a ▲ when higher, light grey within the usual range; white with a
    dashed border and a pale figure with too few presses; blank without presses. The index is printed in
    every cell with presses.

    ``rows`` and ``row_labels`` have the same length; every row has ``len(col_labels)`` cells.
    ``transpose``: the phone layout, rows drawn as columns (hours down, the 7 weekdays across, so the
    grid fits a phone's width); the titles still read "Mon 14".
    """
    if len(rows) != len(row_labels):
        raise ValueError("rows and row_labels differ in length")
    for i, row in enumerate(rows):
        if len(row) != len(col_labels):
            raise ValueError(f"row {i} has {len(row)} cells; expected {len(col_labels)}")
    tip_rows, tip_cols = row_labels, col_labels
    if transpose:
        rows = [[row[j] for row in rows] for j in range(len(col_labels))]
        row_labels, col_labels = col_labels, row_labels
    left, top = 14 + round(10 * max((len(x) for x in row_labels), default=2)), 26
    ncol = len(col_labels)
    width = left + cell_w * ncol + 4
    height = top + cell_h * len(rows) + 4
    body = []
    every = 1 if cell_w >= 30 else 2
    for j, cl in enumerate(col_labels):
        if j % every == 0:
            body.append(_text(left + j * cell_w + cell_w / 2, top - 8, cl, 15, fill=_MUTED))
    for i, (row, rl) in enumerate(zip(rows, row_labels, strict=True)):
        y = top + i * cell_h
        body.append(_text(left - 8, y + cell_h / 2 + 6, rl, 16, anchor="end"))
        for j, c in enumerate(row):
            x = left + j * cell_w
            mark = VERDICT_MARKS.get(c.verdict or "")
            pale = c.value is None or c.low
            fill = mark[0] if mark else (_EMPTY_FILL if pale else _USUAL_FILL)
            stroke = (f' stroke="{mark[1]}" stroke-width="2"' if mark else
                      ' stroke="#9aa5b1" stroke-width="1" stroke-dasharray="3 2"' if c.value is not None and c.low
                      else ' stroke="#dfe3e8" stroke-width="1"')
            where = f"{tip_rows[j]} {tip_cols[i]}" if transpose else f"{rl} {col_labels[j]}"
            tip = (f"{where}: " + ("-" if c.value is None else str(round(c.value)))
                   + f" ({n_label} {c.n})" + (" *" if c.low and c.value is not None else "")
                   + _verdict_tip(c.verdict, verdict_words))
            body.append(f'<rect class="cell{" " + c.verdict if mark else ""}" x="{x + 1:.1f}" y="{y + 1:.1f}" '
                        f'width="{cell_w - 2:.1f}" height="{cell_h - 2:.1f}" rx="3" fill="{fill}"{stroke}>'
                        f'{_title(tip)}</rect>')
            if c.value is not None:  # the figure itself; a flagged cell also its ▼ / ▲
                text = f"{mark[2]}{round(c.value)}" if mark else str(round(c.value))
                body.append(_text(x + cell_w / 2, y + cell_h / 2 + 5, text, 13,
                                  fill=_MUTED if c.low else (mark[1] if mark else _INK),
                                  weight="bold" if mark else "normal"))
    return _svg(width, height, label, body, "heatmap")


# --------------------------------------------------------------------------- horizontal bars (reasons)


def hbar_chart(items: Sequence[tuple[str, int]], label: str, colour: str | None = None, width: float = 440,
               row_h: float = 34) -> str:
    """Horizontal bars (label, count), longest first as given; the count is printed at the bar's end.
    ``colour``: the bars' fill, by default the palette's "unhappy" face (the reasons unhappy customers gave)."""
    colour = colour or face_colours(4)[1]
    left = 150
    height = max(row_h * len(items), row_h) + 4
    vmax = max((c for _, c in items), default=0) or 1
    body = []
    for i, (name, c) in enumerate(items):
        y = i * row_h + 2
        w = (width - left - 56) * c / vmax
        body.append(_text(left - 10, y + row_h / 2 + 6, name[:18], 17, anchor="end"))
        body.append(f'<rect x="{left}" y="{y + 5}" width="{max(w, 1):.1f}" height="{row_h - 10}" rx="3" '
                    f'fill="{colour}">{_title(f"{name}: {c}")}</rect>')
        body.append(_text(left + w + 8, y + row_h / 2 + 6, str(c), 17, anchor="start"))
    return _svg(width, height, label, body, "hbar-chart")


__all__ = ["MIN_TEXT_PX", "PHONE_W", "Bar", "Cell", "Point", "bar_chart", "faces_bar", "hbar_chart", "heatmap",
           "min_width_px", "trend_chart"]
