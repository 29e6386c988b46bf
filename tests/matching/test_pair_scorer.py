"""The compiled pair scorer a follower keeps for its life: scoring leaves nothing behind in its DuckDB."""

from __future__ import annotations

from typing import Any

from matching.config import MatchingConfig
from matching.features import FEATURE_COLUMNS
from matching.splink_model import PairScorer, load_model


def _objects(scorer: PairScorer) -> int:
    found = scorer.api._con.sql(
        "SELECT (SELECT count(*) FROM duckdb_views() WHERE NOT internal) + (SELECT count(*) FROM duckdb_tables())"
    ).fetchall()
    return int(found[0][0])


def test_scoring_again_and_again_keeps_no_table_of_earlier_calls() -> None:
    scorer = PairScorer(load_model(MatchingConfig().model))
    blank: dict[str, Any] = dict.fromkeys(FEATURE_COLUMNS)
    rows = [blank | {"unique_id": n, "name_py": "zhang wei", "mobile": f"139{n:08d}"} for n in range(40)]
    before = _objects(scorer)
    for _ in range(25):
        scored = scorer.score_pairs([(rows[n], rows[n + 1]) for n in range(0, 39, 2)])
        assert len(scored) == 20
        assert len(scorer.score_within(rows[:5])) == 10
    # each call registers its inputs; left behind, 25 rounds would add a hundred (and their Arrow data)
    assert _objects(scorer) == before
