"""Rich tables for the demo's summary: what came in, where it went, and why records were quarantined."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import make_url

from autohub.demo import DemoResult
from sample_data import DEFECTS_THAT_QUARANTINE

ENTITY_COLUMNS = {
    "party": "party", "vehicle": "vehicle", "vehicle_relationship": "role", "credit_profile": "credit",
    "insurance_policy": "policy", "service_event": "event", "consent": "consent",
}  # fmt: skip


def print_demo_report(console: Console, result: DemoResult) -> None:
    transports = Table("source", "came in through", title="Sources and their connectors")
    for source, transport in result.transports.items():
        transports.add_row(source, transport)
    console.print(transports)
    loads = Table("source", "in", "unchanged", "mapped", "partly mapped", "quarantined", "warnings", "balanced",
                  title="Records by source (balanced: raw = mapped + partly mapped + quarantined)")  # fmt: skip
    balanced = {r.source: r for r in result.reconciliation}
    for source, report in sorted(result.loads.items()):
        ok = balanced[source].balanced if source in balanced else False
        loads.add_row(
            source, f"{report.records_in:,}", f"{report.unchanged:,}", f"{report.mapped:,}", f"{report.partial:,}",
            f"{report.quarantined:,}", f"{report.warnings:,}", "[green]yes[/green]" if ok else "[red]NO[/red]",
        )  # fmt: skip
    console.print(loads)

    canonical = Table("source", *ENTITY_COLUMNS.values(), title="Canonical records in the store")
    for source in sorted({s for s, _ in result.canonical}):
        canonical.add_row(source, *(f"{result.canonical.get((source, e), 0):,}" for e in ENTITY_COLUMNS))
    console.print(canonical)

    reasons = Table(
        "source", "reason", "entries", title="Quarantine by reason (whole records and single entities)"
    )
    for source, reason, count in result.quarantine_reasons[:20]:
        reasons.add_row(source, reason, f"{count:,}")
    console.print(reasons)

    expected, actual = len(result.expected_quarantine), len(result.actual_quarantine)
    console.print(
        f"Ground truth: {expected:,} records carry a defect that must be quarantined; {actual:,} were quarantined "
        f"(whole, or only their bad entities); "
        f"clean records quarantined: {len(result.clean_but_quarantined):,}; "
        f"defective records let through: {len(result.defective_but_mapped):,}."
    )
    absorbed = {d: n for d, n in result.defects_seen.items() if d not in DEFECTS_THAT_QUARANTINE}
    if absorbed:
        console.print(
            "Noise absorbed by the mappings: " + ", ".join(f"{d} {n:,}" for d, n in sorted(absorbed.items()))
        )
    if result.matching and result.matching_score:
        m, score = result.matching, result.matching_score
        console.print(
            f"Golden matching: {m.records:,} party records → {m.clusters:,} golden customers "
            f"({m.deterministic_links:,} ID links, {m.pairs_scored:,} pairs scored by the model, {m.review_open:,} "
            f"pairs left for a steward) in {m.seconds:.1f} s.\n"
            f"Against ground truth: precision {score.precision:.4f}, recall {score.recall:.4f}, F1 {score.f1:.4f}; "
            f"golden records that merge different people: {result.false_merges:,}."
        )
        if result.vehicles:
            console.print(f"Golden vehicles: {result.vehicles['vehicles']:,}, each with its ownership timeline; "
                          f"{result.vehicles['resold']:,} changed hands, and the newest owner is the current one.")  # fmt: skip
        if result.owners:
            console.print(f"Current owner against ground truth: right for {result.owners.right:,} of "
                          f"{result.owners.cars:,} cars ({result.owners.share:.1%}).")  # fmt: skip
        for shared in m.shared[:5]:
            console.print(f"  not used as evidence: {shared.describe()}")
        console.print(
            "Next: [bold]autohub match shared[/bold] (the shared-identifier report per dealer), "
            "[bold]autohub match review[/bold] (the grey band), [bold]autohub match explain A B[/bold] (why two "
            "records are or are not one customer); after new data, [bold]autohub match run --incremental[/bold]."
        )
        console.print(
            "The API on this store: [bold]autohub apikey create me --scope read[/bold], then [bold]autohub serve"
            "[/bold] and e.g. [bold]curl -H 'Authorization: Bearer <token>' localhost:8000/v1/customers?name=王伟"
            "[/bold] — OpenAPI at /docs."
        )
        console.print(
            "The same jobs on a schedule: [bold]autohub quality[/bold], [bold]autohub recall export --campaign C "
            "--wmi LFV[/bold], [bold]autohub dms health[/bold] — and under Airflow 3 the DAGs in dags/ call them "
            "(README: 'Running under Airflow'; try [bold]airflow dags test autohub_quality[/bold] with "
            "AIRFLOW__CORE__DAGS_FOLDER=dags)."
        )
    url = make_url(result.database_url)
    if url.get_backend_name() == "sqlite" and url.database:
        query = "select source, reason, field, message from quarantine limit 5"
        console.print(f"Look inside: [bold]sqlite3 {url.database} '{query}'[/bold]")
