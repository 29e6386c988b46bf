"""Stable golden ids: a cluster keeps the id its members already had, so downstream systems' keys survive re-runs.

Splink names a cluster after its smallest record id, which changes as data grows; downstream systems
store golden ids, so the hub assigns its own. Each new cluster takes the previous golden id most of its
members carried (ties: the older id); each previous id goes to at most one cluster. Ids no cluster keeps
were merged into the cluster that holds most of their members; clusters made of several previous golden
records are merges, previous golden records now spread over several clusters are splits — both recorded
with the membership before and after.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field


def new_golden_id(entity_type: str = "party") -> str:
    """``P-…`` for parties, ``V-…`` for vehicles: readable in logs, unguessable, never reused."""
    return f"{'P' if entity_type == 'party' else 'V'}-{uuid.uuid4().hex[:20].upper()}"


@dataclass
class Assignment:
    golden_of: dict[int, str]  # cluster → golden id
    created: set[str] = field(default_factory=set)  # ids new in this run
    retired: dict[str, str] = field(default_factory=dict)  # previous id no cluster kept → id it merged into
    merges: list[tuple[str, dict[str, list[int]]]] = field(default_factory=list)  # survivor, members before
    splits: list[tuple[str, dict[str, list[int]]]] = field(default_factory=list)  # split id, members after


def assign_golden_ids(
    members: Mapping[int, set[int]],
    previous: Mapping[int, str],
    *,
    age: Mapping[str, int] | None = None,
    new_id: Callable[[], str] = new_golden_id,
) -> Assignment:
    """``members``: cluster → records; ``previous``: record → golden id before this run; ``age``: golden id →
    creation order (smaller is older), for ties."""
    age = age or {}
    overlaps: list[tuple[int, int, str, int]] = []  # (-count, age, golden id, cluster)
    for cluster, records in members.items():
        counts = Counter(previous[r] for r in records if r in previous)
        overlaps.extend((-n, age.get(gid, 0), gid, cluster) for gid, n in counts.items())
    golden_of: dict[int, str] = {}
    taken: set[str] = set()
    for _, _, gid, cluster in sorted(overlaps):
        if cluster not in golden_of and gid not in taken:
            golden_of[cluster] = gid
            taken.add(gid)
    result = Assignment(golden_of)
    for cluster in members:
        if cluster not in golden_of:
            golden_of[cluster] = new_id()
            result.created.add(golden_of[cluster])

    where: dict[str, Counter[str]] = defaultdict(Counter)  # previous id → new id → records
    for cluster, records in members.items():
        for record in records:
            if record in previous:
                where[previous[record]][golden_of[cluster]] += 1
    for old, destinations in where.items():
        if old not in taken:
            result.retired[old] = destinations.most_common(1)[0][0]
    for cluster, records in members.items():
        before: dict[str, list[int]] = defaultdict(list)
        for record in sorted(records):
            if record in previous:
                before[previous[record]].append(record)
        if len(before) > 1:
            result.merges.append((golden_of[cluster], dict(before)))
    for old, destinations in where.items():
        if len(destinations) > 1:
            after = {gid: sorted(r for c, rs in members.items() if golden_of[c] == gid for r in rs
                                 if previous.get(r) == old) for gid in destinations}  # fmt: skip
            result.splits.append((old, after))
    return result
