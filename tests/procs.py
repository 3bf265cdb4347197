"""Every child process a test starts goes through here, so that none outlives the test run.

- :class:`Popen` and :func:`run` are :mod:`subprocess`'s, except that the child gets SIGKILL when the
  pytest process ends, however it ends (SIGKILL, SIGTERM, pytest-timeout, a crash): the kernel sends
  it (``PR_SET_PDEATHSIG``, see :mod:`hymy.children`). Start children from the test's own (main) thread:
  the signal comes when the thread that started the child exits.
- :class:`Popen` also remembers each child; the session fixture :func:`no_leftover_children` (active
  for every test through ``tests/conftest.py``) kills those still running when the run ends, with
  their process group when they lead one (``start_new_session=True``), and names them.
- A helper process that forks children of its own (``tests/sync/zygote.py``) calls
  :func:`hymy.children.die_with_parent` in each.

``tests/test_procs_used.py`` fails when a test starts a process another way.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

from hymy import children


@dataclass(frozen=True)
class _Started:
    pid: int
    start_ticks: int  # /proc/PID/stat field 22: tells this process from a later one with the same pid
    leader: bool  # leads its own process group (start_new_session=True)
    argv: str


_started: list[_Started] = []


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (field 3 onwards), or None when gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()


class Popen(subprocess.Popen):
    """:class:`subprocess.Popen` for tests: the child dies with the test run and is remembered."""

    def __init__(self, args, **kwargs):
        super().__init__(args, preexec_fn=children.preexec(signal.SIGKILL), **kwargs)
        fields = _stat(self.pid)
        if fields is not None:
            _started.append(_Started(self.pid, int(fields[19]), bool(kwargs.get("start_new_session")),
                                     " ".join(map(str, args)) if isinstance(args, list | tuple) else str(args)))


def run(args, **kwargs) -> subprocess.CompletedProcess:
    """:func:`subprocess.run` whose child dies with the test run (run itself kills it on an exception)."""
    return children.run(args, death_signal=signal.SIGKILL, **kwargs)


def alive(pid: int) -> bool:
    """True while process ``pid`` exists and is not a zombie."""
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"


def children_of(pid: int) -> list[int]:
    """The pids of the running processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields is not None and fields[0] != "Z" and int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def wait_gone(pids: Iterable[int], timeout_s: float) -> list[int]:
    """Wait up to ``timeout_s`` for every process of ``pids`` to end; returns those still running."""
    deadline = time.monotonic() + timeout_s
    left = [p for p in pids if alive(p)]
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = [p for p in left if alive(p)]
    return left


def kill_leftovers() -> list[str]:
    """SIGKILL every child started through :class:`Popen` that still runs (its group if it leads one);
    returns their command lines."""
    killed = []
    for s in _started:
        fields = _stat(s.pid)
        if fields is None or fields[0] == "Z" or int(fields[19]) != s.start_ticks:
            continue
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if s.leader:
                os.killpg(s.pid, signal.SIGKILL)
            else:
                os.kill(s.pid, signal.SIGKILL)
            killed.append(s.argv)
    _started.clear()
    return killed


@pytest.fixture(scope="session", autouse=True)
def no_leftover_children():
    """At the end of the run, kill the children that tests left running, and name them."""
    yield
    killed = kill_leftovers()
    if killed:
        print(f"\ntests/procs.py: killed {len(killed)} child process(es) a test left running:", file=sys.stderr)
        for argv in killed:
            print(f"  {argv[:200]}", file=sys.stderr)
