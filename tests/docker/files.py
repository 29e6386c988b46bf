"""Readers for the docker/ room's files, shared by its tests: the compose file, env files, the Dockerfile,
the settings' variable names and the `autohub` command tree. Nothing here needs a Docker engine."""

from __future__ import annotations

import importlib.util
import re
import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel
from pydantic_settings import BaseSettings

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
COMPOSE_PATH = DOCKER / "docker-compose.yml"
DOCKERFILE_PATH = DOCKER / "Dockerfile"

# ${VAR}, ${VAR:-default}, ${VAR:?message} — but not $${VAR}, which compose passes on as ${VAR}.
INTERPOLATION = re.compile(r"(?<!\$)\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<rest>[^}]*)\}")
AUTOHUB_NAME = re.compile(r"\bAUTOHUB_[A-Z0-9_]*[A-Z0-9]")
SECRET_NAME = re.compile(r"(PASSWORD|_PASS|SECRET|_KEY|TOKEN)$")
# user:password@ in a URL; the password may be a whole ${…} with spaces in its message.
URL_PASSWORD = re.compile(r"://[^/@\s:]+:(?P<password>\$\{[^}]*\}|[^@\s/]+)@")
REQUIRED_VARIABLE = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*:?\?[^}]*\}$")


@cache
def healthcheck_script() -> types.ModuleType:
    """docker/healthcheck.py (installed in the hub image as ``autohub-healthcheck``), imported from its file."""
    spec = importlib.util.spec_from_file_location("autohub_healthcheck", DOCKER / "healthcheck.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@cache
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE_PATH.read_text(encoding="utf-8"))
    return loaded


def services() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose()["services"]
    return found


def env_files(service: dict[str, Any]) -> list[str]:
    """``env_file`` in any of its forms: a string, a list of strings, a list of ``{path: …}``."""
    value = service.get("env_file") or []
    entries = [value] if isinstance(value, str | dict) else list(value)
    return [entry["path"] if isinstance(entry, dict) else entry for entry in entries]


def environment(service: dict[str, Any]) -> dict[str, str]:
    """``environment`` as a mapping whether written as a mapping or as ``KEY=value`` items."""
    value = service.get("environment") or {}
    if isinstance(value, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in value)
    return {str(key): "" if item is None else str(item) for key, item in value.items()}


def strings(node: Any, where: str = "") -> Iterator[tuple[str, str]]:
    """Every string value in a parsed YAML tree with its dotted path (keys included as values of their path)."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from strings(value, f"{where}.{key}" if where else str(key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from strings(value, f"{where}[{index}]")
    elif isinstance(node, str):
        yield where, node


def literal_secrets(tree: Any) -> list[str]:
    """Where a parsed compose tree writes a secret itself instead of taking it from ``${VAR:?…}``."""
    found = []
    for path, value in strings(tree):
        key = path.rsplit(".", 1)[-1]
        item = re.fullmatch(
            r"([A-Za-z_][A-Za-z0-9_]*)=(.*)", value
        )  # `environment:` written as KEY=value items
        if item:
            key, value = item.groups()
        if SECRET_NAME.search(key) and not REQUIRED_VARIABLE.match(value):
            found.append(f"{path}: {key} is written in the file")
        for match in URL_PASSWORD.finditer(value):
            if not REQUIRED_VARIABLE.match(match.group("password")):
                found.append(f"{path}: a URL carries its password")
    return found


def read_env_file(path: Path) -> dict[str, str]:
    """``KEY=value`` lines of a Docker env file; comments and blank lines skipped."""
    pairs = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            pairs[key.strip()] = value.strip()
    return pairs


def depends_on(service: dict[str, Any]) -> dict[str, str]:
    """Dependency → condition; the short list form means ``service_started``."""
    value = service.get("depends_on") or {}
    if isinstance(value, list):
        return dict.fromkeys(value, "service_started")
    return {name: (spec or {}).get("condition", "service_started") for name, spec in value.items()}


def is_one_shot(service: dict[str, Any]) -> bool:
    return service.get("restart") == "no"


def has_healthcheck(service: dict[str, Any]) -> bool:
    check = service.get("healthcheck") or {}
    return bool(check.get("test")) and not check.get("disable")


# --- Dockerfile ------------------------------------------------------------------------------------------


@dataclass
class Stage:
    name: str
    base: str  # with the ARG defaults filled in
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]


@cache
def dockerfile_instructions() -> tuple[tuple[str, str], ...]:
    """(KEYWORD, arguments) per instruction; continuation lines joined, comments and parser directives dropped."""
    joined: list[str] = []
    pending = ""
    for raw in DOCKERFILE_PATH.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):  # a comment inside a continued instruction
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        joined.append(pending + line)
        pending = ""
    return tuple((line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in joined)


def dockerfile_stages() -> dict[str, Stage]:
    args: dict[str, str] = {}
    stages: dict[str, Stage] = {}
    current: Stage | None = None
    for keyword, rest in dockerfile_instructions():
        if keyword == "ARG" and current is None and "=" in rest:
            name, _, default = rest.partition("=")
            args[name.strip()] = default.strip()
        elif keyword == "FROM":
            parts = rest.split()
            base = INTERPOLATION.sub(lambda m: args.get(m.group("name"), m.group(0)), parts[0])
            name = parts[2] if len(parts) == 3 and parts[1].upper() == "AS" else f"stage{len(stages)}"
            current = stages[name] = Stage(name, base)
        elif current is not None:
            current.instructions.append((keyword, rest))
    return stages


# --- settings --------------------------------------------------------------------------------------------


def _nested_models(annotation: Any) -> list[type[BaseModel]]:
    """The models a field holds directly or as ``Model | None``; not those inside dicts or lists."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if get_origin(annotation) in (Union, types.UnionType):
        return [model for arg in get_args(annotation) for model in _nested_models(arg)]
    return []


