"""Replay after a fix, on SQLite and PostgreSQL: records a wrong mapping quarantined are mapped again from the raw
store once the mapping is corrected — recovered, partly recovered or still waiting with their new reason — with
the reconciliation exact, one unresolved entry per record or entity, and nothing written by a dry run.

The source is a small sixth one ("fleet") whose first mapping has a code table without ``F`` and reads the VIN
from a misspelt field; the corrected mapping fixes both.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from typer.testing import Result

from jobs.quarantine_replay import ReplayRefused, ReplayReport, ReplaySelection, replay_quarantine
from mappings import MappingRegistry
from pipeline import Loader, to_source_record
from pipeline.replay import ReplayConflict
from store import match_keys, reports
from store import replay as replay_store
from store.engine import create_store_engine, session_factory
from store.erasure import ERASED_PAYLOAD
from store.tables import CanonicalRecordRow, QuarantineRow, SourceRecordRow, SyncRun

KEY = b"replay-test-key"
GOOD_VIN, BAD_VIN = "LSGPC52U4HF012345", "LSGPC52U5HF012345"  # the second fails its check digit

BROKEN = """\
source: fleet
version: 1
codes:
  fleet_gender: {M: male}
streams:
  drivers:
    source_id: id
    required: [id, name]
    emit:
      - entity: party
        key: [$source_id]
        fields:
          kind: person
          name: {from: name, transform: person_name}
          gender: {from: sex, codes: fleet_gender}
          contact_points:
            - {from: mobile, transform: mobile_contact}
      - entity: vehicle
        key: [vin]
        when: car_vin
        fields:
          vin: {from: car_ivn, transform: vin}
