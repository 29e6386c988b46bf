"""A full party-matching run: features → deterministic + Splink pairs → constrained clusters → stable golden ids
→ survivorship → one transaction in the store.

The steps and their order are the design: certain evidence (steward decisions, shared resident ID/USCC)
before probable evidence (the model), a steward's "not the same" above both, and golden ids carried over
from the previous run so nothing downstream has to re-key.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy.orm import Session, sessionmaker

from core.errors import ConfigError
from matching.clustering import Edge, cluster, deterministic_edges, full_names, identities, may_link
from matching.config import MODEL_VERSION, MatchingConfig
from matching.features import SharedIdentifier, build_features, dealers_in, features_from_store
from matching.golden_ids import assign_golden_ids, minting
from matching.splink_model import load_model, new_linker, sanitise, train
from matching.survivorship import golden_party
from store import golden as store_golden
from store import match_keys, match_queue
from store.golden import GoldenWrite, Lineage, Member, RunDecisions
from store.matching_input import PartyRecord, iter_parties, party_dealers, party_vehicle_links

log = structlog.get_logger(__name__)
logging.getLogger("splink").setLevel(logging.WARNING)  # Splink narrates every EM iteration at INFO


@dataclass
class MatchReport:
    run_id: int
    records: int
    pairs_scored: int
    clusters: int
    created: int
    updated: int
    unchanged: int
    retired: int
    merges: int
    splits: int
    review_open: int
    refused_by_steward: int
    refused_conflicting_ids: int  # model pairs kept apart: the two sides hold different resident IDs/USCCs
    refused_two_names: int  # model pairs kept apart: the two sides hold two people's names (a family)
    deterministic_links: int
    seconds: float
    shared: list[SharedIdentifier] = field(default_factory=list)
    cluster_of: dict[tuple[str, str], str] = field(default_factory=dict)  # (source, key) → golden id

    def counts(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if isinstance(v, int | float) and k != "run_id"}


def _scored_pairs(rows: list[dict[str, Any]], model: Path, floor: float) -> list[dict[str, Any]]:
    if len(rows) < 2:
        return []
    predictions = new_linker(rows, load_model(model)).inference.predict(threshold_match_probability=floor)
    pairs: list[dict[str, Any]] = predictions.as_record_list()
    return pairs


def run_party_matching(
    sessions: sessionmaker[Session],
    config: MatchingConfig,
    *,
    actor: str = "matching run",
    on_step: Callable[[str], None] | None = None,
) -> MatchReport:
    started = time.perf_counter()
    step = on_step or (lambda _: None)
    step("reading parties")
    with sessions() as session:
        # Taken before the parties are read: every row seen here is of a record this run then reads.
        queued = match_queue.snapshot(session)
        parties = {p.record_id: p for p in iter_parties(session)}
        links = party_vehicle_links(session)
        dealers = party_dealers(session)
        previous, ages = store_golden.membership(session, "party")
        must, cannot = store_golden.constraints(session, "party")
    features = build_features(parties.values(), links, shared_min_names=config.shared_identifier_min_names,
                              dealers_of=dealers_in(dealers))  # fmt: skip
    step("scoring pairs")
    pairs = _scored_pairs(features.rows, config.model, config.review_threshold)
    deterministic = deterministic_edges(features.rows)
    by_id = {int(r["unique_id"]): r for r in features.rows}
    model_edges = [Edge(int(p["unique_id_l"]), int(p["unique_id_r"]), float(p["match_probability"]), "probabilistic",
                        float(p["match_weight"])) for p in pairs if p["match_probability"] >= config.match_threshold
                   and may_link(by_id[int(p["unique_id_l"])], by_id[int(p["unique_id_r"])])]  # fmt: skip
    manual = [Edge(a, b, 1.0, "manual") for a, b in must]
    step("clustering")
    clustering = cluster(
        parties,
        [*manual, *deterministic, *model_edges],
        cannot,
        identities(features.rows),
        full_names(features.rows),
    )
    grey = [(int(p["unique_id_l"]), int(p["unique_id_r"]), float(p["match_probability"]), float(p["match_weight"]))
            for p in pairs if p["match_probability"] < config.match_threshold
            and clustering.cluster_of[int(p["unique_id_l"])] != clustering.cluster_of[int(p["unique_id_r"])]]  # fmt: skip
    key_of = lambda r: (parties[r].source, parties[r].entity_key)  # noqa: E731
    assignment = assign_golden_ids(clustering.members, previous, age=ages,
                                   new_ids=minting("party", key_of, store_golden.ids_in_use_by(sessions)))  # fmt: skip
    step("survivorship")
    goldens = [golden_write(assignment.golden_of[c], [parties[r] for r in sorted(records)], clustering.method_of)
               for c, records in clustering.members.items()]  # fmt: skip
    decisions = RunDecisions(
        "party", goldens, assignment.retired, assignment.merges, assignment.splits, grey, actor
    )
    step("writing golden records")
    with sessions.begin() as session:
        run_id = store_golden.start_match_run(session, "party", "full", MODEL_VERSION)
        written = store_golden.apply_decisions(session, decisions, run_id)
        step("indexing blocking keys")
        match_keys.replace_all(session, features.rows)  # what incremental matching looks candidates up in
        match_keys.replace_shared(session, [s.as_row() for s in features.shared])
        match_queue.done(session, queued)  # matched, all of them (a row written again since stays queued)
        report = MatchReport(
            run_id=run_id, records=len(parties), pairs_scored=len(pairs), clusters=len(clustering.members),
            created=written.created, updated=written.updated, unchanged=written.unchanged, retired=written.retired,
            merges=len(assignment.merges), splits=len(assignment.splits), review_open=written.review_open,
            refused_by_steward=len(clustering.refused), refused_conflicting_ids=len(clustering.conflicting),
            refused_two_names=len(clustering.disagreeing),
            deterministic_links=len(deterministic),
            seconds=0.0, shared=features.shared,
            cluster_of={(m.source, m.entity_key): g.golden_id for g in goldens for m in g.members},
        )  # fmt: skip
        report.seconds = round(time.perf_counter() - started, 2)
        store_golden.finish_match_run(session, run_id, report.counts())
    log.info("party matching finished", **report.counts())
    return report


def golden_write(
    golden_id: str, members: list[PartyRecord], method_of: dict[int, Edge | None]
) -> GoldenWrite:
    body, chosen = golden_party(members)
    written_members = []
    for record in members:
        edge = method_of.get(record.record_id)
        written_members.append(Member(record.record_id, record.source, record.entity_key,
                                      edge.method if edge else "singleton", edge.weight if edge else None))  # fmt: skip
    lineage = [Lineage(c.attribute, c.value, c.record.record_id, c.record.source, c.record.entity_key, c.rule)
               for c in chosen]  # fmt: skip
    return GoldenWrite(golden_id, body, written_members, lineage)


def train_party_model(sessions: sessionmaker[Session], config: MatchingConfig, out: Path) -> dict[str, Any]:
    """Train on the store's parties (unsupervised) and save the model JSON to ``out``; returns a summary."""
    with sessions() as session:
        features = features_from_store(session, shared_min_names=config.shared_identifier_min_names)
    if len(features.rows) < 100:
        raise ConfigError(f"only {len(features.rows)} parties in the store: too few to train a model",
                          fix="load the sources first (autohub sync …), or keep the shipped model")  # fmt: skip
    linker = new_linker(features.rows)
    train(linker)
    model = sanitise(linker.misc.save_model_to_json())
    model["autohub"] = {"version": MODEL_VERSION, "trained_on_records": len(features.rows),
                        "trained_at": datetime.now(UTC).isoformat(timespec="seconds")}  # fmt: skip
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(model, indent=2, ensure_ascii=False), encoding="utf-8")
    return {"records": len(features.rows), "model": str(out), "version": MODEL_VERSION}
