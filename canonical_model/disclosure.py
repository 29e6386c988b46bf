"""What a caller without ``read:pii`` sees of personal data, and which kinds of PII a view showed in clear.

Masking keeps enough to recognise a value on the phone with the customer (a mobile's prefix and last four,
an e-mail's first letter and domain, an address's district) and nothing more. ID numbers are never held in
clear by the hub (a keyed hash and a masked form only), so they are masked for every caller; the clear number
stays in the source system that collected it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from canonical_model.identifiers.masking import mask_middle, mask_mobile

MASKED_STREET = "****"


def email(value: str) -> str:
    local, _, domain = value.partition("@")
    return f"{local[:1]}***@{domain}" if domain else mask_middle(value, 1, 0)


def birth_date(value: str) -> str:
    """Year only: enough to tell a father from a son, not enough to answer a bank's security question."""
    return f"{value[:4]}-**-**" if len(value) >= 4 else "****"


@dataclass
class Masker:
    """Masks unless ``clear``; remembers which kinds of PII it let through, for the audit log."""

    clear: bool
    shown: set[str] = field(default_factory=set)

    def _pass(self, kind: str, value: str | None, mask: Callable[[str], str]) -> str | None:
        if value is None or value == "":
            return value
        if self.clear:
            self.shown.add(kind)
            return value
        return mask(value)

    def mobile(self, value: str | None) -> str | None:
        return self._pass("mobile", value, mask_mobile)

    def email(self, value: str | None) -> str | None:
        return self._pass("email", value, email)

    def street(self, value: str | None) -> str | None:
        return self._pass("address", value, lambda _: MASKED_STREET)

    def birth_date(self, value: str | None) -> str | None:
        return self._pass("birth_date", value, birth_date)

    def contact(self, kind: str, point: dict[str, Any]) -> str | None:
        """A golden contact point's value (``mobile``, ``email``; an address's street), masked as its kind is."""
        if kind == "mobile":
            return self.mobile(point.get("mobile"))
        if kind == "email":
            return self.email(point.get("email"))
        return self.street((point.get("address") or {}).get("street"))

    def figure(self, value: object) -> str | None:
        """Credit grade, limit, balance: financial information is sensitive (PIPL Art. 28)."""
        if value is None:
            return None
        return self._pass("credit", str(value), lambda _: "***")
