"""Prometheus metrics of one app (its own registry, so tests can build many).

Request counts and latency are labelled by method, route template and status (a bounded set: the
template, never the raw path); their children are looked up once per label set and kept, so a request
costs a dict lookup instead of ``labels()``'s validation and lock. Ingest has a histogram of the time a
batch takes (``ingest()`` in its worker thread: validation, the transaction, the rollups) and one of the
events per batch.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"))
#: Request latency buckets, in seconds (Prometheus' defaults plus 1 ms and 2.5 ms: most requests here
#: take a few milliseconds).
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0)
#: Ingest time per batch, in seconds.
INGEST_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
#: Events per batch (the protocol allows at most 500).
EVENT_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("hymy_http_requests", "HTTP requests by route and status",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("hymy_http_request_seconds", "HTTP request time by route template, in seconds",
                                 ["route"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.events = Counter("hymy_ingest_events", "Events received, by result", ["status"], registry=self.registry)
        self.rejected = Counter("hymy_ingest_rejected_events", "Events rejected, by device", ["device"],
                                registry=self.registry)
        self.last_seen = Gauge("hymy_device_last_seen_timestamp_seconds", "Unix time a device was last heard from",
                               ["device"], registry=self.registry)
        self.heartbeats = Counter("hymy_heartbeats", "Heartbeats received", registry=self.registry)
        self.corrected = Counter("hymy_corrected_presses", "Press times corrected from heartbeats",
                                 registry=self.registry)
        self.ingest_seconds = Histogram("hymy_ingest_batch_seconds", "Time to store one batch (ingest), in seconds",
                                        buckets=INGEST_BUCKETS, registry=self.registry)
        self.ingest_events = Histogram("hymy_ingest_batch_events", "Events per batch received",
                                       buckets=EVENT_BUCKETS, registry=self.registry)
        self.accepted = self.events.labels("accepted")
        self.duplicate = self.events.labels("duplicate")
        self.rejected_events = self.events.labels("rejected")
        self._request: dict[tuple, tuple] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one request of ``route`` (its template) answered ``status`` after ``seconds``."""
        if method not in METHODS:  # any token is a method in HTTP: keep the label set bounded
            method = "other"
        key = (method, route, status)
        children = self._request.get(key)
        if children is None:
            children = self._request[key] = (self.requests.labels(method, route, str(status)),
                                             self.latency.labels(route))
        children[0].inc()
        children[1].observe(seconds)

    def batch(self, seconds: float, events: int, accepted: int, duplicate: int, rejected: int) -> None:
        """Record one ingested batch: its time, its size and its results."""
        self.ingest_seconds.observe(seconds)
        self.ingest_events.observe(events)
        if accepted:
            self.accepted.inc(accepted)
        if duplicate:
            self.duplicate.inc(duplicate)
        if rejected:
            self.rejected_events.inc(rejected)
