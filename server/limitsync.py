"""The request limits' merge (``server.ratelimit``): once a second each process writes its counts and
reads everyone's, off the request path.

A merge (:meth:`LimitSync.merge`, a periodic job of every process: not once across them, see
``server.app``) is at most three short statements' worth of work:

- when some key reached its ``report_at`` or changed since: one transaction upserting this process's
  rows of ``rate_counts`` (minute, key hash, holder, its own count: a count, not an increment, so a
  merge that fails and is done again counts nothing twice), and deleting the rows of past minutes;
- every ``PRESENCE_S / 2`` seconds: renew this process's presence, the lease ``limits:<holder>``
  (``server.leases``) expiring in ``PRESENCE_S`` seconds;
- a read of this minute's totals per key (only keys someone wrote: a kiosk far below its limit writes
  nothing, so at 10,000 kiosks a minute holds the stores' addresses and the odd busy device) and of
  the live presences: N, the processes sharing the limits.

Then each limiter gets its keys' totals and N (``RateLimiter.merged``). A process that stops gives its
presence up (:meth:`LimitSync.leave`); one that dies stops counting after ``PRESENCE_S``.
"""

from __future__ import annotations

import logging

from sqlalchemy import delete, func, select

from .db import insert_for, writing
from .leases import Leases
from .ratelimit import WINDOW_S, RateLimiter
from .tables import rate_counts

log = logging.getLogger(__name__)

#: Seconds a process's presence lasts unless renewed (renewed every half of it).
PRESENCE_S = 10.0
PRESENCE = "limits:"


class LimitSync:
    """Merges ``limiters`` (each with its own ``name``) through the database of ``leases``."""

    def __init__(self, leases: Leases, limiters: list[RateLimiter]):
        self.leases = leases
        self.engine = leases.engine
        self.limiters = [lim for lim in limiters if lim.per_min > 0]
        self._upsert = insert_for(self.engine.dialect.name)(rate_counts)
        self._upsert = self._upsert.on_conflict_do_update(
            index_elements=[rate_counts.c.minute, rate_counts.c.key, rate_counts.c.holder],
            set_={"n": self._upsert.excluded.n})
        self._present_until = 0.0
        self._pruned_minute = -1

    def __bool__(self) -> bool:
        """False when no limit is on (nothing to merge)."""
        return bool(self.limiters)

    @property
    def presence(self) -> str:
        return PRESENCE + self.leases.holder

    def merge(self) -> None:
        """Write this process's counts, read everyone's, update the limiters (see the module's doc)."""
        now = self.leases.clock()
        writes = [(lim, *lim.to_write()) for lim in self.limiters]
        minute = max(int(now // WINDOW_S), *(m for _, m, _ in writes))
        rows = [{"minute": m, "key": key, "holder": self.leases.holder, "n": n}
                for _, m, written in writes for key, n in written.items()]
        if now + PRESENCE_S / 2 >= self._present_until:
            self.leases.take(self.presence, PRESENCE_S)
            self._present_until = now + PRESENCE_S
        if rows or self._pruned_minute != minute:
            with writing(self.engine) as conn:
                if rows:
                    conn.execute(self._upsert, rows)
                if self._pruned_minute != minute:
                    conn.execute(delete(rate_counts).where(rate_counts.c.minute < minute))
            self._pruned_minute = minute
        with self.engine.connect() as conn:
            totals = dict(conn.execute(select(rate_counts.c.key, func.sum(rate_counts.c.n))
                                       .where(rate_counts.c.minute == minute).group_by(rate_counts.c.key)).all())
        processes = self.leases.live(PRESENCE)
        for lim, m, written in writes:
            prefix = lim.name + ":"
            mine = {k: int(v) for k, v in totals.items() if k.startswith(prefix)} if m == minute else {}
            lim.merged(m, written, mine, processes)

    def leave(self) -> None:
        """This process stops counting (its app shuts down): its presence goes at once."""
        if self.limiters:
            self.leases.release(self.presence)


def install(app) -> None:
    """The request limits of ``app`` (``server.app.create_app``), from ``app.state.settings``:
    ``device_limiter`` (HYMY_DEVICE_RATE), ``ip_limiter`` (HYMY_IP_RATE), merged across processes by a
    ``limits`` job of every process (when ``background_jobs``; merged once now, so a new process knows
    the others before its first request), and ``enroll_limiter`` (HYMY_ENROLL_RATE, exact in the
    database)."""
    from hymy.periodic import always

    from .attempts import AttemptLimiter, AttemptLog
    from .ratelimit import MERGE_S

    s = app.state.settings
    app.state.device_limiter = RateLimiter(s.device_rate_per_min, "device", workers=s.workers)
    app.state.ip_limiter = RateLimiter(s.ip_rate_per_min, "address", workers=s.workers)
    app.state.enroll_limiter = AttemptLimiter(AttemptLog(app.state.engine), s.enroll_rate_per_min)
    sync = LimitSync(app.state.leases, [app.state.device_limiter, app.state.ip_limiter])
    if not sync or not s.background_jobs:
        return
    try:
        sync.merge()
    except Exception:  # the job tries again every second; meanwhile each process counts alone
        log.exception("request limits: the first merge failed")
    app.state.jobs.add("limits", MERGE_S, sync.merge, gate=always)
    app.state.on_shutdown.append(sync.leave)
