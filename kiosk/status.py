"""What ``hymy status`` and the maintenance screen show about this device."""

from __future__ import annotations

import json
import shutil
from typing import Any

from hymy import __version__
from kiosk.clock import SystemClock
from kiosk.config import DeviceConfig
from kiosk.store import Store
from kiosk.storeconfig import StoreConfigCache


def device_status(config: DeviceConfig, store: Store | None = None) -> dict[str, Any]:
    """A JSON-ready snapshot: identity, backlog, last sync, clock, disk and store recoveries."""
    own = store is None
    store = store or Store(config.store_path)
    try:
        store_config = StoreConfigCache(config.store_config_path)()
        last_sync = json.loads(store.get_meta("last_sync") or "null")
        recovered = json.loads(store.get_meta("recovered") or "null")
        enrolment = store.get_meta("enrolment") or ("enrolled" if config.token_path.exists() else "not enrolled")
        disk = shutil.disk_usage(config.data_dir)
        clock = SystemClock.for_config(config.device)
        return {
            "device_id": store.get_meta("device_id"),
            "device_name": config.device.name,
            "store": store_config.store_name,
            "store_id": store_config.store_id,
            "version": __version__,
            "config_file": str(config.source) if config.source else None,
            "data_dir": str(config.data_dir),
            "server_url": config.server.url,
            "enrolment": enrolment,
            "pending": store.pending_count(),
            "oldest_pending_s": store.oldest_pending_age(),
            "quarantined": store.quarantined_count(),
            "last_sync": last_sync,
            "clock_synced": clock.synced(),
            "clock_source": config.device.clock,
            "boot_id": clock.boot_id,
            "disk_free_mb": round(disk.free / 2**20, 1),
            "store_recovered": recovered,
            "provision_error": _read_text(config.provision_error_path),
        }
    finally:
        if own:
            store.close()


def _read_text(path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip() or None
    except OSError:
        return None


def format_status(status: dict[str, Any]) -> str:
    """The human form: one ``label: value`` line each, problems spelled out."""
    last = status["last_sync"] or {}
    if not last:
        sync_line = "never"
    elif last.get("ok"):
        sync_line = f"ok at {last.get('at')}"
    else:
        sync_line = f"failed at {last.get('at')}: {last.get('error')}"
    age = status["oldest_pending_s"]
    rows = [
        ("Device", f"{status['device_id'] or '(not enrolled)'} ({status['device_name']})"),
        ("Store", f"{status['store']} ({status['store_id']})"),
        ("Version", status["version"]),
        ("Config", status["config_file"] or "(defaults)"),
        ("Data dir", status["data_dir"]),
        ("Server", status["server_url"] or "(none configured)"),
        ("Enrolment", status["enrolment"]),
        ("Pending events", str(status["pending"])),
        ("Oldest pending", "-" if age is None else f"{age:.0f} s"),
        ("Quarantined", str(status["quarantined"])),
        ("Last sync", sync_line),
        ("Clock", ("synced" if status["clock_synced"] else "NOT synced") + f" (source: {status['clock_source']})"),
        ("Disk free", f"{status['disk_free_mb']:.0f} MB"),
    ]
    rec = status["store_recovered"]
    if rec:
        rows.append(("Store recovered", f"corrupt file moved to {rec['moved_to']} at {rec['at']}"))
    if status.get("provision_error"):
        rows.append(("Provisioning", "REFUSED: " + status["provision_error"].replace("\n", " | ")))
    width = max(len(k) for k, _ in rows) + 1
    return "\n".join(f"{k + ':':<{width}} {v}" for k, v in rows)
