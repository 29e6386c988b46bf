"""Ingest throughput: generated five-source records → mappings → store, in records per second.

    .venv/bin/python bench/ingest_throughput.py --people 5000 [--database-url postgresql://postgres@127.0.0.1/bench]

Prints generation speed alone, then the full load (raw + mapping + canonical + quarantine), the p50/p99
time per batch commit and the peak RSS. Figures go to bench/RESULTS.md with the command that made them.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from mappings import MappingRegistry
from pipeline import Loader, to_source_record
from sample_data import generate
from store.engine import create_store_engine, session_factory
from store.migrate import upgrade


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file in a temp folder")
    args = parser.parse_args()

    started = time.perf_counter()
    generated = sum(1 for _ in generate(args.people, args.seed))
    generation_s = time.perf_counter() - started
    print(f"generate: {generated:,} records for {args.people:,} people in {generation_s:.1f} s "
          f"= {generated / generation_s:,.0f} records/s")  # fmt: skip

    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'bench.db'}"
        upgrade(url)
        engine = create_store_engine(url)
        registry = MappingRegistry.load()
        loader = Loader(session_factory(engine), registry, pii_key=b"bench-key", batch_size=args.batch_size)
        batch_times: list[float] = []
        last = [time.perf_counter()]

        def tick(_: int) -> None:
            now = time.perf_counter()
            batch_times.append(now - last[0])
            last[0] = now

        records = (
            to_source_record(registry[g.source], g.stream, g.payload)
            for g in generate(args.people, args.seed)
        )
        started = time.perf_counter()
        reports = loader.load(records, tick)
        load_s = time.perf_counter() - started
        engine.dispose()

    loaded = sum(r.records_in for r in reports.values())
    quarantined = sum(r.quarantined for r in reports.values())
    cuts = statistics.quantiles(batch_times, n=100) if len(batch_times) > 1 else batch_times * 99
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"load ({engine.dialect.name}): {loaded:,} records ({quarantined:,} quarantined) in {load_s:.1f} s "
          f"= {loaded / load_s:,.0f} records/s (generation included)")  # fmt: skip
    print(f"batch of {args.batch_size}: p50 {cuts[49] * 1000:.0f} ms, p99 {cuts[98] * 1000:.0f} ms")
    print(f"peak RSS: {peak_mb:,.0f} MB")
    print(f"python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
