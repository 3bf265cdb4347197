"""The sample data (screenshots, tests) tells the demo's story too: the alert engine's episodes of Kamppi's
Tuesday queue, acknowledged with the story's comments, on the alerts page and in the alerts API."""

from __future__ import annotations

from fastapi.testclient import TestClient

from hymy.demostory import KAMPPI
from hymy.hours import zone
from hymy.timestamps import parse_ts
from server.app import create_app
from server.dashboard.sample import DEFAULT_PASSWORD as PW
from server.dashboard.sample import seed
from server.settings import Settings

from .harness import sign_in


def test_the_sample_has_kamppis_tuesday_alerts_acknowledged_with_comments(tmp_path):
    # no sweep of the app's own: only the replay moves an episode (see sample.replay_alerts)
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path}/s.db", alert_sweep_s=3600.0))
    sample = seed(app.state.engine, days=22, per_day=200, alerts=app.state.alerts)
    kamppi = sample.store_ids[0]
    with TestClient(app) as client:
        sign_in(client, "anna", PW)
        alerts = client.get("/api/v1/alerts", params={"store": kamppi}).json()
        assert alerts and all(a["status"] in ("acknowledged", "cleared") for a in alerts)
        fired = [parse_ts(a["fired_at"]).astimezone(zone(KAMPPI.timezone)) for a in alerts]
        assert {(f.weekday(), 16 <= f.hour < 18) for f in fired} == {(1, True)}, fired  # Tuesdays 16-18
        taken = [a for a in alerts if a["status"] == "acknowledged"]
        assert {a["acknowledged_by"] for a in taken} == {"Anna Virtanen"} and len(taken) == 2
        comments = [c["body"] for a in taken for c in client.get(f"/api/v1/alerts/{a['id']}").json()["comments"]]
        assert set(comments) >= {ack.comment for ack in KAMPPI.acknowledgements if ack}
        page = client.get("/alerts").text
        # each acknowledged episode names who took it (the page may name her again, e.g. by her comments)
        assert page.count("Anna Virtanen") >= len(taken) and "avoin" not in page  # nothing left open
