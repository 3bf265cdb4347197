"""The load generator of bench/fleet.py: simulated kiosks in processes of their own (asyncio + aiohttp).

Not a benchmark itself (``make bench`` skips modules without a ``__main__`` block). fleet.py starts
``fleetrun.LoadRun`` in the measuring process; it spawns ``procs`` load processes (``multiprocessing``, spawn),
each running its share of the kiosks as asyncio tasks (uvloop when installed) on aiohttp, so the load
generator's CPU is never the measuring process's nor the server's. aiohttp and not httpx: on this
machine httpx's async client took 2.0 ms of CPU per request and aiohttp's 0.32 ms; at a fleet's
~667 requests/s that is a fifth of a core instead of more than a whole one, taken from the server's.

Each kiosk sends what the sync agent sends, built by the agent's own code: a batch body is the kiosk
store's JSON of ``kiosk.capture.build_response`` events (fresh UUIDv7 ids) joined by
``sync.delivery.encode_batch`` and gzip'd by ``sync.client.gzip_body``; a heartbeat is
``sync.heartbeat.build_heartbeat``'s JSON, followed (when it was answered) by a config pull with the
store's ETag, as the agent does every 60 s. Each kiosk has its own keep-alive client session from a
loopback source address of its store (127.77.x.y; the kiosks of one store share one, as behind a
shop's router), one request at a time. An unanswered batch is sent again after the agent's backoff
(``sync.backoff.Backoff``, 1 s full jitter), until ``grace_s`` after the end; the agent's own
``sync.delivery.judge`` says which answers to send again.

Time: every kiosk lives on a *virtual* clock that runs ``speed`` times as fast as the real one
(``Schedule``: steps of (seconds, speed)); the realistic mode runs at speed 1, the step mode raises it
step by step, so every kiosk keeps its own timing pattern while the fleet's offered rate grows.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from types import SimpleNamespace

import aiohttp

from hymy.protocol import default_store_config
from hymy.timestamps import utcnow
from kiosk.capture import build_response
from kiosk.clock import ClockReading
from sync.backoff import Backoff
from sync.client import API, CONNECT_TIMEOUT_S, READ_TIMEOUT_S, USER_AGENT, gzip_body
from sync.delivery import Outcome, Verdict, encode_batch, judge
from sync.heartbeat import build_heartbeat

CONFIG = default_store_config()
MOODS = (1, 2, 3, 3, 4, 4, 4)  #: a realistic mix of presses
#: A step's requests still unanswered this many seconds after the step ended are counted as slower than
#: 1 s (they are: each was sent before the step ended), so a step is judged without waiting for them.
STEP_REPORT_DELAY_S = 1.0


# --------------------------------------------------------------------------- what a kiosk sends


def press_events(n: int, rng: random.Random, boot_id: str, uptime_ms: int) -> list:
    """``n`` presses of one kiosk now, as the capture core builds them (``Response`` models, fresh ids)."""
    reading = ClockReading(utcnow(), True, boot_id, uptime_ms)
    return [build_response(rng.choice(MOODS), "button", reading, CONFIG, []) for _ in range(n)]


def batch_json(events: list) -> bytes:
    """The uncompressed body of ``POST /api/v1/responses`` as the agent builds it from stored events."""
    return encode_batch(SimpleNamespace(body=e.model_dump_json(exclude_defaults=False)) for e in events)


@dataclass(frozen=True)
class Traffic:
    """What every kiosk sends, at speed 1 (seconds of the virtual clock)."""

    events: int = 5  #: events per press (5: the saturating mode's batches; 1: a real press)
    every_s: float = 1.0  #: mean seconds between presses
    poisson: bool = False  #: exponential gaps (shoppers) instead of uniform +-50 %
    #: the next gap starts when the answer came (the saturating mode: batches keep their size) instead of
    #: at the last press (realistic: presses made while a request was out go together in the next batch)
    closed_loop: bool = True
    heartbeat_s: float = 0.0  #: seconds between heartbeats (0: none)
    config_pull: bool = False  #: a config pull after each answered heartbeat, as the agent does

    def requests_per_s(self) -> float:
        """Requests one kiosk offers per second at speed 1 (ignoring the time answers take)."""
        beats = 1 / self.heartbeat_s if self.heartbeat_s else 0.0
        return 1 / self.every_s + beats * (2 if self.config_pull else 1)


@dataclass(frozen=True)
class Kiosk:
    index: int
    token: str
    address: str  #: loopback source address
    etag: str | None = None  #: the store config's ETag the kiosk holds (None: none yet)


@dataclass(frozen=True)
class Schedule:
    """Speed of the virtual clock from ``start`` (monotonic seconds): ``steps`` of (seconds, speed)."""

    start: float
    steps: tuple[tuple[float, float], ...]

    @property
    def ends(self) -> list[float]:
        """Each step's end, in seconds after ``start``."""
        out, t = [], 0.0
        for seconds, _ in self.steps:
            t += seconds
            out.append(t)
        return out

    @property
    def end(self) -> float:
        return self.start + self.ends[-1]

    def virtual(self, t: float) -> float:
        """Virtual seconds at monotonic time ``t``."""
        v, at = 0.0, self.start
        for seconds, speed in self.steps:
            span = min(seconds, max(0.0, t - at))
            v += span * speed
            at += seconds
            if t < at:
                break
        return v

    def real(self, v: float) -> float:
        """The monotonic time at which the virtual clock reads ``v`` (``inf`` after the last step)."""
        at = self.start
        for seconds, speed in self.steps:
            if v <= seconds * speed:
                return at + v / speed
            v -= seconds * speed
            at += seconds
        return math.inf



