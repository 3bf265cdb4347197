"""The dashboard and the reports colour faces and indexes from the one palette (hymy.palette)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date

import pytest

from hymy import palette
from server.dashboard import colours
from server.dashboard.charts import faces_bar, hbar_chart
from server.reports.render import ChartRow, ReportData, render_report

CSS = colours.CSS_FILE.read_text(encoding="utf-8")
NS = "{http://www.w3.org/2000/svg}"


def test_stylesheet_carries_the_palette_block_generated_from_the_module():
    assert colours.css_block(CSS) == colours.palette_css(), "run: python -m server.dashboard.colours"


@pytest.mark.parametrize("scale", [3, 4, 5])
def test_each_face_dot_of_the_stylesheet_is_the_palette_colour(scale):
    props = dict(re.findall(r"--([a-z0-9-]+):\s*([^;]+);", CSS))

    def resolve(value: str) -> str:
        while (m := re.fullmatch(r"var\(--([a-z0-9-]+)\)", value.strip())):
            value = props[m.group(1)]
        return value.strip().upper()

    for face in palette.palette(scale):
        rule = re.search(rf"\.s{scale} \.face-{face.mood} \.dot \{{ background: ([^;]+); \}}", CSS)
        assert rule, (scale, face.mood)
        assert resolve(rule.group(1)) == face.hex.upper()


def test_no_old_face_colours_left_in_the_stylesheet():
    """The red / salmon / light green / dark green scheme the dashboard had before the one palette."""
    for old in ("#ef7d6a", "#8fcf7f", "#f9a825", "--f1", "--fmid"):
        assert old not in CSS.lower()


def test_index_colours_run_along_the_face_palette_not_red_to_green():
    five = [f.hex for f in palette.palette(5)]
    assert [colours.index_colour(v) for v in (0, 25, 50, 75, 100)] == five
    assert colours.index_colour(-5) == five[0] and colours.index_colour(130) == five[-1]
    assert colours.index_colour(None) == colours.NO_DATA
    for v in range(0, 101, 5):
        fill = colours.index_colour(v)
        assert palette.contrast(colours.ink(fill), fill) >= 4.5, v  # the index printed on it reads


@pytest.mark.parametrize("scale", [3, 4, 5])
def test_charts_draw_each_face_in_its_palette_colour(scale):
    root = ET.fromstring(faces_bar([1] * scale, scale, labels=[f.face for f in palette.palette(scale)]))
    fills = [r.get("fill") for r in root.iter(f"{NS}rect") if "face" in (r.get("class") or "")]
    assert fills == [f.hex for f in palette.palette(scale)]
    assert f'fill="{palette.face_colour(2, 4).hex}"' in hbar_chart([("Jono", 3)], label="r")


def test_the_report_colours_each_face_from_the_palette_with_its_name_beside_it():
    d = ReportData(store_id="s", store_name="Kauppa", timezone="Europe/Helsinki", period="daily",
                   start=date(2026, 3, 2), end=date(2026, 3, 2), scale=4, counts={1: 3, 2: 5, 3: 20, 4: 40},
                   rows=[ChartRow("10", {1: 3, 2: 5, 3: 20, 4: 40})])
    html = render_report(d).html
    for face in palette.palette(4):
        assert face.hex.lower() in html.lower()
    for old in ("#d9534f", "#f0ad4e", "#9ccc65", "#43a047"):
        assert old not in html.lower()
    faces = re.findall(r'background:(#[0-9A-Fa-f]{6})"></span> ([^<]+)</td>', html)  # the faces table
    assert [(c.upper(), n.strip()) for c, n in faces] == [(f.hex, f.face) for f in reversed(palette.palette(4))]
    legend = re.findall(r'background:(#[0-9A-Fa-f]{6})"></span> ([^<·]+)', html.split("Presses by hour")[1])
    assert [(c.upper(), n.strip()) for c, n in legend[:4]] == [(f.hex, f.face) for f in palette.palette(4)]
