"""docker/docker-compose.yml read as data: services, start order, health, env files, secrets, settings names.

There is no Docker engine where the suite runs, so nothing is started; these checks catch what would make
`docker compose up` fail or misbehave: a missing file, a dependency that cannot be met, a setting name with a
typo (pydantic-settings would ignore it silently), a password written into the file.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from core.settings import Settings
from tests.docker.files import (
    AUTOHUB_NAME,
    COMPOSE_PATH,
    DOCKER,
    INTERPOLATION,
    ROOT,
    SECRET_NAME,
    URL_PASSWORD,
    compose,
    depends_on,
    env_files,
    environment,
    has_healthcheck,
    is_one_shot,
    literal_secrets,
    read_env_file,
    services,
    settings_variable_names,
    strings,
)

HEALTHY, COMPLETED = "service_healthy", "service_completed_successfully"

# What each service must wait for (it may wait for more).
START_ORDER = {
    "hub-migrate": {"postgres": HEALTHY},
    "hub-api": {"postgres": HEALTHY, "hub-migrate": COMPLETED},
    "dms-consumer": {"rabbitmq": HEALTHY, "hub-migrate": COMPLETED},
    "airflow-init": {"postgres": HEALTHY},
    "airflow-apiserver": {"postgres": HEALTHY, "airflow-init": COMPLETED},
    "airflow-scheduler": {"postgres": HEALTHY, "airflow-init": COMPLETED, "hub-migrate": COMPLETED},
    "airflow-dag-processor": {"postgres": HEALTHY, "airflow-init": COMPLETED},
    "airflow-triggerer": {"postgres": HEALTHY, "airflow-init": COMPLETED},
    "airflow-worker": {"redis": HEALTHY, "airflow-init": COMPLETED, "airflow-apiserver": HEALTHY},
}
PROFILES = {
    "fake-erp": {"demo"},
    "fake-insurance": {"demo"},
    "redis": {"celery"},
    "airflow-worker": {"celery"},
}
ONE_SHOTS = {"hub-migrate", "airflow-init"}
EXAMPLE_PLACEHOLDER = "change-me"


def _example(name: str) -> Path:
    return DOCKER / f"{name}.example"


def _substituted(value: str) -> str:
    """A compose value with every ${…} replaced by a stand-in, to parse URLs."""
    return INTERPOLATION.sub("x", value)


def test_the_required_services_exist_and_optional_ones_sit_in_their_profiles() -> None:
    found = services()
    missing = (set(START_ORDER) | set(PROFILES) | {"postgres", "rabbitmq"}) - set(found)
    assert not missing, f"docker-compose.yml lacks {sorted(missing)}"
    for name, profiles in PROFILES.items():
        assert set(found[name].get("profiles", [])) == profiles, name
    always = [name for name in (*START_ORDER, "postgres", "rabbitmq") if name not in PROFILES]
    assert not [name for name in always if found[name].get("profiles")], (
        "core services must start without a profile"
    )


def test_every_long_running_service_has_a_healthcheck_and_restarts() -> None:
    for name, service in services().items():
        if is_one_shot(service):
            continue
        assert has_healthcheck(service), f"{name} runs for good but has no healthcheck"
        test = service["healthcheck"]["test"]
        assert isinstance(test, list), f"{name}: healthcheck test as a list"
        assert test[0] in {"CMD", "CMD-SHELL"}, f"{name}: healthcheck test form"
        assert service.get("restart") in {"always", "unless-stopped", "on-failure"}, (
            f"{name} is not restarted"
        )
    for name in ONE_SHOTS:
        assert is_one_shot(services()[name]), f"{name} is a one-shot: restart: 'no'"
        assert not services()[name].get("ports"), f"{name} is a one-shot and serves nothing"


@pytest.mark.parametrize(("name", "needed"), START_ORDER.items())
def test_start_order(name: str, needed: dict[str, str]) -> None:
    actual = depends_on(services()[name])
    wrong = {dep: actual.get(dep) for dep, condition in needed.items() if actual.get(dep) != condition}
    assert not wrong, f"{name} must wait for {needed}; depends_on says {actual}"


def test_depends_on_can_be_met() -> None:
    found = services()
    graph = {}
    for name, service in found.items():
        deps = depends_on(service)
        graph[name] = set(deps)
        for dep, condition in deps.items():
            assert dep in found, f"{name} depends on {dep}, which does not exist"
            assert condition in {HEALTHY, COMPLETED}, f"{name} → {dep}: say which condition ({condition})"
            if condition == HEALTHY:
                assert has_healthcheck(found[dep]), (
                    f"{name} waits for {dep} healthy, which has no healthcheck"
                )
            else:
                assert is_one_shot(found[dep]), f"{name} waits for {dep} to complete, which runs for good"
            # Compose refuses to start a service whose dependency sits in a profile it is not in.
            if found[dep].get("profiles"):
                shared = set(found[dep]["profiles"]) & set(service.get("profiles", []))
                assert shared, f"{name} depends on {dep} of profile {found[dep]['profiles']} outside it"
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        pytest.fail(f"depends_on has a cycle: {exc.args[1]}")


def test_build_contexts_dockerfiles_targets_and_mounted_files_exist() -> None:
    dockerfile_text = ""
    built = 0
    for name, service in services().items():
        build = service.get("build")
        if build:
            built += 1
            context = (COMPOSE_PATH.parent / build["context"]).resolve()
            assert context == ROOT, f"{name}: the build context is the repository root"
            dockerfile = context / build["dockerfile"]
            assert dockerfile.is_file(), f"{name}: {dockerfile} missing"
            dockerfile_text = dockerfile.read_text(encoding="utf-8")
            target = build.get("target")
            assert target, f"{name}: say which stage of {dockerfile} to build"
            stage = re.search(rf"^FROM \S+ AS {re.escape(target)}$", dockerfile_text, re.M | re.I)
            assert stage, f"{name}: build target {target!r} is no stage of {dockerfile}"
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0] if isinstance(volume, str) else volume.get("source", "")
            if source.startswith((".", "/")):
                assert (COMPOSE_PATH.parent / source).exists(), (
                    f"{name} mounts {source}, which does not exist"
                )
            elif source:
                assert source in (compose().get("volumes") or {}), f"{name}: volume {source} is not declared"
    assert built >= 2, "the hub and Airflow services are built from docker/Dockerfile"


def test_host_ports_are_not_taken_twice() -> None:
    seen: dict[str, str] = {}
    for name, service in services().items():
        for port in service.get("ports", []):
            host = str(port).rsplit(":", 1)[0]
            assert host not in seen, f"{name} and {seen.get(host)} both publish {host}"
            seen[host] = name


def _git_ignores(path: str) -> bool:
    git = shutil.which("git")
    assert git, "git is needed to ask which files .gitignore covers"
    done = subprocess.run([git, "check-ignore", "-q", "--no-index", path], cwd=ROOT, check=False)
    assert done.returncode in {0, 1}, f"git check-ignore failed on {path}"
    return done.returncode == 0


def test_every_env_file_has_a_committed_example_and_is_ignored_by_git() -> None:
    referenced = {file for service in services().values() for file in env_files(service)}
    assert {"hub.env", "airflow.env"} <= referenced
    for name in sorted(referenced | {".env"}):  # .env: compose reads it itself for the ${…} values
        assert _example(name).is_file(), f"docker/{name} is referenced; commit docker/{name}.example"
        assert _git_ignores(f"docker/{name}"), f"docker/{name} holds secrets: .gitignore must cover it"
        assert not _git_ignores(f"docker/{name}.example"), f"docker/{name}.example must be committed"


def test_every_interpolated_variable_is_documented_and_required_ones_are_in_dot_env_example() -> None:
    example_text = _example(".env").read_text(encoding="utf-8")
    defined = read_env_file(_example(".env"))
    found = {
        (m.group("name"), m.group("rest"))
        for _, value in strings(compose())
        for m in INTERPOLATION.finditer(value)
    }
    assert found, "the compose file takes its passwords from ${…}"
    for name, rest in found:
        if rest.startswith((":?", "?")) or not rest:
            assert name in defined, f"${{{name}}} is required: set it in docker/.env.example"
        else:
            assert re.search(rf"\b{name}=", example_text), f"${{{name}}}: mention it in docker/.env.example"


def test_no_literal_secret_in_the_compose_file() -> None:
    assert literal_secrets(compose()) == []


@pytest.mark.parametrize(("tree", "caught"), [
    ({"environment": {"POSTGRES_PASSWORD": "hunter2"}}, True),
    ({"environment": ["RABBITMQ_DEFAULT_PASS=hunter2"]}, True),
    ({"environment": {"AUTOHUB_DMS__URL": "amqp://hub:hunter2@rabbitmq:5672/%2F"}}, True),
    ({"command": ["sh", "-c", "psql postgresql://autohub:pw@postgres/autohub"]}, True),
    ({"environment": {"POSTGRES_PASSWORD": "${POSTGRES_PASSWORD:-hunter2}"}}, True),  # a default is a literal
    ({"environment": {"POSTGRES_PASSWORD": "${POSTGRES_PASSWORD:?set it in .env}"}}, False),
    ({"environment": {"AUTOHUB_DMS__URL": "amqp://hub:${RABBITMQ_PASSWORD:?set it}@rabbitmq/%2F"}}, False),
])  # fmt: skip
def test_the_secret_check_catches_literals(tree: dict[str, object], caught: bool) -> None:
    assert bool(literal_secrets(tree)) is caught


@pytest.mark.parametrize("name", ["hub.env", "airflow.env", ".env"])
def test_env_examples_hold_placeholders_not_secrets(name: str) -> None:
    values = read_env_file(_example(name))
    assert values, f"docker/{name}.example sets nothing"
    for key, value in values.items():
        if SECRET_NAME.search(key):
            assert value == EXAMPLE_PLACEHOLDER, (
                f"{name}.example: {key} must be the placeholder {EXAMPLE_PLACEHOLDER}"
            )
        for match in URL_PASSWORD.finditer(value):
            assert match.group("password") == EXAMPLE_PLACEHOLDER, f"{name}.example: {key} carries a password"


def test_env_files_do_not_set_what_compose_overrides() -> None:
    """Compose's `environment` wins over `env_file`: a name set in both is dead configuration in the file."""
    for name, service in services().items():
        overridden = set(environment(service))
        for file in env_files(service):
            both = overridden & set(read_env_file(_example(file)))
            assert not both, (
                f"{name}: {sorted(both)} in {file} would be ignored (docker-compose.yml sets them)"
            )


