"""Records into the key index: their features, their shared numbers withdrawn, in a few queries for a batch.

Why a batch at once: a record's cars, its two shared-number look-ups, its carriers and its three index writes
were eight round trips to the store a record — most of a follower's time under load on PostgreSQL. Here each is
one query for the batch (a record matched alone is a batch of one), and the records are then admitted in order
in memory, so the outcome is the record-at-a-time one: a record sees the batch's earlier records as carriers of
its number, and a number that becomes shared is recorded (and withdrawn from the index) before the next record
is looked at.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy.orm import Session

from matching.features import (
    SharedIdentifier,
    assess_shared,
    party_features,
    set_identifier,
    shared_remainder,
)
from store import match_keys
from store.matching_input import PartyRecord, iter_parties, party_dealers

if TYPE_CHECKING:
    from matching.config import MatchingConfig

log = structlog.get_logger(__name__)
Row = dict[str, Any]
GUARDED = ("mobile", "email")


def features_of(session: Session, parties: Sequence[PartyRecord]) -> list[Row]:
    """Each party's feature row with its cars (``match_keys.party_vins_of``), the cars read in one query."""
    cars = match_keys.party_vins_of(session, [(p.source, p.entity_key) for p in parties])
    return [party_features(p, cars.get((p.source, p.entity_key), {})) for p in parties]


def cars_unchanged(session: Session, party_ids: Collection[int]) -> set[int]:
    """The parties among ``party_ids`` whose cars are those the key index already holds for them.

    A repair order or a delivery names its customer; the customer's match depends on it only through the
    customer's cars (a golden customer's record names no car). A party only *named* by new evidence — not
    written itself — whose cars did not change would be matched to the very same result: the follower leaves it
    (a third of a dealer stream's matching was this), and its cars are rebuilt all the same."""
    parties = list(iter_parties(session, ids=sorted(set(party_ids))))
    indexed = {int(r["unique_id"]): r for r in match_keys.by_ids(session, [p.record_id for p in parties])}
    same: set[int] = set()
    for row in features_of(session, parties):
        held = indexed.get(int(row["unique_id"]))
        if held is not None and all((held[c] or []) == (row[c] or []) for c in ("vins", "vins_repaired")):
            same.add(int(row["unique_id"]))
    return same


def made_shared(session: Session, found: SharedIdentifier, row: Row, carriers: Sequence[Row]) -> list[int]:
    """``row``'s number just became shared: recorded, withdrawn from the index's carriers (each keeping what is
    left of it bound to its name) and from ``row``; the carriers' record ids, to be re-matched without it."""
    everyone = [*carriers, row]
    bound = {int(c["unique_id"]): shared_remainder(found.value, c, everyone) for c in carriers}
    match_keys.add_shared(session, found.as_row(), bound)
    log.warning("identifier became shared", identifier=found.describe())
    set_identifier(row, found.kind, shared_remainder(found.value, row, everyone))
    return [int(c["unique_id"]) for c in carriers]


class _Carriers:
    """Who carries each mobile/e-mail: the index as the batch found it, with the batch's admitted rows over it."""

    def __init__(self, session: Session, rows: Sequence[Row]) -> None:
        self.by_value: dict[tuple[str, str], dict[int, Row]] = defaultdict(dict)
        for column in GUARDED:
            found = match_keys.carrying_any(session, column, [r[column] for r in rows if r[column]])
            for value, carriers in found.items():
                for carrier in carriers:
                    self.by_value[(column, value)][int(carrier["unique_id"])] = carrier
        self.held: dict[int, list[tuple[str, str]]] = defaultdict(
            list
        )  # record → the values it is listed under
        for key, listed in self.by_value.items():
            for record_id in listed:
                self.held[record_id].append(key)

    def of(self, column: str, value: str, besides: int) -> list[Row]:
        return [r for uid, r in self.by_value[(column, value)].items() if uid != besides]

    def admitted(self, row: Row) -> None:
        """``row`` is in the index now, under its values as admitted (and no longer under its old ones)."""
        record_id = int(row["unique_id"])
        for key in self.held.pop(record_id, []):
            self.by_value[key].pop(record_id, None)
        for column in GUARDED:
            if row[column]:
                self.by_value[(column, row[column])][record_id] = row
                self.held[record_id].append((column, row[column]))


def admit_batch(session: Session, rows: Sequence[Row], config: MatchingConfig) -> dict[str, list[int]]:
    """Withdraw each row's shared numbers and write the rows to the key index, as admitting them one after the
    other would; the numbers the batch made shared, each with the other records that carried it.
    The rows are changed in place (a shared number withdrawn, or kept bound to the name)."""
    wanted = {(column, r[column]) for r in rows for column in GUARDED if r[column]}
    shared = match_keys.shared_among(session, wanted)
    carriers = _Carriers(session, rows)
    pending: list[Row] = []  # admitted rows not yet written: written before the index changes under them
    newly: dict[str, list[int]] = {}
    for row in rows:
        for column in GUARDED:
            value = row[column]
            if not value:
                continue
            if (column, value) in shared:
                bound: list[Row] = []
                if row.get("title_form"):  # the batch's earlier rows bound to the number are read too
                    match_keys.upsert_many(session, pending)
                    pending = []
                    bound = match_keys.carrying_bound(session, column, value)
                set_identifier(row, column, shared_remainder(value, row, bound))
                continue
            others = carriers.of(column, value, besides=int(row["unique_id"]))
            found = assess_shared(column, value, [*others, row], min_names=config.shared_identifier_min_names,
                                  dealers_of=lambda parties: set().union(*party_dealers(session, parties).values()))  # fmt: skip
            if found is None:
                continue
            match_keys.upsert_many(session, pending)  # add_shared withdraws the number from the index's rows
            pending = []
            newly[f"{column}:{found.masked}"] = made_shared(session, found, row, others)
            shared.add((column, value))
        carriers.admitted(row)
        pending.append(row)
    match_keys.upsert_many(session, pending)
    return newly
