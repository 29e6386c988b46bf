"""Stable golden ids: a cluster keeps the id its members already had, so downstream systems' keys survive re-runs.

Splink names a cluster after its smallest record id, which changes as data grows; downstream systems
store golden ids, so the hub assigns its own. Each new cluster takes the previous golden id most of its
members carried (ties: the older id); each previous id goes to at most one cluster. Ids no cluster keeps
were merged into the cluster that holds most of their members; clusters made of several previous golden
records are merges, previous golden records now spread over several clusters are splits — both recorded
with the membership before and after.

A new cluster's id is derived from its first member's source key (source, entity key or VIN), not drawn at
random: a run repeated after a crash, or the same data matched in another store, gives the same new ids, so a
downstream system that read half a run's feed sees no phantom customers. An id once used is never reused — a
record that leaves a merged customer and stands alone again would otherwise get back the id it had before the
merge, which downstream still holds as retired — so a derived id already in the store is salted and derived
again until it is free (``exists`` asks the store).
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field

SourceKey = tuple[str, str]  # (source, entity key) of a party, (source, VIN) of a vehicle
NewIds = Callable[[Mapping[int, set[int]]], dict[int, str]]  # clusters needing an id → their new ids


def derived_golden_id(entity_type: str, first_member: SourceKey, salt: int = 0) -> str:
    """``P-…`` for parties, ``V-…`` for vehicles, 20 hex digits of the first member's key: readable in logs."""
    material = "\x1f".join((entity_type, *first_member, str(salt))).encode()
    return f"{'P' if entity_type == 'party' else 'V'}-{hashlib.sha256(material).hexdigest()[:20].upper()}"


def mint_golden_ids(
    entity_type: str,
    clusters: Mapping[int, Collection[SourceKey]],
    exists: Callable[[Collection[str]], set[str]],
) -> dict[int, str]:
    """A fresh id per cluster, derived from its smallest source key, salted past every id the store has used."""
    first = {cluster: min(keys) for cluster, keys in clusters.items()}
    minted: dict[int, str] = {}
    salt = 0
    pending = dict(first)
    while pending:
        wanted = {cluster: derived_golden_id(entity_type, key, salt) for cluster, key in pending.items()}
        used = exists(list(wanted.values()))
        for cluster, golden_id in wanted.items():
            if golden_id not in used:
                minted[cluster] = golden_id
        pending = {c: k for c, k in pending.items() if c not in minted}
        salt += 1
    return minted


def minting(
    entity_type: str,
    key_of: Callable[[int], SourceKey],
    exists: Callable[[Collection[str]], set[str]],
) -> NewIds:
    """The ``new_ids`` of ``assign_golden_ids`` for records whose source keys ``key_of`` gives."""

    def new_ids(clusters: Mapping[int, set[int]]) -> dict[int, str]:
        keyed = {cluster: [key_of(r) for r in records] for cluster, records in clusters.items()}
        return mint_golden_ids(entity_type, keyed, exists)

    return new_ids


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
    new_ids: NewIds,
) -> Assignment:
    """``members``: cluster → records; ``previous``: record → golden id before this run; ``age``: golden id →
    creation order (smaller is older), for ties; ``new_ids`` names the clusters that keep no previous id."""
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
    fresh = new_ids(
        {cluster: set(records) for cluster, records in members.items() if cluster not in golden_of}
    )
    golden_of.update(fresh)
    result.created.update(fresh.values())

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
