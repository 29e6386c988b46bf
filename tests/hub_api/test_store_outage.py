"""The store going away costs a reader nothing it can avoid: a dropped connection is retried, an unreachable
store is a 503 problem the client can act on, never a 500."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from core.settings import Settings
from store import api_keys
from store.engine import create_store_engine, session_factory
from tests.conftest import PG_ADMIN_URL, _empty_postgres
from tests.hub_api.conftest import serve


def _key(url: str) -> dict[str, str]:
    engine = create_store_engine(url)
    with session_factory(engine).begin() as session:
        _, token = api_keys.create(session, "crm-sync", ["read"])
    engine.dispose()
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.postgres
def test_a_read_whose_pooled_connection_the_server_dropped_is_answered(
    postgres_store_url: str, tmp_path: Path
) -> None:
    _empty_postgres(postgres_store_url)
    headers = _key(postgres_store_url)
    # connections never count as idle here: nothing is pinged, the read itself meets the dropped connection
    settings = Settings(data_dir=tmp_path, database_url=postgres_store_url, database_ping_after_idle_s=3600)
    database = postgres_store_url.rsplit("/", 1)[1]
    with serve(settings) as client:
        assert (
            client.get("/v1/xref/dms/C-1", headers=headers).status_code == 404
        )  # the pool holds a connection
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:  # as a server restart would
            dropped = admin.execute(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()", (database,)
            ).fetchone()  # fmt: skip
            assert dropped is not None
            assert dropped[0] >= 1
        answer = client.get("/v1/xref/dms/C-1", headers=headers)
        assert answer.status_code == 404, answer.text  # the store's answer, read again on a new connection
        assert answer.json()["reason"] == "unknown_source_record"


def test_an_unreachable_store_is_a_503_problem(tmp_path: Path) -> None:
    # a port nothing listens on: every connection attempt is refused
    settings = Settings(data_dir=tmp_path, database_url="postgresql://autohub@127.0.0.1:9/autohub")
    with serve(settings) as client:
        answer = client.get("/v1/xref/dms/C-1", headers={"Authorization": "Bearer ahk_k1_secret"})
    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["retry-after"] == "2"
    assert answer.json()["reason"] == "store_unavailable"