def _autohub_names_in_use() -> dict[str, set[str]]:
    """AUTOHUB_* names per file, commented-out examples included: a typo there is copied by the next reader."""
    paths = [
        COMPOSE_PATH,
        DOCKER / "Dockerfile",
        ROOT / "docs" / "scaling.md",
        ROOT / "fakes" / "insurance_api.py",
    ]
    paths += sorted(DOCKER.glob("*.example")) + sorted(DOCKER.glob(".*.example"))
    return {str(p.relative_to(ROOT)): set(AUTOHUB_NAME.findall(p.read_text(encoding="utf-8"))) for p in paths}


def test_settings_names_are_derived_from_the_settings_model() -> None:
    names = settings_variable_names(Settings)
    nested = [n for n in names if "__" in n]
    assert {"AUTOHUB_DATABASE_URL", "AUTOHUB_DMS__URL"} <= names
    assert nested
    assert all(n.split("__")[0] in names for n in nested), "every nested name has its block"
    # Blocks that are dicts (ERP streams) are JSON values, not more nesting.
    assert not [n for n in names if n.startswith("AUTOHUB_ERP__STREAMS__")]


def test_every_autohub_variable_named_is_a_real_setting() -> None:
    valid = settings_variable_names(Settings)
    in_use = _autohub_names_in_use()
    assert in_use[str(COMPOSE_PATH.relative_to(ROOT))], (
        "the compose file sets the hub's store and broker URLs"
    )
    unknown = {path: sorted(names - valid) for path, names in in_use.items() if names - valid}
    assert not unknown, f"not settings of core.settings.Settings (typo?): {unknown}"


