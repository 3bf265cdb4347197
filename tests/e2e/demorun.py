"""`hymy demo` as a child process for the end-to-end tests: started the way `make demo` starts it, its
output read until the banner, stopped with SIGTERM (what systemd or a closing terminal sends)."""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from tests import procs

BANNER_END = "Ctrl-C stops everything"


@dataclass
class RunningDemo:
    proc: subprocess.Popen
    #: The lines printed up to and including the banner's last.
    lines: list[str]
    #: Everything printed so far (grows until the demo has stopped).
    everything: list[str] = field(default_factory=list)

    def banner(self, label: str) -> str:
        """The rest of the banner line starting with ``label`` (``"Dashboard:"``, ``"Login:"``...)."""
        return next(line for line in self.lines if label in line).split(label, 1)[1].strip()


def _read_until(proc: subprocess.Popen, lines: queue.Queue, marker: str, timeout_s: float) -> list[str]:
    seen: list[str] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.2)
        except queue.Empty:
            if proc.poll() is not None:
                break
            continue
        seen.append(line.rstrip("\n"))
        if marker in line:
            return seen
    raise AssertionError(f"{marker!r} not printed in {timeout_s} s; output so far:\n" + "\n".join(seen))


def _pump(stream, lines: queue.Queue, everything: list[str]) -> None:
    for line in stream:
        everything.append(line)
        lines.put(line)


@contextlib.contextmanager
def running_demo(args: list[str], env: dict[str, str], timeout_s: float) -> Iterator[RunningDemo]:
    """``hymy demo ARGS`` until its banner (at most ``timeout_s``); SIGTERM and a wait afterwards."""
    proc = procs.Popen([sys.executable, "-m", "hymy", "demo", *args], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, env=env, start_new_session=True)
    q: queue.Queue = queue.Queue()
    everything: list[str] = []
    reader = threading.Thread(target=_pump, args=(proc.stdout, q, everything), daemon=True)
    reader.start()
    try:
        yield RunningDemo(proc, _read_until(proc, q, BANNER_END, timeout_s), everything)
    finally:
        # what systemd or a closing terminal sends: the demo stops its children as Ctrl-C does
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
        reader.join(5)
