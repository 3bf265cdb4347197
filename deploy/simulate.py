"""The press simulator feeding a server: a simulated device enrols, records presses through the real
capture path (``kiosk.simulate``) and delivers them with the real sync agent (``sync.agent``).

Used by ``hymy simulate --server`` and ``hymy demo`` (the second store's history).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from hymy.errors import SyncError
from hymy.pressplan import DEFAULT_PATTERN, Pattern
from kiosk.config import parse_config
from kiosk.simulate import HISTORY_SYNCHRONOUS, simulate_into_store
from kiosk.store import Store
from kiosk.storeconfig import StoreConfigCache
from sync.agent import Agent


def deliver_simulated(server_url: str, code: str, data_dir, span: timedelta, *, rate: float | None = None,
                      seed: int = 1, pattern: Pattern = DEFAULT_PATTERN,
                      progress: Callable[[int], None] | None = None) -> int:
    """Enrol a simulated device with ``code``, simulate ``span`` of presses with the store config the
    server gave it, and deliver them through the device API with the real sync agent. Returns events sent.

    ``data_dir`` holds the simulated device's store and token; ``pattern`` is how the store's customers
    behave (``hymy.pressplan``; default: the simulator's plain store); ``rate`` (counted presses in a
    peak hour) replaces the pattern's when given; ``seed`` makes the presses repeatable (default 1).
    Raises SyncError when the enrolment or the delivery fails (nothing is lost: the presses stay in
    that store).
    """
    config = parse_config({"device": {"data_dir": str(data_dir), "clock": "trust", "name": f"sim-{seed}"},
                           "server": {"url": server_url, "enrolment_code": code}})
    with Store(config.store_path, synchronous=HISTORY_SYNCHRONOUS) as store:
        agent = Agent(config, store=store)
        try:
            if not agent.enrol():
                raise SyncError(f"enrolment with code {code[:4]}... failed: {agent.last_error}")
            store_config = StoreConfigCache(config.store_config_path)()
            end = datetime.now(UTC)
            simulate_into_store(store, store_config, end - span, end, seed=seed, rate=rate, pattern=pattern,
                                progress=progress, boot_id=f"sim-boot-{seed}")
            result = agent.drain()
            if result.error:
                raise SyncError(f"delivery stopped: {result.error} ({result.pending} events still pending)")
            return result.sent
        finally:
            agent.close()
