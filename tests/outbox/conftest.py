"""The outbox tests' scratch exchange on the real RabbitMQ and a session factory on the store under test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from store.engine import create_store_engine, session_factory
from tests.outbox.broker import Broker, scratch_exchange


@pytest.fixture
def broker() -> Iterator[Broker]:
    with scratch_exchange() as exchange:
        yield exchange


@pytest.fixture
def sessions(store_url: str) -> Iterator[sessionmaker[Session]]:
    engine = create_store_engine(store_url)
    yield session_factory(engine)
    engine.dispose()
