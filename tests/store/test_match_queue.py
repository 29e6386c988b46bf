"""The matching queue, on SQLite and PostgreSQL: written with the records, one row per record, versions guarded."""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session

from canonical_model.entities import SourceRecord
from store import match_queue
from store.engine import create_store_engine
from store.repository import CanonicalEntity, insert_source_records, save_canonical
from store.tables import CanonicalRecordRow, MatchQueueRow
from tests.conftest import _empty_postgres


def _save(session: Session, *entities: CanonicalEntity, raw: str = "C1") -> dict[str, int]:
    """Save ``entities`` as mapped from one new raw record; entity key → canonical record id."""
    record = SourceRecord(source="dms", stream="lead", source_id=raw, payload={"id": raw, "n": len(entities)})
    (raw_id,) = insert_source_records(session, [record], None)
    assert raw_id is not None
    save_canonical(session, "dms", [(raw_id, e) for e in entities], mapping_version="1", pii_key=b"k")
    rows = session.execute(select(CanonicalRecordRow.entity_key, CanonicalRecordRow.id)).all()
    return {key: record_id for key, record_id in rows}


def _party(key: str) -> CanonicalEntity:
    return CanonicalEntity("party", key, {"kind": "person", "name": {"raw": "张伟"}})


def _queue(session: Session) -> list[tuple[int, str, int]]:
    q = MatchQueueRow
    return [
        tuple(r) for r in session.execute(select(q.record_id, q.entity_type, q.version).order_by(q.record_id))
    ]


def test_saved_records_are_queued_in_their_transaction_and_a_rollback_leaves_no_row(
    store_session: Session,
) -> None:
    ids = _save(store_session, _party("D1"), CanonicalEntity("consent", "D1:sms", {"party_source_id": "D1"}),
                CanonicalEntity("vehicle_relationship", "D1:VIN", {"party_source_id": "D1", "vin": "LSGPC52U4HF012345"}))  # fmt: skip
    # parties and car evidence are queued, a consent (which changes no match) is not
    assert _queue(store_session) == sorted(
        [(ids["D1"], "party", 1), (ids["D1:VIN"], "vehicle_relationship", 1)]
    )
    store_session.rollback()
    assert store_session.scalar(select(func.count()).select_from(MatchQueueRow)) == 0
    assert store_session.scalar(select(func.count()).select_from(CanonicalRecordRow)) == 0


def test_a_record_written_twice_before_it_is_matched_is_one_row_with_a_new_version(
    store_session: Session,
) -> None:
    first = _save(store_session, _party("D1"), raw="C1")["D1"]
    store_session.commit()
    (taken,) = match_queue.take(store_session, 10, max_attempts=3)
    store_session.execute(update(MatchQueueRow).values(attempts=2))  # it had failed twice
    _save(store_session, _party("D1"), raw="C2")  # the dealer sends the lead again
    store_session.commit()
    assert _queue(store_session) == [(first, "party", 2)]
    row = store_session.get(MatchQueueRow, first)
    assert row is not None
    assert (row.attempts, row.queued_at) == (0, taken.queued_at)  # a fresh chance; its place in line kept
    # A follower that matched the first version must not delete the second one
    assert match_queue.done(store_session, [taken]) == 0
    assert len(_queue(store_session)) == 1
    (again,) = match_queue.take(store_session, 10, max_attempts=3)
    assert match_queue.done(store_session, [again]) == 1
    assert _queue(store_session) == []


def test_take_is_oldest_first_bounded_and_skips_what_failed_too_often(store_session: Session) -> None:
    ids = [_save(store_session, _party(f"D{n}"), raw=f"C{n}")[f"D{n}"] for n in range(5)]
    now = datetime.now(UTC)
    for age, record_id in enumerate(ids):  # D0 is the newest, D4 the oldest
        store_session.execute(update(MatchQueueRow).where(MatchQueueRow.record_id == record_id)
                              .values(queued_at=now - timedelta(seconds=10 * age)))  # fmt: skip
    store_session.commit()
    assert [q.record_id for q in match_queue.take(store_session, 3, max_attempts=3)] == ids[::-1][:3]
    oldest = match_queue.take(store_session, 1, max_attempts=3)
    for _ in range(3):
        match_queue.failed(store_session, oldest, "KeyError")
    store_session.commit()
    assert ids[4] not in [q.record_id for q in match_queue.take(store_session, 10, max_attempts=3)]
    assert ids[4] in [q.record_id for q in match_queue.take(store_session, 10, max_attempts=4)]
    lag = match_queue.lag(store_session)
    assert (lag.records, lag.failing) == (5, 1)
    assert 39 < lag.oldest_seconds() < 300
    assert set(lag.by_entity) == {"party"}
    assert lag.by_entity["party"][0] == 5


def test_an_empty_queue_has_no_lag(store_session: Session) -> None:
    lag = match_queue.lag(store_session)
    assert (lag.records, lag.oldest_queued_at, lag.oldest_seconds()) == (0, None, 0.0)


