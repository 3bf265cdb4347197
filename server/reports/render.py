"""Rendering a store's daily or weekly report as an e-mail: HTML with a plain-text part.

Pure: ``ReportData`` in, subject/text/HTML out. The hour chart (daily) or day chart (weekly) is an
HTML table whose bars are table cells with a width and a background colour, so it shows in every
mail client with no image at all (no external fetch, nothing blocked as "remote content", nothing to
attach). The plain-text part draws the same chart with block characters. The words are in
``ReportData.lang`` (the dashboard's catalogs, through ``server.alerts.language``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from hymy import palette
from hymy.score import Score, score_counts
from hymy.stats import IndexResult, describe, sample
from server.alerts import language
from server.alerts.language import N_

FACE_NAMES = {
    3: (N_("unhappy"), N_("neutral"), N_("happy")),
    4: (N_("very unhappy"), N_("unhappy"), N_("happy"), N_("very happy")),
    5: (N_("very unhappy"), N_("unhappy"), N_("neutral"), N_("happy"), N_("very happy")),
}
#: The faces' colours, most negative first: the one palette the kiosk and the dashboard use too.
FACE_COLOURS = {scale: tuple(f.hex for f in palette.palette(scale)) for scale in palette.PALETTES}
#: Beside a chart row's index when it is lower or higher than usual.
MARKS = {"lower": "▼", "higher": "▲"}
#: Widest chart bar in the HTML, in pixels, and in the plain text, in characters.
BAR_PX = 240
BAR_CHARS = 30


@dataclass(frozen=True, slots=True)
class ChartRow:
    """One bar: a label (``"09"`` for 09:00-10:00, or ``"Mon 23.11."``), counts per mood, and its verdict
    against its usual (``lower`` / ``higher`` / ``usual`` / ``too_few``; None: not compared)."""

    label: str
    counts: dict[int, int]
    verdict: str | None = None


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
    lang: str = "en"  # fi | sv | en: the store's language (``server.alerts.language.store_language``)
    #: The period against its usual (``server.results.usual``); None: shown with its interval only.
    judged: IndexResult | None = None

    @property
    def score(self) -> Score:
        return score_counts(self.counts, self.scale)

    @property
    def stats(self) -> IndexResult:
        """The index with its 95 % interval, and the verdict when it was compared."""
        return self.judged or describe(sample(self.counts, self.scale))


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
    return language.day(data.start, data.lang)


def _chart(data: ReportData, face_names: tuple[str, ...]) -> list[dict]:
    biggest = max((sum(r.counts.values()) for r in data.rows), default=0) or 1
    colours = FACE_COLOURS[data.scale]
    out = []
    for row in data.rows:
        n = sum(row.counts.values())
        s = score_counts(row.counts, data.scale)
        segments = [
            {"px": max(1, round(BAR_PX * row.counts.get(m, 0) / biggest)), "colour": colours[m - 1],
             "count": row.counts.get(m, 0), "face": face_names[m - 1]}
            for m in range(1, data.scale + 1) if row.counts.get(m, 0)
        ]
        out.append({
            "label": row.label, "n": n, "index": s.index_rounded, "segments": segments,
            "text_bar": "█" * round(BAR_CHARS * n / biggest) if n else "",
            "low": s.low_confidence, "mark": MARKS.get(row.verdict or "", ""),
        })
    return out


def _verdict(_, data: ReportData, stats: dict) -> str | None:
    """The period against its usual in words ("Lower than usual (a usual Tuesday: 80)"); None when not
    compared."""
    verdict = stats["verdict"]
    if verdict is None:
        return None
    if verdict == "too_few":
        return _("Too few presses to compare with the usual")
    if data.period == "weekly":
        usual = _("the 8 weeks before: %(index)s", index=stats["baseline"]["index"])
    else:
        usual = _("a usual %(day)s", day=language.day(data.start, data.lang, "cccc")) + f": {stats['baseline']['index']}"
    words = {"lower": _("Lower than usual"), "higher": _("Higher than usual"), "usual": _("Within the usual range")}
    return f"{MARKS.get(verdict, '')} {words[verdict]} ({usual})".strip()


def render_report(data: ReportData) -> RenderedReport:
    """Subject, plain text and HTML of ``data``'s report, in ``data.lang`` (English where a
    translation is missing)."""
    if data.scale not in FACE_NAMES:
        raise ValueError(f"scale: {data.scale!r} is not valid; use 3, 4 or 5")
    _ = language.gettext(data.lang)
    score = data.score
    kind = "weekly" if data.period == "weekly" else "daily"
    period = _period_label(data)
    n = language.number(score.n, data.lang)
    index = _("no presses") if score.n == 0 else _("Happy Index %(index)s, N=%(n)s", index=score.index_rounded, n=n)
    stats = data.stats.to_json()
    if kind == "weekly":
        subject = _("Hymy weekly report: %(store)s, %(period)s: %(index)s", store=data.store_name, period=period,
                    index=index)
        report_for = _("weekly report for %(period)s", period=period)
    else:
        subject = _("Hymy daily report: %(store)s, %(period)s: %(index)s", store=data.store_name, period=period,
                    index=index)
        report_for = _("daily report for %(period)s", period=period)
    face_names = tuple(_(name) for name in FACE_NAMES[data.scale])
    faces = [
        {"name": face_names[m - 1], "colour": FACE_COLOURS[data.scale][m - 1],
         "count": data.counts.get(m, 0),
         "pct": (100.0 * data.counts.get(m, 0) / score.n) if score.n else 0.0}
        for m in range(data.scale, 0, -1)
    ]
    ctx = {
        "d": data, "score": score, "kind": kind, "period_label": period, "faces": faces, "n": n,
        "face_width": max(13, *(len(f) for f in face_names)), "_": _, "lang": data.lang,
        "report_for": report_for, "Report_for": report_for[:1].upper() + report_for[1:],
        "chart": _chart(data, face_names), "chart_title": _("Presses by day") if kind == "weekly" else _("Presses by hour"),
        "subject": subject, "interval": "{}–{}".format(*stats["interval"]),
        "verdict": _verdict(_, data, stats),
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
