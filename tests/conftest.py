"""Suite-wide rules.

A test that needs a real service (PostgreSQL, MariaDB, RabbitMQ) may skip on a developer's laptop where the
service is absent, but never in CI: with ``AUTOHUB_REQUIRE_SERVICES=1`` (set by .ci/run) such a skip is turned
into a failure, so a green CI always means the integration tests ran.
"""

from __future__ import annotations

import os
from collections.abc import Generator

import pytest

pytest_plugins = ["pytester"]

SERVICE_MARKERS = ("postgres", "mariadb", "rabbitmq")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, None, None]:
    outcome = yield
    report = outcome.get_result()
    if not (report.skipped and os.environ.get("AUTOHUB_REQUIRE_SERVICES") == "1"):
        return
    needed = [m for m in SERVICE_MARKERS if item.get_closest_marker(m)]
    if needed:
        report.outcome = "failed"
        report.longrepr = (
            f"{item.nodeid} needs {', '.join(needed)} and was skipped; in CI a missing service is a failure "
            "(.ci/services.sh starts them)"
        )
