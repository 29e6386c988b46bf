"""Is the DMS feed keeping up? Queue depth, dead letters and consumers on RabbitMQ, checked against limits.

The consumer is a long-running service, not a scheduled job; this check is what a scheduler runs to notice
that it stopped, fell behind, or is dead-lettering events (each dead letter is a dealer event the hub did not
take and a steward must look at).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from connectors.dms_amqp import DmsAmqpConfig
from core.errors import ConfigError, FatalError
from core.settings import Settings
from jobs.config import OrchestrationConfig, orchestration_config

if TYPE_CHECKING:
    from store.match_queue import QueueLag


class DmsFeedUnhealthy(FatalError):
    """The DMS feed is past a limit: a backlog, dead letters, no consumer, or a queue that does not exist."""


@dataclass(frozen=True)
class QueueHealth:
    queue: str
    ready: int  # events waiting for the consumer
    consumers: int
    dead_queue: str
    dead: int  # events RabbitMQ or the consumer dead-lettered
    # Seconds since the newest running consumer run wrote its counts; None: none running. Only when the store
    # was asked (``store_checked``): a consumer attached to the queue but stuck or cut off from the store
    # still holds its channel, so the queue alone cannot tell.
    consumer_silent_s: float | None = None
    store_checked: bool = False
    # What waits for the matching follower (store/match_queue.py), when the store was asked: the feed is only
    # as fresh as its golden records.
    match_queued: int = 0
    match_lag_s: float = 0.0

    def problems(self, limits: OrchestrationConfig) -> list[str]:
        found = []
        silent = self.consumer_silent_s
        if (
            self.store_checked
            and limits.dms_require_consumer
            and (silent is None or silent > limits.dms_max_silence_s)
        ):
            found.append("no DMS consumer run is running in the store" if silent is None else
                         f"the DMS consumer's last heartbeat was {silent:,.0f} s ago (limit {limits.dms_max_silence_s:g} s)")  # fmt: skip
        if self.ready > limits.dms_max_ready:
            found.append(f"{self.ready:,} event(s) waiting in {self.queue} (limit {limits.dms_max_ready:,})")
        if self.dead > limits.dms_max_dead:
            found.append(
                f"{self.dead:,} event(s) dead-lettered in {self.dead_queue} (limit {limits.dms_max_dead:,})"
            )
        if limits.dms_require_consumer and self.consumers == 0:
            found.append(f"no consumer is attached to {self.queue}")
        if (
            self.store_checked
            and limits.match_max_lag_s is not None
            and self.match_lag_s > limits.match_max_lag_s
        ):
            found.append(f"{self.match_queued:,} record(s) wait for matching, the oldest for {self.match_lag_s:,.0f} s "
                         f"(limit {limits.match_max_lag_s:g} s): is `autohub match follow` running?")  # fmt: skip
        return found

    def describe(self) -> str:
        beat = ""
        if self.store_checked:
            silent = self.consumer_silent_s
            beat = "; no consumer run" if silent is None else f"; consumer heartbeat {silent:,.0f} s ago"
            beat += f"; {self.match_queued:,} waiting for matching (oldest {self.match_lag_s:,.0f} s)"
        return (f"{self.queue}: {self.ready:,} waiting, {self.consumers} consumer(s); "
                f"{self.dead_queue}: {self.dead:,} dead-lettered{beat}")  # fmt: skip


def queue_health(config: DmsAmqpConfig) -> QueueHealth:
    """Read the depths without touching a message; a queue that does not exist is unhealthy."""
    from connectors.dms_amqp import QueueMissing, queue_depths

    try:
        (ready, consumers), (dead, _) = queue_depths(config, (config.queue, config.dead_letter_queue))
    except QueueMissing as exc:
        raise DmsFeedUnhealthy(exc.message, fix=exc.fix) from exc
    return QueueHealth(config.queue, ready, consumers, config.dead_letter_queue, dead)


def consumer_heartbeat(sessions: sessionmaker[Session], source: str = "dms") -> float | None:
    """Seconds since the newest running consumer run of ``source`` beat, or None when none is running."""
    from store import reports

    with sessions() as session:
        run = reports.newest_running(session, source)
    if run is None:
        return None
    return (datetime.now(UTC) - run.last_beat).total_seconds()


def matching_lag(sessions: sessionmaker[Session]) -> QueueLag:
    from store import match_queue

    with sessions() as session:
        return match_queue.lag(session)


def check_feed(
    config: DmsAmqpConfig,
    limits: OrchestrationConfig,
    sessions: sessionmaker[Session] | None = None,
    source: str = "dms",
    lag: QueueLag | None = None,
) -> QueueHealth:
    """The health, or ``DmsFeedUnhealthy`` naming every limit passed (the scheduler's task fails with it);
    with ``sessions``, the consumer's heartbeat and the matching queue in the store are checked too (``lag``:
    the queue as already read, by a caller checking several networks)."""
    health = queue_health(config)
    if sessions is not None:
        if lag is None:
            lag = matching_lag(sessions)
        health = replace(health, consumer_silent_s=consumer_heartbeat(sessions, source), store_checked=True,
                         match_queued=lag.records, match_lag_s=lag.oldest_seconds())  # fmt: skip
    problems = health.problems(limits)
    if problems:
        raise DmsFeedUnhealthy(f"{source} feed unhealthy: " + "; ".join(problems),
                               fix=f"see `autohub dms` and GET /v1/quarantine?source={source} for the dead letters")  # fmt: skip
    return health


def check_networks(
    settings: Settings, sessions: sessionmaker[Session] | None, only: str | None = None
) -> dict[str, QueueHealth]:
    """Every declared dealer network (type ``amqp``; ``only`` one of them), each with its own queues and its own
    consumer's heartbeat; ``DmsFeedUnhealthy`` naming every network that is past a limit, after all are read."""
    from connectors.sources import declared_sources

    limits = orchestration_config(settings)
    networks = declared_sources(settings, types={"amqp"})
    if only is not None and only not in networks:
        raise ConfigError(f"no dealer network {only!r} is declared", field="source",
                          fix=f"declared (type amqp): {', '.join(sorted(networks)) or 'none'}")  # fmt: skip
    healthy: dict[str, QueueHealth] = {}
    unhealthy: list[str] = []
    lag = None if sessions is None else matching_lag(sessions)  # one matching queue for every network
    for name in sorted(networks) if only is None else [only]:
        config = networks[name].config_as(DmsAmqpConfig)
        try:
            healthy[name] = check_feed(config, limits, sessions, name, lag)
        except DmsFeedUnhealthy as exc:
            unhealthy.append(exc.message)
    if unhealthy:
        raise DmsFeedUnhealthy(
            "; ".join(unhealthy), fix="see `autohub dms` and GET /v1/quarantine for the dead letters"
        )
    return healthy
