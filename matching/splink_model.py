"""The probabilistic model (Splink, Fellegi-Sunter): comparisons and blocking built for Chinese automotive data.

Why these comparisons:
- Names are compared on the canonical surname-first pinyin key (built from simplified characters, so it
  meets 张伟 / 張偉 / "Wei Zhang" / a homophone typo), the exact level with term-frequency adjustment: 王/李/张 are ~7 % of people each, and 王伟 is shared by hundreds of thousands, so agreeing on a
  common name is weak evidence and agreeing on a rare one strong.
- The mobile is E.164 with TF adjustment; numbers many names share were already withdrawn (features.py).
- The resident-ID/USCC hash is near-certain evidence (it also links deterministically: clustering.deterministic_edges).
- Birth date exact / same month, region exact / same city, e-mail, the street address (house and flat, without
  its divisions), gender, and the cars a party is linked to.
Blocking keeps the candidate pairs near-linear: ID hash, mobile, e-mail, a shared VIN, pinyin + city,
pinyin + birth date, organisation name, surname + address. The trained parameters are saved as JSON (``models/party.json``) and reused.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import pyarrow as pa
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on
from splink.internals.realtime import compare_records

from core.errors import ConfigError
from matching.features import FEATURE_COLUMNS

NAME_NULL = (
    "(name_py_l IS NULL AND org_name_l IS NULL AND NOT coalesce(title_form_l, false))"
    " OR (name_py_r IS NULL AND org_name_r IS NULL AND NOT coalesce(title_form_r, false))"
)
TITLE_SAME_SURNAME = (
    "(coalesce(title_form_l, false) OR coalesce(title_form_r, false)) AND surname_py_l = surname_py_r"
)
# No two different places and no two different branches (the place is unknown on one side, or the same).
_ORG_SAME_ESTABLISHMENT = (
    " AND (org_place_l IS NULL OR org_place_r IS NULL OR org_place_l = org_place_r)"
    " AND coalesce(org_branch_l, '') = coalesce(org_branch_r, '')"
)
ORG_SAME_NAME = "org_name_l = org_name_r" + _ORG_SAME_ESTABLISHMENT
_NOT_CHINESE = "NOT coalesce(chinese_name_l, false) AND NOT coalesce(chinese_name_r, false)"
# A company called by its short name (远航出行 on the hotline, 万豪五金 at the dealer) beside its registered one
# (武汉远航出行科技有限公司 → 远航出行科技): one name begins with the other, of at least four characters, in no two
# places and no two branches. Weaker than the same name — hand-set m 0.05 / u 1e-5 (matching/models/party.json) —
# so it links only with a phone, a car or an address beside it.
ORG_NAME_PREFIX = (
    "org_name_l <> org_name_r"
    " AND ((starts_with(org_name_l, org_name_r) AND length(org_name_r) >= 4)"
    " OR (starts_with(org_name_r, org_name_l) AND length(org_name_l) >= 4))" + _ORG_SAME_ESTABLISHMENT
)


def _name_comparison() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="name",
        comparison_levels=[
            cll.CustomLevel(NAME_NULL).configure(is_null_level=True),
            # The same trade name + industry, in no two different places and no two different branches:
            # 杭州某某 and 宁波某某 are two companies, 某某有限公司 and its 杭州分公司 two establishments.
            cll.CustomLevel(ORG_SAME_NAME).configure(label_for_charts="organisation name exact"),
            cll.CustomLevel(ORG_NAME_PREFIX).configure(label_for_charts="organisation short name"),
            # One "same name" level on the pinyin key: 张伟, 張偉 and "Wei Zhang" all agree here. A separate
            # level for identical characters would learn a small m (most matches land on it first) and leave
            # pinyin-only sources (DMS leads) with a fraction of the evidence the same name deserves.
            cll.ExactMatchLevel("name_py").configure(
                tf_adjustment_column="name_py", tf_adjustment_weight=1.0
            ),
            # "Fang Hou" typed Western-style where 方 and 侯 are both surnames: the parse cannot know the order.
            cll.ColumnsReversedLevel("surname_py", "given_py", symmetrical=True).configure(
                label_for_charts="name, order swapped"
            ),
            # Typo-tolerant levels only where neither name is Chinese: 刘洋 and 刘刚 ("liu yang", "liu gang") are
            # two people however close the letters — the pinyin syllables of a Chinese name agree or it is
            # another name — while "Emilie Brown" is likely "Emily Brown" mistyped.
            cll.And(cll.CustomLevel(_NOT_CHINESE), cll.JaroWinklerLevel("name_py", 0.92)).configure(
                label_for_charts="similar non-Chinese name"
            ),
            cll.And(
                cll.CustomLevel(_NOT_CHINESE),
                cll.ExactMatchLevel("surname_py"),
                cll.JaroWinklerLevel("given_py", 0.8),
            ).configure(label_for_charts="same surname, similar given name (non-Chinese)"),
            # 王先生 beside 王伟: the surname agrees and says little; with a shared phone or car it decides.
            cll.CustomLevel(TITLE_SAME_SURNAME).configure(label_for_charts="title form, same surname"),
            cll.ElseLevel(),
        ],
    )


# Two phones of the same length differing in one digit under the same full name, neither a shared number bound
# to a name (those carry no head): a typist's slip on one of two records of one customer. Under two names it is
# no evidence at all — a family's or a company's numbers are neighbours (沈建国 …0021, 沈建军 …0022 at one
# address), and a title form (沈先生) beside both would bridge them. Its m and u are set by hand
# (matching/models/party.json): EM sees the level too rarely to learn it.
MOBILE_ONE_DIGIT_OFF = (
    'mobile_head_l IS NOT NULL AND mobile_head_r IS NOT NULL AND length("mobile_l") = length("mobile_r") '
    'AND hamming("mobile_l", "mobile_r") = 1 AND "name_py_l" = "name_py_r"'
)


def _mobile_comparison() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="mobile",
        comparison_levels=[
            cll.NullLevel("mobile"),
            cll.ExactMatchLevel("mobile", term_frequency_adjustments=True),
            cll.CustomLevel(MOBILE_ONE_DIGIT_OFF).configure(label_for_charts="one digit off"),
            cll.ElseLevel(),
        ],
    )


# A car both records name, where at least one of them has the VIN only from a repair (an O read as 0 whose check
# digit then passes, the one known car a dealer's partial VIN ends with): safe repairs, but a repair can be wrong
# where a VIN written right cannot, so the level weighs less. Hand-set (matching/models/party.json): m 0.01,
# u 2e-5, a Bayes factor of 500 against ~5 600 for a car both wrote right.
VINS_SHARED_WRITTEN_RIGHT = 'array_length(list_intersect("vins_sure_l", "vins_sure_r")) >= 1'
VINS_SHARED = 'array_length(list_intersect("vins_l", "vins_r")) >= 1'


def _vins_comparison() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="vins",
        comparison_levels=[
            cll.NullLevel("vins"),
            cll.CustomLevel(VINS_SHARED_WRITTEN_RIGHT).configure(label_for_charts="a car both wrote right"),
            cll.CustomLevel(VINS_SHARED).configure(label_for_charts="a car, through a repaired VIN"),
            cll.ElseLevel(),
        ],
    )


def _exact_then_coarser(column: str, coarser: str) -> cl.CustomComparison:
    """Exact agreement, then agreement on a coarser key: region then city, birth date then birth month."""
    return cl.CustomComparison(
        output_column_name=column,
        comparison_levels=[
            cll.NullLevel(column),
            cll.ExactMatchLevel(column),
            cll.ExactMatchLevel(coarser),
            cll.ElseLevel(),
        ],
    )


# The prediction blocking rules as column groups: the full run hands them to Splink; the incremental matcher
# looks the same keys up in the store's key index (store/match_keys.candidates) and checks pairs here.
BLOCKING_KEYS: tuple[tuple[str, ...], ...] = (
    ("id_hash",), ("mobile",), ("email",), ("vins",), ("name_py", "city"), ("name_py", "birth_date"), ("org_name",),
    ("surname_py", "address_key"), ("surname_py", "mobile_head"), ("surname_py", "mobile_tail"),
)  # fmt: skip
PREDICTION_BLOCKING = tuple(
    block_on(*key, arrays_to_explode=["vins"]) if key == ("vins",) else block_on(*key)
    for key in BLOCKING_KEYS
)


def blocking_values(row: dict[str, Any]) -> set[tuple[Any, ...]]:
    """The blocking keys a row carries, each as (key, its values): two rows sharing one would be put before the
    model by a full run's blocking (one per car for the shared-VIN key)."""
    values: set[tuple[Any, ...]] = set()
    for key in BLOCKING_KEYS:
        if key == ("vins",):
            values.update((key, vin) for vin in row.get("vins") or ())
        elif all(row.get(column) for column in key):
            values.add((key, *(row[column] for column in key)))
    return values


