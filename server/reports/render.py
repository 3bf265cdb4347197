"""Rendering a store's daily or weekly report as an e-mail: HTML with a plain-text part.

Pure: ``ReportData`` in, subject/text/HTML out. The hour chart (daily) or day chart (weekly) is an
HTML table whose bars are table cells with a width and a background colour, so it shows in every
mail client with no image at all (no external fetch, nothing blocked as "remote content", nothing to
attach). The plain-text part draws the same chart with block characters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from hymy.score import Score, score_counts

FACE_NAMES = {
    3: ("unhappy", "neutral", "happy"),
    4: ("very unhappy", "unhappy", "happy", "very happy"),
    5: ("very unhappy", "unhappy", "neutral", "happy", "very happy"),
}
FACE_COLOURS = {
    3: ("#d9534f", "#f0ad4e", "#5cb85c"),
    4: ("#d9534f", "#f0ad4e", "#9ccc65", "#43a047"),
    5: ("#d9534f", "#f0ad4e", "#bdbdbd", "#9ccc65", "#43a047"),
}
#: Widest chart bar in the HTML, in pixels, and in the plain text, in characters.
BAR_PX = 240
BAR_CHARS = 30


@dataclass(frozen=True, slots=True)
class ChartRow:
    """One bar: a label (``"09"`` for 09:00-10:00, or ``"Mon 23.11."``) and counts per mood."""

    label: str
    counts: dict[int, int]


@dataclass(frozen=True, slots=True)
class ReportData:
    """Everything a report shows. ``counts``: counted presses per mood (1 = most negative);
    ``rows``: the chart (hours of the day, or days of the week); ``reasons`` and ``praise``:
    ``(label, count)`` most frequent first; ``comments``: free texts, newest first."""

    store_id: str
    store_name: str
    timezone: str
    period: str  # "daily" | "weekly"
    start: date
    end: date  # inclusive
    scale: int
    counts: dict[int, int]
    rows: list[ChartRow] = field(default_factory=list)
    reasons: list[tuple[str, int]] = field(default_factory=list)
    praise: list[tuple[str, int]] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    url: str | None = None

    @property
    def score(self) -> Score:
        return score_counts(self.counts, self.scale)


@dataclass(frozen=True, slots=True)
class RenderedReport:
    subject: str
    text: str
    html: str


@cache
def _env() -> Environment:
    return Environment(
        loader=FileSystemLoader(Path(__file__).with_name("templates")),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _period_label(data: ReportData) -> str:
    if data.period == "weekly":
        return f"{data.start:%d.%m.}-{data.end:%d.%m.%Y}"
    return f"{data.start:%a %d.%m.%Y}"


def _chart(data: ReportData) -> list[dict]:
    biggest = max((sum(r.counts.values()) for r in data.rows), default=0) or 1
    colours = FACE_COLOURS[data.scale]
    out = []
    for row in data.rows:
        n = sum(row.counts.values())
        s = score_counts(row.counts, data.scale)
        segments = [
            {"px": max(1, round(BAR_PX * row.counts.get(m, 0) / biggest)), "colour": colours[m - 1],
             "count": row.counts.get(m, 0), "face": FACE_NAMES[data.scale][m - 1]}
            for m in range(1, data.scale + 1) if row.counts.get(m, 0)
        ]
        out.append({
            "label": row.label, "n": n, "index": s.index_rounded, "segments": segments,
            "text_bar": "█" * round(BAR_CHARS * n / biggest) if n else "",
            "low": s.low_confidence,
        })
    return out


def render_report(data: ReportData) -> RenderedReport:
    """Subject, plain text and HTML of ``data``'s report."""
    if data.scale not in FACE_NAMES:
        raise ValueError(f"scale: {data.scale!r} is not valid; use 3, 4 or 5")
    score = data.score
    kind = "weekly" if data.period == "weekly" else "daily"
    index = "no presses" if score.n == 0 else f"Happy Index {score.index_rounded}, N={score.n}"
    subject = f"Hymy {kind} report: {data.store_name}, {_period_label(data)}: {index}"
    faces = [
        {"name": FACE_NAMES[data.scale][m - 1], "colour": FACE_COLOURS[data.scale][m - 1],
         "count": data.counts.get(m, 0),
         "pct": (100.0 * data.counts.get(m, 0) / score.n) if score.n else 0.0}
        for m in range(data.scale, 0, -1)
    ]
    ctx = {
        "d": data, "score": score, "kind": kind, "period_label": _period_label(data), "faces": faces,
        "chart": _chart(data), "chart_title": "Presses by day" if kind == "weekly" else "Presses by hour",
        "subject": subject,
    }
    env = _env()
    return RenderedReport(subject=subject, text=env.get_template("report.txt").render(ctx),
                          html=env.get_template("report.html").render(ctx))


def report_mail(settings, to: list[str], data: ReportData):
    """The report as an ``email.message.EmailMessage`` (plain text first, HTML alternative)."""
    from server.alerts.smtp import new_message

    rendered = render_report(data)
    msg = new_message(settings, to, rendered.subject)
    msg.set_content(rendered.text)
    msg.add_alternative(rendered.html, subtype="html")
    return msg
