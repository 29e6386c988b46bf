"""Why two records are (or are not) the same customer: the model's waterfall for one pair, in words.

Each comparison contributes a match weight (log2 of how much likelier the observed agreement is among true
matches than among random pairs), adjusted for how common the value is; the prior and the contributions add
up to the pair's match weight, and the weight gives the probability. Term frequencies come from the whole
store, as in a matching run, so the explanation shows what the run saw.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from core.errors import HubError
from matching.config import MatchingConfig
from matching.features import features_from_store
from matching.splink_model import load_model, new_linker

COMPARISONS = ("name", "id_hash", "mobile", "birth_date", "email", "address_key", "region", "vins", "gender")
WORDS = {"name": "name", "id_hash": "resident ID / USCC", "mobile": "mobile", "birth_date": "birth date",
         "email": "e-mail", "address_key": "address", "region": "region", "vins": "cars", "gender": "gender"}  # fmt: skip


class UnknownRecord(HubError):
    """The record named is not a canonical party in the store."""


@dataclass(frozen=True)
class Contribution:
    comparison: str
    level: str
    weight: float  # match weight, term-frequency adjustment included


@dataclass(frozen=True)
class PairExplanation:
    left: str
    right: str
    prior_weight: float
    contributions: list[Contribution]
    match_weight: float
    match_probability: float

    def lines(self) -> list[str]:
        out = [
            f"{self.left} ~ {self.right}",
            f"  {'prior (two random records match)':<51}{self.prior_weight:+6.2f}",
        ]
        for c in self.contributions:
            out.append(f"  {WORDS[c.comparison]:<18} {c.level:<32}{c.weight:+6.2f}")
        out.append(f"  = match weight {self.match_weight:+.2f} → probability {self.match_probability:.4f}")
        return out


def _levels(model: dict[str, Any]) -> dict[tuple[str, int], str]:
    """(comparison, gamma) → the level's label, from the model JSON."""
    labels: dict[tuple[str, int], str] = {}
    for comparison in model["comparisons"]:
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        for gamma, level in zip(range(len(levels) - 1, -1, -1), levels, strict=True):
            labels[(comparison["output_column_name"], gamma)] = str(level.get("label_for_charts", ""))
    return labels


def explain_pair(
    sessions: sessionmaker[Session], config: MatchingConfig, left: str, right: str
) -> PairExplanation:
    """``left``/``right`` as ``source/entity_key`` of canonical party records."""
    with sessions() as session:
        features = features_from_store(session, shared_min_names=config.shared_identifier_min_names)
    rows = {f"{r['source']}/{r['entity_key']}": r for r in features.rows}
    missing = [name for name in (left, right) if name not in rows]
    if missing:
        raise UnknownRecord(f"no party record {', '.join(missing)} in the store", fix="write it as source/key, e.g. erp/C00000042")  # fmt: skip
    model = load_model(config.model)
    model["retain_intermediate_calculation_columns"] = True  # the per-comparison weights
    linker = new_linker(features.rows, model)
    for column in ("name_py", "mobile"):
        linker.table_management.compute_tf_table(column)
    scored = linker.inference.score_pair(rows[left], rows[right]).as_record_list()[0]
    labels = _levels(model)
    contributions = []
    for name in COMPARISONS:
        gamma = int(scored[f"gamma_{name}"])
        weight = float(scored.get(f"mw_{name}") or 0.0) + float(scored.get(f"mw_tf_adj_{name}") or 0.0)
        level = "no value on one side" if gamma == -1 else labels.get((name, gamma), f"level {gamma}")
        contributions.append(Contribution(name, level, weight))
    total = float(scored["match_weight"])
    prior = total - sum(c.weight for c in contributions)
    return PairExplanation(left, right, prior, contributions, total, float(scored["match_probability"]))


@dataclass(frozen=True)
class GoldenExplanation:
    golden_id: str
    status: str
    merged_into: str | None
    members: list[tuple[str, str, float | None]]  # "source/key", how it was linked, match weight
    attributes: list[tuple[str, str, str]]  # attribute, "source/key" it came from, survivorship rule

    def lines(self) -> list[str]:
        if self.merged_into:
            return [f"{self.golden_id} was merged into {self.merged_into}: explain that one"]
        out = [f"{self.golden_id} ({self.status}), {len(self.members)} member records:"]
        for label, method, weight in self.members:
            how = {"deterministic": "same resident ID / USCC", "manual": "a steward's decision",
                   "singleton": "alone", "probabilistic": "the model"}.get(method, method)  # fmt: skip
            out.append(
                f"  {label:<28} {how}" + (f" (match weight {weight:+.1f})" if weight is not None else "")
            )
        out.append("attributes (from which record, by which survivorship rule):")
        out.extend(f"  {attribute:<18} {label:<28} {rule}" for attribute, label, rule in self.attributes)
        out.append("why two members are one customer: autohub match explain SOURCE/KEY SOURCE/KEY")
        return out


def explain_golden(session: Session, golden_id: str) -> GoldenExplanation:
    """A golden record's members with how each was linked, and the origin of each attribute (lineage)."""
    from store.golden import members_and_lineage
    from store.tables import GoldenRecordRow

    golden = session.get(GoldenRecordRow, golden_id)
    if golden is None:
        raise UnknownRecord(
            f"no golden record {golden_id}", fix="take the id from `autohub match run` or the API"
        )
    members, attributes = members_and_lineage(session, golden_id)
    return GoldenExplanation(golden_id, golden.status, golden.merged_into, members, attributes)
