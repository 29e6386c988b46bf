"""``autohub sources check NAME``: connect to a declared pull source, read one page of each stream, map it and
say what a sync would make of it — nothing written, no watermark moved. A pushed source (a dealer network's
queue, a webhook route) is looked at from its receiving end: its mapping loads, and its type's probe says what
waits on the broker or whether senders can be verified — nothing is taken from a queue.

Why: the first sync of a new source writes raw records and sync runs that stay; a team declaring a second
insurer wants to see first that the connection, the credentials and the mapping fit.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from connectors.sources import declared_source
from connectors.types import BuildContext
from core.settings import Settings
from pipeline.screen import input_limits


@dataclass
class StreamCheck:
    stream: str
    records: int = 0
    mapped: int = 0
    partial: int = 0
    quarantined: int = 0
    reasons: Counter[str] = field(default_factory=Counter)

    def count(self, outcome: str, reasons: list[str]) -> None:
        self.records += 1
        if outcome == "mapped":
            self.mapped += 1
        elif outcome == "partial":
            self.partial += 1
        else:
            self.quarantined += 1
        self.reasons.update(reasons)


@dataclass
class SourceCheck:
    source: str
    streams: list[StreamCheck]
    notes: list[str] = field(default_factory=list)  # a pushed source's probe, one line each


def check_source(name: str, settings: Settings) -> SourceCheck:
    """The first page of every stream of ``name``, mapped by the mapping it is declared with."""
    from mappings import MappingRegistry
    from pipeline.records import trial_map

    source = declared_source(settings, name)
    registry = MappingRegistry.load(*settings.mapping_dirs).with_aliases({name: source.mapping})
    mapper = registry[name]  # a missing mapping is said before the source is asked anything
    if not source.pull:
        probe = source.kind.probe
        notes = [f"pushed ({source.kind.name}); mapping {source.mapping!r} loads"]
        return SourceCheck(
            name, [], notes + (probe(source.config, BuildContext(name, settings.data_dir)) if probe else [])
        )
    limits = input_limits(settings)
    connector = source.connector(settings.data_dir)
    checks: list[StreamCheck] = []
    try:
        for stream in connector.streams:
            check = StreamCheck(stream)
            pages = connector.read(stream, None)
            try:
                page = next(pages, None)
            finally:
                getattr(pages, "close", lambda: None)()  # a generator left half-read holds its connection
            if page is not None:
                for record in page.records:
                    check.count(*trial_map(mapper, record, limits))
                for record, error in page.refused:
                    check.count(*trial_map(mapper, record, limits, error))
                for reason, _raw in page.unreadable:
                    check.count("quarantined", [reason])
            checks.append(check)
    finally:
        connector.close()
    return SourceCheck(name, checks)
