"""Pair scores remembered by what was compared, so a long-lived matcher does not score the same pair again.

Why: a micro-batch re-clusters every neighbourhood it touches, and a returning customer's neighbourhood is the
golden record's members — pairs the follower scored in the last batch that touched them, and the one before.
Splink's scoring was a quarter of the follower's time (before PairScorer prepared its SQL); most pairs are old ones.

A pair is known by a digest of both rows exactly as they go to the scorer — every feature, the record ids and
the term frequencies counted for them — in that order. The model's score is a function of those inputs only, so
a remembered score is the score a new call would give: a record that changed, or a name that grew more common,
is a new key and is scored afresh. The memo keeps the newest ``size`` pairs (least recently used go first).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from matching.splink_model import SCORED

Row = dict[str, Any]
Pair = tuple[Row, Row]
T = TypeVar("T")


def _digest(row: Row) -> bytes:
    return hashlib.blake2b(repr(sorted(row.items())).encode("utf-8"), digest_size=16).digest()


def once_each(make: Callable[[Row], T]) -> Callable[[Row], T]:
    """``make`` run once for each row object, however many pairs the row is in (by identity: for one call,
    while the rows are held)."""
    made: dict[int, T] = {}

    def of(row: Row) -> T:
        if id(row) not in made:
            made[id(row)] = make(row)
        return made[id(row)]

    return of


@dataclass
class MemoStats:
    hits: int = 0
    misses: int = 0


class ScoreMemo:
    def __init__(self, size: int) -> None:
        self.size = size
        self.scores: OrderedDict[bytes, tuple[float, float]] = OrderedDict()
        self.stats = MemoStats()

    def score(
        self, pairs: list[Pair], scorer: Callable[[list[Pair]], list[dict[str, Any]]]
    ) -> list[dict[str, Any]]:
        """``pairs`` scored, in their order, each as ``SCORED``; ``scorer`` is called once, for the pairs not
        remembered (not at all when every pair is). A pair of ids is given once a call (the micro-batch's pairs
        are: ``each_once``, ``blocked_pairs`` in matching/neighbourhood.py)."""
        digest = once_each(_digest)
        keys = [digest(a) + digest(b) for a, b in pairs] if self.size else [b""] * len(pairs)
        wanted = [n for n, key in enumerate(keys) if not self.size or key not in self.scores]
        # the scorer's rows come back in no promised order: found again by their two ids
        found = {(str(p["unique_id_l"]), str(p["unique_id_r"])): p
                 for p in (scorer([pairs[n] for n in wanted]) if wanted else [])}  # fmt: skip
        if len(found) != len(wanted):  # two pairs of one call with the same ids would take each other's score
            raise ValueError(
                f"{len(wanted)} pairs to score but {len(found)} distinct id pairs: give each once"
            )
        fresh = set(wanted)
        out: list[dict[str, Any]] = []
        for n, (left, right) in enumerate(pairs):
            if n in fresh:
                scored = found[str(left["unique_id"]), str(right["unique_id"])]
                probability, weight = float(scored["match_probability"]), float(scored["match_weight"])
                if self.size:
                    self.scores[keys[n]] = (probability, weight)
            else:
                probability, weight = self.scores[keys[n]]
                self.scores.move_to_end(keys[n])
            out.append(
                dict(zip(SCORED, (left["unique_id"], right["unique_id"], probability, weight), strict=True))
            )
        self.stats.hits += len(pairs) - len(fresh)
        self.stats.misses += len(fresh)
        while len(self.scores) > self.size:
            self.scores.popitem(last=False)
        return out
