"""A car two records share only through a repaired VIN (an O read as 0, a partial resolved to the one known car)
is evidence, but weaker than a car both wrote right (issue #15)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from matching.config import DEFAULT_MODEL_PATH
from matching.features import FEATURE_COLUMNS, party_features
from matching.splink_model import PairScorer, load_model
from store.match_keys import sure_vins
from store.matching_input import PartyRecord, written_right

VIN = "LVSHCAMB1CE054249"


@pytest.fixture(scope="module")
def scorer() -> PairScorer:
    return PairScorer(load_model(DEFAULT_MODEL_PATH))


def _row(n: int, cars: dict[str, bool]) -> dict[str, Any]:
    body = {"kind": "person", "name": {"simplified": "王先生", "pinyin": "wang", "title": "先生"}}
    record = PartyRecord(n, "dms", f"RO-{n}", body, datetime.now(UTC))
    row = party_features(record, cars)
    return {c: row.get(c) for c in FEATURE_COLUMNS}


def _weight(scorer: PairScorer, left: dict[str, bool], right: dict[str, bool]) -> float:
    (pair,) = scorer.score([_row(1, left)], [_row(2, right)])
    return float(pair["match_weight"])


def test_a_repaired_vin_weighs_less_than_one_written_right(scorer: PairScorer) -> None:
    clean = _weight(scorer, {VIN: True}, {VIN: True})
    repaired = _weight(scorer, {VIN: True}, {VIN: False})
    other_car = _weight(scorer, {VIN: True}, {"LSGPC52U4HF012345": True})
    assert other_car < repaired < clean
    assert clean - repaired > 3  # bits: a Bayes factor about ten times smaller


def test_a_vin_written_right_anywhere_is_sure() -> None:
    assert written_right({"vin": VIN})
    assert not written_right({"vin": VIN, "repaired": {"vin": "LVSHCAMB1CEO54249 (O→0)"}})
    row = party_features(PartyRecord(1, "dms", "RO-1", {"kind": "person"}, datetime.now(UTC)),
                         {VIN: False, "LSGPC52U4HF012345": True})  # fmt: skip
    assert row["vins"] == ["LSGPC52U4HF012345", VIN]
    assert row["vins_sure"] == ["LSGPC52U4HF012345"]
    assert row["vins_repaired"] == [VIN]
    assert sure_vins(row["vins"], row["vins_repaired"]) == row["vins_sure"]  # the key index gives it back


def test_score_pairs_scores_exactly_the_pairs_given(scorer: PairScorer) -> None:
    a, b, c = _row(1, {VIN: True}), _row(2, {VIN: True}), _row(3, {"LSGPC52U4HF012345": True})
    pairs = scorer.score_pairs([(a, b), (a, c), (b, c)])
    assert sorted((p["unique_id_l"], p["unique_id_r"]) for p in pairs) == [(1, 2), (1, 3), (2, 3)]
    crossed = {(p["unique_id_l"], p["unique_id_r"]): p["match_weight"] for p in scorer.score([a, b], [b, c])}
    assert {(1, 2): crossed[(1, 2)], (1, 3): crossed[(1, 3)], (2, 3): crossed[(2, 3)]} == {
        (p["unique_id_l"], p["unique_id_r"]): p["match_weight"] for p in pairs
    }
