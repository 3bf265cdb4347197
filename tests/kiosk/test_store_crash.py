"""The store survives ``kill -9`` at random moments: nothing acknowledged is lost, nothing doubled."""

from __future__ import annotations

import os
import random
import selectors
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import procs

CHILD = Path(__file__).with_name("crash_child.py")
KILLS = int(os.environ.get("HYMY_CRASH_KILLS", "220"))


class Zygote:
    """Drives crash_child.py: fork a writer, read its acknowledgements, kill it."""

    def __init__(self) -> None:
        self.proc = procs.Popen([sys.executable, str(CHILD)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                bufsize=0)
        os.set_blocking(self.proc.stdout.fileno(), False)
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.proc.stdout, selectors.EVENT_READ)
        self.buf = b""

    def lines(self, timeout: float):
        """Complete lines available within ``timeout`` seconds (stops early at none)."""
        deadline = time.monotonic() + timeout
        while True:
            while b"\n" in self.buf:
                line, self.buf = self.buf.split(b"\n", 1)
                yield line.decode()
            left = deadline - time.monotonic()
            if left <= 0 or not self.sel.select(left):
                return
            chunk = self.proc.stdout.read(65536)
            if not chunk:
                return
            self.buf += chunk

    def expect(self, prefix: str, timeout: float = 30.0, into: list[str] | None = None) -> list[str]:
        for line in self.lines(timeout):
            if line.startswith(prefix):
                return line.split()
            if into is not None and line.startswith("id "):
                into.append(line[3:])
        raise AssertionError(f"no {prefix!r} line from the crash child within {timeout} s")

    def close(self) -> None:
        try:
            self.proc.stdin.write(b"quit\n")
            self.proc.stdin.close()
            self.proc.wait(10)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()


def test_store_survives_kill_during_commit(tmp_path):
    """A writer appending presses (Recorder.record, follow-ups, append_many) is killed with SIGKILL
    ``KILLS`` times at random moments, including while it opens the store. After each kill: every id
    whose append returned is in the file, ``PRAGMA integrity_check`` is ok, no id is stored twice,
    the store was never mistaken for corrupt (no file moved aside), a store file that exists has its
    tables (it is made whole or not at all), and the order numbers only grow."""
    db = tmp_path / "kiosk.db"
    rng = random.Random(20261123)
    acked: list[str] = []
    zygote = Zygote()
    killed_mid_stream = 0
    try:
        for cycle in range(KILLS):
            zygote.proc.stdin.write(f"fork {db} {cycle}\n".encode())
            pid = int(zygote.expect("pid")[1])
            # Mostly while appending: after a random number of acknowledgements (so the moment does not
            # depend on how fast this disk's fsync is) plus a random sub-commit delay; every tenth
            # right away (opening, quick_check, migrations).
            before = len(acked)
            if cycle % 10:
                wanted = before + rng.randint(1, 6)
                deadline = time.monotonic() + 30
                while len(acked) < wanted and time.monotonic() < deadline:
                    for line in zygote.lines(0.01):
                        if line.startswith("id "):
                            acked.append(line[3:])
                        if len(acked) >= wanted:
                            break
                time.sleep(rng.uniform(0, 0.002))
            os.kill(pid, signal.SIGKILL)
            words = zygote.expect("dead", into=acked)
            assert int(words[1]) == pid
            assert os.WIFSIGNALED(int(words[2])), f"the writer ended on its own: status {words[2]}"
            killed_mid_stream += len(acked) > before

            ids = []
            if db.exists():  # killed before it made the file: nothing there (opened read-only: never made here)
                conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
                try:
                    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok", f"after kill {cycle}"
                    migrated = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'events'").fetchone()
                    assert migrated, f"after kill {cycle}: a store file without its tables (made half)"
                    ids = [r[0] for r in conn.execute("SELECT id FROM events ORDER BY seq")]
                finally:
                    conn.close()
            assert len(ids) == len(set(ids)), f"an id is stored twice after kill {cycle}"
            missing = set(acked) - set(ids)
            assert not missing, f"after kill {cycle}: {len(missing)} acknowledged presses lost"
    finally:
        zygote.close()
    assert not list(tmp_path.glob("*.corrupt-*")), "a healthy store killed mid-write was moved aside"
    assert killed_mid_stream >= KILLS * 8 // 10, "most kills should land while presses are being appended"
    assert len(acked) > KILLS, "the writers should have acknowledged many presses"


@pytest.mark.parametrize("kills", [1])
def test_crash_child_really_commits_before_acknowledging(tmp_path, kills):
    """Guard against a vacuous crash test: the child's acknowledged ids are really read back."""
    db = tmp_path / "kiosk.db"
    zygote = Zygote()
    acked: list[str] = []
    try:
        zygote.proc.stdin.write(f"fork {db} 1\n".encode())
        pid = int(zygote.expect("pid")[1])
        for line in zygote.lines(0.2):
            if line.startswith("id "):
                acked.append(line[3:])
        os.kill(pid, signal.SIGKILL)
        zygote.expect("dead", into=acked)
    finally:
        zygote.close()
    assert len(acked) >= 10
    with sqlite3.connect(db) as conn:
        stored = {r[0] for r in conn.execute("SELECT id FROM events")}
    assert set(acked) <= stored
