"""Charts stay readable on a phone: no text renders under 12 CSS px at the narrowest width a chart allows
(its ``min-width``), the phone layouts fit a 390 px phone's card without scrolling, and the x-axis labels
never overlap."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date, timedelta

import pytest

from server.dashboard.charts import (
    MIN_TEXT_PX,
    PHONE_W,
    Bar,
    Cell,
    Point,
    bar_chart,
    hbar_chart,
    heatmap,
    trend_chart,
)

NS = "{http://www.w3.org/2000/svg}"
#: The width of a card's content on a 390 px phone, in CSS px (page and card padding taken off).
PHONE_CARD_PX = 340
DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def bars(hours: int) -> list[Bar]:
    return [Bar(f"{h % 24:02d}", 60 + h % 30, 100 + h, "lower" if h == 3 else None) for h in range(hours)]


def points(days: int) -> list[Point]:
    first = date(2025, 12, 7)
    return [Point(f"{d.day}.{d.month}.{d.year}", 70 + i % 9, 40 + i % 50)
            for i, d in enumerate(first + timedelta(days=k) for k in range(days))]


def grid(hours: int) -> list[list[Cell]]:
    return [[Cell(50 + h, 30, "lower" if (w, h) == (1, 2) else "usual") for h in range(hours)] for w in range(7)]


CHARTS = {
    "bars 13 h": lambda: bar_chart(bars(13), "h"),
    "bars 24 h": lambda: bar_chart(bars(24), "h"),
    "bars 13 h phone": lambda: bar_chart(bars(13), "h", width=PHONE_W, height=230),
    "bars 24 h phone": lambda: bar_chart(bars(24), "h", width=PHONE_W, height=230),
    "trend 30": lambda: trend_chart(points(30), "t"),
    "trend 365": lambda: trend_chart(points(365), "t"),
    "trend 30 phone": lambda: trend_chart(points(30), "t", width=PHONE_W, height=230, max_labels=4),
    "trend 365 phone": lambda: trend_chart(points(365), "t", width=PHONE_W, height=230, max_labels=4),
    "heat map 13 h": lambda: heatmap(grid(13), DAYS, [f"{h:02d}" for h in range(8, 21)], "m"),
    "heat map 24 h": lambda: heatmap(grid(24), DAYS, [f"{h:02d}" for h in range(24)], "m"),
    "heat map phone": lambda: heatmap(grid(24), DAYS, [f"{h:02d}" for h in range(24)], "m", transpose=True,
                                      cell_w=(PHONE_W - 38) / 7),
    "reasons": lambda: hbar_chart([("Jono kassalla", 12), ("Hinta", 4)], "r"),
}
PHONE = [name for name in CHARTS if name.endswith("phone") or name == "reasons"]


def min_width(svg: str) -> float:
    m = re.search(r'style="min-width:(\d+)px"', svg)
    assert m, "a chart with text carries its min-width"
    return float(m.group(1))


@pytest.mark.parametrize("name", list(CHARTS))
def test_no_text_under_12_px_at_the_narrowest_width_the_chart_allows(name):
    svg = CHARTS[name]()
    root = ET.fromstring(svg)
    view_w = float(root.get("viewBox").split()[2])
    scale = min_width(svg) / view_w
    sizes = [float(t.get("font-size")) for t in root.iter(f"{NS}text")]
    assert sizes and min(sizes) * scale >= MIN_TEXT_PX - 1e-9


@pytest.mark.parametrize("name", PHONE)
def test_phone_layouts_fit_a_phone_card_without_scrolling(name):
    assert min_width(CHARTS[name]()) <= PHONE_CARD_PX


@pytest.mark.parametrize("name", ["trend 30", "trend 365", "trend 30 phone", "trend 365 phone"])
def test_trend_labels_never_overlap_and_keep_the_first_and_last_day(name):
    root = ET.fromstring(CHARTS[name]())
    labels = [t for t in root.iter(f"{NS}text") if t.get("font-size") == "16"]
    days = points(365 if "365" in name else 30)
    assert labels[0].text == days[0].label and labels[-1].text == days[-1].label
    spans = []
    for t in labels:
        x, w = float(t.get("x")), len(t.text) * 16 * 0.62
        spans.append({"start": (x, x + w), "end": (x - w, x), "middle": (x - w / 2, x + w / 2)}[t.get("text-anchor")])
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False)), spans


def test_the_phone_heat_map_has_the_weekdays_across_and_every_hour_down():
    svg = CHARTS["heat map phone"]()
    root = ET.fromstring(svg)
    texts = [t.text for t in root.iter(f"{NS}text")]
    assert texts[:7] == DAYS  # column heads
    assert all(f"{h:02d}" in texts for h in range(24))  # the later hours are there, not off-screen
    assert "Tue 02: ▼52" not in svg and "Tue 02: 52 (N 30)" in svg  # titles still read weekday first
