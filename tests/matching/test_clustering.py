"""Clustering order and the steward's cannot-link; stable golden ids across re-runs, merges and splits."""

from __future__ import annotations

from matching.clustering import Edge, cluster, deterministic_edges
from matching.golden_ids import NewIds, assign_golden_ids, derived_golden_id, mint_golden_ids


def _groups(members: dict[int, set[int]]) -> set[frozenset[int]]:
    return {frozenset(m) for m in members.values()}


def test_edges_join_records_into_connected_components() -> None:
    result = cluster([1, 2, 3, 4, 5], [Edge(1, 2, 0.99, "probabilistic"), Edge(2, 3, 1.0, "deterministic")])
    assert _groups(result.members) == {frozenset({1, 2, 3}), frozenset({4}), frozenset({5})}
    assert result.method_of[3] is not None
    assert result.method_of[3].method == "deterministic"
    assert result.method_of[4] is None


def test_a_cannot_link_holds_even_when_a_third_record_bridges_the_two() -> None:
    edges = [
        Edge(1, 3, 0.99, "probabilistic"),
        Edge(2, 3, 0.98, "probabilistic"),
        Edge(1, 2, 0.97, "probabilistic"),
    ]
    free = cluster([1, 2, 3], edges)
    assert _groups(free.members) == {frozenset({1, 2, 3})}
    held = cluster([1, 2, 3], edges, cannot_link=[(1, 2)])
    assert _groups(held.members) == {frozenset({1, 3}), frozenset({2})}  # 3 goes with its stronger partner
    assert {(e.left, e.right) for e in held.refused} == {(2, 3), (1, 2)}


def test_two_different_resident_ids_never_share_a_golden_record_unless_a_steward_says_so() -> None:
    ids = {1: "id-a", 2: "id-b"}  # record 3 has no ID: it may join either, not bridge both
    edges = [
        Edge(1, 2, 0.999, "probabilistic"),
        Edge(1, 3, 0.99, "probabilistic"),
        Edge(2, 3, 0.98, "probabilistic"),
    ]
    free = cluster([1, 2, 3], edges)
    assert _groups(free.members) == {frozenset({1, 2, 3})}
    kept = cluster([1, 2, 3], edges, identity=ids)
    assert _groups(kept.members) == {frozenset({1, 3}), frozenset({2})}
    assert {(e.left, e.right) for e in kept.conflicting} == {(1, 2), (2, 3)}
    steward = cluster(
        [1, 2], [Edge(1, 2, 1.0, "manual")], identity=ids
    )  # e.g. an ID mistyped with a valid checksum
    assert _groups(steward.members) == {frozenset({1, 2})}


def test_a_steward_merge_outranks_the_model() -> None:
    edges = [Edge(1, 2, 1.0, "manual"), Edge(2, 3, 0.999, "probabilistic")]
    result = cluster([1, 2, 3], edges, cannot_link=[(1, 3)])
    assert _groups(result.members) == {frozenset({1, 2}), frozenset({3})}


def test_deterministic_edges_link_every_record_sharing_an_id_hash() -> None:
    rows = [{"unique_id": 1, "id_hash": "a"}, {"unique_id": 2, "id_hash": None}, {"unique_id": 3, "id_hash": "a"},
            {"unique_id": 4, "id_hash": "a"}, {"unique_id": 5, "id_hash": "b"}]  # fmt: skip
    assert {(e.left, e.right) for e in deterministic_edges(rows)} == {(1, 3), (1, 4)}


def _named(*names: str) -> NewIds:
    """New ids handed out in cluster order: ``names`` one per cluster needing one."""
    return lambda clusters: dict(zip(sorted(clusters), names, strict=True))


def test_golden_ids_are_kept_when_the_same_clusters_come_back() -> None:
    first = assign_golden_ids({1: {1, 2}, 3: {3}}, {}, new_ids=_named("G1", "G2"))
    previous = {r: first.golden_of[c] for c, rs in {1: {1, 2}, 3: {3}}.items() for r in rs}
    # Same data, clusters named differently (Splink's cluster ids move): the golden ids do not.
    again = assign_golden_ids({2: {1, 2}, 3: {3}}, previous, new_ids=_named())
    assert again.golden_of == {2: previous[1], 3: previous[3]}
    assert not again.created
    assert not again.merges
    assert not again.splits
    # Grown data: a new record joins an existing cluster, another stands alone.
    grown = assign_golden_ids({1: {1, 2, 4}, 3: {3}, 5: {5}}, previous, new_ids=_named("G-new"))
    assert grown.golden_of == {1: previous[1], 3: previous[3], 5: "G-new"}
    assert grown.created == {"G-new"}


def test_a_merge_keeps_the_bigger_id_and_retires_the_other_into_it() -> None:
    previous = {1: "A", 2: "A", 3: "B"}
    result = assign_golden_ids({1: {1, 2, 3}}, previous, new_ids=_named())
    assert result.golden_of == {1: "A"}
    assert result.retired == {"B": "A"}
    assert result.merges == [("A", {"A": [1, 2], "B": [3]})]


def test_a_tie_keeps_the_older_id() -> None:
    result = assign_golden_ids({1: {1, 2}}, {1: "B", 2: "A"}, age={"A": 1, "B": 2}, new_ids=_named())
    assert result.golden_of == {1: "A"}


def test_a_split_keeps_the_id_on_the_bigger_part_and_records_both_parts() -> None:
    previous = {1: "A", 2: "A", 3: "A"}
    result = assign_golden_ids({1: {1, 2}, 3: {3}}, previous, new_ids=_named("C"))
    assert result.golden_of == {1: "A", 3: "C"}
    assert result.splits == [("A", {"A": [1, 2], "C": [3]})]
    assert result.retired == {}


def test_a_new_id_is_derived_from_the_first_member_and_never_reuses_a_stored_id() -> None:
    stored: set[str] = set()
    clusters = {7: [("erp", "C2"), ("dms", "L9")], 8: [("portal", "U1")]}
    first = mint_golden_ids("party", clusters, lambda ids: stored & set(ids))
    assert first == mint_golden_ids("party", clusters, lambda ids: stored & set(ids)), (
        "a rerun gives the same ids"
    )
    assert first[7] == derived_golden_id("party", ("dms", "L9"))
    assert first[7].startswith("P-")
    assert len(first[7]) == 22
    assert mint_golden_ids("vehicle", {1: [("erp", "V")]}, lambda ids: set())[1].startswith("V-")
    stored.add(first[7])  # the record merged away and back: its old id is retired, never handed out again
    again = mint_golden_ids("party", {9: [("dms", "L9")]}, lambda ids: stored & set(ids))
    assert again[9] not in stored
    assert again[9] == derived_golden_id("party", ("dms", "L9"), salt=1)
