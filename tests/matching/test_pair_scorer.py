"""The compiled pair scorer a follower keeps for its life: scoring leaves nothing behind in its DuckDB."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

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


def test_the_memo_gives_the_scorers_own_scores_and_scores_only_what_changed() -> None:
    from matching.score_memo import ScoreMemo

    scorer = PairScorer(load_model(MatchingConfig().model))
    blank: dict[str, Any] = dict.fromkeys(FEATURE_COLUMNS)
    rows = [blank | {"unique_id": n, "name_py": "zhang wei" if n % 3 else "li na", "mobile": f"1390000{n % 4:04d}",
                     "tf_name_py": 0.001} for n in range(12)]  # fmt: skip
    pairs = [(rows[n], rows[m]) for n in range(12) for m in range(n + 1, 12) if (n + m) % 2]
    asked: list[int] = []

    def counted(given: list[tuple[dict[str, Any], dict[str, Any]]]) -> list[dict[str, Any]]:
        asked.append(len(given))
        return scorer.score_pairs(given)

    memo = ScoreMemo(size=1000)
    first = memo.score(pairs, counted)
    fresh = {(p["unique_id_l"], p["unique_id_r"]): p for p in scorer.score_pairs(pairs)}
    assert [(p["unique_id_l"], p["unique_id_r"]) for p in first] == [
        (a["unique_id"], b["unique_id"]) for a, b in pairs
    ]
    for got in first:  # exactly the scorer's numbers, whatever order it answered in
        want = fresh[got["unique_id_l"], got["unique_id_r"]]
        assert (got["match_probability"], got["match_weight"]) == (
            want["match_probability"],
            want["match_weight"],
        )
    assert memo.score(pairs, counted) == first
    assert asked == [len(pairs)]  # the second time, no call at all
    # one record changed, and one name's frequency moved: only the pairs with those rows are scored again
    changed = {0: rows[0] | {"mobile": "13912345678"}, 3: rows[3] | {"tf_name_py": 0.2}}
    again = [(changed.get(a["unique_id"], a), changed.get(b["unique_id"], b)) for a, b in pairs]
    memo.score(again, counted)
    assert asked[1] == sum(1 for a, b in pairs if {a["unique_id"], b["unique_id"]} & {0, 3})
    assert memo.stats.hits == len(pairs) + len(pairs) - asked[1]
    small = ScoreMemo(size=5)  # bounded: the oldest pairs go
    small.score(pairs, counted)
    assert len(small.scores) == 5


def _world_rows(world: Any) -> list[dict[str, Any]]:
    """The world's parties as the follower gives them to the scorer: features and term frequencies."""
    from matching.splink_model import TF_COLUMNS
    from store import match_keys
    from store.engine import create_store_engine
    from store.tables import PartyMatchKeyRow

    engine = create_store_engine(f"sqlite:///{world}")
    try:
        with Session(engine) as session:
            rows = match_keys.by_ids(session, session.scalars(select(PartyMatchKeyRow.record_id)).all())
            for column in TF_COLUMNS:
                counted = match_keys.term_frequencies(session, column, [r[column] for r in rows],
                                                      match_keys.indexed_with(session, column))  # fmt: skip
                for row in rows:
                    row[f"tf_{column}"] = counted.get(row[column]) if row[column] else None
    finally:
        engine.dispose()
    return rows


def test_the_model_scores_a_pair_the_same_whichever_record_is_on_the_left(world: Any) -> None:
    """The follower scores a batch's pairs lower id first and takes the neighbourhood's from the memo: that is
    the record-at-a-time result only while every comparison is symmetric — a new comparison must keep it so."""
    from matching.neighbourhood import blocked_pairs

    pairs = blocked_pairs(_world_rows(world))
    assert len(pairs) > 200
    scorer = PairScorer(load_model(MatchingConfig().model))
    ahead = {(p["unique_id_l"], p["unique_id_r"]): p["match_weight"] for p in scorer.score_pairs(pairs)}
    behind = {(p["unique_id_r"], p["unique_id_l"]): p["match_weight"]
              for p in scorer.score_pairs([(b, a) for a, b in pairs])}  # fmt: skip
    assert ahead == behind


def test_the_prepared_scorer_gives_splinks_own_numbers_in_every_mode(world: Any) -> None:
    """The scorer runs Splink's SQL on tables of its own (PairScorer): a real world's pairs, scored in each mode
    and again with fewer rows (the tables are refilled, not added to), equal ``compare_records``' exactly."""
    from splink import DuckDBAPI
    from splink.internals.realtime import compare_records

    from matching.neighbourhood import blocked_pairs
    from matching.splink_model import SCORED, scoring_table

    model = load_model(MatchingConfig().model)
    rows = _world_rows(world)
    pairs = blocked_pairs(rows)

    def splink(left: list[dict[str, Any]], right: list[dict[str, Any]], condition: str) -> dict[Any, Any]:
        result = compare_records(scoring_table(left), scoring_table(right), model, DuckDBAPI(),
                                 join_condition=condition)  # fmt: skip
        found = result.as_duckdbpyrelation().project(", ".join(SCORED)).fetchall()
        return {(row[0], row[1]): tuple(row) for row in found}

    def ours(scored: list[dict[str, Any]]) -> dict[Any, Any]:
        return {(p["unique_id_l"], p["unique_id_r"]): tuple(p[c] for c in SCORED) for p in scored}

    scorer = PairScorer(model)
    for size in (len(pairs), 7):  # the second call must not see the first call's rows
        some = pairs[:size]
        wanted = splink([a for a, _ in some], [b for _, b in some], "1=1")
        assert ours(scorer.score_pairs(some)) == {(a["unique_id"], b["unique_id"]): wanted[a["unique_id"], b["unique_id"]]
                                                  for a, b in some}  # fmt: skip
    few = rows[:12]
    assert ours(scorer.score(few[:5], few[5:])) == splink(few[:5], few[5:], "1=1")
    within = ours(scorer.score_within(few))
    assert len(within) == 66
    assert within == splink(few, few, "l.unique_id < r.unique_id")


def test_the_memo_refuses_one_pair_of_ids_twice_in_a_call() -> None:
    """Scores come back by their ids: the same ids twice (two versions of one record) would swap scores."""
    from matching.score_memo import ScoreMemo

    blank: dict[str, Any] = dict.fromkeys(FEATURE_COLUMNS)
    a, b = blank | {"unique_id": 1, "name_py": "li na"}, blank | {"unique_id": 2, "name_py": "li na"}
    scorer = PairScorer(load_model(MatchingConfig().model))
    with pytest.raises(ValueError, match="give each once"):
        ScoreMemo(size=10).score([(a, b), (a, b | {"mobile": "13900000000"})], scorer.score_pairs)
