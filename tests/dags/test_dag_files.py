"""The DAG files: Airflow 3 authoring only (``airflow.sdk``), thin over library code, no work at import time."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

from tests.dags.conftest import DAG_IDS, DAGS, REPO, AirflowHome

# What a DAG file may import at its top: Airflow's authoring SDK, the standard library, and the light
# orchestration settings. Everything else is imported inside the task callables.
ALLOWED_TOP_LEVEL = ("airflow.sdk", "jobs.config", "__future__", "datetime", "typing")
HEAVY = ("zeep", "pika", "splink", "duckdb", "store", "matching", "connectors", "pipeline", "mappings",
         "hub_api", "recall", "autohub", "jobs.sync", "jobs.matching", "jobs.store_access")  # fmt: skip


def _top_level_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append(node.module or "")
    return found


def test_dag_files_import_only_the_airflow_sdk_and_light_settings_at_the_top() -> None:
    files = sorted(DAGS.glob("*.py"))
    assert files
    for path in files:
        for module in _top_level_imports(path):
            assert module.startswith(ALLOWED_TOP_LEVEL), f"{path.name} imports {module} at the top"
            if module.startswith("airflow"):
                assert module.startswith("airflow.sdk"), f"{path.name}: Airflow 2 path {module}"


def test_nothing_imports_the_dags_folder() -> None:
    offenders = []
    for path in REPO.rglob("*.py"):
        if any(part in {".venv", "dags", "tests"} for part in path.relative_to(REPO).parts):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])  # fmt: skip
            offenders += [f"{path}: {n}" for n in names if n == "dags" or n.startswith("dags.")]
    assert offenders == []


def test_ruff_airflow_rules_are_clean_on_the_dags() -> None:
    ruff = Path(sys.executable).with_name("ruff")
    done = subprocess.run([str(ruff), "check", "--select", "AIR", str(DAGS)], capture_output=True, text=True,
                          check=False)  # fmt: skip
    assert done.returncode == 0, done.stdout


_IMPORT_PROBE = """
import importlib.util, json, socket, sys
from pathlib import Path

def refuse(*args, **kwargs):
    raise AssertionError("a DAG file opened a network connection at import time")

socket.socket.connect = refuse
socket.create_connection = refuse
before = set(sys.modules)
dags = {}
for path in sorted(Path(sys.argv[1]).glob("*.py")):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    from airflow.sdk import DAG
    dags.update({v.dag_id: path.name for v in vars(module).values() if isinstance(v, DAG)})
new = sorted(m for m in set(sys.modules) - before)
print(json.dumps({"modules": new, "files": [p.name for p in Path(sys.argv[2]).rglob("*")]}))
"""


def test_importing_every_dag_does_no_work(airflow_home: AirflowHome, tmp_path: Path) -> None:
    """No connection opened, no file written, none of the hub's heavy modules loaded — in a fresh interpreter."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    env = {**airflow_home.env, "AUTOHUB_DATA_DIR": str(data_dir)}
    done = subprocess.run([sys.executable, "-c", _IMPORT_PROBE, str(DAGS), str(data_dir)], env=env,
                          capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["files"] == []
    loaded_heavy = [m for m in seen["modules"] if m.split(".")[0] in HEAVY or m in HEAVY]
    assert loaded_heavy == []


def test_airflow_parses_every_dag_without_import_errors(airflow_home: AirflowHome) -> None:
    errors = airflow_home.run("dags", "list-import-errors", "-o", "json")
    assert errors.returncode == 0, errors.stderr[-3000:]
    last = errors.stdout.strip().splitlines()[-1] if errors.stdout.strip() else "[]"
    assert "No data found" in last or json.loads(last) == [], errors.stdout[-3000:]
    listed = airflow_home.run("dags", "list", "-o", "json")
    assert listed.returncode == 0, listed.stderr[-3000:]
    dag_ids = {d["dag_id"] for d in json.loads(listed.stdout.strip().splitlines()[-1])}
    assert dag_ids == DAG_IDS
