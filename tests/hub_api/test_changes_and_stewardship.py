"""The change feed as a consumer sees it across steward merges and unmerges; stewardship and quarantine over HTTP."""

from __future__ import annotations

import re
from typing import Any

import httpx
from sqlalchemy import func, select

from store.tables import ChangeLogRow, GoldenRecordRow, QuarantineRow, XrefRow
from tests.hub_api.conftest import WorldApi


class Consumer:
    """A downstream system: reads pages, remembers only its cursor, never sees a change twice."""

    def __init__(self, client: httpx.Client, headers: dict[str, str]) -> None:
        self.client, self.headers = client, headers
        self.cursor: str | None = None
        self.seen: list[dict[str, Any]] = []

    def catch_up(self, page_size: int = 7) -> list[dict[str, Any]]:
        new: list[dict[str, Any]] = []
        while True:
            params: dict[str, Any] = {"limit": page_size} | ({"cursor": self.cursor} if self.cursor else {})
            page = self.client.get("/v1/changes", params=params, headers=self.headers)
            assert page.status_code == 200, page.text
            body = page.json()
            new.extend(body["items"])
            self.cursor = body["next_cursor"]
            assert self.cursor
            if not body["items"]:
                self.seen.extend(new)
                return new


def _two_customers(api: WorldApi) -> tuple[str, str]:
    with api.sessions() as session:
        keep, absorb = session.scalars(select(GoldenRecordRow.golden_id).where(
            GoldenRecordRow.entity_type == "party", GoldenRecordRow.status == "active")
            .order_by(GoldenRecordRow.golden_id).limit(2)).all()  # fmt: skip
    return keep, absorb


def _members(api: WorldApi, golden_id: str) -> list[str]:
    with api.sessions() as session:
        return sorted(f"{x.source}/{x.entity_key}" for x in session.scalars(select(XrefRow).where(XrefRow.golden_id == golden_id)))  # fmt: skip


def test_a_consumer_resumes_from_its_cursor_across_a_merge_and_an_unmerge(world_api: WorldApi) -> None:
    consumer = Consumer(world_api.client, world_api.token("read"))
    history = consumer.catch_up()
    with world_api.sessions() as session:
        assert len(history) == session.scalar(select(func.count()).select_from(ChangeLogRow))
    assert {c["change_type"] for c in history} == {"created"}
    keep, absorb = _two_customers(world_api)
    steward = world_api.token("steward", name="steward:li")
    merged = world_api.client.post("/v1/merges", headers=steward,
                                   json={"keep": keep, "absorb": absorb, "reason": "same person"})  # fmt: skip
    assert merged.status_code == 200, merged.text
    assert merged.json()["golden_ids"] == [keep]
    after_merge = consumer.catch_up()
    assert {(c["golden_id"], c["change_type"]) for c in after_merge} == {
        (keep, "updated"),
        (absorb, "merged"),
    }
    assert next(c for c in after_merge if c["change_type"] == "merged")["payload"]["merged_into"] == keep

    leaving = _members(world_api, keep)[-1]
    split = world_api.client.post("/v1/unmerges", headers=steward,
                                  json={"golden_id": keep, "records": [leaving], "reason": "not the same"})  # fmt: skip
    assert split.status_code == 200, split.text
    new_id = next(g for g in split.json()["golden_ids"] if g != keep)
    assert split.json()["members"][new_id] == [leaving]
    after_unmerge = consumer.catch_up()
    kinds = {(c["golden_id"], c["change_type"]) for c in after_unmerge}
    assert {(keep, "updated"), (new_id, "created"), (keep, "unmerged")} <= kinds

    assert consumer.catch_up() == []  # nothing new: nothing re-read
    ids = [c["event_id"] for c in consumer.seen]
    seqs = [c["seq"] for c in consumer.seen]
    assert len(ids) == len(set(ids))
    assert seqs == sorted(seqs)
    from_scratch = Consumer(world_api.client, world_api.token("read")).catch_up(page_size=500)
    assert [c["event_id"] for c in from_scratch] == ids  # no gaps: the resumed reads add up to the whole feed


