"""The checks every pull connector must pass (the Singer SDK's ``get_tap_test_class`` idea).

``check_conformance(make_connector, loader)`` runs a connector twice against a source that already holds
records (some of them bad) and checks the contract the runner and the store rely on.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from sqlalchemy.orm import Session

from connectors.base import Connector
from connectors.runner import run_sync
from pipeline import Loader
from store import reports, repository


def check_conformance(make_connector: Callable[[], Connector], loader: Loader) -> None:
    connector = make_connector()
    assert connector.source in loader.registry, "the connector's source needs a mapping"
    assert connector.streams, "a connector names its streams"

    first = run_sync(make_connector(), loader)
    assert first.records_in > 0, "the conformance source must hold records"
    assert first.quarantined > 0, "the conformance source must hold at least one bad record"
    assert first.balanced

    with Session(loader.sessions.kw["bind"]) as session:
        for stream in connector.streams:
            state = repository.get_watermark(session, connector.source, stream)
            assert state, f"no watermark saved for {stream}"
            assert json.loads(json.dumps(state)) == state, "state must survive JSON"
        (rec,) = [r for r in reports.reconcile(session) if r.source == connector.source]
        assert rec.balanced, rec

    second = run_sync(make_connector(), loader)  # idempotent: nothing new may be stored or quarantined
    assert (second.mapped, second.quarantined) == (0, 0), second
    assert second.unchanged == second.records_in
