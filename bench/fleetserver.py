"""The server process of bench/fleet.py: started with its output in a log file, the exceptions it logged,
its memory. Not a benchmark itself (``make bench`` skips it)."""

from __future__ import annotations

import contextlib
import os
from collections import Counter
from pathlib import Path

from server import testing


@contextlib.contextmanager
def server_process(url: str, env: dict[str, str], log: Path, timeout_s: float = 60.0, workers: int = 1):
    """``hymy server --workers workers`` on a free loopback port, its output going to ``log``; yields (base URL,
    pid of the server, the parent of its workers)."""
    try:
        with testing.server_process(url, env, timeout_s, log=log, workers=workers) as running:
            yield running.base_url, running.pid
    except RuntimeError as exc:  # not ready, or exited: the benchmark stops with the reason
        raise SystemExit(f"the server did not start: {exc}") from None


def logged_errors(log: Path) -> Counter:
    """The exceptions of the tracebacks in the server's log: ``{"Kind: first message": count}`` by kind
    (a traceback's exception is its first line after the indented frames)."""
    first: dict[str, str] = {}
    count: Counter = Counter()
    in_traceback = False
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("Traceback (most recent call last):"):
            in_traceback = True
        elif in_traceback and line and not line[0].isspace():
            in_traceback = False
            kind = line.split(":", 1)[0]
            count[kind] += 1
            first.setdefault(kind, line[:200])
    return Counter({first[k]: n for k, n in count.items()})


def rss_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) in MiB of ``pid`` and its children together (a server's workers), from /proc."""
    rss = hwm = 0.0
    for p in [pid, *children_of(pid)]:
        fields = {}
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    fields[key] = int(value.split()[0]) / 1024
        rss += fields.get("VmRSS", 0.0)
        hwm += fields.get("VmHWM", 0.0)
    return rss, hwm


def children_of(pid: int) -> list[int]:
    """The direct children of ``pid``, from /proc (none once it is gone)."""
    with contextlib.suppress(OSError):
        return [int(c) for t in os.listdir(f"/proc/{pid}/task")
                for c in Path(f"/proc/{pid}/task/{t}/children").read_text().split()]
    return []
