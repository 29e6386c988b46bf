"""The demo profile's fake partners started the way docker-compose.yml starts them (`python -m fakes.… --host
0.0.0.0`), then read by the hub's real connectors through a host name other than the bind address, as the hub
container reaches `fake-erp` and `fake-insurance`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from connectors.erp_soap import ErpSoapConfig, ErpSoapConnector
from connectors.insurance_rest import InsuranceRestConfig, InsuranceRestConnector
from core.errors import ConfigError
from fakes.insurance_api import InsuranceApi
from tests.docker.files import ROOT

ANY_INTERFACE = "0.0.0.0"  # noqa: S104 - what a container's server listens on
Started = tuple[int, Callable[[], str]]  # port, and "stop it and give me what it printed"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def start_fake() -> Iterator[Callable[..., Started]]:
    running: list[subprocess.Popen[str]] = []

    def start(module: str, *args: str, env: dict[str, str] | None = None) -> Started:
        port = _free_port()
        command = [
            sys.executable,
            "-m",
            module,
            "--host",
            ANY_INTERFACE,
            "--port",
            str(port),
            "--people",
            "30",
            *args,
        ]
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        running.append(process)
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, f"{module} exited: {process.communicate()[0]}"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, f"{module} did not listen on {port} within 60 s"
                time.sleep(0.1)

        def stop() -> str:
            process.terminate()
            return process.communicate(timeout=10)[0]

        return port, stop

    yield start
    for process in running:
        if process.poll() is None:
            process.kill()
            process.communicate()


def test_the_fake_erp_serves_a_wsdl_that_names_the_host_the_client_used(
    start_fake: Callable[..., Started], tmp_path: Path
) -> None:
    port, stop = start_fake("fakes.erp_soap")
    wsdl_url = f"http://localhost:{port}/erp?wsdl"
    assert f'location="http://localhost:{port}/erp"' in httpx.get(wsdl_url).text
    connector = ErpSoapConnector(ErpSoapConfig(wsdl_url=wsdl_url), cache_path=tmp_path / "zeep.db")
    customers = [record for page in connector.read("customers", None) for record in page.records]
    assert customers, "the connector read the generated customers through the advertised address"
    assert all(record.source == "erp" for record in customers)
    assert "fake ERP WSDL at http://0.0.0.0:" in stop()


def test_the_fake_insurer_accepts_the_client_configured_for_the_hub(
    start_fake: Callable[..., Started],
) -> None:
    secret = "from-the-hub-env-file"
    port, stop = start_fake("fakes.insurance_api", env={"AUTOHUB_INSURANCE__CLIENT_SECRET": secret})
    base_url = f"http://localhost:{port}"
    connector = InsuranceRestConnector(
        InsuranceRestConfig(base_url=base_url, client_secret=secret, max_wait_s=1)
    )
    policies = [record for page in connector.read("policies", None) for record in page.records]
    assert policies, "the connector read the generated policies"
    demo_secret = InsuranceApi().client_secret
    with pytest.raises(ConfigError):
        list(
            InsuranceRestConnector(
                InsuranceRestConfig(base_url=base_url, client_secret=demo_secret, max_wait_s=1)
            ).read("policies", None)
        )
    printed = stop()
    assert f"{len(policies):,} policies" in printed
    assert secret not in printed, "a configured secret stays out of the log"


def test_the_fake_insurer_without_configuration_takes_and_shows_its_demo_client(
    start_fake: Callable[..., Started],
) -> None:
    env = {"AUTOHUB_INSURANCE__CLIENT_ID": "", "AUTOHUB_INSURANCE__CLIENT_SECRET": ""}
    port, stop = start_fake("fakes.insurance_api", env=env)
    demo = InsuranceApi()
    token = httpx.post(
        f"http://127.0.0.1:{port}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(demo.client_id, demo.client_secret),
    )
    assert token.status_code == 200, token.text
    assert demo.client_secret in stop()
