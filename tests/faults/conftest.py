"""The fault suite's fixtures: a Loader with small batches on SQLite and on PostgreSQL (``store_url``), and the
broker and portal fixtures of the connectors' own tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fakes.erp_soap import ErpSoapServer
from mappings import MappingRegistry
from pipeline import Loader
from store.engine import create_store_engine, session_factory
from tests.connectors.test_dms_amqp import config  # noqa: F401 - the broker fixture, shared with the DMS tests
from tests.connectors.test_erp_soap import _customer
from tests.connectors.test_portal_webhook import hub  # noqa: F401 - the portal store fixture


@pytest.fixture
def loader(store_url: str) -> Iterator[Loader]:
    engine = create_store_engine(store_url)
    yield Loader(session_factory(engine), MappingRegistry.load(), pii_key=b"k", batch_size=50)
    engine.dispose()


@pytest.fixture
def erp() -> Iterator[ErpSoapServer]:
    """A real SOAP server (fakes.erp_soap) holding seven customers, for the hostile-SOAP and deadline tests."""
    server = ErpSoapServer(records={"customers": [_customer(n) for n in range(7)]})
    server.start()
    yield server
    server.stop()
