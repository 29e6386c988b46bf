"""Errors as RFC 9457 problem details: one JSON shape for every failure, never a stack trace.

A client gets ``type``, ``title``, ``status``, ``detail`` and, where the hub knows them, the machine-readable
``reason`` and the ``field`` to fix — the same words the quarantine uses.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from canonical_model.identifiers.errors import InvalidIdentifier
from core.errors import HubError
from store.engine import STORE_UNAVAILABLE

log = structlog.get_logger(__name__)
MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://autohub.invalid/problems/"  # documentation anchors; stable identifiers for clients
# Text no store row or log line may hold (core.client_text), in a path, a query or a body: one reason, one title.
UNSAFE_INPUT = "unsafe_input"
UNSAFE_TITLE = "Unsafe input"


class ProblemDocument(BaseModel):
    """RFC 9457 problem details, as every error of this API is answered."""

    type: str = Field(examples=[TYPE_BASE + "unknown_golden_id"])
    title: str = Field(examples=["Unknown customer"])
    status: int = Field(examples=[404])
    detail: str | None = Field(default=None, examples=["no golden customer P-…"])
    reason: str | None = Field(
        default=None, description="machine-readable cause", examples=["unknown_golden_id"]
    )
    field: str | None = Field(default=None, description="the input to fix", examples=["cursor"])


def _doc(description: str) -> dict[str, Any]:
    return {"description": description, "model": ProblemDocument, "content": {MEDIA_TYPE: {}}}


# Every /v1 route may answer these; documented once, on the routers.
COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _doc("a malformed cursor or parameter"),
    401: _doc("no API key, or an unknown or revoked one"),
    403: _doc("the key lacks the scope this needs"),
    422: _doc(
        "the request does not match the schema, an identifier is invalid, or text holds a control "
        "character (reason unsafe_input)"
    ),
}


class Problem(Exception):
    """Raise from a route to answer with a problem document."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str = "",
        *,
        reason: str | None = None,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(title)
        self.status, self.title, self.detail, self.reason, self.field = status, title, detail, reason, field
        self.headers = headers


def problem_response(
    status: int, title: str, detail: str = "", *, reason: str | None = None, field: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:  # fmt: skip
    body: dict[str, Any] = {"type": TYPE_BASE + (reason or title.lower().replace(" ", "-")), "title": title,
                            "status": status}  # fmt: skip
    if detail:
        body["detail"] = detail
    if reason:
        body["reason"] = reason
    if field:
        body["field"] = field
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


# A library error's HTTP status, by type name (the library does not know about HTTP); unknown kinds are 400.
HUB_ERROR_STATUS = {"StewardRefused": 409, "ErasureRefused": 409, "UnknownRecord": 404}


def _reason(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def install(app: FastAPI) -> None:
    @app.exception_handler(InvalidIdentifier)
    async def _identifier(_: Request, exc: InvalidIdentifier) -> JSONResponse:
        return problem_response(422, f"Invalid {exc.kind}", exc.message,
                                reason=f"invalid_{exc.kind.lower().replace(' ', '_')}.{exc.reason}")  # fmt: skip

    @app.exception_handler(HubError)
    async def _hub(_: Request, exc: HubError) -> JSONResponse:
        name = type(exc).__name__
        return problem_response(HUB_ERROR_STATUS.get(name, 400), (exc.__doc__ or name).strip().split("\n")[0],
                                str(exc), reason=_reason(name), field=exc.field)  # fmt: skip

    @app.exception_handler(Problem)
    async def _problem(_: Request, exc: Problem) -> JSONResponse:
        return problem_response(
            exc.status, exc.title, exc.detail, reason=exc.reason, field=exc.field, headers=exc.headers
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem_response(exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        # A body's unsafe text (core.client_text) is answered as the input guard answers a query's.
        unsafe = first.get("type") == UNSAFE_INPUT
        return problem_response(422, UNSAFE_TITLE if unsafe else "Invalid request", str(first.get("msg", "")),
                                reason=UNSAFE_INPUT if unsafe else "invalid_request", field=where or None)  # fmt: skip

    async def _store_down(request: Request, exc: Exception) -> JSONResponse:
        """The store is restarting, failing over or out of connections: the client's request was fine."""
        log.warning("store unavailable", path=request.url.path, error=type(exc).__name__)
        return problem_response(503, "Store unavailable", "the hub could not reach its store; try again shortly",
                                reason="store_unavailable", headers={"Retry-After": "2"})  # fmt: skip

    for kind in STORE_UNAVAILABLE:
        app.add_exception_handler(kind, _store_down)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error", path=request.url.path, error=type(exc).__name__, exc_info=exc)
        return problem_response(
            500, "Internal error", "the hub logged the error; try again or ask its operators"
        )
