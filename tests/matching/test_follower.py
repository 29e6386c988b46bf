"""The matching follower on a real store: what a pushed source commits reaches the golden layer with no scheduled
run, a kill at any moment loses nothing, and the queue it follows is written with the records.

Followers run in a thread (or, for the kill, a subprocess) against a copy of a matched crowd; every wait is for
a condition, with a deadline.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, sessionmaker

from mappings import MappingRegistry
from matching.config import FollowerConfig, MatchingConfig
from matching.follower import NOT_READY, Follower
from matching.run import run_party_matching
from matching.vehicles import build_golden_vehicles
from pipeline import Loader
from store import golden as store_golden
from store import match_keys, match_queue
from store.engine import create_store_engine, session_factory
from store.tables import GoldenRecordRow, MatchQueueRow, MatchRunRow, XrefRow
from tests.matching.conftest import MOBILE, ZHANG_WEI, lead, load

QUICK = MatchingConfig(follow=FollowerConfig(poll_interval_s=0.05, log_every_s=0.5))
DEADLINE_S = 60.0


def wait_for(condition: Callable[[], bool], what: str, deadline_s: float = DEADLINE_S) -> float:
    """Seconds until ``condition`` held; fails the test with ``what`` after ``deadline_s``."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > deadline_s:
            pytest.fail(f"not within {deadline_s:.0f} s: {what}")
        time.sleep(0.01)
    return time.monotonic() - started


