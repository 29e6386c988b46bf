"""Hostile DMS events beside good ones, through the path the consumer and the file loader share, on SQLite and
PostgreSQL: every good event stored once, every hostile one quarantined alone with its reason."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import pipeline.batch
from connectors.dms_amqp import load_event_batch
from pipeline import Loader
from store.tables import CanonicalRecordRow, QuarantineRow
from tests.faults.hostile import good_lead, hostile_dms_bodies, reason_matches

pytestmark = pytest.mark.faults


def _count(loader: Loader, table: object, *where: object) -> int:
    with Session(loader.sessions.kw["bind"]) as session:
        return int(session.scalar(select(func.count()).select_from(table).where(*where)) or 0)  # type: ignore[arg-type]


def _batch(goods: int) -> tuple[list[tuple[str | None, bytes]], dict[int, str]]:
    """Good leads with every hostile body spread between them; returns the batch and reason by position."""
    hostile = list(hostile_dms_bodies())
    batch: list[tuple[str | None, bytes]] = []
    expected: dict[int, str] = {}
    step = goods // len(hostile)
    for n in range(goods):
        batch.append((None, json.dumps(good_lead(n), ensure_ascii=False).encode()))
        if n % step == step - 1 and hostile:
            case = hostile.pop()
            expected[len(batch)] = case.reason
            batch.append((None, case.body))
    return batch, expected


def test_one_hostile_event_never_takes_its_batch_with_it(loader: Loader) -> None:
    batch, expected = _batch(170)
    with loader.run("dms") as report:
        outcome = load_event_batch(loader, report, batch)
    assert outcome.stored == 170
    poison = {index: reason for index, reason, _ in outcome.poison}
    assert set(poison) == set(expected)
    for index, reason in poison.items():
        assert reason_matches(reason, expected[index]), (index, reason, expected[index])
    assert _count(loader, CanonicalRecordRow, CanonicalRecordRow.entity_type == "party") == 170
    assert _count(loader, QuarantineRow) == len(expected)
    assert report.records_in == report.unchanged + report.mapped + report.quarantined
    assert report.records_in == len(batch)


def test_a_redelivered_batch_stores_nothing_twice_and_refuses_its_poison_again(loader: Loader) -> None:
    """After a crash between the commit and the ack the whole batch comes again: the good events are duplicates,
    each hostile one is refused again with its reason (so it reaches the dead-letter queue) and nothing is
    quarantined a second time."""
    batch, expected = _batch(85)
    with loader.run("dms") as report:
        first = load_event_batch(loader, report, batch)
        quarantined = _count(loader, QuarantineRow)
        again = load_event_batch(loader, report, batch)
    assert (again.stored, again.duplicates) == (0, 85)
    assert sorted((i, r) for i, r, _ in again.poison) == sorted((i, r) for i, r, _ in first.poison)
    assert _count(loader, QuarantineRow) == quarantined == len(expected)
    assert report.records_in == report.unchanged + report.mapped + report.quarantined == 2 * len(batch)


def test_poison_whose_dead_letter_copy_was_confirmed_is_acknowledged_not_copied_again(loader: Loader) -> None:
    """Redelivered before its copy was confirmed, poison is refused again (it must reach the dead-letter queue);
    after, it is a duplicate: one copy, however often the broker redelivers."""
    batch, expected = _batch(30)
    with loader.run("dms") as report:
        first = load_event_batch(loader, report, batch)
        assert load_event_batch(loader, report, batch).poison == first.poison
        loader.mark_dead_lettered("dms", [first.poison_ids[i] for i, _, _ in first.poison])
        copied = load_event_batch(loader, report, batch)
    assert len(first.poison) == len(expected)
    assert (copied.stored, copied.poison, copied.duplicates) == (0, [], len(batch))


def test_what_the_screen_misses_the_store_refusal_isolates(
    loader: Loader, monkeypatch: pytest.MonkeyPatch, store_url: str
) -> None:
    """With the screen switched off, the batch split alone must still keep every good event (PostgreSQL refuses
    a NUL in JSONB; SQLite stores it, so there the event is simply stored)."""
    monkeypatch.setattr(pipeline.batch, "screen_record", lambda record, limits: None)
    nul = good_lead(999)
    nul["customer"]["name"] = "王\u0000伟"
    batch = [(None, json.dumps(good_lead(n), ensure_ascii=False).encode()) for n in range(40)]
    batch.insert(17, (None, json.dumps(nul, ensure_ascii=False).encode()))
    with loader.run("dms") as report:
        outcome = load_event_batch(loader, report, batch)
    if store_url.startswith("postgresql"):
        assert outcome.stored == 40
        assert [(i, r) for i, r, _ in outcome.poison] == [(17, "unsafe_input.store_refused")]
        with Session(loader.sessions.kw["bind"]) as session:
            entry = session.scalars(select(QuarantineRow)).one()
        assert "王" not in entry.message
        assert "\x00" not in (entry.source_id or "")
    else:
        assert outcome.stored == 41
    assert report.records_in == report.unchanged + report.mapped + report.quarantined == 41
