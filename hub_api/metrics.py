"""``GET /metrics`` in the Prometheus text format: request rates and latencies, and the hub's backlog.

Requests are counted by route template (``/v1/customers/{golden_id}``, never the id itself: one time series
per route, and no customer ids in the monitoring system). Store figures — golden records by type and status,
unresolved quarantine, the outbox backlog and its age, the matching queue and its age, whether the golden vehicles
are behind the customers, and each source
instance's last sync — are read at scrape time but cached briefly, so a
scrape every few seconds from several Prometheus replicas costs the store a few index scans a minute.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from store import change_feed, match_queue, reports
from store import golden as store_golden

STORE_CACHE_S = 15.0
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class StoreCollector(Collector):
    """Backlog gauges from the store, cached for ``STORE_CACHE_S``."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self._lock = threading.Lock()
        self._cached: tuple[float, list[GaugeMetricFamily]] = (0.0, [])

    def _read(self) -> list[GaugeMetricFamily]:
        golden = GaugeMetricFamily("autohub_golden_records", "Golden records by type and status",
                                   labels=["entity_type", "status"])  # fmt: skip
        quarantine = GaugeMetricFamily("autohub_quarantine_unresolved", "Unresolved quarantine entries by source",
                                       labels=["source"])  # fmt: skip
        backlog = GaugeMetricFamily(
            "autohub_outbox_unpublished", "Change events not yet confirmed by the broker"
        )
        age = GaugeMetricFamily(
            "autohub_outbox_oldest_unpublished_seconds", "Age of the oldest unpublished change"
        )
        pending = GaugeMetricFamily(
            "autohub_match_pending_records", "Canonical records queued for matching (the follower's backlog)"
        )
        pending_age = GaugeMetricFamily(
            "autohub_match_pending_oldest_seconds", "Age of the oldest record queued for matching"
        )
        behind = GaugeMetricFamily(
            "autohub_golden_vehicles_behind",
            "1 when a match run stopped between its golden customers and its golden vehicles (recalls may miss "
            "cars until the next run or the follower rebuilds them)",
        )
        sources = _SourceFamilies()
        with self.sessions() as session:
            lag = match_queue.lag(session)
            behind.add_metric([], float(store_golden.golden_vehicles_behind(session)))
            sources.add(reports.source_health(session))
            for kind, status, n in reports.golden_counts(session):
                golden.add_metric([kind, status], n)
            for source, n in reports.unresolved_quarantine_by_source(session):
                quarantine.add_metric([source], n)
            count, oldest, _ = change_feed.unpublished_backlog(session)
        backlog.add_metric([], count)
        age.add_metric([], (datetime.now(UTC) - oldest).total_seconds() if oldest else 0.0)
        pending.add_metric([], lag.records)
        pending_age.add_metric([], lag.oldest_seconds())
        return [golden, quarantine, backlog, age, pending, pending_age, behind, *sources.families()]  # fmt: skip

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self._lock:
            stamp, families = self._cached
            if time.monotonic() - stamp > STORE_CACHE_S:
                families = self._read()
                self._cached = (time.monotonic(), families)
        yield from families


class _SourceFamilies:
    """Per declared source instance (label ``source``: ``erp``, ``insurer_b``, ``dms_north`` …), from its sync
    runs: how long since it last synced, what its last run did, and whether a consumer's run is alive."""

    def __init__(self) -> None:
        self.since = GaugeMetricFamily("autohub_source_last_success_age_seconds",
                                       "Seconds since the source's newest successful sync run finished",
                                       labels=["source"])  # fmt: skip
        self.failed = GaugeMetricFamily("autohub_source_last_run_failed",
                                        "1 when the source's newest finished run did not succeed", labels=["source"])  # fmt: skip
        self.records = GaugeMetricFamily("autohub_source_last_run_records",
                                         "Records of the source's newest finished run, by outcome",
                                         labels=["source", "outcome"])  # fmt: skip
        self.running = GaugeMetricFamily("autohub_source_runs_running",
                                         "Runs of the source now running (a DMS consumer's lasts its life)",
                                         labels=["source"])  # fmt: skip
        self.beat = GaugeMetricFamily("autohub_source_heartbeat_age_seconds",
                                      "Seconds since a running run of the source last wrote its counts",
                                      labels=["source"])  # fmt: skip

    def add(self, health: list[reports.SourceHealth]) -> None:
        now = datetime.now(UTC)
        for source in health:
            if source.last_succeeded_at is not None:
                self.since.add_metric([source.source], (now - source.last_succeeded_at).total_seconds())
            if source.last_finished_status is not None:
                self.failed.add_metric([source.source], float(source.last_finished_status != "succeeded"))
            for outcome, n in source.last_finished_counts.items():
                self.records.add_metric([source.source, outcome], n)
            self.running.add_metric([source.source], source.running)
            if source.last_beat_at is not None:
                self.beat.add_metric([source.source], (now - source.last_beat_at).total_seconds())

    def families(self) -> list[GaugeMetricFamily]:
        return [self.since, self.failed, self.records, self.running, self.beat]


class Metrics:
    """One registry per app (tests build several apps in one process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("autohub_http_requests", "HTTP requests by route and status",
                                ["method", "route", "status"], registry=self.registry)  # fmt: skip
        self.latency = Histogram("autohub_http_request_seconds", "HTTP request latency by route",
                                 ["method", "route"], buckets=LATENCY_BUCKETS, registry=self.registry)  # fmt: skip

    def watch_store(self, sessions: sessionmaker[Session]) -> None:
        self.registry.register(StoreCollector(sessions))

    def exposition(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


def _template(scope: Scope) -> str:
    """The matched route with its parameters named (``/v1/customers/{golden_id}``), or ``unmatched``."""
    if scope.get("route") is None:
        return "unmatched"
    path: str = scope["path"]
    params: dict[str, Any] = scope.get("path_params") or {}
    for name, value in params.items():
        path = path.replace(f"/{value}", f"/{{{name}}}", 1)
    return path


class MetricsMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware): it adds microseconds, not a task per request."""

    def __init__(self, app: ASGIApp, metrics: Callable[[], Metrics]) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            template = _template(scope)
            metrics = self.metrics()
            metrics.requests.labels(scope["method"], template, str(status["code"])).inc()
            metrics.latency.labels(scope["method"], template).observe(time.perf_counter() - started)
