"""Micro-batches: the records that arrived together are matched together, in one transaction.

Why: one record per transaction — its own candidate look-ups, two scoring calls, a re-clustering and a commit —
is ~15 records/s, while a dealer group's nightly upload arrives at thousands a second. A batch does that work
once: every record's candidates are scored in one call, the neighbourhoods the batch touches are re-clustered
together (two records of one batch that share a golden record, or link to each other, are one neighbourhood
anyway), and the golden writes, the change feed and the queue deletions are one commit. The neighbourhood's
pairs are those a full run's blocking proposes (``blocked_pairs``), scored in one call too, where the
record-at-a-time path scores every pair of a small neighbourhood and then keeps the blocked ones. The clusters
are the ones the same rules give on the same neighbourhood, so a full run afterwards changes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Sequence
from itertools import combinations
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from matching.admission import admit_batch, features_of
from matching.clustering import may_link
from matching.splink_model import BLOCKING_KEYS, blocking_values
from store import golden as store_golden
from store import match_keys, match_locks
from store.matching_input import iter_parties

if TYPE_CHECKING:
    from matching.incremental import IncrementalMatcher, Outcome

Row = dict[str, Any]


def _uid(row: Row) -> int:
    return int(row["unique_id"])


def blocked_pairs(rows: Sequence[Row]) -> list[tuple[Row, Row]]:
    """Every pair among ``rows`` that a full run's blocking keys propose, once each, lower ``unique_id`` first."""
    groups: dict[Hashable, list[Row]] = defaultdict(list)
    for row in rows:
        for value in blocking_values(row):
            groups[value].append(row)
    return _each_once([(a, b) for members in groups.values() for a, b in combinations(members, 2)
                       if _uid(a) != _uid(b)])  # fmt: skip


def _each_once(pairs: Sequence[tuple[Row, Row]]) -> list[tuple[Row, Row]]:
    """``pairs`` with the lower ``unique_id`` on the left, a pair given more than once (two records of the batch
    that are each other's candidates, two rows that share several blocking keys) once, where it first came."""
    seen: dict[tuple[int, int], tuple[Row, Row]] = {}
    for a, b in pairs:
        left, right = (a, b) if _uid(a) < _uid(b) else (b, a)
        seen.setdefault((_uid(left), _uid(right)), (left, right))
    return list(seen.values())


def match_together(
    matcher: IncrementalMatcher, session: Session, record_ids: Sequence[int], run_id: int, actor: str
) -> Outcome | None:
    """Match ``record_ids`` as one batch in ``session`` (the caller commits); None when none is a party."""
    from matching.incremental import Outcome, certain_links, lock_touched

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
    newly_shared = len(shared)
    batch = {_uid(r) for r in rows}
    candidates = match_keys.candidates_of(session, rows, BLOCKING_KEYS, config.incremental_candidate_limit)
    # Each pair once, lower id on the left as the neighbourhood's pairs below are: the model is symmetric
    # (tests/matching/test_pair_scorer.py), so the scores are the same, and those pairs come from the memo.
    scored = matcher.score_pairs(session, _each_once([(r, c) for r in rows for c in candidates[_uid(r)]]))
    strong = {int(p[side]) for p in scored if p["match_probability"] >= config.match_threshold
              for side in ("unique_id_l", "unique_id_r")}  # fmt: skip
    for row in rows:
        strong |= certain_links(row, candidates[_uid(row)])
    partners = matcher.must_link_partners_of(session, sorted(batch)) - batch
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
        newly_shared=newly_shared, rematched=len(carriers), records=len(rows),
    )  # fmt: skip
