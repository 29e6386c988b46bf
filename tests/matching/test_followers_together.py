"""Two matching followers on one PostgreSQL store, fed people that overlap: each claims its own batches, and the
golden layer they leave is the one a single follower leaves on a copy of the same store (issue #16).

Without the neighbourhood locks (``store.match_locks``) the two followers match a customer and the same
customer sent again by a second dealer in two transactions at once, neither sees the other's record, and the
two stay apart.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from sqlalchemy import select

from mappings import MappingRegistry
from matching.config import FollowerConfig, MatchingConfig
from matching.follower import Follower, FollowerTotals
from matching.run import run_party_matching
from matching.vehicles import build_golden_vehicles
from pipeline import Loader
from pipeline.load import to_source_record
from sample_data import generate
from store.engine import create_store_engine, session_factory
from store.tables import XrefRow
from tests.conftest import PG_ADMIN_URL, _empty_postgres
from tests.matching.conftest import lead, load
from tests.matching.test_follower import _golden_layer, _name

pytestmark = pytest.mark.postgres
PAIRS = 60


def _lead(customer_id: str, n: int, message: int) -> tuple[str, str, dict[str, Any]]:
    """A dealer's lead with name, mobile and sex: what two dealers' records of one man share (≈0.94)."""
    source, stream, event = lead(customer_id, _name(n), f"1366{n:07d}", message)
    return source, stream, {**event, "customer": {**event["customer"], "gender": "男"}}


def _people(url: str) -> set[frozenset[tuple[str, str]]]:
    """The party golden layer as who is with whom (a new golden record's id depends on which record came first)."""
    xrefs, _ = _golden_layer(url)  # also: nothing left queued
    together: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for kind, source, key, golden in xrefs:
        if kind == "party":
            together[golden].add((source, key))
    return {frozenset(members) for members in together.values()}


@contextmanager
def copy_of(url: str) -> Iterator[str]:
    """A copy of the PostgreSQL database at ``url`` (nothing may be connected to it meanwhile), dropped after."""
    name, copy = url.rsplit("/", 1)[1], url.rsplit("/", 1)[1] + "_copy"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3) as admin:
        admin.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{name}"')
        try:
            yield url.rsplit("/", 1)[0] + f"/{copy}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')


def follow(url: str, names: tuple[str, ...]) -> dict[str, FollowerTotals]:
    """Followers under ``names`` in threads on ``url``, each until the queue stayed empty for a second."""
    engine = create_store_engine(url)
    sessions = session_factory(engine)
    totals: dict[str, FollowerTotals] = {}
    failures: list[BaseException] = []

    def run(name: str) -> None:
        config = MatchingConfig(follow=FollowerConfig(name=name, batch_max=3, listen_timeout_s=0.2))
        try:
            totals[name] = Follower(sessions, config).run(idle_exit_s=1.0)
        except BaseException as exc:  # surfaced in the test, not lost in the thread
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(name,)) for name in names]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(240)
    finally:
        engine.dispose()
    assert not any(thread.is_alive() for thread in threads), "a follower did not finish within 4 minutes"
    assert not failures, failures
    return totals


def test_two_followers_on_overlapping_people_leave_what_one_follower_leaves(postgres_store_url: str) -> None:
    _empty_postgres(postgres_store_url)
    engine = create_store_engine(postgres_store_url)
    sessions = session_factory(engine)
    loader = Loader(sessions, MappingRegistry.load(), pii_key=b"k")
    loader.load(to_source_record(loader.registry[g.source], g.stream, g.payload)
                for g in generate(150, seed=17))  # fmt: skip
    run_party_matching(sessions, MatchingConfig())
    build_golden_vehicles(sessions)
    # 60 new customers, each sent by two dealers one after the other (the second must join the first), taken
    # in batches of three, so that one person's two records are often in the two followers' hands at once
    load(loader, *(lead for n in range(PAIRS)
                   for lead in (_lead(f"D99003-{n:06d}", n, n), _lead(f"D99004-{n:06d}", n, 100 + n))))  # fmt: skip
    engine.dispose()

    with copy_of(postgres_store_url) as reference:
        alone = follow(reference, ("alone",))
        one = _people(reference)
    two = follow(postgres_store_url, ("follower-a", "follower-b"))
    assert all(t.records > 0 for t in two.values()), two  # both took part …
    assert sum(t.records for t in two.values()) < 1.2 * alone["alone"].records  # … in batches of their own
    assert sum(t.failed for t in two.values()) == 0

    assert _people(postgres_store_url) == one
    together = {frozenset({("dms", f"D99003-{n:06d}"), ("dms", f"D99004-{n:06d}")}) for n in range(PAIRS)}
    assert together <= one  # each man's two records are one golden customer
    engine = create_store_engine(postgres_store_url)
    with session_factory(engine)() as session:  # every record in exactly one golden record
        keys = list(session.execute(select(XrefRow.entity_type, XrefRow.source, XrefRow.entity_key)))
    engine.dispose()
    assert len(keys) == len(set(keys))
