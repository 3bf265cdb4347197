"""Catch-up after a server outage: how long the sync agent waits once the server is back.

Both ways use a real ``hymy server`` process on a fixed loopback port that is stopped (the kernel then
refuses connections) and started again, a real device store, and the real agent with its production
backoff (``sync.agent.Agent`` with its defaults). Measured: seconds from the restarted server being
ready to the device's outbox being empty (every press of the outage delivered and marked sent).

- real time (``--real``, default outages 20 s and 60 s): the agent's own service loop (``Agent.run``)
  in a thread, a press recorded every 2 s during the outage (``kiosk.capture.Recorder`` on the kiosk's
  own store connection); "ready" is the first 200 from ``/readyz``.
- simulated time (``--simulated``, default 20 s, 60 s and 10 minutes): the same loop turn
  (``Agent.tick``) driven as ``Agent.run`` drives it (it waits what ``tick`` asks, at most the 0.25 s
  poll), but the agent's clock (its ``monotonic``) is one this bench advances instead of sleeping: by
  the real duration of each turn plus the wait. Every request is real. The clock stands still while
  the server process restarts, so "ready" is the moment the outage ends. Trials are cheap, so this
  gives the spread (median, worst) instead of one draw of the random backoff.

Run through ``python bench/sync.py --outage`` (see its ``--help``).
"""

from __future__ import annotations

import contextlib
import logging
import random
import statistics
import threading
import time
from pathlib import Path

from hymy.protocol import default_store_config
from kiosk.capture import Recorder
from kiosk.clock import SystemClock
from kiosk.config import load_config
from kiosk.store import Store
from server import admin
from server.testing import free_port, run_server_process
from sync.agent import Agent

#: Seconds between presses during an outage.
PRESS_EVERY_S = 2.0


class ServerProcess:
    """``hymy server`` on one fixed port, stopped and started on demand."""

    def __init__(self, database_url: str, port: int):
        self.database_url = database_url
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self._stack: contextlib.ExitStack | None = None

    def start(self) -> None:
        self._stack = contextlib.ExitStack()
        self._stack.enter_context(run_server_process(self.database_url, port=self.port, timeout_s=60,
                                                     env={"HYMY_DEVICE_RATE": "0", "HYMY_IP_RATE": "0"}))

    def stop(self) -> None:
        if self._stack is not None:
            self._stack.close()
            self._stack = None


class SimClock:
    """Seconds on a clock the bench moves (the agent's ``monotonic``)."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def _quiet() -> None:
    """The agent logs every refused attempt as a warning; the bench prints its own lines."""
    logging.getLogger("hymy.sync").setLevel(logging.ERROR)


def _enrolled_agent(root: Path, url: str, engine, name: str, device_config, **agent_kw):
    """A fresh store with one device enrolled at ``url``: (agent, kiosk store, recorder).

    ``device_config(root, url, code)`` writes the device TOML (``bench/sync.py``'s) and returns its path."""
    _quiet()
    sid = admin.create_store(engine, f"Outage {name}")
    code = admin.create_device(engine, sid, name).code
    root.mkdir(parents=True, exist_ok=True)
    cfg = load_config(device_config(root, url, code))
    agent = Agent(cfg, store=Store(cfg.store_path), **agent_kw)
    if agent.drain(max_batches=0).error:
        raise SystemExit(f"enrolment failed: {agent.last_error}")
    kiosk = Store(cfg.store_path)
    return agent, kiosk, Recorder(kiosk, default_store_config, SystemClock(trust=True), retry_s=0)


def _close(agent: Agent, kiosk: Store, recorder: Recorder) -> None:
    recorder.close()
    agent.close()
    agent.store.close()
    kiosk.close()


def real_outages(root: Path, database_url: str, engine, device_config, outages: list[float],
                 trials: int) -> dict[float, list[float]]:
    """Real-time waits (seconds after ready) per outage length, ``trials`` each."""
    server = ServerProcess(database_url, free_port())
    server.start()
    agent, kiosk, recorder = _enrolled_agent(root / "real", server.url, engine, "real", device_config)
    runner = threading.Thread(target=agent.run, name="agent", daemon=True)
    runner.start()
    waits: dict[float, list[float]] = {}
    try:
        for outage in outages:
            for _ in range(trials):
                server.stop()
                end = time.monotonic() + outage
                while time.monotonic() < end:
                    recorder.record(random.randint(1, 4), "touch")
                    time.sleep(min(PRESS_EVERY_S, max(0.0, end - time.monotonic())))
                server.start()  # returns once /readyz answers 200
                ready = time.monotonic()
                while kiosk.pending_count():
                    time.sleep(0.05)
                waits.setdefault(outage, []).append(time.monotonic() - ready)
                print(f"  real {outage:5.0f} s outage: caught up {waits[outage][-1]:6.1f} s after the server was ready")
    finally:
        agent.stop()
        runner.join(30)
        _close(agent, kiosk, recorder)
        server.stop()
    return waits


def simulated_outages(root: Path, database_url: str, engine, device_config, outages: list[float],
                      trials: int, seed: int = 1) -> dict[float, list[float]]:
    """Simulated-time waits (seconds after the outage ended) per outage length, ``trials`` each."""
    server = ServerProcess(database_url, free_port())
    server.start()
    clock = SimClock()
    rng = random.Random(seed)
    agent, kiosk, recorder = _enrolled_agent(root / "sim", server.url, engine, "sim", device_config,
                                             monotonic=clock, rand=rng.random)

    def turn() -> None:
        started = time.perf_counter()
        wait = agent.tick()
        clock.t += (time.perf_counter() - started) + max(0.0, min(wait, agent.poll_s))

    waits: dict[float, list[float]] = {}
    try:
        for outage in outages:
            for _ in range(trials):
                while kiosk.pending_count():  # settled before the next outage
                    turn()
                server.stop()
                end = clock.t + outage
                next_press = clock.t
                while clock.t < end:
                    if clock.t >= next_press:
                        recorder.record(rng.randint(1, 4), "touch")
                        next_press += PRESS_EVERY_S
                    turn()
                server.start()  # the clock stands still meanwhile
                ready = clock.t
                while kiosk.pending_count():
                    turn()
                waits.setdefault(outage, []).append(clock.t - ready)
    finally:
        _close(agent, kiosk, recorder)
        server.stop()
    return waits


def summary(waits: list[float]) -> str:
    return (f"median {statistics.median(waits):6.1f} s, worst {max(waits):6.1f} s "
            f"over {len(waits)} trial{'s' if len(waits) != 1 else ''}")
