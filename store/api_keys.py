"""API keys and the PII access audit in the store.

A token is ``ahk_<key id>_<secret>``: the key id finds the row by primary key, the secret is compared with a
constant-time check against its SHA-256. A random 32-byte secret needs no slow password hash (nothing to
brute-force), so verifying a key costs one indexed read — cheap enough for every request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.client_text import unsafe_character
from store.tables import ApiKeyRow, PiiAccessRow

SCOPES = ("read", "read:pii", "steward", "admin")
PREFIX = "ahk"
MAX_NAME_CHARS = 120  # api_key.name and pii_access.key_name


class UnknownScope(ValueError):
    """A scope that the hub does not define."""


class BadKeyName(ValueError):
    """A key name the audit cannot hold as it is: the name is the actor of every PII read and steward decision
    the key makes, so a control character in it would be written into each of those rows and log lines."""


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    name: str
    scopes: frozenset[str]
    created_at: datetime
    revoked_at: datetime | None


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _key(row: ApiKeyRow) -> ApiKey:
    return ApiKey(row.key_id, row.name, frozenset(row.scopes), row.created_at, row.revoked_at)


def create(session: Session, name: str, scopes: list[str]) -> tuple[ApiKey, str]:
    """A new key; returns it and its token (shown once — the store keeps only a hash)."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise UnknownScope(
            f"unknown scope(s) {', '.join(unknown) or '(none given)'}; use {', '.join(SCOPES)}"
        )
    what = unsafe_character(name)
    if what or not name.strip() or len(name) > MAX_NAME_CHARS:
        problem = f"holds {what}" if what else f"is empty or longer than {MAX_NAME_CHARS} characters"
        raise BadKeyName(f"key name {name!r} {problem}; name who holds the key in plain words, e.g. crm-sync or "
                         "steward:li")  # fmt: skip
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32).replace("_", "-")  # no "_" inside: it separates the token's parts
    row = ApiKeyRow(key_id=key_id, name=name, secret_hash=_hash(secret), scopes=sorted(set(scopes)),
                    created_at=datetime.now(UTC), revoked_at=None)  # fmt: skip
    session.add(row)
    session.flush()
    return _key(row), f"{PREFIX}_{key_id}_{secret}"


def verify(session: Session, token: str) -> ApiKey | None:
    """The active key a token belongs to, or None (malformed, unknown, wrong secret or revoked)."""
    prefix, _, rest = token.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != PREFIX or not key_id or not secret:
        return None
    row = session.get(ApiKeyRow, key_id)
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.secret_hash, _hash(secret)):
        return None
    return _key(row)


def revoke(session: Session, key_id: str) -> bool:
    done = session.execute(
        update(ApiKeyRow).where(ApiKeyRow.key_id == key_id, ApiKeyRow.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )  # fmt: skip
    return bool(getattr(done, "rowcount", 0))


def all_keys(session: Session) -> list[ApiKey]:
    return [_key(r) for r in session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.created_at))]


def audit_pii_read(
    session: Session, key: ApiKey, action: str, golden_id: str | None, fields: list[str]
) -> None:
    session.add(PiiAccessRow(key_id=key.key_id, key_name=key.name, action=action[:200], golden_id=golden_id,
                             fields=sorted(set(fields)), occurred_at=datetime.now(UTC)))  # fmt: skip


def audited_since(session: Session, key_id: str, action: str, since: datetime) -> list[datetime]:
    """When this key did ``action`` since ``since``, oldest first: a rate limit that holds across API workers,
    read from the audit the action writes anyway."""
    stmt = (select(PiiAccessRow.occurred_at).where(PiiAccessRow.key_id == key_id, PiiAccessRow.action == action,
                                                   PiiAccessRow.occurred_at >= since)
            .order_by(PiiAccessRow.occurred_at))  # fmt: skip
    return list(session.scalars(stmt))


def job_actor(job: str) -> ApiKey:
    """The actor an unmasked read by a scheduled job is audited under (no API key is involved; the job is named)."""
    return ApiKey("job", f"job:{job}"[:120], frozenset({"read:pii"}), datetime.now(UTC), None)


def pii_reads(session: Session, golden_id: str) -> list[dict[str, Any]]:
    stmt = select(PiiAccessRow).where(PiiAccessRow.golden_id == golden_id).order_by(PiiAccessRow.occurred_at)
    return [{"key": r.key_name, "action": r.action, "fields": r.fields, "at": r.occurred_at}
            for r in session.scalars(stmt)]  # fmt: skip