def variable_names(model: type[BaseModel], prefix: str, delimiter: str) -> set[str]:
    """Every environment variable a pydantic-settings model reads: ``PREFIX_FIELD``, ``PREFIX_BLOCK__FIELD``…"""
    names = set()
    for field_name, info in model.model_fields.items():
        name = f"{prefix}{field_name}".upper()
        names.add(name)  # a nested block may also be given whole, as JSON
        for nested in _nested_models(info.annotation):
            names |= variable_names(nested, f"{name}{delimiter}", delimiter)
    return names


def settings_variable_names(settings: type[BaseSettings]) -> set[str]:
    """The settings' own variables and every room's block (``autohub.blocks``), as ``Settings.section`` reads them."""
    from autohub.blocks import settings_blocks

    config = settings.model_config
    prefix, delimiter = str(config.get("env_prefix", "")), str(config.get("env_nested_delimiter"))
    names = variable_names(settings, prefix, delimiter) - {f"{prefix}SECTIONS".upper()}
    for block, model in settings_blocks().items():
        name = f"{prefix}{block}".upper()
        names |= {name} | variable_names(model, f"{name}{delimiter}", delimiter)
    return names


# --- the autohub command tree ----------------------------------------------------------------------------


class UnknownCommand(LookupError):
    pass


def _is_group(command: Any) -> bool:
    # Typer 0.2x carries its own copy of click (typer._click): a group is whatever has subcommands.
    return isinstance(getattr(command, "commands", None), dict)


def resolve_command(root: Any, words: list[str]) -> list[str]:
    """The command path of ``autohub WORDS…`` in typer's command tree (``typer.main.get_command(app)``).

    Raises ``UnknownCommand`` for a subcommand or an option the tree does not have.
    """
    command, path, rest = root, [], list(words)
    while _is_group(command) and rest and not rest[0].startswith("-"):
        name = rest.pop(0)
        sub = command.commands.get(name)
        if sub is None:
            raise UnknownCommand(f"`autohub {' '.join([*path, name])}`: no such command")
        command, path = sub, [*path, name]
    if _is_group(command) and rest != ["--help"]:
        raise UnknownCommand(f"`autohub {' '.join(path)}` is a group; it needs a subcommand")
    options = {"--help"} | {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}
    unknown = [w.split("=")[0] for w in rest if w.startswith("--") and w.split("=")[0] not in options]
    if unknown:
        raise UnknownCommand(f"`autohub {' '.join(path)}` has no option {', '.join(unknown)}")
    return path


COMMAND_LINE = re.compile(r"(?:^|`|\| |run --rm \S+ )(autohub(?: +[^\s`|#…]+)*)")


def autohub_command_lines(text: str) -> list[list[str]]:
    """`autohub …` written in comments and docs: in backticks, at a line's start, after `|` or `run --rm SVC`."""
    found = []
    for raw in text.splitlines():
        line = raw.strip().lstrip("#").strip()
        for match in COMMAND_LINE.finditer(line):
            words = match.group(1).split()[1:]
            if words and re.fullmatch(r"[a-z][a-z-]*", words[0]):
                found.append(words)
    return found
