"""Finds and loads mapping files: the five shipped ones plus any in AUTOHUB_MAPPINGS_DIR."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from core.errors import ConfigError
from mappings.engine import Mapper
from mappings.spec import MappingSpec

PACKAGE_DIR = Path(__file__).parent
SHIPPED_DIR = PACKAGE_DIR / "sources"
SHARED_CODES = PACKAGE_DIR / "codes.yaml"


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(
            f"cannot read {path}: {exc}", record=str(path), fix="check the file's YAML"
        ) from exc


def shared_codes() -> dict[str, dict[str, Any]]:
    data = _read_yaml(SHARED_CODES) or {}
    return {str(name): {str(k): v for k, v in table.items()} for name, table in data.items()}


def load_mapping(path: Path, codes: dict[str, dict[str, Any]] | None = None) -> Mapper:
    """Load and check one mapping file; a mistake is a ConfigError naming the file and the place in it."""
    data = _read_yaml(path)
    try:
        spec = MappingSpec.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(
            f"{first['msg']}", record=str(path), field=where, fix="see mappings/README.md"
        ) from exc
    # Code-table keys are compared as text: YAML reads `1: male` with an integer key.
    spec.codes = {name: {str(k): v for k, v in table.items()} for name, table in spec.codes.items()}
    return Mapper(spec, shared_codes() if codes is None else codes, origin=str(path))


class MappingRegistry:
    """All mappings by source name. Extra folders come after the shipped one and may replace a source."""

    def __init__(self, mappers: dict[str, Mapper], files: dict[str, Path] | None = None):
        self._mappers = mappers
        self._files = files or {}  # mapping name → the file it was read from, to name in errors

    @classmethod
    def load(cls, *extra_dirs: Path) -> MappingRegistry:
        codes = shared_codes()
        mappers: dict[str, Mapper] = {}
        files: dict[str, Path] = {}
        for folder in (SHIPPED_DIR, *extra_dirs):
            for path in sorted(Path(folder).glob("*.yaml")):
                mapper = load_mapping(path, codes)
                mappers[mapper.source] = mapper
                files[mapper.source] = path
        return cls(mappers, files)

    def __getitem__(self, source: str) -> Mapper:
        try:
            return self._mappers[source]
        except KeyError:
            raise self._missing(source) from None

    def _missing(self, source: str) -> ConfigError:
        """A mapping is found by its ``source:`` line, not by its file's name: a file named after the source whose
        ``source:`` says something else was answered "add <the file that exists>"; now the error names it."""
        named = [path for name, path in self._files.items() if path.stem == source and name != source]
        if named:
            found = self._files_source(named[0])
            return ConfigError(f"no mapping for source {source!r}: {named[0]} declares source: {found!r}",
                               record=str(named[0]), field="source",
                               fix=f"write `source: {source}` in {named[0].name}, or declare `mapping: {found}`")  # fmt: skip
        return ConfigError(f"no mapping for source {source!r} (mappings: {', '.join(sorted(self._mappers))})",
                           field="source", fix=f"add a mapping file whose first line is `source: {source}` to "
                           "AUTOHUB_MAPPINGS_DIR (mappings/README.md)")  # fmt: skip

    def _files_source(self, path: Path) -> str:
        return next(name for name, p in self._files.items() if p == path)

    def __contains__(self, source: object) -> bool:
        return source in self._mappers

    def with_aliases(self, aliases: dict[str, str]) -> MappingRegistry:
        """This registry, where each declared source instance (``insurer_pingan``) reads with the mapping it
        names (``insurance``); its records keep the instance's name as their source."""
        mappers = dict(self._mappers)
        for instance, mapping in aliases.items():
            if instance != mapping:
                mappers[instance] = self[mapping].serving(instance)
        return MappingRegistry(mappers, self._files)

    @property
    def sources(self) -> list[str]:
        return sorted(self._mappers)
