"""`hymy demo`'s data tells its stories (hymy.demostory), found the way a manager finds them: signed in on
the running demo's server, through the manager API, the CSV export and the pages.

- the stores rank apart on Compare, their indexes' 95 % intervals clear of each other;
- Kamppi's Tuesday 16-18 queue: the heat map's comparison (each weekday-hour against the rest of the
  week, Benjamini-Hochberg) flags both hours, "Queue" dominates their reasons, and on the first such
  Tuesday the hour Today would name ("differs most from usual") is one of them;
- past alerts: acknowledged, with the acknowledging manager's comment, when the story says;
- praise in fi, sv and en on the praise page; complaints in the manager's export, never on it.

The statistics are those of the pages (tests/storycheck.py); tests/hymy/test_demostory.py checks the
same stories on the plan for many start times.
"""

from __future__ import annotations

import csv
import io
import os
from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from hymy.demostory import COMPLIMENTS, DIP_HOURS, DIP_WEEKDAY, KAMPPI, SODERMALM, STORES, TAMPERE
from hymy.hours import zone
from hymy.pressplan import occurrences
from hymy.stats import LOWER, sample, sample_interval
from hymy.timestamps import parse_ts
from tests.e2e.demorun import running_demo
from tests.storycheck import Counted, day_hours, heat_map, reasons, the_one

pytestmark = pytest.mark.slow

DAYS = 30


def _complaints() -> set[str]:
    return {text for story in STORES for texts in
            [story.pattern.complaints, *(spell.complaints for spell in story.pattern.spells)] for text in texts}


def _export(client: httpx.Client, store: dict, end: datetime) -> tuple[list[dict], list[dict]]:
    """The manager's CSV export of a store's last ``DAYS`` days: (responses, follow-ups)."""
    last = end.astimezone(zone(store["timezone"])).date()
    r = client.get("/api/v1/export/responses.csv", params={"store": store["id"], "from": str(last - timedelta(days=DAYS + 1)),
                                                            "to": str(last)})
    assert r.status_code == 200, r.text
    rows = list(csv.DictReader(io.StringIO(r.text)))
    return [x for x in rows if x["type"] == "response"], [x for x in rows if x["type"] == "followup"]


def _counted(responses: list[dict], followups: list[dict], tz: str) -> list[Counted]:
    given: dict[str, list[str]] = {}
    for f in followups:
        if f["kind"] == "reason":
            given.setdefault(f["response_id"], []).append(f["value"])
    return [Counted(parse_ts(x["pressed_at"]).astimezone(zone(tz)), int(x["mood"]), int(x["scale"]),
                    tuple(given.get(x["id"], ()))) for x in responses if not x["flags"]]


def check_stories(url: str, password: str, end: datetime) -> None:
    """Every story of the module docstring, on the demo at ``url`` whose history ends about ``end``."""
    client = httpx.Client(base_url=url, timeout=30)
    assert client.post("/api/v1/session", json={"username": "manager", "password": password}).status_code == 200
    stores = {s["name"]: s for s in client.get("/api/v1/stores").json()}
    assert set(stores) == {s.name for s in STORES}

    # the stores differ: Compare ranks them, and their intervals do not overlap
    page = client.get("/compare?days=30").text
    assert sorted(stores, key=page.index) == [KAMPPI.name, TAMPERE.name, SODERMALM.name]
    exports = {name: _export(client, store, end) for name, store in stores.items()}
    counted = {name: _counted(*exports[name], stores[name]["timezone"]) for name in stores}
    figures = {}
    for name, presses in counted.items():
        s = sample(Counter(p.mood for p in presses), 4)
        figures[name] = (s.index, *sample_interval(s))
    assert figures[KAMPPI.name][1] > figures[TAMPERE.name][2] and figures[TAMPERE.name][1] > figures[SODERMALM.name][2]
    assert figures[KAMPPI.name][0] - figures[SODERMALM.name][0] > 15, figures

    # the Tuesday queue at Kamppi
    kamppi = counted[KAMPPI.name]
    dip = {(DIP_WEEKDAY, h) for h in range(*DIP_HOURS)}
    cells = heat_map(kamppi)
    assert {k for k, r in cells.items() if r.verdict == LOWER} >= dip and the_one(cells) in dip
    in_dip = reasons(p for p in kamppi if (p.local.weekday(), p.local.hour) in dip)
    assert in_dip.most_common(1)[0][0] == "queue" and in_dip["queue"] > sum(in_dip.values()) / 2, in_dip
    first = occurrences(KAMPPI.pattern, KAMPPI.timezone, end - timedelta(days=DAYS), end)[0][1]
    day = first.astimezone(zone(KAMPPI.timezone)).date()
    hours = day_hours(kamppi, day, range(8, 21))
    named = the_one(hours)
    assert named in range(*DIP_HOURS), {h: (r.verdict, r.n, r.baseline_n) for h, r in hours.items()}
    assert reasons(p for p in kamppi if p.local.date() == day and p.local.hour == named).most_common(1)[0][0] == "queue"

    # past alerts, acknowledged with comments, when the story says
    alerts = client.get("/api/v1/alerts").json()
    taken = {}
    for a in alerts:
        if a["status"] == "acknowledged":
            detail = client.get(f"/api/v1/alerts/{a['id']}").json()
            taken[a["id"]] = (a["store_id"], parse_ts(a["fired_at"]), a["acknowledged_by"],
                              [(c["author"], c["body"]) for c in detail["comments"]])
    by_store = Counter(store for store, *_ in taken.values())
    assert by_store == {stores[KAMPPI.name]["id"]: 2, stores[SODERMALM.name]["id"]: 1}, taken
    for store_id, fired, who, comments in taken.values():
        story = next(s for s in STORES if stores[s.name]["id"] == store_id)
        local = fired.astimezone(zone(story.timezone))
        spell = next(s for s in story.pattern.spells if s.watched)
        assert local.weekday() == spell.weekday and spell.hours[0] <= local.hour <= spell.hours[1], local
        assert any((who, a.comment) in comments for a in story.acknowledgements if a and a.by == who), comments

    # praise in three languages reaches the praise page; complaints are in the export, not there
    typed = [(int(by_id[f["response_id"]]), f["value"]) for name in stores
             for by_id in [{x["id"]: x["mood"] for x in exports[name][0]}]
             for f in exports[name][1] if f["kind"] == "comment" and f["response_id"] in by_id]
    for language in ("fi", "sv", "en"):
        texts = {t for by_language in COMPLIMENTS.values() for t in by_language.get(language, ())}
        assert {text for mood, text in typed if mood == 4} & texts, language
    assert {text for mood, text in typed if mood <= 2} & _complaints()
    praise_page = client.get("/praise").text
    shown = {t for by_language in COMPLIMENTS.values() for texts in by_language.values() for t in texts
             if t in praise_page}
    assert shown and not {t for t in _complaints() if t in praise_page}
    counts = {(c["kind"], c["value"]): c["n"] for c in client.get(
        f"/api/v1/stores/{stores[KAMPPI.name]['id']}/followups",
        params={"from": str(end.date() - timedelta(days=DAYS)), "to": str(end.date())}).json()}
    assert counts[("praise", "cashier")] > counts[("praise", "advice")] > 100


def test_the_demo_data_tells_its_stories(tmp_path):
    end = datetime.now(UTC)
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    with running_demo(["--no-screen", "--port", "0", "--dir", str(tmp_path / "demo")], env, 300) as demo:
        assert any("Past alerts replayed" in line for line in demo.lines), demo.lines
        check_stories(demo.banner("Dashboard:").rstrip("/"), demo.banner("Login:").split()[-1], end)
