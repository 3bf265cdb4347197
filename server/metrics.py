"""Prometheus metrics of one app (its own registry, so tests can build many apps)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("hymy_http_requests", "HTTP requests by route and status",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("hymy_http_request_seconds", "HTTP request time by route", ["route"],
                                 registry=self.registry)
        self.events = Counter("hymy_ingest_events", "Events received, by result", ["status"], registry=self.registry)
        self.rejected = Counter("hymy_ingest_rejected_events", "Events rejected, by device", ["device"],
                                registry=self.registry)
        self.last_seen = Gauge("hymy_device_last_seen_timestamp_seconds", "Unix time a device was last heard from",
                               ["device"], registry=self.registry)
        self.heartbeats = Counter("hymy_heartbeats", "Heartbeats received", registry=self.registry)
        self.corrected = Counter("hymy_corrected_presses", "Press times corrected from heartbeats",
                                 registry=self.registry)
