"""API keys and scopes over real HTTP, and the cross-reference endpoint following merges."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import Result

from core.settings import Settings
from mappings import MappingRegistry
from matching.config import MatchingConfig
from matching.run import run_party_matching
from pipeline import Loader
from store import api_keys
from store import golden as store_golden
from store.engine import create_store_engine, session_factory
from store.migrate import upgrade
from store.tables import XrefRow
from tests.hub_api.conftest import LiveApi, serve
from tests.matching.conftest import ZHANG_WEI, lead, load


def _key(api: LiveApi, *scopes: str, revoked: bool = False) -> str:
    engine = create_store_engine(api.store_url)
    with session_factory(engine).begin() as session:
        key, token = api_keys.create(session, "crm-sync", list(scopes))
        if revoked:
            api_keys.revoke(session, key.key_id)
    engine.dispose()
    return token


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_no_key_bad_key_and_revoked_key_are_401_problems(live_api: LiveApi) -> None:
    client = live_api.client
    missing = client.get("/v1/xref/erp/C00000042")
    assert missing.status_code == 401
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert missing.json()["reason"] == "unauthenticated"
    good = _key(live_api, "read")
    tampered = good[:-3] + ("aaa" if not good.endswith("aaa") else "bbb")
    for token in (tampered, "ahk_nope_nope", "not-a-token", _key(live_api, "read", revoked=True)):
        answer = client.get("/v1/xref/erp/C00000042", headers=_bearer(token))
        assert answer.status_code == 401, token
        assert answer.json()["reason"] == "invalid_api_key"
    assert client.get("/v1/xref/erp/C00000042", headers={"X-API-Key": good}).status_code == 404  # known key


def test_scopes_include_read_and_admin_includes_all() -> None:
    from datetime import UTC, datetime

    from hub_api.security import allowed

    def key(*scopes: str) -> api_keys.ApiKey:
        return api_keys.ApiKey("k", "n", frozenset(scopes), datetime.now(UTC), None)

    assert allowed(key("read:pii"), "read")
    assert allowed(key("steward"), "read")
    assert not allowed(key("read"), "read:pii")
    assert not allowed(key("steward"), "read:pii")
    assert allowed(key("admin"), "read:pii")
    assert allowed(key("admin"), "steward")
    with pytest.raises(api_keys.UnknownScope):
        api_keys.create(None, "x", ["write"])  # type: ignore[arg-type]


def test_xref_names_the_golden_record_and_follows_a_merge(live_api: LiveApi) -> None:
    engine = create_store_engine(live_api.store_url)
    sessions = session_factory(engine)
    loader = Loader(sessions, MappingRegistry.load(), pii_key=b"k")
    load(loader, *ZHANG_WEI, lead("D99001-000555", "王秀英", "13587654321", 7))
    run_party_matching(sessions, MatchingConfig())
    with sessions() as session:
        golden_of = store_golden.golden_by_key(session, "party")
    person, other = golden_of[("erp", "C00000042")], golden_of[("dms", "D99001-000555")]
    token = _key(live_api, "read")
    answer = live_api.client.get("/v1/xref/erp/C00000042", headers=_bearer(token))
    assert answer.status_code == 200
    (party,) = [link for link in answer.json()["links"] if link["entity_type"] == "party"]
    assert (party["golden_id"], party["method"]) == (person, "deterministic")

    from matching import steward

    with sessions.begin() as session:
        steward.merge(session, person, other, actor="steward:li", reason="same customer")
    moved = live_api.client.get("/v1/xref/dms/D99001-000555", headers=_bearer(token)).json()
    assert [link["golden_id"] for link in moved["links"] if link["entity_type"] == "party"] == [person]
    # a car's xref too: the look-up names each kind of golden record (store.golden.GOLDEN_ENTITY_TYPES)
    from matching.vehicles import build_golden_vehicles

    build_golden_vehicles(sessions)
    with sessions() as session:
        kinds = set(session.scalars(select(XrefRow.entity_type).distinct()))
    assert kinds == set(store_golden.GOLDEN_ENTITY_TYPES)
    car = live_api.client.get("/v1/xref/insurance/LFV2A21K7G3000001", headers=_bearer(token)).json()
    assert [link["entity_type"] for link in car["links"]] == ["vehicle"]
    unknown = live_api.client.get("/v1/xref/erp/C99999999", headers=_bearer(token))
    assert unknown.status_code == 404
    assert unknown.json()["reason"] == "unknown_source_record"
    engine.dispose()


def test_the_cli_creates_lists_and_revokes_keys(hub_cli: Any) -> None:
    assert hub_cli("db", "upgrade").exit_code == 0
    refused: Result = hub_cli("apikey", "create", "crm", "--scope", "write")
    assert refused.exit_code == 1
    created = hub_cli("apikey", "create", "crm-sync", "--scope", "read", "--scope", "read:pii")
    assert created.exit_code == 0, created.output
    token = created.output.strip().splitlines()[-1]
    assert token.startswith("ahk_")
    key_id = token.split("_")[1]
    listed = hub_cli("apikey", "list")
    assert key_id in listed.output
    assert token.split("_")[2] not in listed.output
    assert hub_cli("apikey", "revoke", key_id).exit_code == 0
    assert hub_cli("apikey", "revoke", key_id).exit_code == 1


def test_a_key_name_with_a_control_character_is_refused(hub_cli: Any) -> None:
    """The name is the actor of every audit row the key writes: an escape sequence in it would be in each."""
    assert hub_cli("db", "upgrade").exit_code == 0
    refused: Result = hub_cli("apikey", "create", "crm\x1b[2Jsync", "--scope", "read")
    assert refused.exit_code == 1
    assert "control character (U+001B)" in refused.output
    assert "[2J" not in hub_cli("apikey", "list").output


def test_a_revoked_key_stops_working_within_the_cache_time(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/hub.db"
    upgrade(url)
    settings = Settings(data_dir=tmp_path, database_url=url, api_key_cache_s=0.5)
    engine = create_store_engine(url)
    with session_factory(engine).begin() as session:
        key, token = api_keys.create(session, "crm-sync", ["read"])
    with serve(settings) as client:
        assert client.get("/v1/xref/erp/C1", headers=_bearer(token)).status_code == 404  # accepted, cached
        with session_factory(engine).begin() as session:
            api_keys.revoke(session, key.key_id)
        time.sleep(0.6)
        assert client.get("/v1/xref/erp/C1", headers=_bearer(token)).status_code == 401
    engine.dispose()
