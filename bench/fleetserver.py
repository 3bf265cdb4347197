"""The server process of bench/fleet.py: started with its output in a log file, the exceptions it logged,
its memory. Not a benchmark itself (``make bench`` skips it)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx

from server.testing import free_port


@contextlib.contextmanager
def server_process(url: str, env: dict[str, str], log: Path, timeout_s: float = 60.0):
    """``hymy server`` (``python -m server``) on a free loopback port, its output going to ``log``; yields
    (base URL, pid). Not ``server.testing.run_server_process``: that one pipes the server's stderr and reads
    it only at the end, so a server that logs more than a pipe holds (64 KiB of tracebacks under overload)
    blocks in its logging call and stops serving; and it does not give the pid."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "server", "--host", "127.0.0.1", "--port", str(port)],
                                env={**os.environ, "HYMY_DATABASE_URL": url, **env}, stdout=out,
                                stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"the server exited {proc.returncode}: {log.read_text()[-2000:]}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(base + "/readyz", timeout=1.0).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise SystemExit(f"the server on port {port} was not ready after {timeout_s:.0f} s")
            time.sleep(0.1)
        yield base, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


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
    """(VmRSS, VmHWM) of ``pid`` in MiB, from /proc."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return fields.get("VmRSS", 0.0), fields.get("VmHWM", 0.0)
