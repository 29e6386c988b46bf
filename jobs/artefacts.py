"""Where jobs file what they produce, and how: scorecards and recall files for people and other systems."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from core.settings import Settings
from jobs.config import orchestration_config


def artefacts_dir(settings: Settings) -> Path:
    """Where jobs file what they produce (scorecards, recall files); created on first use."""
    path = orchestration_config(settings).artefacts_dir or settings.data_dir / "artefacts"
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_atomically(path: Path, chunks: Iterable[str]) -> None:
    """Write to a temporary file beside ``path`` and rename: a reader never sees half a file, and a re-run
    of a failed job replaces the file instead of appending to a partial one."""
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", encoding="utf-8", newline="") as out:
        out.writelines(chunks)
    os.replace(tmp, path)
