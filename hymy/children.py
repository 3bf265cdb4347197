"""Child processes that end with their parent, however the parent ends (Linux ``PR_SET_PDEATHSIG``).

``hymy demo`` and the test suite start real processes (server, sync agent, kiosk). A parent that is
killed (SIGKILL, a test runner's timeout, a crash) runs no clean-up, and its children would run on,
holding ports and files. A child that asks the kernel with ``prctl(PR_SET_PDEATHSIG, sig)`` gets
``sig`` when the thread that started it exits, so start children from a thread that lives as long
as they should (the main thread). The request survives ``exec`` but not ``fork``: a process that forks
children of its own calls :func:`die_with_parent` in each. On other systems these functions do nothing.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Callable

#: prctl(2) option: the signal this process gets when its parent (the thread that forked it) exits.
PR_SET_PDEATHSIG = 1


def _load_prctl():
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


# Looked up once, in the parent: between fork and exec the child only calls it.
_PRCTL = _load_prctl()


def die_with_parent(sig: int = signal.SIGTERM, parent_pid: int | None = None) -> None:
    """Ask for ``sig`` when this process's parent ends; call it in a child (after ``fork``).

    ``parent_pid``: the pid of the parent as seen before the fork; if the parent already ended before
    the request was made, this process sends ``sig`` to itself at once.
    """
    if _PRCTL is None:
        return
    _PRCTL(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    if parent_pid is not None and os.getppid() != parent_pid:
        os.kill(os.getpid(), sig)


def preexec(sig: int = signal.SIGTERM) -> Callable[[], None] | None:
    """A ``preexec_fn`` for :class:`subprocess.Popen` that calls :func:`die_with_parent` in the child
    (None where the kernel cannot do it)."""
    if _PRCTL is None:
        return None
    parent = os.getpid()
    return lambda: die_with_parent(sig, parent)


def popen(args, *, death_signal: int = signal.SIGTERM, **kwargs) -> subprocess.Popen:
    """:class:`subprocess.Popen` whose child gets ``death_signal`` (default SIGTERM) when this process ends."""
    return subprocess.Popen(args, preexec_fn=preexec(death_signal), **kwargs)


def run(args, *, death_signal: int = signal.SIGTERM, **kwargs) -> subprocess.CompletedProcess:
    """:func:`subprocess.run` whose child gets ``death_signal`` (default SIGTERM) when this process ends
    (``run`` itself kills the child when it is interrupted by an exception)."""
    return subprocess.run(args, preexec_fn=preexec(death_signal), **kwargs)
