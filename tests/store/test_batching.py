"""``one_of`` / ``tuple_in``: the same rows as a plain IN on both backends, one statement text on PostgreSQL;
and the settings' pool reaching the engines the processes build."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from core.settings import Settings
from store.batching import CHUNK, one_of, tuple_in
from store.tables import XrefRow


def _xrefs(session: Session, count: int) -> None:
    from datetime import UTC, datetime

    from store.tables import GoldenRecordRow

    now = datetime.now(UTC)
    session.add(GoldenRecordRow(golden_id="P-1", entity_type="party", status="active", body={}, version=1,
                                created_at=now, updated_at=now))  # fmt: skip
    for n in range(count):
        session.add(XrefRow(source="dms" if n % 2 else "erp", entity_type="party", entity_key=f"k{n:05d}",
                            golden_id="P-1", method="singleton", linked_at=now))  # fmt: skip
    session.commit()


def _statements(session: Session) -> list[str]:
    seen: list[str] = []
    event.listen(session.get_bind(), "before_cursor_execute", lambda *a: seen.append(a[2]))
    return seen


def test_one_of_selects_what_in_selects_with_one_statement_text_on_postgres(store_session: Any) -> None:
    session: Session = store_session
    _xrefs(session, CHUNK + 150)  # more than one chunk
    wanted = {f"k{n:05d}" for n in range(0, CHUNK + 150)} | {"absent"}
    seen = _statements(session)
    found = {k for where in one_of(session, XrefRow.entity_key, wanted)
             for k in session.scalars(select(XrefRow.entity_key).where(where))}  # fmt: skip
    assert found == wanted - {"absent"}
    few = {k for where in one_of(session, XrefRow.entity_key, ["k00001", "k00002"])
           for k in session.scalars(select(XrefRow.entity_key).where(where))}  # fmt: skip
    assert few == {"k00001", "k00002"}
    assert list(one_of(session, XrefRow.entity_key, [])) == []
    if session.get_bind().dialect.name == "postgresql":  # the same text for 651 values and for two
        assert len(seen) == 2
        assert seen[0] == seen[1]
    else:
        assert len(seen) == 3  # two chunks, then one


def test_tuple_in_matches_pairs_not_their_cross_product(store_session: Any) -> None:
    session: Session = store_session
    _xrefs(session, CHUNK + 150)
    # k00001 is a dms key and k00002 an erp one: (erp, k00001) and (dms, k00002) must not come back
    wanted = [("dms", "k00001"), ("erp", "k00002"), ("erp", "k00001"), ("dms", "k00002")]
    wanted += [("erp" if n % 2 == 0 else "dms", f"k{n:05d}") for n in range(10, CHUNK + 150)]
    seen = _statements(session)
    columns = (XrefRow.source, XrefRow.entity_key)
    found = {(s, k) for where in tuple_in(session, columns, wanted)
             for s, k in session.execute(select(*columns).where(where))}  # fmt: skip
    assert ("dms", "k00001") in found
    assert ("erp", "k00002") in found
    assert ("erp", "k00001") not in found
    assert ("dms", "k00002") not in found
    assert len(found) == 2 + (CHUNK + 150 - 10)
    assert len(seen) == (1 if session.get_bind().dialect.name == "postgresql" else 2)


def test_the_pool_settings_reach_the_api_and_job_engines(tmp_path: Any) -> None:
    from hub_api.app import create_app
    from jobs.store_access import store_sessions
    from store.migrate import upgrade

    settings = Settings(data_dir=tmp_path, database_pool_size=3, database_max_overflow=7)
    upgrade(settings.effective_database_url)
    with store_sessions(settings) as sessions:
        pool = sessions.kw["bind"].pool
        assert (pool.size(), pool._max_overflow) == (3, 7)
    app = create_app(settings, configure_logs=False)

    async def started() -> Any:
        async with app.router.lifespan_context(app):
            return app.state.hub.engine.pool

    pool = asyncio.run(started())
    assert (pool.size(), pool._max_overflow) == (3, 7)
