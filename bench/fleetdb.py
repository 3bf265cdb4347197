"""Databases for bench/fleet.py: fresh ones, the fleet's organisation in them, and the CPU of PostgreSQL's
backends. Not a benchmark itself (``make bench`` skips modules without a ``__main__`` block).

The organisation: one region per ``STORES_PER_REGION`` stores, one store per ``DEVICES_PER_STORE``
kiosks, made with ``server.admin``. The devices and their tokens are written directly into ``devices``
(ids as ``admin.create_device`` makes them, ``server.tokens.new_token`` / ``hash_secret``, the columns
``admin.enroll`` sets), in one transaction, instead of going through ``POST /api/v1/enroll``: the
server allows 10 enrolments per minute per address (HYMY_ENROLL_RATE), and enrolment is not what
the benchmark measures. 10,000 devices take a few seconds this way.

PostgreSQL's work for a request happens in its backend processes, not in the server's: ``Backends``
reads their CPU from /proc (the database runs on this machine here) by ``application_name``, which
``tagged`` puts into a database URL, so each figure's database share is printed beside it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import make_url
from timings import cpu_s

from hymy.timestamps import format_ts, utcnow
from server import admin
from server import tables as t
from server.binding import ids_value, in_ids
from server.db import make_engine, writing
from server.migrate import upgrade
from server.tokens import hash_secret, new_token

DEVICES_PER_STORE = 50
STORES_PER_REGION = 10
TIMEZONE = "Europe/Helsinki"


@contextlib.contextmanager
def database(kind: str, root: Path, name: str):
    """Yield the URL of a fresh, migrated database of ``kind`` ("sqlite": a file ``name``.db in ``root``;
    "postgres": a new schema in HYMY_TEST_POSTGRES_URL's database, dropped afterwards)."""
    if kind == "sqlite":
        url = f"sqlite:///{root / (name + '.db')}"
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
        return
    base = os.environ["HYMY_TEST_POSTGRES_URL"]
    schema = f"fleet_{name}_{secrets.token_hex(4)}"
    root_engine = make_engine(base)
    with root_engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    url = f"{base}{sep}options={quote('-csearch_path=' + schema)}"
    try:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
    finally:
        with root_engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        root_engine.dispose()


def tagged(url: str, app_name: str) -> str:
    """``url`` with PostgreSQL's ``application_name`` set (so ``Backends`` finds its connections); a SQLite
    URL unchanged."""
    if not url.startswith("postgresql"):
        return url
    return f"{url}{'&' if '?' in url else '?'}application_name={quote(app_name)}"


def libpq_url(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL as a libpq URI for ``psycopg.connect``."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@dataclass(frozen=True)
class Member:
    """One device of the organisation."""

    device_id: str
    store_id: str
    region_id: str
    token: str


def organise(url: str, devices: int) -> list[Member]:
    """Regions, stores and ``devices`` enrolled devices (see the module doc); returns them in order."""
    engine = make_engine(url)
    n_stores = -(-devices // DEVICES_PER_STORE)
    regions = [admin.create_region(engine, f"Fleet region {r + 1}")
               for r in range(-(-n_stores // STORES_PER_REGION))]
    stores = [admin.create_store(engine, f"Fleet store {s + 1}", timezone=TIMEZONE,
                                 region_id=regions[s // STORES_PER_REGION]) for s in range(n_stores)]
    now = format_ts(utcnow())
    members, rows = [], []
    for i in range(devices):
        s = i // DEVICES_PER_STORE
        token = new_token()
        members.append(Member("dev-" + secrets.token_hex(6), stores[s], regions[s // STORES_PER_REGION], token))
        rows.append({"id": members[-1].device_id, "store_id": stores[s], "name": f"fleet-{i}",
                     "token_hash": hash_secret(token), "created_at": now, "enrolled_at": now,
                     "app_version": "bench"})
    with writing(engine) as conn:
        for k in range(0, len(rows), 2000):
            conn.execute(insert(t.devices), rows[k:k + 2000])
    engine.dispose()
    return members


@dataclass(frozen=True)
class Stored:
    """What the database holds after a run: the raw responses, and how many of the ids sent without an
    answer are among them."""

    responses: int
    of_unanswered: int


def stored(url: str, unanswered: list[str]) -> Stored:
    engine = make_engine(url)
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(t.responses)).scalar_one()
        dialect = conn.dialect.name
        hit = conn.execute(select(func.count()).select_from(t.responses).where(in_ids(dialect, t.responses.c.id)),
                           {"ids": ids_value(dialect, unanswered)}).scalar_one() if unanswered else 0
    engine.dispose()
    return Stored(n, hit)


class Backends:
    """CPU seconds used by the PostgreSQL backends whose ``application_name`` is ``name``, from /proc.

    ``start()`` takes the baseline; ``poll()`` (call it every fraction of a second while connections may
    come and go) reads every such backend; ``used_s()`` is their CPU since ``start``: a backend that
    appeared later counts whole (its start-up is the server's doing), one that ended counts up to its
    last poll. ``None`` everywhere when the database's processes are not visible here.
    """

    def __init__(self, url: str, name: str):
        self.name = name
        self.engine = make_engine(url)  # its own connection is not tagged, so it is not measured
        self.base: dict[int, float] = {}
        self.last: dict[int, float] = {}
        with self.engine.connect() as conn:  # PostgreSQL on this machine: its own backend is in /proc
            self.visible = Path("/proc", str(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())).exists()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _read(self) -> dict[int, float]:
        if not self.visible:
            return {}
        with self.engine.connect() as conn:
            pids = conn.execute(text("SELECT pid FROM pg_stat_activity WHERE application_name = :n"),
                                {"n": self.name}).scalars().all()
        out = {}
        for pid in pids:
            with contextlib.suppress(OSError, ValueError):  # a backend that ended meanwhile
                out[pid] = cpu_s(pid)
        return out

    def start(self) -> None:
        self.base = self._read()
        self.last = dict(self.base)

    def poll(self) -> None:
        for pid, cpu in self._read().items():
            self.base.setdefault(pid, 0.0)
            self.last[pid] = cpu

    def used_s(self) -> float | None:
        self.poll()
        return sum(self.last[p] - self.base[p] for p in self.last) if self.visible else None

    def polling(self, every_s: float = 0.25) -> Backends:
        """Poll in a thread of this process until ``close()`` (for a window with connections coming and
        going); only for windows where this process's own CPU is not measured."""
        def loop() -> None:
            while not self._stop.wait(every_s):
                self.poll()
        self._thread = threading.Thread(target=loop, name="fleet-pg-backends", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()
        self.engine.dispose()