def test_evidence_names_the_party_and_the_car(store_session: Session) -> None:
    vin = "LSGPC52U4HF012345"
    ids = _save(store_session, _party("D1"), CanonicalEntity("vehicle", vin, {"vin": vin}),
                CanonicalEntity("vehicle_relationship", "D1:VIN", {"party_source_id": "D1", "vin": vin}))  # fmt: skip
    evidence = match_queue.evidence_of(store_session, [ids[vin], ids["D1:VIN"]])
    assert evidence.vins == {vin}
    assert evidence.parties == {ids["D1"]: [ids["D1:VIN"]]}


def test_followers_claim_disjoint_batches_and_a_lease_that_ran_out_is_taken_over(
    store_session: Session,
) -> None:
    ids = [_save(store_session, _party(f"D{n}"), raw=f"C{n}")[f"D{n}"] for n in range(5)]
    store_session.commit()
    take = match_queue.take
    a = {q.record_id for q in take(store_session, 3, max_attempts=3, claimant="a", lease_s=60)}
    b = {q.record_id for q in take(store_session, 3, max_attempts=3, claimant="b", lease_s=60)}
    assert (len(a), len(b), a & b) == (3, 2, set())
    assert take(store_session, 3, max_attempts=3, claimant="c", lease_s=60) == []  # everything is claimed
    # "a", restarted under its name after a kill, takes its batch back at once
    assert {q.record_id for q in take(store_session, 10, max_attempts=3, claimant="a", lease_s=60)} == a
    # "b" died: once its lease has run out another follower takes its rows
    store_session.execute(update(MatchQueueRow).where(MatchQueueRow.claimed_by == "b")
                          .values(claimed_until=datetime.now(UTC) - timedelta(seconds=1)))  # fmt: skip
    assert {q.record_id for q in take(store_session, 10, max_attempts=3, claimant="c", lease_s=60)} == b
    # a record written again is free for anyone, whoever claimed its older version
    _save(store_session, _party("D0"), raw="C9")
    again = take(store_session, 10, max_attempts=3, claimant="d", lease_s=60)
    assert [q.record_id for q in again] == [ids[0]]


@pytest.mark.postgres
def test_a_claim_never_exceeds_its_limit_while_loaders_write_the_rows_it_chooses_from(
    postgres_store_url: str,
) -> None:
    """The claim's batch is chosen once: loaders re-queuing the oldest rows (locking them) while a follower
    claims, with the planner statistics of an empty queue, must not grow a claim of 50 into hundreds."""
    _empty_postgres(postgres_store_url)
    engine = create_store_engine(postgres_store_url)
    with Session(engine) as session:
        ids = sorted(_save(session, *[_party(f"D{n}") for n in range(3000)]).values())
        session.commit()
        # what autovacuum records after a follower emptied a full queue: pages, and no live row on them
        session.execute(delete(MatchQueueRow))
        session.commit()
        session.execute(text("ANALYZE match_queue"))
        match_queue.enqueue(session, dict.fromkeys(ids, "party"))
        session.commit()
    stop = threading.Event()

    def loader() -> None:
        rng = random.Random(7)
        with Session(engine) as session:
            while not stop.is_set():
                match_queue.enqueue(session, {i: "party" for i in rng.sample(ids[:400], 40)})
                session.commit()

    thread = threading.Thread(target=loader)
    thread.start()
    try:
        sizes = []
        with Session(engine) as session:
            for n in range(12):
                claimed = match_queue.take(session, 50, max_attempts=3, claimant=f"f{n}", lease_s=60)
                session.commit()
                sizes.append(len(claimed))
                assert len({q.record_id for q in claimed}) == len(claimed)
    finally:
        stop.set()
        thread.join()
        engine.dispose()
    assert max(sizes) <= 50, sizes
    assert sum(sizes) >= 12 * 40, sizes  # and it is not starved by the loader's locks


def test_settling_a_batch_probes_the_queue_by_id_and_never_scans_it(postgres_store_url: str) -> None:
    """``done`` deletes the rows it took by (id, version) pairs: as ``IN (SELECT unnest…)`` alone PostgreSQL
    planned a hash join over the whole queue — a quarter of a core at 200 events/s, growing with the backlog."""
    from sqlalchemy import event

    _empty_postgres(postgres_store_url)
    engine = create_store_engine(postgres_store_url)
    statements: list[tuple[str, object]] = []
    try:
        with Session(engine) as session:
            _save(session, *[_party(f"D{n}") for n in range(3000)])
            session.commit()
            session.execute(text("ANALYZE match_queue"))
            taken = match_queue.take(session, 20, max_attempts=3, claimant="f", lease_s=60)
            event.listen(engine, "before_cursor_execute", lambda *a: statements.append((a[2], a[3])))
            assert match_queue.done(session, taken) == 20
            (delete_sql, params) = next(
                (s, p) for s, p in statements if s.startswith("DELETE FROM match_queue")
            )
            driver = session.connection().connection.driver_connection
            assert driver is not None
            plan = "\n".join(row[0] for row in driver.execute("EXPLAIN " + delete_sql, params))  # type: ignore[arg-type]
            session.rollback()
    finally:
        engine.dispose()
    assert "Seq Scan on match_queue" not in plan, plan
    assert "Index" in plan
