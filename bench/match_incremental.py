"""Incremental matching latency: new source records matched one at a time against an existing golden store.

    .venv/bin/python bench/match_incremental.py --people 10000 --newcomers 200 [--batch 200]

Builds a store of ``--people`` generated people (five sources) and runs a full match, then loads the records of
``--newcomers`` further people (some the same people again, as a returning customer through another dealer:
the generator's repeat visits) and matches every pending party record on its own, timing each one (feature
row, guard, candidate look-up, scoring, re-clustering, survivorship, write, commit). Prints p50/p95/p99/max
per record and, to show the drift incremental matching leaves, what a full run afterwards still changes.
Goal: p99 ≤ 1 s per record on this machine. With ``--batch N`` the pending records are matched in micro-batches of
N, each in one transaction (``matching/neighbourhood.py``, as the follower does): the figures are then per batch,
and the goal is ≥ 200 records/s (issue #16).
"""

from __future__ import annotations

import argparse
import logging
import resource
import statistics
import time

logging.getLogger("splink").setLevel(logging.WARNING)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--newcomers", type=int, default=200)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument(
        "--batch", type=int, default=0, help="micro-batches of this many records (0: one at a time)"
    )
    args = parser.parse_args()

    from scratch_store import scratch_store

    from matching.config import MatchingConfig
    from matching.incremental import IncrementalMatcher
    from matching.run import run_party_matching
    from sample_data import generate

    with scratch_store() as store:
        sessions = store.sessions
        started = time.perf_counter()
        # One generated world; the records of its last ``--newcomers`` people arrive after the full run.
        early, late = [], []
        for g in generate(args.people + args.newcomers, args.seed):
            (late if g.person_id and int(g.person_id[1:]) > args.people else early).append(g)
        store.load(early)
        full = run_party_matching(sessions, MatchingConfig())
        print(f"store: {args.people:,} people, {full.records:,} parties → {full.clusters:,} golden "
              f"(load + full match {time.perf_counter() - started:.0f} s, full match {full.seconds:.0f} s)")  # fmt: skip

        store.load(late)
        built = time.perf_counter()
        matcher = IncrementalMatcher(sessions, MatchingConfig())
        setup = time.perf_counter() - built
        pending = matcher.pending()
        if args.batch:
            from matching.incremental import IncrementalReport

            report = IncrementalReport(0)
            began = time.perf_counter()
            for start in range(0, len(pending), args.batch):
                part = matcher.match(pending[start : start + args.batch], together=True)
                for name, value in part.counts().items():
                    if isinstance(value, int):
                        setattr(report, name, getattr(report, name) + value)
                report.latencies_ms += part.latencies_ms
            report.seconds = time.perf_counter() - began
        else:
            report = matcher.match(pending)
        lat = report.latencies_ms
        how = f"in micro-batches of {args.batch}" if args.batch else "one at a time"
        print(f"incremental: {report.records:,} party records of {args.newcomers:,} new people, {how} "
              f"(matcher set-up {setup * 1000:.0f} ms, once per worker)")  # fmt: skip
        print(f"  per {'batch' if args.batch else 'record'}: p50 {_percentile(lat, 0.5):.0f} ms · p95 {_percentile(lat, 0.95):.0f} ms · "
              f"p99 {_percentile(lat, 0.99):.0f} ms · max {max(lat):.0f} ms · mean {statistics.fmean(lat):.0f} ms · "
              f"{report.records / report.seconds:.1f} records/s")  # fmt: skip
        print(f"  joined an existing golden record: {report.joined:,} · new golden records: {report.created:,} · "
              f"merged: {report.merged:,} · split: {report.split:,} · for review: {report.review_open:,} · "
              f"numbers that became shared: {report.newly_shared:,}")  # fmt: skip
        again = run_party_matching(sessions, MatchingConfig())
        print(f"full run afterwards (drift repaired): created {again.created:,}, updated {again.updated:,}, "
              f"merged away {again.retired:,}, merges {again.merges:,}, splits {again.splits:,} "
              f"of {again.clusters:,} golden records")  # fmt: skip
        print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")


if __name__ == "__main__":
    main()
