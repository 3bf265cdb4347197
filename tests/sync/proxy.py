"""A fault-injecting HTTP/1.1 proxy on loopback, for the sync agent's fault tests.

It sits between the agent and the real server and, per request, chosen by a seeded random:

- ``drop``: closes the client's connection before forwarding (the server never sees the request);
- ``lose``: forwards the request, waits for the server's full answer (so the server has committed),
  then closes the client's connection without a byte: the answer is lost after the commit;
- ``truncate``: forwards, then sends the headers and half of the body, and closes;
- ``burst``: answers 503 (sometimes with ``Retry-After: 0``) without forwarding, for a run of requests;
- ``slow``: forwards, then delays the answer by ``slow_s`` seconds.

``rewrite = (path_prefix, fn)`` also lets a test change the body of answers to one path (a corrupted
or version-skewed answer the real server would never send, e.g. an invalid store config).

One request per client connection (the answer is sent with ``Connection: close``), which keeps the
parser tiny. Runs its own asyncio loop in a daemon thread; ``start()`` returns the port.
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

FAULTS = ("drop", "lose", "truncate", "burst", "slow")


@dataclass
class FaultRates:
    """Probability per request of each fault (0..1); ``burst_len`` requests per 5xx burst."""

    drop: float = 0.0
    lose: float = 0.0
    truncate: float = 0.0
    burst: float = 0.0
    slow: float = 0.0
    slow_s: float = 0.3
    burst_len: int = 4


class FaultProxy:
    def __init__(self, upstream_port: int, rates: FaultRates | None = None, *, seed: int = 0,
                 upstream_host: str = "127.0.0.1"):
        self.upstream = (upstream_host, upstream_port)
        self.rates = rates or FaultRates()
        self.random = random.Random(seed)
        self.counts: Counter[str] = Counter()
        self.port = 0
        self._burst_left = 0
        self.rewrite: tuple[str, Callable[[bytes], bytes]] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> int:
        self._thread = threading.Thread(target=self._run, name="fault-proxy", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("fault proxy did not start")
        return self.port

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        tasks = [t for t in asyncio.all_tasks(self._loop) if not t.done()]
        for task in tasks:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        self._server.close()
        self._loop.run_until_complete(self._server.wait_closed())
        self._loop.close()

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def clear(self) -> None:
        """No more faults from now on (the settle phase of a test)."""
        self.rates = FaultRates()
        self._burst_left = 0

    # ------------------------------------------------------------------ one request

    def _pick(self) -> str | None:
        if self._burst_left > 0:
            self._burst_left -= 1
            return "burst"
        r = self.rates
        x = self.random.random()
        for name in FAULTS:
            p = getattr(r, name)
            if x < p:
                if name == "burst":
                    self._burst_left = max(0, r.burst_len - 1)
                return name
            x -= p
        return None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await _read_request(reader)
            if request is None:
                return
            fault = self._pick()
            self.counts[fault or "ok"] += 1
            if fault == "drop":
                return
            if fault == "burst":
                extra = b"Retry-After: 0\r\n" if self.random.random() < 0.5 else b""
                body = b'{"detail":"injected 503"}'
                writer.write(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n" + extra
                             + b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
                await writer.drain()
                return
            answer = await self._forward(request)
            if self.rewrite and request.split(b" ", 2)[1].decode().startswith(self.rewrite[0]):
                answer = _rewrite_body(answer, self.rewrite[1])
            if fault == "lose":
                return
            if fault == "truncate":
                head_end = answer.find(b"\r\n\r\n") + 4
                writer.write(answer[: head_end + (len(answer) - head_end) // 2])
                await writer.drain()
                return
            if fault == "slow":
                await asyncio.sleep(self.rates.slow_s)
            writer.write(answer)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, OSError):
            self.counts["error"] += 1
        finally:
            writer.close()

    async def _forward(self, request: bytes) -> bytes:
        up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        try:
            up_writer.write(request)
            await up_writer.drain()
            return await up_reader.read()  # until the server closes (we asked for Connection: close)
        finally:
            up_writer.close()


async def _read_request(reader: asyncio.StreamReader) -> bytes | None:
    """One request, re-headed with ``Connection: close``; None when the client closed first."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head[:-4].split(b"\r\n")
    length = 0
    kept = [lines[0]]
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        key = name.strip().lower()
        if key == b"content-length":
            length = int(value.strip())
        if key in (b"connection", b"keep-alive"):
            continue
        kept.append(line)
    kept.append(b"Connection: close")
    body = await reader.readexactly(length) if length else b""
    return b"\r\n".join(kept) + b"\r\n\r\n" + body


def _rewrite_body(answer: bytes, fn: Callable[[bytes], bytes]) -> bytes:
    head, sep, body = answer.partition(b"\r\n\r\n")
    if not sep or not body:
        return answer
    new = fn(body)
    lines = [ln for ln in head.split(b"\r\n") if not ln.lower().startswith(b"content-length:")]
    lines.append(b"Content-Length: " + str(len(new)).encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + new
