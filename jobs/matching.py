"""Golden matching as jobs: the full run (parties, then vehicles), the incremental one for what changed, and the
follower that matches what the loaders queue as it is committed."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from sqlalchemy.orm import Session, sessionmaker

from core.settings import Settings
from jobs.store_access import store_sessions
from matching.config import matching_config
from store import golden as store_golden
from store import match_queue
from store.match_queue import QueueLag
from store.statistics import MATCHED_TABLES, refresh_statistics
from store.vin_partials import PartialVinReport, resolve_partial_vins

if TYPE_CHECKING:
    from matching.follower import FollowerTotals
    from matching.incremental import IncrementalReport
    from matching.run import MatchReport

MatchMode = Literal["auto", "full", "incremental"]


@dataclass(frozen=True)
class FullMatch:
    parties: MatchReport
    vehicles: dict[str, int]
    partial_vins: PartialVinReport = field(default_factory=PartialVinReport)


@dataclass(frozen=True)
class IncrementalMatch:
    parties: IncrementalReport
    vehicles: dict[str, int]  # the golden vehicles refreshed: those whose evidence or owners changed
    partial_vins: PartialVinReport = field(default_factory=PartialVinReport)


def _resolve_partials(sessions: sessionmaker[Session]) -> PartialVinReport:
    """Repair orders a dealer keyed with the VIN's last characters: resolved first, so they count as evidence."""
    with sessions() as session:
        return resolve_partial_vins(session)


def match_full(settings: Settings, on_step: Callable[[str], None] | None = None) -> FullMatch:
    """Every party re-matched (steward decisions obeyed, golden ids stable), then the golden vehicles rebuilt."""
    from matching.run import run_party_matching
    from matching.vehicles import build_golden_vehicles

    step = on_step or (lambda _: None)
    with store_sessions(settings) as sessions:
        partial_vins = _resolve_partials(sessions)
        parties = run_party_matching(sessions, matching_config(settings), on_step=step)
        vehicles = build_golden_vehicles(sessions, on_step=step)
        refresh_statistics(sessions, MATCHED_TABLES, why="a full match run rewrote the golden records")
    return FullMatch(parties, vehicles, partial_vins)


def match_incremental(
    settings: Settings,
    on_start: Callable[[int], None] | None = None,
    on_record: Callable[[int], None] | None = None,
) -> IncrementalMatch:
    """The parties the matching queue holds matched against the golden records already built, then the golden
    vehicles whose evidence or owners changed rebuilt (a resale reaches the recall answer at once) — what a
    follower does continuously, for a store that runs none.

    Raises ``matching.incremental.IndexNotBuilt`` when no full run has built the blocking-key index yet.
    """
    from matching.incremental import IncrementalMatcher
    from matching.vehicles import build_golden_vehicles, refresh_golden_vehicles

    with store_sessions(settings) as sessions:
        with sessions() as session:  # before this run's parties: a run killed before its vehicles left a gap
            behind = store_golden.golden_vehicles_behind(session)
        partial_vins = _resolve_partials(sessions)
        config = matching_config(settings)
        matcher = IncrementalMatcher(sessions, config)
        pending = matcher.pending()
        if on_start:
            on_start(len(pending))
        # in the follower's micro-batches (the same clusters as one record at a time, far fewer transactions)
        batching = config.follow.micro_batches
        parties = matcher.match(
            pending, on_record=on_record, together=batching, batch=config.follow.batch_max
        )
        vehicles = build_golden_vehicles(sessions) if behind else refresh_golden_vehicles(sessions)
        with sessions.begin() as session:  # the cars those relationships and visits name are rebuilt now
            match_queue.done(session, matcher.evidence_rows)
        return IncrementalMatch(parties, vehicles, partial_vins)


