"""``hymy report``: prints a store's report from the real database, or sends it over real SMTP."""

from __future__ import annotations

from click.testing import CliRunner

from hymy.cli import cli
from tests.alerts.helpers import add_store, make_db
from tests.alerts.servers import smtp_server
from tests.alerts.test_reports_send import HOURS, fill_day, set_channels


def test_report_cli_prints_text_and_html_and_sends(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path}/server.db"
    db = make_db(url)
    sid, dev = add_store(db, hours=HOURS)
    fill_day(db, sid, dev)
    set_channels(db, sid)
    db.dispose()
    runner = CliRunner()
    out = runner.invoke(cli, ["report", sid, "--date", "2026-11-23", "--database-url", url])
    assert out.exit_code == 0, out.output
    assert "Hymy daily report: Kauppa Keskusta, Mon 23.11.2026: Happy Index 67, N=3" in out.output
    html = runner.invoke(cli, ["report", sid, "--date", "2026-11-23", "--weekly", "--html", "--database-url", url])
    assert html.exit_code == 0 and "<!doctype html>" in html.output and "weekly" in html.output.lower()
    bad = runner.invoke(cli, ["report", "nope", "--database-url", url])
    assert bad.exit_code != 0 and "does not exist" in bad.output
    with smtp_server() as (port, sink):
        monkeypatch.setenv("HYMY_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("HYMY_SMTP_PORT", str(port))
        monkeypatch.setenv("HYMY_SMTP_FROM", "hymy@shop.example")
        sent = runner.invoke(cli, ["report", sid, "--date", "2026-11-23", "--send", "--database-url", url])
        assert sent.exit_code == 0, sent.output
        (msg,) = sink.wait_for(1)
    assert "sent daily report" in sent.output and sink.envelopes[0][1] == ["boss@shop.example"]
    assert msg["Subject"].endswith("Happy Index 67, N=3")
