"""Matching records against the golden records already built: one path, whatever the number of records.

Why one path: matching one record and matching a micro-batch were two paths that imported each other, and every
change to locking or to what a neighbourhood holds was written twice. A record matched alone is now a batch of
one; a dealer group's upload is a batch of a few hundred, matched in one transaction.

What a batch does: the records' feature rows (shared numbers withdrawn, ``matching.admission``) go into the key
index, their blocking values are locked in one ordered lock (``store.match_locks``), their candidates are read
through the index and scored in one call; then the neighbourhood — the records, every member of each golden
record they link to or belonged to, steward partners, and the records that met on a number this batch made
shared — is re-clustered with a full run's rules (``Matcher.settle``). Its pairs are those a full run's blocking
proposes (``blocked_pairs``), so the clusters are the ones a full run gives on the same neighbourhood: a full
run afterwards changes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any, Protocol

from sqlalchemy.orm import Session

from matching.admission import admit_batch, features_of
from matching.clustering import Clustering, may_link, organisation_identity
from matching.config import MatchingConfig
from matching.golden_ids import Assignment
from matching.splink_model import BLOCKING_KEYS, blocking_values
from store import golden as store_golden
from store import match_keys, match_locks
from store.golden import WriteCounts
from store.matching_input import iter_parties

Row = dict[str, Any]
GreyPair = tuple[int, int, float, float]


@dataclass
class Outcome:
    """What matching one batch of ``records`` did."""

    candidates: int
    pairs: int
    joined: int  # records that share their golden record with another
    created: int
    merged: int
    split: int
    review: int
    newly_shared: int = 0
    rematched: int = 0
    records: int = 1


class Matcher(Protocol):
    """What a batch needs of the matcher that holds the compiled scorer (``matching.incremental``)."""

    config: MatchingConfig

    def score_pairs(self, session: Session, pairs: list[tuple[Row, Row]]) -> list[Row]: ...

    def settle(
        self, session: Session, neighbourhood: set[int], rows: list[Row],
        previous: tuple[dict[int, str], dict[str, int]], scored: list[Row], model_pairs: list[Row],
        run_id: int, actor: str,
    ) -> tuple[Clustering, Assignment, WriteCounts, list[GreyPair]]: ...  # fmt: skip


def _uid(row: Row) -> int:
    return int(row["unique_id"])


def blocked_pairs(rows: Sequence[Row]) -> list[tuple[Row, Row]]:
    """Every pair among ``rows`` that a full run's blocking keys propose, once each, lower ``unique_id`` first."""
    groups: dict[Hashable, list[Row]] = defaultdict(list)
    for row in rows:
        for value in blocking_values(row):
            groups[value].append(row)
    return each_once([(a, b) for members in groups.values() for a, b in combinations(members, 2)
                      if _uid(a) != _uid(b)])  # fmt: skip


def each_once(pairs: Sequence[tuple[Row, Row]]) -> list[tuple[Row, Row]]:
    """``pairs`` with the lower ``unique_id`` on the left, a pair given more than once (two records of the batch
    that are each other's candidates, two rows that share several blocking keys) once, where it first came."""
    seen: dict[tuple[int, int], tuple[Row, Row]] = {}
    for a, b in pairs:
        left, right = (a, b) if _uid(a) < _uid(b) else (b, a)
        seen.setdefault((_uid(left), _uid(right)), (left, right))
    return list(seen.values())


def match_batch(
    matcher: Matcher, session: Session, record_ids: Sequence[int], run_id: int, actor: str
) -> Outcome | None:
    """Match ``record_ids`` as one batch in ``session`` (the caller commits); None when none is a party."""
    config = matcher.config
    carriers: set[int] = set()  # records that met on a number this batch made shared: re-clustered without it
    rows = features_of(session, list(iter_parties(session, ids=sorted(set(record_ids)))))
    if not rows:
        return None
    # the whole batch's blocking values in one ordered lock (store.match_locks), before any candidate is read
    match_locks.lock_blocking_values(session, {value for row in rows for value in blocking_values(row)})
    shared = admit_batch(session, rows, config)
    for ids in shared.values():
        carriers.update(ids)
    batch = {_uid(r) for r in rows}
    candidates = match_keys.candidates_of(session, rows, BLOCKING_KEYS, config.incremental_candidate_limit)
    # Each pair once, lower id on the left as the neighbourhood's pairs below are: the model is symmetric
    # (tests/matching/test_pair_scorer.py), so the scores are the same, and those pairs come from the memo.
    scored = matcher.score_pairs(session, each_once([(r, c) for r in rows for c in candidates[_uid(r)]]))
    strong = {int(p[side]) for p in scored if p["match_probability"] >= config.match_threshold
              for side in ("unique_id_l", "unique_id_r")}  # fmt: skip
    for row in rows:
        strong |= certain_links(row, candidates[_uid(row)])
    partners = store_golden.must_link_partners_of(session, sorted(batch)) - batch
    known = [
        *rows,
        *(c for found in candidates.values() for c in found),
        *match_keys.by_ids(session, carriers),
    ]
    touched = lock_touched(session, known, batch | strong | partners | carriers)
    members, ages = store_golden.membership(session, "party", touched)
    neighbourhood = batch | set(members) | strong | partners | carriers
    hood = match_keys.by_ids(session, neighbourhood)
    by_id = {_uid(r): r for r in hood}
    model_pairs = [p for p in matcher.score_pairs(session, blocked_pairs(hood))
                   if may_link(by_id[int(p["unique_id_l"])], by_id[int(p["unique_id_r"])])]  # fmt: skip
    settled = matcher.settle(
        session, neighbourhood, hood, (members, ages), scored, model_pairs, run_id, actor
    )
    clustering, assignment, written, grey = settled
    size = {c: len(rs) for c, rs in clustering.members.items()}
    return Outcome(
        candidates=sum(len(found) for found in candidates.values()), pairs=len(scored) + len(model_pairs),
        joined=sum(1 for r in batch if size[clustering.cluster_of[r]] > 1), created=written.created,
        merged=len(assignment.retired), split=len(assignment.splits), review=len(grey),
        newly_shared=len(shared), rematched=len(carriers), records=len(rows),
    )  # fmt: skip


def lock_touched(session: Session, known: Sequence[Row], wanted: set[int]) -> set[str]:
    """The golden records that the ``wanted`` records (among ``known`` feature rows) belong to, locked.

    Read again after locking: a record may have moved to another golden record while this follower waited for
    the lock (another follower merged it), and that one is then locked too, until nothing moves. Only the
    wanted records are looked up: a batch's candidates are all known, and most of them are not wanted."""
    keyed = {(str(r["source"]), str(r["entity_key"])): _uid(r) for r in known if _uid(r) in wanted}
    locked: set[str] = set()
    while True:
        golden_of = {keyed[k]: g for k, g in store_golden.golden_by_key(session, "party", keyed).items()}
        touched = {golden_of[r] for r in wanted if r in golden_of}
        if touched <= locked or not match_locks.locks_apply(session):
            return touched
        match_locks.lock_golden(session, "party", touched - locked)
        locked |= touched


def certain_links(row: Row, candidates: list[Row]) -> set[int]:
    """The candidates a full run links to ``row`` whatever the model says: the same verified ID, or the same
    organisation identity (``deterministic_edges``)."""
    linked = {_uid(c) for c in candidates if row["id_hash"] and c["id_hash"] == row["id_hash"]}
    if identity := organisation_identity(row):
        linked |= {_uid(c) for c in candidates if organisation_identity(c) == identity}
    return linked
