"""The measuring process's side of the load generator (bench/fleetload.py): start the load processes, hear
their step reports, stop them, collect what they recorded. Not a benchmark itself (``make bench``
skips it).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import time
from collections import Counter
from dataclasses import dataclass
from multiprocessing.connection import wait

from fleetload import Job, Kiosk, Samples, Traffic, child_main

from hymy import children


def _load_process(job: Job, conn, parent_pid: int) -> None:
    """A load process: ends with the measuring process however that ends (SIGKILL too), then runs."""
    children.die_with_parent(signal.SIGKILL, parent_pid)
    child_main(job, conn)


@dataclass
class StepReport:
    """One step, merged over the load processes, judged STEP_REPORT_DELAY_S after it ended."""

    index: int
    answered: list[float]  #: seconds
    waiting: int  #: sent in the step, still unanswered at the report (each slower than the delay)
    errors: int
    late: list[float]  #: seconds idle kiosks' sends due in the step started late (the load generator's delay)


class LoadRun:
    """``procs`` load processes sharing ``kiosks``; ``with LoadRun(...) as run:`` ends them on the way out.

    ``start()`` waits until every process is ready and returns the common start (monotonic seconds, a
    moment later); ``step_reports()`` yields each step's ``StepReport`` (step mode); ``stop()`` ends the
    sending early; ``wait_done()`` returns when every kiosk has its last answer (monotonic seconds);
    ``samples()`` merges what all recorded.
    """

    def __init__(self, base_url: str, kiosks: list[Kiosk], traffic: Traffic, steps, procs: int, *,
                 report_steps: bool = False, seed: int = 1, grace_s: float = 10.0):
        ctx = multiprocessing.get_context("spawn")
        self.procs, self.conns = [], []
        for p in range(procs):
            job = Job(base_url, kiosks[p::procs], traffic, tuple(steps), report_steps, seed + p, grace_s)
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_load_process, args=(job, child, os.getpid()), name=f"fleet-load-{p}", daemon=True)
            self.procs.append(proc)
            self.conns.append(parent)
        self.done_at: dict[int, float] = {}

    def __enter__(self) -> LoadRun:
        for proc in self.procs:
            proc.start()
        return self

    def __exit__(self, *exc) -> None:
        for proc in self.procs:
            proc.join(5 if exc[0] is None else 0)
            if proc.is_alive():
                proc.terminate()
                proc.join()

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def _recv(self, i: int, timeout_s: float = 600.0):
        """The next message of load process ``i``; RuntimeError when it ended or said nothing in time."""
        deadline = time.monotonic() + timeout_s
        while not self.conns[i].poll(1.0):
            if not self.procs[i].is_alive():
                raise RuntimeError(f"load process {i} ended (exit code {self.procs[i].exitcode})")
            if time.monotonic() > deadline:
                raise RuntimeError(f"load process {i} said nothing for {timeout_s:.0f} s")
        return self.conns[i].recv()

    def start(self, delay_s: float = 0.5) -> float:
        for i in range(len(self.conns)):
            if self._recv(i, 300) != ("ready",):
                raise RuntimeError(f"load process {i} did not start")
        at = time.monotonic() + delay_s
        for c in self.conns:
            c.send(at)
        return at

    def step_reports(self):
        """Yield a ``StepReport`` per step until every process is done sending."""
        pending: dict[int, StepReport] = {}
        seen: dict[int, int] = Counter()
        live = set(range(len(self.conns)))
        while live:
            for conn in wait([self.conns[i] for i in live]):
                i = self.conns.index(conn)
                msg = conn.recv()
                if msg[0] == "done":
                    self.done_at[i] = msg[1]
                    live.discard(i)
                    continue
                _, k, lats, waiting, errors, late = msg
                rep = pending.setdefault(k, StepReport(k, [], 0, 0, []))
                rep.answered.extend(lats)
                rep.waiting += waiting
                rep.errors += errors
                rep.late.extend(late)
                seen[k] += 1
                if seen[k] == len(self.conns):
                    yield pending.pop(k)

    def stop(self) -> None:
        for c in self.conns:
            with contextlib.suppress(OSError):  # that process has finished already
                c.send("stop")

    def wait_done(self) -> float:
        for i in range(len(self.conns)):
            while i not in self.done_at:
                msg = self._recv(i)
                if msg[0] == "done":
                    self.done_at[i] = msg[1]
        return max(self.done_at.values())

    def samples(self) -> Samples:
        out = Samples()
        for i in range(len(self.conns)):
            msg = self._recv(i)
            while msg[0] != "samples":
                msg = self._recv(i)
            out.merge(msg[1])
        return out
