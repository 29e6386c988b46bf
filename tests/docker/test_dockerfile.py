"""docker/Dockerfile and /.dockerignore read as text, and every `autohub …` command the docker room runs or
documents resolved against the real command tree (typer's click group)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from fnmatch import fnmatch
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from autohub.cli import app
from tests.docker.files import (
    COMPOSE_PATH,
    DOCKER,
    DOCKERFILE_PATH,
    ROOT,
    UnknownCommand,
    autohub_command_lines,
    dockerfile_instructions,
    dockerfile_stages,
    healthcheck_script,
    resolve_command,
    services,
)

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _json_command(args: str) -> list[str]:
    """The exec form of CMD/ENTRYPOINT/HEALTHCHECK CMD (a JSON array); the shell form is not used here."""
    command = json.loads(args[args.index("[") :])
    assert isinstance(command, list), args
    return [str(word) for word in command]


def test_the_hub_image_is_python_slim_and_runs_as_a_non_root_user() -> None:
    hub = dockerfile_stages()["hub"]
    assert re.fullmatch(r"python:3\.11(\.\d+)?-slim(-\w+)?", hub.base), hub.base
    users = hub.all("USER")
    assert users, "the hub image runs as root"
    assert users[-1].split(":")[0] not in {"root", "0"}, f"the hub runs as {users[-1]}"
    assert [kw for kw, _ in hub.instructions].index("USER") < [kw for kw, _ in hub.instructions].index("CMD")
    assert any("pip install" in run and "autohub" in run for run in hub.all("RUN")), "AutoHub is installed"


def test_the_hub_image_serves_the_api_by_default_with_a_healthz_check() -> None:
    hub = dockerfile_stages()["hub"]
    command = _json_command(hub.all("CMD")[-1])
    assert command[:2] == ["autohub", "serve"]
    assert command[command.index("--host") + 1] == "0.0.0.0"  # noqa: S104 - inside a container, the point
    healthcheck = hub.all("HEALTHCHECK")
    assert len(healthcheck) == 1
    probe = _json_command(healthcheck[0].split(" CMD ", 1)[1])
    assert probe[0] == "autohub-healthcheck"
    assert probe[1:] == ["url", f"http://127.0.0.1:{command[command.index('--port') + 1]}/healthz"]
    copied = [c for c in hub.all("COPY") if c.endswith("/usr/local/bin/autohub-healthcheck")]
    assert copied, "the healthcheck script is copied into the image"
    assert (ROOT / copied[0].split()[-2]).is_file()


def test_the_airflow_image_matches_the_pinned_airflow_and_keeps_its_pins() -> None:
    airflow = dockerfile_stages()["airflow"]
    pin = next(
        d for d in PYPROJECT["project"]["optional-dependencies"]["airflow"] if d.startswith("apache-airflow")
    )
    version = pin.split("==")[1]
    assert airflow.base == f"apache/airflow:{version}-python3.11", (
        f"the image is {airflow.base}, the extra pins {pin}"
    )
    install = " ".join(airflow.all("RUN"))
    assert "--constraint" in install, "AutoHub goes in with Airflow's pins as constraints"
    assert "apache-airflow==${AIRFLOW_VERSION}" in install
    assert "[airflow]" not in install, "Airflow is in the base image already; the extra would reinstall it"
    copies = [c.split() for c in airflow.all("COPY")]
    assert any(c[-2].rstrip("/") == "dags" and c[-1].rstrip("/") == "/opt/airflow/dags" for c in copies)
    assert (ROOT / "dags").is_dir(), "the Airflow image copies dags/, which must exist"


def test_every_copy_from_the_context_exists_and_is_not_dockerignored() -> None:
    ignored = [
        p for p in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines() if p and p[0] != "#"
    ]

    def is_ignored(path: str) -> bool:
        """Docker's rule, near enough for these patterns: a path is out when it or a parent folder matches."""
        parts = path.strip("/").split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        return any(fnmatch(prefix, pattern.lstrip("/")) for prefix in prefixes for pattern in ignored)

    for keyword, args in dockerfile_instructions():
        words = args.split()
        if keyword != "COPY" or any(w.startswith("--from") for w in words):
            continue
        for source in [w for w in words if not w.startswith("--")][:-1]:
            if source != ".":
                assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
                assert not is_ignored(source), f"COPY {source}: left out of the context by .dockerignore"
    # `COPY . .` + `pip install .`: the build needs the project's metadata and every package it lists.
    packages = PYPROJECT["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    for needed in ("pyproject.toml", "README.md", *packages):
        assert not is_ignored(needed), f"{needed} is needed to build the wheel but .dockerignore drops it"
    for unwanted in (".venv", "var", ".git", ".mypy_cache", "docker/hub.env", "docker/.env", "tests"):
        assert is_ignored(unwanted), f"{unwanted} should stay out of the build context"


def _root_command() -> Any:
    return typer.main.get_command(app)


def _commands_in_use() -> dict[str, list[list[str]]]:
    """Every `autohub …` the images run, the compose services run, and the docker room's files mention."""
    found: dict[str, list[list[str]]] = {}
    for name, service in services().items():
        command = service.get("command") or []
        if command[:1] == ["autohub"]:
            found.setdefault(f"compose {name}", []).append(command[1:])
    for keyword, args in dockerfile_instructions():
        if keyword == "CMD":
            command = _json_command(args)
            if command[:1] == ["autohub"]:
                found.setdefault("Dockerfile CMD", []).append(command[1:])
    documents = (
        COMPOSE_PATH,
        DOCKERFILE_PATH,
        *DOCKER.glob("*.example"),
        *DOCKER.glob("*.py"),
        ROOT / "docs" / "scaling.md",
    )
    for path in documents:
        lines = autohub_command_lines(path.read_text(encoding="utf-8"))
        if lines:
            found.setdefault(str(path.relative_to(ROOT)), []).extend(lines)
    return found


def test_every_autohub_command_in_the_docker_room_exists() -> None:
    in_use = _commands_in_use()
    assert "Dockerfile CMD" in in_use
    assert {"compose hub-migrate", "compose hub-api", "compose dms-consumer"} <= set(in_use)
    root, runner = _root_command(), CliRunner()
    for where, commands in in_use.items():
        for words in commands:
            try:
                path = resolve_command(root, words)
            except UnknownCommand as exc:
                pytest.fail(f"{where}: {exc}")
            result = runner.invoke(app, [*path, "--help"])
            assert result.exit_code == 0, f"{where}: autohub {' '.join(path)} --help → {result.output}"


@pytest.mark.parametrize(
    ("words", "wrong"),
    [
        (["serve", "--port", "8000", "--worker", "2"], "--worker"),
        (["dms", "consme"], "consme"),
        (["db"], "a group"),
        (["migrate"], "migrate"),
    ],
)
def test_the_command_check_catches_a_typo(words: list[str], wrong: str) -> None:
    with pytest.raises(UnknownCommand, match=wrong):
        resolve_command(_root_command(), words)


def test_the_roles_commands_are_the_ones_the_brief_names() -> None:
    found = services()
    assert found["hub-migrate"]["command"] == ["autohub", "db", "upgrade"]
    assert found["dms-consumer"]["command"] == ["autohub", "dms", "consume"]
    api = found["hub-api"]["command"]
    assert api[:2] == ["autohub", "serve"]
    assert api[api.index("--host") + 1] == "0.0.0.0"  # noqa: S104 - inside a container, the point


@pytest.mark.parametrize("service", ["fake-erp", "fake-insurance"])
def test_the_fake_servers_commands_take_the_options_given(service: str) -> None:
    command = services()[service]["command"]
    assert command[:2] == ["python", "-m"]
    done = subprocess.run(
        [sys.executable, "-m", command[2], "--help"], capture_output=True, text=True, check=False, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    for option in [w for w in command[3:] if w.startswith("--")]:
        assert re.search(rf"(?<![\w-]){re.escape(option)}\b", done.stdout), f"{command[2]} has no {option}"


def test_every_healthcheck_of_the_hub_image_uses_a_known_check() -> None:
    probes = [
        service["healthcheck"]["test"]
        for service in services().values()
        if "autohub-healthcheck" in str((service.get("healthcheck") or {}).get("test"))
    ]
    assert len(probes) >= 4
    for probe in probes:
        assert probe[0] == "CMD", probe
        assert probe[1] == "autohub-healthcheck", probe
        assert probe[2] in healthcheck_script().KINDS, f"autohub-healthcheck has no check {probe[2]!r}"
