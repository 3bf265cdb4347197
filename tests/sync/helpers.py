"""Shared helpers of the sync tests: device configs, presses into a real store, loopback ports."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from hymy.protocol import default_store_config
from hymy.timestamps import utcnow
from kiosk.capture import build_followup, build_response
from kiosk.clock import ClockReading
from kiosk.config import load_config
from kiosk.store import Store


def write_config(tmp_path: Path, url: str, *, code: str | None = None, name: str = "kiosk.toml") -> Path:
    """A device TOML with its data dir under ``tmp_path``; returns its path."""
    data = tmp_path / "data"
    lines = ["[device]", 'name = "test-kiosk"', f'data_dir = "{data}"', 'clock = "trust"', "", "[server]",
             f'url = "{url}"']
    if code:
        lines.append(f'enrolment_code = "{code}"')
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def device(tmp_path: Path, url: str, **kw):
    """(config, store) for a device talking to ``url``."""
    cfg = load_config(write_config(tmp_path, url, **kw))
    return cfg, Store(cfg.store_path)


def presses(store: Store, n: int, *, synced: bool = True, boot_id: str = "boot-test", followups: bool = True,
            start_uptime_ms: int = 1000) -> list[str]:
    """Record ``n`` presses (every 7th with a reason follow-up) in one transaction; return the event ids."""
    cfg = default_store_config()
    base = utcnow()
    events = []
    for i in range(n):
        now = ClockReading(base + timedelta(milliseconds=i), synced, boot_id, start_uptime_ms + i)
        r = build_response(1 + i % 4, "simulated", now, cfg, [])
        events.append(r)
        if followups and i % 7 == 0:
            events.append(build_followup(r.id, "reason", "queue", now))
    store.append_many(events)
    return [e.id for e in events]


def closed_port() -> int:
    """A loopback port with nothing listening (connection refused)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class SlamServer:
    """A TCP listener on loopback that accepts and at once closes each connection, counting them."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            conn.close()

    def close(self):
        self.sock.close()


@contextlib.contextmanager
def answering_server(answer: bytes, on_post: Callable[[BaseHTTPRequestHandler, bytes], None], *,
                     content_type: str | None = None, tls: ssl.SSLContext | None = None) -> Iterator[int]:
    """A real HTTP/1.1 server on a free loopback port (HTTPS with ``tls``) that answers every POST
    200 with ``answer``, after ``on_post(handler, request_body)``; yields its port, shut down on exit."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            on_post(self, self.rfile.read(int(self.headers.get("Content-Length", 0))))
            self.send_response(200)
            if content_type:
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *a):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if tls:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


class StepClock:
    """A device clock the test moves: unsynced at ``wall`` (a Pi without a real-time clock boots in 1970)
    until the test sets ``synced`` and the true ``wall``; boot ``boot-test`` at ``uptime`` ms."""

    def __init__(self, wall: datetime = datetime(1970, 1, 1, 0, 2, tzinfo=UTC), uptime_ms: int = 120_000):
        self.synced = False
        self.wall = wall
        self.uptime = uptime_ms

    def __call__(self) -> ClockReading:
        return ClockReading(self.wall, self.synced, "boot-test", self.uptime)