def blocked_together(left: dict[str, Any], right: dict[str, Any]) -> bool:
    """Would a full run's blocking have put this pair before the model? (Only such pairs become edges.)"""
    return not blocking_values(left).isdisjoint(blocking_values(right))


def settings() -> SettingsCreator:
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=[
            _name_comparison(),
            cl.ExactMatch("id_hash"),
            _mobile_comparison(),
            _exact_then_coarser("birth_date", "birth_year_month"),
            cl.ExactMatch("email"),
            cl.ExactMatch("address_key"),
            _exact_then_coarser("region", "city"),
            _vins_comparison(),
            cl.ExactMatch("gender"),
        ],
        blocking_rules_to_generate_predictions=list(PREDICTION_BLOCKING),
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )


def to_arrow(rows: list[dict[str, Any]]) -> pa.Table:
    types = {"unique_id": pa.int64(), "vins": pa.list_(pa.string()), "vins_sure": pa.list_(pa.string()),
             "chinese_name": pa.bool_(), "title_form": pa.bool_()}  # fmt: skip
    schema = pa.schema([(c, types.get(c, pa.string())) for c in FEATURE_COLUMNS])
    return pa.Table.from_pylist([{c: r[c] for c in FEATURE_COLUMNS} for r in rows], schema=schema)


