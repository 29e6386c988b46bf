"""The suite's own rule: a service test skipped in CI fails the run."""

from pathlib import Path

import pytest

SKIPPING_SERVICE_TEST = """
import pytest

@pytest.mark.rabbitmq
def test_needs_broker():
    pytest.skip("broker not reachable")

def test_plain():
    pytest.skip("not a service test")
"""


@pytest.mark.parametrize(("required", "failed", "skipped"), [("1", 1, 1), ("0", 0, 2)])
def test_service_skip_fails_only_when_services_are_required(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, required: str, failed: int, skipped: int
) -> None:
    monkeypatch.setenv("AUTOHUB_REQUIRE_SERVICES", required)
    pytester.makeconftest((Path(__file__).parent / "conftest.py").read_text(encoding="utf-8"))
    pytester.makeini("[pytest]\nmarkers =\n    rabbitmq: needs RabbitMQ\n")
    pytester.makepyfile(SKIPPING_SERVICE_TEST)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=failed, skipped=skipped)
