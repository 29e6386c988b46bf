"""The checks every pull connector must pass (the Singer SDK's ``get_tap_test_class`` idea).

``check_conformance(make_connector, loader)`` runs a connector twice against a source that already holds
records (some of them bad) and checks the contract the runner and the store rely on.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from connectors.base import Connector
from connectors.origin import SourceOrigin
from connectors.runner import run_sync
from connectors.types import BuildContext, connector_types
from pipeline import Loader
from store import reports, repository

# Every registered pull type's conformance test: a type without one fails tests/connectors/test_types.py.
CONFORMANCE_TESTS = {
    "soap": ("tests.connectors.test_erp_soap", "test_erp_passes_the_connector_conformance_checks"),
    "sql": ("tests.connectors.test_finance_sql", "test_finance_passes_the_connector_conformance_checks"),
    "rest": (
        "tests.connectors.test_insurance_rest",
        "test_insurance_passes_the_connector_conformance_checks",
    ),
    "http": ("tests.connectors.test_http_rest", "test_the_http_type_passes_the_connector_conformance_checks"),
    "file": ("tests.connectors.test_file_drop", "test_a_drop_folder_passes_the_connector_conformance_checks"),
}


def by_type(type_name: str, settings: dict[str, Any], source: str, data_dir: Path) -> Callable[[], Connector]:
    """Connectors made as a declared source gets them: its registered type validates the settings and builds."""
    kind = connector_types()[type_name]
    config = kind.configure(settings, SourceOrigin(source))
    build = kind.build
    assert build is not None, f"{type_name} is a pull type and builds connectors"
    return lambda: build(config, BuildContext(source, data_dir))


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
