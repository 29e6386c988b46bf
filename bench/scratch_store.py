"""A throw-away migrated SQLite store with a loader, for the matching benchmarks (imported by the scripts
beside it: ``python bench/match_….py`` puts this folder on the path)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class ScratchStore:
    engine: Any
    sessions: Any
    registry: Any
    loader: Any

    def load(self, generated: Iterable[Any]) -> None:
        """Generated records (``sample_data.generate``) through the real mappings into the store."""
        from pipeline import to_source_record

        self.loader.load(to_source_record(self.registry[g.source], g.stream, g.payload) for g in generated)


@contextmanager
def scratch_store(keep: Path | None = None) -> Iterator[ScratchStore]:
    """A fresh store in a temporary folder (or in ``keep``, which then outlives the run)."""
    from mappings import MappingRegistry
    from pipeline import Loader
    from store.engine import create_store_engine, session_factory
    from store.migrate import upgrade

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{(keep or Path(folder)) / 'hub.db'}"
        upgrade(url)
        engine = create_store_engine(url)
        sessions = session_factory(engine)
        registry = MappingRegistry.load()
        try:
            yield ScratchStore(engine, sessions, registry, Loader(sessions, registry, pii_key=b"bench-key"))
        finally:
            engine.dispose()
