"""What ``hymy status`` and the maintenance screen show about this device.

``hymy status`` only reads: it never creates a store (nor its directory, lock or reserve file) and
never moves a damaged one aside; it says there is no store, or that the store is damaged, plainly.
The kiosk and the sync agent do the recovery when they open the file (``kiosk.store.recovery``).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from hymy import __version__
from hymy.errors import StoreCorrupt, StoreUnavailable
from kiosk.clock import SystemClock
from kiosk.config import DeviceConfig
from kiosk.store import Store, recovery
from kiosk.storeconfig import StoreConfigCache

#: The ``store_file`` states.
OK, MISSING, DAMAGED, UNREADABLE = "ok", "missing", "damaged", "unreadable"


def device_status(config: DeviceConfig, store: Store | None = None) -> dict[str, Any]:
    """A JSON-ready snapshot: identity, backlog, last sync, clock, disk and store recoveries.

    ``store`` is the caller's open store (the kiosk's maintenance screen); without it the store file
    is opened read-only. ``pending``, ``oldest_pending_s`` and ``quarantined`` are None when there is
    no readable store (``store_file`` says why)."""
    own = store is None
    state = {"path": str(config.store_path), "state": OK, "detail": None}
    if own:
        try:
            store = Store.read_only(config.store_path)
        except FileNotFoundError:
            state.update(state=MISSING, detail="no store yet: the kiosk creates it when it first starts")
        except StoreCorrupt as exc:
            state.update(state=DAMAGED, detail=str(exc))
        except StoreUnavailable as exc:
            state.update(state=UNREADABLE, detail=f"{exc} (run as the kiosk's user, or with sudo)")
    try:
        facts = _store_facts(store, config) if store is not None else None
    except StoreCorrupt as exc:
        state.update(state=DAMAGED, detail=str(exc))
        facts = None
    finally:
        if own and store is not None:
            store.close()
    facts = facts or {"device_id": None, "enrolment": "enrolled" if _exists(config.token_path) else "not enrolled",
                      "pending": None, "oldest_pending_s": None, "quarantined": None, "last_sync": None}
    store_config = StoreConfigCache(config.store_config_path)()
    clock = SystemClock.for_config(config.device)
    recoveries = store_recoveries(config.store_path)
    return {
        "device_id": facts["device_id"],
        "device_name": config.device.name,
        "store": store_config.store_name,
        "store_id": store_config.store_id,
        "version": __version__,
        "config_file": str(config.source) if config.source else None,
        "data_dir": str(config.data_dir),
        "server_url": config.server.url,
        "enrolment": facts["enrolment"],
        "pending": facts["pending"],
        "oldest_pending_s": facts["oldest_pending_s"],
        "quarantined": facts["quarantined"],
        "last_sync": facts["last_sync"],
        "clock_synced": clock.synced(),
        "clock_source": config.device.clock,
        "boot_id": clock.boot_id,
        "disk_free_mb": _disk_free_mb(config.data_dir),
        "store_file": state,
        "store_recoveries": len(recoveries),
        "store_recovered": recoveries[-1] if recoveries else None,
        "provision_error": _read_text(config.provision_error_path),
    }


def _store_facts(store: Store, config: DeviceConfig) -> dict[str, Any]:
    return {
        "device_id": store.get_meta("device_id"),
        "enrolment": store.get_meta("enrolment") or ("enrolled" if _exists(config.token_path) else "not enrolled"),
        "pending": store.pending_count(),
        "oldest_pending_s": store.oldest_pending_age(),
        "quarantined": store.quarantined_count(),
        "last_sync": json.loads(store.get_meta("last_sync") or "null"),
    }


def store_recoveries(path: Path) -> list[dict[str, Any]]:
    """Every damaged store moved aside next to ``path``, oldest first: its note (why, when, and what
    the salvage saved: ``read``, ``added``, ``unsent``, ``unreadable``; ``salvage`` "pending" until done)."""
    return [{"moved_to": str(moved), "at": None, "detail": None, "salvage": "pending", **recovery.read_note(moved)}
            for moved in recovery.evidence(path)]


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:  # no permission to look
        return False


def _disk_free_mb(path: Path) -> float | None:
    """Free MiB on the disk that holds (or will hold) ``path``; None when unknown."""
    for candidate in (path, *path.parents):
        if _exists(candidate):
            try:
                return round(shutil.disk_usage(candidate).free / 2**20, 1)
            except OSError:
                return None
    return None


def _read_text(path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip() or None
    except OSError:
        return None


def recovery_text(rec: dict[str, Any]) -> str:
    """One recovery in words (English: ``hymy status``)."""
    text = f"at {rec.get('at')}: {rec.get('detail')}; moved to {rec.get('moved_to')}"
    if rec.get("salvage") != "done":
        return text + "; salvaging its readable rows"
    unreadable = "an unknown number" if rec.get("unreadable") is None else rec.get("unreadable")
    text += (f"; salvaged {rec.get('read', 0)} rows ({rec.get('added', 0)} new to this store, "
             f"{rec.get('unsent', 0)} of them unsent and delivered by the sync agent), {unreadable} unreadable")
    return text + (f" ({rec['error']})" if rec.get("error") else "")


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
    file = status["store_file"]
    unknown = "unknown (no readable store)"
    if file["state"] == OK:
        local = file["path"]
    elif file["state"] == MISSING:
        local = f"none at {file['path']} ({file['detail']})"
    elif file["state"] == UNREADABLE:
        local = f"CANNOT READ: {file['detail']}"
    else:
        local = (f"DAMAGED: {file['detail']}. The kiosk or the sync agent moves it aside and salvages its "
                 "readable rows when it next opens it: restart them")
    rows = [
        ("Device", f"{status['device_id'] or '(not enrolled)'} ({status['device_name']})"),
        ("Store", f"{status['store']} ({status['store_id']})"),
        ("Version", status["version"]),
        ("Config", status["config_file"] or "(defaults)"),
        ("Data dir", status["data_dir"]),
        ("Local store", local),
        ("Server", status["server_url"] or "(none configured)"),
        ("Enrolment", status["enrolment"]),
        ("Pending events", unknown if status["pending"] is None else str(status["pending"])),
        ("Oldest pending", "-" if age is None else f"{age:.0f} s"),
        ("Quarantined", unknown if status["quarantined"] is None else str(status["quarantined"])),
        ("Last sync", sync_line),
        ("Clock", ("synced" if status["clock_synced"] else "NOT synced") + f" (source: {status['clock_source']})"),
        ("Disk free", "unknown" if status["disk_free_mb"] is None else f"{status['disk_free_mb']:.0f} MB"),
    ]
    rec = status["store_recovered"]
    if rec:
        times = status["store_recoveries"]
        rows.append(("Store recovered", (f"{times} times; last " if times > 1 else "") + recovery_text(rec)))
    if status.get("provision_error"):
        rows.append(("Provisioning", "REFUSED: " + status["provision_error"].replace("\n", " | ")))
    width = max(len(k) for k, _ in rows) + 1
    return "\n".join(f"{k + ':':<{width}} {v}" for k, v in rows)
