"""When and why, honestly, over HTTP (the real app, a real SQLite file), in Finnish, Swedish and English:
Today's hour strip, the hour that differs most from its usual with the reasons given in it, a store
closed today, the day's open hours, the heat map's verdicts, dates with years, the store chosen last.

The stores' stories are known (``usual_data``): eight steady Tuesdays, then a Tuesday whose 15-16 went
wrong (store A); the same dip every Tuesday for weeks (store B, for the heat map); a store closed on
Sundays (store C). The pages' clock is set to that Tuesday afternoon (``period.clock``).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from server import auth
from server.app import create_app
from server.dashboard import period
from server.settings import Settings

from .harness import sign_in
from .usual_data import BAD, STEADY, deliver, hour_presses, store_with_device

PW = "insight-password-123"
TUESDAY = date(2026, 11, 24)
NOW = datetime(2026, 11, 24, 15, 30, tzinfo=UTC)  # Tuesday 17:30 in Helsinki
SUNDAY_NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)  # Sunday 11:00 in Helsinki
WEEK = {d: ["08:00-20:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat")}
WORDS = {
    "fi": {"lower_hour": "klo 15–16 tavallista alempi", "then": "Syyt silloin: Jono 24", "closed": "Suljettu tänään",
           "next": "Seuraavan kerran auki: maanantai 8.00", "today": "Syyt tänään:", "face": "Erittäin tyytymätön"},
    "sv": {"lower_hour": "kl. 15–16 lägre än vanligt", "then": "Skäl då: Kön 24", "closed": "Stängt i dag",
           "next": "Öppnar nästa gång: måndag 08:00", "today": "Skäl i dag:", "face": "Mycket missnöjd"},
    "en": {"lower_hour": "15–16 lower than usual", "then": "Reasons given then: Queue 24", "closed": "Closed today",
           "next": "Next open: Monday 08:00", "today": "Reasons today:", "face": "Very unhappy"},
}


@pytest.fixture(scope="module")
def story(tmp_path_factory):
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path_factory.mktemp('insight')}/server.db",
                              background_jobs=False))
    engine = app.state.engine
    a, dev_a = store_with_device(engine, "A Kauppa", WEEK | {"sun": ["10:00-18:00"]})
    b, dev_b = store_with_device(engine, "B Kauppa", WEEK)
    c, dev_c = store_with_device(engine, "C Kauppa", WEEK)
    events = []
    for week in range(1, 9):  # eight steady Tuesdays before: the usual
        events += [e for h in range(9, 17) for e in hour_presses(TUESDAY - timedelta(weeks=week), h, STEADY)]
    events += [e for h in range(9, 17) if h != 15 for e in hour_presses(TUESDAY, h, STEADY)]
    events += hour_presses(TUESDAY, 15, BAD, reason="queue")  # today 15-16 went wrong, and customers said why
    deliver(engine, dev_a, a, events)
    events = []
    for back in range(1, 57):  # store B: eight weeks in which every Tuesday 15-16 is bad
        day = TUESDAY - timedelta(days=back)
        if day.weekday() < 5:
            events += [e for h in (13, 14, 15, 16) for e in
                       hour_presses(day, h, BAD if (day.weekday(), h) == (1, 15) else STEADY)]
    deliver(engine, dev_b, b, events)
    deliver(engine, dev_c, c, hour_presses(TUESDAY - timedelta(days=1), 12, STEADY))
    auth.create_user(engine, "maija", PW, "admin", display_name="Maija")
    yield app, {"a": a, "b": b, "c": c}
    engine.dispose()


@pytest.fixture
def client(story, monkeypatch):
    monkeypatch.setattr(period, "clock", lambda: NOW)
    with TestClient(story[0]) as c:
        sign_in(c, "maija", PW)
        yield c


def card(html: str, store_id: str) -> str:
    start = html.index(f'id="store-{store_id}"')
    return html[start:html.index("</article>", start)]


def text(html: str) -> str:
    """What a reader sees: tags dropped, entities and white space as in a browser."""
    import html as h

    return re.sub(r"\s+", " ", h.unescape(re.sub(r"<[^>]+>", " ", html)))


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_today_names_the_hour_that_differs_most_and_the_reasons_given_in_it(client, story, lang):
    client.cookies.set("hymy_lang", lang)
    a = card(client.get("/today").text, story[1]["a"])
    words = WORDS[lang]
    assert words["lower_hour"] in text(a) and words["then"] in text(a)
    assert words["today"] in text(a) and words["face"] in text(a)  # the day's reasons; faces named, not dots
    # the strip: every open hour up to 19-20 drawn once, the bad hour marked lower; index 26 of 30 presses
    strip = re.search(r'<ol class="strip".*?</ol>', a, re.S).group(0)
    assert re.findall(r'<span class="hh">(\d\d)</span>', strip) == [f"{h:02d}" for h in range(8, 20)]
    assert re.search(r'<li class="lower"[^>]*><span class="hh">15</span><span class="v">▼26</span>', strip)
    assert strip.count("▼") == 1 and "▲" not in strip
    # the index with its 95 % range, and the stand-out hour's usual
    assert re.search(r"\(\d\d–\d\d\)", a) and "80" in text(a[a.index('class="standout'):])


def test_today_json_carries_the_interval_and_the_verdict_so_far(client, story):
    got = {s["id"]: s for s in client.get("/today.json").json()["stores"]}
    a = got[story[1]["a"]]
    assert a["n"] == 8 * 30 and a["interval"][0] <= a["index"] <= a["interval"][1]
    assert a["verdict"] in ("lower", "usual") and a["baseline"]["n"] == 8 * 8 * 30
    assert "▼" in a["html"]


def test_no_hour_is_singled_out_when_every_hour_is_usual(client, story, monkeypatch):
    monkeypatch.setattr(period, "clock", lambda: NOW - timedelta(weeks=1))  # the Tuesday before: steady
    a = card(client.get("/today").text, story[1]["a"])
    assert 'class="standout' not in a and "▼" not in a and "▲" not in a
    assert "Tavanomaisissa rajoissa" in text(a)


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_a_store_closed_today_says_so_and_when_it_opens_next(client, story, monkeypatch, lang):
    monkeypatch.setattr(period, "clock", lambda: SUNDAY_NOW)
    client.cookies.set("hymy_lang", lang)
    html = client.get("/today").text
    c = text(card(html, story[1]["c"]))
    assert WORDS[lang]["closed"] in c and WORDS[lang]["next"] in c
    assert "N =" not in c and "–" not in c  # not an empty figure like a broken kiosk
    a = text(card(html, story[1]["a"]))  # open on Sundays from 10
    assert WORDS[lang]["closed"] not in a and "N =" in a


def test_a_store_not_open_yet_today_says_when_it_opens(client, story, monkeypatch):
    monkeypatch.setattr(period, "clock", lambda: datetime(2026, 11, 29, 6, 0, tzinfo=UTC))  # Sunday 08:00
    client.cookies.set("hymy_lang", "en")
    a = text(card(client.get("/today").text, story[1]["a"]))
    assert "Opens today at 10:00" in a and "N =" not in a


def test_store_name_and_its_arrow_never_part(client, story):
    a = card(client.get("/today").text, story[1]["a"])
    assert re.search(r'A Kauppa<span class="go" aria-hidden="true">&nbsp;›</span></a>', a)


def test_day_page_draws_only_the_hours_the_store_was_open(client, story):
    """08-20 on weekdays, 10-18 on Sundays: a Sunday shows 10-18 only."""
    sid = story[1]["a"]
    sunday = date(2026, 11, 22)
    html = client.get(f"/stores/{sid}/day?date={sunday}").text
    rows = re.findall(r'<td class="nw">(\d\d)–\d\d</td>', html)
    assert rows == [f"{h:02d}" for h in range(10, 18)]
    svg = re.search(r'<svg[^>]*class="chart bar-chart".*?</svg>', html, re.S).group(0)
    labels = re.findall(r'fill="#1f2933"[^>]*>(\d\d)</text>', svg)  # the hour under each bar
    assert labels == [f"{h:02d}" for h in range(10, 18)]
    tuesday = client.get(f"/stores/{sid}/day?date={TUESDAY}").text
    assert re.findall(r'<td class="nw">(\d\d)–\d\d</td>', tuesday) == [f"{h:02d}" for h in range(8, 20)]
    row = re.search(r'<td class="nw">15–16</td>.*?</tr>', tuesday, re.S).group(0)
    assert "▼" in row and "Tavallista alempi" in row


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_heat_map_marks_the_recurring_dip_against_the_rest_of_the_week(client, story, monkeypatch, lang):
    client.cookies.set("hymy_lang", lang)
    html = client.get(f"/stores/{story[1]['b']}/heatmap?days=90").text
    svg = re.search(r'<svg[^>]*class="chart heatmap".*?</svg>', html, re.S).group(0)
    flagged = re.findall(r'<rect class="cell (lower|higher)"[^>]*><title>([^<]*)</title>', svg)
    tue = {"fi": "ti", "sv": "tis", "en": "Tue"}[lang]
    assert [f[0] for f in flagged] == ["lower"] and flagged[0][1].startswith(f"{tue} 15: 26")
    found = text(re.search(r'<ul class="found">.*?</ul>', html, re.S).group(0))
    assert f"{tue} 15–16: 26, N = 240" in found
    monkeypatch.setattr(period, "clock", lambda: NOW - timedelta(weeks=1))  # store A before its dip: steady
    a = client.get(f"/stores/{story[1]['a']}/heatmap?days=90").text
    assert 'class="cell lower"' not in a and 'class="cell higher"' not in a and 'class="cell"' in a


def test_trends_range_carries_years_when_it_spans_them(client, story):
    sid = story[1]["a"]
    client.cookies.set("hymy_lang", "en")
    def shown(days: int) -> str:
        return text(re.search(r'<span class="range">.*?</span>', client.get(f"/stores/{sid}/trends?days={days}").text)
                    .group(0)).strip()

    assert shown(365) == "25 Nov 2025 – 24 Nov 2026" and shown(30) == "26 Oct – 24 Nov 2026"
    client.cookies.set("hymy_lang", "fi")
    assert shown(365) == "25. marraskuuta 2025 – 24. marraskuuta 2026"
    client.cookies.set("hymy_lang", "sv")
    assert shown(365) == "25 nov. 2025–24 nov. 2026"


def test_the_store_chosen_last_is_kept_across_pages(client, story):
    a, b = story[1]["a"], story[1]["b"]
    assert client.get("/trends", follow_redirects=False).headers["location"] == f"/stores/{a}/trends"  # none yet
    client.get(f"/stores/{b}/heatmap")
    assert client.get("/trends", follow_redirects=False).headers["location"] == f"/stores/{b}/trends"
    def chosen(page: str) -> list[str]:
        form = re.search(r'<select name="store">.*?</select>', client.get(page).text, re.S).group(0)
        return re.findall(r'<option value="([^"]*)" selected>', form)

    assert chosen("/reasons") == [b] and chosen("/praise") == [b]
    client.get("/reasons?store=")  # all my stores
    assert chosen("/praise") == [] and chosen("/reasons") == []
    assert client.get("/trends", follow_redirects=False).headers["location"] == f"/stores/{a}/trends"


def test_every_store_page_has_a_store_switcher_keeping_page_and_period(client, story):
    a, b = story[1]["a"], story[1]["b"]
    for page in ("day", "trends", "heatmap"):
        html = client.get(f"/stores/{a}/{page}").text
        form = re.search(r'<form class="switch".*?</form>', html, re.S).group(0)
        assert f'name="page" value="{page}"' in form and f'<option value="{b}">B Kauppa</option>' in form
    r = client.get(f"/stores/go?store={b}&page=heatmap&days=365", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/stores/{b}/heatmap?days=365"
    r = client.get(f"/stores/go?store={b}&page=day&date=2026-11-20", follow_redirects=False)
    assert r.headers["location"] == f"/stores/{b}/day?date=2026-11-20"
    assert client.get("/stores/go?store=no-such&page=day").status_code == 404


@pytest.mark.parametrize("lang, one, two", [("fi", "1 avoin hälytys", "2 avointa hälytystä"),
                                            ("sv", "1 öppet larm", "2 öppna larm"),
                                            ("en", "1 open alert", "2 open alerts")])
def test_alerts_banner_names_the_stores_with_plural_forms(client, story, lang, one, two):
    from server.alerts.tables import alert_episodes

    engine = story[0].state.engine
    with engine.begin() as conn:
        conn.execute(alert_episodes.delete())
        conn.execute(alert_episodes.insert(), [dict(store_id=story[1]["a"], rule_id="r1", kind="negative_share",
                                                    rule_json="{}", fired_at="2026-11-24T15:00:00.000Z", n=9,
                                                    summary="x")])
    client.cookies.set("hymy_lang", lang)
    assert f"<b>{one}</b>: A Kauppa ·" in client.get("/today").text
    with engine.begin() as conn:
        conn.execute(alert_episodes.insert(), [dict(store_id=story[1]["b"], rule_id="r1", kind="negative_share",
                                                    rule_json="{}", fired_at="2026-11-24T15:10:00.000Z", n=9,
                                                    summary="x")])
    assert f"<b>{two}</b>: A Kauppa (1), B Kauppa (1) ·" in client.get("/today.json").json()["alerts_html"]
    with engine.begin() as conn:
        conn.execute(alert_episodes.delete())
