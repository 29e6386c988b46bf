"""The sources file read lightly — entries as plain mappings, no connector type resolved, no secret read.

Why on the ground floor: two readers need a few keys of every entry without binding it — the DAG files (names,
types and schedules, parsed by Airflow every few seconds) and survivorship (each instance's ``rank_as``, read
for every golden record written). The full check of the file is ``connectors.sources``
(``autohub sources list``), which every sync and receiver passes before it reads anything.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml


class SourcesFileUnreadable(ValueError):
    """The file cannot be read or has no ``sources:`` mapping; the message names the file."""


def entries(path: Path) -> dict[str, dict[str, Any]]:
    """Source name → its entry as written (an entry that is no mapping is left out: the full check names it)."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise SourcesFileUnreadable(
            f"the sources file {path} cannot be read: {exc} (AUTOHUB_SOURCES_FILE)"
        ) from exc
    found = document.get("sources") if isinstance(document, dict) else None
    if not isinstance(found, dict):
        raise SourcesFileUnreadable(
            f"the sources file {path} has no `sources:` mapping (see core/sources.yaml)"
        )
    return {str(name): entry for name, entry in found.items() if isinstance(entry, dict)}


@cache
def rank_aliases(path: Path) -> tuple[tuple[str, str], ...]:
    """(instance, the source whose survivorship rank it takes) for every entry with ``rank_as``; read once per
    process (a changed file takes effect at the next start, as every declaration does)."""
    return tuple(sorted((name, str(entry["rank_as"])) for name, entry in entries(path).items()
                        if entry.get("rank_as")))  # fmt: skip
