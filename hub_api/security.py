"""Who is calling: API keys with scopes, checked on every request (one primary-key read, no cache, so a revoked
key stops working at once).

Scopes: ``read`` (golden records, PII masked), ``read:pii`` (also unmasked mobiles, ID numbers, addresses —
each such read is audited), ``steward`` (merge, unmerge, review), ``admin`` (everything). ``read:pii`` and
``steward`` include ``read``. The token travels as ``Authorization: Bearer ahk_…`` (or ``X-API-Key``).
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from hub_api.problems import Problem
from store.api_keys import ApiKey, verify

_INCLUDES = {"read": {"read", "read:pii", "steward"}}  # a scope is also granted by these


def allowed(key: ApiKey, scope: str) -> bool:
    return "admin" in key.scopes or bool(key.scopes & _INCLUDES.get(scope, {scope}))


def _token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return request.headers.get("x-api-key") or None


async def authenticated(request: Request) -> ApiKey:
    token = _token(request)
    challenge = {"WWW-Authenticate": 'Bearer realm="autohub"'}
    if token is None:
        raise Problem(401, "Authentication required", "send an API key as 'Authorization: Bearer ahk_…'; "
                      "an administrator creates one with `autohub apikey create`", reason="unauthenticated",
                      headers=challenge)  # fmt: skip
    hub = request.app.state.hub

    def look_up() -> ApiKey | None:
        with hub.sessions() as session:
            return verify(session, token)

    key = await run_in_threadpool(look_up)
    if key is None:
        raise Problem(401, "Invalid API key", "the key is unknown, mistyped or revoked", reason="invalid_api_key",
                      headers=challenge)  # fmt: skip
    request.state.api_key = key
    return key


def require(scope: str) -> Callable[..., object]:
    """A route dependency: the caller's key must carry ``scope`` (or one that includes it)."""

    async def check(key: ApiKey = Depends(authenticated)) -> ApiKey:  # noqa: B008 — FastAPI's idiom
        if not allowed(key, scope):
            raise Problem(403, "Missing scope", f"this needs the '{scope}' scope; key '{key.name}' has "
                          f"{', '.join(sorted(key.scopes))}", reason="missing_scope")  # fmt: skip
        return key

    return check