@pytest.fixture(scope="module")
def matched_crowd(crowd: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The crowd with 张伟 in it, matched by a full run (parties and vehicles): the follower's starting point."""
    path = tmp_path_factory.mktemp("matched") / "hub.db"
    shutil.copyfile(crowd, path)
    engine = create_store_engine(f"sqlite:///{path}")
    sessions = session_factory(engine)
    load(Loader(sessions, MappingRegistry.load(), pii_key=b"k"), *ZHANG_WEI)
    run_party_matching(sessions, MatchingConfig())
    build_golden_vehicles(sessions)
    engine.dispose()
    return path


@pytest.fixture
def matched(matched_crowd: Path, tmp_path: Path) -> Iterator[tuple[sessionmaker[Session], Loader, Path]]:
    path = tmp_path / "hub.db"
    shutil.copyfile(matched_crowd, path)
    engine = create_store_engine(f"sqlite:///{path}")
    sessions = session_factory(engine)
    yield sessions, Loader(sessions, MappingRegistry.load(), pii_key=b"k"), path
    engine.dispose()


@contextmanager
def following(sessions: sessionmaker[Session], config: MatchingConfig = QUICK) -> Iterator[Follower]:
    """A follower running in a thread for the block, stopped (and joined) after it."""
    follower = Follower(sessions, config)
    failure: list[BaseException] = []

    def run() -> None:
        try:
            follower.run()
        except BaseException as exc:  # surfaced in the test, not lost in the thread
            failure.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield follower
    finally:
        follower.stop.set()
        thread.join(30)
    assert not thread.is_alive(), "the follower did not stop within 30 s of being asked"
    assert not failure, failure


def golden_of(sessions: sessionmaker[Session], source: str, key: str, kind: str = "party") -> str | None:
    with sessions() as session:
        return store_golden.golden_by_key(session, kind, {(source, key)}).get((source, key))


def queued(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return match_queue.lag(session).records


def test_a_dms_lead_joins_its_customer_with_no_scheduled_run(matched: Any) -> None:
    sessions, loader, _ = matched
    person = golden_of(sessions, "erp", "C00000042")
    load(loader, lead("D99001-000123", "Wei Zhang", MOBILE, 1))
    assert golden_of(sessions, "dms", "D99001-000123") is None  # committed, queued, not matched yet
    assert queued(sessions) >= 1
    with following(sessions):
        wait_for(lambda: golden_of(sessions, "dms", "D99001-000123") is not None, "the lead's xref")
        wait_for(lambda: queued(sessions) == 0, "an empty queue")
    assert golden_of(sessions, "dms", "D99001-000123") == person
    with sessions() as session:
        golden = session.get(GoldenRecordRow, person)
        assert golden is not None
        assert "dms" in golden.body["sources"]  # survivorship re-applied with the lead in it


def vehicle_runs(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(MatchRunRow).where(
            MatchRunRow.entity_type == "vehicle", MatchRunRow.status == "succeeded")) or 0)  # fmt: skip


def test_a_portal_registration_joins_its_customer_and_its_car_is_rebuilt(matched: Any) -> None:
    sessions, loader, _ = matched
    person = golden_of(sessions, "erp", "C00000042")
    builds = vehicle_runs(sessions)
    # 張偉 opens a second portal account, binding his car again: his name, mobile and e-mail, no resident ID
    registration = {**ZHANG_WEI[2][2], "event_id": "ev-900", "user_id": "U0000900"}
    load(loader, ("portal", "registrations", registration))
    with sessions() as session:
        kinds = {q.entity_type for q in match_queue.take(session, 100, max_attempts=3)}
    assert {"party", "vehicle_relationship"} <= kinds
    with following(sessions):
        wait_for(lambda: golden_of(sessions, "portal", "U0000900") is not None, "the registrant's xref")
        wait_for(lambda: queued(sessions) == 0, "an empty queue (the car's rows go after its rebuild)")
    assert golden_of(sessions, "portal", "U0000900") == person
    assert vehicle_runs(sessions) > builds


def _name(n: int) -> str:
    return "赵钱孙李周吴郑冯陈卫"[n % 10] + "一二三四五六七八九十"[n // 10 % 10] + "明"


def _copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of a WAL-mode store (the file alone may lack what the WAL still holds)."""
    import sqlite3

    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


def _golden_layer(url: str) -> tuple[set[tuple[str, str, str, str]], set[tuple[str, str]]]:
    engine = create_store_engine(url)
    try:
        with session_factory(engine)() as session:
            x, g = XrefRow, GoldenRecordRow
            xrefs = {
                tuple(r) for r in session.execute(select(x.entity_type, x.source, x.entity_key, x.golden_id))
            }
            goldens = {tuple(r) for r in session.execute(select(g.golden_id, g.status))}
            assert session.scalar(select(func.count()).select_from(MatchQueueRow)) == 0
        return xrefs, goldens  # type: ignore[return-value]
    finally:
        engine.dispose()


def test_a_follower_killed_mid_batch_and_restarted_ends_as_an_uninterrupted_one(
    matched: Any, tmp_path: Path
) -> None:
    sessions, loader, path = matched
    # 40 new customers, 20 of whom a second dealer sends again (they join), and one lead for 张伟
    leads = [lead(f"D99003-{n:06d}", _name(n), f"1366{n:07d}", n) for n in range(40)]
    leads += [lead(f"D99004-{n:06d}", _name(n), f"1366{n:07d}", 100 + n) for n in range(20)]
    load(loader, *leads, lead("D99001-000123", "Wei Zhang", MOBILE, 999))
    total = queued(sessions)
    reference = tmp_path / "reference.db"
    _copy_sqlite(path, reference)

    env = {**os.environ, "AUTOHUB_DATABASE_URL": f"sqlite:///{path}", "AUTOHUB_DATA_DIR": str(tmp_path),
           "AUTOHUB_MATCHING__FOLLOW__BATCH_MAX": "5"}  # fmt: skip
    worker = subprocess.Popen([sys.executable, "-m", "autohub.cli", "match", "follow"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        wait_for(lambda: queued(sessions) <= total - 30, "the subprocess follower under way")
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    assert queued(sessions) > 0, "killed too late to test a restart: lower the threshold"

    for store in (path, reference):  # the restart, and an uninterrupted run on the same data
        engine = create_store_engine(f"sqlite:///{store}")
        Follower(session_factory(engine), QUICK).run(idle_exit_s=0.3)
        engine.dispose()
    restarted, uninterrupted = _golden_layer(f"sqlite:///{path}"), _golden_layer(f"sqlite:///{reference}")
    assert restarted == uninterrupted
    parties = {(s, k): gid for kind, s, k, gid in restarted[0] if kind == "party"}
    assert parties[("dms", "D99003-000007")] == parties[("dms", "D99004-000007")]  # the resent lead joined
    assert parties[("dms", "D99001-000123")] == parties[("erp", "C00000042")]


def test_the_full_run_clears_the_queue(hub: Any) -> None:
    sessions, _ = hub
    assert queued(sessions) > 1000  # the crowd, as loaded: every party and car record waits
    run_party_matching(sessions, MatchingConfig())
    assert queued(sessions) == 0


def test_before_the_first_full_run_the_follower_waits_and_says_why(hub: Any) -> None:
    sessions, _ = hub
    waiting = queued(sessions)
    heard: list[str] = []
    totals = Follower(sessions, QUICK).run(idle_exit_s=0.2, on_waiting=heard.append)
    assert heard == [NOT_READY]
    assert "autohub match run --full" in NOT_READY
    assert (totals.records, queued(sessions)) == (0, waiting)


def test_match_status_shows_the_queue_and_its_age(hub_cli: Callable[..., Any], tmp_path: Path) -> None:
    assert hub_cli("db", "upgrade").exit_code == 0
    engine = create_store_engine(f"sqlite:///{tmp_path}/autohub.db")
    load(
        Loader(session_factory(engine), MappingRegistry.load(), pii_key=b"k"),
        lead("D99001-000123", "Wei Zhang", MOBILE, 1),
    )
    engine.dispose()
    shown = hub_cli("match", "status")
    assert shown.exit_code == 0, shown.output
    lines = {line.split("│")[1].strip(): line for line in shown.output.splitlines() if line.count("│") >= 3}
    assert {"party", "service_event", "all"} <= set(lines)
    assert " 2 " in lines["all"]  # the lead's customer and its event


@pytest.mark.postgres
def test_on_postgresql_the_commit_itself_wakes_the_follower(postgres_store_url: str) -> None:
    from tests.conftest import _empty_postgres

    _empty_postgres(postgres_store_url)
    engine = create_store_engine(postgres_store_url)
    sessions = session_factory(engine)
    loader = Loader(sessions, MappingRegistry.load(), pii_key=b"k")
    load(loader, *ZHANG_WEI)
    run_party_matching(sessions, MatchingConfig())
    build_golden_vehicles(sessions)
    # Nothing but the NOTIFY can wake it within the deadline: it would look on its own only after a minute.
    deaf = MatchingConfig(follow=FollowerConfig(poll_interval_s=60, listen_timeout_s=60))
    try:
        with following(sessions, deaf) as follower:
            wait_for(follower.idle.is_set, "the follower listening on an empty queue")
            load(loader, lead("D99001-000123", "Wei Zhang", MOBILE, 1))
            took = wait_for(lambda: golden_of(sessions, "dms", "D99001-000123") is not None,
                            "the lead matched after its commit's NOTIFY", deadline_s=10)  # fmt: skip
            wait_for(lambda: queued(sessions) == 0, "an empty queue", deadline_s=10)
        # (whether it joins 张伟 is the model's business: in a three-record store every value is "common")
        assert str(golden_of(sessions, "dms", "D99001-000123")).startswith("P-")
        print(f"commit → golden record on PostgreSQL: {took * 1000:.0f} ms")
    finally:
        engine.dispose()


def test_micro_batches_match_as_one_record_at_a_time_does(
    matched: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import matching.incremental

    batches: list[int] = []
    together = matching.incremental.match_batch

    def counted(matcher: Any, session: Session, record_ids: Any, *args: Any) -> Any:
        batches.append(len(record_ids))
        return together(matcher, session, record_ids, *args)

    monkeypatch.setattr(matching.incremental, "match_batch", counted)
    sessions, loader, path = matched
    # 40 new customers, 20 of whom a second dealer sends again (they join), one lead for 张伟, and two leads that
    # make one number shared (three names on it) in the same batch
    leads = [lead(f"D99003-{n:06d}", _name(n), f"1366{n:07d}", n) for n in range(40)]
    leads += [lead(f"D99004-{n:06d}", _name(n), f"1366{n:07d}", 100 + n) for n in range(20)]
    leads += [
        lead(f"D99005-{n:06d}", name, "13660000003", 200 + n) for n, name in enumerate(("沈建国", "沈建军"))
    ]
    load(loader, *leads, lead("D99001-000123", "Wei Zhang", MOBILE, 999))
    reference = tmp_path / "one_by_one.db"
    _copy_sqlite(path, reference)
    runs: dict[bool, Any] = {}
    queue_deletes: list[str] = []
    for store, in_batches in ((path, True), (reference, False)):  # not `together`: counted() calls that
        engine = create_store_engine(f"sqlite:///{store}")
        if in_batches:
            event.listen(engine, "before_cursor_execute", lambda *a: queue_deletes.append(a[2])
                         if a[2].startswith("DELETE FROM match_queue") else None)  # fmt: skip
        config = MatchingConfig(follow=FollowerConfig(poll_interval_s=0.05, micro_batches=in_batches))
        runs[in_batches] = Follower(session_factory(engine), config).run(idle_exit_s=0.3)
        engine.dispose()
        if (
            in_batches
        ):  # one record at a time is a batch of one: those calls are not the micro-batches counted
            micro_batches = list(batches)
    assert runs[True].parties == runs[False].parties > 60
    assert micro_batches
    assert max(micro_batches) > 50
    # a batch's parties leave the queue in one statement with their golden writes, its cars' rows in another
    assert len(queue_deletes) <= 2 * len(micro_batches)
    batched, one_by_one = _golden_layer(f"sqlite:///{path}"), _golden_layer(f"sqlite:///{reference}")
    assert batched == one_by_one
    parties = {(s, k): gid for kind, s, k, gid in batched[0] if kind == "party"}
    assert parties[("dms", "D99003-000007")] == parties[("dms", "D99004-000007")]
    assert parties[("dms", "D99001-000123")] == parties[("erp", "C00000042")]
    assert parties[("dms", "D99005-000000")] != parties[("dms", "D99005-000001")]
    full = run_party_matching(sessions, MatchingConfig())  # and a full run afterwards changes nothing
    assert (full.created, full.retired, full.merges, full.splits) == (0, 0, 0, 0)


def _registrations(vins: list[str]) -> list[tuple[str, str, dict[str, Any]]]:
    """Portal registrations of new people, each binding one of ``vins``."""
    return [("portal", "registrations", {
        **ZHANG_WEI[2][2], "event_id": f"ev-7{n:03d}", "user_id": f"U07{n:05d}", "real_name": _name(n),
        "mobile": f"1377{n:07d}", "email": "", "bound_vins": [vin]}) for n, vin in enumerate(vins)]  # fmt: skip


def _register_thirty_cars(sessions: sessionmaker[Session], loader: Loader) -> list[str]:
    """Thirty of the store's cars, each registered on the portal by a new person, loaded at once."""
    with sessions() as session:
        vins = sorted(
            set(session.scalars(select(XrefRow.entity_key).where(XrefRow.entity_type == "vehicle")))
        )[:30]
    load(loader, *_registrations(vins))
    return vins


@pytest.mark.parametrize("every_s", [60.0, 0.0])
def test_under_load_the_cars_of_several_batches_are_rebuilt_once(matched: Any, every_s: float) -> None:
    """Full batches link their parties at once and leave their cars for one rebuild (``vehicles_every_s``);
    the rows of those cars stay queued, held by the follower and not taken again, until that rebuild."""
    sessions, loader, _ = matched
    _register_thirty_cars(sessions, loader)
    total, builds = queued(sessions), vehicle_runs(sessions)
    assert total == 90  # each registrant, the binding of their car and the registration (a service event)
    config = MatchingConfig(follow=FollowerConfig(batch_max=4, vehicles_every_s=every_s))
    follower = Follower(sessions, config)
    reports = []
    while (report := follower.handle_batch()) is not None:
        reports.append(report)
        if len(reports) == 3 and every_s:  # the first registrant linked, no car rebuilt yet
            assert golden_of(sessions, "portal", "U0700000") is not None
            assert sum(r.vehicles for r in reports) == 0
    assert sum(r.taken for r in reports) == total  # no row taken twice
    assert queued(sessions) == 0
    assert sum(r.vehicles for r in reports) >= 30  # each bound car (and its other owners' cars) rebuilt
    rebuilds = vehicle_runs(sessions) - builds
    assert rebuilds == (1 if every_s else len(reports))


def test_a_batch_builds_the_cars_it_names_not_those_still_queued(matched: Any) -> None:
    """Thirty registrations committed at once: the first batch (one registrant's rows) rebuilds that car, not
    the twenty-nine whose rows wait in the queue — built then, they would be built before their registrant was
    matched, and again when their rows come. In the end a build of every car changes none."""
    sessions, loader, _ = matched
    _register_thirty_cars(sessions, loader)
    follower = Follower(sessions, MatchingConfig(follow=FollowerConfig(batch_max=3, vehicles_every_s=0)))
    first = follower.handle_batch()
    assert first is not None
    assert first.taken == 3
    assert 1 <= first.vehicles <= 2
    while follower.handle_batch() is not None:
        pass
    assert queued(sessions) == 0
    full = build_golden_vehicles(sessions)  # every car afresh: the follower left none behind
    assert (full["created"], full["updated"]) == (0, 0)


def party_runs(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(MatchRunRow).where(
            MatchRunRow.entity_type == "party", MatchRunRow.mode == "follow")) or 0)  # fmt: skip


def _visit(sessions: sessionmaker[Session], key: str, vin: str, kind: str = "registration") -> None:
    """A service event naming the portal's 張偉 (U0000042) and ``vin``, saved alone: his own record not sent."""
    from canonical_model.entities import SourceRecord
    from store.repository import CanonicalEntity, insert_source_records, save_canonical

    with sessions.begin() as session:
        record = SourceRecord(
            source="portal", stream="registrations", source_id=key, payload={"event_id": key}
        )
        (raw_id,) = insert_source_records(session, [record], None)
        assert raw_id is not None
        body = {"event_type": kind, "party_source_id": "U0000042", "vin": vin}
        save_canonical(session, "portal", [(raw_id, CanonicalEntity("service_event", key, body))],
                       mapping_version="1", pii_key=b"k")  # fmt: skip


def test_a_visit_to_a_car_the_customer_had_matches_no_party_but_a_new_car_does(matched: Any) -> None:
    """An event naming 張偉 and the car he already had: only the car is rebuilt, his match is not done again.
    The same with a car new to him: his cars changed, so his match is done again and the index holds both."""
    sessions, _, _ = matched
    person = golden_of(sessions, "portal", "U0000042")
    vin = ZHANG_WEI[2][2]["bound_vins"][0].upper()
    parties, cars = party_runs(sessions), vehicle_runs(sessions)
    _visit(sessions, "ev-901", vin)
    with following(sessions):
        wait_for(lambda: queued(sessions) == 0, "an empty queue")
    assert (party_runs(sessions), vehicle_runs(sessions)) == (parties, cars + 1)

    second = "LFV2A21K5G3000002"
    _visit(sessions, "ev-902", second)
    with following(sessions):
        wait_for(lambda: queued(sessions) == 0, "an empty queue")
    assert party_runs(sessions) == parties + 1
    assert golden_of(sessions, "portal", "U0000042") == person
    with sessions() as session:
        (row,) = [
            r for r in match_keys.by_ids(session, _portal_parties(session)) if r["entity_key"] == "U0000042"
        ]
    assert row["vins"] == sorted([vin, second])
    # a dealer's record of the car he had, with a new plate: no customer moves, no change feed names the car —
    # only its own queue row does, and a build of every car afterwards must change none
    from canonical_model.entities import SourceRecord
    from store.repository import CanonicalEntity, insert_source_records, save_canonical

    with sessions.begin() as session:
        (raw_id,) = insert_source_records(session, [SourceRecord(source="dms", stream="vehicles", source_id=vin,
                                                                 payload={"vin": vin})], None)  # fmt: skip
        assert raw_id is not None
        car = {"vin": vin, "plates": [{"plate": "沪A99D01", "valid_from": "2026-11-01"}]}
        save_canonical(session, "dms", [(raw_id, CanonicalEntity("vehicle", vin, car))], mapping_version="1",
                       pii_key=b"k")  # fmt: skip
    with following(sessions):
        wait_for(lambda: queued(sessions) == 0, "an empty queue")
    full = build_golden_vehicles(sessions)
    assert (full["created"], full["updated"]) == (0, 0)


def _portal_parties(session: Session) -> list[int]:
    from store.tables import CanonicalRecordRow

    c = CanonicalRecordRow
    return list(session.scalars(select(c.id).where(c.source == "portal", c.entity_type == "party")))