# --------------------------------------------------------------------------- what a load process records


@dataclass
class Samples:
    """Every attempt of one load process (or of all, merged), in send order per process."""

    sent: list[float] = field(default_factory=list)  #: send time, seconds after the start
    took: list[float] = field(default_factory=list)  #: seconds until the answer (or the failure)
    route: list[str] = field(default_factory=list)  #: "responses" | "heartbeat" | "config"
    ok: list[bool] = field(default_factory=list)
    #: seconds a send started later than due, when the kiosk was idle until then: the load process's own
    #: delay (a kiosk still waiting for its previous answer sends late by design and is not counted)
    lag: list[float] = field(default_factory=list)
    lag_at: list[float] = field(default_factory=list)  #: when each ``lag`` was due, seconds after the start
    http: Counter = field(default_factory=Counter)  #: failed attempts by HTTP status
    transport: Counter = field(default_factory=Counter)  #: failed attempts by exception name
    examples: dict[str, str] = field(default_factory=dict)  #: the first message of each exception name
    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0
    given_up: int = 0  #: batches without an answer at the end (their events are in ``unanswered``)
    crashed: list[str] = field(default_factory=list)  #: kiosks that died of an exception (a bug here)
    unanswered: list[str] = field(default_factory=list)  #: ids of events sent and never answered

    @property
    def answered(self) -> int:
        """Attempts the server answered (with any HTTP status)."""
        return len(self.took) - sum(self.transport.values())

    @property
    def errors(self) -> int:
        """Failed attempts (HTTP status not 2xx/304, transport errors) plus events answered ``rejected``."""
        return sum(self.http.values()) + sum(self.transport.values()) + self.rejected

    def merge(self, other: Samples) -> None:
        for name in ("sent", "took", "route", "ok", "lag", "lag_at", "unanswered", "crashed"):
            getattr(self, name).extend(getattr(other, name))
        self.http.update(other.http)
        self.transport.update(other.transport)
        for kind, text in other.examples.items():
            self.examples.setdefault(kind, text)
        for name in ("accepted", "duplicate", "rejected", "given_up"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    etag: str | None


@dataclass(frozen=True)
class Job:
    """One load process's work."""

    base_url: str
    kiosks: list[Kiosk]
    traffic: Traffic
    steps: tuple[tuple[float, float], ...]
    report_steps: bool
    seed: int
    grace_s: float


class _Process:
    """The kiosks of one load process and what they record."""

    def __init__(self, job: Job, conn: Connection):
        self.job, self.conn = job, conn
        self.rec = Samples()
        self.inflight: dict[int, float] = {}  #: attempt number -> send time (monotonic)
        self.attempts = 0
        self.busy: set[int] = set()
        self.tasks: dict[int, asyncio.Task] = {}
        self.sched: Schedule | None = None
        self.end = math.inf
        self.rejected_reported = 0
        self.clients: dict[int, aiohttp.ClientSession] = {}

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        timeout = aiohttp.ClientTimeout(total=None, connect=CONNECT_TIMEOUT_S, sock_read=READ_TIMEOUT_S)
        self.clients = {k.index: aiohttp.ClientSession(
            self.job.base_url, connector=aiohttp.TCPConnector(local_addr=(k.address, 0)), timeout=timeout,
            headers={"User-Agent": USER_AGENT}) for k in self.job.kiosks}
        self.conn.send(("ready",))
        start = await loop.run_in_executor(None, self.conn.recv)
        self.sched = Schedule(start, self.job.steps)
        self.end = self.sched.end
        threading.Thread(target=self._listen, args=(loop,), daemon=True).start()
        reporter = asyncio.create_task(self._report_steps()) if self.job.report_steps else None
        for k in self.job.kiosks:
            self.tasks[k.index] = asyncio.create_task(self._kiosk(k))
        for index, result in zip(self.tasks, await asyncio.gather(*self.tasks.values(), return_exceptions=True),
                                 strict=True):
            if isinstance(result, Exception):
                self.rec.crashed.append(f"kiosk {index}: {type(result).__name__}: {result}"[:300])
        if reporter:
            reporter.cancel()
        self.conn.send(("done", time.monotonic()))
        await asyncio.gather(*(c.close() for c in self.clients.values()))
        self.conn.send(("samples", self.rec))

    def _listen(self, loop) -> None:
        """Wait for the parent's ``stop`` (step mode: the knee is passed) in a thread."""
        with contextlib.suppress(EOFError, OSError):
            self.conn.recv()  # "stop", or EOF when the measuring process went away
        with contextlib.suppress(RuntimeError):  # the loop is closed: this process is done anyway
            loop.call_soon_threadsafe(self._stop)

    def _stop(self) -> None:
        self.end = min(self.end, time.monotonic())
        for index, task in self.tasks.items():
            if index not in self.busy:
                task.cancel()  # asleep until its next send: it has nothing in flight

    async def _report_steps(self) -> None:
        """After each step (+ STEP_REPORT_DELAY_S): the answered latencies of the requests sent in it, the
        number still unanswered (each older than the delay), failed attempts, and how late idle kiosks'
        sends due in it started."""
        sched = self.sched
        for k, end in enumerate(sched.ends):
            await asyncio.sleep(max(0.0, sched.start + end + STEP_REPORT_DELAY_S - time.monotonic()))
            lo, hi = (sched.ends[k - 1] if k else 0.0), end
            rec = self.rec
            lats = [rec.took[i] for i, s in enumerate(rec.sent) if lo <= s < hi]
            bad = sum(1 for i, s in enumerate(rec.sent) if lo <= s < hi and not rec.ok[i])
            waiting = sum(1 for s in self.inflight.values() if lo <= s - sched.start < hi)
            rejected, self.rejected_reported = rec.rejected - self.rejected_reported, rec.rejected
            late = [x for x, at in zip(rec.lag, rec.lag_at, strict=True) if lo <= at < hi]
            self.conn.send(("step", k, lats, waiting, bad + rejected, late))

    async def _kiosk(self, k: Kiosk) -> None:
        tr, sched, client = self.job.traffic, self.sched, self.clients[k.index]
        rng = random.Random(self.job.seed * 1_000_003 + k.index)

        def gap() -> float:
            return rng.expovariate(1 / tr.every_s) if tr.poisson else tr.every_s * rng.uniform(0.5, 1.5)

        boot, uptime0 = f"fleet-boot-{k.index}", rng.randrange(10**6, 10**9)
        auth = {"Authorization": f"Bearer {k.token}"}
        etag = k.etag
        next_press = gap() if tr.poisson else rng.uniform(0, tr.every_s)  # kiosks do not start in step
        next_beat = rng.uniform(0, tr.heartbeat_s) if tr.heartbeat_s else math.inf
        while True:
            due = sched.real(min(next_press, next_beat))
            if due >= self.end:
                return
            idle = due - time.monotonic()
            await asyncio.sleep(max(0.0, idle))
            now = time.monotonic()
            if now >= self.end:
                return
            if idle > 0:
                self.rec.lag.append(now - due)
                self.rec.lag_at.append(due - sched.start)
            uptime = uptime0 + int((now - sched.start) * 1000)
            self.busy.add(k.index)
            try:
                if next_press <= next_beat:
                    presses = 1
                    next_press += gap()
                    if not tr.closed_loop:  # presses made meanwhile go in the same batch
                        v_now = sched.virtual(now)
                        while next_press <= v_now:
                            presses += 1
                            next_press += gap()
                    await self._send_batch(client, auth, press_events(presses * tr.events, rng, boot, uptime))
                    if tr.closed_loop:
                        next_press = sched.virtual(time.monotonic()) + gap()
                else:
                    next_beat += tr.heartbeat_s
                    beat = build_heartbeat(clock=ClockReading(utcnow(), True, boot, uptime), pending=0,
                                           oldest_pending_s=None, quarantined=0, last_error=None, disk_mb=20480.0,
                                           temp_c=48.5, config_etag=etag)
                    r = await self._attempt(client, "heartbeat", "POST", "/heartbeat", beat.model_dump_json(),
                                            {**auth, "Content-Type": "application/json"})
                    if r is not None and r.status == 200 and tr.config_pull:
                        r = await self._attempt(client, "config", "GET", "/config", None,
                                                {**auth, **({"If-None-Match": etag} if etag else {})})
                        if r is not None and r.status == 200:
                            etag = r.etag
            finally:
                self.busy.discard(k.index)

    async def _attempt(self, client, route: str, method: str, path: str, body, headers) -> Answer | None:
        """One request; recorded. None when no answer came (a connection error or a timeout)."""
        n = self.attempts = self.attempts + 1
        t0 = self.inflight[n] = time.monotonic()
        rec = self.rec
        try:
            async with client.request(method, API + path, data=body, headers=headers) as resp:
                r = Answer(resp.status, await resp.read(), resp.headers.get("ETag"))
        except (TimeoutError, aiohttp.ClientError) as exc:
            r = None
            kind = type(exc).__name__
            rec.transport[kind] += 1
            rec.examples.setdefault(kind, str(exc)[:200])
        finally:
            del self.inflight[n]
        took = time.monotonic() - t0
        ok = r is not None and (200 <= r.status < 300 or r.status == 304)
        if r is not None and not ok:
            rec.http[r.status] += 1
        rec.sent.append(t0 - self.sched.start)
        rec.took.append(took)
        rec.route.append(route)
        rec.ok.append(ok)
        return r

    async def _send_batch(self, client, auth: dict, events: list) -> None:
        """POST the batch until answered (the agent's backoff between tries) or ``grace_s`` after the end."""
        body = gzip_body(batch_json(events))
        headers = {**auth, "Content-Type": "application/json", "Content-Encoding": "gzip"}
        backoff = Backoff()
        ids = [e.id for e in events]
        try:
            while True:
                r = await self._attempt(client, "responses", "POST", "/responses", body, headers)
                if r is None:
                    outcome = Outcome.network_error("no answer")
                else:
                    try:
                        results = json.loads(r.body).get("results") if r.status == 200 else None
                    except (ValueError, AttributeError):
                        results = None  # judged "retry", as the agent does
                    outcome = Outcome.http(r.status, results, None)
                verdict = judge(outcome)
                if verdict is Verdict.delivered:
                    for res in outcome.results:
                        status = res.get("status")
                        if status == "accepted":
                            self.rec.accepted += 1
                        elif status == "duplicate":  # stored by a try whose answer was lost
                            self.rec.duplicate += 1
                        else:
                            self.rec.rejected += 1
                    return
                wait_s = backoff.failure(None)
                if verdict is not Verdict.retry or time.monotonic() + wait_s > self.end + self.job.grace_s:
                    self.rec.given_up += 1
                    self.rec.unanswered.extend(ids)
                    return
                await asyncio.sleep(wait_s)
        except asyncio.CancelledError:
            self.rec.unanswered.extend(ids)  # stopped mid-request (step mode past the knee)
            raise


def child_main(job: Job, conn: Connection) -> None:
    """A load process's body (spawned by ``fleetrun.LoadRun``)."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(_Process(job, conn).run())
    else:
        uvloop.run(_Process(job, conn).run())
