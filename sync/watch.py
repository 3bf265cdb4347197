"""Noticing that the kiosk committed something, at almost no cost while idle.

SQLite's ``PRAGMA data_version`` on a connection changes whenever *another* connection commits to the
same file (it reads a counter in the WAL index: no table is touched, no disk read in steady state).
The agent polls it every ``POLL_S`` (0.25 s), so a press is noticed within a quarter of a second and an
idle agent costs a few microseconds four times a second. inotify on the WAL file would also work but
fires on the agent's own reads and checkpoints, and needs a non-stdlib package.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

#: Seconds between looks at the store while idle.
POLL_S = 0.25


class ChangeWatcher:
    """``changed()`` is True when some other connection committed to ``path`` since the last call.

    Uses its own read-only connection, so the agent's own writes (mark sent, meta) also count as
    changes: harmless, they cost one empty read of the outbox.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self._conn: sqlite3.Connection | None = None
        self._version: int | None = None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, isolation_level=None,
                                         check_same_thread=False, timeout=5)
        return self._conn

    def changed(self) -> bool:
        """True on the first call, after a commit by any other connection, or if the file cannot be read."""
        try:
            version = self._connection().execute("PRAGMA data_version").fetchone()[0]
        except sqlite3.Error:
            self.reset()
            return True
        if version != self._version:
            self._version = version
            return True
        return False

    def reset(self) -> None:
        """Forget the connection (after the store file was replaced on disk)."""
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self._conn.close()
        self._conn = None
        self._version = None

    def close(self) -> None:
        self.reset()
