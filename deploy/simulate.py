"""The press simulator feeding a server: a simulated device enrols, records presses through the real
capture path (``kiosk.simulate``) and delivers them with the real sync agent (``sync.agent``).

Used by ``hymy simulate --server`` and ``hymy demo`` (its stores' history).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hymy.errors import SyncError
from hymy.pressplan import DEFAULT_PATTERN, Pattern
from kiosk.config import DeviceConfig, parse_config
from kiosk.simulate import HISTORY_SYNCHRONOUS, simulate_into_store
from kiosk.store import Store
from kiosk.storeconfig import StoreConfigCache
from sync.agent import Agent


def device_config(server_url: str, code: str, data_dir: str | Path, name: str) -> DeviceConfig:
    """The config of a device named ``name`` keeping its store and token in ``data_dir``, enrolling at
    ``server_url`` with the one-time ``code`` (a trusted clock: its presses carry their real times)."""
    return parse_config({"device": {"data_dir": str(data_dir), "clock": "trust", "name": name},
                         "server": {"url": server_url, "enrolment_code": code}})


@contextlib.contextmanager
def enrolled(config: DeviceConfig, store: Store) -> Iterator[Agent]:
    """The real sync agent of the device of ``config`` and ``store``, enrolled (the server's store config
    is then in the device's cache); closed afterwards. Raises SyncError when the enrolment fails."""
    agent = Agent(config, store=store)
    try:
        if not agent.enrol():
            raise SyncError(f"enrolment of {config.device.name!r} at {config.server.url} failed: {agent.last_error}")
        yield agent
    finally:
        agent.close()


def drain(agent: Agent) -> int:
    """Deliver everything pending through the device API; returns events sent. Raises SyncError when the
    delivery stops (nothing is lost: the presses stay in the device's store)."""
    result = agent.drain()
    if result.error:
        raise SyncError(f"delivery stopped: {result.error} ({result.pending} events still pending)")
    return result.sent


def deliver_simulated(server_url: str, code: str, data_dir, span: timedelta, *, rate: float | None = None,
                      seed: int = 1, pattern: Pattern = DEFAULT_PATTERN, end: datetime | None = None,
                      progress: Callable[[int], None] | None = None) -> int:
    """Enrol a simulated device with ``code``, simulate ``span`` of presses ending at ``end`` (default now)
    with the store config the server gave it, and deliver them through the device API with the real
    sync agent. Returns events sent.

    ``data_dir`` holds the simulated device's store and token; ``pattern`` is how the store's customers
    behave (``hymy.pressplan``; default: the simulator's plain store); ``rate`` (counted presses in a
    peak hour) replaces the pattern's when given; ``seed`` makes the presses repeatable (default 1).
    Raises SyncError when the enrolment or the delivery fails (nothing is lost: the presses stay in
    that store).
    """
    config = device_config(server_url, code, data_dir, f"sim-{seed}")
    end = end or datetime.now(UTC)
    with Store(config.store_path, synchronous=HISTORY_SYNCHRONOUS) as store, enrolled(config, store) as agent:
        simulate_into_store(store, StoreConfigCache(config.store_config_path)(), end - span, end, seed=seed,
                            rate=rate, pattern=pattern, progress=progress, boot_id=f"sim-boot-{seed}")
        return drain(agent)
