"""Incremental matching: new or changed parties matched against the golden records already built, in well
under a second, without a full re-run.

``IncrementalMatcher`` holds what is costly to build (the compiled scorer, its score memo, the term totals) and
runs the batches (``matching.neighbourhood``: one record alone is a batch of one), each in its own transaction,
under one match run row. Each neighbourhood is re-clustered with the same rules as a full run (``settle``):
steward decisions first, resident-ID links, model pairs; golden ids kept where the cluster still exists, merges
and splits recorded, survivorship re-applied, and the change feed written in the same transaction. A full run
(``autohub match run --full``) repairs any drift, e.g. a number that became "shared" after records already
merged on it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy.orm import Session, sessionmaker

from matching.clustering import (
    Clustering,
    Edge,
    cluster,
    deterministic_edges,
    full_names,
    identities,
)
from matching.config import MODEL_VERSION, MatchingConfig
from matching.golden_ids import Assignment, assign_golden_ids, minting
from matching.neighbourhood import Outcome, match_batch
from matching.run import golden_write
from matching.score_memo import ScoreMemo, once_each
from matching.splink_model import (
    TF_COLUMNS,
    PairScorer,
    load_model,
)
from store import golden as store_golden
from store import match_keys, match_queue
from store.golden import RunDecisions, WriteCounts
from store.match_queue import Queued
from store.matching_input import iter_parties

log = structlog.get_logger(__name__)


class IndexNotBuilt(RuntimeError):
    """The store has no matching key index yet: a full run builds it."""


@dataclass
class IncrementalReport:
    run_id: int
    records: int = 0
    candidates: int = 0
    pairs_scored: int = 0
    joined: int = 0  # records that joined an existing golden record
    created: int = 0  # new golden records
    merged: int = 0  # golden records absorbed into another because a record linked them
    split: int = 0  # golden records a changed record left
    review_open: int = 0
    newly_shared: int = 0  # mobiles/e-mails that crossed the shared-identifier line in this run
    rematched: int = 0  # records re-matched because a number they carried turned out to be shared
    pairs_remembered: int = 0  # pair scores the memo gave (matching/score_memo.py), not the scorer
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)

    def counts(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if isinstance(v, int | float) and k != "run_id"}


class IncrementalMatcher:
    """Keeps one compiled scorer (≈2 s to build) for many records: build once per worker, call ``match`` often."""

    def __init__(self, sessions: sessionmaker[Session], config: MatchingConfig) -> None:
        self.sessions = sessions
        self.config = config
        self.scorer = PairScorer(load_model(config.model))
        self.memo = ScoreMemo(config.pair_score_memo)  # pairs scored before, by what was compared
        self._totals: dict[str, int] = {}
        self._totals_at = float("-inf")  # time.monotonic() of the last count
        # The queue rows ``pending`` read, by the party whose match settles them: its own, and those of the
        # relationships and visits naming it. ``evidence_rows``: every vehicle-side row it read, for the caller
        # to settle once the cars are rebuilt (one naming a party that is not in the store has no match).
        self._taken: dict[int, list[Queued]] = {}
        self.evidence_rows: list[Queued] = []

    def pending(self) -> list[int]:
        """The parties the matching queue holds, and those its queued relationships and visits name.

        Why the queue and not "written since the last run started": a loader's batch stamped before a run read
        the store may commit after it, and a time watermark then skips it for good (store/match_queue.py)."""
        with self.sessions() as session:
            if store_golden.last_succeeded_run(session, "party") is None or not match_keys.index_built(
                session
            ):
                raise IndexNotBuilt("no full matching run has built the key index yet; run `autohub match run --full`")  # fmt: skip
            queued = match_queue.snapshot(session)
            self._taken = match_queue.settlement(session, queued).by_party
        self.evidence_rows = [q for q in queued if q.entity_type != "party"]
        return sorted(self._taken)

    def match(
        self,
        record_ids: Sequence[int],
        *,
        actor: str = "incremental matching",
        on_record: Callable[[int], None] | None = None,
        mode: str = "incremental",
        within: Callable[[Session, Sequence[int]], None] | None = None,
        together: bool = False,
        batch: int | None = None,
    ) -> IncrementalReport:
        """Match each record in its own transaction (a failure leaves the others applied); one run row for all.

        A record ``pending`` read from the queue leaves it in its own transaction; ``within(session, record_ids)``
        runs there too, after the golden writes (the follower settles the rows it took): with the one record, or
        once with all of a micro-batch's. ``mode`` names the run (``follow`` for the follower's). ``together``:
        all of them as one micro-batch in one transaction (``matching.neighbourhood``) — a failure then applies none
        of them, and the caller may go one by one; ``batch``: together in micro-batches of this many, each its own
        transaction (a scheduled run's queue may hold a night's upload: one transaction for all of it would hold
        its locks for minutes)."""
        started = time.perf_counter()
        with self.sessions.begin() as session:
            run_id = store_golden.start_match_run(session, "party", mode, MODEL_VERSION)
        report = IncrementalReport(run_id)
        remembered = self.memo.stats.hits
        if time.monotonic() - self._totals_at >= self.config.term_totals_max_age_s:
            # Counting is a scan of the key index per column (seconds on tens of millions of parties): a
            # long-lived matcher (the follower) counts again only this often — a few thousand new records barely
            # move a denominator of millions, and the weekly full run counts afresh.
            with self.sessions() as session:
                self._totals = {c: match_keys.indexed_with(session, c) for c in TF_COLUMNS}
            self._totals_at = time.monotonic()
        try:
            step = (batch or len(record_ids) or 1) if together else 1
            for start in range(0, len(record_ids), step):
                self._match_batch(
                    list(record_ids[start : start + step]), run_id, actor, report, on_record, within
                )
        except Exception as exc:
            with self.sessions.begin() as session:
                store_golden.finish_match_run(session, run_id, report.counts(), error=str(exc)[:2000])
            raise
        report.seconds = round(time.perf_counter() - started, 3)
        report.pairs_remembered = self.memo.stats.hits - remembered
        with self.sessions.begin() as session:
            store_golden.finish_match_run(session, run_id, report.counts())
        log.info("incremental party matching finished", **report.counts())
        return report

    def _match_batch(
        self, record_ids: list[int], run_id: int, actor: str, report: IncrementalReport,
        on_record: Callable[[int], None] | None, within: Callable[[Session, Sequence[int]], None] | None,
    ) -> None:  # fmt: skip
        began = time.perf_counter()
        with self.sessions.begin() as session:
            outcome = match_batch(self, session, record_ids, run_id, actor)
            taken = [q for r in record_ids if r in self._taken for q in self._taken.pop(r)]
            if taken:  # the batch's queue rows in one statement, as its golden writes are one commit
                match_queue.done(session, taken)
            if within:
                within(session, record_ids)
        report.latencies_ms.append((time.perf_counter() - began) * 1000)
        if outcome is not None:
            _add(report, outcome)
        for record_id in record_ids if on_record else ():
            on_record(record_id)  # type: ignore[misc]

    def settle(
        self, session: Session, neighbourhood: set[int], rows: list[dict[str, Any]],
        previous: tuple[dict[int, str], dict[str, int]], scored: list[dict[str, Any]],
        model_pairs: list[dict[str, Any]], run_id: int, actor: str,
    ) -> tuple[Clustering, Assignment, WriteCounts, list[tuple[int, int, float, float]]]:  # fmt: skip
        """Re-cluster a neighbourhood with a full run's rules and write its golden records: steward decisions,
        deterministic links and the model pairs at the threshold; ids kept where a cluster still exists.
        ``rows``: the neighbourhood's feature rows; ``previous``: its membership and ages as the store has them."""
        members, ages = previous
        must, cannot = store_golden.constraints(session, "party", among=neighbourhood)
        edges = [Edge(a, b, 1.0, "manual") for a, b in must] + deterministic_edges(rows) + [
            Edge(int(p["unique_id_l"]), int(p["unique_id_r"]), float(p["match_probability"]), "probabilistic",
                 float(p["match_weight"])) for p in model_pairs if p["match_probability"] >= self.config.match_threshold
        ]  # fmt: skip
        clustering = cluster(sorted(neighbourhood), edges, cannot, identities(rows), full_names(rows))
        parties = {p.record_id: p for p in iter_parties(session, ids=sorted(neighbourhood))}
        key_of = lambda r: (parties[r].source, parties[r].entity_key)  # noqa: E731
        assignment = assign_golden_ids(clustering.members, members, age=ages, new_ids=minting(
            "party", key_of, lambda ids: store_golden.ids_in_use(session, ids)))  # fmt: skip
        writes = [golden_write(assignment.golden_of[c], [parties[r] for r in sorted(rs)], clustering.method_of)
                  for c, rs in clustering.members.items()]  # fmt: skip
        grey, scope = self.grey_pairs(scored, model_pairs, clustering.cluster_of)
        decisions = RunDecisions("party", writes, assignment.retired, assignment.merges, assignment.splits,
                                 grey, actor, review_scope=scope)  # fmt: skip
        return clustering, assignment, store_golden.apply_decisions(session, decisions, run_id), grey

    def score_pairs(
        self, session: Session, pairs: list[tuple[dict[str, Any], dict[str, Any]]]
    ) -> list[dict[str, Any]]:
        """Exactly these pairs, in one scoring call (a micro-batch's), but for those scored before with the same rows
        and term frequencies (``matching.score_memo``)."""
        if not pairs:
            return []
        prepared = once_each(self.with_frequencies(session, [r for pair in pairs for r in pair]))
        return self.memo.score([(prepared(a), prepared(b)) for a, b in pairs], self.scorer.score_pairs)

    def with_frequencies(
        self, session: Session, rows: list[dict[str, Any]]
    ) -> Callable[[dict[str, Any]], dict[str, Any]]:
        """A row → the row with its term frequencies (``tf_name_py``…), counted in the store for ``rows``' values."""
        frequencies = {
            c: match_keys.term_frequencies(session, c, [r[c] for r in rows], self._totals[c])
            for c in TF_COLUMNS
        }

        def with_tf(r: dict[str, Any]) -> dict[str, Any]:
            out = dict(r)
            for column in TF_COLUMNS:
                out[f"tf_{column}"] = frequencies[column].get(r[column]) if r[column] else None
            return out

        return with_tf

    def grey_pairs(
        self,
        scored: list[dict[str, Any]],
        model_pairs: list[dict[str, Any]],
        cluster_of: dict[int, int],
    ) -> tuple[list[tuple[int, int, float, float]], frozenset[tuple[int, int]]]:
        """Grey-band pairs left in different clusters, and the pairs this match rescanned (the review scope)."""
        grey: dict[tuple[int, int], tuple[int, int, float, float]] = {}
        scope: set[tuple[int, int]] = set()
        for p in [*scored, *model_pairs]:
            left, right = sorted((int(p["unique_id_l"]), int(p["unique_id_r"])))
            scope.add((left, right))
            probability = float(p["match_probability"])
            if not self.config.review_threshold <= probability < self.config.match_threshold:
                continue
            if left in cluster_of and right in cluster_of and cluster_of[left] == cluster_of[right]:
                continue
            grey[(left, right)] = (left, right, probability, float(p["match_weight"]))
        return list(grey.values()), frozenset(scope)


def _add(report: IncrementalReport, outcome: Outcome) -> None:
    report.records += outcome.records
    report.candidates += outcome.candidates
    report.pairs_scored += outcome.pairs
    report.joined += outcome.joined
    report.created += outcome.created
    report.merged += outcome.merged
    report.split += outcome.split
    report.review_open += outcome.review
    report.newly_shared += outcome.newly_shared
    report.rematched += outcome.rematched
