"""Issue 17's "done when": two insurers from one REST declaration type with two mappings load into one store
and match — configuration and YAML only, synced by the CLI as any declared source is."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session
from typer.testing import Result

from fakes.rest_partner import RestPartner
from store.tables import CanonicalRecordRow, XrefRow

ID_NUMBER = "11010519491231002X"  # the same person at both insurers

MAPPING_A = """
source: insurer_a
version: 1
streams:
  policies:
    source_id: policyNo
    required: [policyNo, holder.name]
    emit:
      - entity: party
        key: ["$source_id"]
        fields:
          kind: person
          name: {from: holder.name, transform: person_name}
          identifiers:
            - fields: {type: resident_id, value: {from: holder.idNumber}}
              transform: identifier
              when: holder.idNumber
          contact_points:
            - {from: holder.mobile, transform: mobile_contact}
"""
MAPPING_B = """
source: insurer_b
version: 1
streams:
  contracts:
    source_id: contract_id
    required: [contract_id, insured.full_name]
    emit:
      - entity: party
        key: ["$source_id"]
        fields:
          kind: person
          name: {from: insured.full_name, transform: person_name}
          identifiers:
            - fields: {type: resident_id, value: {from: insured.id_card}}
              transform: identifier
              when: insured.id_card
          contact_points:
            - {from: insured.phone, transform: mobile_contact}
"""


@pytest.fixture
def insurers() -> Iterator[tuple[RestPartner, RestPartner]]:
    # A: OAuth2, records under data.items, a cursor under paging.next, ISO change times.
    a = RestPartner(auth="oauth2", paging="cursor", id_field="policyNo", change_field="updatedAt", records=[
        {"policyNo": "PA-1", "updatedAt": "2026-03-01T09:00:00+08:00",
         "holder": {"name": "張偉", "idNumber": ID_NUMBER, "mobile": "13958763421"}},
        {"policyNo": "PA-2", "updatedAt": "2026-03-01T09:05:00+08:00",
         "holder": {"name": "李娜", "mobile": "13671234987"}},
        {"policyNo": "PA-3", "updatedAt": "2026-03-01T09:07:00+08:00", "holder": {"name": ""}},  # incomplete
    ])  # fmt: skip
    # B: an API key, a bare list, RFC 8288 Link paging, number ids and epoch change times.
    b = RestPartner(auth="api_key_header", paging="link", path="/contracts", id_field="contract_id",
                    change_field="modified", layout=lambda items, meta: items, records=[
        {"contract_id": 881, "modified": 1_772_330_400,
         "insured": {"full_name": "张伟", "id_card": ID_NUMBER, "phone": "+86 139 5876 3421"}},
        {"contract_id": 882, "modified": 1_772_330_460, "insured": {"full_name": "王芳", "phone": "13812340001"}},
    ])  # fmt: skip
    a.base_url, b.base_url = a.start(), b.start()  # type: ignore[attr-defined]
    yield a, b
    a.stop()
    b.stop()


def _sources(a: RestPartner, b: RestPartner) -> dict[str, Any]:
    return {"version": 1, "sources": {
        "insurer_a": {"type": "http", "schedule": "*/30 * * * *", "settings": {
            "base_url": a.base_url,  # type: ignore[attr-defined]
            "auth": {"kind": "oauth2_client_credentials", "token_url": "/oauth/token", "client_id": "autohub",
                     "client_secret": {"env": "INSURER_A_SECRET"}},
            "streams": {"policies": {
                "path": a.path, "records_path": "data.items", "id_path": "policyNo", "change_time_path": "updatedAt",
                "incremental": {"param": "since"},
                "paging": {"kind": "cursor", "cursor_path": "paging.next", "cursor_param": "cursor", "page_size": 2}}}}},
        "insurer_b": {"type": "http", "settings": {
            "base_url": b.base_url,  # type: ignore[attr-defined]
            "auth": {"kind": "api_key", "name": "X-API-Key", "api_key": {"file": "SECRET_FILE"}},
            "streams": {"contracts": {
                "path": b.path, "records_path": "", "id_path": "contract_id", "change_time_path": "modified",
                "change_time_format": "epoch_s", "incremental": {"param": "since", "format": "epoch_s"},
                "paging": {"kind": "link", "limit_param": "limit", "page_size": 1}}}}},
    }}  # fmt: skip


def test_two_insurers_from_one_rest_declaration_with_two_mappings_load_into_one_store_and_match(
    insurers: tuple[RestPartner, RestPartner], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    hub_cli: Callable[..., Result],
) -> None:  # fmt: skip
    a, b = insurers
    mappings = tmp_path / "mappings"
    mappings.mkdir()
    (mappings / "insurer_a.yaml").write_text(MAPPING_A, encoding="utf-8")
    (mappings / "insurer_b.yaml").write_text(MAPPING_B, encoding="utf-8")
    (tmp_path / "b.secret").write_text(b.secret + "\n", encoding="utf-8")
    declared = yaml.safe_dump(_sources(a, b), allow_unicode=True).replace(
        "SECRET_FILE", str(tmp_path / "b.secret")
    )
    (tmp_path / "sources.yaml").write_text(declared, encoding="utf-8")
    monkeypatch.setenv("AUTOHUB_SOURCES_FILE", str(tmp_path / "sources.yaml"))
    monkeypatch.setenv("AUTOHUB_MAPPINGS_DIR", str(mappings))
    monkeypatch.setenv("INSURER_A_SECRET", a.secret)

    assert hub_cli("db", "upgrade").exit_code == 0
    listed = hub_cli("sources", "list")
    assert listed.exit_code == 0, listed.output
    assert "insurer_a" in listed.output
    assert "insurer_b" in listed.output
    for name, records_in in (("insurer_a", 3), ("insurer_b", 2)):
        synced = hub_cli("sync", name)
        assert synced.exit_code == 0, synced.output
        assert f"{records_in} records in" in synced.output
    assert (len(a.requests), len(b.requests), a.tokens_issued) == (2, 2, 1)
    again = hub_cli("sync", "insurer_b")  # from the watermark: only the newest contract, unchanged
    assert again.exit_code == 0, again.output
    assert b.requests[-1]["since"] == str(1_772_330_460 - 300)
    assert a.secret not in again.output + listed.output
    assert b.secret not in again.output

    matched = hub_cli("match", "run")
    assert matched.exit_code == 0, matched.output
    engine = create_engine(f"sqlite:///{tmp_path / 'autohub.db'}")
    with Session(engine) as session:
        stored = sorted(
            session.execute(select(CanonicalRecordRow.source, CanonicalRecordRow.entity_key)).all()
        )
        golden = dict(session.execute(select(XrefRow.entity_key, XrefRow.golden_id).where(
            XrefRow.entity_type == "party")).all())  # fmt: skip
    engine.dispose()
    assert [s for s, _ in stored] == ["insurer_a", "insurer_a", "insurer_b", "insurer_b"]  # PA-3 quarantined
    assert any(key.endswith("881") for key in golden), golden
    shared = {gid for key, gid in golden.items() if key.endswith(("PA-1", "881"))}
    assert len(shared) == 1, golden  # 張偉 at A and 张伟 at B: one golden customer
    assert len(set(golden.values())) == 3
