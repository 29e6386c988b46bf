"""Hostile HTTP input to the API, on SQLite and PostgreSQL (which refuses a NUL in any text): a NUL or a
control character in a search, a golden id, a VIN or an xref key, a forged cursor, a webhook body beyond its
limit — each a 4xx problem, never a 500, and the API still answers afterwards."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from core.settings import Settings
from store import api_keys
from store.engine import create_store_engine, session_factory
from store.migrate import upgrade
from tests.hub_api.conftest import serve

pytestmark = pytest.mark.faults


def _cursor(inner: str) -> str:
    return base64.urlsafe_b64encode(inner.encode()).decode().rstrip("=")


@pytest.fixture
def api(store_url: str, tmp_path: Path) -> Iterator[tuple[httpx.Client, dict[str, str]]]:
    upgrade(store_url)
    engine = create_store_engine(store_url)
    with session_factory(engine).begin() as session:
        _, token = api_keys.create(session, "probe", ["read", "read:pii", "steward"])
    engine.dispose()
    settings = Settings(data_dir=tmp_path, database_url=store_url,
                        sections={"portal": {"secret": "portal-test-secret", "max_body_bytes": 4096}})  # fmt: skip
    with serve(settings) as client:
        yield client, {"Authorization": f"Bearer {token}"}


HOSTILE_GETS = [
    "/v1/customers?name=%E7%8E%8B%00%E4%BC%9F",  # 王\0伟
    "/v1/customers?organisation=%00",
    "/v1/customers?pinyin=wang%01wei",
    "/v1/customers/P-%00abc",
    "/v1/customers/%FF%FE",  # no UTF-8
    "/v1/vehicles/LSGPC52U4HF%0012345",
    "/v1/xref/dms/D31001%00-000123",
    "/v1/xref/dms/%ED%B3%BF",  # a lone surrogate's bytes
    "/v1/changes?cursor=" + _cursor("c1:²"),
    "/v1/changes?cursor=" + _cursor("c1:" + "9" * 140),
    "/v1/changes?cursor=" + _cursor("c1:\x00"),
    "/v1/quarantine?cursor=" + _cursor("c1:\x00"),
    "/v1/quarantine?cursor=" + _cursor("c1:" + "9" * 140),
    "/v1/review?cursor=" + _cursor("c1:²"),
    "/v1/quarantine?source=%00",
]


@pytest.mark.parametrize("path", HOSTILE_GETS)
def test_odd_input_is_a_4xx_problem_never_a_500(api: tuple[httpx.Client, dict[str, str]], path: str) -> None:
    client, auth = api
    answer = client.get(path, headers=auth)
    assert 400 <= answer.status_code < 500, (path, answer.status_code, answer.text[:200])
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert client.get("/healthz").status_code == 200


# Client text that reaches an audit row, the merge history or a store query: a 500 from PostgreSQL once.
HOSTILE_POSTS = [
    ("/v1/recalls", "text/csv", {"campaign": "SAMR\x00-1", "criteria": {"wmi": ["LFV"]}}, "body.campaign"),
    ("/v1/recalls", "application/json", {"campaign": "C-1", "criteria": {"models": ["迈\x00腾"]}}, "body.criteria"),
    ("/v1/merges", "application/json", {"keep": "P-\udcff", "absorb": "P-1", "reason": "same"}, "body.keep"),
    ("/v1/merges", "application/json", {"keep": "P-\x00", "absorb": "P-1", "reason": "same"}, "body.keep"),
    ("/v1/merges", "application/json", {"keep": "P-1", "absorb": "P-2", "reason": "same\x00one"}, "body.reason"),
    ("/v1/unmerges", "application/json", {"golden_id": "P-1", "records": ["dms/\x00"], "reason": "two"},
     "body.records"),
    ("/v1/quarantine/replay", "application/json", {"reason": "invalid_vin.\x00"}, "body.reason"),
]  # fmt: skip


@pytest.mark.parametrize(("path", "accept", "body", "field"), HOSTILE_POSTS)
def test_unsafe_text_in_a_body_is_a_422_naming_the_field_never_a_500(
    api: tuple[httpx.Client, dict[str, str]], path: str, accept: str, body: dict[str, object], field: str
) -> None:
    client, auth = api
    content = json.dumps(body).encode()  # as ASCII escapes: the lone surrogate travels as \udcff
    answer = client.post(
        path, content=content, headers={**auth, "Accept": accept, "Content-Type": "application/json"}
    )
    assert (answer.status_code, answer.json().get("field")) == (422, field), (path, answer.text[:200])
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert client.get("/healthz").status_code == 200


def test_a_webhook_body_beyond_the_limit_is_a_413_before_its_signature_is_checked(
    api: tuple[httpx.Client, dict[str, str]],
) -> None:
    client, _ = api
    answer = client.post("/v1/webhooks/portal", content=b"x" * 5000)  # unsigned, over 4 096 bytes
    assert answer.status_code == 413
    assert answer.json()["reason"] == "body_too_large"

    def trickle() -> Iterator[bytes]:  # no Content-Length: cut off while it is read
        for _ in range(100):
            yield b"y" * 1000

    assert client.post("/v1/webhooks/portal", content=trickle()).status_code == 413
    small = client.post("/v1/webhooks/portal", content=b"{}")
    assert small.status_code == 401  # within the limit: on to the signature check
