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

import difflib
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from connectors.base import Connector
from connectors.origin import SourceOrigin
from core.errors import ConfigError

ENTRY_POINT_GROUP = "autohub.connectors"
Mode = Literal["pull", "push"]


@dataclass(frozen=True)
class BuildContext:
    """What a connector may need from the hub beyond its own configuration."""

    source: str  # the declared instance's name: the records' source
    data_dir: Path  # for caches (the ERP's WSDL cache)
    settings_from: SourceOrigin | None = None  # where its settings were written; None: given in code

    @property
    def origin(self) -> SourceOrigin:
        """What every type's connector is built with (``Connector(config, context.origin)``): the source's name
        and where its settings were written, for errors that name the setting to correct."""
        return self.settings_from or SourceOrigin(self.source)


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

    def configure(self, settings: dict[str, Any], origin: SourceOrigin) -> BaseModel:
        """The type's configuration model from a declaration's settings; errors name the place.

        A key the model does not have is refused (every type's settings forbid extras): ignored, a misspelt
        ``user_name:`` left the logon empty and said nothing. It is named where it is written, with the
        nearest valid key.
        """
        try:
            return self.config_model.model_validate(settings)
        except ValidationError as exc:
            errors = exc.errors()
            unknown = [error for error in errors if error["type"] == "extra_forbidden"]
            if unknown:  # before what it causes: a misspelt required key is also a missing one
                raise self._unknown_key(settings, unknown[0], origin) from None
            first = errors[0]
            place = ".".join(str(p) for p in first["loc"])
            raise ConfigError(
                f"{origin.where}: {first['msg']}",
                field=f"settings.{place}" if place else "settings",
                fix=f"see the {self.name!r} settings in connectors/README.md",
            ) from None  # the pydantic error prints its input, which may hold a resolved secret

    def _unknown_key(
        self, settings: dict[str, Any], error: ErrorDetails, origin: SourceOrigin
    ) -> ConfigError:
        path, valid = keys_beside(self.config_model, settings, error["loc"])
        place, key = ".".join(str(p) for p in path), str(path[-1])
        return ConfigError(
            f"{origin.setting(place)}: unknown setting {key!r}",
            field=f"settings.{place}",
            fix=nearest_key(key, valid, f"see the {self.name!r} settings in connectors/README.md"),
        )


def nearest_key(key: str, valid: Sequence[str], otherwise: str) -> str:
    """What to write instead of a key nothing reads: the closest valid one, or the list of them."""
    near = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
    if near:
        return f"did you mean {near[0]!r}? ({otherwise})"
    return f"valid here: {', '.join(valid)} ({otherwise})" if valid else otherwise


def keys_beside(
    model: type[BaseModel], data: Any, loc: Sequence[int | str]
) -> tuple[list[int | str], list[str]]:
    """The path of the key at pydantic's ``loc`` as the user wrote it, and the keys valid beside it.

    pydantic's path also names the member of a union it tried (``paging.cursor.page_size``, where the user
    wrote ``paging: {kind: cursor, page_size: …}``): a step that is no key of the data is such a name, and
    picks the member instead of a level.
    """
    path: list[int | str] = []
    kind: Any = model
    for part in loc[:-1]:
        if isinstance(data, dict) and part in data:  # noqa: SIM114 - one branch would index a list by a str
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
        else:
            kind = _member(kind, part)
            continue
        path.append(part)
        kind = _child(kind, part)
    path.append(loc[-1])
    valid = sorted({name for member in _members(kind) for name in _fields(member)})
    return path, valid


def _members(kind: Any) -> list[Any]:
    """The types a value of ``kind`` may be: a union's members, without None; the type itself otherwise."""
    if get_origin(kind) is Annotated:
        return _members(get_args(kind)[0])
    if get_origin(kind) in (Union, types.UnionType):
        return [m for arg in get_args(kind) if arg is not type(None) for m in _members(arg)]
    return [kind]


def _fields(kind: Any) -> list[str]:
    return list(kind.model_fields) if isinstance(kind, type) and issubclass(kind, BaseModel) else []


def _child(kind: Any, part: int | str) -> Any:
    """The type one level down: a model's field, a mapping's value, a list's item."""
    for member in _members(kind):
        if isinstance(member, type) and issubclass(member, BaseModel) and part in member.model_fields:
            return member.model_fields[str(part)].annotation
        if get_origin(member) is dict:
            return get_args(member)[1]
        if get_origin(member) is list:
            return get_args(member)[0]
    return None


def _member(kind: Any, tag: int | str) -> Any:
    """The union member pydantic names by its discriminator's value (``cursor``) or its class name."""
    for member in _members(kind):
        if not (isinstance(member, type) and issubclass(member, BaseModel)):
            continue
        tags = {arg for field in member.model_fields.values() if get_origin(field.annotation) is Literal
                for arg in get_args(field.annotation)}  # fmt: skip
        if tag in tags or tag == member.__name__:
            return member
    return kind


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
