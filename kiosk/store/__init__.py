"""The device's local store: one SQLite file (``<data_dir>/kiosk.db``) shared by the kiosk and sync
processes, keeping every press and follow-up until the sync agent has delivered it.

WAL lets the kiosk write while the sync agent reads; ``synchronous=FULL`` makes a returned ``append``
durable across power loss, so a press is committed before the customer is thanked. Each process opens
its own store; one store is safe to use from several threads because every statement runs under its
lock. The package, by concept (docs/store.md says why it is built this way):

- ``file``: ``StoreFile``, the file itself: opened whole, statements under one lock, ``meta``; with
  ``connection`` (pragmas, a fresh store, the checks), ``damage`` (a damaged file moved aside while
  running), ``recovery`` (moving it aside, the evidence), ``salvage`` (its rows copied back),
  ``checkpoint`` (WAL checkpoints and the damage watch off the press path), ``reserve`` (the disk-full
  reserve) and ``migrations`` (the schema);
- ``outbox``: ``Outbox``, the queue the kiosk appends to and the sync agent drains (the agent's only
  view of the store);
- ``counts``: ``Counts``, today's counts and the recent presses the kiosk reads back;
- ``deferred``: ``open_store``, a store or a stand-in that keeps retrying while the disk is full.

``Store`` is the kiosk's whole store: ``from kiosk.store import Store, open_store``.
"""

from __future__ import annotations

from kiosk.store.checkpoint import CHECKPOINT_EVERY
from kiosk.store.connection import AUTOCHECKPOINT_PAGES
from kiosk.store.counts import Counts
from kiosk.store.deferred import DeferredStore, open_store
from kiosk.store.outbox import SYNC_REQUESTED, Outbox, StoredEvent
from kiosk.store.recovery import Recovery
from kiosk.store.reserve import RESERVE_BYTES


class Store(Outbox, Counts):
    """The kiosk's store: the outbox (``Outbox``) and its read-backs (``Counts``) on one store file.

    ``Store(path, synchronous="FULL", check=True, boot_id=None)``: see ``kiosk.store.file.StoreFile``.
    Raises StoreUnavailable when the disk is full or read-only; a damaged file is moved aside and
    replaced (``recovery`` says so).
    """


__all__ = ["AUTOCHECKPOINT_PAGES", "CHECKPOINT_EVERY", "RESERVE_BYTES", "SYNC_REQUESTED", "Counts", "DeferredStore",
           "Outbox", "Recovery", "Store", "StoredEvent", "open_store"]
