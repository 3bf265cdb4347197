import xml.etree.ElementTree as ET

import pytest

from server.dashboard.charts import (
    Bar,
    Cell,
    Point,
    bar_chart,
    faces_bar,
    hbar_chart,
    heatmap,
    trend_chart,
)

NS = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def test_faces_bar_widths_follow_shares():
    root = parse(faces_bar([10, 0, 30, 60], 4, labels=["a", "b", "c", "d"], width=100))
    rects = [r for r in root.iter(f"{NS}rect") if "face" in (r.get("class") or "")]
    assert [round(float(r.get("width"))) for r in rects] == [10, 30, 60]
    assert rects[0].find(f"{NS}title").text == "a: 10 (10 %)"


def test_faces_bar_empty_is_grey_and_rejects_wrong_length():
    root = parse(faces_bar([0, 0, 0], 3))
    assert len(list(root.iter(f"{NS}rect"))) == 2  # pattern background + the grey bar
    with pytest.raises(ValueError, match="scale 4"):
        faces_bar([1, 2], 4)


def test_bar_chart_marks_low_confidence_and_prints_n():
    svg = bar_chart([Bar("8", 80, 25), Bar("9", 40, 3), Bar("10", None, 0)], label="hours")
    root = parse(svg)
    groups = [g for g in root.iter(f"{NS}g") if "bar" in (g.get("class") or "")]
    assert [g.get("class") for g in groups] == ["bar", "bar low"]
    texts = [t.text for t in root.iter(f"{NS}text")]
    assert "25" in texts and "3" in texts and "0" in texts
    assert "9: 40 (N 3) *" in svg


def test_trend_chart_breaks_line_on_missing_and_low_days():
    pts = [Point("1", 70, 30), Point("2", 72, 30), Point("3", None, 0), Point("4", 10, 5), Point("5", 80, 40),
           Point("6", 81, 40)]
    root = parse(trend_chart(pts, label="t"))
    lines = list(root.iter(f"{NS}polyline"))
    assert len(lines) == 2
    assert len(lines[0].get("points").split()) == 2
    lows = [c for c in root.iter(f"{NS}circle") if "low" in c.get("class")]
    assert len(lows) == 1


def test_trend_chart_empty_and_single_point():
    parse(trend_chart([], label="t"))
    root = parse(trend_chart([Point("1", 50, 50)], label="t"))
    assert len(list(root.iter(f"{NS}circle"))) == 1


def test_heatmap_grid_and_validation():
    rows = [[Cell(None, 0), Cell(90, 30)], [Cell(20, 3), Cell(50, 50)]]
    root = parse(heatmap(rows, ["ma", "ti"], ["8", "9"], label="h"))
    titles = [t.text for t in root.iter(f"{NS}title")]
    assert "ma 8: - (N 0)" in titles and "ti 8: 20 (N 3) *" in titles
    with pytest.raises(ValueError):
        heatmap(rows, ["ma"], ["8", "9"], label="h")
    with pytest.raises(ValueError):
        heatmap([[Cell(1, 1)]], ["ma"], ["8", "9"], label="h")


def test_hbar_chart_escapes_labels():
    svg = hbar_chart([("<Jono>", 5), ("Hinta", 2)], label="r")
    assert "&lt;Jono&gt;" in svg
    parse(svg)


def test_only_a_verdict_colours_a_mark_or_draws_an_arrow():
    """Bars and heat-map cells judged lower / higher than usual get the orange / blue mark and ▼ / ▲;
    within the usual range, too few presses or not compared: no colour of change, no arrow."""
    words = {"lower": "Lower than usual", "higher": "Higher than usual", "usual": "Within the usual range"}
    svg = bar_chart([Bar("14", 80, 30, "usual"), Bar("15", 26, 30, "lower"), Bar("16", 95, 40, "higher"),
                     Bar("17", 60, 30)], label="h", verdict_words=words)
    root = parse(svg)
    groups = [g for g in root.iter(f"{NS}g") if "bar" in (g.get("class") or "")]
    assert [g.get("class") for g in groups] == ["bar", "bar lower", "bar higher", "bar"]
    assert [t.text for t in root.iter(f"{NS}text") if t.text in ("▼", "▲")] == ["▼", "▲"]
    assert "15: 26 (N 30) · Lower than usual" in svg and "14: 80 (N 30) · Within the usual range" in svg
    cells = [[Cell(80, 30, "usual"), Cell(26, 30, "lower"), Cell(95, 40, "higher"), Cell(60, 5, "too_few"),
              Cell(None, 0)]]
    root = parse(heatmap(cells, ["ti"], ["14", "15", "16", "17", "18"], label="h", verdict_words=words))
    rects = [r for r in root.iter(f"{NS}rect") if "cell" in (r.get("class") or "")]
    fills = [r.get("fill") for r in rects]
    assert fills[1] != fills[0] != fills[2] != fills[1] and fills[0] == "#eef1f4"  # only verdicts are coloured
    assert fills[3] == fills[4] == "#ffffff" and rects[3].get("stroke-dasharray")  # too few: dashed, pale
    assert [r.get("class") for r in rects] == ["cell", "cell lower", "cell higher", "cell", "cell"]
    assert [t.text for t in root.iter(f"{NS}text")][-4:] == ["80", "▼26", "▲95", "60"]
