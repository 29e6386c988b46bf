"""The declarative REST type (``http``) against a real local HTTP server (fakes.rest_partner): every paging and
auth kind, incremental resume, the failure rules, the caps, and its configuration errors."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from connectors.origin import SourceOrigin
from connectors.rest_config import (
    AnswerTooLarge,
    AnswerUnreadable,
    AuthRefused,
    HttpSourceConfig,
    SourceRejected,
)
from connectors.rest_source import HttpConnector
from connectors.sources import declared_sources
from connectors.types import connector_types
from core.errors import ConfigError, SourceUnavailable
from core.settings import Settings
from fakes.rest_partner import RestPartner
from pipeline import Loader
from tests.mappings.test_sources import INSURANCE_POLICY

SECRET = "partner-secret"
AUTHS: dict[str, dict[str, Any]] = {
    "none": {"kind": "none"},
    "oauth2": {"kind": "oauth2_client_credentials", "token_url": "/oauth/token", "client_id": "autohub",
               "client_secret": SECRET, "scope": "records.read"},
    "api_key_header": {"kind": "api_key", "name": "X-API-Key", "api_key": SECRET},
    "api_key_query": {"kind": "api_key", "name": "apikey", "location": "query", "api_key": SECRET},
    "basic": {"kind": "basic", "username": "autohub", "password": SECRET},
    "bearer": {"kind": "bearer", "token": SECRET},
}  # fmt: skip
PAGING: dict[str, dict[str, Any]] = {
    "cursor": {"kind": "cursor", "cursor_path": "paging.next", "cursor_param": "cursor", "page_size": 3},
    "offset": {"kind": "offset", "page_size": 3},
    "offset_total": {"kind": "offset", "page_size": 3, "total_path": "total"},
    "page": {"kind": "page", "page_size": 3},
    "page_total": {"kind": "page", "page_size": 3, "total_pages_path": "pages"},
    "link": {"kind": "link", "limit_param": "limit", "page_size": 3},
    "none": {"kind": "none"},
}


def _record(n: int, changed: str | None = None) -> dict[str, Any]:
    return {"id": 1000 + n, "changed": changed or f"2026-03-01T10:{n:02d}:00+08:00", "name": f"客户{n}"}


@pytest.fixture
def partner() -> Iterator[RestPartner]:
    server = RestPartner(records=[_record(n) for n in range(7)])
    server.base_url = server.start()  # type: ignore[attr-defined]
    yield server
    server.stop()


def _settings(
    partner: RestPartner, *, auth: str = "none", paging: str = "cursor", **stream: Any
) -> dict[str, Any]:
    spec = {
        "path": partner.path,
        "records_path": "data.items",
        "id_path": "id",
        "change_time_path": "changed",
        "incremental": {"param": "since", "lookback_s": 60},
        "paging": PAGING[paging],
        **stream,
    }
    return {"base_url": partner.base_url, "auth": AUTHS[auth], "streams": {"records": spec},  # type: ignore[attr-defined]
            "max_wait_s": 2.0, "initial_wait_s": 0.05}  # fmt: skip


def _connector(settings: dict[str, Any], **top: Any) -> HttpConnector:
    return HttpConnector(HttpSourceConfig.model_validate({**settings, **top}), "partner_a")


def _read(connector: HttpConnector, state: dict[str, Any] | None = None) -> tuple[list[str], dict[str, Any]]:
    ids, last = [], {}
    for page in connector.read("records", state):
        ids += [r.source_id for r in page.records]
        last = page.state if not page.keeps_state else last
    return ids, last


ALL = [str(1000 + n) for n in range(7)]


@pytest.mark.parametrize(("paging", "requests"), [("cursor", 3), ("offset", 3), ("offset_total", 3), ("page", 3),
                                                  ("page_total", 3), ("link", 3), ("none", 1)])  # fmt: skip
def test_each_paging_kind_reads_every_record_once(partner: RestPartner, paging: str, requests: int) -> None:
    partner.paging = "page" if paging.startswith("page") else paging.removesuffix("_total")
    ids, state = _read(_connector(_settings(partner, paging=paging)))
    assert ids == ALL  # numbers as ids become text
    assert len(partner.requests) == requests
    assert state == {"changed_since": "2026-03-01T10:06:00+08:00"}


def test_offset_paging_stops_at_the_stated_total_without_asking_for_an_empty_page(
    partner: RestPartner,
) -> None:
    partner.paging = "offset"
    partner.records = partner.records[:6]  # two full pages: only the total says there is no third
    assert len(_read(_connector(_settings(partner, paging="offset_total")))[0]) == 6
    assert len(partner.requests) == 2


def test_a_link_to_another_origin_is_refused(partner: RestPartner) -> None:
    partner.paging, partner.link_origin = "link", "http://elsewhere.example:8080"
    with pytest.raises(SourceRejected, match=r"another origin: http://elsewhere\.example"):
        _read(_connector(_settings(partner, paging="link")))
    assert len(partner.requests) == 1


def test_an_absolute_link_on_the_same_origin_is_followed(partner: RestPartner) -> None:
    partner.paging, partner.link_origin = "link", partner.base_url  # type: ignore[attr-defined]
    assert _read(_connector(_settings(partner, paging="link")))[0] == ALL


@pytest.mark.parametrize("auth", list(AUTHS))
def test_each_auth_kind(partner: RestPartner, auth: str) -> None:
    partner.auth = auth
    assert _read(_connector(_settings(partner, auth=auth)))[0] == ALL
    assert partner.tokens_issued == (1 if auth == "oauth2" else 0)  # the token is cached across pages


@pytest.mark.parametrize("auth", ["api_key_header", "api_key_query", "basic", "bearer"])
def test_a_refused_static_credential_is_fatal_after_exactly_one_request(
    partner: RestPartner, auth: str
) -> None:
    partner.auth = auth
    partner.secret = "another-secret"
    with pytest.raises(AuthRefused, match="401") as refused:
        _read(_connector(_settings(partner, auth=auth)))
    assert len(partner.requests) == 1
    assert SECRET not in str(refused.value)


def test_a_stale_token_is_renewed_once(partner: RestPartner) -> None:
    partner.auth = "oauth2"
    pages = _connector(_settings(partner, auth="oauth2")).read("records", None)
    next(pages)
    partner.tokens.clear()  # the partner revokes every token between two pages
    assert sum(len(page.records) for page in pages) == 4
    assert partner.tokens_issued == 2


def test_a_401_with_a_fresh_token_is_fatal_and_not_retried(partner: RestPartner) -> None:
    partner.auth = "oauth2"
    partner.token_ttl_s = 0  # every token the partner issues is already expired
    with pytest.raises(AuthRefused, match="401 on /api/records with a fresh token"):
        _read(_connector(_settings(partner, auth="oauth2")))
    assert (len(partner.requests), partner.tokens_issued) == (2, 2)


def test_wrong_client_credentials_are_a_config_error(partner: RestPartner) -> None:
    partner.auth, partner.secret = "oauth2", "another-secret"
    with pytest.raises(ConfigError, match="refused our client credentials"):
        _read(_connector(_settings(partner, auth="oauth2")))
    assert partner.requests == []


def test_a_403_is_fatal_after_exactly_one_request(partner: RestPartner) -> None:
    partner.auth, partner.faults = "oauth2", {1: 403}
    with pytest.raises(AuthRefused, match=r"403 on /api/records.*client may not read records"):
        _read(_connector(_settings(partner, auth="oauth2")))
    assert len(partner.requests) == 1


def test_another_4xx_is_reported_with_the_partners_message_not_retried(partner: RestPartner) -> None:
    partner.faults = {1: 422}
    with pytest.raises(SourceRejected, match=r"refused /api/records with 422: .*client may not read"):
        _read(_connector(_settings(partner)))
    assert len(partner.requests) == 1


def test_429_waits_the_retry_after_the_partner_asked_for(partner: RestPartner) -> None:
    partner.faults, partner.retry_after_s = {2: 429}, 1
    started = time.monotonic()
    assert _read(_connector(_settings(partner)))[0] == ALL
    assert time.monotonic() - started >= 1.0
    assert len(partner.requests) == 4


def test_a_5xx_then_success_is_retried_and_the_retries_are_bounded(partner: RestPartner) -> None:
    partner.faults = {1: 500, 2: 503}
    assert _read(_connector(_settings(partner)))[0] == ALL
    partner.requests.clear()
    partner.faults = {n: 500 for n in range(1, 50)}
    with pytest.raises(SourceUnavailable, match="answered 500"):
        _read(_connector(_settings(partner), attempts=3))
    assert len(partner.requests) == 3


def test_an_answer_over_the_cap_is_cut_off_while_it_is_read(partner: RestPartner) -> None:
    partner.oversize_on = {1}  # 4 MiB, no Content-Length: only counting the bytes finds it
    started = time.monotonic()
    with pytest.raises(AnswerTooLarge, match="cut off: it passed 65,536 bytes"):
        _read(_connector(_settings(partner), max_answer_bytes=65_536))
    assert time.monotonic() - started < 2
    assert len(partner.requests) == 1  # never retried: asking again brings the same answer


def test_a_missing_records_path_names_the_source_stream_and_path(partner: RestPartner) -> None:
    with pytest.raises(AnswerUnreadable) as caught:
        _read(_connector(_settings(partner, records_path="result.rows")))
    assert "partner_a/records" in str(caught.value)
    assert "records_path result.rows (found nothing)" in str(caught.value)
    assert caught.value.field == "streams.records.records_path"


def test_incremental_resume_sends_the_watermark_minus_the_lookback_in_the_declared_format(
    partner: RestPartner,
) -> None:
    connector = _connector(_settings(partner))
    _, state = _read(connector)
    partner.records.append(_record(30))
    partner.requests.clear()
    ids, after = _read(connector, state)
    assert (
        partner.requests[0]["since"] == "2026-03-01T10:05:00+08:00"
    )  # 10:06 minus 60 s, as the partner writes
    assert ids == ["1005", "1006", "1030"]
    assert after == {"changed_since": "2026-03-01T10:30:00+08:00"}


def test_an_epoch_watermark_and_a_strftime_one(partner: RestPartner) -> None:
    partner.records = [{"id": "a", "changed": 1_772_330_400}, {"id": "b", "changed": 1_772_330_460}]
    epoch = _settings(partner, change_time_format="epoch_s",
                      incremental={"param": "since", "format": "epoch_s", "lookback_s": 0})  # fmt: skip
    _, state = _read(_connector(epoch))
    _read(_connector(epoch), state)
    assert partner.requests[-1]["since"] == "1772330460"
    stamp = _settings(partner, change_time_format="epoch_s", incremental={
        "param": "changed_after", "format": "%Y%m%d%H%M%S", "lookback_s": 0, "timezone": "Asia/Shanghai"})  # fmt: skip
    _read(_connector(stamp), state)
    assert partner.requests[-1]["changed_after"] == "20260301100100"


def test_a_stream_without_incremental_is_a_declared_full_extract(partner: RestPartner) -> None:
    ids, state = _read(_connector(_settings(partner, incremental=None)))
    assert ids == ALL
    assert state == {
        "changed_since": None,
        "full_extract": True,
        "newest_change": "2026-03-01T10:06:00+08:00",
    }
    _read(_connector(_settings(partner, incremental=None)), state)
    assert "since" not in partner.requests[-1]


def test_records_without_an_id_are_quarantined_not_dropped_and_a_bad_change_time_refused(
    partner: RestPartner,
) -> None:
    partner.paging = "none"
    partner.records = [_record(1), {"name": "no id"}, {"id": {"nested": 1}, "changed": "2026-03-01T10:00:00Z"},
                       {"id": "x9", "changed": "2026-13-45"}]  # fmt: skip
    (page,) = list(_connector(_settings(partner, paging="none")).read("records", None))
    assert [r.source_id for r in page.records] == ["1001"]
    assert [reason for reason, _ in page.unreadable] == ["missing_id", "missing_id"]
    assert '"no id"' in page.unreadable[0][1] or '"no id"' in page.unreadable[1][1]
    ((refused, error),) = page.refused
    assert (refused.source_id, error.reason) == ("x9", "bad_change_time")


def test_a_naive_change_time_without_a_declared_zone_stops_the_sync(partner: RestPartner) -> None:
    partner.records = [{"id": "a", "changed": "2026-03-01T10:00:00"}]
    with pytest.raises(ConfigError, match="no zone"):
        _read(_connector(_settings(partner)))
    _ids, state = _read(_connector(_settings(partner, source_timezone="Asia/Shanghai")))
    assert state == {"changed_since": "2026-03-01T10:00:00+08:00"}


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"paging": {"kind": "scroll"}}, "settings.streams.records.paging", "does not match any of the expected tags"),
        ({"paging": {"kind": "cursor"}}, "settings.streams.records.paging.cursor.cursor_path", "Field required"),
        ({"incremental": {"param": "since", "format": "yyyymmdd"}}, "settings.streams.records.incremental.format",
         "strftime pattern"),
        ({"change_time_path": None}, "settings.streams.records", "needs change_time_path"),
        ({"record_path": "data"}, "settings.streams.records.record_path", "unknown setting 'record_path'"),
    ],
)  # fmt: skip
def test_a_wrong_declaration_names_the_field(
    partner: RestPartner, change: dict[str, Any], field: str, words: str
) -> None:
    settings = _settings(partner)
    settings["streams"]["records"].update(change)
    with pytest.raises(ConfigError) as caught:
        connector_types()["http"].configure(settings, SourceOrigin("partner_a", file=Path("sources.yaml")))
    assert caught.value.field == field
    assert words in str(caught.value)


def test_a_secret_written_inline_in_a_sources_file_is_refused_naming_the_field(
    partner: RestPartner, tmp_path: Path
) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump({"version": 1, "sources": {"partner_a": {
        "type": "http", "mapping": "insurance", "settings": _settings(partner, auth="oauth2")}}}), encoding="utf-8")  # fmt: skip
    with pytest.raises(ConfigError) as caught:
        declared_sources(Settings(), path)
    assert caught.value.field == "settings.auth.client_secret"
    assert SECRET not in str(caught.value)


def test_the_http_type_passes_the_connector_conformance_checks(loader: Loader, tmp_path: Path) -> None:
    from tests.connectors.conformance import by_type, check_conformance

    def policy(n: int, **changes: Any) -> dict[str, Any]:
        return {
            **INSURANCE_POLICY,
            "policyNo": f"PX{n:06d}",
            "updatedAt": f"2024-05-01T08:{n:02d}:00+08:00",
            **changes,
        }

    server = RestPartner(records=[policy(n) for n in range(5)], id_field="policyNo", change_field="updatedAt",
                         paging="offset", layout=lambda items, meta: {"result": {"policies": items}})  # fmt: skip
    server.records.append(policy(7, vin="LFV2A21K0G3000001"))  # partly mapped: the holder is kept
    server.records.append({"note": "no policy number"})  # quarantined as missing_policyno
    base_url = server.start()
    try:
        settings = {"base_url": base_url, "streams": {"policies": {
            "path": server.path, "records_path": "result.policies", "id_path": "policyNo",
            "change_time_path": "updatedAt", "incremental": {"param": "since"},
            "paging": {"kind": "offset", "page_size": 2}}}}  # fmt: skip
        check_conformance(by_type("http", settings, "insurance", tmp_path), loader)
    finally:
        server.stop()
