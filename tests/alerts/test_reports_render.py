"""server.reports.render: the daily/weekly report as text and self-contained HTML, sent over real SMTP."""

from __future__ import annotations

import re
from datetime import date
from html.parser import HTMLParser

from server.alerts.smtp import SmtpSettings, send_message
from server.reports.render import ChartRow, ReportData, render_report, report_mail
from tests.alerts.servers import smtp_server


def day_report(**kw) -> ReportData:
    rows = [ChartRow(f"{h:02d}", {1: h % 3, 2: 1, 3: 4, 4: h}) for h in range(8, 21)]
    base = dict(
        store_id="s1", store_name="Kauppa <Keskusta> & co", timezone="Europe/Helsinki", period="daily",
        start=date(2026, 11, 23), end=date(2026, 11, 23), scale=4,
        counts={4: 126, 3: 60, 2: 16, 1: 17},  # HappyOrNot's published example: index 78
        rows=rows, reasons=[("Queue", 9), ("Price", 4)], praise=[("Anna at the till", 3)],
        comments=["Long queue at 17"], url="http://hymy.local/stores/s1",
    )
    base.update(kw)
    return ReportData(**base)


class Resources(HTMLParser):
    """Every URL the HTML would load by itself (img/src, link/href, url(...) in styles)."""

    def __init__(self):
        super().__init__()
        self.loads: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "background", "srcset") or (tag == "link" and name == "href"):
                self.loads.append(value or "")
            if name == "style" and value and "url(" in value:
                self.loads.append(value)


def test_report_daily_shows_index_n_faces_hours_reasons_and_praise():
    r = render_report(day_report())
    assert r.subject == "Hymy daily report: Kauppa <Keskusta> & co, Mon 23.11.2026: Happy Index 78, N=219"
    assert "Happy Index: 78" in r.text and "N: 219" in r.text
    assert re.search(r"very happy\s+126", r.text) and re.search(r"very unhappy\s+17", r.text)
    assert "Queue" in r.text and "Anna at the till" in r.text and "Long queue at 17" in r.text
    assert re.search(r"^  20\s+█{30}\s+27", r.text, re.M)  # the busiest hour has the longest bar
    assert ">78<" in r.html and "N = 219" in r.html
    assert "Kauppa &lt;Keskusta&gt; &amp; co" in r.html  # escaped
    assert r.html.count('class="bar"') >= 13


def test_report_html_needs_no_external_images():
    r = render_report(day_report())
    parser = Resources()
    parser.feed(r.html)
    assert parser.loads == []
    assert "img" not in parser.tags and "script" not in parser.tags


def test_report_bars_are_proportional():
    r = render_report(day_report(rows=[ChartRow("09", {4: 10}), ChartRow("10", {4: 5}), ChartRow("11", {})]))
    widths = [int(w) for w in re.findall(r'class="bar" width="(\d+)"', r.html)]
    assert widths == [240, 120]


def test_report_empty_day_and_low_confidence_are_honest():
    empty = render_report(day_report(counts={}, rows=[], reasons=[], praise=[], comments=[]))
    assert empty.subject.endswith(": no presses") and "No counted presses" in empty.text
    low = render_report(day_report(counts={1: 2, 4: 3}))
    assert "low confidence" in low.text and "low confidence" in low.html


def test_report_weekly_labels_days():
    rows = [ChartRow(d, {4: 3, 1: 1}) for d in ("Mon 23.11.", "Tue 24.11.", "Wed 25.11.")]
    r = render_report(day_report(period="weekly", end=date(2026, 11, 29), rows=rows))
    assert r.subject.startswith("Hymy weekly report: ") and "23.11.-29.11.2026" in r.subject
    assert "Presses by day" in r.text and "Tue 24.11." in r.html


def test_report_mail_has_plain_and_html_parts_through_real_smtp():
    with smtp_server() as (port, sink):
        settings = SmtpSettings(host="127.0.0.1", port=port, sender="hymy@shop.example")
        send_message(settings, report_mail(settings, ["boss@shop.example"], day_report()))
        (msg,) = sink.wait_for(1)
    assert msg.get_content_type() == "multipart/alternative"
    assert "Happy Index: 78" in msg.get_body(("plain",)).get_content()
    assert 'class="bar"' in msg.get_body(("html",)).get_content()
    assert msg["Subject"].startswith("Hymy daily report: Kauppa")
