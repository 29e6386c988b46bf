"""Ingest throughput: generated five-source records → mappings → store, in records per second.

    .venv/bin/python bench/ingest_throughput.py --people 5000 [--database-url postgresql://postgres@127.0.0.1/bench]
    .venv/bin/python bench/ingest_throughput.py --people 5000 --database-url … --workers 2

Prints generation speed alone, then the full load (raw + mapping + canonical + quarantine), the p50/p99
time per batch commit and the peak RSS. With ``--workers N`` (PostgreSQL), N loader processes each load one
partition of the same generated extract (pipeline/partition.py) at once, and the wall time of all of them is
compared with one loader on the same records, measured first in the same run. Figures go to
bench/RESULTS.md with the command that made them.
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
    parser.add_argument(
        "--workers", type=int, default=1, help="loader processes over partitions (PostgreSQL)"
    )
    args = parser.parse_args()
    if args.workers > 1:
        if not args.database_url.startswith("postgresql"):
            parser.error("--workers needs --database-url postgresql://… (SQLite has one writer at a time)")
        _side_by_side(args)
        return

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


def _partition(url: str, people: int, seed: int, batch_size: int, partition: str) -> tuple[int, int, float]:
    """One loader process: its partition of the generated extract; (records, quarantined, seconds)."""
    from pipeline.partition import Partition, only

    engine = create_store_engine(url)
    registry = MappingRegistry.load()
    loader = Loader(session_factory(engine), registry, pii_key=b"bench-key", batch_size=batch_size)
    records = (to_source_record(registry[g.source], g.stream, g.payload) for g in generate(people, seed))
    started = time.perf_counter()
    reports = loader.load(only(records, Partition.parse(partition)))
    seconds = time.perf_counter() - started
    engine.dispose()
    return sum(r.records_in for r in reports.values()), sum(r.quarantined for r in reports.values()), seconds


def _fresh(url: str) -> None:
    """The bench database as a new store (its schema down to nothing and up again), so both runs start alike."""
    from store.migrate import downgrade

    upgrade(url)
    downgrade(url, "base")
    upgrade(url)


def _side_by_side(args: argparse.Namespace) -> None:
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    figures: dict[int, float] = {}
    for workers in (1, args.workers):
        _fresh(args.database_url)
        started = time.perf_counter()
        with context.Pool(workers) as pool:
            parts = pool.starmap(_partition, [(args.database_url, args.people, args.seed, args.batch_size,
                                               f"{n}/{workers}") for n in range(1, workers + 1)])  # fmt: skip
        wall = time.perf_counter() - started
        loaded = sum(p[0] for p in parts)
        figures[workers] = loaded / wall
        print(f"{workers} loader(s): {loaded:,} records ({sum(p[1] for p in parts):,} quarantined) in {wall:.1f} s "
              f"= {loaded / wall:,.0f} records/s (process start and generation included)")  # fmt: skip
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"{args.workers} loaders / 1 loader: {figures[args.workers] / figures[1]:.2f}×")
    print(f"peak RSS of one loader process: {peak_mb:,.0f} MB")


if __name__ == "__main__":
    main()
