"""``hymy status``: identity, backlog, last sync, clock, disk; text for people, JSON for machines."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from hymy import __version__
from hymy.cli import cli
from hymy.timestamps import format_ts
from kiosk.capture import build_response
from kiosk.clock import ClockReading
from kiosk.config import load_config
from kiosk.status import device_status, format_status
from kiosk.store import Store
from kiosk.storeconfig import write_store_config
from sync.protocol import default_store_config

KEYS = {"device_id", "device_name", "store", "store_id", "version", "config_file", "data_dir", "server_url",
        "enrolment", "pending", "oldest_pending_s", "quarantined", "last_sync", "clock_synced", "clock_source",
        "boot_id", "disk_free_mb", "store_recovered", "provision_error"}


@pytest.fixture
def device(tmp_path):
    data = tmp_path / "data"
    toml = tmp_path / "kiosk.toml"
    toml.write_text(f'[device]\nname = "exit-1"\ndata_dir = "{data}"\nclock = "trust"\n\n'
                    '[server]\nurl = "https://hymy.example"\n')
    return toml, data


def test_status_of_a_fresh_device(device):
    toml, data = device
    status = device_status(load_config(toml))
    assert set(status) == KEYS
    assert status["device_id"] is None and status["enrolment"] == "not enrolled"
    assert status["pending"] == 0 and status["oldest_pending_s"] is None and status["last_sync"] is None
    assert status["version"] == __version__ and status["data_dir"] == str(data)
    assert status["clock_synced"] is True and status["clock_source"] == "trust"
    assert status["disk_free_mb"] > 0 and status["store_recovered"] is None
    text = format_status(status)
    for line in ("Device:", "(not enrolled) (exit-1)", "Pending events: 0", "Oldest pending: -", "Last sync:",
                 "never", "Clock:", "synced (source: trust)", "Disk free:", "Server:", "https://hymy.example"):
        assert line in text


def test_status_shows_backlog_last_sync_and_store(device):
    toml, data = device
    cfg = load_config(toml)
    store_cfg = default_store_config().model_copy(update={"store_id": "s-42", "store_name": "Kauppa Keskusta"})
    write_store_config(cfg.store_config_path, store_cfg, etag="e1")
    with Store(cfg.store_path) as store:
        old = datetime.now(UTC) - timedelta(minutes=10)
        store.append(build_response(1, "button", ClockReading(old, True, "b", 1), store_cfg, []))
        store._conn.execute("UPDATE events SET stored_at = ?", (format_ts(old),))
        store.set_meta("device_id", "dev-7")
        store.set_meta("enrolment", "enrolled")
        store.set_meta("last_sync", json.dumps({"at": "2026-11-23T10:00:00.000Z", "ok": False,
                                                "error": "server unreachable", "last_success_at": None}))
    status = device_status(cfg)
    assert status["device_id"] == "dev-7" and status["store"] == "Kauppa Keskusta" and status["store_id"] == "s-42"
    assert status["pending"] == 1 and 590 <= status["oldest_pending_s"] <= 700
    text = format_status(status)
    assert "dev-7 (exit-1)" in text and "Kauppa Keskusta (s-42)" in text
    assert "failed at 2026-11-23T10:00:00.000Z: server unreachable" in text
    assert "Oldest pending: 6" in text  # 600-ish seconds


def test_status_command_text_and_json(device):
    toml, _ = device
    runner = CliRunner()
    as_json = runner.invoke(cli, ["status", "--json", "--config", str(toml)])
    assert as_json.exit_code == 0, as_json.output
    assert set(json.loads(as_json.output)) == KEYS
    text = runner.invoke(cli, ["status"], env={"HYMY_CONFIG": str(toml)})
    assert text.exit_code == 0 and "Pending events: 0" in text.output


def test_status_shows_a_refused_provisioning_file(device):
    toml, data = device
    config = load_config(toml)
    assert device_status(config)["provision_error"] is None
    config.provision_error_path.write_text("line 3: server.url: must start with https:// or http://\n")
    status = device_status(config)
    assert status["provision_error"] == "line 3: server.url: must start with https:// or http://"
    assert "Provisioning:" in format_status(status) and "REFUSED: line 3: server.url" in format_status(status)
