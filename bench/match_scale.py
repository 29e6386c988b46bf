"""Golden matching at scale: ``--records`` source records end to end — load, match, cluster, survivorship, persist.

    .venv/bin/python bench/match_scale.py --records 1000000

Generates the five sources' records for as many people as it takes to reach ``--records`` (≈14 per person),
loads them into a fresh SQLite store (mapping, quarantine, canonical records), then runs the full party matching
(features, Splink predict, constrained clustering, stable ids, survivorship, one write transaction, key index)
and the golden vehicles, timing each step. Then bare Splink — predict with the same model and blocking on the
same feature rows, plus Splink's own connected components — so the hub's overhead shows as a ratio.
Goal (issue #4): 1 M source records in ≤ 3 min and ≤ 4 GiB on this 2-core machine.
"""

from __future__ import annotations

import argparse
import logging
import resource
import time

logging.getLogger("splink").setLevel(logging.WARNING)
RECORDS_PER_PERSON = 14.3  # measured on the generator (100 000 people → 1.43 M records)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Steps:
    """Wall time per named step, from the matcher's ``on_step`` callbacks."""

    def __init__(self) -> None:
        self.times: dict[str, float] = {}
        self._current: tuple[str, float] | None = None

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        if self._current:
            self.times[self._current[0]] = self.times.get(self._current[0], 0.0) + now - self._current[1]
        self._current = (name, now)

    def close(self) -> dict[str, float]:
        self("")
        return self.times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--skip-bare", action="store_true", help="leave out the bare Splink comparison")
    args = parser.parse_args()

    from scratch_store import scratch_store
    from sqlalchemy.orm import Session

    from matching.config import MatchingConfig
    from matching.features import features_from_store
    from matching.run import run_party_matching
    from matching.vehicles import build_golden_vehicles
    from sample_data import generate

    people = max(1, round(args.records / RECORDS_PER_PERSON))
    with scratch_store() as store:
        sessions = store.sessions
        started = time.perf_counter()
        count = 0

        def counted():  # type: ignore[no-untyped-def]
            nonlocal count
            for g in generate(people, args.seed):
                count += 1
                yield g

        store.load(counted())
        load_s = time.perf_counter() - started
        print(
            f"load: {count:,} source records ({people:,} people) in {load_s:.0f} s — {count / load_s:,.0f} rec/s"
        )

        steps = Steps()
        matched = time.perf_counter()
        report = run_party_matching(sessions, MatchingConfig(), on_step=steps)
        vehicles = build_golden_vehicles(sessions, on_step=steps)
        match_s = time.perf_counter() - matched
        rss_hub = _rss_mb()
        print(f"match: {report.records:,} parties → {report.clusters:,} golden; {vehicles['vehicles']:,} golden vehicles "
              f"in {match_s:.0f} s · peak RSS {rss_hub:,.0f} MB")  # fmt: skip
        for name, seconds in steps.close().items():
            print(f"  {name:<28} {seconds:7.1f} s")
        print(f"end to end: {load_s + match_s:.0f} s")

        if not args.skip_bare:
            with Session(store.engine) as session:
                rows = features_from_store(session, shared_min_names=3).rows
            bare = _bare_splink(rows)
            print(f"bare Splink predict + connected components on the same {len(rows):,} rows: {bare:.1f} s · "
                  f"hub matching / bare = {report.seconds / bare:.1f}× (party matching {report.seconds:.0f} s)")  # fmt: skip
        print(f"peak RSS (process) {_rss_mb():,.0f} MB")


def _bare_splink(rows: list[dict[str, object]]) -> float:
    from matching.config import DEFAULT_MODEL_PATH
    from matching.splink_model import load_model, new_linker

    started = time.perf_counter()
    linker = new_linker(rows, load_model(DEFAULT_MODEL_PATH))  # type: ignore[arg-type]
    pairs = linker.inference.predict(threshold_match_probability=0.5)
    linker.clustering.cluster_pairwise_predictions_at_threshold(pairs, 0.9).as_pandas_dataframe()
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