def test_bad_cursor_is_a_problem_not_a_crash(world_api: WorldApi) -> None:
    answer = world_api.client.get(
        "/v1/changes", params={"cursor": "not-ours"}, headers=world_api.token("read")
    )
    assert answer.status_code == 400
    assert answer.json()["reason"] == "bad_cursor"
    assert answer.json()["field"] == "cursor"


def test_stewardship_needs_the_steward_scope_and_refusals_are_409(world_api: WorldApi) -> None:
    keep, absorb = _two_customers(world_api)
    body = {"keep": keep, "absorb": absorb, "reason": "same person"}
    forbidden = world_api.client.post("/v1/merges", headers=world_api.token("read:pii"), json=body)
    assert forbidden.status_code == 403
    assert forbidden.json()["reason"] == "missing_scope"
    steward = world_api.token("steward")
    self_merge = world_api.client.post("/v1/merges", headers=steward, json={**body, "absorb": keep})
    assert self_merge.status_code == 409
    assert self_merge.json()["reason"] == "steward_refused"
    stranger = world_api.client.post("/v1/unmerges", headers=steward,
                                     json={"golden_id": keep, "records": ["erp/NOT-A-MEMBER"], "reason": "test"})  # fmt: skip
    assert stranger.status_code == 409
    assert "NOT-A-MEMBER" in stranger.json()["detail"]
    assert world_api.client.get("/v1/review", headers=world_api.token("read")).status_code == 403


