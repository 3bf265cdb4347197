"""Periodic background jobs: the one helper behind every timer thread (the server's prune, alert sweep
and report scheduler, started and stopped by the app's lifespan; the kiosk's staff alert).

Pure threading (standard library only, no I/O of its own). A :class:`PeriodicJob` runs ``work()`` on a
daemon thread every ``every_s`` seconds:

- ``start()``: the first run comes ``first_after_s`` seconds later (default ``every_s``; 0 = at once);
- ``wake()``: run now, and ``every_s`` after that;
- ``stop(timeout_s)``: no new run starts; waits at most ``timeout_s`` seconds for a run in progress and
  says whether the thread ended (a run still going is left to finish on its daemon thread, logged);
- an exception from ``work()`` is logged with the job's name and kept in ``last_error``; the job keeps
  its schedule.

Each run passes through a *gate*: ``gate(job)`` returns a context manager whose value says whether
this run may go ahead (default: always). A cross-worker lease (issue 16: the sweep, the reports and the
prune run once across several workers and instances) is a gate that claims the job's lease for the
run and releases it afterwards; the jobs themselves do not change. :class:`Jobs` starts and stops a set
of jobs together and gives every job it makes the same gate.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext

log = logging.getLogger(__name__)

#: ``gate(job)`` -> a context manager whose value is True when this run may go ahead.
Gate = Callable[["PeriodicJob"], AbstractContextManager[bool]]
#: How long ``stop`` waits for a run in progress by default, in seconds.
STOP_TIMEOUT_S = 10.0


def _check_seconds(name: str, what: str, value: float, *, zero_ok: bool) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0 \
            or (value == 0 and not zero_ok):
        raise ValueError(f"{name}: {what} {value!r} is not valid; use a number of seconds {'>= 0' if zero_ok else '> 0'}")


def always(job: PeriodicJob) -> AbstractContextManager[bool]:
    """The default gate: every run goes ahead."""
    return nullcontext(True)


class PeriodicJob:
    """``work()`` every ``every_s`` seconds on a daemon thread named ``hymy-<name>``.

    ``first_after_s``: seconds from ``start()`` to the first run (default ``every_s``; 0: at once);
    ``gate``: see the module's doc (default :func:`always`). ``runs`` counts finished runs, ``failures``
    runs that raised; ``last_error`` is the last exception as text (None after a good run).
    """

    def __init__(self, name: str, every_s: float, work: Callable[[], object], *, first_after_s: float | None = None,
                 gate: Gate = always):
        _check_seconds(name, "every_s", every_s, zero_ok=False)
        if first_after_s is not None:
            _check_seconds(name, "first_after_s", first_after_s, zero_ok=True)
        self.name = name
        self.every_s = float(every_s)
        self.first_after_s = self.every_s if first_after_s is None else float(first_after_s)
        self.work = work
        self.gate = gate
        self.runs = 0
        self.failures = 0
        self.last_error: str | None = None
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """True while the job's thread is alive and not asked to stop."""
        t = self._thread
        return t is not None and t.is_alive() and not self._stopping.is_set()

    def start(self) -> None:
        """Start the thread (a no-op while it runs)."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stopping.clear()
            self._wake.clear()
            self._thread = threading.Thread(target=self._loop, name=f"hymy-{self.name}", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        """Run now (once the run in progress, if any, is done), then every ``every_s`` again."""
        self._wake.set()

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> bool:
        """No new run starts; wait at most ``timeout_s`` seconds for the thread to end. True when it ended
        (or never ran); False when a run is still going (logged; it ends on its own afterwards)."""
        self.request_stop()
        return self.join(timeout_s)

    def request_stop(self) -> None:
        """No new run starts (a run in progress goes on); :meth:`join` waits for the thread."""
        self._stopping.set()
        self._wake.set()

    def join(self, timeout_s: float = STOP_TIMEOUT_S) -> bool:
        """Wait at most ``timeout_s`` seconds for the thread to end after :meth:`request_stop`; see :meth:`stop`."""
        with self._lock:
            t = self._thread
        if t is None or t is threading.current_thread():
            return t is None
        t.join(max(0.0, timeout_s))
        if t.is_alive():
            log.warning("periodic job %s: still running %.1f s after stop; left to finish on its own",
                        self.name, timeout_s)
            return False
        with self._lock:
            if self._thread is t:
                self._thread = None
        return True

    def run_once(self) -> bool:
        """One run now, in the calling thread, through the gate. True when ``work()`` ran and returned;
        False when the gate held it back or it raised (logged, kept in ``last_error``). Never raises."""
        try:
            with self.gate(self) as allowed:
                if not allowed:
                    return False
                self.work()
        except Exception as exc:
            self.failures += 1
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.exception("periodic job %s failed; it runs again in %g s", self.name, self.every_s)
            return False
        self.runs += 1
        self.last_error = None
        return True

    def _loop(self) -> None:
        delay = self.first_after_s
        while True:
            self._wake.wait(delay)
            if self._stopping.is_set():
                return
            self._wake.clear()
            self.run_once()
            delay = self.every_s

    def __repr__(self) -> str:
        return f"PeriodicJob({self.name!r}, every_s={self.every_s:g}, running={self.running})"


class Jobs:
    """The periodic jobs of one application, started and stopped together (a server app's lifespan).

    ``gate``: given to every job made by :meth:`add` (see the module's doc).
    """

    def __init__(self, gate: Gate = always):
        self.gate = gate
        self._jobs: dict[str, PeriodicJob] = {}

    def add(self, name: str, every_s: float, work: Callable[[], object], *,
            first_after_s: float | None = None, gate: Gate | None = None) -> PeriodicJob:
        """A new job ``name`` (unique among these jobs); started by :meth:`start`. ``gate``: this job's own
        (e.g. :func:`always` for work every process must do itself); default the jobs' gate."""
        if name in self._jobs:
            raise ValueError(f"{name}: a periodic job of this name exists already")
        job = self._jobs[name] = PeriodicJob(name, every_s, work, first_after_s=first_after_s,
                                             gate=self.gate if gate is None else gate)
        return job

    def __getitem__(self, name: str) -> PeriodicJob:
        return self._jobs[name]

    def __iter__(self) -> Iterator[PeriodicJob]:
        return iter(list(self._jobs.values()))

    def __len__(self) -> int:
        return len(self._jobs)

    def start(self) -> None:
        for job in self:
            job.start()

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> bool:
        """Stop every job, waiting at most ``timeout_s`` seconds in all; True when every thread ended."""
        jobs = list(self)
        for job in jobs:  # none starts a new run while the others are waited for
            job.request_stop()
        deadline = time.monotonic() + timeout_s
        return all([job.join(deadline - time.monotonic()) for job in jobs])
