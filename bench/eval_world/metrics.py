"""Pairwise precision/recall/F1 of a clustering against the truth, overall and per true kind, counted from the
contingency table (no pair is enumerated), and the example misses a developer reads."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


@dataclass
class PairScore:
    precision: float
    recall: float
    f1: float
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int

    def as_dict(self) -> dict[str, float | int]:
        return dict(self.__dict__)


def pairwise(predicted: Mapping[tuple[str, str], str], truth: Mapping[tuple[str, str], str],
             kinds: Mapping[str, str], kind: str | None = None) -> PairScore:  # fmt: skip
    """Pairs over the truth's records; ``kind`` keeps true pairs of that kind and predicted pairs touching it."""
    cells: Counter[tuple[str, str]] = Counter()
    clusters: Counter[str] = Counter()
    clusters_other: Counter[str] = Counter()
    entities: Counter[str] = Counter()
    for ref, entity in truth.items():
        cluster = predicted.get(ref) or f"alone:{ref[0]}:{ref[1]}"
        mine = kind is None or kinds[entity] == kind
        clusters[cluster] += 1
        if not mine:
            clusters_other[cluster] += 1
            continue
        cells[(cluster, entity)] += 1
        entities[entity] += 1
    correct = sum(_pairs(n) for n in cells.values())
    true_pairs = sum(_pairs(n) for n in entities.values())
    predicted_pairs = sum(_pairs(n) - _pairs(clusters_other[c]) for c, n in clusters.items())
    p = correct / predicted_pairs if predicted_pairs else 1.0
    r = correct / true_pairs if true_pairs else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return PairScore(p, r, f1, true_pairs, predicted_pairs, correct)


def plurality(
    predicted: Mapping[tuple[str, str], str], truth: Mapping[tuple[str, str], str]
) -> dict[str, str]:
    """Golden id → the true entity most of its records belong to."""
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    for ref, golden in predicted.items():
        if ref in truth:
            votes[golden][truth[ref]] += 1
    return {g: c.most_common(1)[0][0] for g, c in votes.items()}


def misses(predicted: Mapping[tuple[str, str], str], truth: Mapping[tuple[str, str], str], limit: int,
           seed: int = 1) -> tuple[list[tuple[tuple[str, str], tuple[str, str]]], list[tuple[tuple[str, str], tuple[str, str]]]]:  # fmt: skip
    """Example false splits (same entity, two clusters) and false merges (one cluster, two entities)."""
    by_entity: dict[str, dict[str, list[tuple[str, str]]]] = defaultdict(lambda: defaultdict(list))
    by_cluster: dict[str, dict[str, list[tuple[str, str]]]] = defaultdict(lambda: defaultdict(list))
    for ref, entity in truth.items():
        cluster = predicted.get(ref) or f"alone:{ref[0]}:{ref[1]}"
        by_entity[entity][cluster].append(ref)
        by_cluster[cluster][entity].append(ref)
    rng = random.Random(seed)
    splits = [(a[0], b[0]) for groups in by_entity.values() if len(groups) > 1
              for a, b in [rng.sample(list(groups.values()), 2)]]  # fmt: skip
    merges = [(a[0], b[0]) for groups in by_cluster.values() if len(groups) > 1
              for a, b in [rng.sample(list(groups.values()), 2)]]  # fmt: skip
    rng.shuffle(splits)
    rng.shuffle(merges)
    return splits[:limit], merges[:limit]
