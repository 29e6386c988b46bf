"""Independent evaluation of golden-record matching (issue 15): a synthetic world with five invented source
layouts (bench/eval_world), loaded through the hub's own mappings, loader and full matching job, scored
against the ground truth and against a plain Splink 5 model on the same raw columns.

    python bench/match_eval.py [--world PACKAGE] [--seed N] [--scale F] [--keep DIR] [--examples N]

A world is a package under bench/ (``eval_world`` by default) that exposes ``generate(seed, scale)`` → (world,
``Extracts``), ``MAPPINGS_DIR`` (its YAML mappings) and ``raw_parties(extracts)`` (the raw columns a plain
Splink user would take); its world has ``persons``, ``orgs``, ``cars`` (``vin``, ``owners[-1].entity``,
``resold``, ``dealer_only_resale``) and ``kind(entity)``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import importlib

from bench.eval_world.baseline import splink_clusters
from bench.eval_world.extract import Extracts
from bench.eval_world.hub import HubResult, payload_key, run_hub
from bench.eval_world.metrics import misses, pairwise, plurality
from bench.eval_world.records import RawParty


def owner_accuracy(world: Any, truth: dict[tuple[str, str], str], hub: HubResult) -> dict[str, Any]:
    owner_of = plurality(hub.party_golden, truth)
    result: dict[str, Any] = {}
    wrong: list[dict[str, Any]] = []
    for label, cars in (("all", [c for c in world.cars if c.owners]), ("resold", [c for c in world.cars if c.resold]),
                        ("resold_seen_only_at_dealer", [c for c in world.cars if c.dealer_only_resale])):  # fmt: skip
        right = 0
        for car in cars:
            golden = hub.owners.get(car.vin)
            ok = golden is not None and owner_of.get(golden) == car.owners[-1].entity
            right += ok
            if not ok and label == "all":  # each wrong car once; split into resold and not below
                wrong.append({"vin": car.vin, "true_owner": car.owners[-1].entity, "hub_owner_is": owner_of.get(golden or "", golden),
                              "owners": [o.entity for o in car.owners], "dealer_only": car.dealer_only_resale})  # fmt: skip
        result[label] = {"cars": len(cars), "right": right, "accuracy": right / len(cars) if cars else 1.0}
    result["examples_wrong_resold"] = [w for w in wrong if len(w["owners"]) > 1][:5]
    result["examples_wrong_not_resold"] = [w for w in wrong if len(w["owners"]) == 1][:5]
    result["cars_without_golden_vehicle"] = sum(1 for c in world.cars if c.owners and c.vin not in hub.owners)
    return result


def quarantine_stats(extracts: Extracts, hub: HubResult) -> dict[str, Any]:
    rows = {(r.source, r.stream, payload_key(r.payload)): r for r in extracts.rows}
    clean, dirty, unknown = 0, 0, 0
    reasons: Counter[str] = Counter()
    clean_reasons: Counter[str] = Counter()
    for source, stream, payload, reason in hub.quarantined:
        row = rows.get((source, stream, payload))
        reasons[f"{source}:{reason}"] += 1
        if row is None:
            unknown += 1
        elif row.clean:
            clean += 1
            clean_reasons[f"{source}:{reason}"] += 1
        else:
            dirty += 1
    party_rows = [r for r in extracts.rows if r.parties]
    return {"quarantined": len(hub.quarantined), "clean_quarantined": clean, "dirty_quarantined": dirty,
            "unmatched_rows": unknown, "clean_rows": sum(r.clean for r in extracts.rows), "rows": len(extracts.rows),
            "party_rows_clean": sum(r.clean for r in party_rows), "reasons": dict(reasons.most_common()),
            "clean_reasons": dict(clean_reasons.most_common())}  # fmt: skip


def _examples(predicted: dict[tuple[str, str], str], truth: dict[tuple[str, str], str],
              raw: dict[tuple[str, str], RawParty], limit: int) -> dict[str, list[str]]:  # fmt: skip
    splits, merges = misses(predicted, truth, limit)
    return {"false_splits": [f"{raw[a].shown()}\n      ≠ {raw[b].shown()}" for a, b in splits],
            "false_merges": [f"{raw[a].shown()}\n      = {raw[b].shown()}" for a, b in merges]}  # fmt: skip


def _table(figures: dict[str, Any]) -> str:
    lines = [f"{'':26}{'precision':>10}{'recall':>9}{'F1':>8}{'true pairs':>12}{'pred pairs':>12}"]
    for system in ("hub", "splink"):
        for kind in ("all", "person", "organisation"):
            s = figures[system][kind]
            lines.append(f"{system + ' ' + kind:26}{s['precision']:>10.4f}{s['recall']:>9.4f}{s['f1']:>8.4f}"
                         f"{s['true_pairs']:>12,}{s['predicted_pairs']:>12,}")  # fmt: skip
    o, q = figures["owner"], figures["quarantine"]
    for label in ("all", "resold", "resold_seen_only_at_dealer"):
        lines.append(
            f"current owner right, {label:28} {o[label]['right']:>6,} / {o[label]['cars']:<6,} = {o[label]['accuracy']:.4f}"
        )
    lines.append(f"quarantined records: {q['quarantined']:,}, of which clean in the truth: {q['clean_quarantined']:,} "
                 f"(dirty {q['dirty_quarantined']:,}, not matched to a row {q['unmatched_rows']:,})")  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--world", default="eval_world", help="a world package under bench/")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--keep", type=Path, help="keep the extracts, the store and figures.json here")
    parser.add_argument("--examples", type=int, default=6)
    parser.add_argument("--no-splink", action="store_true", help="skip the Splink baseline")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    package = importlib.import_module(f"bench.{args.world}")
    world, extracts = package.generate(args.seed, args.scale)
    truth = extracts.party_truth()
    kinds = {e: world.kind(e) for e in set(truth.values())}
    raw: dict[tuple[str, str], RawParty] = package.raw_parties(extracts)
    print(f"world: {len(world.persons):,} persons, {len(world.orgs):,} organisations, {len(world.cars):,} cars "
          f"({sum(c.resold for c in world.cars):,} resold); {len(extracts.rows):,} raw rows, {len(truth):,} party records")  # fmt: skip
    seconds: dict[str, float] = {"generate": time.perf_counter() - started}
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        if args.keep:
            extracts.write(folder / "extracts")
        hub = run_hub(extracts, folder, package.MAPPINGS_DIR, on_step=lambda s: print(f"  · {s}", flush=True))
    seconds |= hub.seconds
    print(hub.match_summary)
    figures: dict[str, Any] = {
        "world": args.world,
        "seed": args.seed,
        "scale": args.scale,
        "records": len(truth),
        "rows": len(extracts.rows),
    }
    figures["hub"] = {
        k or "all": pairwise(hub.party_golden, truth, kinds, k).as_dict()
        for k in (None, "person", "organisation")
    }
    if args.no_splink:
        figures["splink"] = {
            k: {"precision": 0, "recall": 0, "f1": 0, "true_pairs": 0, "predicted_pairs": 0}
            for k in ("all", "person", "organisation")
        }
    else:
        t = time.perf_counter()
        baseline = splink_clusters(raw)
        seconds["splink"] = time.perf_counter() - t
        figures["splink"] = {
            k or "all": pairwise(baseline, truth, kinds, k).as_dict()
            for k in (None, "person", "organisation")
        }
    figures["owner"] = owner_accuracy(world, truth, hub)
    figures["quarantine"] = quarantine_stats(extracts, hub)
    figures["load"] = hub.load_reports
    figures["hub_examples"] = _examples(hub.party_golden, truth, raw, args.examples)
    figures["missing_in_truth"] = sum(1 for ref in hub.party_golden if ref not in truth)
    seconds["total"] = time.perf_counter() - started
    figures["seconds"] = seconds
    print()
    print(_table(figures))
    print(
        "quarantine reasons:",
        ", ".join(f"{k} {v}" for k, v in list(figures["quarantine"]["reasons"].items())[:12]),
    )
    print("clean rows quarantined by reason:", figures["quarantine"]["clean_reasons"])
    print("time:", ", ".join(f"{k} {v:.1f} s" for k, v in seconds.items()))
    for label, items in figures["hub_examples"].items():
        print(f"\nhub {label.replace('_', ' ')} (examples):")
        for item in items:
            print("  -", item)
    for key, title in (
        ("examples_wrong_resold", "resold cars"),
        ("examples_wrong_not_resold", "cars never resold"),
    ):
        if figures["owner"][key]:
            print(f"\n{title} with the wrong current owner (examples):")
            for item in figures["owner"][key]:
                print("  -", item)
    if args.keep:
        (args.keep / "figures.json").write_text(
            json.dumps(figures, ensure_ascii=False, indent=2), encoding="utf-8"
        )
        print(f"\nfigures written to {args.keep / 'figures.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
