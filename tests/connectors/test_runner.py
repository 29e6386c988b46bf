"""The runner's ordering promise: state is saved only after its records are committed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from canonical_model.entities import SourceRecord
from connectors.base import Connector, Page
from connectors.runner import run_sync
from core.errors import SourceUnavailable
from mappings import MappingRegistry
from pipeline import Loader
from store import reports, repository
from store.engine import create_store_engine, session_factory
from store.tables import SyncRun
from tests.mappings.test_sources import FINANCE_CUSTOMER


class ScriptedFinance(Connector):
    """A source that serves fixed pages and can fail after a given page (the runner is under test here)."""

    source = "finance"
    streams = ("customers",)

    def __init__(self, pages: int, fail_after: int | None = None):
        self.pages, self.fail_after = pages, fail_after
        self.started_from: list[Any] = []

    def read(self, stream: str, state: dict[str, Any] | None) -> Iterator[Page]:
        self.started_from.append(state)
        first = (state or {}).get("page", -1) + 1
        for n in range(first, self.pages):
            if self.fail_after is not None and n > self.fail_after:
                raise SourceUnavailable("connection reset")
            payload = {**FINANCE_CUSTOMER, "cust_id": f"F{n}"}
            yield Page([SourceRecord(source="finance", stream=stream, source_id=f"F{n}", payload=payload)],
                       {"page": n}, unreadable=[("not_json", "{oops")] if n == 0 else [])  # fmt: skip


def test_state_is_saved_after_each_committed_page_and_a_rerun_resumes(store_url: str) -> None:
    engine = create_store_engine(store_url)
    loader = Loader(session_factory(engine), MappingRegistry.load(), pii_key=b"k")
    try:
        with pytest.raises(SourceUnavailable):
            run_sync(ScriptedFinance(pages=5, fail_after=2), loader)
        with Session(engine) as session:
            assert repository.get_watermark(session, "finance", "customers") == {"page": 2}
        resumed = ScriptedFinance(pages=5)
        report = run_sync(resumed, loader)
        assert resumed.started_from == [{"page": 2}]
        assert (report.records_in, report.mapped) == (2, 2)
        with Session(engine) as session:
            (finance,) = reports.reconcile(session)
            assert (finance.raw, finance.mapped, finance.quarantine_entries_without_raw) == (5, 5, 1)
            assert finance.balanced
            runs = set(session.scalars(select(SyncRun.status)))
            assert runs == {"failed", "succeeded"}
    finally:
        engine.dispose()
