"""A pre-loaded parent that forks real sync-agent processes on request, for the kill test.

Starting Python and importing pydantic, requests and the store costs about half a second; forking a
process that has already imported them costs a few milliseconds. So the kill test starts this script
once, and for every round asks it (one line on stdin) to fork a child that runs a real ``Agent`` loop
on the device's store; the test then ``kill -9``s the child at a random moment. The parent never opens
the store or a socket itself, so each child starts from a clean state exactly like a new process.

Protocol (lines): ``fork`` -> ``pid <n>``; after the child dies -> ``exit <status>``. ``quit`` ends.
Usage: ``python -m tests.sync.zygote CONFIG_TOML MAX_EVENTS``.
"""

from __future__ import annotations

import os
import random
import signal
import sys

from hymy.children import die_with_parent
from kiosk.config import load_config
from sync.agent import Agent


def _child(config_path: str, max_events: int) -> None:
    random.seed()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    agent = Agent(load_config(config_path), max_events=max_events, backoff_base_s=0.01, backoff_cap_s=0.05,
                  heartbeat_s=3600, poll_s=0.01)
    agent.run()
    os._exit(0)


def main() -> None:
    config_path, max_events = sys.argv[1], int(sys.argv[2])
    for line in sys.stdin:
        cmd = line.strip()
        if cmd == "quit":
            break
        if cmd != "fork":
            continue
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:
            try:
                die_with_parent(signal.SIGKILL, parent)  # a fork does not inherit the zygote's request
                _child(config_path, max_events)
            finally:
                os._exit(1)
        print(f"pid {pid}", flush=True)
        _, status = os.waitpid(pid, 0)
        print(f"exit {status}", flush=True)


if __name__ == "__main__":
    main()
