"""Publish the change feed to RabbitMQ: exchange ``autohub.golden``, routing key ``<entity>.<change>``.

The changes are rows of ``change_log`` written in the same transaction as the golden records, so a rolled-back
transaction leaves nothing to publish and a committed one cannot lose its event. The relay reads unpublished
rows in ``seq`` order, publishes them with publisher confirms, and marks them published only after the broker
confirmed — so delivery is at least once (a crash between confirm and commit re-publishes), and each message
carries ``message_id = event_id`` for consumers to drop what they already have. Order is kept: a failure
stops the batch, and nothing after the failed change is published before it.

Order also holds with several relays (``autohub serve --workers 4`` with ``AUTOHUB_OUTBOX__IN_API``, or the
API and ``autohub outbox relay`` side by side): on PostgreSQL a batch first takes a transaction-scoped advisory
lock, and a relay that does not get it leaves the batch to the one that did. SQLite is the one-process
embedded store; two relays on one SQLite file publish some changes twice (still in order per relay).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy.orm import Session, sessionmaker

from core.errors import ConfigError, HubError
from outbox.config import OutboxConfig
from outbox.publisher import ChangePublisher
from store import change_feed
from store.engine import STORE_UNAVAILABLE
from store.tables import ChangeLogRow

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class RelayReport:
    published: int
    failed: int  # changes whose publish failed in this call (tried again next time)
    remaining: int  # unpublished changes left in the outbox
    error: str | None = None  # what failed and what to do, from an ``outbox.errors`` type
    busy: bool = False  # another relay was publishing (PostgreSQL): nothing tried here, nothing wrong


@dataclass(frozen=True)
class OutboxStatus:
    unpublished: int
    oldest_unpublished: datetime | None
    max_attempts: int


def status(session: Session) -> OutboxStatus:
    return OutboxStatus(*change_feed.unpublished_backlog(session))


def backoff_s(failures: int, config: OutboxConfig) -> float:
    """The wait after ``failures`` failed rounds in a row: exponential, capped, jittered like tenacity's
    ``wait_random_exponential`` but never below half the step — relays in several API workers must not all
    reconnect in the same instant after a broker restart, nor spin when the draw is near zero."""
    step = min(config.poll_interval_s * 2.0**failures, config.max_backoff_s)
    return step * random.uniform(0.5, 1.0)  # noqa: S311 — jitter, not a secret


class OutboxRelay:
    """Owns one broker connection, kept open across calls; use it from one thread (pika is not thread-safe)."""

    def __init__(self, sessions: sessionmaker[Session], config: OutboxConfig) -> None:
        self.sessions, self.config = sessions, config
        self.publisher = ChangePublisher(config)

    def close(self) -> None:
        self.publisher.close()

    def publish_pending(self, limit: int | None = None) -> RelayReport:
        """Publish unpublished changes in order, up to ``limit``; never raises for a broker failure."""
        self.publisher.keepalive()
        published, error, busy = 0, None, False
        while limit is None or published < limit:
            size = self.config.batch_size if limit is None else min(self.config.batch_size, limit - published)
            with self.sessions() as session:
                if not change_feed.take_relay_turn(session):
                    busy = True
                    break
                rows = change_feed.unpublished(session, size)
                if not rows:
                    break
                done, error = self._publish_in_order(rows)
                change_feed.mark_published(session, [row.seq for row in rows[:done]])
                if error:
                    change_feed.count_failed_attempt(session, rows[done].seq)
                session.commit()  # releases the turn: the next batch (ours or another relay's) starts after
            published += done
            if error:
                break
        with self.sessions() as session:
            remaining = status(session).unpublished
        report = RelayReport(
            published, int(error is not None), remaining, str(error) if error else None, busy
        )
        _log(report, error)
        return report

    def _publish_in_order(self, rows: Sequence[ChangeLogRow]) -> tuple[int, HubError | None]:
        """How many of ``rows`` the broker confirmed before the first failure, and that failure."""
        for done, row in enumerate(rows):
            try:
                self.publisher.publish(row)
            except HubError as exc:
                return done, exc
        return len(rows), None

    def run_forever(self, stop: threading.Event | None = None, *, idle_exit_s: float | None = None,
                    wake: threading.Event | None = None) -> int:  # fmt: skip
        """Relay until ``stop`` is set (or nothing arrived for ``idle_exit_s``); back off while the broker fails.

        ``wake`` lets a writer in the same process say "committed just now" so the change goes out at once
        instead of at the next poll. While backing off it is ignored: a busy API must not turn every commit
        into another connection attempt on a broker that is down.
        """
        stop = stop or threading.Event()
        wake = wake or threading.Event()
        total = failures = 0
        idle_since = time.monotonic()
        log.info("outbox relay started", exchange=self.config.exchange, broker=self.publisher.where)
        try:
            while not stop.is_set():
                wake.clear()  # a commit during the round below wakes the next one at once
                try:
                    report = self.publish_pending()
                except STORE_UNAVAILABLE as exc:
                    # The store restarting or failing over (its connections are pinged only when idle:
                    # store/engine.py): nothing was marked published that the broker did not confirm, so the
                    # round is simply done again once the store answers — back off as for the broker.
                    failures += 1
                    log.warning("outbox relay: store unreachable; retrying", error_kind=type(exc).__name__,
                                failures=failures)  # fmt: skip
                    stop.wait(backoff_s(failures, self.config))
                    continue
                total += report.published
                failures = failures + 1 if report.error else 0
                if report.published:
                    idle_since = time.monotonic()
                if idle_exit_s is not None and time.monotonic() - idle_since > idle_exit_s:
                    break
                if failures:
                    stop.wait(backoff_s(failures, self.config))
                else:
                    wake.wait(self.config.poll_interval_s)
        finally:
            self.close()
            log.info("outbox relay stopped", published=total)
        return total


def _log(report: RelayReport, error: HubError | None) -> None:
    """Counts only: the payloads (ids and versions) and the broker URL (a password) stay out of the log."""
    if error is None:
        if report.published:
            log.info("outbox published", published=report.published, remaining=report.remaining)
        return
    emit = log.error if isinstance(error, ConfigError) else log.warning  # waiting will not fix a ConfigError
    emit("outbox publish failed", published=report.published, remaining=report.remaining,
         error_kind=type(error).__name__, error=str(error))  # fmt: skip


class RelayThread:
    """The relay inside another process (the API): started and stopped with it, woken after each commit."""

    def __init__(self, relay: OutboxRelay) -> None:
        self.relay, self.stop, self.wake = relay, threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._run, name="autohub-outbox", daemon=True)

    def _run(self) -> None:
        self.relay.run_forever(self.stop, wake=self.wake)

    def start(self) -> None:
        self.thread.start()

    def close(self) -> None:
        self.stop.set()
        self.wake.set()
        self.thread.join(timeout=10)