TF_COLUMNS = ("name_py", "mobile")  # the comparisons with term-frequency adjustment (see settings())


def scoring_table(rows: list[dict[str, Any]]) -> pa.Table:
    """Feature rows plus their term frequencies (``tf_name_py``, ``tf_mobile``), typed, for ``PairScorer``."""
    table = to_arrow(rows)
    for column in TF_COLUMNS:
        table = table.append_column(
            f"tf_{column}", pa.array([r.get(f"tf_{column}") for r in rows], pa.float64())
        )
    return table


SCORED = (
    "unique_id_l",
    "unique_id_r",
    "match_probability",
    "match_weight",
)  # what PairScorer gives of a pair


class PairScorer:
    """Scores given pairs with a trained model in milliseconds, for matching one record or one batch at a time.

    ``Linker.inference.score_pairs`` rebuilds its SQL through sqlglot on every call (~150 ms here); Splink's
    real-time module (``splink.internals.realtime.compare_records``, internal in Splink 5 — hence the pin
    ``splink<6``) caches the SQL but still registers both inputs as new views, materialises the result as a
    table and drops the three again: ~30 ms a call whatever its size, of which the query's own work is ~1 ms
    (a hundred pairs). So ``compare_records`` runs once per mode, to have Splink write the SQL; that SQL, with
    its two input tables renamed to tables of our own, is prepared once, and a call only refills the two
    tables and executes it (~15 ms). Same SQL, same model, so the same numbers (a test compares them with
    ``compare_records``'s). Term frequencies come in the rows. One scorer serves one thread.
    """

    MODES: ClassVar[dict[str, str]] = {  # each mode's join condition, in terms of Splink's ``l`` and ``r``
        "cross": "1=1", "within": "l.unique_id < r.unique_id", "pairs": "l.pair_no = r.pair_no",
    }  # fmt: skip

    def __init__(self, model: dict[str, Any]) -> None:
        self.api = DuckDBAPI()
        self.model = model
        placeholder: dict[str, Any] = dict.fromkeys(FEATURE_COLUMNS)
        pair = [placeholder | {"unique_id": 1}, placeholder | {"unique_id": 2}]
        for mode, condition in self.MODES.items():  # all three now (≈2 s), not on a record
            tables = self._tables(pair[:1], pair[1:], numbered=mode == "pairs")
            self._prepare(mode, tables, condition)

    def score(self, left: list[dict[str, Any]], right: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Every left × right pair (without blocking): ``unique_id_l/_r``, ``match_probability``, ``match_weight``."""
        return self._compare(left, right, "cross")

    def score_within(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Every pair among ``rows`` once (lower ``unique_id`` on the left), never a row with itself."""
        return self._compare(rows, rows, "within")

    def score_pairs(self, pairs: list[tuple[dict[str, Any], dict[str, Any]]]) -> list[dict[str, Any]]:
        """Exactly these pairs, in one call: a micro-batch's records against their own candidates, where a
        cross product of all records and all candidates would score mostly pairs no blocking key proposed."""
        if not pairs:
            return []
        left, right = zip(*pairs, strict=True)
        return self._compare(list(left), list(right), "pairs")

    @staticmethod
    def _tables(
        left: list[dict[str, Any]], right: list[dict[str, Any]], *, numbered: bool
    ) -> tuple[pa.Table, pa.Table]:
        """Both sides as Arrow; ``numbered`` (mode ``pairs``): the n-th left row meets the n-th right row only."""

        def number(table: pa.Table) -> pa.Table:
            return table.append_column("pair_no", pa.array(range(table.num_rows), pa.int64()))

        tables = scoring_table(left), scoring_table(right)
        return (number(tables[0]), number(tables[1])) if numbered else tables

    def _prepare(self, mode: str, tables: tuple[pa.Table, pa.Table], condition: str) -> None:
        """Our two tables of ``mode``, and Splink's SQL on them prepared as ``autohub_<mode>``."""
        con = self.api.duckdb_con
        names = (f"autohub_{mode}_left", f"autohub_{mode}_right")
        for name, table in zip(names, tables, strict=True):
            con.from_arrow(table).create(name)
        sql = splink_sql(self.api, self.model, names, condition)
        # the SQL is Splink's own for our model; the names are ours (MODES): nothing from a record is in it
        con.execute(f"PREPARE autohub_{mode} AS SELECT {', '.join(SCORED)} FROM ({sql})")  # noqa: S608

    def _compare(
        self, left: list[dict[str, Any]], right: list[dict[str, Any]], mode: str
    ) -> list[dict[str, Any]]:
        if not left or not right:
            return []
        con = self.api.duckdb_con
        for side, table in zip(
            ("left", "right"), self._tables(left, right, numbered=mode == "pairs"), strict=True
        ):
            con.execute(f"DELETE FROM autohub_{mode}_{side}")  # noqa: S608 (a name of ours, see MODES)
            con.from_arrow(table).insert_into(f"autohub_{mode}_{side}")
        found = con.execute(f"EXECUTE autohub_{mode}").fetchall()
        return [dict(zip(SCORED, row, strict=True)) for row in found]


def splink_sql(api: DuckDBAPI, model: dict[str, Any], names: tuple[str, str], condition: str) -> str:
    """The SQL Splink's ``compare_records`` writes for ``model`` and ``condition`` on the tables ``names`` (given
    by name, Splink registers nothing of its own for them); its result table is dropped again."""
    result = compare_records(names[0], names[1], model, api, join_condition=condition)
    sql = str(result.sql_used_to_create)
    api.delete_tables_created_by_splink_from_db()  # type: ignore[no-untyped-call]
    if any(name not in sql for name in names):  # a Splink that copies its inputs first: then this is wrong
        raise RuntimeError(f"Splink's compare_records SQL does not read {names}; see PairScorer")
    return sql


def load_model(path: Path) -> dict[str, Any]:
    """A trained model JSON as Splink settings (our provenance block removed); a clear error when it is missing."""
    if not path.exists():
        raise ConfigError(f"no trained matching model at {path}", field="AUTOHUB_MATCHING__MODEL_PATH",
                          fix="run `autohub match train` or point the setting at a model JSON")  # fmt: skip
    model: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    model.pop("autohub", None)  # our provenance block, not Splink's
    return model


def new_linker(rows: list[dict[str, Any]], model: dict[str, Any] | SettingsCreator | None = None) -> Linker:
    """A linker over ``rows`` on an in-memory DuckDB; ``model`` trained settings (``load_model``) or fresh ones."""
    api = DuckDBAPI()
    frame = api.register(to_arrow(rows), table_name="parties")
    return Linker(frame, model if model is not None else settings())


def train(linker: Linker, *, max_pairs: float = 2e6, seed: int = 1) -> None:
    """Unsupervised: λ from the ID-hash rule, u by random sampling, m by EM in two blocked sessions.

    The sessions block on the resident-ID/USCC hash (near-certain matches across ERP, finance, insurance and
    the portal: every other comparison's m is learnt from them) and on the mobile (which learns the ID's m).
    """
    training = linker.training
    training.estimate_probability_two_random_records_match([block_on("id_hash")], recall=0.6)
    training.estimate_u_using_random_sampling(max_pairs=max_pairs, seed=seed)
    training.estimate_parameters_using_expectation_maximisation(block_on("id_hash"), fix_u_probabilities=True)
    training.estimate_parameters_using_expectation_maximisation(block_on("mobile"), fix_u_probabilities=True)


# No single comparison may veto or prove a pair on its own: gender and birth dates are mistyped, and a level
# EM never observed must not stay at Splink's default. m is kept inside these bounds after training.
M_FLOOR, M_CEILING = 0.01, 0.99
UNTRAINED_M = {"mobile": 0.6, "birth_date": 0.3, "region": 0.3, "name": 0.05}
# People have several e-mails and several cars: two records that share none are not evidence of two people.
NEUTRAL_DISAGREEMENT = frozenset({"email", "vins"})


def sanitise(model: dict[str, Any]) -> dict[str, Any]:
    """Bound every trained m-probability and give untrained levels a prior (documented above).

    A level random sampling never hit (rare in the training data, e.g. similar non-Chinese names) gets the
    largest u of its comparison's agreeing levels, so it never weighs more than an exact agreement.
    """
    for comparison in model.get("comparisons", []):
        name = comparison["output_column_name"]
        levels = [lv for lv in comparison.get("comparison_levels", []) if not lv.get("is_null_level")]
        agreeing_u = [float(lv["u_probability"]) for lv in levels[:-1] if lv.get("u_probability")]
        for level in levels:
            if level.get("u_probability") is None and agreeing_u:
                level["u_probability"] = max(agreeing_u)
            m = level.get("m_probability")
            if m is None:
                m = UNTRAINED_M.get(name, 0.5)
            if name in NEUTRAL_DISAGREEMENT and level.get("label_for_charts") == "All other comparisons":
                m = level.get("u_probability") or m
            level["m_probability"] = min(max(float(m), M_FLOOR), M_CEILING)
    return model
