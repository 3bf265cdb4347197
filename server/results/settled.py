"""Settled days: what a process read of past local dates, remembered until the store's rollups change.

A local date is *settled* for the readers here once it is before :func:`settled_before` (two days before
the UTC date: over in every zone, and a day more). Its rollups change after that only through
``server.rollups.bump`` (a late-synced press, a void, a heartbeat's clock correction), which in the same
transaction adds one to the store's ``rollup_generations`` row for any change of a date before
``server.rollups.marked_before`` (one day later than here, so two processes whose clocks differ by up to a
day still agree on which dates are marked).

So a reader reads the stores' generations first (:func:`generations`, one small query), then takes what
it remembers under those same generations and reads only the rest. An entry remembered under an older
generation is read again; a change committed between the two reads only costs one more read later (the
figures read are newer than the generation they are kept under, never older). What is remembered:

- Today's table: each store's usual days up to the hour (``results.usual.days_so_far``);
- Today's cards and the Day page: each usual day's presses per local hour (``results.hour_samples``);
- the heat map: the weeks of the period before :func:`settled_before` (``results.week_vs_rest``).

Per database (engine) and process, at most :data:`MEMORY_SIZE` Samples' worth (then it starts over).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Collection, Hashable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from .. import tables as t
from ..rollups import MARK_DAYS

#: Dates this many days or more before the UTC date are remembered (one more than the writers mark).
SETTLED_DAYS = MARK_DAYS + 1
#: Most remembered per database and process, in Samples (some 150 bytes each with their keys: 30 MB).
MEMORY_SIZE = 200_000

g = t.rollup_generations


def settled_before(now: datetime | None = None) -> date:
    """The first local date not yet settled: the UTC date of ``now`` (default: the clock) less
    :data:`SETTLED_DAYS`."""
    return (now or datetime.now(UTC)).astimezone(UTC).date() - timedelta(days=SETTLED_DAYS)


def generations(conn: Connection, store_ids: Collection[str]) -> dict[str, int]:
    """Each store's generation (0 for a store whose settled days never changed)."""
    ids = sorted(store_ids)
    found = dict(conn.execute(select(g.c.store_id, g.c.generation).where(g.c.store_id.in_(ids))).all()) if ids else {}
    return {sid: int(found.get(sid, 0)) for sid in ids}


class Memory:
    """Entries ``key -> (store's generation, value)`` of one database, thread-safe, bounded by a weight
    (about one :class:`hymy.stats.Sample` each: an hour, a day so far, a week of a heat-map cell). A key's
    second item is its store's id."""

    def __init__(self, size: int = MEMORY_SIZE) -> None:
        self.size = size
        self.weight = 0
        self._entries: dict[Hashable, tuple[int, Any, int]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def take(self, keys: Collection[tuple], gens: Mapping[str, int]) -> dict[tuple, Any]:
        """The values of ``keys`` remembered under their store's generation in ``gens``."""
        out = {}
        entries = self._entries
        for key in keys:
            got = entries.get(key)
            if got is not None and got[0] == gens[key[1]]:
                out[key] = got[1]
        return out

    def keep(self, values: Mapping[tuple, Any], gens: Mapping[str, int], weight: int = 1) -> None:
        """Remember ``values`` (each of ``weight``) under the generations ``gens`` read *before* the values
        were; a key kept again replaces its entry. Past :attr:`size` in all, everything is forgotten first."""
        with self._lock:
            if self.weight + weight * len(values) > self.size:
                self._entries.clear()
                self.weight = 0
            for key, value in values.items():
                old = self._entries.get(key)
                self.weight += weight - (old[2] if old else 0)
                self._entries[key] = (gens[key[1]], value, weight)


#: What :func:`per_store_date` remembers for a store and date that had nothing.
_ABSENT = object()


def per_store_date(conn: Connection, kind: Hashable, store_ids: Collection[str], dates: Collection[date],
                   read: Callable[[list[str], set[date]], Mapping[str, Mapping[date, Any]]],
                   tags: Mapping[str, Hashable] | None = None, weight: int = 1) -> dict[str, dict[date, Any]]:
    """``read(store_ids, dates)`` (values per store and date; absent where there is nothing), with the
    settled dates' values taken from memory where remembered under the store's generation. ``kind`` and
    the store's ``tags`` entry (its zone, say) tell apart readers and their parameters; ``read`` is asked
    only for the stores and dates not remembered (all the stores by the dates missing for any). ``weight``:
    what a value weighs in Samples (:class:`Memory`).

    Keys name a date, so the memory fills day by day with dates no page asks any more; when full it starts
    over (:data:`MEMORY_SIZE`)."""
    settled = settled_before()
    old = {d for d in dates if d < settled}
    tags = tags or {}
    gens = generations(conn, store_ids) if old else {}  # before anything is read
    mem = memory(conn)

    def key(sid: str, d: date) -> tuple:
        return (kind, sid, d, tags.get(sid))

    known = mem.take([key(sid, d) for sid in store_ids for d in old], gens)
    out: dict[str, dict[date, Any]] = {}
    for (_kind, sid, d, _tag), value in known.items():
        if value is not _ABSENT:
            out.setdefault(sid, {})[d] = value
    missing = [(sid, d) for sid in store_ids for d in dates if key(sid, d) not in known]
    if missing:
        got = read(sorted({sid for sid, _ in missing}), {d for _, d in missing})
        fresh = {}
        for sid, d in missing:
            value = got.get(sid, {}).get(d, _ABSENT)
            if value is not _ABSENT:
                out.setdefault(sid, {})[d] = value
            if d in old:
                fresh[key(sid, d)] = value
        mem.keep(fresh, gens, weight)
    return out


_memories: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_memories_lock = threading.Lock()


def memory(conn: Connection) -> Memory:
    """The :class:`Memory` of ``conn``'s database (one per engine: tests and tools open several)."""
    engine = conn.engine
    found = _memories.get(engine)
    if found is None:
        with _memories_lock:
            found = _memories.get(engine)
            if found is None:
                found = _memories[engine] = Memory()
    return found


__all__ = ["SETTLED_DAYS", "MEMORY_SIZE", "settled_before", "generations", "Memory", "memory", "per_store_date"]
