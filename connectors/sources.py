"""The sources file, read whole: each declared source instance bound to its connector type's settings.

Why a file and not a settings block per source: a maker has several insurers, two ERPs after an acquisition,
dealer groups on different systems — each is a declaration (name, type, mapping, schedule, settings), not a
code change. Validated at start: every error names the file, the source and the field. Secrets are never
inline: ``{env: VARIABLE}`` or ``{file: PATH}`` stands for one and is resolved when the source is bound; a
value under a secret's name (password, client_secret, …) or a URL with a password written out is refused.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from connectors.origin import SourceOrigin
from connectors.types import BuildContext, ConnectorType, connector_type, keys_beside, nearest_key
from core.errors import ConfigError
from core.settings import SHIPPED_SOURCES_FILE

if TYPE_CHECKING:
    from connectors.base import Connector
    from core.settings import Settings

Config = TypeVar("Config", bound=BaseModel)
SourceName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
# Setting names that hold a secret wherever they occur: their value must be a reference.
SECRET_NAMES = frozenset(
    {"password", "secret", "client_secret", "api_key", "token", "access_token", "url_password"}
)
_PASSWORD_IN_URL = re.compile(r"^[a-z][a-z0-9+.-]*://[^/@:]*:[^/@]+@", re.IGNORECASE)
# The shipped sources whose AUTOHUB_<NAME>__… settings block still configures them.
LEGACY_BLOCKS = ("erp", "finance", "insurance", "dms", "portal")


class SourceDeclaration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str
    description: str = ""
    mapping: SourceName | None = None
    schedule: str | None = None
    # survivorship: the source whose rank this instance takes (matching/survivorship.yaml ranks by name)
    rank_as: SourceName | None = None
    settings: dict[str, Any] = Field(default_factory=dict)


class SourcesDocument(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Literal[1] = 1
    sources: dict[SourceName, SourceDeclaration]


@dataclass(frozen=True)
class DeclaredSource:
    name: str
    kind: ConnectorType
    mapping: str
    schedule: str | None
    description: str
    config: BaseModel
    origin: SourceOrigin  # its name and where its settings were written: what its errors name

    @property
    def pull(self) -> bool:
        return self.kind.mode == "pull"

    def config_as(self, model: type[Config]) -> Config:
        """The bound configuration as the model a caller serves (the DMS consumer: ``DmsAmqpConfig``)."""
        if not isinstance(self.config, model):
            raise ConfigError(f"source {self.name!r} is of type {self.kind.name}, which this command does not serve",
                              field="type", fix="name a source of the right type; `autohub sources list` shows them")  # fmt: skip
        return self.config

    def connector(self, data_dir: Path) -> Connector:
        if self.kind.build is None:
            raise ConfigError(f"source {self.name!r} is pushed to the hub ({self.kind.name}): it is not synced",
                              field="type", fix="sync a pull source; `autohub sources list` shows which")  # fmt: skip
        return self.kind.build(self.config, BuildContext(self.name, data_dir, self.origin))


def read_document(path: Path) -> SourcesDocument:
    """The file parsed and its shape validated (types, settings and secrets are checked when bound)."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read the sources file: {exc.strerror or exc}", record=str(path),
                          fix="set AUTOHUB_SOURCES_FILE to a readable file, or unset it for the shipped one") from exc  # fmt: skip
    except yaml.YAMLError as exc:
        raise ConfigError(f"the sources file is no valid YAML: {exc}", record=str(path),
                          fix="check the indentation near the line named") from exc  # fmt: skip
    try:
        return SourcesDocument.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        place = ".".join(str(p) for p in first["loc"] if p != "[key]")  # a source's name is its own place
        fix = "see the comments at the top of core/sources.yaml"
        if first["type"] == "extra_forbidden":  # `shedule:` — the declaration's own keys, not its settings
            at, valid = keys_beside(SourcesDocument, raw, first["loc"])
            fix = nearest_key(str(at[-1]), valid, fix)
        raise ConfigError(f"{first['msg']}", record=str(path), field=place, fix=fix) from None


def _file_of(settings: Settings, path: Path | None) -> Path:
    return path or settings.declared_sources_file


