"""A load batch that spans sources commits as one: all of it, or none of it and counts that say so."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from mappings import MappingRegistry
from pipeline import Loader, to_source_record
from store import repository
from store.engine import create_store_engine, session_factory
from store.tables import SourceRecordRow, SyncRun
from tests.mappings.test_sources import DMS_LEAD, ERP_CUSTOMER


def test_a_failure_in_one_source_keeps_the_whole_batch_out(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_store_engine(store_url)
    try:
        registry = MappingRegistry.load()
        loader = Loader(session_factory(engine), registry, pii_key=b"k", batch_size=10)
        records = [
            to_source_record(registry["erp"], "customers", ERP_CUSTOMER),
            to_source_record(registry["dms"], "lead", DMS_LEAD),
        ]
        save = repository.save_canonical

        def failing_for_dms(session: Any, source: str, *args: Any, **kwargs: Any) -> int:
            if source == "dms":
                raise RuntimeError("disk full")
            return save(session, source, *args, **kwargs)

        monkeypatch.setattr(repository, "save_canonical", failing_for_dms)
        with pytest.raises(RuntimeError, match="disk full"):
            loader.load(records)
        with loader.sessions() as session:
            assert session.scalar(select(func.count()).select_from(SourceRecordRow)) == 0
            runs = session.scalars(select(SyncRun).order_by(SyncRun.source)).all()
            assert [(r.source, r.status, r.records_in, r.records_mapped) for r in runs] == [
                ("dms", "failed", 0, 0),
                ("erp", "failed", 0, 0),
            ]
        monkeypatch.setattr(repository, "save_canonical", save)
        again = loader.load(records)
        assert {s: (r.records_in, r.mapped) for s, r in again.items()} == {"erp": (1, 1), "dms": (1, 1)}
    finally:
        engine.dispose()


def test_a_run_block_is_recorded_failed_with_its_error_or_succeeded(store_url: str) -> None:
    engine = create_store_engine(store_url)
    try:
        registry = MappingRegistry.load()
        loader = Loader(session_factory(engine), registry, pii_key=b"k")
        with loader.run("dms") as report:
            loader.load_messages(report, [("m-1", to_source_record(registry["dms"], "lead", DMS_LEAD))])
        with pytest.raises(OSError, match="broker gone"), loader.run("dms"):
            raise OSError("broker gone")
        with loader.sessions() as session:
            runs = session.scalars(select(SyncRun).order_by(SyncRun.id)).all()
        assert [(r.status, r.records_mapped, r.error_message) for r in runs] == [
            ("succeeded", 1, None),
            ("failed", 0, "OSError: broker gone"),
        ]
    finally:
        engine.dispose()