def test_urls_agree_with_the_servers_they_point_at() -> None:
    found = services()
    pg = environment(found["postgres"])
    hub = environment(found["hub-api"])
    store = urlsplit(_substituted(hub["AUTOHUB_DATABASE_URL"]))
    assert (store.hostname, store.username, store.path.strip("/")) == (
        "postgres",
        pg["POSTGRES_USER"],
        pg["POSTGRES_DB"],
    )
    assert found["postgres"]["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    assert pg["POSTGRES_USER"] in found["postgres"]["healthcheck"]["test"]
    rabbit = environment(found["rabbitmq"])
    for key in ("AUTOHUB_DMS__URL", "AUTOHUB_OUTBOX__URL"):
        broker = urlsplit(_substituted(hub[key]))
        assert (broker.hostname, broker.username) == ("rabbitmq", rabbit["RABBITMQ_DEFAULT_USER"]), key
    airflow_db = urlsplit(
        _substituted(environment(found["airflow-scheduler"])["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    )
    assert airflow_db.hostname == "postgres"
    assert airflow_db.username == pg["POSTGRES_USER"]
    assert airflow_db.path.strip("/") != pg["POSTGRES_DB"], "Airflow's metadata has a database of its own"
    init_sql = (DOCKER / "postgres-init.sql").read_text(encoding="utf-8")
    assert re.search(rf"CREATE DATABASE {airflow_db.path.strip('/')}\b", init_sql, re.I)
    assert any(
        "postgres-init.sql" in v and "docker-entrypoint-initdb.d" in v for v in found["postgres"]["volumes"]
    )


def test_the_demo_env_points_at_the_fakes_ports() -> None:
    hub_env = read_env_file(_example("hub.env"))
    for setting, fake in (
        ("AUTOHUB_ERP__WSDL_URL", "fake-erp"),
        ("AUTOHUB_INSURANCE__BASE_URL", "fake-insurance"),
    ):
        url = urlsplit(hub_env[setting])
        command = services()[fake]["command"]
        port = command[command.index("--port") + 1]
        assert (url.hostname, str(url.port)) == (fake, port), f"{setting} does not reach {fake}"
        listen = command[command.index("--host") + 1]
        assert listen == "0.0.0.0", f"{fake} must listen beyond its container"  # noqa: S104 - it is the point


def test_the_airflow_executor_is_switched_in_the_env_file_with_the_celery_profile() -> None:
    found = services()
    airflow = [name for name, service in found.items() if name.startswith("airflow-")]
    assert len(airflow) >= 6
    for name in airflow:
        assert "AIRFLOW__CORE__EXECUTOR" not in environment(found[name]), (
            f"{name}: compose would override the env file"
        )
        assert "airflow.env" in env_files(found[name]), name
    assert read_env_file(_example("airflow.env")).get("AIRFLOW__CORE__EXECUTOR") == "LocalExecutor"
    assert found["airflow-worker"]["command"] == ["airflow", "celery", "worker"]
    assert "AIRFLOW__CELERY__BROKER_URL" in environment(found["airflow-worker"])
    commands = {name: found[name]["command"] for name in airflow}
    assert commands["airflow-init"] == ["airflow", "db", "migrate"]
    assert commands["airflow-apiserver"] == ["airflow", "api-server"]
    assert any("8080" in str(port) for port in found["airflow-apiserver"]["ports"])


def test_hub_services_get_the_hub_settings_and_the_airflow_api_server_does_not() -> None:
    found = services()
    for name in (
        "hub-migrate",
        "hub-api",
        "dms-consumer",
        "airflow-scheduler",
        "airflow-dag-processor",
        "airflow-worker",
    ):
        assert "hub.env" in env_files(found[name]), f"{name} runs hub code: it needs hub.env"
        assert "AUTOHUB_DATABASE_URL" in environment(found[name]), name
    for name in ("airflow-apiserver", "airflow-triggerer", "airflow-init", "postgres", "rabbitmq"):
        assert "hub.env" not in env_files(found[name]), f"{name} runs no hub code: keep the hub's secrets out"
