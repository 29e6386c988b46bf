"""A REST source described by configuration only (connector type ``http``; settings in ``rest_config.py``).

Each declared stream is read in passes: the first request carries the stream's params and, for an incremental
stream, the watermark (the greatest change time seen) minus the look-back in the declared format; the paging
(``rest_paging.py``) takes it from there. The watermark moves only after a whole pass, on its last page: a
partner need not sort by change time, and a sync that dies mid-pass reads the pass again (the raw store
recognises what it holds) instead of skipping what the unread pages held. A stream without ``incremental`` is
a declared full extract: every pass reads it whole, and its state says so.

A record without an id cannot be keyed: it is kept as text and quarantined (``missing_<id leaf>``), never
dropped. A change time that is not in the declared format refuses its record (stored raw, quarantined as
``bad_change_time``); one without a zone where none is declared stops the sync — a guess would move every
watermark by hours.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import structlog

from canonical_model.entities.source import SourceRecord
from connectors.base import Connector, Page, PageRead
from connectors.errors import AnswerTooLarge, AnswerUnreadable
from connectors.incremental import Watermark, after_whole_pass
from connectors.origin import SourceOrigin
from connectors.rest_config import HttpSourceConfig, StreamSpec
from connectors.rest_paging import Pager
from connectors.rest_transport import RestTransport
from connectors.rest_values import format_time, parse_time
from connectors.sync_clock import current_clock
from connectors.values import NaiveTime, UnreadableTime, dig, has_path, record_id
from core.errors import ConfigError, DataError

log = structlog.get_logger(__name__)


class HttpConnector(Connector):
    """``origin``: the declared source (or, made in code, its bare name): its records are stored under it."""

    def __init__(
        self, config: HttpSourceConfig, origin: SourceOrigin | str, *, client: httpx.Client | None = None
    ):
        self.origin = SourceOrigin.of(origin)
        self.config = config
        self.source = self.origin.source
        self.streams = tuple(config.streams)
        self._transport = RestTransport(config, self.source, client=client)

    def close(self) -> None:
        self._transport.close()

    def read(self, stream: str, state: dict[str, Any] | None) -> Iterator[Page]:
        spec = self.config.streams[stream]
        clock = current_clock()
        saved = Watermark.load(state, source=self.source, stream=stream)
        done = saved.since if spec.incremental else None
        params: dict[str, Any] = dict(spec.params)
        since = saved.resume_from(spec.incremental.lookback_s) if spec.incremental else None
        if spec.incremental and since:
            params[spec.incremental.param] = format_time(
                since, spec.incremental.format, spec.incremental.timezone
            )
        if spec.incremental is None:
            log.info("REST stream read as a full extract", source=self.source, stream=stream, watermark=None,
                     why="the stream declares no incremental parameter: every pass reads it whole")  # fmt: skip
        pager = Pager(self.source, stream, spec, self.config.base_url)
        request = pager.first(params)
        high = done
        while True:
            answer = self._transport.get(request.url, request.params)
            items = self._items(stream, spec, answer.body)
            page = self._page(stream, spec, items, high)
            high = page.high
            following = pager.next(answer, len(items), request)
            if following is None:
                state = after_whole_pass(clock, high, by_change_time=spec.incremental is not None)
                yield Page(page.records, state, page.unreadable, page.refused)
                return
            yield Page(page.records, {}, page.unreadable, page.refused, keeps_state=True)
            request = following

    def _items(self, stream: str, spec: StreamSpec, body: Any) -> list[Any]:
        items = dig(body, spec.records_path)
        if not has_path(body, spec.records_path) or not isinstance(items, list):
            found = "nothing" if not has_path(body, spec.records_path) else type(items).__name__
            path = spec.records_path or '"" (the whole answer)'
            raise AnswerUnreadable(f"{self.source}/{stream}: the answer has no list of records at records_path "
                                   f"{path} (found {found})", field=f"streams.{stream}.records_path",
                                   fix="point records_path at the answer's list (dotted, e.g. data.items)")  # fmt: skip
        if len(items) > spec.max_page_records:
            raise AnswerTooLarge(f"{self.source}/{stream}: a page held {len(items):,} records",
                                 field=f"streams.{stream}.max_page_records",
                                 fix="ask for smaller pages, or raise max_page_records")  # fmt: skip
        return items

    def _page(
        self, stream: str, spec: StreamSpec, items: list[Any], high: datetime | None
    ) -> PageRead[datetime | None]:
        page = PageRead[datetime | None](high=high)
        zone = ZoneInfo(spec.source_timezone) if spec.source_timezone else None
        for item in items:
            source_id = record_id(dig(item, spec.id_path)) if isinstance(item, dict) else None
            if source_id is None or not isinstance(item, dict):
                page.unreadable.append(
                    (spec.id_reason, json.dumps(item, ensure_ascii=False, default=str)[:2000])
                )
                continue
            record = SourceRecord(source=self.source, stream=stream, source_id=source_id, payload=item)
            try:
                changed_at = self._change_time(stream, spec, record, zone)
            except DataError as exc:
                page.refused.append((record, exc))
                continue
            page.records.append(record)
            if changed_at and (page.high is None or changed_at > page.high):
                page.high = changed_at
        return page

    def _change_time(self, stream: str, spec: StreamSpec, record: SourceRecord, zone: ZoneInfo | None) -> datetime | None:  # fmt: skip
        if not spec.change_time_path:
            return None
        name = f"{self.source}/{stream}/{record.source_id[:60]}"
        try:
            return parse_time(dig(record.payload, spec.change_time_path), spec.change_time_format, zone)
        except UnreadableTime as exc:
            raise DataError(str(exc), reason="bad_change_time", record=name, field=spec.change_time_path,
                            fix="correct it at the partner, or declare change_time_format; the record is "
                            "read again on the next pass") from exc  # fmt: skip
        except NaiveTime as exc:
            raise ConfigError(f"{exc}; the partner writes change times without a zone", record=name,
                              field=f"streams.{stream}.source_timezone",
                              fix="declare the partner's zone, e.g. source_timezone: Asia/Shanghai") from exc  # fmt: skip
