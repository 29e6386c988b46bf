"""Loaders side by side over partitions of one extract (pipeline/partition.py): together they store what one
loader stores — every record once, the same canonical records, each run balanced — and they never deadlock on
entities several records describe (one car in many sales orders, one customer in many policies)."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import Engine, select

from canonical_model.entities.source import SourceRecord
from core.errors import ConfigError
from mappings import MappingRegistry
from pipeline import Loader, LoadReport, to_source_record
from pipeline.partition import Partition, only, partition_of
from sample_data import generate
from store.engine import create_store_engine, session_factory
from store.tables import CanonicalRecordRow, SourceRecordRow
from tests.conftest import _empty_postgres

pytestmark = pytest.mark.postgres


def _records(registry: MappingRegistry) -> list[SourceRecord]:
    return [to_source_record(registry[g.source], g.stream, g.payload) for g in generate(60, seed=11)]


def _store(engine: Engine) -> tuple[Counter[tuple[str, str]], dict[tuple[str, str, str], Any]]:
    """(source, outcome) → raw records, and every canonical record's body by its key."""
    with engine.connect() as conn:
        raw = Counter(
            (r.source, r.outcome)
            for r in conn.execute(select(SourceRecordRow.source, SourceRecordRow.outcome))
        )
        canonical = {(r.source, r.entity_type, r.entity_key): r.body for r in conn.execute(
            select(CanonicalRecordRow.source, CanonicalRecordRow.entity_type, CanonicalRecordRow.entity_key,
                   CanonicalRecordRow.body))}  # fmt: skip
    return raw, canonical


def _load(
    postgres_store_url: str, registry: MappingRegistry, records: list[SourceRecord], loaders: int
) -> Any:
    _empty_postgres(postgres_store_url)
    engine = create_store_engine(postgres_store_url)
    reports: list[dict[str, LoadReport]] = []
    errors: list[BaseException] = []

    def run(partition: Partition) -> None:
        try:  # small batches: many transactions of the two loaders overlap
            reports.append(Loader(session_factory(engine), registry, pii_key=b"k", batch_size=25).load(
                only(records, partition)))  # fmt: skip
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(Partition(n, loaders),)) for n in range(1, loaders + 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    try:
        assert not errors, errors
        assert all(r.balanced for part in reports for r in part.values())
        return _store(engine)
    finally:
        engine.dispose()


def test_two_loaders_over_two_partitions_store_what_one_loader_stores(postgres_store_url: str) -> None:
    registry = MappingRegistry.load()
    records = _records(registry)
    # the extract has entities several records describe, and they fall in both partitions
    shared = Counter(partition_of(r, 2) for r in records)
    assert min(shared.values()) > len(records) // 4
    alone = _load(postgres_store_url, registry, records, loaders=1)
    together = _load(postgres_store_url, registry, records, loaders=2)
    assert together[0] == alone[0]  # every raw record once, with the same outcome
    assert together[1].keys() == alone[1].keys()
    dated_alike = sum(together[1][k] == alone[1][k] for k in alone[1])
    assert dated_alike >= 0.95 * len(alone[1])  # undated versions of a shared entity: the last commit wins


def test_a_partition_is_stable_and_named_as_people_count() -> None:
    record = SourceRecord(source="erp", stream="customers", source_id="C1", payload={})
    assert partition_of(record, 4) == partition_of(record.model_copy(), 4)
    assert sum(Partition(n, 3).holds(record) for n in (1, 2, 3)) == 1
    assert str(Partition.parse("2/4")) == "2/4"
    for wrong in ("0/2", "3/2", "two/2"):
        with pytest.raises(ConfigError, match="partition"):
            Partition.parse(wrong)
