"""One process of simulated kiosks for the fleet test: real device stores and real sync agents.

``python -m tests.e2e.fleetworker SPEC.json`` where the spec holds ``server``, ``root``, ``start_at``
(a ``time.time()`` at which every agent starts at once), ``store_config`` (a StoreConfig as JSON)
and ``devices``: ``[{"index": i, "code": "..."}]``. For each device: a store under ``root/d<i>`` with
a few hours of presses through the capture core (``kiosk.simulate``), then at ``start_at`` its own
``sync.agent.Agent`` on a thread enrols with the code and drains. Device *i* connects from loopback
source address 127.78.x.y (five devices per address: the server allows 10 enrolments per minute per
address, as a real fleet comes from many). Prints one JSON line per device: index, device_id,
stored, sent, ok, error.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from requests.adapters import HTTPAdapter

from hymy.hours import zone
from hymy.protocol import StoreConfig
from kiosk.config import parse_config
from kiosk.simulate import simulate_into_store
from kiosk.store import Store
from sync.agent import Agent


class SourceAddress(HTTPAdapter):
    """A requests adapter whose connections leave from ``address`` (a loopback alias)."""

    def __init__(self, address: str):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        return super().init_poolmanager(*args, **kwargs)


def source_address(i: int) -> str:
    n = i // 5
    return f"127.78.{n // 250}.{n % 250 + 1}"


def busy_hours_end(tz: str) -> datetime:
    """The last 20:00 in zone ``tz`` (now or before), in UTC: a few hours before it are shop hours, so a
    kiosk has presses to send whatever the hour the test runs (the hours before a night start have none)."""
    now = datetime.now(UTC).astimezone(zone(tz))
    end = now.replace(hour=20, minute=0, second=0, microsecond=0)
    if end > now:
        end -= timedelta(days=1)
    return end.astimezone(UTC)


def run_device(spec: dict, dev: dict, cfg: StoreConfig, out: list, lock: threading.Lock) -> None:
    i = dev["index"]
    config = parse_config({"device": {"data_dir": str(Path(spec["root"]) / f"d{i}"), "clock": "trust",
                                      "name": f"fleet-{i}"},
                           "server": {"url": spec["server"], "enrolment_code": dev["code"]}})
    config.data_dir.mkdir(parents=True, exist_ok=True)
    result = {"index": i, "device_id": None, "stored": 0, "sent": 0, "ok": False, "error": None}
    try:
        with Store(config.store_path) as store:
            end = busy_hours_end(cfg.timezone)
            result["stored"] = simulate_into_store(store, cfg, end - timedelta(hours=spec["hours"]), end,
                                                   seed=i + 1, rate=spec["rate"], boot_id=f"fleet-boot-{i}")
            agent = Agent(config, store=store)
            agent.client.session.mount("http://", SourceAddress(source_address(i)))
            try:
                time.sleep(max(0.0, spec["start_at"] - time.time()))
                drained = agent.drain()
                result.update(sent=drained.sent, ok=drained.ok and drained.pending == 0, error=drained.error,
                              device_id=store.get_meta("device_id"))
            finally:
                agent.close()
    except Exception as exc:  # reported, and the test fails on it
        result["error"] = f"{type(exc).__name__}: {exc}"
    with lock:
        out.append(result)


def main(path: str) -> None:
    spec = json.loads(Path(path).read_text())
    cfg = StoreConfig.model_validate(spec["store_config"])
    out: list = []
    lock = threading.Lock()
    threads = [threading.Thread(target=run_device, args=(spec, dev, cfg, out, lock)) for dev in spec["devices"]]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in sorted(out, key=lambda r: r["index"]):
        print(json.dumps(r), flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
