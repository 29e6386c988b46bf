"""The scores the demo and benchmarks print: hand-computed cases, including ones that must come out wrong."""

from __future__ import annotations

from types import SimpleNamespace

from matching.evaluation import current_owner_score, current_owner_truth, false_merges, pairwise_score


def test_pairwise_scores_count_pairs_from_cluster_sizes() -> None:
    truth = {"a1": "A", "a2": "A", "a3": "A", "b1": "B"}
    clusters = {"a1": 1, "a2": 1, "a3": 2, "b1": 2}  # one true pair found, one missed twice, one false pair
    score = pairwise_score(clusters, truth)
    assert (score.true_positives, score.predicted, score.actual) == (1, 2, 3)
    assert score.precision == 0.5
    assert round(score.recall, 4) == 0.3333
    assert false_merges(clusters, truth) == {2: {"A", "B"}}


def test_current_owner_is_right_only_when_the_golden_owner_holds_the_true_person() -> None:
    car = SimpleNamespace(vin="VIN1")
    seller = SimpleNamespace(person_id="p1", ownerships=[SimpleNamespace(car=car, until="2023-01-01")])
    buyer = SimpleNamespace(person_id="p2", ownerships=[SimpleNamespace(car=car, until=None)])
    truth_owner = current_owner_truth([seller, buyer])
    assert truth_owner == {"VIN1": "p2"}
    parties = {("erp", "C1"): "G-seller", ("dms", "D1"): "G-buyer"}
    truth_party = {("erp", "C1"): "p1", ("dms", "D1"): "p2"}
    assert current_owner_score({"VIN1": "G-buyer"}, parties, truth_party, truth_owner).share == 1.0
    assert current_owner_score({"VIN1": "G-seller"}, parties, truth_party, truth_owner).share == 0.0
    assert current_owner_score({"VIN1": None}, parties, truth_party, truth_owner).right == 0
