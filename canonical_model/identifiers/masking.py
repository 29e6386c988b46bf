"""Masking and keyed hashing of sensitive identifiers (PIPL Art. 51: de-identification by default)."""

from __future__ import annotations

import hashlib
import hmac

from core.masking import mask_middle

__all__ = ["mask_middle"]  # the rule itself sits on the ground floor (core/masking.py): logs mask with it too


def mask_resident_id(value: str) -> str:
    """``110105********002X``: region and the last four stay readable for support staff."""
    return mask_middle(value, 6, 4)


def mask_uscc(value: str) -> str:
    return mask_middle(value, 6, 4)


def mask_org_code(value: str) -> str:
    """``M0******4``: the organisation code, as an ID number, shown by its ends only."""
    return mask_middle(value, 2, 1)


def mask_mobile(value: str) -> str:
    """``+86138****5678`` for E.164, ``138****5678`` for national numbers."""
    keep_start = 6 if value.startswith("+86") else 3
    return mask_middle(value, keep_start, 4)


def keyed_hash(value: str, key: bytes) -> str:
    """HMAC-SHA256 of a normalised identifier.

    A plain hash of an 18-character resident ID can be brute-forced (region x date x sequence is small),
    so matching uses a keyed hash whose key lives outside the database.
    """
    if not key:
        raise ValueError("keyed_hash needs a non-empty key; set AUTOHUB_PII_HASH_KEY")
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()
