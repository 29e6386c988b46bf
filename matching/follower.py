"""The matching follower: matches what the loaders queue as it is committed, instead of at the next scheduled run.

The store queues every party, vehicle record, relationship and service event it saves, in the same transaction
(``store.match_queue``). The follower takes the oldest of them in batches, matches the parties with the
incremental matcher (one compiled scorer for the worker's life), rebuilds the golden vehicles of the cars
they touch, and deletes each queue row in the transaction that wrote its golden records — so a kill at any
moment loses nothing: what was committed is done, what was not is still queued and taken again on restart
(matching a record twice changes nothing).

Woken on PostgreSQL by ``LISTEN autohub_match_pending`` (the store's NOTIFY is delivered at commit), on SQLite
by polling every ``follow.poll_interval_s``. Several followers may follow one PostgreSQL store: each claims the
batches it takes (``match_queue.take``), locks the neighbourhoods it re-clusters (``store.match_locks``) and
rebuilds cars one at a time; on SQLite, one follower per store.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import structlog
from sqlalchemy.orm import Session, sessionmaker

from matching.admission import cars_unchanged
from matching.config import FollowerConfig, MatchingConfig
from matching.incremental import IncrementalMatcher, IndexNotBuilt
from matching.vehicles import rebuild_golden_vehicles
from store import golden as store_golden
from store import match_keys, match_locks, match_queue
from store.engine import STORE_UNAVAILABLE
from store.match_queue import Queued
from store.matching_input import vins_of_moved_customers, vins_written_since

log = structlog.get_logger(__name__)

ACTOR = "matching follower"
# The store went away (restart, fail-over, SQLite busy past its timeout): wait and retry, count no failure.
TRANSIENT = STORE_UNAVAILABLE
STOP_CHECK_S = 0.5  # an idle follower notices SIGTERM within this
NOT_READY = (
    "no full matching run has built the key index yet: run `autohub match run --full` once; "
    "the follower waits for it and starts by itself"
)


@dataclass
class BatchReport:
    taken: int  # queue rows taken
    parties: int  # party records matched: queued ones and those a queued relationship names
    vehicles: int  # golden vehicles rebuilt
    failed: int  # queue rows whose match failed (left queued, attempt counted)
    seconds: float


@dataclass
class FollowerTotals:
    batches: int = 0
    records: int = 0
    parties: int = 0
    vehicles: int = 0
    failed: int = 0
    largest_batch: int = 0
    seconds: float = 0.0

    def add(self, batch: BatchReport) -> None:
        self.batches += 1
        self.records += batch.taken
        self.parties += batch.parties
        self.vehicles += batch.vehicles
        self.failed += batch.failed
        self.largest_batch = max(self.largest_batch, batch.taken)
        self.seconds += batch.seconds

    def counts(self) -> dict[str, Any]:
        return {**self.__dict__, "seconds": round(self.seconds, 3)}


class Waker(Protocol):
    def open(self) -> None: ...
    def wait(self) -> bool: ...
    def close(self) -> None: ...


class Poller:
    """SQLite has no notifications: look again after ``poll_interval_s`` (a cheap indexed ``LIMIT``)."""

    def __init__(self, stop: threading.Event, interval_s: float) -> None:
        self.stop, self.interval_s = stop, interval_s

    def open(self) -> None:
        return None

    def wait(self) -> bool:
        self.stop.wait(self.interval_s)
        return False

    def close(self) -> None:
        return None


class Listener:
    """``LISTEN`` on a connection of its own, in autocommit: a pooled connection would take the LISTEN to
    whoever borrowed it next, and a transaction would hold back the notifications until it ended."""

    def __init__(self, conninfo: str, stop: threading.Event, timeout_s: float) -> None:
        self.conninfo, self.stop, self.timeout_s = conninfo, stop, timeout_s
        self.connection: Any = None

    def open(self) -> None:
        """Called before the first look at the queue: a record committed after that look wakes the wait."""
        import psycopg

        self.close()
        self.connection = psycopg.connect(self.conninfo, autocommit=True, connect_timeout=5)
        self.connection.execute(f"LISTEN {match_queue.CHANNEL}")

    def wait(self) -> bool:
        """True when a NOTIFY came (or the connection was renewed, when one may have been missed)."""
        import psycopg

        deadline = time.monotonic() + self.timeout_s
        while not self.stop.is_set() and (left := deadline - time.monotonic()) > 0:
            try:
                if self.connection is None:
                    self.open()
                    return True
                heard = list(self.connection.notifies(timeout=min(left, STOP_CHECK_S), stop_after=1))
                if heard:  # drained only after that generator ended: it holds the connection's lock
                    self._drain()
                    return True
            except psycopg.OperationalError as exc:
                log.warning("lost the LISTEN connection; reconnecting", error=type(exc).__name__)
                self.close()
                self.stop.wait(min(left, 1.0))
        return False

    def _drain(self) -> None:
        """Notifications of batches committed while this one is handled: one look at the queue answers all."""
        for _ in self.connection.notifies(timeout=0.0):
            pass

    def close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.close()
            finally:
                self.connection = None


def waker_for(sessions: sessionmaker[Session], config: FollowerConfig, stop: threading.Event) -> Waker:
    engine = sessions.kw["bind"]
    if engine.dialect.name == "postgresql":
        conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        return Listener(conninfo, stop, config.listen_timeout_s)
    return Poller(stop, config.poll_interval_s)


class _Progress:
    """One log line per ``log_every_s`` at most, and only when something was matched since the last one."""

    def __init__(self, every_s: float) -> None:
        self.every_s = every_s
        self.since = FollowerTotals()
        self.last = time.monotonic()

    def note(self, batch: BatchReport) -> None:
        self.since.add(batch)

    def maybe_log(self, sessions: sessionmaker[Session]) -> None:
        elapsed = time.monotonic() - self.last
        if self.since.batches == 0 or elapsed < self.every_s:
            return
        with sessions() as session:
            lag = match_queue.lag(session)
        log.info("matching follower progress", **self.since.counts(), queued=lag.records,
                 lag_s=round(lag.oldest_seconds(), 1), records_per_s=round(self.since.records / elapsed, 1))  # fmt: skip
        self.since, self.last = FollowerTotals(), time.monotonic()


class Follower:
    """One worker following the queue; ``stop`` (set by SIGTERM/SIGINT, or a test) ends it after the batch in
    hand. ``matcher`` is built once (≈2 s for the compiled scorer) and kept for the worker's life."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        config: MatchingConfig,
        stop: threading.Event | None = None,
        matcher: IncrementalMatcher | None = None,
    ) -> None:
        self.sessions = sessions
        self.config = config.follow
        self.stop = stop or threading.Event()
        self.matcher = matcher or IncrementalMatcher(sessions, config)
        self.idle = threading.Event()  # set while it waits on an empty queue (health checks, tests)
        # whose claims on the queue are its own: a follower restarted under its name takes its batch back at once
        self.name = self.config.name or socket.gethostname()
        # Cars the batches since the last vehicle rebuild named, and their queue rows (kept claimed, not taken
        # again): under load a rebuild serves several batches (``follow.vehicles_every_s``).
        self._cars: set[str] = set()
        self._car_rows: dict[int, Queued] = {}
        self._cars_since = time.monotonic()

    def ready(self) -> str | None:
        """None when there is a key index to match against; else what is missing and the fix."""
        with self.sessions() as session:
            if store_golden.last_succeeded_run(session, "party") and match_keys.index_built(session):
                return None
        return NOT_READY

    def run(
        self, *, idle_exit_s: float | None = None, on_waiting: Callable[[str], None] | None = None
    ) -> FollowerTotals:
        """Follow the queue until ``stop`` is set (or, with ``idle_exit_s``, until it stayed empty that long).

        Before the first full run it waits (``IndexNotBuilt``): started beside the loaders, as compose does, it
        would otherwise exit and be restarted in a loop; ``on_waiting`` hears the reason once."""
        totals = FollowerTotals()
        if not self._wait_for_index(idle_exit_s, on_waiting or (lambda _: None)):
            return totals
        waker = waker_for(self.sessions, self.config, self.stop)
        waker.open()
        try:
            self._follow(waker, totals, idle_exit_s)
            if self._cars_waiting:  # stopped under load: the cars of the last batches now
                totals.add(BatchReport(0, 0, self._flush_cars(), 0, 0.0))
        finally:
            waker.close()
        log.info("matching follower stopped", **totals.counts())
        return totals

    def _follow(self, waker: Waker, totals: FollowerTotals, idle_exit_s: float | None) -> None:
        progress = _Progress(self.config.log_every_s)
        idle_since, backoff = time.monotonic(), 1.0
        caught_up = False
        while not self.stop.is_set():
            try:
                if not caught_up:
                    caught_up = self._catch_up_vehicles()
                batch = self.handle_batch()
            except TRANSIENT as exc:
                log.warning(
                    "store unreachable or a lock conflict; retrying",
                    error=type(exc).__name__,
                    retry_in_s=backoff,
                )
                self.stop.wait(backoff)
                backoff = min(backoff * 2, self.config.retry_max_s)
                continue
            backoff = 1.0
            if batch is not None:
                self.idle.clear()
                totals.add(batch)
                progress.note(batch)
                idle_since = time.monotonic()
            elif idle_exit_s is not None and time.monotonic() - idle_since >= idle_exit_s:
                break
            else:
                self.idle.set()
                waker.wait()
            progress.maybe_log(self.sessions)

    def _wait_for_index(self, idle_exit_s: float | None, on_waiting: Callable[[str], None]) -> bool:
        started, told = time.monotonic(), False
        while not self.stop.is_set():
            reason = self.ready()
            if reason is None:
                return True
            if not told:
                log.warning("matching follower waiting", reason=str(IndexNotBuilt(reason)))
                on_waiting(reason)
                told = True
            left = None if idle_exit_s is None else idle_exit_s - (time.monotonic() - started)
            if left is not None and left <= 0:
                return False
            self.stop.wait(self.config.index_wait_s if left is None else min(left, self.config.index_wait_s))
        return False

    def handle_batch(self) -> BatchReport | None:
        """Take the oldest queued records (up to ``batch_max``) and match them; None when nothing waits.

        The batch's parties are matched at once; its cars are rebuilt now when the batch was not full (the
        follower has caught up), else with the next batches' once ``follow.vehicles_every_s`` has passed."""
        started = time.monotonic()
        with self.sessions.begin() as session:  # the claim is committed: other followers skip these rows
            batch = match_queue.take(session, self.config.batch_max, max_attempts=self.config.max_attempts,
                                     claimant=self.name, lease_s=self.config.claim_lease_s,
                                     besides=self._car_rows)  # fmt: skip
        if not batch:
            if not self._cars_waiting:
                return None
            return BatchReport(0, 0, self._flush_cars(), 0, time.monotonic() - started)
        with self.sessions() as session:
            settled = match_queue.settlement(session, batch)
        answers_for, evidence = settled.by_party, settled.evidence  # party → the queue rows its match settles
        named_only = [p for p, rows in answers_for.items() if all(q.record_id != p for q in rows)]
        if named_only:  # a visit to a car the customer already had changes no match: the car is rebuilt
            with self.sessions() as session:
                for party_id in cars_unchanged(session, named_only):
                    del answers_for[party_id]
        failed = self._match_parties(answers_for)
        if not self._cars_waiting:
            self._cars_since = time.monotonic()
        self._cars |= evidence.vins
        self._car_rows.update(
            (q.record_id, q) for q in batch if q.entity_type != "party" and q.record_id not in failed
        )
        vehicles = 0
        full = len(batch) >= self.config.batch_max
        if not full or time.monotonic() - self._cars_since >= self.config.vehicles_every_s:
            vehicles = self._flush_cars()
        return BatchReport(len(batch), len(answers_for), vehicles, len(failed), time.monotonic() - started)

    @property
    def _cars_waiting(self) -> bool:
        return bool(self._cars or self._car_rows)

    def _flush_cars(self) -> int:
        """Rebuild the cars the batches since the last rebuild named, then let their queue rows go."""
        vehicles = self._rebuild_vehicles(self._cars, list(self._car_rows.values()))
        self._cars, self._car_rows = set(), {}
        return vehicles

    def _match_parties(self, answers_for: dict[int, list[Queued]]) -> set[int]:
        """Match each party, deleting its own queue row with its golden writes; return the failed rows' ids.

        A relationship's row waits for its car (``_rebuild_vehicles``). A record that fails is counted against
        its rows and the rest of the batch goes on; after ``max_attempts`` it is parked (``match status``)."""

        def settle(session: Session, party_ids: Sequence[int]) -> None:
            match_queue.done(session, [q for p in party_ids for q in answers_for[p] if q.record_id == p])

        failed: set[int] = set()
        remaining = sorted(answers_for)
        if self.config.micro_batches and len(remaining) > 1:
            try:
                self.matcher.match(remaining, actor=ACTOR, mode="follow", within=settle, together=True)
                return failed
            except TRANSIENT:
                raise
            # one record spoils the batch: go one by one to find it, the rest still match
            except Exception as exc:
                log.warning("a micro-batch failed; matching its records one by one",
                            records=len(remaining), error=type(exc).__name__)  # fmt: skip
        while remaining:
            matched: list[int] = []
            try:
                self.matcher.match(
                    remaining, actor=ACTOR, mode="follow", within=settle, on_record=matched.append
                )
                return failed
            except TRANSIENT:
                raise
            except Exception as exc:
                culprit = remaining[len(matched)]
                rows = answers_for[culprit]
                log.error("a record failed to match; it stays queued", record_id=culprit,
                          error=type(exc).__name__, exc_info=True)  # fmt: skip
                with self.sessions.begin() as session:
                    match_queue.failed(session, rows, type(exc).__name__)
                failed.update(q.record_id for q in rows)
                remaining = remaining[len(matched) + 1 :]
        return failed

    def _rebuild_vehicles(self, vins: set[str], rows: list[Queued], *, catching_up: bool = False) -> int:
        """Rebuild the cars the batches named and those of the customers the change feed says moved since the
        last vehicle run; then delete the vehicle-side rows.

        Every vehicle record and every piece of evidence a loader writes is queued with it, so the cars named are
        all the cars written to: the refresh's ``updated_at`` watermark (cars written since the last run) would
        add only cars whose rows are still queued — built early, before their customer was matched, and again
        when named (a loader's transaction that straddles the refresh would slip under it anyway). It is used
        when catching up, where no queue row names the cars. The rows go right after the build's commit, not
        inside it (``matching.vehicles`` has no hook for that): a kill in between rebuilds them again."""
        with self.sessions() as session:
            mark = (store_golden.last_succeeded_run(session, "vehicle") or {}).get("watermark")
            wanted: set[str] | None = None
            if mark:
                seq = int(mark["feed_seq"])
                wanted = vins | vins_of_moved_customers(session, seq)
                if catching_up:
                    wanted |= vins_written_since(session, datetime.fromisoformat(mark["since"]))
        with match_locks.held(self.sessions, "golden vehicles"):  # one follower at a time rebuilds cars
            counts = rebuild_golden_vehicles(self.sessions, wanted, actor=ACTOR)
        if rows:
            with self.sessions.begin() as session:
                match_queue.done(session, rows)
        return int(counts["vehicles"])

    def _catch_up_vehicles(self) -> bool:
        """A follower killed between a batch's parties and its cars left the cars behind: rebuild them first."""
        with self.sessions() as session:
            behind = store_golden.golden_vehicles_behind(session)
        if behind:
            self._rebuild_vehicles(set(), [], catching_up=True)
        return True
