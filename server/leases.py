"""Leases in the database: each periodic job runs once per period across every worker of every instance,
and each process says it is alive.

A lease is a row of ``leases`` (``name``, ``holder``, ``expires_at`` in Unix seconds). :meth:`Leases.take`
gets or renews it with one atomic upsert on SQLite and PostgreSQL alike: the row is written when it is
free, expired or already this holder's, and ``RETURNING`` says whether it was. Two processes
taking at once: one writes, the other's upsert finds the row held (PostgreSQL locks the row and
re-checks it; SQLite's writer lock orders them).

:class:`LeaseGate` is the gate of ``hymy.periodic`` (the jobs themselves do not change). A job's run goes
ahead only in the process that takes the job's lease ``job:<name>``; the lease is taken for
``max(every_s, hold_s)`` while the run lasts and, when it ends, set to expire ``every_s`` after the run
began. So the other processes, whose timers fire at other moments of the period, find it held and skip;
the holder's own next run (``every_s`` after this one ended) finds it expired or its own and renews it.
One run per period in all, whichever process's timer comes first after the lease expires.

A holder that dies keeps the lease until it expires: between runs at most ``every_s`` after its last
run began, during a run at most ``max(every_s, hold_s)`` after the run began. Clocks: the holders'
wall clocks (``time.time``); instances on several hosts need NTP-synced clocks (a skew of a second
only moves a run by that much; each job is safe to run twice, the lease only saves the work).
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable, Iterator

from sqlalchemy import Engine, delete, func, select, update

from hymy.periodic import PeriodicJob

from .db import insert_for, writing
from .tables import leases

log = logging.getLogger(__name__)

#: A run in progress holds its job's lease at least this long (seconds), so a run longer than its
#: period is not started again elsewhere meanwhile; a holder dying in a run frees it after this.
HOLD_S = 60.0
#: Presence rows of processes gone longer than this (seconds) are deleted.
FORGET_S = 3600.0


def new_holder() -> str:
    """A name for one holder: ``host:pid:random`` (the random part tells apart two apps in one process
    and a process id reused after a restart)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Leases:
    """The leases of one holder (``holder``, default :func:`new_holder`) in the database of ``engine``.

    ``clock``: Unix time in seconds (default ``time.time``).
    """

    def __init__(self, engine: Engine, holder: str | None = None, clock: Callable[[], float] = time.time):
        self.engine = engine
        self.holder = holder or new_holder()
        self.clock = clock
        self._ins = insert_for(engine.dialect.name)(leases)

    def take(self, name: str, seconds: float) -> bool:
        """Hold ``name`` until ``seconds`` from now when it is free, expired or already ours; True when
        this holder has it now. One upsert in one short write transaction."""
        now = self.clock()
        ins = self._ins.values(name=name, holder=self.holder, expires_at=now + seconds)
        stmt = ins.on_conflict_do_update(
            index_elements=[leases.c.name],
            set_={"holder": ins.excluded.holder, "expires_at": ins.excluded.expires_at},
            where=(leases.c.holder == ins.excluded.holder) | (leases.c.expires_at <= now)).returning(leases.c.name)
        with writing(self.engine) as conn:  # a row comes back when it was written
            return conn.execute(stmt).first() is not None

    def hold_until(self, name: str, until: float) -> bool:
        """Set our lease ``name`` to expire at ``until`` (Unix seconds); False when we do not hold it."""
        with writing(self.engine) as conn:
            return conn.execute(update(leases).where(leases.c.name == name, leases.c.holder == self.holder)
                                .values(expires_at=until)).rowcount == 1

    def release(self, name: str) -> None:
        """Give ``name`` up now, if we hold it."""
        with writing(self.engine) as conn:
            conn.execute(delete(leases).where(leases.c.name == name, leases.c.holder == self.holder))

    def holder_of(self, name: str) -> str | None:
        """Who holds ``name`` now (None: nobody, or it expired)."""
        with self.engine.connect() as conn:
            return conn.execute(select(leases.c.holder).where(leases.c.name == name,
                                                              leases.c.expires_at > self.clock())).scalar()

    def live(self, prefix: str) -> int:
        """How many unexpired leases have names starting with ``prefix`` (e.g. the live processes)."""
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(leases).where(
                leases.c.name.startswith(prefix, autoescape=True), leases.c.expires_at > self.clock())).scalar()

    def forget_expired(self, prefix: str, older_than_s: float = FORGET_S) -> int:
        """Delete leases named ``prefix...`` expired more than ``older_than_s`` seconds ago; how many."""
        with writing(self.engine) as conn:
            return conn.execute(delete(leases).where(leases.c.name.startswith(prefix, autoescape=True),
                                                     leases.c.expires_at < self.clock() - older_than_s)).rowcount


class LeaseGate:
    """The gate of ``hymy.periodic.Jobs``: a job's run goes ahead only in the process holding the lease
    ``job:<job name>`` (see the module's doc). ``hold_s``: how long a run in progress holds it at least
    (default :data:`HOLD_S`)."""

    def __init__(self, leases: Leases, hold_s: float = HOLD_S):
        self.leases = leases
        self.hold_s = hold_s

    @staticmethod
    def lease_name(job: PeriodicJob) -> str:
        return f"job:{job.name}"

    @contextlib.contextmanager
    def __call__(self, job: PeriodicJob) -> Iterator[bool]:
        name = self.lease_name(job)
        began = self.leases.clock()
        held = self.leases.take(name, max(job.every_s, self.hold_s))
        try:
            yield held
        finally:
            if held:
                try:  # expire every_s after the run began: the next period's first timer takes it
                    self.leases.hold_until(name, began + job.every_s)
                except Exception:  # the run itself went fine; the lease then lasts hold_s
                    log.warning("periodic job %s: could not shorten its lease", job.name, exc_info=True)
