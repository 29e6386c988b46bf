"""The customer 360's read on SQLite and PostgreSQL: PostgreSQL's one statement gives what the generic reads give.

``customer_360`` answers from one aggregated statement on PostgreSQL and from ``golden()`` + ``customer()``
elsewhere; on a generated world (merged, erased and restricted customers included) both must yield the same
golden row, members, facts (in the same order: the view's ties depend on it), vehicles and lineage, and so the
same view byte for byte.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import fields
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from canonical_model.disclosure import Masker
from hub_api.views.customer import customer_view
from mappings import MappingRegistry
from matching import steward
from matching.config import MatchingConfig
from matching.run import run_party_matching
from matching.vehicles import build_golden_vehicles
from pipeline import Loader, to_source_record
from sample_data import generate
from store import customer_view as reads
from store.customer_view import CustomerData, GoldenSnapshot
from store.engine import create_store_engine, session_factory
from store.erasure import erase
from store.tables import GoldenRecordRow

KEY = b"customer-view-test-key"


@pytest.fixture
def world(store_url: str) -> Iterator[sessionmaker[Session]]:
    """30 generated people through every source, matched, with their golden vehicles."""
    engine = create_store_engine(store_url)
    sessions = session_factory(engine)
    loader = Loader(sessions, MappingRegistry.load(), pii_key=KEY)
    loader.load(
        to_source_record(loader.registry[g.source], g.stream, g.payload) for g in generate(30, seed=11)
    )
    run_party_matching(sessions, MatchingConfig())
    build_golden_vehicles(sessions)
    yield sessions
    engine.dispose()


def _golden(row: GoldenRecordRow | GoldenSnapshot) -> tuple[Any, ...]:
    return (row.golden_id, row.entity_type, row.status, row.merged_into, row.body, row.version, row.created_at,
            row.updated_at)  # fmt: skip


def _plain(data: CustomerData | None) -> object:
    """Everything ``data`` holds, comparable with ``==`` (ORM rows compare by identity)."""
    if data is None:
        return None
    return (_golden(data.golden), data.members, data.facts,
            {vin: _golden(row) for vin, row in data.vehicles.items()},
            [(r.attribute, r.source, r.entity_key, r.rule, r.decided_at) for r in data.lineage])  # fmt: skip


def _generic(session: Session, golden_id: str) -> CustomerData | None:
    """What the 360 read is held to: the golden row, then ``customer()`` if the 360 shows it."""
    row = reads.golden(session, golden_id)
    if row is None:
        return None
    return reads.customer(session, row, with_lineage=True) if reads.shows_360(row) else CustomerData(row, [])


def test_the_one_statement_360_reads_what_the_generic_reads_give(world: sessionmaker[Session]) -> None:
    with world() as session:
        parties = list(session.scalars(select(GoldenRecordRow.golden_id).where(
            GoldenRecordRow.entity_type == "party").order_by(GoldenRecordRow.golden_id)))  # fmt: skip
        vehicle = session.scalar(
            select(GoldenRecordRow.golden_id).where(GoldenRecordRow.entity_type == "vehicle")
        )
    assert len(parties) >= 20
    assert vehicle is not None
    with world.begin() as session:
        steward.merge(session, parties[0], parties[1], actor="steward:test", reason="same person")
    outcomes: dict[str, str] = {}  # erased | restricted → a customer it happened to (a legal hold restricts)
    for golden_id in parties[2:]:
        with world.begin() as session:
            done = erase(session, golden_id, actor="dpo:test", request_ref=f"REQ-{golden_id}",
                         restrict_only="erased" in outcomes, today=date(2026, 11, 30))  # fmt: skip
        outcomes.setdefault(done.outcome, golden_id)
        if len(outcomes) == 2:
            break
    assert outcomes.keys() == {"erased", "restricted"}

    shown = 0
    for golden_id in [*parties, vehicle, "P-0000000000000000NOPE"]:
        with world() as session:
            expected = _generic(session, golden_id)
        with world() as session:
            found = reads.customer_360(session, golden_id, with_lineage=True)
        assert _plain(found) == _plain(expected), golden_id
        if found is not None and reads.shows_360(found.golden):
            assert expected is not None
            shown += 1
            for clear in (False, True):
                view = customer_view(found, Masker(clear)).model_dump_json()
                assert view == customer_view(expected, Masker(clear)).model_dump_json(), golden_id
    with world() as session:
        statuses = {g: row.status for g in [parties[0], parties[1], *outcomes.values()]
                    if (row := session.get(GoldenRecordRow, g)) is not None}  # fmt: skip
        rich = reads.customer_360(session, parties[0])
    assert statuses == {parties[0]: "active", parties[1]: "merged", outcomes["erased"]: "erased",
                        outcomes["restricted"]: "restricted"}  # fmt: skip
    assert shown == len(parties) - 2  # the merged and the erased one are not shown
    assert rich is not None
    assert rich.members
    assert rich.facts
    assert rich.vehicles
    assert rich.lineage == []  # only when asked for


def test_a_golden_snapshot_has_every_column_of_golden_record() -> None:
    """PostgreSQL's 360 reads golden rows as snapshots; a new column must be added there too."""
    assert [f.name for f in fields(GoldenSnapshot)] == [c.name for c in GoldenRecordRow.__table__.c]