def match(settings: Settings, mode: MatchMode) -> FullMatch | IncrementalMatch:
    """``auto``: incremental when a full run has built the index, else the first full run (a new store)."""
    from matching.incremental import IndexNotBuilt

    if mode == "full":
        return match_full(settings)
    try:
        return match_incremental(settings)
    except IndexNotBuilt:
        if mode == "incremental":
            raise
        return match_full(settings)


def follow(
    settings: Settings,
    stop: threading.Event,
    *,
    idle_exit_s: float | None = None,
    on_waiting: Callable[[str], None] | None = None,
) -> FollowerTotals:
    """Match what the loaders queue as it is committed (``autohub match follow``), until ``stop`` is set.

    Waits, saying why through ``on_waiting``, while no full run has built the key index yet."""
    from matching.follower import Follower

    with store_sessions(settings) as sessions:
        follower = Follower(sessions, matching_config(settings), stop)
        return follower.run(idle_exit_s=idle_exit_s, on_waiting=on_waiting)


@dataclass(frozen=True)
class MatchStatus:
    lag: QueueLag
    # A run stopped between its customers and its vehicles (killed, or its store lost): recalls miss cars until
    # the next run or the follower builds every golden vehicle, which each does on its own when it sees this.
    vehicles_behind: bool


def match_status(settings: Settings) -> MatchStatus:
    """What waits for matching, per entity type, the age of the oldest, and whether the golden vehicles are
    behind the golden customers (``autohub match status``; ``/metrics`` shows the same)."""
    with store_sessions(settings) as sessions, sessions() as session:
        return MatchStatus(match_queue.lag(session), store_golden.golden_vehicles_behind(session))


def describe_full(result: FullMatch) -> str:
    r, v = result.parties, result.vehicles
    lines = [
        f"run {r.run_id}: {r.records:,} party records → {r.clusters:,} golden records "
        f"({r.created:,} new, {r.updated:,} updated, {r.unchanged:,} unchanged, {r.retired:,} merged away); "
        f"{r.pairs_scored:,} pairs scored, {r.deterministic_links:,} ID links, {r.review_open:,} for review, "
        f"{r.refused_by_steward:,} links refused by steward decisions, "
        f"{r.refused_conflicting_ids:,} by conflicting resident IDs; {r.seconds:.1f} s",
        f"golden vehicles: {v['vehicles']:,} ({v['created']:,} new, {v['updated']:,} updated); "
        f"{v['resold']:,} changed hands",
    ]
    lines.append(_describe_partials(result.partial_vins))
    lines += [f"  not used as evidence: {shared.describe()}" for shared in r.shared[:10]]
    return "\n".join(lines)


def _describe_partials(p: PartialVinReport) -> str:
    return (f"partial VINs on service events: {p.resolved:,} resolved to the one known car ending so, "
            f"{p.ambiguous:,} ambiguous (kept partial), {p.unknown:,} no known car yet; plates given instead of "
            f"a VIN: {p.plates_resolved:,} resolved to the one known car that carried it, {p.plates_ambiguous:,} "
            f"ambiguous, {p.plates_unknown:,} no known car yet")  # fmt: skip


def describe_incremental(result: IncrementalMatch) -> str:
    report, v = result.parties, result.vehicles
    latencies = sorted(report.latencies_ms) or [0.0]
    return (
        f"run {report.run_id}: {report.records:,} new or changed party records · {report.joined:,} joined a golden "
        f"record, {report.created:,} new, {report.merged:,} merged away, {report.split:,} split off, "
        f"{report.review_open:,} for review, {report.newly_shared:,} numbers became shared; "
        f"p99 {latencies[int(0.99 * (len(latencies) - 1))]:.0f} ms per record, {report.seconds:.1f} s\n"
        f"golden vehicles refreshed: {v['vehicles']:,} with new evidence or owners ({v['created']:,} new, "
        f"{v['updated']:,} updated)\n{_describe_partials(result.partial_vins)}"
    )


def describe(result: FullMatch | IncrementalMatch) -> str:
    return describe_full(result) if isinstance(result, FullMatch) else describe_incremental(result)