def test_review_pages_cover_the_open_pairs_once(world_api: WorldApi) -> None:
    steward = world_api.token("steward")
    seen: list[int] = []
    cursor: str | None = None
    while True:
        page = world_api.client.get("/v1/review", params={"limit": 2} | ({"cursor": cursor} if cursor else {}),
                                    headers=steward).json()  # fmt: skip
        seen.extend(item["id"] for item in page["items"])
        for item in page["items"]:
            assert "****" in item["left"]["description"] or "no mobile" in item["left"]["description"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    from store.tables import MatchReviewRow

    with world_api.sessions() as session:
        open_ids = session.scalars(select(MatchReviewRow.id).where(MatchReviewRow.status == "open")).all()
    assert sorted(seen) == sorted(open_ids)
    assert len(seen) == len(set(seen))


def test_quarantine_is_listed_page_by_page_and_counted(world_api: WorldApi) -> None:
    headers = world_api.token("read")
    counts = world_api.client.get("/v1/quarantine/counts", headers=headers).json()
    with world_api.sessions() as session:
        total = session.scalar(select(func.count()).select_from(QuarantineRow))
    assert total
    assert sum(c["count"] for c in counts) == total
    listed: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params = {"limit": 25} | ({"cursor": cursor} if cursor else {})
        page = world_api.client.get("/v1/quarantine", params=params, headers=headers).json()
        listed.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(listed) == total
    assert len({q["id"] for q in listed}) == total
    source, reason = counts[0]["source"], counts[0]["reason"]
    only = world_api.client.get("/v1/quarantine", params={"source": source, "reason": reason, "limit": 1000},
                                headers=headers).json()["items"]  # fmt: skip
    assert len(only) == counts[0]["count"]
    assert all(q["reason"] == reason for q in only)
    assert all("raw_text" not in q for q in listed)


def test_metrics_count_requests_by_route_template_and_report_the_backlog(world_api: WorldApi) -> None:
    headers = world_api.token("read")
    with world_api.sessions() as session:
        golden_id = session.scalar(
            select(GoldenRecordRow.golden_id).where(GoldenRecordRow.entity_type == "party")
        )
        unpublished = session.scalar(
            select(func.count()).select_from(ChangeLogRow).where(ChangeLogRow.published_at.is_(None))
        )
        parties = session.scalar(select(func.count()).select_from(GoldenRecordRow).where(
            GoldenRecordRow.entity_type == "party", GoldenRecordRow.status == "active"))  # fmt: skip
    for _ in range(3):
        assert world_api.client.get(f"/v1/customers/{golden_id}", headers=headers).status_code == 200
    world_api.client.get("/v1/customers/P-NOPE", headers=headers)
    text = world_api.client.get("/metrics").text
    assert (
        'autohub_http_requests_total{method="GET",route="/v1/customers/{golden_id}",status="200"} 3.0' in text
    )
    assert 'route="/v1/customers/{golden_id}",status="404"} 1.0' in text
    assert golden_id not in text
    assert f'autohub_golden_records{{entity_type="party",status="active"}} {float(parties)}' in text
    assert f"autohub_outbox_unpublished {float(unpublished)}" in text
    assert "autohub_http_request_seconds_bucket" in text


def test_quality_scorecard_counts_what_the_store_holds(world_api: WorldApi) -> None:
    from collections import Counter

    from store.tables import PartyMatchKeyRow, SharedIdentifierRow, SourceRecordRow

    card = world_api.client.get("/v1/quality", headers=world_api.token("read")).json()
    sources = {s["source"]: s for s in card["sources"]}
    with world_api.sessions() as session:
        received = Counter(session.scalars(select(SourceRecordRow.source)))
        quarantined = Counter(session.scalars(select(QuarantineRow.source)))
        xrefs = session.execute(
            select(XrefRow.source, XrefRow.entity_key, XrefRow.golden_id).where(
                XrefRow.entity_type == "party"
            )
        ).all()
        keys = session.scalars(select(PartyMatchKeyRow)).all()
        shared = session.scalars(select(SharedIdentifierRow)).all()
    assert {s: v["received"] for s, v in sources.items()} == dict(received)
    assert {s: v["quarantined"] for s, v in sources.items() if v["quarantined"]} == dict(quarantined)
    for source, score in sources.items():
        assert sum(score["quarantine_by_family"].values()) == score["quarantined"]
        per_golden = Counter(g for s, _, g in xrefs if s == source)
        assert score["duplicate_records"] == sum(n - 1 for n in per_golden.values() if n > 1)
        mine = [k for k in keys if k.source == source]
        if mine:
            assert score["completeness"]["mobile"] == round(sum(1 for k in mine if k.mobile) / len(mine), 4)
        invalid_vins = score["quarantine_by_family"].get("invalid_vin", 0)
        assert score["validity"]["vin"] == round(1 - invalid_vins / score["received"], 4)
    dealers = {d["dealer"]: d for d in card["dealers"]}
    assert sum(d["parties"] for d in dealers.values()) == sum(1 for s, _, _ in xrefs if s == "dms")
    for row in shared:
        for dealer in row.dealers:
            assert row.masked in dealers[dealer]["shared_masked"]
    assert shared, "the generated world has dealers sharing a phone"


def test_metrics_report_each_source_instances_last_sync(world_api: WorldApi) -> None:
    from store.tables import SyncRun

    with world_api.sessions() as session:
        newest = {run.source: run for run in session.scalars(
            select(SyncRun).where(SyncRun.status != "running").order_by(SyncRun.id))}  # fmt: skip
    assert len(newest) >= 3
    text = world_api.client.get("/metrics").text
    for source, run in newest.items():
        assert (
            f'autohub_source_last_run_records{{outcome="in",source="{source}"}} {float(run.records_in)}'
            in text
        )
        failed = float(run.status != "succeeded")
        assert f'autohub_source_last_run_failed{{source="{source}"}} {failed}' in text
        if run.status == "succeeded":
            age = re.search(
                rf'^autohub_source_last_success_age_seconds{{source="{source}"}} (\S+)$', text, re.M
            )
            assert age is not None
            assert 0.0 <= float(age.group(1)) < 3600
