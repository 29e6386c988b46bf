"""The insurance connector against a real HTTP server (fakes.insurance_api) that injects faults."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import Result

from connectors.insurance_rest import InsuranceRestConfig, InsuranceRestConnector, SourceRejected
from connectors.runner import run_sync
from core.errors import ConfigError, SourceUnavailable
from fakes.insurance_api import Faults, InsuranceApi
from pipeline import Loader
from store.tables import QuarantineRow
from tests.mappings.test_sources import INSURANCE_POLICY


def _policy(n: int, updated: str | None = None, **changes: Any) -> dict[str, Any]:
    updated = updated or f"2024-01-01T09:{n % 60:02d}:00+08:00"
    return {**INSURANCE_POLICY, "policyNo": f"PDAA{n:06d}", "updatedAt": updated, **changes}


@pytest.fixture
def api() -> Iterator[InsuranceApi]:
    server = InsuranceApi(policies=[_policy(n) for n in range(7)])
    server.base_url = server.start()  # type: ignore[attr-defined]
    yield server
    server.stop()


def _settings(api: InsuranceApi, **config: Any) -> dict[str, Any]:
    return {"base_url": api.base_url, "client_secret": "demo-secret", "page_size": 3, "max_wait_s": 2.0,  # type: ignore[attr-defined]
            **config}  # fmt: skip


def _connector(api: InsuranceApi, **config: Any) -> InsuranceRestConnector:
    return InsuranceRestConnector(InsuranceRestConfig(**_settings(api, **config)))


def _ids(connector: InsuranceRestConnector, state: dict[str, Any] | None = None) -> list[str]:
    return [r.source_id for page in connector.read("policies", state) for r in page.records]


def test_pages_through_all_policies_with_one_token(api: InsuranceApi) -> None:
    assert _ids(_connector(api)) == [f"PDAA{n:06d}" for n in range(7)]
    assert (api.tokens_issued, api.policy_requests) == (1, 3)


def test_an_expired_token_is_renewed_once(api: InsuranceApi) -> None:
    pages = _connector(api).read("policies", None)
    next(pages)
    api._tokens.clear()  # the partner revokes/expires every token between two pages
    rest = [r.source_id for page in pages for r in page.records]
    assert len(rest) == 4
    assert api.tokens_issued == 2


def test_429_waits_the_retry_after_the_server_asked_for(api: InsuranceApi) -> None:
    api.faults = Faults(rate_limit_on={2}, retry_after_s=1)
    started = time.monotonic()
    assert len(_ids(_connector(api))) == 7
    assert time.monotonic() - started >= 1.0
    assert api.policy_requests == 4


def test_5xx_and_timeouts_are_retried(api: InsuranceApi) -> None:
    api.faults = Faults(error_on={1, 2}, slow_on={3}, slow_s=1.0)
    assert len(_ids(_connector(api, timeout_s=0.3))) == 7


def test_retries_are_bounded(api: InsuranceApi) -> None:
    api.faults = Faults(error_on=set(range(1, 100)))
    with pytest.raises(SourceUnavailable, match="answered 500"):
        _ids(_connector(api, attempts=3))
    assert api.policy_requests == 3


def test_4xx_is_reported_not_retried(api: InsuranceApi) -> None:
    api.faults = Faults(forbidden=True)
    with pytest.raises(SourceRejected, match="403"):
        _ids(_connector(api))
    assert api.policy_requests == 1


def test_wrong_credentials_are_a_config_error(api: InsuranceApi) -> None:
    with pytest.raises(ConfigError, match="client credentials"):
        _ids(_connector(api, client_secret="wrong"))


def test_incremental_sync_into_the_store_with_quarantine(api: InsuranceApi, loader: Loader) -> None:
    api.policies.append(_policy(90, vin="LFV2A21K0G3000001"))  # bad check digit: the holder is kept
    api.policies.append({"note": "no policy number"})  # not a policy at all
    first = run_sync(_connector(api, lookback_s=0), loader)
    assert (first.records_in, first.mapped, first.partial, first.quarantined) == (9, 7, 1, 1)
    api.policies.append(_policy(100, updated="2024-02-01T09:00:00+08:00"))
    api.policies[0] = _policy(0, updated="2024-02-02T09:00:00+08:00", insurer="平安产险")
    second = run_sync(_connector(api, lookback_s=0), loader)
    # Only what changed since the watermark, plus the watermark's own record (updated_since is inclusive).
    assert (second.records_in, second.mapped, second.unchanged) == (3, 2, 1)
    with Session(loader.sessions.kw["bind"]) as session:
        reasons = sorted(e.reason for e in session.scalars(select(QuarantineRow)))
    assert reasons == ["invalid_vin.check_digit"] * 3 + ["not_a_policy"]  # policy, car and role of PDAA000090


def test_autohub_sync_insurance_command(
    api: InsuranceApi, monkeypatch: pytest.MonkeyPatch, hub_cli: Callable[..., Result]
) -> None:
    monkeypatch.setenv("AUTOHUB_INSURANCE__BASE_URL", api.base_url)  # type: ignore[attr-defined]
    monkeypatch.setenv("AUTOHUB_INSURANCE__CLIENT_SECRET", "demo-secret")
    assert hub_cli("db", "upgrade").exit_code == 0
    result = hub_cli("sync", "insurance")
    assert result.exit_code == 0, result.output
    assert "7 records in" in result.output
    api.faults = Faults(forbidden=True)
    refused = hub_cli("sync", "insurance")
    assert refused.exit_code == 1
    assert "403" in refused.output
    assert "demo-secret" not in refused.output


def test_insurance_passes_the_connector_conformance_checks(
    api: InsuranceApi, loader: Loader, tmp_path: Path
) -> None:
    from tests.connectors.conformance import by_type, check_conformance

    api.policies.append(_policy(50, vin="LFV2A21K0G3000001"))  # partly mapped: the holder is kept
    api.policies.append(_policy(51, holder={**INSURANCE_POLICY["holder"], "mobile": "1381234567"}))  # whole
    check_conformance(by_type("rest", _settings(api), "insurance", tmp_path), loader)
