"""HTTP caching of JSON answers (the 360, a car): an ETag of the body, and 304 for a client that holds it.

Why: downstream systems poll the same golden records; a 304 costs them no body and the hub no serialisation to
the wire. Shared by every route that answers a whole record, so that each answers the same headers.
"""

from __future__ import annotations

import hashlib

from fastapi import Response

JSON = "application/json"


def etag_of(content: bytes) -> str:
    return '"' + hashlib.sha256(content).hexdigest()[:32] + '"'


def not_modified(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    offered = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return etag in offered or "*" in offered


def cached_json(content: bytes, if_none_match: str | None) -> Response:
    """200 with the body, or 304 when the client holds this exact version; ``Vary`` because the body
    depends on the caller's scopes."""
    etag = etag_of(content)
    headers = {"ETag": etag, "Cache-Control": "private, no-cache", "Vary": "Authorization, X-API-Key"}
    if not_modified(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    return Response(content, media_type=JSON, headers=headers)
