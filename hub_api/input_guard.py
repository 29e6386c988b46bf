"""Refuse a request whose path or query holds what no identifier, name or cursor can: a NUL or another control
character, or bytes that are no UTF-8.

PostgreSQL refuses a NUL in any text, so such a value reached the database as a search term, a golden id or a
cross-reference key and came back as a 500. One check here, before routing, answers every route the same way:
a 400 problem naming the part of the request to fix, never a 500 and never the value itself in a log line.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Receive, Scope, Send

from hub_api.problems import problem_response

_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _unreadable(raw: bytes) -> bool:
    try:
        text = raw.decode("utf-8")  # strict: a lone surrogate's bytes are refused too
    except UnicodeDecodeError:
        return True
    return _UNSAFE.search(text) is not None


class InputGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            where = self._unsafe_part(scope)
            if where is not None:
                response = problem_response(
                    400, "Unreadable input", f"the request's {where} holds a control character or is not UTF-8",
                    reason="unsafe_input", field=where,
                )  # fmt: skip
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    @staticmethod
    def _unsafe_part(scope: Scope) -> str | None:
        raw_path = scope.get("raw_path") or scope.get("path", "").encode("utf-8", "surrogatepass")
        if _unreadable(unquote_to_bytes(raw_path)):
            return "path"
        query: bytes = scope.get("query_string") or b""
        if query and _unreadable(unquote_to_bytes(query.replace(b"+", b" "))):
            return "query"
        return None