def declared_sources(
    settings: Settings, path: Path | None = None, *, types: Collection[str] | None = None
) -> dict[str, DeclaredSource]:
    """The sources of the sources file (those of ``types`` only, if given), bound: type found, settings
    validated, secrets read. The whole file's shape is checked either way; a source of another type is not
    bound, so an API that serves webhooks does not need the ERP's password."""
    path = _file_of(settings, path)
    document = read_document(path)
    return {name: _bind(name, entry, settings, path) for name, entry in document.sources.items()
            if types is None or entry.type in types}  # fmt: skip


def declared_source(settings: Settings, name: str) -> DeclaredSource:
    """The source ``name``, bound; the others' settings and secrets are not read (a sync of one source must
    not fail on a variable another needs)."""
    path = _file_of(settings, None)
    document = read_document(path)
    if name not in document.sources:
        raise ConfigError(f"no source {name!r} is declared", field="source",
                          fix=f"declared: {', '.join(sorted(document.sources))} (autohub sources list)")  # fmt: skip
    return _bind(name, document.sources[name], settings, path)


def _bind(name: str, entry: SourceDeclaration, settings: Settings, path: Path) -> DeclaredSource:
    block = name if name in LEGACY_BLOCKS else None
    origin = SourceOrigin(name, file=path, in_file=frozenset(entry.settings), env_block=block)
    where = origin.where
    kind = connector_type(entry.type, where=where)
    if kind.mode == "push" and entry.schedule:
        raise ConfigError(f"{where} is pushed ({kind.name}) and cannot have a schedule", field="schedule",
                          fix="remove the schedule: the hub's receiver takes its records as they come")  # fmt: skip
    resolved = _resolve_secrets(entry.settings, where, "settings")
    config = kind.configure(resolved, origin)
    legacy = settings.section(name, kind.config_model) if block else None
    if legacy is not None and legacy.model_fields_set:
        # AUTOHUB_ERP__… set in the environment win over the file, field by field: errors name the variable
        config = config.model_copy(update={f: getattr(legacy, f) for f in legacy.model_fields_set})
        origin = replace(origin, in_file=origin.in_file - legacy.model_fields_set)
    return DeclaredSource(
        name, kind, entry.mapping or name, entry.schedule, entry.description, config, origin
    )


def _resolve_secrets(value: Any, where: str, place: str) -> Any:
    """``{env: X}`` / ``{file: P}`` replaced by the secret; a secret written out refused."""
    if isinstance(value, dict):
        if set(value) == {"env"}:
            variable = str(value["env"])
            if variable not in os.environ:
                raise ConfigError(f"{where}: the environment variable {variable} is not set", field=place,
                                  fix=f"set {variable}, or point {place} at a file with {{file: PATH}}")  # fmt: skip
            return os.environ[variable]
        if set(value) == {"file"}:
            try:
                return Path(str(value["file"])).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(f"{where}: cannot read the secret file {value['file']}: {exc.strerror or exc}",
                                  field=place, fix="mount the secret there, readable by the hub") from exc  # fmt: skip
        return {k: _resolve_secrets(v, where, f"{place}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_secrets(v, where, f"{place}[{n}]") for n, v in enumerate(value)]
    name = place.rsplit(".", 1)[-1]
    if isinstance(value, str) and value and (name in SECRET_NAMES or _PASSWORD_IN_URL.match(value)):
        raise ConfigError(f"{where}: a secret is written out in the sources file", field=place,
                          fix="write {env: VARIABLE} or {file: /run/secrets/NAME} instead of the value")  # fmt: skip
    return value


def legacy_blocks() -> dict[str, type[BaseModel]]:
    """The shipped sources' ``AUTOHUB_<NAME>__…`` blocks and the configuration models of their declared types."""
    path = SHIPPED_SOURCES_FILE
    document = read_document(path)
    return {name: connector_type(document.sources[name].type, where=f"{path}: source {name!r}").config_model
            for name in LEGACY_BLOCKS}  # fmt: skip


def dealer_networks(settings: Settings) -> tuple[str, ...]:
    """The declared dealer networks (type ``amqp``): the scorecard counts them per dealer too."""
    document = read_document(_file_of(settings, None))
    return tuple(sorted(name for name, entry in document.sources.items() if entry.type == "amqp"))
