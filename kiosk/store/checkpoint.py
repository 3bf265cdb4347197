"""The store's background thread: WAL checkpoints off the press path, and a watch for damage.

SQLite's automatic checkpoint runs inside the COMMIT that crosses 1000 WAL pages, i.e. inside some
customer's press: copying 4 MB and two fsyncs, a latency spike of hundreds of milliseconds on an SD
card every few hundred presses. This thread runs ``wal_checkpoint(PASSIVE)`` every ``CHECKPOINT_EVERY``
commits instead, which never blocks a writer; the next press after a complete checkpoint starts the WAL
from its beginning, so SQLite's own threshold is never reached in normal use and stays only as a
safety net for a sustained burst.

The same thread looks for damage that no statement of ours has run into (a page overwritten on the
card, a file truncated by hand): after each checkpoint it reads the file's header
(``kiosk.store.recovery.inspect``), and every ``QUICK_CHECK_S`` it runs ``PRAGMA quick_check``, skipped when
the other process ran one less than ``QUICK_CHECK_S`` ago (noted in ``meta``). A finding goes to
``on_damage(detail)``, which moves the file aside at once (``Store._damage_found``).
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from hymy.timestamps import format_ts, parse_ts, utcnow
from kiosk.store import recovery

log = logging.getLogger(__name__)

#: Commits between background WAL checkpoints (about 4 pages each: ~400 pages, under SQLite's 1000).
CHECKPOINT_EVERY = 100
#: Seconds between checkpoints when few presses come in (an idle WAL is folded back eventually).
CHECKPOINT_IDLE_S = 60.0
#: Seconds between background ``PRAGMA quick_check`` runs (10 minutes). It reads the whole file: about
#: 0.3 s for 200,000 events here, a few seconds on a Pi, under 1 % of a core either way.
QUICK_CHECK_S = 600.0
#: Seconds to wait for the store's lock on the checkpoint connection.
BUSY_TIMEOUT_S = 5.0


class Checkpointer:
    """Checkpoints ``path`` on its own thread and connection, and watches it for damage.

    ``reserve()`` is called after each checkpoint (to put the disk-full reserve back);
    ``on_damage(detail, inode)`` when the header or ``quick_check`` finds the file (that inode) damaged; ``boot_id`` is
    noted with a passed check; ``quick_check_s`` defaults to ``QUICK_CHECK_S``. ``nudge()`` asks for a checkpoint now; ``stop()`` ends the thread.
    """

    def __init__(self, path: Path, reserve: Callable[[], None] | None = None,
                 on_damage: Callable[[str, int], None] | None = None, boot_id: str = "",
                 quick_check_s: float | None = None):
        self.path = path
        self.reserve = reserve
        self.on_damage = on_damage
        self.boot_id = boot_id
        self.quick_check_s = QUICK_CHECK_S if quick_check_s is None else quick_check_s
        #: Checkpoints completed (tests wait on it).
        self.runs = 0
        #: Background quick_checks run (tests wait on it).
        self.checks = 0
        self._next_check = time.monotonic() + self.quick_check_s
        self._wake = threading.Event()
        self._stop = False
        self._thread = threading.Thread(target=self._run, name=f"checkpoint {path.name}", daemon=True)
        self._thread.start()

    def nudge(self) -> None:
        self._wake.set()

    def stop(self, wait: bool = True) -> None:
        """End the thread; ``wait`` (default) for it, up to 10 s. Without waiting, a step under way
        (a quick_check of seconds) finishes on its own and reports nothing more."""
        self._stop = True
        self._wake.set()
        if wait and threading.current_thread() is not self._thread:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        ino = 0
        try:
            while not self._stop:
                self._wake.wait(min(CHECKPOINT_IDLE_S, max(0.0, self._next_check - time.monotonic())))
                self._wake.clear()
                if self._stop:
                    break
                try:
                    if conn is None:
                        conn = sqlite3.connect(recovery.uri(self.path, "rw"), uri=True, isolation_level=None,
                                               timeout=BUSY_TIMEOUT_S)
                        ino = os.stat(self.path).st_ino  # the file this thread watches
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    self.runs += 1
                    if self.reserve is not None:
                        self.reserve()  # put the disk-full reserve back once there is room again
                    damage = recovery.inspect(self.path) or self._quick_check(conn)
                except sqlite3.Error as exc:  # disk full, file replaced...: the WAL just grows until next time
                    damage = f"background check: {exc}" if recovery.is_corruption(exc) else None
                    log.debug("%s: background checkpoint failed: %s", self.path, exc)
                    if conn is not None:
                        conn.close()
                        conn = None
                if damage and self.on_damage is not None and not self._stop:
                    self.on_damage(damage, ino)
        finally:
            if conn is not None:
                conn.close()

    def _quick_check(self, conn: sqlite3.Connection) -> str | None:
        """Run ``quick_check`` when due and not run lately by the other process; the failure, or None."""
        if time.monotonic() < self._next_check:
            return None
        self._next_check = time.monotonic() + self.quick_check_s
        row = conn.execute("SELECT value FROM meta WHERE key = 'quick_check'").fetchone()
        try:
            last = json.loads(row[0]) if row else {}
            if (utcnow() - parse_ts(last["at"])).total_seconds() < self.quick_check_s:
                return None
        except (ValueError, KeyError, TypeError):
            pass
        # on a connection of its own: a long-lived one keeps pages in its cache, and the file's copy of
        # a page can go bad under it without SQLite noticing (nothing changed in the WAL index)
        fresh = sqlite3.connect(recovery.uri(self.path, "ro"), uri=True, timeout=BUSY_TIMEOUT_S)
        try:
            result = fresh.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            fresh.close()
        self.checks += 1
        if result != "ok":
            return f"quick_check: {result}"
        value = json.dumps({"boot_id": self.boot_id, "at": format_ts(utcnow()), "result": "ok"})
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('quick_check', ?)", (value,))
        return None
