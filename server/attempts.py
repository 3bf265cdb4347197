"""Rare attempts limited exactly across every process sharing the database: enrolments per client address,
sign-ins per user name and per address.

Each attempt is a row of ``attempts`` (a hash of the key, the time) kept while it is inside its window:
a sliding window, "at most ``most`` attempts in any ``window_s`` seconds". :meth:`AttemptLog.begin` counts
each key's attempts and, when every key is under its limit, records the attempt under each, in one
write transaction that no other attempt on the same keys can interleave with (PostgreSQL: a
transaction-level advisory lock per key, taken in key order; SQLite: the database's one writer). The
attempt is recorded *before* it is judged (the code looked up, the password checked), so two attempts at
once cannot both slip under the limit: N processes allow exactly the limit, not N times it. A sign-in
that succeeds takes its rows back (:meth:`AttemptLog.forget`, :meth:`AttemptLog.drop`).

Keys are stored hashed: no address or user name is written. Rows leave with their window (each key's
when it is next tried; everyone's older than a day at most once an hour).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, delete, insert, select, text

from .db import is_postgres, writing
from .tables import attempts
from .tokens import key_hash

#: Rows older than this (seconds) go whatever their key, at most once per :data:`SWEEP_S`.
KEEP_S = 86400.0
SWEEP_S = 3600.0


@dataclass(frozen=True, slots=True)
class Limit:
    """At most ``most`` attempts of ``key`` in any ``window_s`` seconds (``most`` 0: no limit)."""

    key: str
    most: int
    window_s: float


@dataclass(frozen=True, slots=True)
class Attempt:
    """What :meth:`AttemptLog.begin` decided: ``wait_s`` 0 = allowed and recorded as the rows ``ids``;
    else refused (nothing recorded) for ``wait_s`` more seconds."""

    wait_s: float
    ids: tuple[int, ...] = ()

    @property
    def allowed(self) -> bool:
        return self.wait_s <= 0


class AttemptLog:
    """The attempts in the database of ``engine``; ``clock``: Unix time in seconds (default ``time.time``)."""

    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time):
        self.engine = engine
        self.clock = clock
        self._swept_at = -SWEEP_S

    def begin(self, limits: Sequence[Limit]) -> Attempt:
        """Record an attempt under every limit's key, unless one of them is at its limit (then nothing is
        recorded and ``wait_s`` says until when). Exact across processes (see the module's doc)."""
        limits = [lim for lim in limits if lim.most > 0]
        if not limits:
            return Attempt(0.0)
        keys = {key_hash(lim.key): lim for lim in limits}
        with writing(self.engine) as conn:
            if is_postgres(conn):
                for key in sorted(keys):
                    conn.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": key})
            # the time once the keys are ours (SQLite: BEGIN IMMEDIATE took the writer lock): an attempt
            # that waited for the lock is later than every attempt recorded before it
            now = self.clock()
            if now - self._swept_at >= SWEEP_S:
                conn.execute(delete(attempts).where(attempts.c.at < now - KEEP_S))
                self._swept_at = now
            wait = 0.0
            for key, lim in keys.items():
                conn.execute(delete(attempts).where(attempts.c.key == key, attempts.c.at <= now - lim.window_s))
                times = conn.execute(select(attempts.c.at).where(attempts.c.key == key)
                                     .order_by(attempts.c.at)).scalars().all()
                if len(times) >= lim.most:  # free again when the oldest that keeps it full leaves the window
                    age = max(0.0, now - times[len(times) - lim.most])  # >= 0 even if the clock stepped back
                    wait = max(wait, lim.window_s - age)
            if wait > 0:
                return Attempt(wait)
            ids = conn.execute(insert(attempts).returning(attempts.c.id),
                               [{"key": key, "at": now} for key in keys]).scalars().all()
        return Attempt(0.0, tuple(ids))

    def forget(self, key: str) -> None:
        """Take back every attempt of ``key`` (a user name after a successful sign-in)."""
        with writing(self.engine) as conn:
            conn.execute(delete(attempts).where(attempts.c.key == key_hash(key)))

    def drop(self, ids: Iterable[int]) -> None:
        """Take back the rows ``ids`` of one attempt."""
        ids = list(ids)
        if ids:
            with writing(self.engine) as conn:
                conn.execute(delete(attempts).where(attempts.c.id.in_(ids)))


class AttemptLimiter:
    """``per_min`` attempts per key in any 60 s, exact across processes: the enrolment limit per client
    address. Same ``hit`` as ``server.ratelimit.RateLimiter``, but a write transaction per call: for
    rare requests only (call it off the event loop)."""

    def __init__(self, log: AttemptLog, per_min: int, name: str = "enrol"):
        self.log = log
        self.per_min = per_min
        self.name = name

    def hit(self, raw: str) -> float:
        """Count one attempt of ``raw``; 0 when allowed, else the seconds to wait."""
        return self.log.begin([Limit(f"{self.name}:{raw}", self.per_min, 60.0)]).wait_s
