"""Pairwise precision, recall and F1 of a clustering against ground truth (the sample data's person ids).

Pairwise, as the record-linkage literature and Splink report it: every pair of records put in one cluster is a
predicted link; it is true when both records belong to the same real person. Counted from cluster sizes
(n·(n−1)/2 per group), so a million records need no pair list.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from core.errors import DataError
from mappings import MappingRegistry
from pipeline import to_source_record

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class PairwiseScore:
    true_positives: int
    predicted: int
    actual: int

    @property
    def precision(self) -> float:
        return self.true_positives / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.actual if self.actual else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def pairwise_score(clusters: Mapping[K, Hashable], truth: Mapping[K, Hashable]) -> PairwiseScore:
    """``clusters``: record → cluster id; ``truth``: record → true entity. Records missing from ``truth`` are
    not scored (records the ground truth does not know, e.g. hand-added ones)."""
    scored = [r for r in clusters if r in truth]
    by_cluster: Counter[Hashable] = Counter(clusters[r] for r in scored)
    by_truth: Counter[Hashable] = Counter(truth[r] for r in scored)
    by_both: Counter[tuple[Hashable, Hashable]] = Counter((clusters[r], truth[r]) for r in scored)
    return PairwiseScore(
        true_positives=sum(_pairs(n) for n in by_both.values()),
        predicted=sum(_pairs(n) for n in by_cluster.values()),
        actual=sum(_pairs(n) for n in by_truth.values()),
    )


def false_merges(
    clusters: Mapping[K, Hashable], truth: Mapping[K, Hashable]
) -> dict[Hashable, set[Hashable]]:
    """Clusters that hold records of more than one true entity: cluster id → the true entities inside."""
    inside: dict[Hashable, set[Hashable]] = defaultdict(set)
    for record, cluster in clusters.items():
        if record in truth:
            inside[cluster].add(truth[record])
    return {cluster: people for cluster, people in inside.items() if len(people) > 1}


def party_truth(
    generated: Iterable[tuple[str, str, dict[str, Any], str | None]], registry: MappingRegistry
) -> dict[tuple[str, str], str]:
    """(source, party entity key) → true person id, from generated records ``(source, stream, payload, person)``.

    The keys come from the real mappings, so they are the keys the store holds. A record that fails its
    mapping is quarantined and has no party to score; it is skipped here too.
    """
    truth: dict[tuple[str, str], str] = {}
    for source, stream, payload, person in generated:
        if person is None:
            continue
        try:
            mapper = registry[source]
            mapped = mapper.map(to_source_record(mapper, stream, payload))
        except DataError:
            continue
        for entity in mapped.entities:
            if entity.entity_type == "party":
                truth[(source, entity.entity_key)] = person
    return truth


def current_owner_truth(persons: Iterable[Any]) -> dict[str, str]:
    """VIN → the person who holds the car today, from the generator's people (``generate(on_person=…)``)."""
    owners: dict[str, str] = {}
    for person in persons:
        for ownership in person.ownerships:
            if ownership.until is None:
                owners[ownership.car.vin] = person.person_id
    return owners


@dataclass(frozen=True)
class OwnerScore:
    cars: int  # golden vehicles whose true current owner is known
    right: int  # … whose current owner is the golden customer holding that person's records

    @property
    def share(self) -> float:
        return self.right / self.cars if self.cars else 1.0


def current_owner_score(
    vehicles: Mapping[str, str | None],
    parties: Mapping[tuple[str, str], str],
    truth_party: Mapping[tuple[str, str], str],
    truth_owner: Mapping[str, str],
) -> OwnerScore:
    """``vehicles``: VIN → golden current owner; ``parties``: party record → golden id; truths from the generator."""
    people_of: dict[str, set[str]] = defaultdict(set)  # golden id → the real people among its records
    for record, golden_id in parties.items():
        if record in truth_party:
            people_of[golden_id].add(truth_party[record])
    cars = right = 0
    for vin, owner in vehicles.items():
        if vin in truth_owner:
            cars += 1
            right += owner is not None and truth_owner[vin] in people_of.get(owner, set())
    return OwnerScore(cars, right)
