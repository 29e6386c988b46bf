"""The probabilistic model (Splink, Fellegi-Sunter): comparisons and blocking built for Chinese automotive data.

Why these comparisons:
- Names are compared on the canonical forms — simplified characters, then the surname-first pinyin key
  (which also meets 张伟 / 張偉 / "Wei Zhang" / a homophone typo) — each exact level with term-frequency
  adjustment: 王/李/张 are ~7 % of people each, and 王伟 is shared by hundreds of thousands, so agreeing on a
  common name is weak evidence and agreeing on a rare one strong.
- The mobile is E.164 with TF adjustment; numbers many names share were already withdrawn (features.py).
- The resident-ID/USCC hash is near-certain evidence (it also links deterministically, see deterministic.py).
- Birth date exact / same month, region exact / same city, e-mail, gender, and the cars a party is linked to.
Blocking keeps the candidate pairs near-linear: ID hash, mobile, e-mail, a shared VIN, pinyin + city,
pinyin + birth date. The trained parameters are saved as JSON (``models/party.json``) and reused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

from matching.features import FEATURE_COLUMNS

MODEL_VERSION = "party-v1"
DEFAULT_MODEL_PATH = Path(__file__).parent / "models" / "party.json"


def _name_comparison() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="name",
        comparison_levels=[
            cll.CustomLevel(
                "(name_py_l IS NULL AND org_name_l IS NULL) OR (name_py_r IS NULL AND org_name_r IS NULL)"
            ).configure(is_null_level=True),
            cll.ExactMatchLevel("org_name").configure(label_for_charts="organisation name exact"),
            cll.ExactMatchLevel("name_cn").configure(
                tf_adjustment_column="name_cn", tf_adjustment_weight=1.0
            ),
            cll.ExactMatchLevel("name_py").configure(
                tf_adjustment_column="name_py", tf_adjustment_weight=1.0
            ),
            cll.JaroWinklerLevel("name_py", 0.92),
            cll.And(cll.ExactMatchLevel("surname_py"), cll.JaroWinklerLevel("given_py", 0.8)),
            cll.ElseLevel(),
        ],
    )


def _region_comparison() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="region",
        comparison_levels=[
            cll.NullLevel("region"),
            cll.ExactMatchLevel("region"),
            cll.ExactMatchLevel("city"),
            cll.ElseLevel(),
        ],
    )


def _birth_comparison() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="birth_date",
        comparison_levels=[
            cll.NullLevel("birth_date"),
            cll.ExactMatchLevel("birth_date"),
            cll.ExactMatchLevel("birth_year_month"),
            cll.ElseLevel(),
        ],
    )


PREDICTION_BLOCKING = (
    block_on("id_hash"),
    block_on("mobile"),
    block_on("email"),
    block_on("vins", arrays_to_explode=["vins"]),
    block_on("name_py", "city"),
    block_on("name_py", "birth_date"),
    block_on("org_name"),
)


def settings() -> SettingsCreator:
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=[
            _name_comparison(),
            cl.ExactMatch("id_hash"),
            cl.ExactMatch("mobile").configure(term_frequency_adjustments=True),
            _birth_comparison(),
            cl.ExactMatch("email"),
            _region_comparison(),
            cl.ArrayIntersectAtSizes("vins", [1]),
            cl.ExactMatch("gender"),
        ],
        blocking_rules_to_generate_predictions=list(PREDICTION_BLOCKING),
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )


def to_arrow(rows: list[dict[str, Any]]) -> pa.Table:
    schema = pa.schema([(c, pa.int64() if c == "unique_id" else pa.list_(pa.string()) if c == "vins" else pa.string())
                        for c in FEATURE_COLUMNS])  # fmt: skip
    return pa.Table.from_pylist([{c: r[c] for c in FEATURE_COLUMNS} for r in rows], schema=schema)


def new_linker(
    rows: list[dict[str, Any]], model: Path | dict[str, Any] | SettingsCreator | None = None
) -> Linker:
    """A linker over ``rows`` on an in-memory DuckDB; ``model`` a saved JSON (path or dict) or fresh settings."""
    api = DuckDBAPI()
    frame = api.register(to_arrow(rows), table_name="parties")
    chosen: Any = model if model is not None else settings()
    if isinstance(chosen, Path):
        chosen = str(chosen)
    return Linker(frame, chosen)


def train(linker: Linker, *, max_pairs: float = 2e6, seed: int = 1) -> None:
    """Unsupervised: λ from the ID-hash rule, u by random sampling, m by EM in two blocked sessions."""
    training = linker.training
    training.estimate_probability_two_random_records_match([block_on("id_hash")], recall=0.6)
    training.estimate_u_using_random_sampling(max_pairs=max_pairs, seed=seed)
    training.estimate_parameters_using_expectation_maximisation(block_on("mobile"), fix_u_probabilities=True)
    training.estimate_parameters_using_expectation_maximisation(
        block_on("name_py", "city"), fix_u_probabilities=True
    )
