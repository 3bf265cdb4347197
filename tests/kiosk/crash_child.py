"""A zygote for the store crash test: imports everything once, then forks a writer per request.

Run as ``python crash_child.py``. Protocol on stdin/stdout (one line each, written with single
``os.write`` calls shorter than PIPE_BUF, so lines from the zygote and its child never interleave):

- the test writes ``fork <store path> <seed>``; the zygote forks a child;
- the child writes ``pid <pid>``, opens the store, then records presses in a loop through
  ``Recorder.record`` (and now and then a follow-up, and a three-event ``Store.append_many``) and
  writes ``id <uuid>`` for every event **after** the call returned with it committed;
- the test ``kill -9``s the child at a random moment; the zygote reaps it and writes ``dead <pid>``,
  so every line the child managed to write comes before it;
- ``quit`` ends the zygote.

Forking from a warm zygote keeps a kill cycle at a few milliseconds instead of a Python start-up.
"""

from __future__ import annotations

import os
import random
import signal
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from hymy.children import die_with_parent  # noqa: E402
from hymy.protocol import default_store_config  # noqa: E402
from kiosk.capture import Recorder, build_response  # noqa: E402
from kiosk.clock import ClockReading, SystemClock  # noqa: E402
from kiosk.store import Store  # noqa: E402


def _say(text: str) -> None:
    os.write(1, (text + "\n").encode())


def writer(path: str, seed: int) -> None:
    """The child: append forever until killed."""
    rng = random.Random(seed)
    _say(f"pid {os.getpid()}")
    store = Store(path)
    config = default_store_config().model_copy(update={"response_interval_s": 0.0})
    clock = SystemClock(trust=True)
    recorder = Recorder(store, lambda: config, clock, retry_s=0)
    while True:
        choice = rng.random()
        if choice < 0.8:
            response = recorder.record(rng.randint(1, 4), "button")
            if recorder.held == 0:
                _say(f"id {response.id}")
        elif choice < 0.9:
            response = recorder.record(1, "touch")
            followup = recorder.record_followup(response.id, "reason", "queue")
            if recorder.held == 0:
                _say(f"id {response.id}")
                _say(f"id {followup.id}")
        else:
            now = clock()
            events = [build_response(rng.randint(1, 4), "simulated", _tick(now, i), config, []) for i in range(3)]
            store.append_many(events)
            for e in events:
                _say(f"id {e.id}")


def _tick(now: ClockReading, i: int) -> ClockReading:
    return ClockReading(now.wall, now.synced, now.boot_id, now.uptime_ms + i)


def main() -> None:
    for line in sys.stdin:
        words = line.split()
        if not words or words[0] == "quit":
            return
        if words[0] == "fork":
            parent = os.getpid()
            pid = os.fork()
            if pid == 0:
                try:
                    die_with_parent(signal.SIGKILL, parent)  # a fork does not inherit the zygote's request
                    writer(words[1], int(words[2]))
                finally:
                    os._exit(3)
            _, status = os.waitpid(pid, 0)
            _say(f"dead {pid} {status}")


if __name__ == "__main__":
    main()
