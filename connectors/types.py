"""Connector types by name, found through Python entry points, so that a new type is a package, not an edit here.

A type is what a sources file's ``type:`` names (``soap``, ``sql``, ``rest``, ``amqp``, ``webhook`` ship with
the hub): its configuration model, whether the hub pulls it on a schedule or it pushes to the hub, and — for a
pull type — how to build a connector from a validated configuration. A package adds one by declaring, in its
own ``pyproject.toml``::

    [project.entry-points."autohub.connectors"]
    sftp = "my_package.autohub_type:sftp"

where ``sftp()`` returns a ``ConnectorType``. Nothing is imported until a type is used: a DAG file that lists
the sources reads entry-point metadata only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from connectors.base import Connector
from core.errors import ConfigError

ENTRY_POINT_GROUP = "autohub.connectors"
Mode = Literal["pull", "push"]


@dataclass(frozen=True)
class BuildContext:
    """What a connector may need from the hub beyond its own configuration."""

    source: str  # the declared instance's name: the records' source
    data_dir: Path  # for caches (the ERP's WSDL cache)


@dataclass(frozen=True)
class ConnectorType:
    name: str
    description: str
    mode: Mode
    config_model: type[BaseModel]
    # A pull type's connector from its validated configuration; None for a push type, which the hub's own
    # receivers (the DMS consumer, the webhook route) serve.
    build: Callable[[Any, BuildContext], Connector] | None = None
    # A push type's look at its receiving end without taking anything in (``autohub sources check``): what is
    # waiting, whether the receiver can verify senders; one line each. Nothing is consumed or acknowledged.
    probe: Callable[[Any, BuildContext], list[str]] | None = None

    def configure(self, settings: dict[str, Any], *, where: str) -> BaseModel:
        """The type's configuration model from a declaration's settings; errors name the place."""
        from pydantic import ValidationError

        try:
            return self.config_model.model_validate(settings)
        except ValidationError as exc:
            first = exc.errors()[0]
            place = ".".join(str(p) for p in first["loc"])
            raise ConfigError(
                f"{where}: {first['msg']}",
                field=f"settings.{place}" if place else "settings",
                fix=f"see the {self.name!r} settings in connectors/README.md",
            ) from None  # the pydantic error prints its input, which may hold a resolved secret


@cache
def connector_types() -> dict[str, ConnectorType]:
    """Every registered type by name (installed packages' ``autohub.connectors`` entry points)."""
    found: dict[str, ConnectorType] = {}
    for point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            kind = point.load()()
        except Exception as exc:
            raise ConfigError(f"connector type {point.name!r} ({point.value}) cannot be loaded: {exc}",
                              field=f"entry point {ENTRY_POINT_GROUP}.{point.name}",
                              fix="reinstall the package that provides it, or uninstall it") from exc  # fmt: skip
        if not isinstance(kind, ConnectorType) or kind.name != point.name:
            raise ConfigError(f"entry point {point.name!r} ({point.value}) gives no ConnectorType named so",
                              field=f"entry point {ENTRY_POINT_GROUP}.{point.name}",
                              fix="its function must return ConnectorType(name=<the entry point's name>, ...)")  # fmt: skip
        if point.name in found:
            raise ConfigError(f"two packages register the connector type {point.name!r}",
                              field=f"entry point {ENTRY_POINT_GROUP}.{point.name}", fix="uninstall one")  # fmt: skip
        found[point.name] = kind
    if not found:
        raise ConfigError("no connector types are registered", field=f"entry points {ENTRY_POINT_GROUP}",
                          fix="install the hub itself (make install: pip install -e .) so its types register")  # fmt: skip
    return found


def connector_type(name: str, *, where: str) -> ConnectorType:
    types = connector_types()
    if name not in types:
        raise ConfigError(f"{where}: unknown connector type {name!r}", field="type",
                          fix=f"use one of {', '.join(sorted(types))}, or install the package providing it")  # fmt: skip
    return types[name]
