"""Refuse a request whose path or query holds what no identifier, name or cursor can: a NUL or another control
character, or bytes that are no UTF-8.

PostgreSQL refuses a NUL in any text, so such a value reached the database as a search term, a golden id or a
cross-reference key and came back as a 500. One check here, before routing, answers every route the same way:
a 422 problem naming the part of the request to fix (``path``, or the query parameter as ``query.<name>``, the
way a validation error names it), never a 500 and never the value itself in a log line. A request body is
checked by its model (``core.client_text.ClientModel``), with the same rule and the same answer.
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Receive, Scope, Send

from core.client_text import FIX, unsafe_character
from hub_api.problems import UNSAFE_INPUT, UNSAFE_TITLE, problem_response


def _fault(raw: bytes) -> str | None:
    """What makes percent-decoded ``raw`` unfit for the store, or None."""
    try:
        text = raw.decode("utf-8")  # strict: a lone surrogate's bytes are refused too
    except UnicodeDecodeError:
        return "bytes that are not UTF-8"
    return unsafe_character(text)


class InputGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            found = self._unsafe_part(scope)
            if found is not None:
                where, what = found
                response = problem_response(
                    422, UNSAFE_TITLE, f"{where} holds {what}: {FIX}", reason=UNSAFE_INPUT, field=where
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    @staticmethod
    def _unsafe_part(scope: Scope) -> tuple[str, str] | None:
        """The part of the request to fix and what is wrong with it, or None."""
        raw_path = scope.get("raw_path") or scope.get("path", "").encode("utf-8", "surrogatepass")
        if what := _fault(unquote_to_bytes(raw_path)):
            return "path", what
        query: bytes = scope.get("query_string") or b""
        for pair in query.split(b"&") if query else ():
            name, _, value = pair.partition(b"=")
            name_raw = unquote_to_bytes(name.replace(b"+", b" "))
            if what := _fault(name_raw):
                return "query", f"a parameter name with {what}"
            if what := _fault(unquote_to_bytes(value.replace(b"+", b" "))):
                return f"query.{name_raw.decode('utf-8')[:100]}", what
        return None