"""
FIXED = (
    BROKEN.replace("version: 1", "version: 2")
    .replace("{M: male}", "{M: male, F: female}")
    .replace("car_ivn", "car_vin")
)

DRIVERS: list[dict[str, Any]] = [
    {"id": "F1", "sex": "M", "name": "王建勋", "mobile": "13957110101"},  # mapped either way
    {"id": "F2", "sex": "F", "name": "李娜", "mobile": "13957110102"},  # unknown code → recovered
    {
        "id": "F3",
        "sex": "M",
        "name": "张伟",
        "mobile": "13957110103",
        "car_vin": GOOD_VIN,
    },  # partial → recovered
    {
        "id": "F4",
        "sex": "M",
        "name": "李四",
        "mobile": "13957110104",
        "car_vin": BAD_VIN,
    },  # partial → partial
    {"id": "F5", "sex": "F", "name": "赵敏", "mobile": "1381234567"},  # unknown code → invalid mobile
]


def write_mapping(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "fleet.yaml").write_text(text, encoding="utf-8")
    return folder


def load_drivers(loader: Loader, drivers: list[dict[str, Any]] = DRIVERS) -> None:
    mapper = loader.registry["fleet"]
    loader.load([to_source_record(mapper, "drivers", d) for d in drivers])


@pytest.fixture
def hub(store_url: str, tmp_path: Path) -> Iterator[tuple[Loader, Loader]]:
    """(a loader with the broken mapping, one with the corrected mapping) on one store, the drivers loaded."""
    engine = create_store_engine(store_url)
    sessions = session_factory(engine)
    broken = Loader(sessions, MappingRegistry.load(write_mapping(tmp_path / "broken", BROKEN)), pii_key=KEY,
                    batch_size=2)  # fmt: skip
    fixed = Loader(sessions, MappingRegistry.load(write_mapping(tmp_path / "fixed", FIXED)), pii_key=KEY,
                   batch_size=2)  # fmt: skip
    load_drivers(broken)
    yield broken, fixed
    engine.dispose()


def _replay(loader: Loader, **selection: Any) -> ReplayReport:
    return replay_quarantine(loader, ReplaySelection(**selection), actor="steward:li")


def _entries(loader: Loader) -> list[tuple[int, str | None, str | None, str, str | None]]:
    """(id, source id, entity type, reason, resolution) of every quarantine entry, unresolved ones resolution None."""
    with loader.sessions() as session:
        rows = session.scalars(select(QuarantineRow).order_by(QuarantineRow.id))
        return [
            (q.id, q.source_id, q.entity_type, q.reason, q.resolution if q.resolved_at else None)
            for q in rows
        ]


def _open(loader: Loader) -> list[tuple[str | None, str | None, str]]:
    found = [(s, e, r) for _, s, e, r, resolution in _entries(loader) if resolution is None]
    return sorted(found, key=lambda entry: tuple(part or "" for part in entry))


def _outcomes(loader: Loader) -> dict[str, str | None]:
    with loader.sessions() as session:
        return dict(session.execute(select(SourceRecordRow.source_id, SourceRecordRow.outcome)).all())


def _canonical(loader: Loader) -> dict[tuple[str, str], tuple[str, int]]:
    """(entity type, key) → (mapping version, source record id)."""
    with loader.sessions() as session:
        rows = session.execute(select(CanonicalRecordRow.entity_type, CanonicalRecordRow.entity_key,
                                      CanonicalRecordRow.mapping_version, CanonicalRecordRow.source_record_id))  # fmt: skip
        return {(t, k): (v, r) for t, k, v, r in rows}


def _balanced(loader: Loader) -> None:
    with loader.sessions() as session:
        (fleet,) = reports.reconcile(session)
        assert fleet.balanced, fleet
        for run in session.scalars(select(SyncRun)):
            assert run.status == "succeeded"
            assert run.records_in == (run.records_unchanged + run.records_mapped + run.records_partial
                                      + run.records_quarantined)  # fmt: skip


def test_a_corrected_mapping_recovers_what_it_quarantined(hub: tuple[Loader, Loader]) -> None:
    broken, fixed = hub
    assert _outcomes(broken) == {"F1": "mapped", "F2": "quarantined", "F3": "partial", "F4": "partial",
                                 "F5": "quarantined"}  # fmt: skip
    report = _replay(fixed, source="fleet")

    t = report.totals
    assert (t.selected, t.recovered, t.partly_recovered, t.still_quarantined, t.not_replayable) == (
        4,
        2,
        0,
        2,
        0,
    )
    rows = {r.reason: r for r in report.by_reason}
    assert (rows["unknown_code"].selected, rows["unknown_code"].recovered) == (2, 1)
    assert rows["unknown_code"].waiting_as == {"invalid_mobile.length": 1}
    assert rows["schema.missing"].waiting_as == {"invalid_vin.check_digit": 1}
    assert _outcomes(fixed) == {"F1": "mapped", "F2": "mapped", "F3": "mapped", "F4": "partial",
                                "F5": "quarantined"}  # fmt: skip
    canonical = _canonical(fixed)
    assert canonical[("party", "F1")][0] == "fleet@1"  # not selected: untouched
    assert {k for k, (v, _) in canonical.items() if v == "fleet@2"} == {
        ("party", "F2"), ("party", "F3"), ("vehicle", GOOD_VIN), ("party", "F4")}  # fmt: skip
    assert report.entities == {"party": 3, "vehicle": 1}
    # every old entry resolved with what became of it, and who asked; exactly one waits per record or entity
    resolutions = {(s, e): r for _, s, e, _, r in _entries(fixed)[:4]}
    assert resolutions == {
        ("F2", None): f"replayed: mapped (run {report.runs['fleet']}, steward:li)",
        ("F3", "vehicle"): f"replayed: mapped (run {report.runs['fleet']}, steward:li)",
        ("F4", "vehicle"): f"replayed: quarantined again as invalid_vin.check_digit (run {report.runs['fleet']}, steward:li)",
        ("F5", None): f"replayed: quarantined again as invalid_mobile.length (run {report.runs['fleet']}, steward:li)",
    }  # fmt: skip
    assert _open(fixed) == [
        ("F4", "vehicle", "invalid_vin.check_digit"),
        ("F5", None, "invalid_mobile.length"),
    ]
    _balanced(fixed)
    with fixed.sessions() as session:
        run = session.get(SyncRun, report.runs["fleet"])
        assert run is not None
        assert run.source == "fleet"
        assert (run.records_in, run.records_mapped, run.records_partial, run.records_quarantined) == (
            4,
            2,
            1,
            1,
        )
        new = session.scalars(select(QuarantineRow).where(QuarantineRow.resolved_at.is_(None))).all()
        assert {q.sync_run_id for q in new} == {run.id}
    assert report.next_step
    assert "autohub match run --incremental" in report.next_step


def test_a_second_replay_finds_only_what_still_waits_and_changes_none_of_it(
    hub: tuple[Loader, Loader],
) -> None:
    _, fixed = hub
    _replay(fixed, source="fleet")
    before = _entries(fixed)
    assert _replay(fixed, reason="unknown_code").totals.selected == 0  # all of them resolved
    again = _replay(fixed, source="fleet")
    assert (again.totals.selected, again.totals.recovered, again.totals.still_quarantined) == (2, 0, 2)
    assert _entries(fixed) == before  # failing exactly as before: the same entries wait, none added
    _balanced(fixed)


def test_a_dry_run_reports_the_same_and_writes_nothing(hub: tuple[Loader, Loader]) -> None:
    _, fixed = hub

    def state() -> tuple[object, ...]:
        with fixed.sessions() as session:
            runs = session.scalar(select(func.count()).select_from(SyncRun))
        return _entries(fixed), _outcomes(fixed), _canonical(fixed), runs

    before = state()
    dry = _replay(fixed, source="fleet", dry_run=True)
    assert state() == before
    assert (dry.dry_run, dry.runs, dry.entities) == (True, {}, {})
    real = _replay(fixed, source="fleet")
    assert dry.totals == real.totals
    assert dry.by_reason == real.by_reason


def test_unreadable_input_and_stand_ins_are_counted_not_replayable_and_left(
    hub: tuple[Loader, Loader],
) -> None:
    broken, fixed = hub
    with broken.run("fleet") as report:
        broken.quarantine_unreadable(report, "drivers", [("not_json", "{oops")])
        hostile = {
            "id": "F7",
            "sex": "F",
            "name": "孙\x00七",
            "mobile": "13957110107",
        }  # stored as a stand-in
        broken.load_page(report, [to_source_record(broken.registry["fleet"], "drivers", hostile)])
    waiting = _open(broken)
    report = _replay(fixed, all=True)
    rows = {r.reason: r for r in report.by_reason}
    assert (rows["not_json"].not_replayable, rows["not_json"].selected) == (1, 0)
    assert (
        rows["unsafe_input.nul_character"].not_replayable,
        rows["unsafe_input.nul_character"].selected,
    ) == (1, 0)
    assert report.totals.not_replayable == 2
    assert report.totals.selected == 4
    assert {("F7", None, "unsafe_input.nul_character"), (None, None, "not_json")} <= set(_open(fixed))
    assert {w for w in waiting if w[0] in ("F7", None)} == {w for w in _open(fixed) if w[0] in ("F7", None)}
    _balanced(fixed)


def test_an_erased_payload_is_never_mapped_again(hub: tuple[Loader, Loader]) -> None:
    broken, fixed = hub
    with (
        broken.sessions.begin() as session
    ):  # what a PIPL erasure leaves of F2's raw record (store/erasure.py)
        session.execute(
            update(SourceRecordRow).where(SourceRecordRow.source_id == "F2").values(payload=ERASED_PAYLOAD)
        )
    report = _replay(fixed, reason="unknown_code")
    assert (report.totals.selected, report.totals.not_replayable) == (1, 1)  # F5 mapped again, F2 not
    assert _outcomes(fixed)["F2"] == "quarantined"
    assert ("party", "F2") not in _canonical(fixed)
    assert ("F2", None, "unknown_code") in _open(fixed)


def test_a_replay_that_finds_its_entries_resolved_meanwhile_writes_nothing_of_the_batch(
    hub: tuple[Loader, Loader], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, fixed = hub
    before = _entries(fixed), _outcomes(fixed), _canonical(fixed)
    resolve = replay_store.resolve_entries
    monkeypatch.setattr(
        replay_store, "resolve_entries", lambda *a, **k: resolve(*a, **k) - 1
    )  # one was taken
    with pytest.raises(ReplayConflict) as conflict:
        _replay(fixed, source="fleet")
    assert "run the replay again" in str(conflict.value)
    assert (_entries(fixed), _outcomes(fixed), _canonical(fixed)) == before
    with fixed.sessions() as session:
        run = session.scalars(select(SyncRun).order_by(SyncRun.id.desc())).first()
        assert run is not None
        assert (run.status, run.records_in) == ("failed", 0)


def test_an_old_version_recovered_never_replaces_a_newer_one(hub: tuple[Loader, Loader]) -> None:
    broken, fixed = hub
    load_drivers(broken, [{"id": "F6", "sex": "F", "name": "钱一", "mobile": "13957110106"}])  # quarantined
    load_drivers(
        broken, [{"id": "F6", "sex": "M", "name": "钱二", "mobile": "13957110106"}]
    )  # its newer version
    with broken.sessions() as session:
        newer = session.scalar(select(func.max(SourceRecordRow.id)))
    report = _replay(fixed, source="fleet")
    assert report.older_than_stored == 1
    assert _canonical(fixed)[("party", "F6")] == ("fleet@1", newer)  # left in place: received later
    with fixed.sessions() as session:
        body = session.scalar(select(CanonicalRecordRow.body).where(CanonicalRecordRow.entity_key == "F6"))
        assert body is not None
        assert body["name"]["raw"] == "钱二"
    assert _outcomes(fixed)["F6"] == "mapped"  # both versions map now
    _balanced(fixed)


def test_the_selection_by_reason_family_stream_and_time(hub: tuple[Loader, Loader]) -> None:
    _, fixed = hub
    assert _replay(fixed, reason="unknown.", dry_run=True).totals.selected == 0  # "_" is no wildcard
    exact = _replay(fixed, reason="unknown", dry_run=True)
    assert exact.totals.selected == 0
    assert exact.next_step
    assert "final '.'" in exact.next_step
    assert _replay(fixed, all=True, stream="vehicles", dry_run=True).totals.selected == 0
    later = datetime.now(UTC) + timedelta(minutes=1)
    assert _replay(fixed, all=True, since=later, dry_run=True).totals.selected == 0
    family = _replay(fixed, reason="schema.", since=datetime.now(UTC) - timedelta(hours=1))
    assert (family.totals.selected, family.totals.recovered) == (2, 1)
    assert _outcomes(fixed)["F2"] == "quarantined"  # another reason: not selected


def test_a_selection_of_nothing_in_particular_or_of_an_unknown_source_is_refused(
    hub: tuple[Loader, Loader],
) -> None:
    _, fixed = hub
    with pytest.raises(ReplayRefused) as nothing:
        _replay(fixed)
    assert nothing.value.field == "all"
    with pytest.raises(ReplayRefused) as unknown:
        _replay(fixed, source="fleeet")
    assert unknown.value.field == "source"
    assert "fleet" in str(unknown.value)
    assert _replay(fixed, source="erp").totals.selected == 0  # a known source with nothing waiting


def test_a_limit_says_more_and_the_next_call_goes_on(hub: tuple[Loader, Loader]) -> None:
    _, fixed = hub
    first = _replay(fixed, source="fleet", limit=3)  # F2, F3, F4 in record order
    assert (first.totals.selected, first.totals.recovered, first.more) == (3, 2, True)
    assert first.next_step
    assert "call again" in first.next_step
    rest = _replay(fixed, source="fleet")
    assert (rest.totals.selected, rest.more) == (2, False)  # F4 still fails, F5 was left
    _balanced(fixed)


def test_an_interrupted_replay_keeps_its_committed_batches_and_is_run_again(
    hub: tuple[Loader, Loader], monkeypatch: pytest.MonkeyPatch
) -> None:
    broken, fixed = hub
    load_drivers(
        broken, [{"id": f"G{n}", "sex": "F", "name": "周芳", "mobile": f"1395711020{n}"} for n in range(4)]
    )
    original = Loader.replay
    calls: list[int] = []

    def interrupted_on_the_second_batch(self: Loader, *args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Loader, "replay", interrupted_on_the_second_batch)
    with pytest.raises(KeyboardInterrupt):
        _replay(fixed, reason="unknown_code")  # F2, F5 | G0, G1 | G2, G3 in batches of 2
    monkeypatch.setattr(Loader, "replay", original)
    outcomes = _outcomes(fixed)
    assert (outcomes["F2"], outcomes["F5"], outcomes["G0"]) == ("mapped", "quarantined", "quarantined")
    with fixed.sessions() as session:
        run = session.scalars(select(SyncRun).order_by(SyncRun.id.desc())).first()
        assert run is not None
        assert (run.status, run.records_in, run.records_mapped) == ("failed", 2, 1)
        assert run.error_message is not None
        assert run.error_message.startswith("KeyboardInterrupt")
    again = _replay(fixed, reason="unknown_code")
    assert (again.totals.selected, again.totals.recovered) == (4, 4)  # only what still waited as unknown_code
    assert {s: o for s, o in _outcomes(fixed).items() if s.startswith("G")} == dict.fromkeys(
        ("G0", "G1", "G2", "G3"), "mapped")  # fmt: skip
    with fixed.sessions() as session:
        (fleet,) = reports.reconcile(session)
        assert fleet.balanced


def test_recovered_records_are_what_incremental_matching_picks_up(hub: tuple[Loader, Loader]) -> None:
    _, fixed = hub
    with fixed.sessions() as session:
        before = session.scalar(select(func.max(CanonicalRecordRow.updated_at)))
        assert before is not None
        assert match_keys.changed_parties(session, before) == []
    _replay(fixed, source="fleet")
    with fixed.sessions() as session:
        ids = dict(session.execute(select(CanonicalRecordRow.entity_key, CanonicalRecordRow.id)
                                   .where(CanonicalRecordRow.entity_type == "party")).all())  # fmt: skip
        assert set(match_keys.changed_parties(session, before)) == {ids["F2"], ids["F3"], ids["F4"]}


def test_the_cli_replays_after_a_fix(hub_cli: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    mappings = write_mapping(tmp_path / "mappings", BROKEN)
    monkeypatch.setenv("AUTOHUB_MAPPINGS_DIR", str(mappings))
    assert hub_cli("db", "upgrade").exit_code == 0
    extract = tmp_path / "drivers.jsonl"
    extract.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in DRIVERS), encoding="utf-8")
    assert hub_cli("load", "fleet", str(extract), "--stream", "drivers").exit_code == 0

    refused = hub_cli("quarantine", "replay")
    assert refused.exit_code == 1
    assert "say which quarantine entries to replay" in refused.output
    assert hub_cli("quarantine", "replay", "--since", "yesterday", "--all").exit_code == 2
    write_mapping(mappings, FIXED)  # the fix, on disk
    dry = hub_cli("quarantine", "replay", "--source", "fleet", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "dry run" in dry.output
    done = hub_cli("quarantine", "replay", "--source", "fleet", "--actor", "steward:wang")
    assert done.exit_code == 0, done.output
    assert "autohub match run --incremental" in done.output
    engine = create_store_engine(f"sqlite:///{tmp_path / 'autohub.db'}")
    with session_factory(engine)() as session:
        outcomes = dict(session.execute(select(SourceRecordRow.source_id, SourceRecordRow.outcome)).all())
        resolutions = set(
            session.scalars(select(QuarantineRow.resolution).where(QuarantineRow.resolution.is_not(None)))
        )
    engine.dispose()
    assert outcomes == {"F1": "mapped", "F2": "mapped", "F3": "mapped", "F4": "partial", "F5": "quarantined"}
    assert all(r.startswith("replayed: ") and r.endswith(", steward:wang)") for r in resolutions)
    counts = hub_cli("quarantine", "counts")
    assert counts.exit_code == 0
    assert "invalid_vin.check_digit" in counts.output
