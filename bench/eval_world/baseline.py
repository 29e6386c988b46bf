"""A PLAIN Splink 5 model on the same raw extract columns (only strip and lower-case), trained unsupervised:
u by random sampling, m by EM; clusters at match probability 0.9."""

from __future__ import annotations

import logging
from typing import Any

from bench.eval_world.records import COLUMNS, RawParty


def splink_clusters(parties: dict[tuple[str, str], RawParty], seed: int = 1) -> dict[tuple[str, str], str]:
    import pandas as pd
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    logging.getLogger("splink").setLevel(logging.ERROR)
    refs = list(parties)
    table: list[dict[str, Any]] = []
    for n, ref in enumerate(refs):
        values = {c: (parties[ref].values.get(c) or "").strip().lower() or None for c in COLUMNS}
        table.append({"uid": n, **values})
    frame = pd.DataFrame(table)
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="uid",
        blocking_rules_to_generate_predictions=[
            block_on("phone"), block_on("id_no"), block_on("vin"), block_on("email"), block_on("name"),
            block_on("phone2"),
        ],
        comparisons=[
            cl.JaroWinklerAtThresholds("name", [0.92, 0.8]).configure(term_frequency_adjustments=True),
            cl.ExactMatch("phone").configure(term_frequency_adjustments=True),
            cl.ExactMatch("phone2").configure(term_frequency_adjustments=True),
            cl.ExactMatch("id_no"),
            cl.ExactMatch("email"),
            cl.LevenshteinAtThresholds("address", [3, 8]),
            cl.ExactMatch("vin").configure(term_frequency_adjustments=True),
        ],
    )  # fmt: skip
    db_api = DuckDBAPI()
    linker = Linker(db_api.register(frame), settings)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("id_no"), block_on("phone", "name")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=seed)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("name"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("phone"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("vin"))
    predictions = linker.inference.predict(threshold_match_probability=0.9)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, 0.9)
    out = clusters.as_pandas_dataframe()
    return {refs[int(uid)]: f"S{cid}" for uid, cid in zip(out["uid"], out["cluster_id"], strict=True)}
