"""Pull connectors at 100 k records: ERP over SOAP, insurance over REST, finance over SQL, against local servers.

    .venv/bin/python bench/pull_sync_throughput.py --records 100000 [--sources erp,insurance,finance]
        [--finance-url mysql+pymysql://root@127.0.0.1:3306/bench_finance]

For each source: N records (sample-data payloads repeated under fresh keys and change times) are served by
its fake (the ERP's SOAP server, the insurer's REST API) or written to an accounting database (SQLite file by
default, or the given URL), then (a) read by the connector alone — the protocol's and the client's cost —
and (b) synced into a fresh SQLite store — the whole path a scheduler runs. Prints records/s, p50/p99
time per page and the peak RSS. Figures go to bench/RESULTS.md with the command that made them.
"""

from __future__ import annotations

import argparse
import itertools
import resource
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from canonical_model.identifiers import vin
from connectors.base import Connector
from connectors.erp_soap import ErpSoapConfig, ErpSoapConnector
from connectors.finance_sql import FinanceSqlConfig, FinanceSqlConnector
from connectors.insurance_rest import InsuranceRestConfig, InsuranceRestConnector
from connectors.runner import run_sync
from fakes.erp_soap import ErpSoapServer
from fakes.finance_db import create_accounting_db
from fakes.insurance_api import InsuranceApi
from mappings import MappingRegistry
from pipeline import Loader
from sample_data import generate
from store.engine import create_store_engine, session_factory
from store.migrate import upgrade

START = datetime(2024, 1, 1, 8, 0)
KEYS = {("erp", "customers"): "KUNNR", ("erp", "vehicles"): "VIN", ("erp", "sales_orders"): "VBELN",
        ("finance", "customers"): "cust_id", ("insurance", "policies"): "policyNo"}  # fmt: skip
CHANGED = {"erp": "CHANGED_AT", "finance": "updated_at", "insurance": "updatedAt"}


def templates(source: str, people: int = 3000) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for record in generate(people, seed=7):
        if record.source == source:
            found.setdefault(record.stream, []).append(record.payload)
    return found


def payloads(source: str, stream: str, pool: list[dict[str, Any]], n: int) -> Iterator[dict[str, Any]]:
    """``n`` payloads cycling through ``pool`` with unique keys and one change time per second."""
    key = KEYS[(source, stream)]
    for i, template in zip(range(n), itertools.cycle(pool), strict=False):
        moment = START + timedelta(seconds=i)
        changed = moment.isoformat(sep=" ") if source == "finance" else f"{moment.isoformat()}+08:00"
        item = {**template, key: f"{str(template[key])[:-7]}{i:07d}", CHANGED[source]: changed}
        if "VIN" in item:  # a fresh serial, and the check digit that makes it valid again (unless spoiled)
            item["VIN"] = _renumbered(str(item["VIN"]), i)
        yield item


def _renumbered(vin_value: str, serial: int) -> str:
    if len(vin_value) != 17 or not vin.is_valid(vin_value):
        return vin_value  # a spoiled VIN stays spoiled: the bench keeps the sample's quarantine share
    draft = f"{vin_value[:11]}{serial % 1_000_000:06d}".upper()
    return f"{draft[:8]}{vin.calc_check_digit(draft)}{draft[9:]}"


def measure(label: str, work: Callable[[Callable[[int], None]], int]) -> None:
    page_times: list[float] = []
    last = [time.perf_counter()]

    def tick(_: int) -> None:
        now = time.perf_counter()
        page_times.append(now - last[0])
        last[0] = now

    started = time.perf_counter()
    count = work(tick)
    elapsed = time.perf_counter() - started
    ordered = sorted(page_times) or [0.0]
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  {label:<28} {count:>9,} records in {elapsed:6.1f} s = {count / elapsed:>8,.0f} records/s · "
          f"page p50 {statistics.median(ordered) * 1000:,.0f} ms / p99 {p99 * 1000:,.0f} ms · peak RSS {rss_mb:,.0f} MB")  # fmt: skip


def read_only(connector: Connector) -> Callable[[Callable[[int], None]], int]:
    def work(tick: Callable[[int], None]) -> int:
        count = 0
        for stream in connector.streams:
            for page in connector.read(stream, None):
                count += len(page.records)
                tick(len(page.records))
        connector.close()
        return count

    return work


def full_sync(make: Callable[[], Connector], folder: Path) -> Callable[[Callable[[int], None]], int]:
    def work(tick: Callable[[int], None]) -> int:
        url = f"sqlite:///{folder / f'store-{time.monotonic_ns()}.db'}"
        upgrade(url)
        engine = create_store_engine(url)
        loader = Loader(
            session_factory(engine), MappingRegistry.load(), pii_key=b"bench-key", batch_size=1000
        )
        report = run_sync(make(), loader, on_progress=tick)
        engine.dispose()
        return report.records_in

    return work


def bench_erp(n: int, folder: Path) -> None:
    pools = templates("erp")
    per_stream = n // len(pools)
    server = ErpSoapServer(
        records={s: list(payloads("erp", s, pool, per_stream)) for s, pool in pools.items()}
    )
    wsdl_url = server.start()
    streams = {name: {**op.model_dump(), "page_size": 1000} for name, op in ErpSoapConfig().streams.items()}

    def make() -> Connector:
        return ErpSoapConnector(
            ErpSoapConfig(wsdl_url=wsdl_url, streams=streams), cache_path=folder / "zeep.db"
        )

    print(f"ERP over SOAP (fake ERP on loopback, zeep, pages of 1 000): {per_stream * len(pools):,} records")
    measure("connector read only", read_only(make()))
    measure("sync into SQLite store", full_sync(make, folder))
    server.stop()


def bench_insurance(n: int, folder: Path) -> None:
    api = InsuranceApi(
        policies=list(payloads("insurance", "policies", templates("insurance")["policies"], n))
    )
    base_url = api.start()

    def make() -> Connector:
        return InsuranceRestConnector(InsuranceRestConfig(base_url=base_url, client_secret=api.client_secret,
                                                          page_size=1000))  # fmt: skip

    print(f"Insurance over REST (fake insurer on loopback, httpx, pages of 1 000): {n:,} records")
    measure("connector read only", read_only(make()))
    measure("sync into SQLite store", full_sync(make, folder))
    api.stop()


def bench_finance(n: int, folder: Path, url: str) -> None:
    url = url or f"sqlite:///{folder / 'accounting.db'}"
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" and parsed.database:
        server = create_engine(parsed.set(database=""))
        with server.begin() as conn:
            conn.execute(text(f"CREATE DATABASE IF NOT EXISTS {parsed.database} CHARACTER SET utf8mb4"))
        server.dispose()
    create_accounting_db(url, payloads("finance", "customers", templates("finance")["customers"], n))

    def make() -> Connector:
        return FinanceSqlConnector(FinanceSqlConfig(url=url, page_size=1000))

    print(f"Finance over SQL ({parsed.get_backend_name()}, pages of 1 000): {n:,} rows")
    measure("connector read only", read_only(make()))
    measure("sync into SQLite store", full_sync(make, folder))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--sources", default="erp,insurance,finance")
    parser.add_argument("--finance-url", default="", help="default: an SQLite file in a temp folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for source in args.sources.split(","):
            if source == "erp":
                bench_erp(args.records, Path(folder))
            elif source == "insurance":
                bench_insurance(args.records, Path(folder))
            elif source == "finance":
                bench_finance(args.records, Path(folder), args.finance_url)
            else:
                raise SystemExit(f"unknown source {source!r}: choose from erp, insurance, finance")


if __name__ == "__main__":
    main()
