"""DMS events from a JSON-lines file (the demo without a broker): the consumer's path, exactly once, poison counted."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connectors.dms_amqp import load_event_file
from pipeline import Loader
from store.tables import InboxMessageRow, QuarantineRow
from tests.connectors.dms_events import dms_events


def test_an_event_file_loads_exactly_once_and_quarantines_poison(tmp_path: Path, loader: Loader) -> None:
    found = dms_events(60, seed=5)
    # Dead-lettered: the events nothing of which can be kept; a bad car alone leaves the event stored in part.
    events, bad, entities = found.events, found.dead, found.rejected_entities
    lines = [json.dumps(e, ensure_ascii=False) for e in events]
    lines += [lines[0], "{not json", json.dumps({"event_type": "test_drive", "message_id": "x1"}), ""]
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    _, stats = load_event_file(loader, path, batch_size=40)
    assert stats.consumed == len(events) + 3  # the blank line is not an event
    assert stats.duplicates == 1
    assert stats.dead_lettered == bad + 2
    assert stats.stored == len(events) - bad
    assert stats.reasons["not_json"] == stats.reasons["unknown_event_type"] == 1
    with Session(loader.sessions.kw["bind"]) as session:
        assert (
            session.scalar(select(func.count()).select_from(InboxMessageRow)) == len(events) + 2
        )  # the unreadable too
        assert session.scalar(select(func.count()).select_from(QuarantineRow)) == bad + 2 + entities

    # A second load stores and quarantines nothing: every line was taken in once. The poison is refused again
    # with its reason (a consumer dead-letters it again rather than acknowledge it as a good duplicate).
    _, again = load_event_file(loader, path)
    assert (again.stored, again.duplicates, again.dead_lettered) == (0, len(events) + 1 - bad, bad + 2)
    with Session(loader.sessions.kw["bind"]) as session:
        assert session.scalar(select(func.count()).select_from(QuarantineRow)) == bad + 2 + entities
