"""Changes made through the API reach RabbitMQ after their commit — and a refused (rolled-back) one never does."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, update

from core.settings import Settings
from store.engine import create_store_engine, session_factory
from store.tables import ChangeLogRow, GoldenRecordRow
from tests.hub_api.conftest import WORLD_PII_KEY, WorldApi, serve
from tests.outbox.broker import Broker, scratch_exchange

pytestmark = pytest.mark.rabbitmq


@pytest.fixture
def relaying_api(world: Path, tmp_path: Path) -> Iterator[tuple[WorldApi, Broker]]:
    shutil.copyfile(world, tmp_path / "hub.db")
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    engine = create_store_engine(url)
    with session_factory(engine).begin() as session:  # the world's own history is not what this test watches
        session.execute(update(ChangeLogRow).values(published_at=ChangeLogRow.occurred_at))
    with scratch_exchange() as broker:
        outbox = broker.config.model_copy(update={"in_api": True})
        settings = Settings(
            data_dir=tmp_path, database_url=url, pii_hash_key=WORLD_PII_KEY, sections={"outbox": outbox}
        )
        with serve(settings) as client:
            yield WorldApi(client, settings, url, session_factory(engine)), broker
    engine.dispose()


def test_a_merge_is_published_after_commit_and_a_refused_one_is_not(
    relaying_api: tuple[WorldApi, Broker],
) -> None:
    api, broker = relaying_api
    with api.sessions() as session:
        keep, absorb = session.scalars(select(GoldenRecordRow.golden_id).where(
            GoldenRecordRow.entity_type == "party", GoldenRecordRow.status == "active")
            .order_by(GoldenRecordRow.golden_id).limit(2)).all()  # fmt: skip
    steward = api.token("steward")
    merged = api.client.post(
        "/v1/merges", headers=steward, json={"keep": keep, "absorb": absorb, "reason": "same"}
    )
    assert merged.status_code == 200
    events = broker.received(wait_s=3.0)
    kinds = {(body["golden_id"], body["change_type"]) for _, body in events}
    assert kinds == {(keep, "updated"), (absorb, "merged")}
    assert all(p.message_id == body["event_id"] for p, body in events)
    feed = api.client.get("/v1/changes", params={"limit": 1000}, headers=api.token("read")).json()["items"]
    assert [c["event_id"] for c in feed[-2:]] == [
        body["event_id"] for _, body in sorted(events, key=lambda e: e[1]["seq"])
    ]
    refused = api.client.post(
        "/v1/merges", headers=steward, json={"keep": keep, "absorb": absorb, "reason": "again"}
    )
    assert refused.status_code == 409  # absorb is merged already: the transaction rolls back
    assert broker.received(wait_s=1.5) == []
