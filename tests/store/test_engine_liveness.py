"""A pooled PostgreSQL connection is pinged before use only after it sat idle (store.engine.ping_when_idle)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from store.engine import create_store_engine
from tests.conftest import PG_ADMIN_URL

pytestmark = pytest.mark.postgres


def _backend(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(pid: int) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone() == (True,)
        for _ in range(
            100
        ):  # gone from the server's list: the next use of the connection meets a closed socket
            if admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone() is None:
                return
            time.sleep(0.02)
        raise AssertionError(f"backend {pid} still listed after its termination")


@pytest.fixture
def engines(postgres_store_url: str) -> Iterator[dict[float, Engine]]:
    made = {
        idle: create_store_engine(postgres_store_url, pool_size=1, ping_after_idle_s=idle)
        for idle in (0.0, 3600.0)
    }
    yield made
    for engine in made.values():
        engine.dispose()


def test_a_connection_that_died_while_idle_is_replaced_before_anyone_uses_it(
    engines: dict[float, Engine],
) -> None:
    engine = engines[0.0]  # every connection counts as idle: each checkout pings
    first = _backend(engine)
    _terminate(first)
    second = _backend(engine)  # the ping failed at checkout, the pool opened a new connection: no error here
    assert second != first


def test_a_connection_used_a_moment_ago_is_not_pinged_and_its_failure_drops_the_pool(
    engines: dict[float, Engine],
) -> None:
    engine = engines[3600.0]
    first = _backend(engine)
    _terminate(first)
    with pytest.raises(DBAPIError) as failed:  # no ping: the statement itself meets the dead connection
        _backend(engine)
    assert failed.value.connection_invalidated
    assert _backend(engine) != first  # the next checkout gets a new connection
