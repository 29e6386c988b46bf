"""The ``http`` type's paging: from one answer to the next request, per the declared kind.

``cursor`` sends back the cursor found at a dotted path; ``offset`` and ``page`` count, and stop at a short
page or at the total the answer states; ``link`` follows RFC 8288 ``Link: <…>; rel="next"`` on the base URL's
own origin only (the request carries our credential: a link elsewhere would hand it to another host);
``none`` reads one answer. A partner that points back to a page already read stops the sync instead of
being read forever.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import httpx

from connectors.errors import SourceRejected
from connectors.rest_config import CursorPaging, LinkPaging, OffsetPaging, PageNumberPaging, StreamSpec
from connectors.rest_transport import Answer
from connectors.values import dig

# One link-value of a Link header (RFC 8288 §3): <target>; param; param=value; ...
_LINK = re.compile(r'<([^>]*)>((?:\s*;\s*[^;,"=]+(?:\s*=\s*(?:"[^"]*"|[^;,]*))?)*)')
_REL = re.compile(r';\s*rel\s*=\s*(?:"([^"]*)"|([^;,\s]+))', re.IGNORECASE)


@dataclass(frozen=True)
class Request:
    url: str  # relative to base_url, or absolute (a followed link)
    params: dict[str, Any]


def next_link(header: str | None) -> str | None:
    """The target of the ``rel="next"`` link in a ``Link`` header, or None."""
    for match in _LINK.finditer(header or ""):
        for rel in _REL.finditer(match.group(2)):
            if "next" in (rel.group(1) or rel.group(2) or "").lower().split():
                return match.group(1).strip()
    return None


def origin(url: httpx.URL) -> tuple[str, str, int | None]:
    default = {"http": 80, "https": 443}.get(url.scheme)
    return url.scheme, url.host, url.port or default


@dataclass
class Pager:
    """One pass over a stream: the first request, then each next one until the paging says it is done."""

    source: str
    stream: str
    spec: StreamSpec
    base_url: str
    seen: set[str] = field(default_factory=set)

    def first(self, params: dict[str, Any]) -> Request:
        paging = self.spec.paging
        params = dict(params)
        if isinstance(paging, CursorPaging | LinkPaging) and paging.limit_param:
            params[paging.limit_param] = paging.page_size
        elif isinstance(paging, OffsetPaging):
            params |= {paging.offset_param: 0, paging.limit_param: paging.page_size}
        elif isinstance(paging, PageNumberPaging):
            params[paging.page_param] = paging.first_page
            if paging.size_param:
                params[paging.size_param] = paging.page_size
        return Request(self.spec.path, params)

    def next(self, answer: Answer, count: int, current: Request) -> Request | None:
        paging = self.spec.paging
        if isinstance(paging, CursorPaging):
            cursor = dig(answer.body, paging.cursor_path)
            if cursor is None or cursor == "" or isinstance(cursor, dict | list | bool):
                return None
            return self._unseen(Request(current.url, {**current.params, paging.cursor_param: cursor}),
                                f"the cursor {str(cursor)[:60]!r} at {paging.cursor_path}")  # fmt: skip
        if isinstance(paging, OffsetPaging):
            offset = int(current.params[paging.offset_param]) + count
            if count < paging.page_size or _reached(answer.body, paging.total_path, offset):
                return None
            return Request(current.url, {**current.params, paging.offset_param: offset})
        if isinstance(paging, PageNumberPaging):
            page = int(current.params[paging.page_param])
            if count < paging.page_size or _reached(
                answer.body, paging.total_pages_path, page - paging.first_page + 1
            ):
                return None
            return Request(current.url, {**current.params, paging.page_param: page + 1})
        if isinstance(paging, LinkPaging):
            return self._follow(answer)
        return None

    def _follow(self, answer: Answer) -> Request | None:
        target = next_link(answer.headers.get("Link"))
        if not target:
            return None
        url = answer.url.join(target)
        if origin(url) != origin(httpx.URL(self.base_url)):
            raise SourceRejected(f"{self.source}/{self.stream}: the next-page link goes to another origin: "
                                 f"{url.scheme}://{url.host}", field=f"streams.{self.stream}.paging",
                                 fix="links are followed on base_url's origin only (scheme, host, port); "
                                 "declare base_url on the origin the partner pages on")  # fmt: skip
        return self._unseen(Request(str(url), {}), f"the next-page link {str(url)[:80]}")

    def _unseen(self, request: Request, what: str) -> Request:
        key = f"{request.url}?{sorted(request.params.items())}"
        if key in self.seen:
            raise SourceRejected(f"{self.source}/{self.stream}: {what} points back to a page already read",
                                 field=f"streams.{self.stream}.paging",
                                 fix="check the paging declaration (cursor_path, cursor_param) against the API")  # fmt: skip
        self.seen.add(key)
        return request


def _reached(body: Any, total_path: str | None, done: int) -> bool:
    """Whether ``done`` (records or pages) reaches the total the answer states at ``total_path``."""
    if not total_path:
        return False
    total = dig(body, total_path)
    try:
        return done >= int(total)
    except (TypeError, ValueError):
        return False
