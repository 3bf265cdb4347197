"""``hymy status``: identity, backlog, last sync, clock, disk; text for people, JSON for machines."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from hymy import __version__
from hymy.cli import cli
from hymy.protocol import default_store_config
from hymy.timestamps import format_ts
from kiosk.capture import build_response
from kiosk.clock import ClockReading
from kiosk.config import load_config
from kiosk.status import device_status, format_status
from kiosk.store import Store
from kiosk.storeconfig import write_store_config

KEYS = {"device_id", "device_name", "store", "store_id", "version", "config_file", "data_dir", "server_url",
        "enrolment", "pending", "oldest_pending_s", "quarantined", "last_sync", "clock_synced", "clock_source",
        "boot_id", "disk_free_mb", "store_file", "store_recoveries", "store_recovered", "provision_error"}


@pytest.fixture
def device(tmp_path):
    data = tmp_path / "data"
    toml = tmp_path / "kiosk.toml"
    toml.write_text(f'[device]\nname = "exit-1"\ndata_dir = "{data}"\nclock = "trust"\n\n'
                    '[server]\nurl = "https://hymy.example"\n')
    return toml, data


def _tree(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def test_status_of_a_fresh_device_creates_nothing_and_says_there_is_no_store(device):
    """Issue 14 #16: status only reads. Before the kiosk ever ran there is no store: it says so plainly
    (no "Pending events: 0" from a store it made itself) and leaves no file or folder behind."""
    toml, data = device
    before = _tree(toml.parent)
    status = device_status(load_config(toml))
    assert _tree(toml.parent) == before and not data.exists(), "status created nothing"
    assert set(status) == KEYS
    assert status["store_file"] == {"path": str(data / "kiosk.db"), "state": "missing",
                                    "detail": "no store yet: the kiosk creates it when it first starts"}
    assert status["device_id"] is None and status["enrolment"] == "not enrolled"
    assert status["pending"] is None and status["oldest_pending_s"] is None and status["last_sync"] is None
    assert status["version"] == __version__ and status["data_dir"] == str(data)
    assert status["clock_synced"] is True and status["clock_source"] == "trust"
    assert status["disk_free_mb"] > 0 and status["store_recovered"] is None and status["store_recoveries"] == 0
    text = format_status(status)
    for line in ("Device:", "(not enrolled) (exit-1)", "Local store:", f"none at {data / 'kiosk.db'}",
                 "Pending events: unknown", "Oldest pending: -", "Last sync:", "never", "Clock:",
                 "synced (source: trust)", "Disk free:", "Server:", "https://hymy.example"):
        assert line in text
    assert "Pending events: 0" not in text


def test_status_without_a_config_creates_nothing_in_the_current_directory(tmp_path, monkeypatch):
    """``hymy status`` with no config (development defaults: data in ``.hymy/``) used to create
    ``.hymy/kiosk.db`` and a 4 MB reserve file where it was run."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HYMY_CONFIG", raising=False)
    monkeypatch.setattr("kiosk.config.DEFAULT_PATH", tmp_path / "no-such" / "kiosk.toml")
    result = CliRunner().invoke(cli, ["status"])
    assert result.exit_code == 0, result.output
    assert list(tmp_path.iterdir()) == [], "nothing created (no .hymy/, no kiosk.db, no reserve)"
    assert "Local store:" in result.output and "none at" in result.output


def test_status_reads_a_store_in_use_without_changing_it(device):
    """A store the kiosk has closed (no -wal) is read without making -wal/-shm files; one in use is
    read through its WAL (what the kiosk committed a moment ago counts)."""
    toml, data = device
    cfg = load_config(toml)
    with Store(cfg.store_path) as store:
        store.append(build_response(2, "touch", ClockReading(datetime.now(UTC), True, "b", 1),
                                    default_store_config(), []))
        assert device_status(cfg)["pending"] == 1  # the kiosk is running: read through the WAL
    before = _tree(data)
    assert device_status(cfg)["pending"] == 1
    assert _tree(data) == before, "nothing created next to a closed store"


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
    assert text.exit_code == 0 and "Pending events: unknown" in text.output


def test_status_shows_a_refused_provisioning_file(device):
    toml, data = device
    config = load_config(toml)
    assert device_status(config)["provision_error"] is None
    config.provision_error_path.parent.mkdir(parents=True)  # (status itself creates nothing)
    config.provision_error_path.write_text("line 3: server.url: must start with https:// or http://\n")
    status = device_status(config)
    assert status["provision_error"] == "line 3: server.url: must start with https:// or http://"
    assert "Provisioning:" in format_status(status) and "REFUSED: line 3: server.url" in format_status(status)


def test_status_of_a_store_it_cannot_read_says_so_without_a_traceback(device):
    """A store path that cannot be opened (here a directory; on a Pi, a data dir only the kiosk's user
    may read): status names the file and the reason, exit code 1."""
    toml, data = device
    (data / "kiosk.db").mkdir(parents=True)
    result = CliRunner().invoke(cli, ["status", "--config", str(toml)])
    assert result.exit_code == 1, result.output
    assert "Local store:" in result.output and "CANNOT READ" in result.output and "kiosk.db" in result.output
    assert "Pending events: unknown" in result.output
