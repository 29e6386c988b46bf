"""The ingest path: source records → raw store → mapping → canonical records or quarantine.

Connectors (issue #3), the demo and the DAGs all hand their records to ``Loader``; it is the one place that
decides what happens to a record, so the reconciliation "raw = canonical + quarantine" holds for every source.
"""

from pipeline.load import Loader, LoadReport, to_source_record

__all__ = ["LoadReport", "Loader", "to_source_record"]
